//! `rpack sbom download`: the SBOM layer of an app image (the lifecycle's `buildpacksio/lifecycle:launch.sbom`
//! layer, named by the `sbom` entry of `io.buildpacks.lifecycle.metadata`), extracted the way pack lays it out:
//! `DIR/layers/sbom/launch/<escaped buildpack id>/<layer>/sbom.cdx.json`, `.../sbom.spdx.json` and so on.
//!
//! The layer is extracted with rpack's safe extraction (no `..`, no links out of the tree, no device files)
//! into a temp dir inside `DIR`, and its `layers/sbom` dir then replaces `DIR/layers/sbom`.

use std::io;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::archive::{self, AbsolutePaths, ArchiveError};
use crate::oci::{Digest, Image};
use crate::rebase::METADATA_LABEL;
use crate::reference::ImageRef;
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
    #[error("{image} has no SBOM layer (no `sbom` entry in its {METADATA_LABEL} label)")]
    NoSbom {
        /// The image.
        image: String,
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
    /// A file operation failed.
    #[error("could not {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
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

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> SbomError + 'a {
    move |source| SbomError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

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
    let diff_id = loaded
        .label(METADATA_LABEL)
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|m| m["sbom"]["sha"].as_str().map(str::to_owned))
        .filter(|s| !s.is_empty())
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
    let work = crate::scratch::dir_in(output_dir, ".tmp-sbom-")
        .map_err(io_err("create a temp dir in", output_dir))?;
    let mut file = layout.open_blob(&blob, layer.size())?;
    let staged = work.path().join("root");
    archive::extract(
        flate2::read::GzDecoder::new(io::BufReader::new(&mut file)),
        &staged,
        AbsolutePaths::RootRelative,
    )
    .map_err(|source| SbomError::Extract {
        image: name.clone(),
        source,
    })?;
    file.finish().map_err(|e| layout.blob_error(&blob, e))?;
    let staged_sbom = staged.join("layers").join("sbom");
    fs_err::create_dir_all(&staged_sbom).map_err(io_err("create", &staged_sbom))?;
    let mut files = Vec::new();
    list_files(&staged_sbom, &mut files).map_err(io_err("read", &staged_sbom))?;
    let dest = output_dir.join("layers").join("sbom");
    crate::store::replace_dir(&staged_sbom, &dest).map_err(io_err("move into place", &dest))?;
    let mut files: Vec<PathBuf> = files
        .into_iter()
        .filter_map(|p| p.strip_prefix(&staged).ok().map(Path::to_path_buf))
        .collect();
    files.sort();
    Ok(files)
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            list_files(&entry.path(), out)?;
        } else {
            out.push(entry.path());
        }
    }
    Ok(())
}
