//! `rpack doctor`: checks what rpack needs on this machine and says how to fix what is missing.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::lifecycle::{self, Lifecycle};
use crate::package::{MUSL_TARGET, target_installed};
use crate::store::Store;

/// Free space below which builds are likely to fail.
pub const MIN_FREE_BYTES: u64 = 5 * 1000 * 1000 * 1000;

/// One check.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it is fine.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What to do when it is not fine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn version_of(program: &str, arg: &str) -> Option<String> {
    let output = Command::new(program).arg(arg).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or_default().trim().to_owned();
    output.status.success().then_some(first)
}

fn tool(name: &'static str, arg: &str, fix: &str) -> Check {
    match version_of(name, arg) {
        Some(version) => Check {
            name,
            ok: true,
            detail: version,
            fix: None,
        },
        None => Check {
            name,
            ok: false,
            detail: format!("`{name} {arg}` did not run"),
            fix: Some(fix.to_owned()),
        },
    }
}

/// Free bytes of the file system holding `path`, from `df`.
fn free_bytes(path: &Path) -> Option<u64> {
    let output = Command::new("df").arg("-Pk").arg(path).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs every check.
#[must_use]
pub fn run(store: &Store) -> Vec<Check> {
    let mut checks = vec![
        tool("podman", "--version", "apt-get install podman"),
        tool("runc", "--version", "apt-get install runc"),
    ];
    checks.push(match crate::podman::Podman::new(store) {
        Ok(podman) => Check {
            name: "containers.conf",
            ok: true,
            detail: format!(
                "rpack's settings (runc, cgroupfs) at {}",
                podman.conf().display()
            ),
            fix: None,
        },
        Err(e) => Check {
            name: "containers.conf",
            ok: false,
            detail: e.to_string(),
            fix: Some(format!("make {} writable", store.home().display())),
        },
    });
    checks.push(match Lifecycle::locate(store, lifecycle::DEFAULT_VERSION) {
        Ok(found) => Check {
            name: "lifecycle",
            ok: true,
            detail: format!("{} at {}", found.version(), found.root().display()),
            fix: None,
        },
        Err(e) => Check {
            name: "lifecycle",
            ok: false,
            detail: e.to_string(),
            fix: Some(format!(
                "rpack lifecycle install --from-source {}",
                lifecycle::DEFAULT_VERSION
            )),
        },
    });
    let musl = target_installed(MUSL_TARGET);
    checks.push(Check {
        name: "musl target",
        ok: musl,
        detail: if musl {
            format!("{MUSL_TARGET} installed")
        } else {
            format!("{MUSL_TARGET} is not installed")
        },
        fix: (!musl).then(|| format!("rustup target add {MUSL_TARGET}")),
    });
    checks.push(tool(
        "mmdebstrap",
        "--version",
        "apt-get install mmdebstrap",
    ));
    let free = free_bytes(store.home());
    checks.push(Check {
        name: "free disk",
        ok: free.is_some_and(|f| f >= MIN_FREE_BYTES),
        detail: free.map_or_else(
            || "could not run df".to_owned(),
            |f| {
                format!(
                    "{} free at {}",
                    crate::inspect::human_size(f),
                    store.home().display()
                )
            },
        ),
        fix: free.is_none_or(|f| f < MIN_FREE_BYTES).then(|| {
            "free some space: `rpack prune`, or point RPACK_HOME at a larger disk".to_owned()
        }),
    });
    checks
}
