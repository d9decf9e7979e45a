//! The pip buildpack: installs `requirements.txt` (plus packages other buildpacks require through
//! the `pip-packages` plan entry) into a venv made with the stack's Python.
//!
//! The venv is a launch-only layer keyed by the Python version, the target and the requirements:
//! while they are unchanged the previous image's layer is reused without restoring or archiving it,
//! so a rebuild does not grow with the venv. When the requirements change, pip installs into the
//! last venv kept in the build cache volume, so unchanged packages are not downloaded again (the
//! index sends no cache headers, so pip's HTTP cache would not help); when that only added
//! packages, the venv layer is kept and the added files go into a small `venv-delta` layer (see
//! [`python_sbom::venv`]).
//!
//! Each new layer gets `CycloneDX` and SPDX SBOMs of what is installed in it; a reused one keeps
//! those of the previous image.

mod install;
mod requirements;

use std::path::Path;

use libbuildpack::prelude::*;
use python_sbom::python;
use python_sbom::venv::{self, InstallInto, Outcome, VenvError};

use install::InstallError;
use requirements::{PlanPackages, Requirements};

/// The buildpack.
pub struct Pip;

/// What the venv depends on. A venv whose key is unchanged is reused from the previous image
/// without its files being restored (a launch-only layer); a changed one is installed into the last
/// venv kept in the build cache volume, or made from scratch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct VenvKey {
    /// `sys.version` of the stack's python3.
    python: String,
    /// Where it runs: a venv's compiled extensions are built for one platform.
    target: Target,
    /// Bumped when this buildpack lays out the venv differently. A string: the lifecycle hands
    /// integer metadata back as floats (1 → 1.0), which would never compare equal.
    layout: String,
    /// The requirements' SHA-256 (requirements.txt and the plan's packages).
    requirements_sha256: String,
}

/// What the last venv in the build cache volume holds. It is installed into while Python, target
/// and layout stay ([`SeedKey::compatible`]); the requirements it was made with say which were
/// removed since.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct SeedKey {
    /// `sys.version` of the stack's python3.
    python: String,
    /// Where the venv runs.
    target: Target,
    /// The venv layout version.
    layout: String,
    /// The requirements installed (their text, with the passwords in URLs masked).
    installed: String,
}

impl SeedKey {
    /// Whether a venv made for `previous` can be installed into to get `wanted`.
    fn compatible(previous: &Self, wanted: &Self) -> bool {
        previous.python == wanted.python
            && previous.target == wanted.target
            && previous.layout == wanted.layout
    }
}

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum PipError {
    /// The stack's Python could not be asked for its version.
    #[error(transparent)]
    PythonVersion(#[from] python::PythonVersionError),
    /// A requirements file could not be read.
    #[error(transparent)]
    ReadRequirements(#[from] requirements::ReadRequirementsError),
    /// The venv layer could not be made.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The venv's layers, the copy in the build cache volume or the SBOMs could not be made.
    #[error(transparent)]
    Venv(#[from] VenvError),
    /// Creating the venv or installing into it failed.
    #[error(transparent)]
    Install(#[from] InstallError),
}

impl Buildpack for Pip {
    type Metadata = NoMetadata;
    type Error = PipError;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, PipError> {
        if !ctx.app_dir().join("requirements.txt").is_file() {
            return Ok(Detect::fail("no requirements.txt"));
        }
        // Providing and requiring `pip-packages` lets other buildpacks (ml) add packages.
        Ok(Detect::pass()
            .provides(requirements::PLAN_ENTRY)
            .requires(requirements::PLAN_ENTRY))
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, PipError> {
        ctx.output().section("Python packages (pip)");
        let stack = python::stack()?;
        let python = stack.version;
        ctx.output().step(format!(
            "Using Python {} from the stack",
            python::short(&python)
        ));
        let plan = PlanPackages::from_plan(ctx.plan());
        let wanted = Requirements::load(ctx.app_dir(), &plan)?;
        for password in &wanted.passwords {
            ctx.output().mask(password);
        }
        if !wanted.files_with_passwords.is_empty() {
            ctx.output().warn(
                "requirements.txt has a password in a URL: pip uses it, and the build output, the venv and the \
                 image's copy of the file show it as ****. Pass credentials to the build as env (PIP_INDEX_URL, \
                 PIP_EXTRA_INDEX_URL) rather than in a file of the app",
            );
        }
        if !plan.packages.is_empty() {
            ctx.output().step(format!(
                "Adding {} from the build plan ({})",
                plan.packages.join(", "),
                plan.requested_by.join(", ")
            ));
        }

        ctx.output().step("Preparing the venv");
        // 4: a base layer that finds a delta layer of added packages.
        let layout = "4".to_string();
        let spec = venv::Spec {
            wanted: VenvKey {
                python: python.clone(),
                target: ctx.target().clone(),
                layout: layout.clone(),
                requirements_sha256: wanted.sha256.clone(),
            },
            seed_key: SeedKey {
                python,
                target: ctx.target().clone(),
                layout,
                installed: wanted.recorded.clone(),
            },
            seed_compatible: &SeedKey::compatible,
            python: Path::new(&stack.executable),
            state: &[install::STATE_DIR],
        };
        let python = Path::new(&stack.executable);
        let made = venv::build(ctx, &spec, |into| install_venv(ctx, python, into, &wanted))?;
        if made.outcome == Outcome::Unchanged {
            // The venv and its SBOMs stay in the previous image: nothing is restored or archived again.
            ctx.output()
                .step("Requirements unchanged: nothing to install");
        }

        // The app dir goes into the image: its requirement files keep no password.
        wanted.mask_app_files()?;

        let venv = &made.layer;
        venv.env()
            .prepend_path("PATH", venv.path().join("bin"))?
            .set("VIRTUAL_ENV", venv.path())?;
        // Logs reach the platform as they happen, not when a buffer fills.
        venv.launch_env().set_default("PYTHONUNBUFFERED", "1")?;
        Ok(Build::new())
    }

    fn hint(&self, error: &PipError) -> Option<String> {
        match error {
            PipError::Install(install::InstallError::InstallRequirements { hint, .. }) => {
                Some(hint.clone())
            }
            PipError::PythonVersion(e) => e.hint(),
            PipError::Venv(VenvError::ListPackages(e)) => e.hint(),
            _ => None,
        }
    }
}

/// Installs the requirements into the venv at `into.path`: into the last venv when there is one
/// (pip then installs only what changed, and uninstalls requirements removed since), else into a
/// new venv.
fn install_venv(
    ctx: &BuildContext,
    python: &Path,
    into: &InstallInto<SeedKey>,
    wanted: &Requirements,
) -> Result<(), PipError> {
    let state = install::State::new(&into.path);
    if let Some(old) = &into.previous {
        ctx.output().step(
            "Requirements changed: installing into the last venv, kept in the build cache volume (installed \
             packages are not downloaded again)",
        );
        install::install(ctx, python, &into.path, &state, wanted)?;
        let removed = requirements::removed_names(&old.installed, &wanted.recorded);
        install::uninstall(ctx, python, &into.path, &removed)?;
    } else {
        if into.fresh {
            install::create_venv(ctx, python, &into.path)?;
        }
        ctx.output().step("Installing requirements");
        install::install(ctx, python, &into.path, &state, wanted)?;
    }
    install::compile(ctx, &into.path)?;
    Ok(())
}

buildpack_main!(Pip);

#[cfg(test)]
mod tests;
