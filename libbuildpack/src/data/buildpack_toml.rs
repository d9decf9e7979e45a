//! `buildpack.toml`: the buildpack descriptor.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::api::BuildpackApi;
use super::error::TomlFileError;
use super::ids::{BuildpackId, BuildpackVersion};
use super::order_toml::{OrderGroup, is_false};
use super::toml_file;

/// A `buildpack.toml`, with its free-form `[metadata]` table read as `M`.
///
/// ```
/// use libbuildpack::data::BuildpackDescriptor;
/// let text = r#"
/// api = "0.10"
/// [buildpack]
/// id = "examples/hello"
/// version = "0.1.0"
/// [[targets]]
/// os = "linux"
/// arch = "amd64"
/// "#;
/// let bp: BuildpackDescriptor = BuildpackDescriptor::from_toml_str(text, "buildpack.toml")?;
/// assert_eq!(bp.buildpack.id.as_str(), "examples/hello");
/// assert!(!bp.is_composite());
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildpackDescriptor<M = toml::Table> {
    /// The Buildpack API the buildpack implements.
    pub api: BuildpackApi,
    /// The `[buildpack]` table.
    pub buildpack: BuildpackInfo,
    /// `[[targets]]`: the os/arch/distros the buildpack runs on. Empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Deprecated `[[stacks]]` (before Buildpack API 0.10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stacks: Vec<Stack>,
    /// `[[order]]`: the groups of a composite buildpack. Empty for a component buildpack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<OrderGroup>,
    /// The free-form `[metadata]` table, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<M>,
}

/// The `[buildpack]` table of `buildpack.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuildpackInfo {
    /// The buildpack's id.
    pub id: BuildpackId,
    /// The buildpack's version.
    pub version: BuildpackVersion,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A URL for the buildpack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// When true, user env from `<platform>/env` is not applied to detect and build.
    #[serde(default, skip_serializing_if = "is_false")]
    pub clear_env: bool,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// `[[buildpack.licenses]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<License>,
    /// The SBOM media types the buildpack may write.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sbom_formats: Vec<String>,
    /// The execution environments the buildpack supports (Buildpack API 0.12). Written as
    /// `exec-env = [..]`; read from that form or from `[[buildpack.exec-env]] name = ..`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "exec_env"
    )]
    pub exec_env: Vec<String>,
}

impl BuildpackInfo {
    /// A `[buildpack]` table with only `id` and `version` set.
    #[must_use]
    pub fn new(id: BuildpackId, version: BuildpackVersion) -> Self {
        Self {
            id,
            version,
            name: None,
            homepage: None,
            clear_env: false,
            description: None,
            keywords: Vec::new(),
            licenses: Vec::new(),
            sbom_formats: Vec::new(),
            exec_env: Vec::new(),
        }
    }
}

fn exec_env<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a string or a table with `name`")]
    enum Item {
        Name(String),
        Table { name: String },
    }
    let items = Vec::<Item>::deserialize(deserializer)?;
    Ok(items
        .into_iter()
        .map(|item| match item {
            Item::Name(name) | Item::Table { name } => name,
        })
        .collect())
}

/// One `[[buildpack.licenses]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// An SPDX expression.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A URL to a non-standard licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// One `[[targets]]` entry: OCI os/arch/variant and distros. An empty field matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// OCI os, e.g. `linux`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// OCI architecture, e.g. `amd64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// OCI architecture variant, e.g. `v8`. Written as `variant`; `arch-variant` (what the
    /// lifecycle reads) is accepted when reading.
    #[serde(
        default,
        alias = "arch-variant",
        skip_serializing_if = "Option::is_none"
    )]
    pub variant: Option<String>,
    /// `[[targets.distros]]`. Empty means any distro.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distros: Vec<Distro>,
}

impl Target {
    /// A target for `os` and `arch` with no variant and any distro.
    #[must_use]
    pub fn new(os: impl Into<String>, arch: impl Into<String>) -> Self {
        Self {
            os: Some(os.into()),
            arch: Some(arch.into()),
            variant: None,
            distros: Vec::new(),
        }
    }
}

/// One `[[targets.distros]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// The `/etc/os-release` `ID`, e.g. `debian`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The `/etc/os-release` `VERSION_ID`, e.g. `12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One deprecated `[[stacks]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stack {
    /// The stack id, or `*` for any.
    pub id: String,
    /// Required mixins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mixins: Vec<String>,
}

