//! Where commands may write their outputs. rpack writes a temp file next to the output and renames it over
//! the output, so whatever the output path names is replaced: a device node (`-o /dev/null` as root), a fifo,
//! a socket or a symlink (`/dev/stdout`) would be replaced for the whole machine. Outputs therefore go only
//! over a regular file (or a directory, for directory outputs) or to a new path.

use std::io;
use std::path::{Path, PathBuf};

/// What an output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutputKind {
    /// A file, written over only a regular file.
    File,
    /// A directory, written over only a directory.
    Dir,
}

/// Why an output path is refused.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Something other than a regular file (or directory) is at the path.
    #[error("refusing to write {path}: it is {what}, and rpack writes {expected}")]
    NotReplaceable {
        /// The output path.
        path: PathBuf,
        /// What is there (`a character device`, `a symlink` ...).
        what: &'static str,
        /// What rpack writes over.
        expected: &'static str,
    },
    /// The path could not be looked at.
    #[error("could not check the output path {path}")]
    Check {
        /// The output path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl OutputError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotReplaceable { .. } => Some(
                "give a new path, or the path of a file rpack wrote before (remove what is there if it is yours)"
                    .to_owned(),
            ),
            Self::Check { .. } => None,
        }
    }
}

/// Checks that an output of `kind` may be written at `path`: nothing is there, or a regular file (a directory
/// for [`OutputKind::Dir`]). Symlinks are refused, not followed: the rename would replace the link itself.
///
/// # Errors
/// [`OutputError::NotReplaceable`] when something else is there.
pub(crate) fn check(path: &Path, kind: OutputKind) -> Result<(), OutputError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(OutputError::Check {
                path: path.to_owned(),
                source,
            });
        }
    };
    let ok = match kind {
        OutputKind::File => meta.is_file(),
        OutputKind::Dir => meta.is_dir(),
    };
    if ok {
        return Ok(());
    }
    Err(OutputError::NotReplaceable {
        path: path.to_owned(),
        what: crate::toolbox::format::describe_file_type(meta.file_type()),
        expected: match kind {
            OutputKind::File => "files only over regular files or to new paths",
            OutputKind::Dir => "directories only over directories or to new paths",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_paths_and_regular_files_are_writable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.cnb");
        check(&file, OutputKind::File).unwrap();
        std::fs::write(&file, "old").unwrap();
        check(&file, OutputKind::File).unwrap();
        check(dir.path(), OutputKind::Dir).unwrap();
    }

    #[test]
    fn devices_symlinks_and_mismatched_kinds_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = check(Path::new("/dev/null"), OutputKind::File).unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing to write /dev/null: it is a character device, and rpack writes files only over regular files or to new paths"
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("target"), &link).unwrap();
        assert!(check(&link, OutputKind::File).is_err());
        assert!(check(&link, OutputKind::Dir).is_err());
        assert!(check(Path::new("/dev/null"), OutputKind::Dir).is_err());
        assert!(check(dir.path(), OutputKind::File).is_err());
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(check(&file, OutputKind::Dir).is_err());
    }
}
