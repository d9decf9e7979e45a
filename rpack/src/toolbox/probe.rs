//! Finding programs on `PATH`, as a shell would.

use std::ffi::OsString;
use std::path::PathBuf;

/// Where to look for programs: `PATH`, or given dirs in tests.
#[derive(Clone, Debug)]
pub(crate) struct Probe {
    path: OsString,
}

impl Probe {
    /// Programs on this process's `PATH`.
    #[must_use]
    pub(crate) fn from_env() -> Self {
        Self {
            path: std::env::var_os("PATH").unwrap_or_default(),
        }
    }

    /// Programs in these dirs only.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn with_path(dirs: &[&std::path::Path]) -> Self {
        Self {
            path: std::env::join_paths(dirs).unwrap_or_default(),
        }
    }

    /// The first executable file called `program` in the dirs.
    #[must_use]
    pub(crate) fn find(&self, program: &str) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt as _;
        std::env::split_paths(&self.path)
            .map(|dir| dir.join(program))
            .find(|candidate| {
                candidate
                    .metadata()
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
    }
}
