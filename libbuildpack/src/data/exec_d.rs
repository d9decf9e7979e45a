//! What an exec.d program writes to fd 3: env variables as TOML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::ids::EnvVarName;

/// The output of an exec.d program: variables to set in the launched process, each a TOML
/// string under a bare key that is a valid env variable name.
///
/// ```
/// use libbuildpack::data::ExecDOutput;
/// let mut out = ExecDOutput::default();
/// out.set("PORT".parse()?, "8080");
/// assert_eq!(out.to_toml_string(), "PORT = \"8080\"\n");
/// # Ok::<(), libbuildpack::data::InvalidName>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExecDOutput {
    /// The variables, sorted by name.
    pub vars: BTreeMap<EnvVarName, String>,
}

impl ExecDOutput {
    /// Sets `name` to `value`.
    pub fn set(&mut self, name: EnvVarName, value: impl Into<String>) -> &mut Self {
        self.vars.insert(name, value.into());
        self
    }

    /// The TOML text: one `NAME = "value"` line per variable, sorted by name.
    #[must_use]
    pub fn to_toml_string(&self) -> String {
        let mut text = String::new();
        for (name, value) in &self.vars {
            // A bare key (the name is validated) and a basic string with escapes.
            text.push_str(name.as_str());
            text.push_str(" = ");
            push_basic_string(&mut text, value);
            text.push('\n');
        }
        text
    }

    /// Parses exec.d output as the launcher would: string values only.
    ///
    /// # Errors
    ///
    /// [`toml::de::Error`] when the text is not TOML, a key is not a valid env name or a value
    /// is not a string.
    pub fn from_toml_str(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

/// Writes `value` as a one-line TOML basic string.
fn push_basic_string(text: &mut String, value: &str) {
    text.push('"');
    for c in value.chars() {
        match c {
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            '\n' => text.push_str("\\n"),
            '\t' => text.push_str("\\t"),
            '\r' => text.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(text, "\\u{:04X}", u32::from(c));
            }
            c => text.push(c),
        }
    }
    text.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_strings_and_keys_bare() {
        let mut out = ExecDOutput::default();
        out.set("B".parse().unwrap(), "two \"words\"\n")
            .set("A_1".parse().unwrap(), "1");
        let text = out.to_toml_string();
        assert_eq!(text, "A_1 = \"1\"\nB = \"two \\\"words\\\"\\n\"\n");
        assert_eq!(ExecDOutput::from_toml_str(&text).unwrap(), out);
        out.set("C".parse().unwrap(), "tab\there \\ \u{1}");
        assert_eq!(
            ExecDOutput::from_toml_str(&out.to_toml_string()).unwrap(),
            out
        );
        assert!(ExecDOutput::from_toml_str("A = 1\n").is_err());
        assert!(ExecDOutput::from_toml_str("\"A-B\" = \"x\"\n").is_err());
    }
}
