//! A copy of the last venv in the build cache volume, to update in place when the requirements change.
//!
//! The venv is a launch-only layer: while the requirements are unchanged the lifecycle reuses the previous
//! image's layer without restoring or archiving a byte of it, so a rebuild costs the same for a 30 MB venv as
//! for a 3 GB one. When they change, the layer starts empty; a fresh venv would download every package again
//! (the index sends no cache headers, so pip's HTTP cache does not help). Where the platform mounts a build
//! cache volume, this copy seeds the new layer instead, so pip only installs what changed.
//!
//! The copy is a speed-up, never trusted blindly: it is used only when its key (Python, target, venv layout)
//! is the build's, and the requirements record inside it says what it holds.

use std::path::{Path, PathBuf};
use std::process::Command;

use libbuildpack::prelude::*;

/// What a copy must match to seed the venv: the venv key without the requirements.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct SeedKey {
    /// `sys.version` of the stack's python3.
    pub python: String,
    /// Where the venv runs.
    pub target: Target,
    /// The venv layout version.
    pub layout: String,
}

/// The copy of the venv in the build cache volume.
#[derive(Debug)]
pub struct Seed {
    dir: PathBuf,
    key_file: PathBuf,
}

/// Copying the seed failed.
#[derive(Debug, thiserror::Error)]
#[error("{action} failed: {why}")]
pub struct SeedError {
    action: String,
    why: String,
}

impl Seed {
    /// The seed in `volume` (this buildpack's dir in the build cache volume).
    #[must_use]
    pub fn in_volume(volume: &Path) -> Self {
        Self {
            dir: volume.join("venv"),
            key_file: volume.join("venv.key.toml"),
        }
    }

    /// Whether the copy was made for `key`.
    #[must_use]
    pub fn matches(&self, key: &SeedKey) -> bool {
        let Ok(text) = std::fs::read_to_string(&self.key_file) else {
            return false;
        };
        toml::from_str::<SeedKey>(&text).is_ok_and(|found| &found == key) && self.dir.is_dir()
    }

    /// Copies the seed's files into the empty layer dir `venv`.
    ///
    /// # Errors
    ///
    /// When the copy fails (the caller then starts a fresh venv).
    pub fn copy_into(&self, venv: &Path) -> Result<(), SeedError> {
        copy_tree(&self.dir, venv)
    }

    /// Replaces the seed with a copy of `venv`, made for `key`. The key file is removed first and written
    /// last, so an interrupted update leaves no seed that claims to match.
    ///
    /// # Errors
    ///
    /// When a copy, removal or write fails.
    pub fn update_from(&self, venv: &Path, key: &SeedKey) -> Result<(), SeedError> {
        let fail = |action: &str| {
            let action = action.to_owned();
            move |e: std::io::Error| SeedError {
                action,
                why: e.to_string(),
            }
        };
        remove_if_present(&self.key_file).map_err(fail("removing the seed's key"))?;
        let staging = self.dir.with_extension("new");
        remove_dir_if_present(&staging).map_err(fail("clearing the seed's staging dir"))?;
        std::fs::create_dir_all(&staging).map_err(fail("creating the seed's staging dir"))?;
        copy_tree(venv, &staging)?;
        remove_dir_if_present(&self.dir).map_err(fail("removing the old seed"))?;
        std::fs::rename(&staging, &self.dir).map_err(fail("moving the seed into place"))?;
        let text = toml::to_string(key).map_err(|e| SeedError {
            action: "writing the seed's key".to_owned(),
            why: e.to_string(),
        })?;
        std::fs::write(&self.key_file, text).map_err(fail("writing the seed's key"))
    }
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn remove_dir_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `cp -a from/. to`: files, links, modes and times as they are (a venv's `bin/python` is a link to the
/// stack's Python, and its `.pyc` files must keep matching their sources).
fn copy_tree(from: &Path, to: &Path) -> Result<(), SeedError> {
    let output = Command::new("cp")
        .arg("-a")
        .arg(from.join("."))
        .arg(to)
        .output()
        .map_err(|e| SeedError {
            action: "starting cp".to_owned(),
            why: e.to_string(),
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(SeedError {
            action: format!("copying {} to {}", from.display(), to.display()),
            why: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}
