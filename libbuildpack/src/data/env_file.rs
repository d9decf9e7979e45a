//! Names of environment files (`<layer>/env/NAME.<action>`, build-config env).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How an environment file changes its variable. The file is named `NAME.<suffix>`.
///
/// ```
/// use libbuildpack::data::EnvAction;
/// assert_eq!(EnvAction::Prepend.suffix(), "prepend");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvAction {
    /// Replace the value (`.override`; also what a file without suffix does in a layer).
    Override,
    /// Set the value only when it is unset or empty (`.default`).
    Default,
    /// Add after the current value, joined by the `.delim` file's contents (`.append`).
    Append,
    /// Add before the current value, joined by the `.delim` file's contents (`.prepend`).
    Prepend,
}

impl EnvAction {
    /// The file name suffix, without the dot.
    #[must_use]
    pub const fn suffix(self) -> &'static str {
        match self {
            Self::Override => "override",
            Self::Default => "default",
            Self::Append => "append",
            Self::Prepend => "prepend",
        }
    }
}

impl fmt::Display for EnvAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.suffix())
    }
}
