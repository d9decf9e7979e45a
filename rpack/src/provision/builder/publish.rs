//! `rpack builder create REF --publish`: a builder other platforms can use as it is. The stack images only
//! rpack's store has (`localhost/...` names) are pushed next to the builder in REF's registry, and the builder
//! names its run image by that pushed reference (metadata `images` and `stack.runImage`, `/cnb/run.toml`,
//! `/cnb/stack.toml`), so pack, Tekton and kpack find the run image without an override, and `pack rebase`
//! finds the image's run image by the name it was built on.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use libbuildpack::data::{BuilderToml, RunImage};

use super::{Builder, BuilderError, create_with, ensure_stack_image, parse_ref};
use crate::oci::reference::ImageRef;
use crate::oci::{Digest, Layout};
use crate::provision::Error;
use crate::store::Store;
use crate::store::registry::{self, Access, Pushed};
use crate::toolbox::ui::Ui;

/// Stack images and the names they were published under: `localhost/rpack/tiny-run:latest` to
/// `127.0.0.1:5000/my/tiny-run:latest`.
pub(crate) type Renamed = BTreeMap<String, ImageRef>;

/// A published builder.
#[derive(Clone, Debug)]
pub struct Published {
    /// The builder as the store has it (under its registry name).
    pub builder: Builder,
    /// The push of the builder image.
    pub pushed: Pushed,
    /// Every stack image that was pushed, as (its name in the store, its name in the registry).
    pub stack: Vec<(ImageRef, ImageRef)>,
}

/// `run_images` with every image (and mirror) in `renamed` replaced by its new name.
pub(super) fn rename(run_images: Vec<RunImage>, renamed: &Renamed) -> Vec<RunImage> {
    let new_name = |image: String| renamed.get(&image).map_or(image, ToString::to_string);
    run_images
        .into_iter()
        .map(|run| RunImage {
            image: new_name(run.image),
            mirrors: run.mirrors.into_iter().map(new_name).collect(),
        })
        .collect()
}

/// Where a stack image goes when the builder is published as `builder`: the same registry and namespace as
/// the builder, the image's own last path segment and tag (`127.0.0.1:5000/my/builder:1` and
/// `localhost/rpack/tiny-run:latest` give `127.0.0.1:5000/my/tiny-run:latest`).
///
/// # Errors
/// When the name that gives is not a valid reference (it always is for valid inputs).
pub(crate) fn destination(builder: &ImageRef, image: &ImageRef) -> Result<ImageRef, Error> {
    let namespace = builder
        .repository()
        .rsplit_once('/')
        .map_or(String::new(), |(dir, _)| format!("{dir}/"));
    let name = image
        .repository()
        .rsplit('/')
        .next()
        .unwrap_or(image.repository());
    Ok(format!("{}/{namespace}{name}:{}", builder.registry(), image.tag()).parse()?)
}

/// Makes the builder `name` (a registry reference) from `config` and pushes it, after pushing the stack
/// images only the store has next to it; the builder names the pushed run image. The store keeps the builder
/// and the pushed stack images under their registry names too, so `rpack build --builder NAME` works here.
///
/// # Errors
/// When `name` has no registry, builder.toml is invalid, an image is missing, or a push fails.
pub fn create_and_publish(
    store: &Store,
    config: &Path,
    name: &ImageRef,
    access: Access,
    ui: &Ui,
) -> Result<Published, Error> {
    let started = Instant::now();
    if name.registry() == "localhost" {
        return Err(BuilderError::NotPublishable {
            image: name.to_string(),
        }
        .into());
    }
    let toml = BuilderToml::read(config).map_err(BuilderError::from)?;
    let mut images = vec![(
        "build",
        parse_ref(
            config,
            "build.image",
            toml.build_image().unwrap_or_default(),
        )?,
    )];
    for (index, run) in toml.run_images().iter().enumerate() {
        let field = if index == 0 {
            "run.images[0].image"
        } else {
            "run.images[].image"
        };
        images.push(("run", parse_ref(config, field, &run.image)?));
    }
    let mut renamed = Renamed::new();
    let mut stack = Vec::new();
    for (role, image) in images {
        // Only names no other machine can pull are pushed; `docker.io/...` and the like stay as they are.
        if image.registry() != "localhost" || renamed.contains_key(&image.to_string()) {
            continue;
        }
        ensure_stack_image(store, role, &image, ui)?;
        let dest = destination(name, &image)?;
        // The host's image only: the builder is made for this platform, and an index would go out with OCI
        // media types that a later `pack rebase` mixes into a Docker manifest.
        registry::push_platform(
            store,
            &image,
            &crate::oci::Platform::host(),
            &dest,
            access,
            ui,
        )?;
        store_as(store, &image, &dest)?;
        renamed.insert(image.to_string(), dest.clone());
        stack.push((image, dest));
    }
    let builder = create_with(store, config, name, &renamed, &[], ui)?;
    let pushed = registry::push(store, name, None, access, ui)?;
    ui.done(
        &format!(
            "Published builder {}@{} (run image {})",
            pushed.remote, pushed.digest, builder.run_image
        ),
        started.elapsed(),
    );
    Ok(Published {
        builder,
        pushed,
        stack,
    })
}

/// Stores the image `from` under the name `to` as well: the same blobs (hard links) and `index.json`, so
/// its digests do not change.
fn store_as(store: &Store, from: &ImageRef, to: &ImageRef) -> Result<(), Error> {
    let source = store.image_layout(from);
    let _lock = store.lock(&to.to_string())?;
    let work = store.scratch_dir("tag-")?;
    let staged = Layout::create(work.path().join("layout"))?;
    let blobs = source.blobs_dir();
    for entry in fs_err::read_dir(&blobs).map_err(super::io_err("read", &blobs))? {
        let entry = entry.map_err(super::io_err("read", &blobs))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(digest) = format!("sha256:{name}").parse::<Digest>() {
            staged.import_blob(&source, &digest)?;
        }
    }
    let index = source.root().join("index.json");
    let staged_index = staged.root().join("index.json");
    fs_err::copy(&index, &staged_index).map_err(super::io_err("copy", &index))?;
    let dest = store.image_layout(to);
    crate::store::replace_dir(staged.root(), dest.root())
        .map_err(super::io_err("move into place", dest.root()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(text: &str) -> ImageRef {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn stack_images_go_next_to_the_builder() {
        let run = image("localhost/rpack/tiny-run:latest");
        assert_eq!(
            destination(&image("127.0.0.1:5000/my/team/builder:1"), &run)
                .unwrap_or_else(|e| panic!("{e}"))
                .to_string(),
            "127.0.0.1:5000/my/team/tiny-run:latest"
        );
        assert_eq!(
            destination(&image("127.0.0.1:5000/builder:1"), &run)
                .unwrap_or_else(|e| panic!("{e}"))
                .to_string(),
            "127.0.0.1:5000/tiny-run:latest"
        );
    }

    #[test]
    fn renamed_run_images_and_mirrors_take_their_new_names() {
        let renamed = Renamed::from([(
            "localhost/rpack/tiny-run:latest".to_owned(),
            image("127.0.0.1:5000/my/tiny-run:latest"),
        )]);
        let runs = rename(
            vec![RunImage {
                image: "localhost/rpack/tiny-run:latest".to_owned(),
                mirrors: vec!["mirror.example/run:1".to_owned()],
            }],
            &renamed,
        );
        assert_eq!(runs[0].image, "127.0.0.1:5000/my/tiny-run:latest");
        assert_eq!(runs[0].mirrors, ["mirror.example/run:1"]);
    }
}
