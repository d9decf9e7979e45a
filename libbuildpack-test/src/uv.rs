//! The uv that the uv buildpacks pin, installed on the host by tests (and benchmarks) that lock an app with
//! it before building: a `uv.lock` made at test time, so no fixture commits one that could go stale.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let tools = tempfile::tempdir()?;
//! let uv = libbuildpack_test::uv::install(tools.path())?;
//! let status = std::process::Command::new(uv).arg("lock").current_dir("tests/fixtures/app").status()?;
//! assert!(status.success());
//! # Ok(())
//! # }
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

// The pin of the shipped uv buildpack, compiled in from its one source (as rpack does for generated crates):
// the uv that locks test apps is the uv that installs them.
#[path = "../../buildpacks/uv/src/uv/pin.rs"]
mod pin;

/// The pinned uv version (the uv buildpack's `uv::pin::VERSION`).
pub const UV_VERSION: &str = pin::VERSION;

/// Writes the pinned uv as a hash-checked pip requirement to `path`: `uv==VERSION` with the sha256 of every
/// wheel the uv buildpack pins, so pip takes the one for the host's architecture.
///
/// # Errors
/// When `path` cannot be written.
pub fn write_requirement(path: &Path) -> io::Result<()> {
    std::fs::write(path, requirement())
}

fn requirement() -> String {
    let mut line = format!("uv=={UV_VERSION}");
    for (_, sha256) in pin::WHEEL_SHA256 {
        line.push_str(" --hash=sha256:");
        line.push_str(sha256);
    }
    line.push('\n');
    line
}

/// The host's pip installing the hash-checked `requirements` into `target`, without dependencies:
/// `python3 -m pip install -q --no-deps --require-hashes --target TARGET -r REQUIREMENTS`.
#[must_use]
pub fn pip_install_hashed(requirements: &Path, target: &Path) -> Command {
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--require-hashes",
        "--target",
    ])
    .arg(target)
    .arg("-r")
    .arg(requirements);
    cmd
}

/// Where [`install`] puts the uv binary under `tools`.
#[must_use]
pub fn binary(tools: &Path) -> PathBuf {
    tools.join("bin/uv")
}

/// Installs the pinned uv into `tools` with the host's pip (its requirement is written to `tools/uv.txt`)
/// and returns the uv binary. Nothing is installed when `tools` already has it (`tools/uv.installed`
/// names the requirement a successful install was made from).
///
/// # Errors
/// When the requirement cannot be written, pip cannot be started, or pip fails.
pub fn install(tools: &Path) -> io::Result<PathBuf> {
    let requirement = tools.join("uv.txt");
    let installed = tools.join("uv.installed");
    write_requirement(&requirement)?;
    let wanted = std::fs::read(&requirement)?;
    if binary(tools).is_file() && std::fs::read(&installed).is_ok_and(|done| done == wanted) {
        return Ok(binary(tools));
    }
    let status = pip_install_hashed(&requirement, tools).status()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "installing uv {UV_VERSION} failed ({status})"
        )));
    }
    std::fs::write(&installed, wanted)?;
    Ok(binary(tools))
}

/// Makes `uv.lock` in `app`: installs the pinned uv into `tools` ([`install`]) and runs `uv lock ARGS` with
/// the host's Python (`UV_PYTHON_DOWNLOADS=never`).
///
/// # Errors
/// When uv cannot be installed or `uv lock` fails.
pub fn lock(app: &Path, tools: &Path, args: &[&str]) -> io::Result<()> {
    let uv = install(tools)?;
    let status = Command::new(uv)
        .arg("lock")
        .args(args)
        .current_dir(app)
        .env("UV_PYTHON_DOWNLOADS", "never")
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!("uv lock failed ({status})")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_requirement_pins_the_uv_buildpacks_version_with_a_hash_per_architecture() {
        let requirement = super::requirement();
        assert!(requirement.starts_with(&format!("uv=={} ", super::pin::VERSION)));
        for (arch, sha256) in super::pin::WHEEL_SHA256 {
            assert!(
                requirement.contains(&format!("--hash=sha256:{sha256}")),
                "{arch}"
            );
        }
    }
}
