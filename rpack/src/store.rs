//! rpack's home: the image store (an OCI layout repository laid out by the lifecycle's path convention),
//! build caches, stacks and installed lifecycles, all under `RPACK_HOME`.

use std::path::{Path, PathBuf};

pub mod images;
pub(crate) mod made_for;
pub mod platforms;
pub mod registry;
pub(crate) mod trash;

use crate::oci::Layout;
use crate::oci::reference::ImageRef;

crate::toolbox::folder_error::folder_error! {
    /// What failed in the store folder: the store itself, its images, or a registry. The facade
    /// ([`crate::Error`]) takes it with `#[from]`.
    pub enum Error {
        /// Opening or locking the store.
        Store(from StoreError),
        /// Taking care of the store's images.
        Images(from images::ImagesError) hint,
        /// Pushing to or pulling from a registry.
        Registry(from registry::RegistryError) hint,
        /// Reading or writing an image.
        Image(from crate::oci::ImageError),
        /// Reading or writing a layout.
        Layout(from crate::oci::LayoutError),
        /// An output path rpack may not write over.
        Output(from crate::toolbox::output::OutputError) hint,
    }
}

/// Where the store's image layouts (the layout repository) are mounted in the lifecycle's containers
/// (`CNB_LAYOUT_DIR`); the lifecycle records run images by paths under it.
pub(crate) const LAYOUT_MOUNT: &str = "/layout-repo";

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
    pub(crate) fn images_dir(&self) -> PathBuf {
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
    pub(crate) fn stacks_dir(&self) -> PathBuf {
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
    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.home.join("tmp")
    }

    /// A new scratch dir in [`Store::tmp_dir`], named `<prefix><random>.scratch`, removed when dropped. It is locked
    /// for as long as it lives, so that a command killed before it could remove it (SIGKILL, a power cut)
    /// leaves an unlocked dir, which the next command that makes a scratch dir (or `rpack prune`) removes
    /// first: see [`Store::sweep_tmp`].
    ///
    /// # Errors
    /// When the dir cannot be created or locked.
    pub(crate) fn scratch_dir(&self, prefix: &str) -> Result<ScratchDir, StoreError> {
        let tmp = self.tmp_dir();
        let create = |source| StoreError::Create {
            path: tmp.clone(),
            source,
        };
        fs_err::create_dir_all(&tmp).map_err(create)?;
        self.sweep_tmp();
        // Creating and locking happen under the shared tmp lock, so a sweeper (which takes it exclusively) never
        // sees the new dir before it is locked.
        let _creating = self.tmp_lock(false)?;
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(SCRATCH_SUFFIX)
            .tempdir_in(&tmp)
            .map_err(create)?;
        let lock = std::fs::File::open(dir.path()).map_err(|source| StoreError::Lock {
            path: dir.path().to_owned(),
            source,
        })?;
        lock.lock().map_err(|source| StoreError::Lock {
            path: dir.path().to_owned(),
            source,
        })?;
        // Also removed at once when the command is interrupted (SIGINT, SIGTERM, SIGHUP; see `scratch`).
        let registration = crate::toolbox::scratch::Registration::new(dir.path());
        Ok(ScratchDir {
            dir,
            _lock: lock,
            _registration: registration,
        })
    }

    /// Removes what interrupted commands left in [`Store::tmp_dir`]: every scratch dir that no live command
    /// holds (see [`Store::scratch_dir`]). Returns how many were removed and the bytes freed. Best effort: a
    /// dir that cannot be removed now is tried again by the next sweep. Other entries (made by rpack versions
    /// before scratch dirs were locked) are left to `rpack prune`, which removes them when they are old.
    pub(crate) fn sweep_tmp(&self) -> (usize, u64) {
        let mut removed = (0, 0);
        let Ok(_sweeping) = self.tmp_lock(true) else {
            return removed;
        };
        let Ok(entries) = fs_err::read_dir(self.tmp_dir()) else {
            return removed;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if !entry
                .file_name()
                .to_string_lossy()
                .ends_with(SCRATCH_SUFFIX)
            {
                continue;
            }
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            if file.try_lock().is_err() {
                continue; // a live command holds it
            }
            let bytes = disk_usage(&path);
            if crate::toolbox::scratch::remove_path(&path).is_ok() {
                removed.0 += 1;
                removed.1 += bytes;
            }
        }
        removed
    }

    /// Moves `path` (under the store) out of the way at once and removes it in the background (see
    /// [`trash`]).
    pub(crate) fn dispose(&self, path: &Path) -> std::io::Result<()> {
        trash::dispose(&self.home, path)
    }

    /// Removes what is left in the store's trash now (see [`trash`]): entries and bytes.
    pub(crate) fn sweep_trash(&self) -> (usize, u64) {
        trash::sweep(&self.home)
    }

    /// The lock that orders making scratch dirs (shared) against sweeping them (exclusive).
    fn tmp_lock(&self, exclusive: bool) -> Result<StoreLock, StoreError> {
        let path = self.home.join("locks").join("tmp.lock");
        let lock_err = |source| StoreError::Lock {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir).map_err(lock_err)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(lock_err)?;
        if exclusive {
            file.lock().map_err(lock_err)?;
        } else {
            file.lock_shared().map_err(lock_err)?;
        }
        Ok(StoreLock { _file: file })
    }
}

