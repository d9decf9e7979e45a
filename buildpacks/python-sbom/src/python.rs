//! The stack's Python, shared by the pip and uv buildpacks: its version is part of every cache
//! key, because a venv only works with the interpreter it was made with. Also the package-name
//! normalisation pip and ml compare requirements with.

use std::process::Command;

/// Asking `python3` for its version failed.
#[derive(Debug, thiserror::Error)]
pub enum PythonVersionError {
    /// `python3` could not be started.
    #[error("could not run python3 to read its version")]
    Spawn(#[source] std::io::Error),
    /// `python3` ran but failed.
    #[error("python3 could not report its version: {stderr}")]
    Failed {
        /// What it printed on stderr.
        stderr: String,
    },
}

impl PythonVersionError {
    /// What the user can do (see `Buildpack::hint`).
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Spawn(_) => Some(
                "This buildpack uses the stack's Python: build with a builder whose build image has python3 (e.g. \
                 the `python` stack)."
                    .into(),
            ),
            Self::Failed { .. } => None,
        }
    }
}

/// The stack's Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackPython {
    /// `sys.version`, e.g. `3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]`.
    pub version: String,
    /// `sys.executable`, e.g. `/usr/bin/python3`.
    pub executable: String,
}

/// Asks the stack's `python3` for its version and path.
///
/// # Errors
///
/// [`PythonVersionError`] when `python3` cannot run.
pub fn stack() -> Result<StackPython, PythonVersionError> {
    let output = Command::new("python3")
        .args(["-c", "import sys;print(sys.executable);print(sys.version)"])
        .output()
        .map_err(PythonVersionError::Spawn)?;
    if !output.status.success() {
        return Err(PythonVersionError::Failed {
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let (executable, version) = text
        .trim()
        .split_once('\n')
        .unwrap_or(("python3", text.trim()));
    Ok(StackPython {
        version: version.trim().to_string(),
        executable: executable.trim().to_string(),
    })
}

/// The `X.Y.Z` part of a `sys.version` string.
#[must_use]
pub fn short(version: &str) -> &str {
    version.split_whitespace().next().unwrap_or(version)
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_version() {
        assert_eq!(
            super::short("3.11.2 (main, Mar 13 2023) [GCC 12.2.0]"),
            "3.11.2"
        );
    }
}

/// PEP 503 normalisation: lower case, runs of `-`, `_` and `.` become one `-`.
///
/// ```
/// assert_eq!(python_sbom::python::normalize("Flask__SQL.Alchemy"), "flask-sql-alchemy");
/// ```
#[must_use]
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The Python version `.python-version` asks for: its first line that is not a comment.
#[must_use]
pub fn requested(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            line.trim_start_matches("cpython-")
                .trim_start_matches("cpython@")
                .to_string()
        })
}

/// Whether the stack's `X.Y.Z` satisfies a requested `X`, `X.Y` or `X.Y.Z`.
#[must_use]
pub fn satisfies(stack: &str, requested: &str) -> bool {
    let stack: Vec<&str> = stack.split('.').collect();
    let requested: Vec<&str> = requested.split('.').collect();
    requested.len() <= stack.len() && requested.iter().zip(&stack).all(|(a, b)| a == b)
}

#[cfg(test)]
mod requested_tests {
    use super::*;

    #[test]
    fn requested_versions() {
        assert_eq!(requested("# pin\n3.11\n").as_deref(), Some("3.11"));
        assert_eq!(requested("cpython-3.12.1").as_deref(), Some("3.12.1"));
        assert_eq!(requested("\n"), None);
        assert!(satisfies("3.11.2", "3.11"));
        assert!(satisfies("3.11.2", "3"));
        assert!(satisfies("3.11.2", "3.11.2"));
        assert!(!satisfies("3.11.2", "3.12"));
        assert!(!satisfies("3.11.2", "3.1"));
        assert!(!satisfies("3.11.2", "3.11.2.1"));
    }
}
