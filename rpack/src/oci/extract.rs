//! How rpack reads archives it did not write (`.cnb` files, OCI archives, image layers): libbuildpack's
//! extractor (`libbuildpack::archive`) with image-root semantics and rpack's caps, and the check that a path
//! rpack then opens in the extracted tree does not lead out of it.

use std::io;
use std::path::{Path, PathBuf};

pub(crate) use libbuildpack::archive::{AbsolutePaths, ArchiveError, entry_path};
use libbuildpack::archive::{Cap, Extract};

/// The env var that overrides how many bytes one archive may expand to.
pub(crate) const MAX_BYTES_VAR: &str = "RPACK_MAX_ARCHIVE_BYTES";
/// The env var that overrides how many entries one archive may hold.
pub(crate) const MAX_ENTRIES_VAR: &str = "RPACK_MAX_ARCHIVE_ENTRIES";

/// What an archive holds, which sets its default caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A `.cnb` file and its layers: buildpacks, so 4 GiB.
    Buildpackage,
    /// An image's SBOM layer: JSON files, so 1 GiB.
    SbomLayer,
    /// An OCI archive of any image (`rpack image import`), large base images and apps included: 64 GiB.
    OciArchive,
}

impl Kind {
    /// The default cap on bytes.
    #[must_use]
    pub(crate) fn max_bytes(self) -> u64 {
        match self {
            Self::Buildpackage => 4 << 30,
            Self::SbomLayer => 1 << 30,
            Self::OciArchive => 64 << 30,
        }
    }
}

/// An extractor into `dest` (the image root: absolute names and link targets are read relative to it) with
/// the caps of `kind`, or those of [`MAX_BYTES_VAR`] and [`MAX_ENTRIES_VAR`] when set to a number.
pub(crate) fn extractor(dest: &Path, kind: Kind) -> Extract {
    let from_env = |var: &str| std::env::var(var).ok().and_then(|v| v.trim().parse().ok());
    Extract::new(dest)
        .absolute_paths(AbsolutePaths::RootRelative)
        .max_bytes(from_env(MAX_BYTES_VAR).unwrap_or(kind.max_bytes()))
        .max_entries(from_env(MAX_ENTRIES_VAR).unwrap_or(Extract::DEFAULT_MAX_ENTRIES))
        .how_to_raise(
            Cap::Bytes,
            format!("if you trust the archive, set {MAX_BYTES_VAR} to a larger number of bytes"),
        )
        .how_to_raise(
            Cap::Entries,
            format!("if you trust the archive, set {MAX_ENTRIES_VAR} to a larger number"),
        )
}

/// A path in an extracted tree leads out of it, or could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// Following the symlinks on the way leaves the tree.
    #[error("{} leads out of the extracted archive through a symlink", path.display())]
    Outside {
        /// The path as rpack meant to open it.
        path: PathBuf,
    },
    /// The path cannot be resolved.
    #[error("could not read {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// `path` with every symlink on the way resolved, when that stays inside `root` (the extracted tree).
/// Opening what it returns cannot reach the host, whatever links the archive held.
///
/// # Errors
/// [`TreeError::Outside`] when the resolved path is not below `root`; [`TreeError::Io`] when `path` does not
/// exist or cannot be read.
pub(crate) fn inside(root: &Path, path: &Path) -> Result<PathBuf, TreeError> {
    let canonical = |p: &Path| {
        // std's error, not fs_err's: TreeError::Io names the path once.
        std::fs::canonicalize(p).map_err(|source| TreeError::Io {
            path: p.to_owned(),
            source,
        })
    };
    let root = canonical(root)?;
    let resolved = canonical(path)?;
    if resolved.starts_with(&root) {
        Ok(resolved)
    } else {
        Err(TreeError::Outside {
            path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_through_a_link_out_of_the_tree_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let host = dir.path().join("host");
        fs_err::create_dir_all(root.join("cnb")).unwrap();
        fs_err::create_dir_all(host.join("1.0")).unwrap();
        std::os::unix::fs::symlink(&host, root.join("cnb/bp")).unwrap();
        std::os::unix::fs::symlink("../../host/1.0", root.join("cnb/rel")).unwrap();
        for link in ["cnb/bp/1.0", "cnb/rel"] {
            let err = inside(&root, &root.join(link)).unwrap_err();
            assert!(matches!(err, TreeError::Outside { .. }), "{link}: {err}");
            assert!(err.to_string().contains(link), "{err}");
        }
    }

    #[test]
    fn a_path_through_a_link_inside_the_tree_resolves_to_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs_err::create_dir_all(root.join("real")).unwrap();
        std::os::unix::fs::symlink("real", root.join("alias")).unwrap();
        assert_eq!(
            inside(&root, &root.join("alias")).unwrap(),
            fs_err::canonicalize(root.join("real")).unwrap()
        );
    }
}
