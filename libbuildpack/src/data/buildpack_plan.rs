//! The buildpack plan that `bin/build` reads from `$CNB_BP_PLAN_PATH`.

use serde::{Deserialize, Serialize};

use super::toml_file::toml_file_impl;

/// Build input: the requirements this buildpack is asked to meet. Several entries may have the
/// same name (one per requirer); they are kept, in order.
///
/// ```
/// use libbuildpack::data::BuildpackPlan;
/// let plan = BuildpackPlan::from_toml_str("[[entries]]\nname = \"pip\"\n[[entries]]\nname = \"pip\"\n", "plan.toml")?;
/// assert_eq!(plan.entries_named("pip").count(), 2);
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildpackPlan {
    /// `[[entries]]`, in the order the lifecycle wrote them.
    #[serde(default)]
    pub entries: Vec<PlanEntry>,
}

toml_file_impl!(BuildpackPlan, "plan.toml");

impl BuildpackPlan {
    /// The entries with `name`, in order.
    pub fn entries_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a PlanEntry> + 'a {
        self.entries.iter().filter(move |entry| entry.name == name)
    }
}

/// One `[[entries]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanEntry {
    /// The requirement's name.
    pub name: String,
    /// The requirer's metadata.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub metadata: toml::Table,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicates_in_order() {
        let mut a = toml::Table::new();
        a.insert("version".into(), "1".into());
        let mut b = toml::Table::new();
        b.insert("version".into(), "2".into());
        let plan = BuildpackPlan {
            entries: vec![
                PlanEntry {
                    name: "node".into(),
                    metadata: a,
                },
                PlanEntry {
                    name: "npm".into(),
                    metadata: toml::Table::new(),
                },
                PlanEntry {
                    name: "node".into(),
                    metadata: b,
                },
            ],
        };
        let text = plan.to_toml_string().unwrap();
        insta::assert_snapshot!(text);
        let again = BuildpackPlan::from_toml_str(&text, "plan.toml").unwrap();
        assert_eq!(again, plan);
        let versions: Vec<_> = again
            .entries_named("node")
            .map(|e| e.metadata["version"].as_str().unwrap())
            .collect();
        assert_eq!(versions, ["1", "2"]);
    }
}
