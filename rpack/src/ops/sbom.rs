//! `rpack sbom download`: the SBOM layer of an app image (the lifecycle's `buildpacksio/lifecycle:launch.sbom`
//! layer, named by the `sbom` entry of `io.buildpacks.lifecycle.metadata`), extracted the way pack lays it out:
//! `DIR/layers/sbom/launch/<escaped buildpack id>/<layer>/sbom.cdx.json`, `.../sbom.spdx.json` and so on.
//!
//! The layer is extracted with rpack's safe extraction (no `..`, no links out of the tree, no device files)
//! into a temp dir inside `DIR`, and its `layers/sbom` dir then replaces `DIR/layers/sbom`. An SBOM layer
//! holds files and dirs only: one with a symlink on the way to or below `layers/sbom` is refused, since the
//! dir rpack creates, lists and moves must be the one in the layer.

use std::io;
use std::path::{Path, PathBuf};

use crate::ops::Error;
use libbuildpack::archive::EntryName;
use libbuildpack::data::labels::{LabelError, LifecycleMetadata, PlatformLabel};
use libbuildpack::toolbox::file::FileError;

use crate::oci::extract::{self, ArchiveError, Kind};
use crate::oci::labels::LIFECYCLE_METADATA;
use crate::oci::reference::ImageRef;
use crate::oci::{Digest, Image};
use crate::store::Store;

/// What failed while downloading an image's SBOM.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// The image is not in the store.
    #[error("{image} is not in rpack's store ({path})")]
    NoImage {
        /// The image.
        image: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The image has no SBOM layer.
    #[error("{image} has no SBOM layer (no `sbom` entry in its {LIFECYCLE_METADATA} label)")]
    NoSbom {
        /// The image.
        image: String,
    },
    /// The image's lifecycle metadata is malformed.
    #[error("{image} is not a readable app image")]
    Label {
        /// The image.
        image: String,
        /// Which label, and what is wrong with it.
        #[source]
        source: LabelError,
    },
    /// The metadata names a layer the image does not have.
    #[error("{image}: its SBOM layer {diff_id} is not one of its layers")]
    MissingLayer {
        /// The image.
        image: String,
        /// The diff id the metadata names.
        diff_id: String,
    },
    /// The layer is unsafe or broken.
    #[error("could not extract the SBOM layer of {image}")]
    Extract {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: ArchiveError,
    },
    /// The layer has a symlink where SBOM files or their dirs belong.
    #[error(
        "{image}: its SBOM layer has a symlink at {path}, where only SBOM files and dirs belong"
    )]
    Link {
        /// The image.
        image: String,
        /// The link, relative to the layer's root.
        path: EntryName,
    },
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl SbomError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NoImage { .. } => Some("list the images rpack has with `rpack images`".to_owned()),
            Self::NoSbom { .. } => Some(
                "the image's buildpacks wrote no SBOM files (<layer>.sbom.cdx.json, launch.sbom.*.json)".to_owned(),
            ),
            _ => None,
        }
    }
}

crate::toolbox::file_error::io_err!(SbomError);

/// Extracts the SBOM layer of `image` into `output_dir` (`output_dir/layers/sbom/...`, as pack does), replacing
/// an earlier download there. Returns the SBOM files written, relative to `output_dir`, sorted.
///
/// # Errors
/// When the image is missing or has no SBOM layer, the layer is unsafe, or `output_dir` cannot be written.
pub fn download(store: &Store, image: &ImageRef, output_dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let name = image.to_string();
    let layout = store.image_layout(image);
    if !layout.exists() {
        return Err(SbomError::NoImage {
            image: name,
            path: layout.root().to_owned(),
        }
        .into());
    }
    let loaded = Image::load(layout.clone())?;
    let metadata = loaded
        .label(LIFECYCLE_METADATA)
        .map(|text| LifecycleMetadata::from_label(&text))
        .transpose()
        .map_err(|source| SbomError::Label {
            image: name.clone(),
            source,
        })?;
    let diff_id = metadata
        .as_ref()
        .and_then(LifecycleMetadata::sbom_diff_id)
        .map(str::to_owned)
        .ok_or_else(|| SbomError::NoSbom {
            image: name.clone(),
        })?;
    let index = loaded
        .diff_ids()
        .iter()
        .position(|d| *d == diff_id)
        .ok_or_else(|| SbomError::MissingLayer {
            image: name.clone(),
            diff_id: diff_id.clone(),
        })?;
    let layer = &loaded.layers()[index];
    let blob: Digest = layer
        .digest()
        .to_string()
        .parse()
        .map_err(|_| SbomError::MissingLayer {
            image: name.clone(),
            diff_id: diff_id.clone(),
        })?;

    fs_err::create_dir_all(output_dir).map_err(io_err("create", output_dir))?;
    let work = crate::toolbox::scratch::dir_in(output_dir, ".tmp-sbom-")
        .map_err(io_err("create a temp dir in", output_dir))?;
    let mut file = layout.open_blob(&blob, layer.size())?;
    let staged = work.path().join("root");
    extract::extractor(&staged, Kind::SbomLayer)
        .tar_gz(io::BufReader::new(&mut file))
        .map_err(|source| SbomError::Extract {
            image: name.clone(),
            source,
        })?;
    file.finish().map_err(|e| layout.blob_error(&blob, e))?;
    let staged_sbom = staged.join("layers").join("sbom");
    let files = sbom_files(&staged, &name)?;
    let dest = output_dir.join("layers").join("sbom");
    crate::store::replace_dir(&staged_sbom, &dest).map_err(io_err("move into place", &dest))?;
    let mut files: Vec<PathBuf> = files
        .into_iter()
        .filter_map(|p| p.strip_prefix(&staged).ok().map(Path::to_path_buf))
        .collect();
    files.sort();
    Ok(files)
}

