//! Multi-platform image layouts: an `index.json` that lists one image manifest per platform (os/arch), as
//! multi-arch buildpackages, builders and app images are written.
//!
//! A [`Layout`] reads one image. When its index lists several, the one for the layout's [`Platform`](super::Platform) is read
//! ([`Layout::for_platform`]; the host's by default); an index that points at a nested image index (as
//! `skopeo copy --all` writes) is followed one level. [`write_multi`] assembles such a layout from
//! single-platform ones.

use oci_spec::image::Descriptor;

use super::digest::Digest;
use super::layout::{Layout, LayoutError, write_atomic, write_index_of};

/// Writes into `target` an index of the images of `parts` (each a single-platform layout): their blobs are
/// linked or copied over and `index.json` lists their manifests, each with its platform, annotated with
/// `ref_name`. Returns the index's manifests.
///
/// # Errors
/// When a part has no single image or a blob cannot be read or written.
pub(crate) fn write_multi(
    target: &Layout,
    parts: &[Layout],
    ref_name: &str,
) -> Result<Vec<Descriptor>, LayoutError> {
    let mut manifests = Vec::new();
    for part in parts {
        let mut descriptor = part.image_descriptor()?;
        let digest = part.digest_of(&descriptor)?;
        let manifest = part.read_manifest(&digest, descriptor.size())?;
        if descriptor.platform().is_none() {
            // The lifecycle's layout export leaves it out: taken from the image config.
            let config = part.digest_of(manifest.config())?;
            let bytes = part.read_blob(&config, manifest.config().size())?;
            let parsed: oci_spec::image::ImageConfiguration = serde_json::from_slice(&bytes)
                .map_err(|source| LayoutError::InvalidBlob {
                    layout: part.shown().to_owned(),
                    digest: config.clone(),
                    kind: "image config",
                    source,
                })?;
            descriptor.set_platform(Some(
                oci_spec::image::PlatformBuilder::default()
                    .os(parsed.os().clone())
                    .architecture(parsed.architecture().clone())
                    .build()
                    .map_err(|e| LayoutError::WriteBlob(std::io::Error::other(e.to_string())))?,
            ));
        }
        let mut blobs: Vec<Digest> = vec![digest, part.digest_of(manifest.config())?];
        for layer in manifest.layers() {
            blobs.push(part.digest_of(layer)?);
        }
        for blob in &blobs {
            target.import_blob(part, blob)?;
        }
        descriptor.set_annotations(Some(std::collections::HashMap::from([(
            "org.opencontainers.image.ref.name".to_owned(),
            ref_name.to_owned(),
        )])));
        manifests.push(descriptor);
    }
    write_index_of(target, &manifests)?;
    Ok(manifests)
}

/// A layout at `dir` that shows only the image `layout` reads (its platform's, of a multi-platform index):
/// `index.json` lists that one manifest and `blobs` is a link to `layout`'s blobs. For tools that want one
/// image per layout (skopeo's `oci:` transport).
///
/// # Errors
/// When the image cannot be found or `dir` cannot be written.
pub(crate) fn single_view(layout: &Layout, dir: &std::path::Path) -> Result<Layout, LayoutError> {
    let descriptor = layout.image_descriptor()?;
    let view = Layout::open(dir);
    let create = |source| LayoutError::Create {
        path: dir.to_owned(),
        source,
    };
    fs_err::create_dir_all(dir).map_err(create)?;
    write_atomic(
        &dir.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .map_err(create)?;
    let blobs = fs_err::canonicalize(layout.root().join("blobs")).map_err(create)?;
    std::os::unix::fs::symlink(blobs, dir.join("blobs")).map_err(create)?;
    write_index_of(&view, &[descriptor])?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::{Image, LayerWriter, Platform};

    fn image(dir: &std::path::Path, arch: &str, text: &str) -> Layout {
        let layout = Layout::create(dir.join(arch)).unwrap();
        let mut image = Image::scratch(layout.clone(), "linux", arch).unwrap();
        let mut layer = LayerWriter::new(&layout).unwrap();
        layer.file("arch", 0o644, text.as_bytes()).unwrap();
        image.add_layer(&layer.finish().unwrap(), "test").unwrap();
        image.save("1.0").unwrap();
        layout
    }

    /// An index of an amd64 and an arm64 image, each with a file `arch` (`x86`, `arm`).
    fn two_platforms(dir: &std::path::Path) -> Layout {
        let parts = [image(dir, "amd64", "x86"), image(dir, "arm64", "arm")];
        let multi = Layout::create(dir.join("multi")).unwrap();
        write_multi(&multi, &parts, "1.0").unwrap();
        multi
    }

    #[test]
    fn an_index_of_two_platforms_reads_each_image_and_the_hosts_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let multi = two_platforms(dir.path());
        assert!(multi.is_multi_platform());
        assert_eq!(
            multi.platforms().unwrap(),
            [
                Platform::new("linux", "amd64"),
                Platform::new("linux", "arm64")
            ]
        );
        for (arch, text) in [("amd64", "x86"), ("arm64", "arm")] {
            let one =
                Image::load(multi.clone().for_platform(Platform::new("linux", arch))).unwrap();
            assert_eq!(one.arch(), arch);
            assert_eq!(
                one.read_file("arch").unwrap().as_deref(),
                Some(text.as_bytes())
            );
        }
        assert_eq!(
            Image::load(multi.clone()).unwrap().arch(),
            Platform::host().arch
        );
        let err = Image::load(multi.for_platform("linux/s390x".parse().unwrap())).unwrap_err();
        assert!(err.to_string().contains("linux/s390x"), "{err}");
        assert!(
            err.to_string().contains("linux/amd64, linux/arm64"),
            "{err}"
        );
    }

    #[test]
    fn saving_a_platforms_image_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let multi = two_platforms(dir.path());
        let arm = multi.clone().for_platform(Platform::new("linux", "arm64"));
        let mut image = Image::load(arm.clone()).unwrap();
        image.set_label("edited", "yes");
        image.save("1.0").unwrap();
        assert_eq!(multi.platforms().unwrap().len(), 2);
        assert_eq!(
            Image::load(arm).unwrap().label("edited").as_deref(),
            Some("yes")
        );
        let amd = Image::load(multi.for_platform(Platform::new("linux", "amd64"))).unwrap();
        assert_eq!(amd.label("edited"), None);
    }

    #[test]
    fn platforms_parse_and_print() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//x".parse::<Platform>().is_err());
    }
}
