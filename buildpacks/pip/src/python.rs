//! The stack's Python: its version is part of every cache key, because a venv only works with the
//! interpreter it was made with.

use std::process::Command;

/// Asking `python3` for its version failed.
#[derive(Debug, thiserror::Error)]
pub enum PythonVersionError {
    /// `python3` could not be started.
    #[error(
        "could not run python3 to read its version: {0}\nThis buildpack uses the stack's Python: build with a builder whose build image has python3 (e.g. the `python` stack)"
    )]
    Spawn(#[source] std::io::Error),
    /// `python3` ran but failed.
    #[error("python3 could not report its version: {stderr}")]
    Failed {
        /// What it printed on stderr.
        stderr: String,
    },
}

/// The stack Python's `sys.version`, e.g. `3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]`.
///
/// # Errors
///
/// [`PythonVersionError`] when `python3` cannot run.
pub fn version() -> Result<String, PythonVersionError> {
    let output = Command::new("python3")
        .args(["-c", "import sys;print(sys.version)"])
        .output()
        .map_err(PythonVersionError::Spawn)?;
    if !output.status.success() {
        return Err(PythonVersionError::Failed {
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
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
