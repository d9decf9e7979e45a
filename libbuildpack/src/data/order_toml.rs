//! `order.toml` (`/cnb/order.toml`), and the `[[order]]` groups that composite buildpacks and
//! `builder.toml` share with it.

use serde::{Deserialize, Serialize};

use super::ids::{BuildpackId, BuildpackVersion};
use super::toml_file::toml_file_impl;

/// The platform's `order.toml`: the groups of buildpacks the detector tries, in order.
///
/// ```
/// use libbuildpack::data::OrderToml;
/// let order = OrderToml::from_toml_str(
///     "[[order]]\n[[order.group]]\nid = \"acme/pip\"\nversion = \"1.0.0\"\n",
///     "order.toml",
/// )?;
/// assert_eq!(order.order[0].group[0].id.as_str(), "acme/pip");
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct OrderToml {
    /// The buildpack groups, tried in order.
    #[serde(default)]
    pub order: Vec<OrderGroup>,
    /// Image extension groups (`[[order-extensions]]`), tried before the buildpack groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_extensions: Vec<OrderGroup>,
}

toml_file_impl!(OrderToml, "order.toml");

/// One `[[order]]` entry: a group of buildpacks that detect together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderGroup {
    /// The buildpacks in the group, in order.
    #[serde(default)]
    pub group: Vec<GroupEntry>,
}

impl OrderGroup {
    /// A group holding `entries`.
    #[must_use]
    pub fn new(entries: impl IntoIterator<Item = GroupEntry>) -> Self {
        Self {
            group: entries.into_iter().collect(),
        }
    }
}

/// One `[[order.group]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct GroupEntry {
    /// The buildpack's id.
    pub id: BuildpackId,
    /// The buildpack's exact version. Required in `buildpack.toml` and in the lifecycle's
    /// `order.toml`; `builder.toml` may leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<BuildpackVersion>,
    /// Whether the group may pass without this buildpack.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    /// Execution environments this entry applies to (Buildpack API 0.12; ignored by the
    /// lifecycle).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec_env: Vec<String>,
}

impl GroupEntry {
    /// A required entry for `id` at `version`.
    #[must_use]
    pub fn new(id: BuildpackId, version: BuildpackVersion) -> Self {
        Self {
            id,
            version: Some(version),
            optional: false,
            exec_env: Vec::new(),
        }
    }

    /// Marks the entry optional.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)]
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{buildpack_id, data::TomlFileError};

    #[test]
    fn round_trips() {
        let order = OrderToml {
            order: vec![
                OrderGroup::new([
                    GroupEntry::new(buildpack_id!("acme/python"), "1.2.3".parse().unwrap()),
                    GroupEntry::new(buildpack_id!("acme/pip"), "0.1.0".parse().unwrap()).optional(),
                ]),
                OrderGroup::new([GroupEntry::new(
                    buildpack_id!("acme/uv"),
                    "2.0.0".parse().unwrap(),
                )]),
            ],
            order_extensions: Vec::new(),
        };
        let text = order.to_toml_string().unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(
            OrderToml::from_toml_str(&text, "order.toml").unwrap(),
            order
        );
    }

    #[test]
    fn optional_defaults_to_false() {
        let order = OrderToml::from_toml_str(
            "[[order]]\n[[order.group]]\nid = \"a/b\"\nversion = \"1.0.0\"\n",
            "order.toml",
        )
        .unwrap();
        assert!(!order.order[0].group[0].optional);
    }

    #[test]
    fn bad_id_names_field_and_position() {
        let err = OrderToml::from_toml_str(
            "[[order]]\n[[order.group]]\nid = \"a_b\"\nversion = \"1.0.0\"\n",
            "/cnb/order.toml",
        )
        .unwrap_err();
        let TomlFileError::Parse {
            field,
            line,
            column,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(field.as_deref(), Some("order[0].group[0].id"));
        assert_eq!((*line, *column), (Some(3), Some(6)));
        insta::assert_snapshot!(err.to_string());
    }
}
