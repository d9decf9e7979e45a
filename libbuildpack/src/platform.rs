//! What the platform gives a buildpack: user env files and the target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The user's environment from `<platform>/env/`: one file per variable, the file name is the
/// name and the contents (byte for byte) the value.
///
/// ```
/// use libbuildpack::PlatformEnv;
/// let env = PlatformEnv::from_iter([("BP_DEBUG", "1")]);
/// assert_eq!(env.get("BP_DEBUG"), Some("1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformEnv {
    vars: BTreeMap<String, String>,
}

impl PlatformEnv {
    /// Reads `<platform_dir>/env/`. A missing directory means no variables; subdirectories are
    /// skipped; a value that is not UTF-8 is converted lossily.
    ///
    /// # Errors
    ///
    /// [`PlatformError::ReadEnv`] when the directory or a file in it cannot be read.
    pub fn read(platform_dir: &Path) -> Result<Self, PlatformError> {
        let dir = platform_dir.join("env");
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PlatformError::ReadEnv { path, source }
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(err(&dir)(e)),
        };
        let mut vars = BTreeMap::new();
        for entry in entries {
            let entry = entry.map_err(err(&dir))?;
            let path = entry.path();
            if std::fs::metadata(&path).map_err(err(&path))?.is_dir() {
                continue;
            }
            let value = std::fs::read(&path).map_err(err(&path))?;
            vars.insert(
                entry.file_name().to_string_lossy().into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            );
        }
        Ok(Self { vars })
    }

    /// The value of `name`, if the user set it.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Whether the user set `name`.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// All variables, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for PlatformEnv {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Self {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// The platform the app is built for, from `CNB_TARGET_*`. Serializable, so it can be part of
/// a layer's cache key.
///
/// ```
/// use libbuildpack::Target;
/// let target = Target::new("linux", "amd64");
/// assert_eq!(target.to_string(), "linux/amd64");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Target {
    /// OCI os (`CNB_TARGET_OS`), e.g. `linux`.
    pub os: String,
    /// OCI architecture (`CNB_TARGET_ARCH`), e.g. `amd64`.
    pub arch: String,
    /// Architecture variant (`CNB_TARGET_ARCH_VARIANT`), e.g. `v8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch_variant: Option<String>,
    /// Distro name (`CNB_TARGET_DISTRO_NAME`), e.g. `debian`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro_name: Option<String>,
    /// Distro version (`CNB_TARGET_DISTRO_VERSION`), e.g. `12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro_version: Option<String>,
}

impl Target {
    /// A target with `os` and `arch` only.
    #[must_use]
    pub fn new(os: impl Into<String>, arch: impl Into<String>) -> Self {
        Self {
            os: os.into(),
            arch: arch.into(),
            arch_variant: None,
            distro_name: None,
            distro_version: None,
        }
    }

    /// The machine this process runs on: `linux` (or the host os) and its OCI architecture.
    /// Used when the lifecycle gives no `CNB_TARGET_*` (Buildpack API before 0.10).
    #[must_use]
    pub fn host() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Self::new(std::env::consts::OS, arch)
    }

    /// Reads `CNB_TARGET_*` through `var`, falling back to [`Target::host`] for os and arch.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let host = Self::host();
        let non_empty = |name: &str| var(name).filter(|v| !v.is_empty());
        Self {
            os: non_empty("CNB_TARGET_OS").unwrap_or(host.os),
            arch: non_empty("CNB_TARGET_ARCH").unwrap_or(host.arch),
            arch_variant: non_empty("CNB_TARGET_ARCH_VARIANT"),
            distro_name: non_empty("CNB_TARGET_DISTRO_NAME"),
            distro_version: non_empty("CNB_TARGET_DISTRO_VERSION"),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(variant) = &self.arch_variant {
            write!(f, "/{variant}")?;
        }
        if let Some(name) = &self.distro_name {
            write!(f, " ({name}")?;
            if let Some(version) = &self.distro_version {
                write!(f, " {version}")?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

/// Reading what the platform provides failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// `<platform>/env` or a file in it could not be read.
    #[error("could not read the platform env at {}", path.display())]
    ReadEnv {
        /// The directory or file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_env_files_byte_exact() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("env/sub")).unwrap();
        std::fs::write(dir.path().join("env/BP_X"), "1\n").unwrap();
        std::fs::write(dir.path().join("env/EMPTY"), "").unwrap();
        let env = PlatformEnv::read(dir.path()).unwrap();
        assert_eq!(env.get("BP_X"), Some("1\n"));
        assert_eq!(env.get("EMPTY"), Some(""));
        assert!(!env.contains("sub"));
        assert_eq!(
            PlatformEnv::read(&dir.path().join("missing")).unwrap(),
            PlatformEnv::default()
        );
    }

    #[test]
    fn target_from_vars() {
        let target = Target::from_vars(|name| match name {
            "CNB_TARGET_OS" => Some("linux".into()),
            "CNB_TARGET_ARCH" => Some("arm64".into()),
            "CNB_TARGET_ARCH_VARIANT" => Some(String::new()),
            "CNB_TARGET_DISTRO_NAME" => Some("debian".into()),
            "CNB_TARGET_DISTRO_VERSION" => Some("12".into()),
            _ => None,
        });
        assert_eq!(target.to_string(), "linux/arm64 (debian 12)");
        assert_eq!(target.arch_variant, None);
        assert_eq!(Target::from_vars(|_| None), Target::host());
    }
}
