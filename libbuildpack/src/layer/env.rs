//! Env files in a layer: `env/`, `env.build/`, `env.launch/`, `env.launch/<process>/`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::{Layer, LayerError};
use crate::data::EnvAction;

/// Writes env files into one env directory of a layer. Made by [`Layer::env`],
/// [`Layer::build_env`], [`Layer::launch_env`] and [`Layer::process_env`].
///
/// Files are written byte for byte, with no trailing newline. Every method returns `&Self`
/// so calls can be chained with `?`.
///
/// For a launch-only layer reused from the previous image (no files here) writes are skipped:
/// the image's layer already has its env files, and writing any file would replace it.
///
/// ```no_run
/// # use libbuildpack::prelude::*;
/// # fn f(layer: &Layer) -> Result<(), LayerError> {
/// layer.env().prepend_path("PATH", layer.path().join("bin"))?;
/// layer.launch_env().set("HELLO_GREETING", "hello")?.set_default("PORT", "8080")?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LayerEnv<'a> {
    layer: &'a Layer,
    dir: PathBuf,
}

impl<'a> LayerEnv<'a> {
    pub(super) fn new(layer: &'a Layer, relative: PathBuf) -> Self {
        Self {
            dir: layer.path.join(relative),
            layer,
        }
    }

    /// The directory the files go to.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `<name>.<action>` with `value`.
    ///
    /// # Errors
    ///
    /// [`LayerError::InvalidEnvName`] for a name that cannot be a file name,
    /// [`LayerError::WriteEnvFile`] when the file cannot be written.
    pub fn modify(
        &self,
        name: &str,
        action: EnvAction,
        value: impl AsRef<OsStr>,
    ) -> Result<&Self, LayerError> {
        self.write(name, action.suffix(), value.as_ref())
    }

    /// Overrides `name` with `value` (`<name>.override`).
    ///
    /// # Errors
    ///
    /// See [`modify`](Self::modify).
    pub fn set(&self, name: &str, value: impl AsRef<OsStr>) -> Result<&Self, LayerError> {
        self.modify(name, EnvAction::Override, value)
    }

    /// Sets `name` only when it is unset or empty (`<name>.default`).
    ///
    /// # Errors
    ///
    /// See [`modify`](Self::modify).
    pub fn set_default(&self, name: &str, value: impl AsRef<OsStr>) -> Result<&Self, LayerError> {
        self.modify(name, EnvAction::Default, value)
    }

    /// Appends `value` to `name`, joined by `delim` (`<name>.append` and `<name>.delim`).
    ///
    /// # Errors
    ///
    /// See [`modify`](Self::modify).
    pub fn append(
        &self,
        name: &str,
        value: impl AsRef<OsStr>,
        delim: &str,
    ) -> Result<&Self, LayerError> {
        self.modify(name, EnvAction::Append, value)?
            .delimiter(name, delim)
    }

    /// Prepends `value` to `name`, joined by `delim` (`<name>.prepend` and `<name>.delim`).
    ///
    /// # Errors
    ///
    /// See [`modify`](Self::modify).
    pub fn prepend(
        &self,
        name: &str,
        value: impl AsRef<OsStr>,
        delim: &str,
    ) -> Result<&Self, LayerError> {
        self.modify(name, EnvAction::Prepend, value)?
            .delimiter(name, delim)
    }

    /// Prepends a path to a path list such as `PATH`, joined by the OS path separator.
    ///
    /// # Errors
    ///
    /// See [`modify`](Self::modify).
    pub fn prepend_path(&self, name: &str, path: impl AsRef<Path>) -> Result<&Self, LayerError> {
        self.prepend(name, path.as_ref(), PATH_SEPARATOR)
    }

    /// Appends a path to a path list such as `PATH`, joined by the OS path separator.
    ///
    /// # Errors
    ///
    /// See [`modify`](Self::modify).
    pub fn append_path(&self, name: &str, path: impl AsRef<Path>) -> Result<&Self, LayerError> {
        self.append(name, path.as_ref(), PATH_SEPARATOR)
    }

    /// Writes the delimiter used by `.append`/`.prepend` of `name` in this directory
    /// (`<name>.delim`).
    ///
    /// # Errors
    ///
    /// See [`modify`](Self::modify).
    pub fn delimiter(&self, name: &str, delim: &str) -> Result<&Self, LayerError> {
        self.write(name, "delim", OsStr::new(delim))
    }

    fn write(&self, name: &str, suffix: &str, value: &OsStr) -> Result<&Self, LayerError> {
        if name.is_empty() || name.contains(['.', '/', '=', '\0']) {
            return Err(LayerError::InvalidEnvName {
                name: name.to_string(),
            });
        }
        if !self.layer.has_contents() {
            return Ok(self);
        }
        let path = self.dir.join(format!("{name}.{suffix}"));
        let err = |source| LayerError::WriteEnvFile {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(err)?;
        std::fs::write(&path, os_bytes(value)).map_err(err)?;
        Ok(self)
    }
}

#[cfg(unix)]
const PATH_SEPARATOR: &str = ":";
#[cfg(not(unix))]
const PATH_SEPARATOR: &str = ";";

#[cfg(unix)]
fn os_bytes(value: &OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    value.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(value: &OsStr) -> Vec<u8> {
    value.to_string_lossy().into_owned().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::super::LayerState;
    use super::*;
    use crate::data::{LayerName, LayerTypes};

    fn layer(dir: &Path) -> Layer {
        Layer {
            name: LayerName::new("l").unwrap(),
            path: dir.join("l"),
            types: LayerTypes::default(),
            state: LayerState::Created,
            previous: None,
        }
    }

    fn read(path: PathBuf) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn writes_files_byte_exact() {
        let dir = tempfile::tempdir().unwrap();
        let layer = layer(dir.path());
        layer
            .env()
            .set("A", "1")
            .unwrap()
            .set_default("B", "two words")
            .unwrap();
        layer.env().prepend_path("PATH", "/l/bin").unwrap();
        layer.build_env().append("FLAGS", "-O2", " ").unwrap();
        layer.launch_env().set("HELLO_GREETING", "hello").unwrap();
        layer
            .process_env(&crate::process_type!("web"))
            .modify("PORT", EnvAction::Default, "8080")
            .unwrap();
        let l = dir.path().join("l");
        assert_eq!(read(l.join("env/A.override")), "1");
        assert_eq!(read(l.join("env/B.default")), "two words");
        assert_eq!(read(l.join("env/PATH.prepend")), "/l/bin");
        assert_eq!(read(l.join("env/PATH.delim")), ":");
        assert_eq!(read(l.join("env.build/FLAGS.append")), "-O2");
        assert_eq!(read(l.join("env.build/FLAGS.delim")), " ");
        assert_eq!(read(l.join("env.launch/HELLO_GREETING.override")), "hello");
        assert_eq!(read(l.join("env.launch/web/PORT.default")), "8080");
    }

    #[test]
    fn rejects_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        let layer = layer(dir.path());
        for bad in ["", "A.B", "A/B", "A=B"] {
            assert!(
                matches!(
                    layer.env().set(bad, "x"),
                    Err(LayerError::InvalidEnvName { .. })
                ),
                "{bad}"
            );
        }
    }
}
