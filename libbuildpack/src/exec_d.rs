//! exec.d programs: run at launch, before the app's process, and set env variables by
//! writing TOML to fd 3.
//!
//! A buildpack installs a program with [`Layer::install_exec_d`](crate::Layer::install_exec_d)
//! (every process) or [`Layer::install_process_exec_d`](crate::Layer::install_process_exec_d)
//! (one process type). The program is often the buildpack binary itself: give
//! [`buildpack_main!`](crate::buildpack_main) an `exec_d` function and the binary runs it when
//! started from an `exec.d/` dir.
//!
//! ```ignore
//! fn port() -> Result<ExecDOutput, std::env::VarError> {
//!     let mut out = ExecDOutput::default();
//!     out.set(libbuildpack::env_var_name!("PORT"), "8080");
//!     Ok(out)
//! }
//! libbuildpack::buildpack_main!(MyBuildpack, exec_d = port);
//! ```

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use crate::data::ExecDOutput;

/// Generates `fn main` for a standalone exec.d program: runs `$f` (a function returning
/// `Result<ExecDOutput, E>`) and writes its output to fd 3. See [`run`].
///
/// ```ignore
/// libbuildpack::exec_d_main!(my_exec_d);
/// ```
#[macro_export]
macro_rules! exec_d_main {
    ($f:expr) => {
        fn main() -> ::std::process::ExitCode {
            $crate::exec_d::run($f)
        }
    };
}

/// Runs an exec.d function: on success writes its variables to fd 3 (exit 0); on error
/// prints the error and its causes to stderr (exit 1, which makes the launcher fail with 82).
/// Nothing is written to stdout.
#[must_use]
pub fn run<E, F>(f: F) -> ExitCode
where
    F: FnOnce() -> Result<ExecDOutput, E>,
    E: std::error::Error,
{
    let result = f().map_err(|e| {
        let mut text = format!("exec.d failed: {e}");
        let mut source = e.source();
        while let Some(cause) = source {
            let _ = write!(text, "\n  caused by: {cause}");
            source = cause.source();
        }
        text
    });
    let result = result.and_then(|out| write_output(&out).map_err(|e| e.to_string()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(text) => {
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}

/// Writes exec.d output where the launcher reads it: fd 3 on Linux and other unixes.
///
/// # Errors
///
/// [`ExecDError::OpenOutput`] when fd 3 is not open (the program was not started by the
/// launcher), [`ExecDError::WriteOutput`] when writing fails, and
/// [`ExecDError::Unsupported`] on platforms without `/dev/fd` (Windows' `CNB_EXEC_D_HANDLE`
/// needs a raw handle, which this crate does not open).
pub fn write_output(output: &ExecDOutput) -> Result<(), ExecDError> {
    write_output_to(Path::new(OUTPUT_PATH), output)
}

#[cfg(target_os = "linux")]
const OUTPUT_PATH: &str = "/proc/self/fd/3";
#[cfg(all(unix, not(target_os = "linux")))]
const OUTPUT_PATH: &str = "/dev/fd/3";
#[cfg(not(unix))]
const OUTPUT_PATH: &str = "";

/// Writes exec.d output to `path` (a file, or `/proc/self/fd/3`).
///
/// # Errors
///
/// See [`write_output`].
pub fn write_output_to(path: &Path, output: &ExecDOutput) -> Result<(), ExecDError> {
    if path.as_os_str().is_empty() {
        return Err(ExecDError::Unsupported);
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|source| ExecDError::OpenOutput {
            path: path.to_path_buf(),
            source,
        })?;
    file.write_all(output.to_toml_string().as_bytes())
        .and_then(|()| file.flush())
        .map_err(|source| ExecDError::WriteOutput {
            path: path.to_path_buf(),
            source,
        })
}

/// Whether `argv0` is a program in an `exec.d/` or `exec.d/<process>/` dir, which is how
/// the launcher starts exec.d programs.
///
/// ```
/// use libbuildpack::exec_d::is_exec_d_path;
/// assert!(is_exec_d_path("/layers/acme_x/port/exec.d/port".as_ref()));
/// assert!(is_exec_d_path("/layers/acme_x/port/exec.d/web/port".as_ref()));
/// assert!(!is_exec_d_path("/cnb/buildpacks/acme_x/0.1.0/bin/build".as_ref()));
/// ```
#[must_use]
pub fn is_exec_d_path(argv0: &Path) -> bool {
    let parent = argv0.parent();
    let named = |p: Option<&Path>| p.and_then(Path::file_name).is_some_and(|n| n == "exec.d");
    named(parent) || named(parent.and_then(Path::parent))
}

/// Whether this process was started as an exec.d program (see [`is_exec_d_path`]).
#[must_use]
pub fn invoked_as_exec_d() -> bool {
    std::env::args_os()
        .next()
        .is_some_and(|argv0| is_exec_d_path(&PathBuf::from(argv0)))
}

/// Writing exec.d output failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecDError {
    /// The output file descriptor could not be opened.
    #[error("could not open the exec.d output {} (is this program run by the CNB launcher from an exec.d dir?)", path.display())]
    OpenOutput {
        /// The path used for fd 3.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the output failed.
    #[error("could not write the exec.d output to {}", path.display())]
    WriteOutput {
        /// The path used for fd 3.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// This platform has no fd 3 path.
    #[error("exec.d output is only supported on unix (fd 3)")]
    Unsupported,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_toml_to_the_given_fd_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fd3");
        std::fs::write(&path, "").unwrap();
        let mut out = ExecDOutput::default();
        out.set(crate::env_var_name!("PORT"), "8080");
        write_output_to(&path, &out).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "PORT = \"8080\"\n");
        let err = write_output_to(&dir.path().join("missing/fd3"), &out).unwrap_err();
        assert!(err.to_string().contains("exec.d"), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn child_writes_to_fd_3_not_stdout() {
        // A shell opens fd 3 onto a file and runs a program that writes to /proc/self/fd/3.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "exec 3>'{}'; echo 'A = \"1\"' > /proc/self/fd/3; echo log",
                out.display()
            ))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&status.stdout), "log\n");
        assert_eq!(std::fs::read_to_string(out).unwrap(), "A = \"1\"\n");
    }
}
