//! Sparse layouts: what the lifecycle is given of the run image and the previous image, and how the image it
//! exports is completed afterwards.
//!
//! In layout mode the lifecycle (imgutil's `layout` package over go-containerregistry) opens the run image and
//! the previous image in the analyzer and again in the exporter, and asks every layer whose blob is present for
//! its diff id. go-containerregistry's layout layers do not take that from the image config: they decompress
//! and hash the whole blob. So each phase read every layer of both images, seconds per build that grew with the
//! size of the app's dependencies. A layer whose blob is absent is given its diff id from the config instead
//! (imgutil's "sparse" facade), and the exporter skips writing it.
//!
//! rpack therefore hands the lifecycle layouts that hold the index, the manifest and the config, and of the
//! layers only the SBOM layer (the analyzer reads it to give buildpacks the SBOMs of the layers they keep).
//! After the export, every blob the new image names that the lifecycle did not write is linked in from the run
//! image or the previous image, and the image is checked to be whole before it replaces the previous one. The
//! layout then holds exactly the image's blobs: earlier images' blobs do not pile up across builds.

use std::path::Path;

use libbuildpack::data::labels::{LabelError, LifecycleMetadata, PlatformLabel};
use libbuildpack::toolbox::file::FileError;

use crate::build::Error;
use crate::oci::labels::LIFECYCLE_METADATA;
use crate::oci::{Digest, Image, Layout};

use super::BuildError;

/// Writes at `dest` a layout of the image at `src` holding its index, manifest and config, and of its layers
/// only the lifecycle's SBOM layer. Blobs are hard links where the file system allows.
///
/// # Errors
/// When `src` cannot be read or `dest` written.
pub(super) fn copy(src: &Layout, dest: &Path) -> Result<Layout, Error> {
    let image = Image::load(src.clone())?;
    let dest = Layout::create(dest)?;
    let manifest = image
        .manifest_digest()
        .cloned()
        .ok_or_else(|| BuildError::IncompleteImage {
            layout: src.root().to_owned(),
            what: "a manifest".to_owned(),
        })?;
    dest.import_blob(src, &manifest)?;
    dest.import_blob(src, &image.config_digest()?)?;
    let sbom = sbom_layer(&image).map_err(|source| BuildError::ImageLabel {
        layout: src.root().to_owned(),
        source,
    })?;
    if let Some(sbom) = sbom {
        dest.import_blob(src, &sbom)?;
    }
    if src.platform().is_some() || src.is_multi_platform() {
        // Of a multi-platform image (a stack made for amd64 and arm64 too, even for a build of the host's
        // platform), the lifecycle is given the one image of the platform built for: only its blobs are here.
        dest.write_index(&src.image_descriptor()?)?;
        return Ok(dest);
    }
    let index = src.root().join("index.json");
    let target = dest.root().join("index.json");
    fs_err::copy(&index, &target).map_err(super::io_err("copy", &index))?;
    Ok(dest)
}

/// The blob digest of the image's SBOM layer, when its lifecycle metadata names one that the image has.
///
/// # Errors
/// When the metadata label is malformed.
fn sbom_layer(image: &Image) -> Result<Option<Digest>, LabelError> {
    let Some(label) = image.label(LIFECYCLE_METADATA) else {
        return Ok(None);
    };
    let metadata = LifecycleMetadata::from_label(&label)?;
    let Some(diff_id) = metadata.sbom_diff_id() else {
        return Ok(None);
    };
    let Some(index) = image.diff_ids().iter().position(|d| d == diff_id) else {
        return Ok(None);
    };
    Ok(image
        .layers()
        .get(index)
        .and_then(|layer| layer.digest().to_string().parse().ok()))
}

/// Links into `output` every blob of its image that the exporter left out, from the first of `sources` that
/// has it, and checks that the image is whole.
///
/// # Errors
/// When a blob is in none of the sources, or linking fails.
pub(super) fn complete(output: &Layout, sources: &[Layout]) -> Result<(), Error> {
    let image = Image::load(output.clone())?;
    for layer in image.layers() {
        let digest: Digest =
            layer
                .digest()
                .to_string()
                .parse()
                .map_err(|_| BuildError::IncompleteImage {
                    layout: output.root().to_owned(),
                    what: format!("a valid digest for layer {}", layer.digest()),
                })?;
        if output.has_blob(&digest) {
            continue;
        }
        let source = sources
            .iter()
            .find(|s| s.has_blob(&digest))
            .ok_or_else(|| BuildError::IncompleteImage {
                layout: output.root().to_owned(),
                what: format!(
                    "layer {digest}, which neither the run image nor the previous image has"
                ),
            })?;
        output.import_blob(source, &digest)?;
    }
    remove_unreferenced(&image)
}