/// How scratch dirs' names end: only those are swept while young, as only those are locked while in use.
pub(crate) const SCRATCH_SUFFIX: &str = ".scratch";

/// A locked scratch dir in the store (see [`Store::scratch_dir`]); removed on drop.
#[derive(Debug)]
pub(crate) struct ScratchDir {
    // Dropped in this order: the dir is removed before its lock and registration go.
    dir: tempfile::TempDir,
    _lock: std::fs::File,
    _registration: crate::toolbox::scratch::Registration,
}

impl ScratchDir {
    /// Its path.
    #[must_use]
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Removes the dir off the critical path (see [`trash`]): it leaves the tmp dir at once and a background
    /// process deletes it.
    pub(crate) fn dispose(self, store: &Store) {
        let Self {
            dir,
            _lock,
            _registration,
        } = self;
        let path = dir.keep();
        let moved = crate::toolbox::scratch::commit(|| trash::dispose(&store.home, &path));
        if moved.is_err() {
            let _ = fs_err::remove_dir_all(&path);
        }
    }
}

/// The bytes of the files under `path` (links not followed).
pub(crate) fn disk_usage(path: &Path) -> u64 {
    let Ok(meta) = fs_err::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        fs_err::read_dir(path).map_or(0, |entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| disk_usage(&e.path()))
                .sum()
        })
    } else {
        meta.len()
    }
}

/// Undoes what a [`replace_dir`] killed between its two renames left: `dest` missing and the dir it replaced at
/// `<dest>.old-<pid>`, which is put back. Call it holding the lock of what `dest` holds, so no replace is under
/// way. Returns whether it put one back.
///
/// # Errors
/// When the rename fails.
pub(crate) fn restore_replaced(dest: &Path) -> std::io::Result<bool> {
    if dest.exists() {
        return Ok(false);
    }
    let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
        return Ok(false);
    };
    let prefix = format!("{}.old-", name.to_string_lossy());
    let Ok(entries) = fs_err::read_dir(parent) else {
        return Ok(false);
    };
    let old = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
    match old {
        Some(old) => fs_err::rename(old.path(), dest).map(|()| true),
        None => Ok(false),
    }
}

/// Puts the finished dir `src` at `dest`, replacing what was there. The old dir is moved aside first, so `dest`
/// is missing only between two renames, and never half-written. The renames run under
/// [`crate::toolbox::scratch::commit`], so an interruption removes `src` either before they start or not at all; the old
/// dir is registered as temp while it is removed.
///
/// # Errors
/// On rename or removal errors.
pub(crate) fn replace_dir(src: &Path, dest: &Path) -> std::io::Result<()> {
    if let Some(parent) = dest.parent() {
        fs_err::create_dir_all(parent)?;
    }
    if std::fs::symlink_metadata(dest).is_ok() {
        let mut old = dest.as_os_str().to_owned();
        old.push(format!(".old-{}", std::process::id()));
        let old = PathBuf::from(old);
        let _removing = crate::toolbox::scratch::Registration::new(&old);
        crate::toolbox::scratch::commit(|| -> std::io::Result<()> {
            fs_err::rename(dest, &old)?;
            fs_err::rename(src, dest)
        })?;
        fs_err::remove_dir_all(&old)?;
    } else {
        crate::toolbox::scratch::commit(|| fs_err::rename(src, dest))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_removes_scratch_dirs_no_command_holds_and_nothing_else() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::at(home.path()).unwrap();
        let held = store.scratch_dir("build-").unwrap();
        fs_err::write(held.path().join("file"), "in use").unwrap();
        // What a command killed before it could clean up leaves: a scratch dir nobody holds.
        let abandoned = store.tmp_dir().join("build-killed.scratch");
        fs_err::create_dir_all(abandoned.join("layers")).unwrap();
        fs_err::write(abandoned.join("layers/big"), [0u8; 1000]).unwrap();
        // An entry of an rpack from before scratch dirs were locked: maybe in use, left to prune's age rule.
        let legacy = store.tmp_dir().join("build-AbCdEf");
        fs_err::create_dir_all(&legacy).unwrap();

        assert_eq!(store.sweep_tmp(), (1, 1000));
        assert!(held.path().join("file").is_file());
        assert!(!abandoned.exists());
        assert!(legacy.exists());

        // A new scratch dir sweeps too, and one dropped is gone.
        let path = held.path().to_owned();
        drop(held);
        assert!(!path.exists());
        fs_err::create_dir_all(&abandoned).unwrap();
        let next = store.scratch_dir("push-").unwrap();
        assert!(!abandoned.exists());
        assert!(
            next.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .ends_with(SCRATCH_SUFFIX)
        );
    }
}
