//! Getting uv: pip installs the pinned version from the configured index (so private mirrors
//! work), and `--require-hashes` makes pip check the wheel's sha256 before installing it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;

mod pin;

pub use pin::{VERSION, WHEEL_SHA256};

/// What the uv layer holds.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct UvKey {
    /// uv's version.
    pub uv: String,
    /// The architecture: the wheel holds a native binary.
    pub arch: String,
}

/// Installing uv failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallUvError {
    /// No wheel hash is known for the target.
    #[error("uv {VERSION} is not available for {arch} in this buildpack (known: amd64, arm64)")]
    UnsupportedArch {
        /// The target architecture.
        arch: String,
    },
    /// The pinned requirement could not be written.
    #[error("could not write {}", path.display())]
    WriteRequirement {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// pip failed.
    #[error("could not install uv {VERSION} with pip")]
    Pip(#[source] CommandError),
}

impl InstallUvError {
    /// What the user can do (see `Buildpack::hint`).
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Pip(_) => Some(format!(
                "Check that the package index pip is configured with (PIP_INDEX_URL, pip.conf) serves uv {VERSION}, \
                 and that its wheel was not altered (pip checks its sha256)."
            )),
            _ => None,
        }
    }
}

/// The text of the hash-pinned requirement for `arch`.
///
/// # Errors
///
/// [`InstallUvError::UnsupportedArch`] when no hash is known for `arch`.
pub fn requirement(arch: &str) -> Result<String, InstallUvError> {
    let (_, sha) = WHEEL_SHA256
        .iter()
        .find(|(a, _)| *a == arch)
        .ok_or_else(|| InstallUvError::UnsupportedArch {
            arch: arch.to_string(),
        })?;
    let mut text = format!("uv=={VERSION}");
    let _ = writeln!(text, " --hash=sha256:{sha}");
    Ok(text)
}

/// Installs uv into `layer` (its binary lands at `<layer>/bin/uv`).
///
/// # Errors
///
/// [`InstallUvError`] when the target is unknown or pip fails (a hash mismatch included).
pub fn install<M>(ctx: &BuildContext<M>, layer: &Path) -> Result<PathBuf, InstallUvError> {
    let path = layer.join("requirements.txt");
    std::fs::write(&path, requirement(&ctx.target().arch)?).map_err(|source| {
        InstallUvError::WriteRequirement {
            path: path.clone(),
            source,
        }
    })?;
    ctx.run(
        Command::new("python3")
            .args(["-m", "pip", "install"])
            .args([
                "--no-input",
                "--disable-pip-version-check",
                "--no-cache-dir",
            ])
            .args([
                "--progress-bar=off",
                "--no-deps",
                "--only-binary=:all:",
                "--require-hashes",
            ])
            .arg("--target")
            .arg(layer)
            .arg("-r")
            .arg(&path)
            .env("PYTHONNOUSERSITE", "1"),
    )
    .map_err(InstallUvError::Pip)?;
    Ok(binary(layer))
}

/// Where uv's binary is in its layer.
#[must_use]
pub fn binary(layer: &Path) -> PathBuf {
    layer.join("bin/uv")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_pins_version_and_hash() {
        assert_eq!(
            requirement("amd64").unwrap(),
            "uv==0.9.5 --hash=sha256:6507bbbcd788553ec4ad5a96fa19364dc0f58b023e31d79868773559a83ec181\n"
        );
        assert!(matches!(
            requirement("s390x"),
            Err(InstallUvError::UnsupportedArch { .. })
        ));
    }
}
