//! The pip buildpack: installs `requirements.txt` (plus packages other buildpacks require through
//! the `pip-packages` plan entry) into a venv made with the stack's Python.
//!
//! The venv is a launch-only layer keyed by the Python version, the target and the requirements:
//! while they are unchanged the previous image's layer is reused without restoring or archiving it,
//! so a rebuild does not grow with the venv. When the requirements change, pip installs into a copy
//! of the last venv kept in the build cache volume, so unchanged packages are not downloaded again
//! (the index sends no cache headers, so pip's HTTP cache would not help).
//!
//! Each new venv gets `CycloneDX` and SPDX SBOMs from what is installed in it; a reused one keeps
//! those of the previous image.

mod install;
mod requirements;
mod seed;

use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;
use libbuildpack::sbom::SbomOwner;
use python_sbom::python;

use install::InstallError;
use requirements::{PlanPackages, Requirements};

/// The buildpack.
pub struct Pip;

/// What the venv depends on. A venv whose key is unchanged is reused from the previous image
/// without its files being restored (a launch-only layer); a changed one is rebuilt from the copy
/// in the build cache volume (see [`seed`]) or from scratch.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
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
    /// Creating the venv or installing into it failed.
    #[error(transparent)]
    Install(#[from] InstallError),
    /// The venv's packages could not be listed for its SBOM.
    #[error(transparent)]
    ListPackages(#[from] python_sbom::ListPackagesError),
    /// The venv's SBOM could not be written.
    #[error("could not write the venv's SBOM: {0}")]
    WriteSbom(#[from] libbuildpack::sbom::SbomError),
    /// The record of what was installed could not be written.
    #[error("could not write {}: {source}", path.display())]
    WriteState {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
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
        let seed_key = seed::SeedKey {
            python,
            target: ctx.target().clone(),
            // 3: venvs without pip of their own.
            layout: "3".to_string(),
        };
        let key = VenvKey {
            python: seed_key.python.clone(),
            target: seed_key.target.clone(),
            layout: seed_key.layout.clone(),
            requirements_sha256: wanted.sha256.clone(),
        };
        let venv = ctx.layer(layer_name!("venv")).launch().keyed_by(&key)?;
        if venv.is_new() {
            install_venv(ctx, Path::new(&stack.executable), &venv, &wanted, &seed_key)?;
        } else {
            // The venv and its SBOMs stay in the previous image: nothing is restored or archived again.
            ctx.output()
                .step("Requirements unchanged: nothing to install");
        }

        // The app dir goes into the image: its requirement files keep no password.
        wanted.mask_app_files()?;

        venv.env()
            .prepend_path("PATH", venv.path().join("bin"))?
            .set("VIRTUAL_ENV", venv.path())?;
        // Logs reach the platform as they happen, not when a buffer fills.
        venv.launch_env().set_default("PYTHONUNBUFFERED", "1")?;
        Ok(Build::new())
    }
}

/// Fills the new venv layer: from the copy of the last venv in the build cache volume when there is one for
/// this Python and target (pip then installs only what changed), else from a fresh venv; then writes its SBOMs
/// and refreshes the copy.
fn install_venv(
    ctx: &BuildContext,
    python: &Path,
    venv: &Layer,
    wanted: &Requirements,
    seed_key: &seed::SeedKey,
) -> Result<(), PipError> {
    let state = install::State::new(venv.path());
    let seed = ctx.cache_volume().map(|dir| seed::Seed::in_volume(&dir));
    let seeded = match &seed {
        Some(seed) if seed.matches(seed_key) => match seed.copy_into(venv.path()) {
            Ok(()) => state.read(),
            Err(e) => {
                ctx.output().warn(format!(
                    "Starting a fresh venv: the build cache's copy is unusable ({e})"
                ));
                std::fs::remove_dir_all(venv.path())
                    .and_then(|()| std::fs::create_dir_all(venv.path()))
                    .map_err(|source| PipError::WriteState {
                        path: venv.path().to_owned(),
                        source,
                    })?;
                None
            }
        },
        _ => None,
    };
    if let Some(old) = seeded {
        ctx.output().step(
            "Requirements changed: installing into a copy of the last venv (installed packages are not downloaded again)",
        );
        install::install(ctx, python, venv.path(), &state, wanted)?;
        let removed = requirements::removed_names(&old.text, &wanted.recorded);
        install::uninstall(ctx, python, venv.path(), &removed)?;
    } else {
        install::create_venv(ctx, python, venv.path())?;
        ctx.output().step("Installing requirements");
        install::install(ctx, python, venv.path(), &state, wanted)?;
    }
    record(&state, wanted)?;
    let sbom = python_sbom::venv_sbom(venv.path())?;
    ctx.write_sbom(SbomOwner::Layer(venv), &sbom)?;
    if let Some(seed) = seed
        && let Err(e) = seed.update_from(venv.path(), seed_key)
    {
        ctx.output().warn(format!(
            "The next change of requirements will start a fresh venv: {e}"
        ));
    }
    Ok(())
}

fn record(state: &install::State, installed: &Requirements) -> Result<(), PipError> {
    state
        .write(installed)
        .map_err(|(path, source)| PipError::WriteState { path, source })
}

buildpack_main!(Pip);

#[cfg(test)]
mod tests;
