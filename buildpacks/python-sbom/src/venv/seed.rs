//! The copy of the last venv in the build cache volume, updated in place by the next install.
//!
//! The venv is a launch-only layer: while it is unchanged the lifecycle reuses the previous image's
//! layer without restoring or archiving a byte of it. When the dependencies change, the layer's files
//! are not here; a fresh venv would download every package again (pip's index sends no cache headers).
//! This copy is where the next install happens instead, so only what changed is installed. Next to it:
//! its key (what it was made for) and the listing of the files of the venv's base layer.
//!
//! The copy is a speed-up, never trusted blindly: it is a [`KeptDir`], used only when its key is
//! compatible with the build's; the SDK removes its key record before the install touches it, and
//! [`Seed::commit`] writes it back only after the install succeeded, so an interrupted or failed build
//! leaves no copy that claims to match.

use std::path::{Path, PathBuf};
use std::process::Command;

use libbuildpack::layer::{KeptDir, KeptDirError};

/// Making or updating the copy failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A copy in or out of the volume failed.
    #[error("{action} in the build cache volume failed: {why}")]
    Copy {
        /// What was being done.
        action: String,
        /// Why it failed (`cp`'s message).
        why: String,
    },
    /// The copy's dir or its key record could not be made.
    #[error(transparent)]
    Kept(#[from] KeptDirError),
}

impl SeedError {
    fn io(action: &str) -> impl FnOnce(std::io::Error) -> Self {
        let action = action.to_owned();
        move |e| Self::Copy {
            action,
            why: e.to_string(),
        }
    }
}

/// The copy of the venv in a buildpack's dir of the build cache volume: a [`KeptDir`] (its key is
/// recorded by the SDK) with the listing of the base layer's files next to it.
#[derive(Debug, Clone)]
pub struct Seed {
    kept: KeptDir,
    base_files: PathBuf,
}

impl Seed {
    /// The copy kept in `kept`.
    #[must_use]
    pub fn new(kept: KeptDir) -> Self {
        let base_files = kept.path().with_extension("base-files");
        Self { kept, base_files }
    }

    /// The venv's directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.kept.path()
    }

    /// The kept dir: its state and the key it was made for.
    #[must_use]
    pub fn kept(&self) -> &KeptDir {
        &self.kept
    }

    /// Where the listing of the base layer's files is kept.
    #[must_use]
    pub fn base_files(&self) -> &Path {
        &self.base_files
    }

    /// Records that the copy now holds a venv made for its key.
    ///
    /// # Errors
    ///
    /// When the key cannot be written.
    pub fn commit(&self) -> Result<(), SeedError> {
        Ok(self.kept.commit()?)
    }

    /// Copies the venv at `layer` into the (empty) copy.
    ///
    /// # Errors
    ///
    /// When `cp` cannot start or fails.
    pub fn copy_from(&self, layer: &Path) -> Result<(), SeedError> {
        copy_tree(layer, self.dir())
    }

    /// `cp -a <copy>/. <layer>`: files, links, modes and times as they are (a venv's `bin/python` is a link
    /// to the stack's Python).
    ///
    /// # Errors
    ///
    /// When `cp` cannot start or fails.
    pub fn copy_to(&self, layer: &Path) -> Result<(), SeedError> {
        copy_tree(self.dir(), layer)
    }
}

/// `cp -a <from>/. <to>`.
fn copy_tree(from: &Path, to: &Path) -> Result<(), SeedError> {
    let output = Command::new("cp")
        .arg("-a")
        .arg(from.join("."))
        .arg(to)
        .output()
        .map_err(SeedError::io("starting cp"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(SeedError::Copy {
            action: format!("copying {} to {}", from.display(), to.display()),
            why: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_a_tree_both_ways_and_names_what_failed() {
        let from = tempfile::tempdir().unwrap();
        std::fs::write(from.path().join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let to = tempfile::tempdir().unwrap();
        copy_tree(from.path(), to.path()).unwrap();
        assert!(to.path().join("pyvenv.cfg").is_file());
        let err = copy_tree(&from.path().join("missing"), to.path()).unwrap_err();
        assert!(err.to_string().starts_with("copying "), "{err}");
    }
}
