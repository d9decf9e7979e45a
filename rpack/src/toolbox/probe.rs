//! Finding programs on `PATH`, as a shell would.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where to look for programs: `PATH`, or given dirs in tests.
#[derive(Clone, Debug)]
pub struct Probe {
    path: OsString,
}

impl Probe {
    /// Programs on this process's `PATH`.
    #[must_use]
    pub fn from_env() -> Self {
        Self {
            path: std::env::var_os("PATH").unwrap_or_default(),
        }
    }

    /// Programs in these dirs only.
    #[must_use]
    pub fn with_path(dirs: &[&Path]) -> Self {
        Self {
            path: std::env::join_paths(dirs).unwrap_or_default(),
        }
    }

    /// The first executable file called `program` in the dirs.
    #[must_use]
    pub fn find(&self, program: &str) -> Option<PathBuf> {
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