impl<M> BuildpackDescriptor<M> {
    /// Whether this is a composite buildpack (it has `[[order]]`).
    #[must_use]
    pub fn is_composite(&self) -> bool {
        !self.order.is_empty()
    }

    /// Checks the rules that span fields: `[[order]]` and `[[stacks]]` are not used together,
    /// and every `[[order.group]]` entry of a composite names a version.
    ///
    /// # Errors
    ///
    /// [`TomlFileError::Invalid`] naming `path` and the rule broken.
    pub fn validate(&self, path: &Path) -> Result<(), TomlFileError> {
        let invalid = |problem: String| TomlFileError::Invalid {
            path: path.to_path_buf(),
            problem,
        };
        if self.is_composite() && !self.stacks.is_empty() {
            return Err(invalid(
                "[[order]] and [[stacks]] cannot be used together; a composite buildpack has no stacks".into(),
            ));
        }
        for (g, group) in self.order.iter().enumerate() {
            for (e, entry) in group.group.iter().enumerate() {
                if entry.version.is_none() {
                    return Err(invalid(format!(
                        "order[{g}].group[{e}] ({}) has no version; a composite buildpack must name the exact version of each buildpack",
                        entry.id
                    )));
                }
            }
        }
        Ok(())
    }
}

impl<M: DeserializeOwned> BuildpackDescriptor<M> {
    /// Reads, parses and checks a `buildpack.toml`.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when the file cannot be read, is not valid TOML, a field has an
    /// invalid value, or [`validate`](Self::validate) fails.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TomlFileError> {
        let path = path.as_ref();
        let descriptor: Self = toml_file::read(path)?;
        descriptor.validate(path)?;
        Ok(descriptor)
    }

    /// Parses and checks the text of a `buildpack.toml`; `path` only names the file in errors.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when the text is not valid TOML, a field has an invalid value, or
    /// [`validate`](Self::validate) fails.
    pub fn from_toml_str(text: &str, path: impl AsRef<Path>) -> Result<Self, TomlFileError> {
        let path = path.as_ref();
        let descriptor: Self = toml_file::parse(text, path)?;
        descriptor.validate(path)?;
        Ok(descriptor)
    }
}

impl<M: Serialize> BuildpackDescriptor<M> {
    /// Writes this descriptor as the text of a `buildpack.toml`.
    ///
    /// # Errors
    ///
    /// [`TomlFileError::Serialize`] when the metadata cannot be represented in TOML.
    pub fn to_toml_string(&self) -> Result<String, TomlFileError> {
        toml_file::to_string(self, Path::new("buildpack.toml"))
    }

    /// Writes this descriptor to `path`, atomically.
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
    use crate::buildpack_id;
    use crate::data::{GroupEntry, NoMetadata};

    const FULL: &str = r#"
api = "0.12"

[buildpack]
id = "acme/pip"
version = "1.2.3"
name = "Pip"
homepage = "https://example.com"
clear-env = true
description = "Installs requirements"
keywords = ["python", "pip"]
sbom-formats = ["application/vnd.cyclonedx+json"]
exec-env = ["production", "test"]

[[buildpack.licenses]]
type = "Apache-2.0"

[[targets]]
os = "linux"
arch = "arm64"
arch-variant = "v8"

[[targets.distros]]
name = "debian"
version = "12"

[metadata]
python = "3.12"
"#;

    #[test]
    fn reads_every_field() {
        let bp: BuildpackDescriptor =
            BuildpackDescriptor::from_toml_str(FULL, "buildpack.toml").unwrap();
        assert_eq!(bp.api.to_string(), "0.12");
        assert!(bp.buildpack.clear_env);
        assert_eq!(bp.buildpack.exec_env, ["production", "test"]);
        assert_eq!(bp.targets[0].variant.as_deref(), Some("v8"));
        assert_eq!(bp.targets[0].distros[0].version.as_deref(), Some("12"));
        assert_eq!(bp.buildpack.licenses[0].kind.as_deref(), Some("Apache-2.0"));
        assert_eq!(
            bp.metadata.as_ref().unwrap()["python"].as_str(),
            Some("3.12")
        );
    }

    #[test]
    fn writes_variant_and_exec_env_array() {
        let bp: BuildpackDescriptor =
            BuildpackDescriptor::from_toml_str(FULL, "buildpack.toml").unwrap();
        let text = bp.to_toml_string().unwrap();
        insta::assert_snapshot!(text);
        let again: BuildpackDescriptor =
            BuildpackDescriptor::from_toml_str(&text, "buildpack.toml").unwrap();
        assert_eq!(again, bp);
    }

