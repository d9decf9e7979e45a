//! `project.toml` (project descriptor schema 0.2, as pack reads it): the builder, which files of the app to
//! include, build env, and a buildpack group that may hold inline buildpacks (`[io.buildpacks.group.script]`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::TomlFileError;
use super::toml_file::toml_file_impl;

/// A `project.toml`.
///
/// ```
/// use libbuildpack::data::ProjectToml;
/// let text = r#"
/// [_]
/// schema-version = "0.2"
/// [io.buildpacks]
/// builder = "localhost/my-builder"
/// exclude = ["*.log"]
/// [[io.buildpacks.group]]
/// id = "example/uv"
/// [io.buildpacks.group.script]
/// api = "0.10"
/// inline = "pip install uv && uv sync"
/// [[io.buildpacks.build.env]]
/// name = "BP_X"
/// value = "1"
/// "#;
/// let project = ProjectToml::from_toml_str(text, "project.toml")?;
/// let io = project.io_buildpacks.unwrap_or_default();
/// assert_eq!(io.builder.as_deref(), Some("localhost/my-builder"));
/// assert_eq!(io.group[0].script.as_ref().map(|s| s.shell()), Some("/bin/sh"));
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectToml {
    /// `[_]`: the project's own metadata.
    #[serde(default, rename = "_", skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectInfo>,
    /// `[io.buildpacks]`.
    #[serde(
        default,
        rename = "io",
        skip_serializing_if = "Option::is_none",
        with = "io_table"
    )]
    pub io_buildpacks: Option<IoBuildpacks>,
}

toml_file_impl!(ProjectToml, "project.toml");

/// `[_]` of project.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProjectInfo {
    /// `schema-version`: `0.2` is what this type models (missing means 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// The project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The project name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The project version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `[io.buildpacks]` of project.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoBuildpacks {
    /// The builder image to build with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
    /// Files of the app to include (gitignore patterns); exclusive with `exclude`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Files of the app to leave out (gitignore patterns); exclusive with `include`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// `[[io.buildpacks.group]]`: the buildpacks to use instead of the builder's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<ProjectBuildpack>,
    /// `[io.buildpacks.build]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<ProjectBuild>,
}

/// One `[[io.buildpacks.group]]` entry: a buildpack by id (from the builder), by uri, or inline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectBuildpack {
    /// The buildpack id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The version, for a buildpack from the builder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where the buildpack is (a dir, relative to project.toml).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// An inline buildpack's build script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<InlineScript>,
}

/// `[io.buildpacks.group.script]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineScript {
    /// The Buildpack API the script is written for (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// The script: the body of `bin/build`.
    pub inline: String,
    /// The interpreter (`/bin/sh` when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
}

impl InlineScript {
    /// The interpreter, `/bin/sh` when not given.
    #[must_use]
    pub fn shell(&self) -> &str {
        self.shell.as_deref().unwrap_or("/bin/sh")
    }
}

/// `[io.buildpacks.build]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectBuild {
    /// `[[io.buildpacks.build.env]]`: user env for the buildpacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<ProjectEnv>,
}

/// One build env var.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectEnv {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
}

impl ProjectToml {
    /// Checks the rules pack applies: include and exclude are exclusive; each group entry has an id or a uri;
    /// an inline script has an id and an api, and no uri.
    ///
    /// # Errors
    /// [`TomlFileError::Invalid`] naming `path` and the rule broken.
    pub fn validate(&self, path: &Path) -> Result<(), TomlFileError> {
        let invalid = |problem: String| TomlFileError::Invalid {
            path: path.to_path_buf(),
            problem,
        };
        let Some(io) = &self.io_buildpacks else {
            return Ok(());
        };
        if !io.include.is_empty() && !io.exclude.is_empty() {
            return Err(invalid(
                "io.buildpacks.include and io.buildpacks.exclude cannot both be set".to_owned(),
            ));
        }
        for (index, entry) in io.group.iter().enumerate() {
            let at = format!("io.buildpacks.group[{index}]");
            if entry.id.is_none() && entry.uri.is_none() {
                return Err(invalid(format!("{at} needs an id or a uri")));
            }
            if let Some(script) = &entry.script {
                if entry.id.is_none() {
                    return Err(invalid(format!("{at} has an inline script but no id")));
                }
                if entry.uri.is_some() {
                    return Err(invalid(format!("{at} has both an inline script and a uri")));
                }
                if script.api.is_none() {
                    return Err(invalid(format!(
                        "{at}.script has no api: add api = \"0.10\" (the lifecycle accepts 0.7 to 0.12)"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// `[io]` holds `[io.buildpacks]`; other `io.*` tables are kept out of the model.
mod io_table {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::IoBuildpacks;

    #[derive(Serialize, Deserialize, Default)]
    struct Io {
        #[serde(default)]
        buildpacks: Option<IoBuildpacks>,
    }

    #[allow(clippy::ref_option)] // the signature serde's `with` calls
    pub(super) fn serialize<S: Serializer>(
        value: &Option<IoBuildpacks>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        Io {
            buildpacks: value.clone(),
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<IoBuildpacks>, D::Error> {
        Ok(Io::deserialize(d)?.buildpacks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_need_an_api() {
        let text = "[[io.buildpacks.group]]\nid = \"x/y\"\n[io.buildpacks.group.script]\ninline = \"true\"\n";
        let project = ProjectToml::from_toml_str(text, "project.toml").unwrap();
        let err = project
            .validate(Path::new("project.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("io.buildpacks.group[0].script has no api"),
            "{err}"
        );
    }

    #[test]
    fn include_and_exclude_are_exclusive() {
        let text = "[io.buildpacks]\ninclude = [\"a\"]\nexclude = [\"b\"]\n";
        let project = ProjectToml::from_toml_str(text, "project.toml").unwrap();
        assert!(project.validate(Path::new("project.toml")).is_err());
    }

    #[test]
    fn round_trips() {
        let text = "[_]\nschema-version = \"0.2\"\n\n[io.buildpacks]\nbuilder = \"b\"\n\n[[io.buildpacks.group]]\nid = \"a/b\"\nuri = \"bp\"\n";
        let project = ProjectToml::from_toml_str(text, "project.toml").unwrap();
        let again =
            ProjectToml::from_toml_str(&project.to_toml_string().unwrap(), "project.toml").unwrap();
        assert_eq!(project, again);
        assert_eq!(
            again.io_buildpacks.unwrap().group[0].uri.as_deref(),
            Some("bp")
        );
    }
}
