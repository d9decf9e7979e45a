//! The build plan that `bin/detect` writes to `$CNB_BUILD_PLAN_PATH`.

use serde::{Deserialize, Serialize};

use super::toml_file::toml_file_impl;

/// Detect output: what a buildpack provides and requires, with `[[or]]` alternatives.
///
/// ```
/// use libbuildpack::data::{BuildPlan, Provide, Require};
/// let plan = BuildPlan {
///     provides: vec![Provide::new("pip")],
///     requires: vec![Require::new("pip")],
///     or: Vec::new(),
/// };
/// assert_eq!(plan.to_toml_string()?, "[[provides]]\nname = \"pip\"\n\n[[requires]]\nname = \"pip\"\n");
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildPlan {
    /// `[[provides]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<Provide>,
    /// `[[requires]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Require>,
    /// `[[or]]`: alternatives tried, in order, after the top-level pair.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub or: Vec<PlanAlternative>,
}

toml_file_impl!(BuildPlan, "plan.toml");

/// One `[[or]]` alternative of a [`BuildPlan`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanAlternative {
    /// `[[or.provides]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<Provide>,
    /// `[[or.requires]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Require>,
}

/// A `[[provides]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provide {
    /// The name of what is provided.
    pub name: String,
}

impl Provide {
    /// Provides `name`.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }
}

/// A `[[requires]]` entry. Put a version in `metadata.version`: a top-level `version` is an
/// error for the lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Require {
    /// The name of what is required.
    pub name: String,
    /// Free-form metadata passed to the providing buildpack in its plan.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub metadata: toml::Table,
}

impl Require {
    /// Requires `name`, with no metadata.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            metadata: toml::Table::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_or() {
        let mut require = Require::new("python");
        require.metadata.insert("version".into(), "3.12".into());
        let plan = BuildPlan {
            provides: vec![Provide::new("pip")],
            requires: vec![Require::new("pip"), require],
            or: vec![PlanAlternative {
                provides: vec![Provide::new("uv")],
                requires: vec![Require::new("uv")],
            }],
        };
        let text = plan.to_toml_string().unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(BuildPlan::from_toml_str(&text, "plan.toml").unwrap(), plan);
    }

    #[test]
    fn empty_plan_is_empty_file() {
        assert_eq!(BuildPlan::default().to_toml_string().unwrap(), "");
        assert_eq!(
            BuildPlan::from_toml_str("", "plan.toml").unwrap(),
            BuildPlan::default()
        );
    }
}
