//! rpack's home: the image store (an OCI layout repository laid out by the lifecycle's path convention),
//! build caches, stacks and installed lifecycles, all under `RPACK_HOME`.

use std::path::{Path, PathBuf};

use crate::oci::Layout;
use crate::reference::ImageRef;

/// The directories rpack keeps its state in.
#[derive(Clone, Debug)]
pub struct Store {
    home: PathBuf,
}

/// A held store lock; dropping it releases the lock.
#[derive(Debug)]
pub struct StoreLock {
    _file: std::fs::File,
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No `RPACK_HOME` and no home directory to default to.
    #[error("cannot find a place for rpack's store: set RPACK_HOME (or HOME)")]
    NoHome,
    /// A lock could not be taken.
    #[error("could not lock {path}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A store dir could not be created.
    #[error("could not create {path}")]
    Create {
        /// The dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Store {
    /// The store at `RPACK_HOME`, else `$XDG_DATA_HOME/rpack`, else `~/.local/share/rpack`.
    ///
    /// # Errors
    /// When none of those can be determined or the dir cannot be created.
    pub fn from_env() -> Result<Self, StoreError> {
        let home = if let Some(home) = std::env::var_os("RPACK_HOME").filter(|v| !v.is_empty()) {
            PathBuf::from(home)
        } else if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            PathBuf::from(data).join("rpack")
        } else {
            PathBuf::from(std::env::var_os("HOME").ok_or(StoreError::NoHome)?)
                .join(".local/share/rpack")
        };
        Self::at(home)
    }

    /// The store at `home`.
    ///
    /// # Errors
    /// When the dir cannot be created.
    pub fn at(home: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let home = home.into();
        let home = std::path::absolute(&home).unwrap_or(home);
        fs_err::create_dir_all(&home).map_err(|source| StoreError::Create {
            path: home.clone(),
            source,
        })?;
        Ok(Self { home })
    }

    /// `RPACK_HOME`.
    #[must_use]
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The layout repository: the lifecycle's `CNB_LAYOUT_DIR` during builds.
    #[must_use]
    pub fn images_dir(&self) -> PathBuf {
        self.home.join("images")
    }

    /// The layout dir of one image.
    #[must_use]
    pub fn image_layout(&self, image: &ImageRef) -> Layout {
        Layout::open(self.images_dir().join(image.layout_path()))
    }

    /// Where installed lifecycles live.
    #[must_use]
    pub fn lifecycles_dir(&self) -> PathBuf {
        self.home.join("lifecycle")
    }

    /// Where stack recipes record what they built.
    #[must_use]
    pub fn stacks_dir(&self) -> PathBuf {
        self.home.join("stacks")
    }

    /// The lifecycle cache dir (`-cache-dir`) of one app image.
    #[must_use]
    pub fn build_cache_dir(&self, image: &ImageRef) -> PathBuf {
        self.home.join("cache").join(image.layout_path())
    }

    /// The build cache volume of one app image: mounted into its builds and named to buildpacks through
    /// `LIBBUILDPACK_CACHE_VOLUME`, never part of the image (see `libbuildpack::data::CACHE_VOLUME_ENV`).
    #[must_use]
    pub fn cache_volume_dir(&self, image: &ImageRef) -> PathBuf {
        self.home.join("volumes").join(image.layout_path())
    }

    /// Takes the store-wide lock called `name` (an image ref, a stack recipe ...), waiting for whoever holds
    /// it: one build per image, one writer per builder or stack at a time, across processes. Released on drop.
    ///
    /// # Errors
    /// When the lock file cannot be created or locked.
    pub fn lock(&self, name: &str) -> Result<StoreLock, StoreError> {
        let dir = self.home.join("locks");
        fs_err::create_dir_all(&dir).map_err(|source| StoreError::Create {
            path: dir.clone(),
            source,
        })?;
        let file_name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{file_name}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Lock {
                path: path.clone(),
                source,
            })?;
        file.lock()
            .map_err(|source| StoreError::Lock { path, source })?;
        Ok(StoreLock { _file: file })
    }

    /// Scratch space for builds; kept inside the store so renames stay on one file system.
    #[must_use]
    pub fn tmp_dir(&self) -> PathBuf {
        self.home.join("tmp")
    }
}

/// Puts the finished dir `src` at `dest`, replacing what was there. The old dir is moved aside first, so `dest`
/// is missing only between two renames, and never half-written. The renames run under
/// [`crate::scratch::commit`], so an interruption removes `src` either before they start or not at all; the old
/// dir is registered as temp while it is removed.
///
/// # Errors
/// On rename or removal errors.
pub fn replace_dir(src: &Path, dest: &Path) -> std::io::Result<()> {
    if let Some(parent) = dest.parent() {
        fs_err::create_dir_all(parent)?;
    }
    if std::fs::symlink_metadata(dest).is_ok() {
        let mut old = dest.as_os_str().to_owned();
        old.push(format!(".old-{}", std::process::id()));
        let old = PathBuf::from(old);
        let _removing = crate::scratch::Registration::new(&old);
        crate::scratch::commit(|| -> std::io::Result<()> {
            fs_err::rename(dest, &old)?;
            fs_err::rename(src, dest)
        })?;
        fs_err::remove_dir_all(&old)?;
    } else {
        crate::scratch::commit(|| fs_err::rename(src, dest))?;
    }
    Ok(())
}
