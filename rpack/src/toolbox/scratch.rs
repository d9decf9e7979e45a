//! Temp files and dirs that an interrupted command removes. A build or packaging run can have gigabytes in
//! temp dirs of the store and temp blobs of layouts; Ctrl-C (SIGINT), SIGTERM or SIGHUP would leave them for
//! `rpack prune`, which keeps them for an hour in case their owner is still running.
//!
//! Every temp path made here is registered while it lives. [`install_handlers`] starts a thread that, on one
//! of those signals, removes every registered path and then ends the process as the signal would have.
//! Moving a temp path into place (a rename) runs under [`commit`], which the cleanup waits for: a rename
//! either completes, and its path is no longer temp, or never happens.
//!
//! SIGKILL cannot be caught; what it leaves is for `rpack prune`.

use std::io::{self, Write};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tempfile::{NamedTempFile, PersistError, TempDir};

/// The temp paths alive now, in creation order.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A registered temp path; dropping it unregisters the path (it does not remove it).
#[derive(Debug)]
pub(crate) struct Registration {
    path: PathBuf,
}

impl Registration {
    /// Registers `path` for removal when the process is interrupted, until the registration drops.
    #[must_use]
    pub(crate) fn new(path: &Path) -> Self {
        live().push(path.to_owned());
        Self {
            path: path.to_owned(),
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut live = live();
        if let Some(at) = live.iter().rposition(|p| *p == self.path) {
            live.remove(at);
        }
    }
}

/// Runs `rename`, which moves a temp path into place, so that an interruption cannot remove the temp path
/// while it is being moved: the cleanup waits until `rename` returns.
pub(crate) fn commit<T>(rename: impl FnOnce() -> T) -> T {
    let _held = live();
    rename()
}

/// A temp dir, removed on drop and when the process is interrupted.
#[derive(Debug)]
pub(crate) struct ScratchDir {
    // Dropped first: the dir is gone before the registration is.
    dir: TempDir,
    _registration: Registration,
}

impl Deref for ScratchDir {
    type Target = TempDir;

    fn deref(&self) -> &TempDir {
        &self.dir
    }
}

/// A temp file, removed on drop and when the process is interrupted, until [`ScratchFile::persist`] moves it
/// into place.
#[derive(Debug)]
pub(crate) struct ScratchFile {
    file: NamedTempFile,
    registration: Registration,
}

impl ScratchFile {
    /// Renames the file to `dest` (under [`commit`]).
    ///
    /// # Errors
    /// When the rename fails; the temp file is then removed.
    pub(crate) fn persist(self, dest: &Path) -> Result<std::fs::File, PersistError> {
        let Self { file, registration } = self;
        let persisted = commit(|| file.persist(dest));
        drop(registration);
        persisted
    }
}

impl Deref for ScratchFile {
    type Target = NamedTempFile;

    fn deref(&self) -> &NamedTempFile {
        &self.file
    }
}

impl DerefMut for ScratchFile {
    fn deref_mut(&mut self) -> &mut NamedTempFile {
        &mut self.file
    }
}

impl Write for ScratchFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A temp dir named `<prefix>…` in `parent`.
///
/// # Errors
/// When it cannot be created.
pub(crate) fn dir_in(parent: &Path, prefix: &str) -> io::Result<ScratchDir> {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
    let registration = Registration::new(dir.path());
    Ok(ScratchDir {
        dir,
        _registration: registration,
    })
}

/// A temp dir in the system's temp dir.
///
/// # Errors
/// When it cannot be created.
pub(crate) fn dir() -> io::Result<ScratchDir> {
    dir_in(&std::env::temp_dir(), ".tmp")
}

/// A temp file named `<prefix>…` in `parent`.
///
/// # Errors
/// When it cannot be created.
pub(crate) fn file_in(parent: &Path, prefix: &str) -> io::Result<ScratchFile> {
    let file = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(parent)?;
    let registration = Registration::new(file.path());
    Ok(ScratchFile { file, registration })
}

/// Removes every registered path, newest first. The command's other threads keep running meanwhile (a copy
/// into a temp dir, say): each path is first renamed aside, so what they write next fails instead of landing in
/// a dir that is being removed, and then removed.
fn remove_all(live: &[PathBuf]) {
    for path in live.iter().rev() {
        let mut aside = path.as_os_str().to_owned();
        aside.push(".removing");
        let aside = PathBuf::from(aside);
        let doomed = if std::fs::rename(path, &aside).is_ok() {
            aside
        } else {
            path.clone()
        };
        let _ = remove_path(&doomed);
    }
}

/// Removes `path`: a dir with all it holds, or a file or link (never followed).
///
/// # Errors
/// When `path` is missing or cannot be removed.
pub(crate) fn remove_path(path: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Starts the thread that, on SIGINT, SIGTERM or SIGHUP, removes every registered temp path and ends the
/// process as the signal would have. For the CLI; a library user decides about its own signals.
///
/// # Errors
/// When the handlers cannot be installed or the thread cannot start.
pub fn install_handlers() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("rpack-signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Held until the process ends: no rename into place starts after the cleanup.
                let live = live();
                remove_all(&live);
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_paths_are_removed_and_persisted_ones_are_kept() {
        let parent = tempfile::tempdir().unwrap();
        let dir = dir_in(parent.path(), "work-").unwrap();
        std::fs::write(dir.path().join("big"), "data").unwrap();
        let kept = file_in(parent.path(), ".tmp-").unwrap();
        let kept_path = parent.path().join("out");
        kept.persist(&kept_path).unwrap();
        let leftover = file_in(parent.path(), ".tmp-").unwrap();
        let paths: Vec<PathBuf> = live()
            .iter()
            .filter(|p| p.starts_with(parent.path()))
            .cloned()
            .collect();
        assert_eq!(
            paths,
            vec![dir.path().to_owned(), leftover.path().to_owned()]
        );
        remove_all(&paths);
        assert!(!dir.path().exists());
        assert!(!leftover.path().exists());
        assert!(kept_path.exists());
    }
}
