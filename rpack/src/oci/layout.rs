use std::io;
use std::path::{Path, PathBuf};

use crate::toolbox::scratch::ScratchFile;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};

use super::blob::{self, BlobProblem, BlobReader, MAX_JSON_SIZE, OpenError};
use super::digest::Digest;
use super::json::canonical_json;
use super::platform::Platform;

/// An OCI image layout directory holding one image (the lifecycle's layout convention: one image per dir).
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
    /// What errors call the layout: its dir, or the archive it was extracted from.
    shown: PathBuf,
    /// The platform whose image is read and saved when the index lists several (see [`Layout::for_platform`]).
    platform: Option<Platform>,
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
    /// A blob is a symlink or special file, or its size or content is not what its descriptor says.
    #[error("blob {digest} in {layout} {problem}")]
    BadBlob {
        /// The layout dir.
        layout: PathBuf,
        /// The blob.
        digest: Digest,
        /// What is wrong with it.
        problem: BlobProblem,
    },
    /// `index.json` is missing or unreadable.
    #[error("could not read {path}")]
    ReadIndex {
        /// The index file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `index.json` is a symlink, a special file or too big.
    #[error("{path} {problem}")]
    BadIndex {
        /// The index file.
        path: PathBuf,
        /// What is wrong with it.
        problem: BlobProblem,
    },
    /// `index.json` is not an image index.
    #[error("{path} is not a valid OCI image index")]
    InvalidIndex {
        /// The index file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// `index.json` has no image or more than one.
    #[error("{path} lists {count} manifests; rpack expects exactly one image per layout")]
    NotOneImage {
        /// The index file.
        path: PathBuf,
        /// How many manifests it lists.
        count: usize,
    },
    /// A descriptor names a digest rpack cannot read.
    #[error("{layout} names a blob by a digest rpack cannot read: {digest}")]
    UnsupportedDigest {
        /// The layout dir.
        layout: PathBuf,
        /// The digest as written.
        digest: String,
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
    /// A multi-platform index has no image for the wanted platform.
    #[error("{layout} has no image for {platform} (it has {available})")]
    NoImageForPlatform {
        /// The layout dir or archive.
        layout: PathBuf,
        /// The wanted platform.
        platform: String,
        /// The platforms it has.
        available: String,
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
        let root = root.into();
        Self {
            shown: root.clone(),
            root,
            platform: None,
        }
    }

    /// Opens the layout at `root`, extracted from the archive `archive`, which errors name instead of `root`.
    pub(crate) fn of_archive(root: impl Into<PathBuf>, archive: &Path) -> Self {
        Self {
            root: root.into(),
            shown: archive.to_owned(),
            platform: None,
        }
    }

    /// The same layout, reading and saving the image of `platform` when its index lists several platforms;
    /// saving keeps the other platforms' images.
    #[must_use]
    pub fn for_platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// The platform given with [`Layout::for_platform`].
    #[must_use]
    pub(crate) fn platform(&self) -> Option<&Platform> {
        self.platform.as_ref()
    }

    /// Creates (or reuses) the layout dir at `root` with its `oci-layout` marker and blob dir.
    ///
    /// # Errors
    /// When the directories or the marker cannot be written.
    pub fn create(root: impl Into<PathBuf>) -> Result<Self, LayoutError> {
        let layout = Self::open(root);
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

    /// What errors call the layout: its dir, or the archive it was extracted from.
    #[must_use]
    pub(crate) fn shown(&self) -> &Path {
        &self.shown
    }

    /// Whether the layout holds an image (has an `index.json`, not a symlink).
    #[must_use]
    pub fn exists(&self) -> bool {
        is_regular(&self.root.join("index.json"))
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

    /// Whether the layout has the blob (as a regular file: a symlink does not count).
    #[must_use]
    pub fn has_blob(&self, digest: &Digest) -> bool {
        is_regular(&self.blob_path(digest))
    }

    pub(crate) fn temp_blob(&self) -> Result<ScratchFile, LayoutError> {
        fs_err::create_dir_all(self.blobs_dir()).map_err(LayoutError::WriteBlob)?;
        crate::toolbox::scratch::file_in(&self.blobs_dir(), ".tmp-").map_err(LayoutError::WriteBlob)
    }

    /// Writes `bytes` as a blob and returns its descriptor.
    ///
    /// # Errors
    /// On write errors.
    pub(crate) fn write_blob(
        &self,
        media_type: MediaType,
        bytes: &[u8],
    ) -> Result<Descriptor, LayoutError> {
        let digest = Digest::of(bytes);
        let path = self.blob_path(&digest);
        if !is_regular(&path) {
            fs_err::create_dir_all(self.blobs_dir()).map_err(LayoutError::WriteBlob)?;
            write_atomic(&path, bytes).map_err(LayoutError::WriteBlob)?;
        }
        descriptor(media_type, bytes.len() as u64, &digest)
    }

    /// Opens the blob a descriptor names (`digest`, `size`) for streaming: a symlink, a special file or a size
    /// other than `size` is refused, reads stop at `size` bytes, and reading to the end checks the digest (see
    /// [`BlobReader`]; [`BlobReader::finish`] checks a blob read only in part).
    ///
    /// # Errors
    /// When the blob is missing, unreadable, not a regular file, or of another size.
    pub(crate) fn open_blob(&self, digest: &Digest, size: u64) -> Result<BlobReader, LayoutError> {
        self.check_blob_dirs(digest)?;
        BlobReader::open(&self.blob_path(digest), digest, size)
            .map_err(|err| self.blob_error(digest, err.into()))
    }

    /// Reads and checks a whole JSON blob (a manifest, config or nested index) of `size` bytes, as its
    /// descriptor declares; sizes over [`MAX_JSON_SIZE`] are refused unread.
    ///
    /// # Errors
    /// When the blob is missing, unreadable, too big, or not what its descriptor says.
    pub(crate) fn read_blob(&self, digest: &Digest, size: u64) -> Result<Vec<u8>, LayoutError> {
        if size > MAX_JSON_SIZE {
            return Err(LayoutError::BadBlob {
                layout: self.shown.clone(),
                digest: digest.clone(),
                problem: BlobProblem::TooBig {
                    size,
                    max: MAX_JSON_SIZE,
                },
            });
        }
        let mut reader = self.open_blob(digest, size)?;
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        io::Read::read_to_end(&mut reader, &mut bytes).map_err(|e| self.blob_error(digest, e))?;
        reader.finish().map_err(|e| self.blob_error(digest, e))?;
        Ok(bytes)
    }

    /// The digest of `descriptor`, which must be sha256.
    ///
    /// # Errors
    /// [`LayoutError::UnsupportedDigest`] for other algorithms.
    pub(crate) fn digest_of(&self, descriptor: &Descriptor) -> Result<Digest, LayoutError> {
        descriptor
            .digest()
            .to_string()
            .parse()
            .map_err(|_| LayoutError::UnsupportedDigest {
                layout: self.shown.clone(),
                digest: descriptor.digest().to_string(),
            })
    }

    /// The error for a blob that failed to open or read: its problem when it has one, else the I/O error.
    pub(crate) fn blob_error(&self, digest: &Digest, err: io::Error) -> LayoutError {
        match blob::problem_of(&err) {
            Some(problem) => LayoutError::BadBlob {
                layout: self.shown.clone(),
                digest: digest.clone(),
                problem: problem.clone(),
            },
            None => LayoutError::ReadBlob {
                layout: self.shown.clone(),
                digest: digest.clone(),
                source: err,
            },
        }
    }

    /// Refuses `blobs` or `blobs/sha256` when it is a symlink: reading through it would leave the layout.
    fn check_blob_dirs(&self, digest: &Digest) -> Result<(), LayoutError> {
        for dir in [self.root.join("blobs"), self.blobs_dir()] {
            if let Ok(meta) = std::fs::symlink_metadata(&dir)
                && !meta.is_dir()
            {
                let problem = if meta.file_type().is_symlink() {
                    BlobProblem::Symlink
                } else {
                    BlobProblem::NotRegular(crate::toolbox::format::describe_file_type(
                        meta.file_type(),
                    ))
                };
                return Err(LayoutError::BadBlob {
                    layout: self.shown.clone(),
                    digest: digest.clone(),
                    problem,
                });
            }
        }
        Ok(())
    }

    /// Makes `digest` from `other` available in this layout: a hard link when both are on one file system,
    /// else a copy. Blobs are immutable, so sharing the inode is safe.
    ///
    /// # Errors
    /// When the blob is missing in `other` or cannot be linked or copied.
    pub(crate) fn import_blob(&self, other: &Layout, digest: &Digest) -> Result<(), LayoutError> {
        let dest = self.blob_path(digest);
        if is_regular(&dest) {
            return Ok(());
        }
        other.check_blob_dirs(digest)?;
        // Open first: a symlink or special file is refused, and a hard link to it is never made.
        let (mut src, _) = blob::open_regular(&other.blob_path(digest))
            .map_err(|err| other.blob_error(digest, err.into()))?;
        if std::fs::hard_link(other.blob_path(digest), &dest).is_ok() && is_regular(&dest) {
            return Ok(());
        }
        let temp = self.temp_blob()?;
        io::copy(&mut src, &mut temp.as_file()).map_err(|e| other.blob_error(digest, e))?;
        make_readable(temp.as_file()).map_err(LayoutError::WriteBlob)?;
        temp.persist(&dest)
            .map_err(|e| LayoutError::WriteBlob(e.error))?;
        Ok(())
    }

    /// Reads `index.json`: a regular file (not a symlink) of at most [`MAX_JSON_SIZE`] bytes.
    ///
    /// # Errors
    /// When it is missing, unreadable, a symlink or special file, too big, or not an image index.
    pub(crate) fn read_index(&self) -> Result<ImageIndex, LayoutError> {
        let path = self.shown.join("index.json");
        let bytes = blob::read_capped(&self.root.join("index.json"), MAX_JSON_SIZE).map_err(
            |err| match err {
                OpenError::Problem(problem) => LayoutError::BadIndex {
                    path: path.clone(),
                    problem,
                },
                OpenError::Io(source) => LayoutError::ReadIndex {
                    path: path.clone(),
                    source,
                },
            },
        )?;
        serde_json::from_slice(&bytes).map_err(|source| LayoutError::InvalidIndex { path, source })
    }

    /// The descriptor of the one image in the layout; of a multi-platform index, the image of the layout's
    /// platform (see [`Layout::for_platform`]), else of the host's.
    ///
    /// # Errors
    /// When the index is unreadable, lists no manifest, or none for the platform.
    pub(crate) fn image_descriptor(&self) -> Result<Descriptor, LayoutError> {
        select(self, &self.manifests()?, self.platform.as_ref())
    }

    /// Reads, checks and parses the manifest blob `digest` of `size` bytes.
    ///
    /// # Errors
    /// When it is missing, not what its descriptor says, or not a manifest.
    pub(crate) fn read_manifest(
        &self,
        digest: &Digest,
        size: u64,
    ) -> Result<ImageManifest, LayoutError> {
        let bytes = self.read_blob(digest, size)?;
        serde_json::from_slice(&bytes).map_err(|source| LayoutError::InvalidBlob {
            layout: self.shown.clone(),
            digest: digest.clone(),
            kind: "image manifest",
            source,
        })
    }

    /// Replaces `index.json` atomically with one entry pointing at `manifest`; in a layout for a platform (see
    /// [`Layout::for_platform`]) whose index lists several, only that platform's entry is replaced.
    ///
    /// # Errors
    /// On write errors.
    pub(crate) fn write_index(&self, manifest: &Descriptor) -> Result<(), LayoutError> {
        if let Some(platform) = &self.platform
            && let Ok(index) = self.read_index()
            && index.manifests().len() > 1
        {
            let mut manifests: Vec<Descriptor> = index
                .manifests()
                .iter()
                .filter(|d| !platform.matches(d))
                .cloned()
                .collect();
            manifests.push(manifest.clone());
            manifests.sort_by_key(Platform::of);
            return write_index_of(self, &manifests);
        }
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

/// Whether `path` is a regular file, not following a symlink.
fn is_regular(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
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
    let mut temp = crate::toolbox::scratch::file_in(dir, ".tmp-")?;
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

fn is_index(descriptor: &Descriptor) -> bool {
    matches!(descriptor.media_type(), MediaType::ImageIndex)
        || descriptor.media_type().to_string()
            == "application/vnd.docker.distribution.manifest.list.v2+json"
}

impl Layout {
    /// The image manifests the layout lists: those of `index.json`, or of the one nested index it points at.
    ///
    /// # Errors
    /// When `index.json` or a nested index is unreadable.
    pub(crate) fn manifests(&self) -> Result<Vec<Descriptor>, LayoutError> {
        let index = self.read_index()?;
        if let [one] = index.manifests().as_slice()
            && is_index(one)
        {
            let digest = self.digest_of(one)?;
            let bytes = self.read_blob(&digest, one.size())?;
            let nested: ImageIndex =
                serde_json::from_slice(&bytes).map_err(|source| LayoutError::InvalidBlob {
                    layout: self.shown().to_owned(),
                    digest,
                    kind: "image index",
                    source,
                })?;
            return Ok(nested.manifests().clone());
        }
        Ok(index.manifests().clone())
    }

    /// The platforms the layout has images for, in index order (none for an image that declares none).
    ///
    /// # Errors
    /// As [`Layout::manifests`].
    pub(crate) fn platforms(&self) -> Result<Vec<Platform>, LayoutError> {
        Ok(self.manifests()?.iter().filter_map(Platform::of).collect())
    }

    /// The layout for `platform` when one is given (see [`Layout::for_platform`]), else as it is.
    #[must_use]
    pub(crate) fn scoped(self, platform: Option<&Platform>) -> Self {
        match platform {
            Some(platform) => self.for_platform(platform.clone()),
            None => self,
        }
    }

    /// Whether the layout lists images for more than one platform.
    #[must_use]
    pub(crate) fn is_multi_platform(&self) -> bool {
        self.manifests().is_ok_and(|m| m.len() > 1)
    }
}

/// Picks the manifest for `wanted` (else the host's) out of `manifests`: the only one when there is one and
/// it declares no other platform.
pub(super) fn select(
    layout: &Layout,
    manifests: &[Descriptor],
    wanted: Option<&Platform>,
) -> Result<Descriptor, LayoutError> {
    let host = Platform::host();
    let platform = wanted.unwrap_or(&host);
    let not_found = |manifests: &[Descriptor]| LayoutError::NoImageForPlatform {
        layout: layout.shown().to_owned(),
        platform: platform.to_string(),
        available: manifests
            .iter()
            .map(|d| Platform::of(d).map_or_else(|| "unknown".to_owned(), |p| p.to_string()))
            .collect::<Vec<_>>()
            .join(", "),
    };
    match manifests {
        [] => Err(LayoutError::NotOneImage {
            path: layout.shown().join("index.json"),
            count: 0,
        }),
        [one] if wanted.is_none() || Platform::of(one).is_none() || platform.matches(one) => {
            Ok(one.clone())
        }
        many => many
            .iter()
            .find(|d| platform.matches(d))
            .cloned()
            .ok_or_else(|| not_found(many)),
    }
}

/// Replaces `index.json` of `layout` atomically with one listing `manifests`.
///
/// # Errors
/// On write errors.
pub(crate) fn write_index_of(layout: &Layout, manifests: &[Descriptor]) -> Result<(), LayoutError> {
    let path = layout.root().join("index.json");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let bytes = canonical_json(&index).map_err(|e| LayoutError::WriteIndex {
        path: path.clone(),
        source: e.into(),
    })?;
    write_atomic(&path, &bytes).map_err(|source| LayoutError::WriteIndex { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout_with_blob(dir: &Path, bytes: &[u8]) -> (Layout, Descriptor) {
        let layout = Layout::create(dir).unwrap();
        let desc = layout.write_blob(MediaType::ImageConfig, bytes).unwrap();
        (layout, desc)
    }

    #[test]
    fn a_symlinked_blob_is_neither_read_nor_linked() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, desc) = layout_with_blob(&tmp.path().join("src"), b"{}");
        let digest = src.digest_of(&desc).unwrap();
        std::fs::remove_file(src.blob_path(&digest)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", src.blob_path(&digest)).unwrap();
        assert!(!src.has_blob(&digest));
        let err = src.read_blob(&digest, desc.size()).unwrap_err();
        assert!(
            matches!(
                err,
                LayoutError::BadBlob {
                    problem: BlobProblem::Symlink,
                    ..
                }
            ),
            "{err}"
        );
        let target = Layout::create(tmp.path().join("dest")).unwrap();
        let err = target.import_blob(&src, &digest).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("is a symlink; rpack follows no symlinks in an image layout"),
            "{err}"
        );
        assert!(std::fs::symlink_metadata(target.blob_path(&digest)).is_err());
    }

    #[test]
    fn a_symlinked_blob_dir_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (layout, desc) = layout_with_blob(&tmp.path().join("img"), b"{}");
        let digest = layout.digest_of(&desc).unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::rename(layout.blobs_dir(), &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, layout.blobs_dir()).unwrap();
        let err = layout.read_blob(&digest, desc.size()).unwrap_err();
        assert!(err.to_string().contains("is a symlink"), "{err}");
    }

    #[test]
    fn json_blobs_over_the_cap_are_refused_unread() {
        let tmp = tempfile::tempdir().unwrap();
        let (layout, desc) = layout_with_blob(&tmp.path().join("img"), b"{}");
        let digest = layout.digest_of(&desc).unwrap();
        let err = layout.read_blob(&digest, MAX_JSON_SIZE + 1).unwrap_err();
        assert!(
            matches!(
                err,
                LayoutError::BadBlob {
                    problem: BlobProblem::TooBig { .. },
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn an_index_that_is_a_device_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::create(tmp.path().join("img")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", layout.root().join("index.json")).unwrap();
        let err = layout.read_index().unwrap_err();
        assert!(
            err.to_string()
                .ends_with("index.json is a symlink; rpack follows no symlinks in an image layout"),
            "{err}"
        );
    }
}
