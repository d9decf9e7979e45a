//! Pushing and pulling multi-platform images (image indexes): every platform's image goes with the index
//! that names them, so one reference serves amd64 and arm64.

use std::collections::HashMap;
use std::time::Instant;

use oci_spec::image::MediaType;

use super::{
    Access, PullStaging, Pulled, Pushed, RegistryError, copy_to_registry, platform_list,
    pulled_digest, pushed, with_uniform_media_types,
};
use crate::oci::reference::ImageRef;
use crate::oci::{Image, ImageError, Layout, canonical_json, index};
use crate::store::Error;
use crate::store::Store;
use crate::toolbox::ui::Ui;

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Pushes the multi-platform `layout` (of `image`) to `remote`: each platform's image and an OCI image index
/// naming them, all with OCI media types.
pub(super) fn push_index(
    store: &Store,
    image: &ImageRef,
    layout: &Layout,
    remote: &ImageRef,
    access: Access,
    ui: &Ui,
) -> Result<Pushed, Error> {
    let started = Instant::now();
    let platforms = layout.platforms()?;
    ui.section(&format!(
        "Pushing {image} to {remote} ({})",
        platform_list(&platforms)
    ));
    let work = store.scratch_dir("push-")?;
    let mut parts = Vec::new();
    for (n, platform) in platforms.into_iter().enumerate() {
        parts.push(with_uniform_media_types(
            &layout.clone().for_platform(platform),
            image.tag(),
            &work.path().join(format!("platform-{n}")),
        )?);
    }
    let staged = Layout::create(work.path().join("layout"))?;
    let manifests = index::write_multi(&staged, &parts, image.tag())?;
    let manifests: Vec<_> = manifests
        .into_iter()
        .map(|mut d| {
            d.set_annotations(None);
            d
        })
        .collect();
    let list = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let bytes = canonical_json(&list).map_err(ImageError::Serialize)?;
    let mut descriptor = staged.write_blob(MediaType::ImageIndex, &bytes)?;
    descriptor.set_annotations(Some(HashMap::from([(
        REF_NAME.to_owned(),
        image.tag().to_owned(),
    )])));
    crate::oci::write_index_of(&staged, &[descriptor])?;
    let digest_file = work.path().join("digest");
    // OCI media types, as staged: skopeo cannot convert an index and its images to Docker types in one copy
    // that keeps the images' digests, and a pull of the index into an OCI layout needs no conversion then.
    let media_types = ["--multi-arch", "all", "--preserve-digests"];
    let digest = copy_to_registry(&staged, remote, access, &media_types, &digest_file)?;
    let detail = format!(" ({} platforms)", parts.len());
    Ok(pushed(remote, digest, &detail, started, ui))
}

/// Pulls `remote` with every platform it has into the store as `image` (default: the same reference): the
/// stored layout lists each platform's image (see [`crate::oci::index`]) with the registry's digests. An OCI
/// index is what an OCI layout can hold: a Docker manifest list is refused by skopeo.
///
/// # Errors
/// When skopeo is missing, the registry does not have the image, or it is not an image rpack can read.
pub fn pull_all(
    store: &Store,
    remote: &ImageRef,
    image: Option<&ImageRef>,
    access: Access,
    ui: &Ui,
) -> Result<Pulled, Error> {
    let image = image.unwrap_or(remote);
    let what = format!("Pulling {remote} (every platform) as {image}");
    let staging = PullStaging::start(store, &what, ui)?;
    staging.copy_from(remote, image, access, true)?;
    let layout = staging.layout.clone();
    let unreadable = |e: Error| RegistryError::Unreadable {
        image: remote.to_string(),
        source: Box::new(e),
    };
    // skopeo points index.json at the registry's index; rpack lists its images directly.
    let manifests: Vec<_> = layout
        .manifests()
        .map_err(|e| unreadable(e.into()))?
        .into_iter()
        .map(|mut d| {
            d.set_annotations(Some(HashMap::from([(
                REF_NAME.to_owned(),
                image.tag().to_owned(),
            )])));
            d
        })
        .collect();
    crate::oci::write_index_of(&layout, &manifests)?;
    let loaded = Image::load(layout.clone()).map_err(|e| unreadable(e.into()))?;
    let digest = pulled_digest(&loaded, remote)?;
    let platforms = layout.platforms().unwrap_or_default();
    staging.finish(
        store,
        (remote, image),
        digest,
        &platform_list(&platforms),
        ui,
    )
}
