use std::io;
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};
use tempfile::NamedTempFile;

use super::digest::Digest;
use super::json::canonical_json;

/// An OCI image layout directory holding one image (the lifecycle's layout convention: one image per dir).
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

/// What failed while reading or writing an image layout.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The layout dir could not be created.
    #[error("could not create the image layout at {path}")]
    Create {
        /// The layout dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A blob could not be written.
    #[error("could not write a blob")]
    WriteBlob(#[source] io::Error),
    /// A blob could not be read.
    #[error("could not read blob {digest} from {layout}")]
    ReadBlob {
        /// The layout dir.
        layout: PathBuf,
        /// The blob.
        digest: Digest,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `index.json` is missing or invalid.
    #[error("could not read {path}")]
    ReadIndex {
        /// The index file.
        path: PathBuf,
        /// Why.
        #[source]
        source: oci_spec::OciSpecError,
    },
    /// `index.json` has no image or more than one.
    #[error("{path} lists {count} manifests; rpack expects exactly one image per layout")]
    NotOneImage {
        /// The index file.
        path: PathBuf,
        /// How many manifests it lists.
        count: usize,
    },
    /// A manifest or config blob is not valid JSON of its kind.
    #[error("blob {digest} in {layout} is not a valid {kind}")]
    InvalidBlob {
        /// The layout dir.
        layout: PathBuf,
        /// The blob.
        digest: Digest,
        /// What it should have been.
        kind: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// `index.json` could not be written.
    #[error("could not write {path}")]
    WriteIndex {
        /// The index file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl Layout {
    /// Opens the layout at `root` without checking it; reads fail later if it is not one.
    pub fn open(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Creates (or reuses) the layout dir at `root` with its `oci-layout` marker and blob dir.
    ///
    /// # Errors
    /// When the directories or the marker cannot be written.
    pub fn create(root: impl Into<PathBuf>) -> Result<Self, LayoutError> {
        let layout = Self { root: root.into() };
        let create = |source| LayoutError::Create {
            path: layout.root.clone(),
            source,
        };
        fs_err::create_dir_all(layout.blobs_dir()).map_err(create)?;
        let marker = layout.root.join("oci-layout");
        if !marker.exists() {
            write_atomic(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(create)?;
        }
        Ok(layout)
    }

    /// The layout dir.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the layout holds an image (has an `index.json`).
    #[must_use]
    pub fn exists(&self) -> bool {
        self.root.join("index.json").is_file()
    }

    /// `blobs/sha256` under the layout.
    #[must_use]
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }

    /// The path of a blob.
    #[must_use]
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir().join(digest.hex())
    }

    /// Whether the layout has the blob.
    #[must_use]
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    pub(crate) fn temp_blob(&self) -> Result<NamedTempFile, LayoutError> {
        fs_err::create_dir_all(self.blobs_dir()).map_err(LayoutError::WriteBlob)?;
        tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(self.blobs_dir())
            .map_err(LayoutError::WriteBlob)
    }

    /// Writes `bytes` as a blob and returns its descriptor.
    ///
    /// # Errors
    /// On write errors.
    pub fn write_blob(
        &self,
        media_type: MediaType,
        bytes: &[u8],
    ) -> Result<Descriptor, LayoutError> {
        let digest = Digest::of(bytes);
        let path = self.blob_path(&digest);
        if !path.is_file() {
            fs_err::create_dir_all(self.blobs_dir()).map_err(LayoutError::WriteBlob)?;
            write_atomic(&path, bytes).map_err(LayoutError::WriteBlob)?;
        }
        descriptor(media_type, bytes.len() as u64, &digest)
    }

    /// Reads a whole blob.
    ///
    /// # Errors
    /// When the blob is missing or unreadable.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, LayoutError> {
        fs_err::read(self.blob_path(digest)).map_err(|source| LayoutError::ReadBlob {
            layout: self.root.clone(),
            digest: digest.clone(),
            source,
        })
    }

    /// Makes `digest` from `other` available in this layout: a hard link when both are on one file system,
    /// else a copy. Blobs are immutable, so sharing the inode is safe.
    ///
    /// # Errors
    /// When the blob is missing in `other` or cannot be linked or copied.
    pub fn import_blob(&self, other: &Layout, digest: &Digest) -> Result<(), LayoutError> {
        let dest = self.blob_path(digest);
        if dest.is_file() {
            return Ok(());
        }
        let src = other.blob_path(digest);
        let read_err = |source| LayoutError::ReadBlob {
            layout: other.root.clone(),
            digest: digest.clone(),
            source,
        };
        if std::fs::hard_link(&src, &dest).is_ok() {
            return Ok(());
        }
        let temp = self.temp_blob()?;
        fs_err::copy(&src, temp.path()).map_err(read_err)?;
        make_readable(temp.as_file()).map_err(LayoutError::WriteBlob)?;
        temp.persist(&dest)
            .map_err(|e| LayoutError::WriteBlob(e.error))?;
        Ok(())
    }

    /// Reads `index.json`.
    ///
    /// # Errors
    /// When it is missing or invalid.
    pub fn read_index(&self) -> Result<ImageIndex, LayoutError> {
        let path = self.root.join("index.json");
        ImageIndex::from_file(&path).map_err(|source| LayoutError::ReadIndex { path, source })
    }

    /// The descriptor of the one image in the layout.
    ///
    /// # Errors
    /// When the index is unreadable or does not list exactly one manifest.
    pub fn image_descriptor(&self) -> Result<Descriptor, LayoutError> {
        let index = self.read_index()?;
        match index.manifests().as_slice() {
            [one] => Ok(one.clone()),
            many => Err(LayoutError::NotOneImage {
                path: self.root.join("index.json"),
                count: many.len(),
            }),
        }
    }

    /// Reads and parses the manifest blob `digest`.
    ///
    /// # Errors
    /// When it is missing or not a manifest.
    pub fn read_manifest(&self, digest: &Digest) -> Result<ImageManifest, LayoutError> {
        let bytes = self.read_blob(digest)?;
        serde_json::from_slice(&bytes).map_err(|source| LayoutError::InvalidBlob {
            layout: self.root.clone(),
            digest: digest.clone(),
            kind: "image manifest",
            source,
        })
    }

    /// Replaces `index.json` atomically with one entry pointing at `manifest`.
    ///
    /// # Errors
    /// On write errors.
    pub fn write_index(&self, manifest: &Descriptor) -> Result<(), LayoutError> {
        let path = self.root.join("index.json");
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [manifest],
        });
        let bytes = canonical_json(&index).map_err(|e| LayoutError::WriteIndex {
            path: path.clone(),
            source: e.into(),
        })?;
        write_atomic(&path, &bytes).map_err(|source| LayoutError::WriteIndex { path, source })
    }
}

/// A descriptor for a blob.
pub(crate) fn descriptor(
    media_type: MediaType,
    size: u64,
    digest: &Digest,
) -> Result<Descriptor, LayoutError> {
    let oci_digest: oci_spec::image::Digest =
        digest
            .as_str()
            .parse()
            .map_err(|e: oci_spec::OciSpecError| {
                LayoutError::WriteBlob(io::Error::other(e.to_string()))
            })?;
    Ok(Descriptor::new(media_type, size, oci_digest))
}

/// Writes `bytes` to `path` through a temp file in the same dir and a rename, so readers never see a partial
/// file.
///
/// # Errors
/// On write or rename errors.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    io::Write::write_all(&mut temp, bytes)?;
    make_readable(temp.as_file())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Temp files are created 0600; what rpack writes is read by other users too (the build user in containers).
pub(crate) fn make_readable(file: &std::fs::File) -> io::Result<()> {
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
}
