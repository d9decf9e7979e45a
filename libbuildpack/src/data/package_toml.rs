//! pack's `package.toml`: what goes into a buildpackage (`.cnb`), mainly the dependencies of a composite
//! buildpack.

use serde::{Deserialize, Serialize};

use super::buildpack_toml::Target;
use super::toml_file::toml_file_impl;

/// A `package.toml`. Like pack, unknown keys are refused.
///
/// ```
/// use libbuildpack::data::PackageToml;
/// let text = r#"
/// [buildpack]
/// uri = "."
/// [[dependencies]]
/// uri = "../pip"
/// [[dependencies]]
/// uri = "cargo:uv"
/// "#;
/// let package = PackageToml::from_toml_str(text, "package.toml")?;
/// assert_eq!(package.buildpack_uri(), ".");
/// assert_eq!(package.dependencies[1].uri.as_deref(), Some("cargo:uv"));
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageToml {
    /// `[buildpack]`: where the packaged buildpack is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildpack: Option<PackageModule>,
    /// `[extension]`: an image extension instead of a buildpack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<PackageModule>,
    /// `[[dependencies]]`: the buildpacks a composite buildpack's order refers to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<PackageDependency>,
    /// Deprecated `[platform]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<PackagePlatform>,
    /// `[[targets]]`: the platforms to package for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
}

toml_file_impl!(PackageToml, "package.toml");

/// `[buildpack]` or `[extension]` of `package.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageModule {
    /// A dir, archive or `cargo:` crate; relative to `package.toml`. Defaults to `.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// One `[[dependencies]]` entry: a `uri` (dir, `.cnb` file, `cargo:` crate) or an `image`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageDependency {
    /// A path or URL of the dependency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// An image reference of a buildpackage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// The deprecated `[platform]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagePlatform {
    /// The OS, `linux` when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
}

impl PackageToml {
    /// `[buildpack] uri`, or `.` when not given.
    #[must_use]
    pub fn buildpack_uri(&self) -> &str {
        self.buildpack
            .as_ref()
            .and_then(|b| b.uri.as_deref())
            .unwrap_or(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_targets_and_defaults() {
        let text = "[[targets]]\nos = \"linux\"\narch = \"amd64\"\n";
        let package = PackageToml::from_toml_str(text, "package.toml").unwrap();
        assert_eq!(package.buildpack_uri(), ".");
        assert_eq!(package.targets[0].arch.as_deref(), Some("amd64"));
    }

    #[test]
    fn unknown_keys_name_file_line_and_field() {
        let text = "[buildpack]\nuri = \".\"\n\n[[dependencies]]\nurl = \"x\"\n";
        let err = PackageToml::from_toml_str(text, "/bp/package.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/bp/package.toml:5"), "{err}");
        assert!(err.contains("dependencies"), "{err}");
        assert!(err.contains("url"), "{err}");
    }
}
