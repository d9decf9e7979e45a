//! The pip buildpack: installs `requirements.txt` (plus packages other buildpacks require through
//! the `pip-packages` plan entry) into a venv made with the stack's Python.
//!
//! The venv is a launch and cache layer keyed by the Python version and the target. When only the
//! requirements change, pip installs into the existing venv, so unchanged packages are not
//! downloaded again (the index sends no cache headers, so pip's HTTP cache would not help).
//!
//! Every build writes the venv's `CycloneDX` and SPDX SBOMs from what is installed in it.

mod install;
mod requirements;

use std::path::PathBuf;

use libbuildpack::prelude::*;
use libbuildpack::sbom::SbomOwner;
use python_sbom::python;

use install::InstallError;
use requirements::{PlanPackages, Requirements};

/// The buildpack.
pub struct Pip;

/// What the venv depends on. Requirements are not part of it: a change there is installed
/// into the kept venv (see [`install`]).
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct VenvKey {
    /// `sys.version` of the stack's python3.
    python: String,
    /// Where it runs: a venv's compiled extensions are built for one platform.
    target: Target,
    /// Bumped when this buildpack lays out the venv differently. A string: the lifecycle hands
    /// integer metadata back as floats (1 → 1.0), which would never compare equal.
    layout: String,
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
        let python = python::stack()?.version;
        ctx.output().step(format!(
            "Using Python {} from the stack",
            python::short(&python)
        ));
        let plan = PlanPackages::from_plan(ctx.plan());
        let wanted = Requirements::load(ctx.app_dir(), &plan)?;
        if !plan.packages.is_empty() {
            ctx.output().step(format!(
                "Adding {} from the build plan ({})",
                plan.packages.join(", "),
                plan.requested_by.join(", ")
            ));
        }

        ctx.output().step("Preparing the venv");
        let key = VenvKey {
            python,
            target: ctx.target().clone(),
            layout: "1".to_string(),
        };
        let venv = ctx
            .layer(layer_name!("venv"))
            .launch()
            .cache()
            .keyed_by(&key)?;
        let state = install::State::new(venv.path());
        if venv.is_new() {
            install::create_venv(ctx, venv.path())?;
            ctx.output().step("Installing requirements");
            install::install(ctx, venv.path(), &state, &wanted.text)?;
            record(&state, &wanted)?;
        } else {
            match state.read() {
                Some(old) if old.sha256 == wanted.sha256 => {
                    ctx.output()
                        .step("Requirements unchanged: nothing to install");
                }
                old => {
                    ctx.output().step(
                        "Requirements changed: installing into the kept venv (installed packages are not downloaded again)",
                    );
                    install::install(ctx, venv.path(), &state, &wanted.text)?;
                    let removed = old
                        .map(|old| requirements::removed_names(&old.text, &wanted.text))
                        .unwrap_or_default();
                    install::uninstall(ctx, venv.path(), &removed)?;
                    record(&state, &wanted)?;
                }
            }
        }

        // Written on every build (the list takes a fraction of a second): it is deterministic, so an
        // unchanged venv keeps the same SBOM files and the image's SBOM layer its digest.
        let sbom = python_sbom::venv_sbom(venv.path())?;
        ctx.write_sbom(SbomOwner::Layer(&venv), &sbom)?;

        venv.env()
            .prepend_path("PATH", venv.path().join("bin"))?
            .set("VIRTUAL_ENV", venv.path())?;
        // Logs reach the platform as they happen, not when a buffer fills.
        venv.launch_env().set_default("PYTHONUNBUFFERED", "1")?;
        Ok(Build::new())
    }
}

fn record(state: &install::State, installed: &Requirements) -> Result<(), PipError> {
    state
        .write(installed)
        .map_err(|(path, source)| PipError::WriteState { path, source })
}

buildpack_main!(Pip);

#[cfg(test)]
mod tests;
