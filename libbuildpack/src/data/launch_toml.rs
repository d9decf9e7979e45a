//! `launch.toml`: processes, labels and slices a buildpack contributes to the app image.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::TomlFileError;
use super::ids::ProcessType;
use super::order_toml::is_false;
use super::toml_file;

/// A buildpack's `<layers>/launch.toml`.
///
/// `direct` is never written: processes are always exec'd (Buildpack API 0.9+).
///
/// ```
/// use libbuildpack::data::{LaunchProcess, LaunchToml};
/// let launch = LaunchToml {
///     processes: vec![LaunchProcess::new(libbuildpack::process_type!("web"), ["gunicorn", "app:app"])],
///     ..LaunchToml::default()
/// };
/// assert!(launch.to_toml_string()?.contains("command = [\"gunicorn\", \"app:app\"]"));
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchToml {
    /// `[[labels]]`: labels set on the app image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    /// `[[processes]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<LaunchProcess>,
    /// `[[slices]]`: groups of app files that become their own layers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<Slice>,
}

/// One `[[processes]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LaunchProcess {
    /// The process type, e.g. `web`.
    #[serde(rename = "type")]
    pub kind: ProcessType,
    /// The executable and its fixed arguments.
    pub command: Vec<String>,
    /// Default arguments, replaced by user-supplied ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Whether this is the buildpack's default process.
    #[serde(default, skip_serializing_if = "is_false")]
    pub default: bool,
    /// The directory the process starts in; the app dir when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<PathBuf>,
    /// Execution environments the process is for (Buildpack API 0.12); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec_env: Vec<String>,
}

impl LaunchProcess {
    /// A non-default process of type `kind` running `command`.
    #[must_use]
    pub fn new<I, S>(kind: ProcessType, command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            kind,
            command: command.into_iter().map(Into::into).collect(),
            args: Vec::new(),
            default: false,
            working_dir: None,
            exec_env: Vec::new(),
        }
    }
}

/// One `[[labels]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// The label key.
    pub key: String,
    /// The label value.
    pub value: String,
}

/// One `[[slices]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slice {
    /// Globs relative to the app dir.
    #[serde(default)]
    pub paths: Vec<String>,
}

impl LaunchToml {
    /// Checks the rules the lifecycle enforces at build time, plus the SDK's: every command is
    /// non-empty, process types and label keys are unique, at most one process is the default,
    /// and no slice glob leaves the app dir.
    ///
    /// # Errors
    ///
    /// [`TomlFileError::Invalid`] naming `path` and the rule broken.
    pub fn validate(&self, path: &Path) -> Result<(), TomlFileError> {
        let invalid = |problem: String| TomlFileError::Invalid {
            path: path.to_path_buf(),
            problem,
        };
        let mut types = BTreeSet::new();
        let mut defaults = Vec::new();
        for process in &self.processes {
            if !types.insert(process.kind.as_str()) {
                return Err(invalid(format!(
                    "process type {:?} is declared twice",
                    process.kind.as_str()
                )));
            }
            if process.command.first().is_none_or(String::is_empty) {
                return Err(invalid(format!(
                    "process {:?} has an empty command; command[0] must name the executable",
                    process.kind.as_str()
                )));
            }
            if process.default {
                defaults.push(process.kind.as_str());
            }
        }
        if defaults.len() > 1 {
            return Err(invalid(format!(
                "only one process may be the default, but {} are: {}",
                defaults.len(),
                defaults.join(", ")
            )));
        }
        let mut keys = BTreeSet::new();
        for label in &self.labels {
            if !keys.insert(label.key.as_str()) {
                return Err(invalid(format!("label {:?} is set twice", label.key)));
            }
        }
        for slice in &self.slices {
            for glob in &slice.paths {
                if Path::new(glob)
                    .components()
                    .any(|c| matches!(c, Component::ParentDir))
                {
                    return Err(invalid(format!("slice path {glob:?} leaves the app dir")));
                }
            }
        }
        Ok(())
    }

    /// Reads and parses a `launch.toml`.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when the file cannot be read, is not valid TOML, or a field is invalid.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TomlFileError> {
        toml_file::read(path.as_ref())
    }

    /// Parses the text of a `launch.toml`; `path` only names the file in errors.
    ///
    /// # Errors
    ///
    /// [`TomlFileError::Parse`] when the text is not valid TOML or a field is invalid.
    pub fn from_toml_str(text: &str, path: impl AsRef<Path>) -> Result<Self, TomlFileError> {
        toml_file::parse(text, path.as_ref())
    }

    /// Writes this value as the text of a `launch.toml`.
    ///
    /// # Errors
    ///
    /// [`TomlFileError::Serialize`] when a value cannot be represented in TOML.
    pub fn to_toml_string(&self) -> Result<String, TomlFileError> {
        toml_file::to_string(self, Path::new("launch.toml"))
    }

    /// Checks this value with [`validate`](Self::validate) and writes it to `path`, atomically.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when validation, serializing or writing fails.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), TomlFileError> {
        let path = path.as_ref();
        self.validate(path)?;
        toml_file::write(self, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process_type;

    fn sample() -> LaunchToml {
        let mut web = LaunchProcess::new(
            process_type!("web"),
            ["bash", "-c", "exec python3 -m http.server"],
        );
        web.default = true;
        web.args = vec!["--flag".into()];
        web.working_dir = Some("/workspace/sub".into());
        let mut worker = LaunchProcess::new(process_type!("worker"), ["celery"]);
        worker.exec_env = vec!["production".into()];
        LaunchToml {
            labels: vec![Label {
                key: "org.example.team".into(),
                value: "core".into(),
            }],
            processes: vec![web, worker],
            slices: vec![Slice {
                paths: vec!["static/*".into()],
            }],
        }
    }

    #[test]
    fn round_trips_without_direct() {
        let launch = sample();
        let text = launch.to_toml_string().unwrap();
        assert!(!text.contains("direct"));
        insta::assert_snapshot!(text);
        assert_eq!(
            LaunchToml::from_toml_str(&text, "launch.toml").unwrap(),
            launch
        );
    }

    #[test]
    fn validation() {
        let path = Path::new("launch.toml");
        assert!(sample().validate(path).is_ok());

        let mut two_defaults = sample();
        two_defaults.processes[1].default = true;
        assert!(
            two_defaults
                .validate(path)
                .unwrap_err()
                .to_string()
                .contains("only one process")
        );

        let mut dup = sample();
        dup.processes[1].kind = process_type!("web");
        assert!(dup.validate(path).is_err());

        let mut empty = sample();
        empty.processes[0].command.clear();
        assert!(empty.validate(path).is_err());

        let mut escape = sample();
        escape.slices[0].paths.push("../secrets".into());
        assert!(escape.validate(path).is_err());
    }

    #[test]
    fn string_command_is_rejected() {
        let err = LaunchToml::from_toml_str(
            "[[processes]]\ntype = \"web\"\ncommand = \"x\"\n",
            "launch.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("processes[0].command"), "{err}");
    }
}