/// The files under `root/layers/sbom` (created empty when the layer has none), refusing a symlink on the way
/// or below it: following one, rpack would create, list and move a dir outside the layer.
fn sbom_files(root: &Path, image: &str) -> Result<Vec<PathBuf>, SbomError> {
    let link_at = |path: &Path| SbomError::Link {
        image: image.to_owned(),
        path: EntryName::from_path(path.strip_prefix(root).unwrap_or(path)),
    };
    let layers = root.join("layers");
    let sbom = layers.join("sbom");
    for dir in [&layers, &sbom] {
        if fs_err::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(link_at(dir));
        }
    }
    fs_err::create_dir_all(&sbom).map_err(io_err("create", &sbom))?;
    let mut files = Vec::new();
    let mut dirs = vec![sbom];
    while let Some(dir) = dirs.pop() {
        for entry in fs_err::read_dir(&dir).map_err(io_err("read", &dir))? {
            let entry = entry.map_err(io_err("read", &dir))?;
            let kind = entry.file_type().map_err(io_err("read", &entry.path()))?;
            if kind.is_symlink() {
                return Err(link_at(&entry.path()));
            } else if kind.is_dir() {
                dirs.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect: with `layers` a link to a host dir, rpack created `sbom` there and moved it into the output.
    #[test]
    fn an_sbom_layer_whose_layers_dir_is_a_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (root, host) = (dir.path().join("root"), dir.path().join("host"));
        fs_err::create_dir_all(&root).unwrap();
        fs_err::create_dir_all(&host).unwrap();
        std::os::unix::fs::symlink(&host, root.join("layers")).unwrap();
        let err = sbom_files(&root, "app").unwrap_err();
        assert_eq!(
            err.to_string(),
            "app: its SBOM layer has a symlink at \"layers\", where only SBOM files and dirs belong"
        );
        assert!(!host.join("sbom").exists());
    }

    #[test]
    fn an_sbom_layer_with_a_symlink_among_its_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs_err::create_dir_all(root.join("layers/sbom/launch/x")).unwrap();
        fs_err::write(root.join("layers/sbom/launch/x/sbom.cdx.json"), "{}").unwrap();
        std::os::unix::fs::symlink(
            "/etc/passwd",
            root.join("layers/sbom/launch/x/sbom.spdx.json"),
        )
        .unwrap();
        let err = sbom_files(&root, "app").unwrap_err();
        assert!(
            err.to_string()
                .contains("layers/sbom/launch/x/sbom.spdx.json"),
            "{err}"
        );
    }

    #[test]
    fn sbom_files_lists_every_file_below_layers_sbom() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs_err::create_dir_all(root.join("layers/sbom/launch/x")).unwrap();
        fs_err::write(root.join("layers/sbom/launch/x/sbom.cdx.json"), "{}").unwrap();
        fs_err::write(root.join("layers/sbom/launch/sbom.spdx.json"), "{}").unwrap();
        let mut files = sbom_files(&root, "app").unwrap();
        files.sort();
        assert_eq!(
            files,
            [
                root.join("layers/sbom/launch/sbom.spdx.json"),
                root.join("layers/sbom/launch/x/sbom.cdx.json")
            ]
        );
    }
}
