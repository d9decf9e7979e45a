//! Making the venv and running pip in it, with errors that show pip's last lines and say what to
//! fix.

use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;
use libbuildpack::toolbox::style::indent;

use crate::requirements::Requirements;

/// Flags every pip call gets: never prompt, and no version nag in the build log. The venv layer
/// keeps installed packages, so pip's own download cache would only duplicate them.
const PIP_FLAGS: [&str; 4] = [
    "--no-input",
    "--disable-pip-version-check",
    "--no-cache-dir",
    "--progress-bar=off",
];

/// Creating the venv or installing into it failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// `python3 -m venv` failed.
    #[error("could not create the venv with the stack's python3 -m venv: {0}")]
    CreateVenv(#[source] CommandError),
    /// `pip install` failed.
    #[error(
        "pip could not install the requirements ({status}).\nLast lines of pip's output:\n{}\n{hint}",
        indent(last_lines)
    )]
    InstallRequirements {
        /// How pip exited.
        status: String,
        /// Its last lines of output.
        last_lines: Vec<String>,
        /// What the user can do.
        hint: String,
    },
    /// pip could not be started or waited for.
    #[error("could not run pip: {0}")]
    RunPip(#[source] CommandError),
    /// Compiling the installed files to bytecode failed.
    #[error(transparent)]
    Compile(#[from] python_sbom::bytecode::CompileError),
    /// `pip uninstall` failed.
    #[error("could not uninstall packages removed from the requirements: {0}")]
    Uninstall(#[source] CommandError),
    /// The record of installed requirements could not be written.
    #[error("could not write {}: {source}", path.display())]
    WriteRecord {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What to do about a failed `pip install`, from its last lines.
#[must_use]
pub fn hint(last_lines: &[String]) -> String {
    let find = |marker: &str| {
        last_lines.iter().find_map(|line| {
            line.split_once(marker)
                .map(|(_, rest)| rest.trim().trim_end_matches('.').to_string())
        })
    };
    if let Some(requirement) = find("No matching distribution found for") {
        format!(
            "No release of `{requirement}` could be found on the package index. Check its name and version in \
             requirements.txt, and that it has a release for this Python and platform; then build again."
        )
    } else if last_lines
        .iter()
        .any(|l| l.contains("Failed building wheel") || l.contains("subprocess-exited-with-error"))
    {
        "A package had to be compiled from source and that failed (see above). Pin a version that ships a wheel \
         for this Python and platform, or add the system libraries it needs to the stack."
            .to_string()
    } else if last_lines
        .iter()
        .any(|l| l.contains("ResolutionImpossible") || l.contains("conflicting dependencies"))
    {
        "The requirements conflict with each other: relax or align the pins pip names above, then build again."
            .to_string()
    } else {
        "Fix requirements.txt according to pip's message above, then build again.".to_string()
    }
}

/// Creates an empty venv at `dir` with the stack's Python, without pip: the stack's own pip installs into
/// it (`pip --python`). Bootstrapping pip into every new venv (`ensurepip`) took about 3 s of each fresh
/// build, and the app's image does not need pip to run.
///
/// # Errors
///
/// [`InstallError::CreateVenv`] when `python3 -m venv` fails.
pub fn create_venv<M>(
    ctx: &BuildContext<M>,
    python: &Path,
    dir: &Path,
) -> Result<(), InstallError> {
    ctx.run(reproducible(
        Command::new(python)
            .args(["-m", "venv", "--without-pip"])
            .arg(dir),
    ))
    .map_err(InstallError::CreateVenv)
}

/// The stack's pip (`python` is the stack's interpreter, by its path: a layer's `bin` comes first on
/// `PATH`, so `python3` may be the venv's own), working on the venv at `venv`.
fn pip(python: &Path, venv: &Path) -> Command {
    let mut command = Command::new(python);
    command
        .args(["-m", "pip", "--python"])
        .arg(venv.join("bin/python"))
        .env("VIRTUAL_ENV", venv)
        // No user site-packages or config from $HOME may leak into the image's venv.
        .env("PYTHONNOUSERSITE", "1");
    reproducible(&mut command);
    command
}

/// Makes Python write hash-based `.pyc` files (as it does whenever `SOURCE_DATE_EPOCH` is set). The venv
/// comes back from the build cache with normalized file times; timestamp-based `.pyc` files would then look
/// stale, Python would rewrite them on its next start, and the unchanged venv would get a new layer digest.
fn reproducible(command: &mut Command) -> &mut Command {
    if std::env::var_os("SOURCE_DATE_EPOCH").is_none() {
        command.env("SOURCE_DATE_EPOCH", "315532801");
    }
    command
}

/// `pip install -r <requirements>` into the venv; the requirements text is written into the venv
/// first, so the image records what was asked for. When the requirements hold a password (in a URL),
/// the venv records them with it masked, and pip reads them, password and all, from a private temp
/// file outside the layers, removed when pip is done.
///
/// # Errors
///
/// [`InstallError`] with pip's last lines and a hint when the install fails.
pub fn install<M>(
    ctx: &BuildContext<M>,
    python: &Path,
    venv: &Path,
    state: &State,
    wanted: &Requirements,
) -> Result<(), InstallError> {
    let requested = state.dir.join("requested.txt");
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| InstallError::WriteRecord { path, source }
    };
    std::fs::create_dir_all(&state.dir)
        .and_then(|()| std::fs::write(&requested, &wanted.recorded))
        .map_err(write_error(&requested))?;
    let private = if wanted.text == wanted.recorded {
        None
    } else {
        let temp = std::env::temp_dir();
        let mut file = tempfile::Builder::new()
            .prefix("requirements-")
            .suffix(".txt")
            .tempfile_in(&temp)
            .map_err(write_error(&temp))?;
        std::io::Write::write_all(&mut file, wanted.text.as_bytes())
            .map_err(write_error(file.path()))?;
        Some(file)
    };
    let mut command = pip(python, venv);
    command.arg("install").args(PIP_FLAGS);
    if !pip_compiles() {
        command.arg("--no-compile");
    }
    command
        .arg("-r")
        .arg(private.as_ref().map_or(requested.as_path(), |f| f.path()));
    let result = ctx.run(&mut command);
    drop(private);
    match result {
        Ok(()) => Ok(()),
        Err(CommandError::Failed {
            status, last_lines, ..
        }) => Err(InstallError::InstallRequirements {
            status: status.to_string(),
            hint: hint(&last_lines),
            last_lines,
        }),
        Err(other) => Err(InstallError::RunPip(other)),
    }
}

/// Whether the build's env configures pip's bytecode compilation (`PIP_COMPILE`, `PIP_NO_COMPILE`):
/// then pip compiles (or not) as configured, and [`compile`] does nothing.
fn pip_compiles() -> bool {
    ["PIP_COMPILE", "PIP_NO_COMPILE"]
        .iter()
        .any(|name| std::env::var_os(name).is_some())
}

/// Compiles what pip just installed to bytecode, in parallel ([`python_sbom::bytecode`]), unless the
/// build's env leaves that to pip.
///
/// # Errors
///
/// When the compilation cannot run.
pub fn compile<M>(ctx: &BuildContext<M>, venv: &Path) -> Result<(), InstallError> {
    if pip_compiles() {
        return Ok(());
    }
    Ok(python_sbom::bytecode::compile_missing(ctx, venv)?)
}

/// Uninstalls `names` (requirements removed since the last build). Their own dependencies stay
/// until the venv is rebuilt.
///
/// # Errors
///
/// [`InstallError::Uninstall`] when pip fails.
pub fn uninstall<M>(
    ctx: &BuildContext<M>,
    python: &Path,
    venv: &Path,
    names: &[String],
) -> Result<(), InstallError> {
    if names.is_empty() {
        return Ok(());
    }
    ctx.output().step(format!(
        "Uninstalling removed requirements: {}",
        names.join(", ")
    ));
    let mut command = pip(python, venv);
    command
        .args(["uninstall", "--yes"])
        .args(&PIP_FLAGS[..3])
        .args(names);
    ctx.run(&mut command).map_err(InstallError::Uninstall)
}

/// The dir in the venv that records what was installed.
pub const STATE_DIR: &str = ".libbuildpack";

/// What was installed into the venv: the requirements' text, in `<venv>/.libbuildpack/`. The last
/// venv in the build cache volume says through it which requirements were removed since.
#[derive(Debug)]
pub struct State {
    dir: PathBuf,
}

/// The recorded requirements.
#[derive(Debug)]
pub struct Recorded {
    /// Their text.
    pub text: String,
}

impl State {
    /// The record in the venv at `venv`.
    #[must_use]
    pub fn new(venv: &Path) -> Self {
        Self {
            dir: venv.join(STATE_DIR),
        }
    }

    /// The record, when there is one.
    #[must_use]
    pub fn read(&self) -> Option<Recorded> {
        Some(Recorded {
            text: std::fs::read_to_string(self.dir.join("installed.txt")).ok()?,
        })
    }

    /// Records `installed` after a successful install (with the passwords in its URLs masked).
    ///
    /// # Errors
    ///
    /// The file that could not be written, and why.
    pub fn write(&self, installed: &Requirements) -> Result<(), (PathBuf, std::io::Error)> {
        std::fs::create_dir_all(&self.dir).map_err(|e| (self.dir.clone(), e))?;
        let path = self.dir.join("installed.txt");
        std::fs::write(&path, &installed.recorded).map_err(|e| (path, e))
    }
}