/// Removes the blobs of the staging layout that its image does not use: the previous image's manifest and
/// config, which the lifecycle was given to read.
fn remove_unreferenced(image: &Image) -> Result<(), Error> {
    let mut used: Vec<String> = image
        .layers()
        .iter()
        .map(|l| l.digest().to_string())
        .collect();
    used.extend(image.manifest_digest().map(ToString::to_string));
    used.push(image.config_digest()?.to_string());
    let dir = image.layout().blobs_dir();
    let io = |source| {
        BuildError::Io(FileError {
            action: "clean up",
            path: dir.clone(),
            source,
        })
    };
    for entry in fs_err::read_dir(&dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let digest = format!("sha256:{}", entry.file_name().to_string_lossy());
        if !used.contains(&digest) {
            fs_err::remove_file(entry.path()).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::LayerWriter;

    fn layer(layout: &Layout, name: &str) -> crate::oci::Layer {
        let mut writer = LayerWriter::new(layout).unwrap_or_else(|e| panic!("{e}"));
        writer
            .file(name, 0o644, name.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        writer.finish().unwrap_or_else(|e| panic!("{e}"))
    }

    /// An image with a base layer, an app layer and an SBOM layer named by the lifecycle's label.
    fn image(dir: &Path) -> (Layout, Vec<Digest>) {
        let layout = Layout::create(dir).unwrap_or_else(|e| panic!("{e}"));
        let mut image =
            Image::scratch(layout.clone(), "linux", "amd64").unwrap_or_else(|e| panic!("{e}"));
        let mut digests = Vec::new();
        let mut sbom_diff_id = String::new();
        for name in ["base", "app", "sbom"] {
            let written = layer(&layout, name);
            digests.push(written.digest.clone());
            sbom_diff_id = written.diff_id.to_string();
            image
                .add_layer(&written, name)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let metadata = LifecycleMetadata {
            sbom: Some(libbuildpack::data::labels::LayerRef { sha: sbom_diff_id }),
            ..LifecycleMetadata::default()
        };
        image.set_label(
            LIFECYCLE_METADATA,
            &metadata.to_label().unwrap_or_else(|e| panic!("{e}")),
        );
        image.save("latest").unwrap_or_else(|e| panic!("{e}"));
        (layout, digests)
    }

    #[test]
    fn a_sparse_copy_keeps_the_sbom_layer_and_no_other() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (full, digests) = image(&tmp.path().join("full"));
        let sparse = copy(&full, &tmp.path().join("sparse")).unwrap_or_else(|e| panic!("{e}"));
        let loaded = Image::load(sparse.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            loaded.manifest_digest(),
            Image::load(full.clone())
                .ok()
                .as_ref()
                .and_then(Image::manifest_digest)
        );
        assert!(!sparse.has_blob(&digests[0]));
        assert!(!sparse.has_blob(&digests[1]));
        assert!(
            sparse.has_blob(&digests[2]),
            "the analyzer reads the SBOM layer"
        );
    }

    #[test]
    fn complete_links_missing_layers_and_refuses_an_image_it_cannot_complete() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (full, digests) = image(&tmp.path().join("full"));
        let sparse = copy(&full, &tmp.path().join("sparse")).unwrap_or_else(|e| panic!("{e}"));
        let err = complete(&sparse, &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(digests[0].as_str()), "{err}");
        complete(&sparse, &[full]).unwrap_or_else(|e| panic!("{e}"));
        assert!(digests.iter().all(|d| sparse.has_blob(d)));
    }

    /// A stack made for arm64 too is an index of two images; a build for the host was handed the whole index
    /// with only the host's blobs, and the lifecycle's analyzer failed ("failed to find manifest matching
    /// platform").
    #[test]
    fn a_sparse_copy_of_a_multi_platform_image_lists_the_hosts_image_only() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (host, _) = image(&tmp.path().join("host"));
        let other = Layout::create(tmp.path().join("other")).unwrap_or_else(|e| panic!("{e}"));
        let mut arm =
            Image::scratch(other.clone(), "linux", "arm64").unwrap_or_else(|e| panic!("{e}"));
        arm.add_layer(&layer(&other, "arm"), "arm")
            .unwrap_or_else(|e| panic!("{e}"));
        arm.save("latest").unwrap_or_else(|e| panic!("{e}"));
        let multi = Layout::create(tmp.path().join("multi")).unwrap_or_else(|e| panic!("{e}"));
        crate::oci::index::write_multi(&multi, &[host.clone(), other], "latest")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(multi.is_multi_platform());
        let sparse = copy(&multi, &tmp.path().join("sparse")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!sparse.is_multi_platform());
        assert_eq!(
            sparse
                .image_descriptor()
                .ok()
                .map(|d| d.digest().to_string()),
            host.image_descriptor().ok().map(|d| d.digest().to_string())
        );
    }
}
