//! `<layers>/store.toml`: data a buildpack keeps from one build to the next.

use serde::{Deserialize, Serialize};

use super::toml_file::toml_file_impl;

/// A `store.toml`: one free-form `[metadata]` table. The lifecycle keeps it in the app image's
/// `io.buildpacks.lifecycle.metadata` label and restores it before the next build.
///
/// ```
/// use libbuildpack::data::StoreToml;
/// let mut metadata = toml::Table::new();
/// metadata.insert("runs".into(), 2.into());
/// let store = StoreToml { metadata };
/// assert_eq!(store.to_toml_string()?, "[metadata]\nruns = 2\n");
/// assert_eq!(StoreToml::from_toml_str("[metadata]\nruns = 2\n", "store.toml")?, store);
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreToml {
    /// The `[metadata]` table.
    #[serde(default)]
    pub metadata: toml::Table,
}

toml_file_impl!(StoreToml, "store.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_toml_is_a_single_metadata_table() {
        let store = StoreToml::from_toml_str("", "store.toml").unwrap();
        assert!(store.metadata.is_empty());
        let err = StoreToml::from_toml_str("[metadata]\nx = \n", "store.toml").unwrap_err();
        assert!(err.to_string().contains("store.toml"), "{err}");
    }
}
