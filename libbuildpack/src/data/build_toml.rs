//! `<layers>/build.toml`: plan entries a buildpack did not meet.

use serde::{Deserialize, Serialize};

use super::toml_file::toml_file_impl;

/// A buildpack's `build.toml`. Plan entries not listed in `unmet` count as met.
///
/// ```
/// use libbuildpack::data::{BuildToml, Unmet};
/// let build = BuildToml { unmet: vec![Unmet { name: "pip".into() }] };
/// assert_eq!(build.to_toml_string()?, "[[unmet]]\nname = \"pip\"\n");
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildToml {
    /// `[[unmet]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmet: Vec<Unmet>,
}

toml_file_impl!(BuildToml, "build.toml");

/// One `[[unmet]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmet {
    /// The name of a plan entry.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let build = BuildToml {
            unmet: vec![Unmet { name: "a".into() }, Unmet { name: "b".into() }],
        };
        let text = build.to_toml_string().unwrap();
        assert_eq!(
            BuildToml::from_toml_str(&text, "build.toml").unwrap(),
            build
        );
    }
}
