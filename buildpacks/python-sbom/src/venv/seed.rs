//! The copy of the last venv in the build cache volume, updated in place by the next install.
//!
//! The venv is a launch-only layer: while it is unchanged the lifecycle reuses the previous image's
//! layer without restoring or archiving a byte of it. When the dependencies change, the layer's files
//! are not here; a fresh venv would download every package again (pip's index sends no cache headers).
//! This copy is where the next install happens instead, so only what changed is installed. Next to it:
//! its key (what it was made for) and the listing of the files of the venv's base layer.
//!
//! The copy is a speed-up, never trusted blindly: it is used only when its key is the build's, and its
//! key is removed before an install touches it and written back only after the install succeeded, so an
//! interrupted or failed build leaves no copy that claims to match.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Making or updating the copy failed.
#[derive(Debug, thiserror::Error)]
#[error("{action} in the build cache volume failed: {why}")]
pub struct SeedError {
    action: String,
    why: String,
}

impl SeedError {
    fn io(action: &str) -> impl FnOnce(std::io::Error) -> Self {
        let action = action.to_owned();
        move |e| Self {
            action,
            why: e.to_string(),
        }
    }
}

/// The copy of the venv in a buildpack's dir of the build cache volume.
#[derive(Debug, Clone)]
pub struct Seed {
    dir: PathBuf,
    key_file: PathBuf,
    base_files: PathBuf,
}

impl Seed {
    /// The copy in `volume` (the buildpack's dir in the build cache volume).
    #[must_use]
    pub fn in_volume(volume: &Path) -> Self {
        Self {
            dir: volume.join("venv"),
            key_file: volume.join("venv.key.toml"),
            base_files: volume.join("venv.base-files"),
        }
    }

    /// The venv's directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the listing of the base layer's files is kept.
    #[must_use]
    pub fn base_files(&self) -> &Path {
        &self.base_files
    }

    /// Whether the copy was made for `key`.
    #[must_use]
    pub fn matches<K: DeserializeOwned + PartialEq>(&self, key: &K) -> bool {
        let Ok(text) = std::fs::read_to_string(&self.key_file) else {
            return false;
        };
        toml::from_str::<K>(&text).is_ok_and(|found| &found == key) && self.dir.is_dir()
    }

    /// Removes the key before an install changes the copy.
    ///
    /// # Errors
    ///
    /// When the key file exists and cannot be removed.
    pub fn invalidate(&self) -> Result<(), SeedError> {
        match std::fs::remove_file(&self.key_file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(SeedError::io("removing the venv copy's key")(e))
            }
            _ => Ok(()),
        }
    }

    /// Empties the copy, for a venv made from scratch.
    ///
    /// # Errors
    ///
    /// When the old copy cannot be removed or the dir created.
    pub fn clear(&self) -> Result<(), SeedError> {
        self.invalidate()?;
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(SeedError::io("removing the old venv copy")(e));
            }
            _ => {}
        }
        std::fs::create_dir_all(&self.dir).map_err(SeedError::io("creating the venv copy's dir"))
    }

    /// Records that the copy now holds a venv made for `key`.
    ///
    /// # Errors
    ///
    /// When the key cannot be written.
    pub fn commit<K: Serialize>(&self, key: &K) -> Result<(), SeedError> {
        let text = toml::to_string(key).map_err(|e| SeedError {
            action: "writing the venv copy's key".to_owned(),
            why: e.to_string(),
        })?;
        let tmp = self.key_file.with_extension("toml.new");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.key_file))
            .map_err(SeedError::io("writing the venv copy's key"))
    }

    /// Copies the venv at `layer` into the (empty) copy.
    ///
    /// # Errors
    ///
    /// When `cp` cannot start or fails.
    pub fn copy_from(&self, layer: &Path) -> Result<(), SeedError> {
        copy_tree(layer, &self.dir)
    }

    /// `cp -a <copy>/. <layer>`: files, links, modes and times as they are (a venv's `bin/python` is a link
    /// to the stack's Python).
    ///
    /// # Errors
    ///
    /// When `cp` cannot start or fails.
    pub fn copy_to(&self, layer: &Path) -> Result<(), SeedError> {
        copy_tree(&self.dir, layer)
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
        Err(SeedError {
            action: format!("copying {} to {}", from.display(), to.display()),
            why: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Key {
        python: String,
    }

    #[test]
    fn a_copy_matches_only_its_committed_key_until_invalidated() {
        let volume = tempfile::tempdir().unwrap();
        let seed = Seed::in_volume(volume.path());
        let key = Key {
            python: "3.11.2".into(),
        };
        assert!(!seed.matches(&key));
        seed.clear().unwrap();
        std::fs::write(seed.dir().join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        assert!(!seed.matches(&key), "no key written yet");
        seed.commit(&key).unwrap();
        assert!(seed.matches(&key));
        assert!(!seed.matches(&Key {
            python: "3.12.0".into()
        }));
        seed.invalidate().unwrap();
        assert!(!seed.matches(&key));

        let layer = tempfile::tempdir().unwrap();
        seed.copy_to(layer.path()).unwrap();
        assert!(layer.path().join("pyvenv.cfg").is_file());
        seed.clear().unwrap();
        assert_eq!(std::fs::read_dir(seed.dir()).unwrap().count(), 0);
    }
}