    #[test]
    fn reads_spec_exec_env_tables() {
        let text = "api = \"0.12\"\n[buildpack]\nid = \"a/b\"\nversion = \"0.1.0\"\n[[buildpack.exec-env]]\nname = \"production\"\n";
        let bp: BuildpackDescriptor<NoMetadata> =
            BuildpackDescriptor::from_toml_str(text, "buildpack.toml").unwrap();
        assert_eq!(bp.buildpack.exec_env, ["production"]);
    }

    #[test]
    fn composite_round_trip() {
        let mut bp = BuildpackDescriptor::<toml::Table> {
            api: BuildpackApi::V0_10,
            buildpack: BuildpackInfo::new(buildpack_id!("acme/python"), "0.1.0".parse().unwrap()),
            targets: Vec::new(),
            stacks: Vec::new(),
            order: vec![OrderGroup::new([
                GroupEntry::new(buildpack_id!("acme/cpython"), "3.0.0".parse().unwrap()),
                GroupEntry::new(buildpack_id!("acme/pip"), "1.0.0".parse().unwrap()).optional(),
            ])],
            metadata: None,
        };
        bp.buildpack.name = Some("Python".into());
        assert!(bp.is_composite());
        let text = bp.to_toml_string().unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(
            BuildpackDescriptor::from_toml_str(&text, "buildpack.toml").unwrap(),
            bp
        );
    }

    #[test]
    fn rejects_order_with_stacks_and_versionless_groups() {
        let text = "api = \"0.10\"\n[buildpack]\nid = \"a/b\"\nversion = \"0.1.0\"\n[[stacks]]\nid = \"*\"\n[[order]]\n[[order.group]]\nid = \"c/d\"\nversion = \"1.0.0\"\n";
        let err = BuildpackDescriptor::<NoMetadata>::from_toml_str(text, "bp/buildpack.toml")
            .unwrap_err();
        assert!(
            err.to_string().contains("[[order]] and [[stacks]]"),
            "{err}"
        );

        let text = "api = \"0.10\"\n[buildpack]\nid = \"a/b\"\nversion = \"0.1.0\"\n[[order]]\n[[order.group]]\nid = \"c/d\"\n";
        let err = BuildpackDescriptor::<NoMetadata>::from_toml_str(text, "bp/buildpack.toml")
            .unwrap_err();
        insta::assert_snapshot!(err.to_string());
    }

    #[test]
    fn errors_name_field_line_and_valid_form() {
        let text = "api = \"0.10\"\n[buildpack]\nid = \"a/b\"\nversion = \"1.02.0\"\n";
        let err = BuildpackDescriptor::<NoMetadata>::from_toml_str(text, "/bp/buildpack.toml")
            .unwrap_err();
        insta::assert_snapshot!(err.to_string());

        let text = "api = \"v0.10\"\n[buildpack]\nid = \"a/b\"\nversion = \"1.0.0\"\n";
        let err = BuildpackDescriptor::<NoMetadata>::from_toml_str(text, "/bp/buildpack.toml")
            .unwrap_err();
        insta::assert_snapshot!(err.to_string());

        let text = "api = \"0.10\"\n[buildpack]\nversion = \"1.0.0\"\n";
        let err = BuildpackDescriptor::<NoMetadata>::from_toml_str(text, "/bp/buildpack.toml")
            .unwrap_err();
        insta::assert_snapshot!(err.to_string());

        let text = "api = \"0.10\"\n[buildpack\n";
        let err = BuildpackDescriptor::<NoMetadata>::from_toml_str(text, "/bp/buildpack.toml")
            .unwrap_err();
        insta::assert_snapshot!(err.to_string());
    }

    #[test]
    fn typed_metadata() {
        #[derive(Debug, PartialEq, Deserialize, Serialize)]
        struct Meta {
            python: String,
        }
        let bp: BuildpackDescriptor<Meta> =
            BuildpackDescriptor::from_toml_str(FULL, "buildpack.toml").unwrap();
        assert_eq!(bp.metadata.unwrap().python, "3.12");
    }

    #[test]
    fn read_missing_file_names_path() {
        let err =
            BuildpackDescriptor::<NoMetadata>::read("/nonexistent/buildpack.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not read /nonexistent/buildpack.toml"
        );
        // The cause follows on its own line, not repeated in the message.
        assert!(std::error::Error::source(&err).is_some());
    }
}
