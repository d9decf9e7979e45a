//! Copying a file tree: directories made, files copied with their modes, symlinks kept as links (never
//! followed), fifos, sockets and devices skipped. A filter chooses what goes: a directory it refuses is not
//! entered.
//!
//! ```
//! use libbuildpack::toolbox::copy::{copy_tree, TreeCopy};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (src, dest) = (tempfile::tempdir()?, tempfile::tempdir()?);
//! std::fs::create_dir(src.path().join(".git"))?;
//! std::fs::write(src.path().join(".git/HEAD"), "ref\n")?;
//! std::fs::write(src.path().join("app.py"), "print(1)\n")?;
//! TreeCopy::new()
//!     .filter(|path, _| path.file_name().is_none_or(|n| n != ".git"))
//!     .run(src.path(), &dest.path().join("app"))?;
//! assert!(dest.path().join("app/app.py").is_file());
//! assert!(!dest.path().join("app/.git").exists());
//! copy_tree(src.path(), &dest.path().join("all"))?;
//! assert!(dest.path().join("all/.git/HEAD").is_file());
//! # Ok(()) }
//! ```

use std::fs::{self, Metadata};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// A tree could not be copied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// A file or directory of the source could not be read.
    #[error("could not read {}", path.display())]
    Read {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A directory, link or file of the copy could not be made.
    #[error("could not write {}", path.display())]
    Write {
        /// What could not be made.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl From<CopyError> for std::io::Error {
    fn from(err: CopyError) -> Self {
        let (CopyError::Read { source, .. } | CopyError::Write { source, .. }) = &err;
        std::io::Error::new(source.kind(), err)
    }
}

type Filter<'f> = Box<dyn Fn(&Path, &Metadata) -> bool + 'f>;

/// How to copy a tree (see the [module docs](self)). The default copies everything as it is.
#[derive(Default)]
#[must_use]
pub struct TreeCopy<'f> {
    filter: Option<Filter<'f>>,
    file_mode: Option<u32>,
    hard_links: bool,
}

impl std::fmt::Debug for TreeCopy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeCopy")
            .field("filter", &self.filter.is_some())
            .field("file_mode", &self.file_mode)
            .field("hard_links", &self.hard_links)
            .finish()
    }
}

/// Copies the tree (or single file or symlink) `src` to `dest`, everything as it is.
///
/// # Errors
/// [`CopyError`] naming the entry that could not be read or written.
pub fn copy_tree(src: &Path, dest: &Path) -> Result<(), CopyError> {
    TreeCopy::new().run(src, dest)
}

impl<'f> TreeCopy<'f> {
    /// A copy of everything, as it is.
    pub fn new() -> Self {
        Self::default()
    }

    /// Copies only the entries for which `keep(path in src, metadata)` is true (the root always goes).
    pub fn filter(mut self, keep: impl Fn(&Path, &Metadata) -> bool + 'f) -> Self {
        self.filter = Some(Box::new(keep));
        self
    }

    /// Gives every copied regular file these permission bits (e.g. `0o644` to copy out of a read-only tree).
    pub fn file_mode(mut self, mode: u32) -> Self {
        self.file_mode = Some(mode);
        self
    }

    /// Hard-links files instead of copying them where the file system allows (a copy where it does not).
    pub fn hard_links(mut self, link: bool) -> Self {
        self.hard_links = link;
        self
    }

    /// Copies `src` (a directory, file or symlink) to `dest`; the parent of `dest` is made if missing.
    ///
    /// # Errors
    /// [`CopyError`] naming the entry that could not be read or written.
    pub fn run(&self, src: &Path, dest: &Path) -> Result<(), CopyError> {
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(write(parent))?;
        }
        let meta = fs::symlink_metadata(src).map_err(read(src))?;
        self.entry(src, &meta, dest)
    }

    fn entry(&self, src: &Path, meta: &Metadata, dest: &Path) -> Result<(), CopyError> {
        let kind = meta.file_type();
        if kind.is_dir() {
            // Not `create_dir_all`: when the copy's root is removed under it (an interrupted command's
            // cleanup), making a child fails instead of making the root again.
            match fs::create_dir(dest) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(write(dest)(e));
                }
                _ => {}
            }
            self.children(src, dest)
        } else if kind.is_symlink() {
            let target = fs::read_link(src).map_err(read(src))?;
            std::os::unix::fs::symlink(target, dest).map_err(write(dest))
        } else if kind.is_file() {
            self.file(src, dest)
        } else {
            Ok(())
        }
    }

    fn children(&self, src: &Path, dest: &Path) -> Result<(), CopyError> {
        for entry in fs::read_dir(src).map_err(read(src))? {
            let entry = entry.map_err(read(src))?;
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).map_err(read(&path))?;
            if self.filter.as_ref().is_none_or(|keep| keep(&path, &meta)) {
                self.entry(&path, &meta, &dest.join(entry.file_name()))?;
            }
        }
        Ok(())
    }

    fn file(&self, src: &Path, dest: &Path) -> Result<(), CopyError> {
        if self.hard_links && self.file_mode.is_none() && fs::hard_link(src, dest).is_ok() {
            return Ok(());
        }
        fs::copy(src, dest).map_err(read(src))?;
        if let Some(mode) = self.file_mode {
            fs::set_permissions(dest, fs::Permissions::from_mode(mode)).map_err(write(dest))?;
        }
        Ok(())
    }
}

fn read(path: &Path) -> impl FnOnce(std::io::Error) -> CopyError + '_ {
    move |source| CopyError::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn write(path: &Path) -> impl FnOnce(std::io::Error) -> CopyError + '_ {
    move |source| CopyError::Write {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_links_and_modes_and_skips_what_the_filter_refuses() {
        let (src, dest) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let src = src.path();
        fs::create_dir_all(src.join("bin")).unwrap();
        fs::write(src.join("bin/run"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(src.join("bin/run"), fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("bin/run", src.join("run")).unwrap();
        fs::create_dir_all(src.join("skip/deep")).unwrap();
        fs::write(src.join("skip/deep/x"), "x").unwrap();
        let to = dest.path().join("out");
        TreeCopy::new()
            .filter(|path, _| path.file_name().is_none_or(|n| n != "skip"))
            .run(src, &to)
            .unwrap();
        let mode = fs::metadata(to.join("bin/run"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(fs::read_link(to.join("run")).unwrap(), Path::new("bin/run"));
        assert!(!to.join("skip").exists());
    }

    #[test]
    fn file_mode_makes_read_only_files_writable() {
        let (src, dest) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fs::write(src.path().join("go.mod"), "module x\n").unwrap();
        fs::set_permissions(src.path().join("go.mod"), fs::Permissions::from_mode(0o444)).unwrap();
        TreeCopy::new()
            .file_mode(0o644)
            .run(src.path(), dest.path())
            .unwrap();
        let mode = fs::metadata(dest.path().join("go.mod"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn a_missing_source_names_it() {
        let dest = tempfile::tempdir().unwrap();
        let err = copy_tree(Path::new("/nonexistent/src"), &dest.path().join("x")).unwrap_err();
        assert_eq!(err.to_string(), "could not read /nonexistent/src");
    }
}
