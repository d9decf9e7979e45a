//! `<layers>/<layer>.toml`: a layer's types and metadata.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::TomlFileError;
use super::toml_file;

/// A `<layer>.toml`: `[types]` (only written inside that table) and the free-form `[metadata]`.
///
/// A file restored by the lifecycle holds only `[metadata]`.
///
/// ```
/// use libbuildpack::data::{LayerToml, LayerTypes};
/// let layer = LayerToml::<toml::Table> {
///     types: Some(LayerTypes { launch: true, build: false, cache: true }),
///     metadata: None,
/// };
/// assert_eq!(layer.to_toml_string()?, "[types]\nlaunch = true\nbuild = false\ncache = true\n");
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerToml<M = toml::Table> {
    /// `[types]`; `None` when the table is absent (all false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<LayerTypes>,
    /// `[metadata]`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<M>,
}

impl<M> Default for LayerToml<M> {
    fn default() -> Self {
        Self {
            types: None,
            metadata: None,
        }
    }
}

/// The `[types]` table of a `<layer>.toml`. Every flag defaults to false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerTypes {
    /// The layer goes into the app image.
    #[serde(default)]
    pub launch: bool,
    /// The layer is visible to later buildpacks during the build.
    #[serde(default)]
    pub build: bool,
    /// The layer is saved to the cache.
    #[serde(default)]
    pub cache: bool,
}

impl<M: DeserializeOwned> LayerToml<M> {
    /// Reads and parses a `<layer>.toml`.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when the file cannot be read, is not valid TOML, or a field is invalid.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TomlFileError> {
        toml_file::read(path.as_ref())
    }

    /// Parses the text of a `<layer>.toml`; `path` only names the file in errors.
    ///
    /// # Errors
    ///
    /// [`TomlFileError::Parse`] when the text is not valid TOML or a field is invalid.
    pub fn from_toml_str(text: &str, path: impl AsRef<Path>) -> Result<Self, TomlFileError> {
        toml_file::parse(text, path.as_ref())
    }
}

impl<M: Serialize> LayerToml<M> {
    /// Writes this value as the text of a `<layer>.toml`.
    ///
    /// # Errors
    ///
    /// [`TomlFileError::Serialize`] when the metadata cannot be represented in TOML.
    pub fn to_toml_string(&self) -> Result<String, TomlFileError> {
        toml_file::to_string(self, Path::new("layer.toml"))
    }

    /// Writes this value to `path`, atomically.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when serializing or writing fails.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), TomlFileError> {
        toml_file::write(self, path.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut metadata = toml::Table::new();
        metadata.insert("version".into(), "1.2.3".into());
        metadata.insert(
            "exec-env".into(),
            toml::Value::Array(vec!["production".into()]),
        );
        let layer = LayerToml {
            types: Some(LayerTypes {
                launch: true,
                build: true,
                cache: false,
            }),
            metadata: Some(metadata),
        };
        let text = layer.to_toml_string().unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(LayerToml::from_toml_str(&text, "x.toml").unwrap(), layer);
    }

    /// `{ a = { a = ... { leaf = 1 } } }`, `depth` tables deep, half of them in arrays.
    fn nested(depth: usize) -> toml::Table {
        let mut value = toml::Value::Integer(1);
        for level in 0..depth {
            let mut table = toml::Table::new();
            table.insert("a".into(), value);
            value = if level % 2 == 0 {
                toml::Value::Table(table)
            } else {
                toml::Value::Array(vec![toml::Value::Table(table)])
            };
        }
        let mut top = toml::Table::new();
        top.insert("deep".into(), value);
        top
    }

    #[test]
    fn what_is_written_reads_back_however_deep_the_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("layer.toml");
        let mut refused = 0;
        for depth in (0..=200).step_by(5) {
            let layer = LayerToml {
                types: None,
                metadata: Some(nested(depth)),
            };
            match layer.write(&path) {
                Ok(()) => assert_eq!(LayerToml::read(&path).unwrap(), layer, "depth {depth}"),
                Err(err) => {
                    assert!(
                        matches!(err, TomlFileError::Unreadable { .. }),
                        "depth {depth}: {err}"
                    );
                    assert!(
                        err.to_string().contains("nest metadata less deeply"),
                        "{err}"
                    );
                    refused += 1;
                }
            }
        }
        // Shallow metadata is written; metadata past the reader's limit is refused rather than written.
        assert!(
            LayerToml {
                types: None,
                metadata: Some(nested(20))
            }
            .to_toml_string()
            .is_ok()
        );
        assert!(refused > 0, "nothing was too deep to read back");
    }

    #[test]
    fn restored_file_has_only_metadata() {
        let layer: LayerToml =
            LayerToml::from_toml_str("[metadata]\nkey = \"v\"\n", "x.toml").unwrap();
        assert_eq!(layer.types, None);
        assert_eq!(layer.metadata.unwrap()["key"].as_str(), Some("v"));
    }
}
