//! The ml buildpack, for apps using ML frameworks.
//!
//! - Detect: finds the frameworks among the app's dependencies and the accelerator
//!   (`BP_ML_ACCELERATOR`, else the first line of `hardware.txt`, else `cpu`), then asks the
//!   installer for the matching variants through the build plan: pip apps get
//!   `pip-packages` (`packages`, `replaces`), uv apps get `uv-extras` (the extra named like the
//!   accelerator, when pyproject.toml declares one).
//! - Build: labels the image with the accelerator and installs an exec.d program that sets
//!   `OMP_NUM_THREADS` and friends from the container's CPU limit (cgroup v1 or v2).

mod select;
mod threads;

use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;

use select::{Accelerator, Requirement, Selection};

/// The buildpack.
pub struct Ml;

/// The image label naming the accelerator the app was built for.
pub const ACCELERATOR_LABEL: &str = "io.libbuildpack.ml.accelerator";

/// What the `ml` layer holds: the exec.d program of this buildpack version, for this accelerator.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct MlKey {
    accelerator: String,
    buildpack: String,
}

/// Why detect or build failed.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// The accelerator is not one this buildpack knows.
    #[error(transparent)]
    UnknownAccelerator(#[from] select::UnknownAccelerator),
    /// A file could not be read.
    #[error("could not read {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The layer could not be made.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// This program's path is unknown, so it cannot be installed as exec.d.
    #[error("could not find this buildpack's binary to install it as exec.d")]
    CurrentExe(#[source] std::io::Error),
}

fn read_optional(path: &Path) -> Result<Option<String>, MlError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(MlError::ReadFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The accelerator: `BP_ML_ACCELERATOR` wins over `hardware.txt`; `cpu` when neither is set.
fn accelerator<M>(ctx: &DetectContext<M>) -> Result<Accelerator, MlError> {
    if let Some(value) = ctx
        .platform_env()
        .get("BP_ML_ACCELERATOR")
        .filter(|v| !v.trim().is_empty())
    {
        return Ok(Accelerator::parse(value, "BP_ML_ACCELERATOR")?);
    }
    let hardware = read_optional(&ctx.app_dir().join("hardware.txt"))?;
    match hardware.as_deref().and_then(|t| {
        t.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
    }) {
        Some(line) => Ok(Accelerator::parse(line, "hardware.txt")?),
        None => Ok(Accelerator::Cpu),
    }
}

/// The app's requirements that are ML frameworks: requirements.txt lines, or pyproject.toml's
/// `project.dependencies`.
fn frameworks(app: &Path) -> Result<Vec<Requirement>, MlError> {
    let mut lines: Vec<String> = Vec::new();
    if let Some(text) = read_optional(&app.join("requirements.txt"))? {
        lines.extend(text.lines().map(str::to_string));
    }
    if let Some(text) = read_optional(&app.join("pyproject.toml"))?
        && let Ok(doc) = text.parse::<toml::Table>()
    {
        let deps = doc
            .get("project")
            .and_then(|p| p.get("dependencies"))
            .and_then(toml::Value::as_array);
        lines.extend(
            deps.into_iter()
                .flatten()
                .filter_map(toml::Value::as_str)
                .map(str::to_string),
        );
    }
    Ok(lines
        .iter()
        .filter_map(|line| Requirement::parse(line))
        .filter(|r| select::FRAMEWORKS.contains(&r.name.as_str()))
        .collect())
}

/// Whether pyproject.toml declares an optional-dependencies group (extra) named `extra`.
fn declares_extra(app: &Path, extra: &str) -> Result<bool, MlError> {
    let Some(text) = read_optional(&app.join("pyproject.toml"))? else {
        return Ok(false);
    };
    Ok(text
        .parse::<toml::Table>()
        .ok()
        .and_then(|doc| {
            doc.get("project")?
                .get("optional-dependencies")?
                .get(extra)
                .cloned()
        })
        .is_some())
}

fn strings(items: &[String]) -> toml::Value {
    toml::Value::Array(items.iter().cloned().map(toml::Value::String).collect())
}

impl Buildpack for Ml {
    type Metadata = NoMetadata;
    type Error = MlError;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, MlError> {
        let app = ctx.app_dir();
        let found = frameworks(app)?;
        if found.is_empty() {
            return Ok(Detect::fail(format!(
                "no ML framework among the app's dependencies (looked for {})",
                select::FRAMEWORKS.join(", ")
            )));
        }
        let accelerator = accelerator(ctx)?;
        let mut metadata = toml::Table::new();
        metadata.insert("accelerator".into(), accelerator.as_str().into());
        metadata.insert(
            "requested-by".into(),
            ctx.buildpack().buildpack.id.as_str().into(),
        );
        if app.join("uv.lock").is_file() {
            let extras: Vec<String> = if declares_extra(app, accelerator.as_str())? {
                vec![accelerator.as_str().to_string()]
            } else {
                Vec::new()
            };
            metadata.insert("extras".into(), strings(&extras));
            Ok(Detect::pass().requires_with("uv-extras", metadata))
        } else {
            let Selection {
                packages, replaces, ..
            } = select::select(&found, accelerator, &ctx.target().arch);
            metadata.insert("packages".into(), strings(&packages));
            metadata.insert("replaces".into(), strings(&replaces));
            Ok(Detect::pass().requires_with("pip-packages", metadata))
        }
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, MlError> {
        ctx.output().section("ML");
        // Detect already chose; its choice is in the plan this buildpack required.
        let accelerator = ctx
            .plan()
            .entries
            .iter()
            .find_map(|e| e.metadata.get("accelerator").and_then(toml::Value::as_str))
            .unwrap_or("cpu")
            .to_string();
        let found = frameworks(ctx.app_dir())?;
        ctx.output().step(format!(
            "Accelerator: {accelerator}; frameworks: {}",
            found
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if let Ok(parsed) = Accelerator::parse(&accelerator, "the build plan") {
            let selection = select::select(&found, parsed, &ctx.target().arch);
            for note in &selection.notes {
                ctx.output().detail(note);
            }
        }
        for entry in ctx.plan().entries_named("uv-extras") {
            if entry
                .metadata
                .get("extras")
                .and_then(toml::Value::as_array)
                .is_some_and(Vec::is_empty)
                && accelerator != "cpu"
            {
                ctx.output().warn(format!(
                    "pyproject.toml declares no `{accelerator}` extra: add [project.optional-dependencies] {accelerator} = [...] with the {accelerator} variants"
                ));
            }
        }

        ctx.output()
            .step("Setting thread counts from the CPU limit at launch (exec.d)");
        let layer = ctx.layer(layer_name!("ml")).launch().keyed_by(&MlKey {
            accelerator: accelerator.clone(),
            buildpack: ctx.buildpack().buildpack.version.to_string(),
        })?;
        let program = std::env::current_exe().map_err(MlError::CurrentExe)?;
        layer.install_exec_d("threads", &program)?;
        layer.launch_env().set("ML_ACCELERATOR", &accelerator)?;
        Ok(Build::new().label(ACCELERATOR_LABEL, accelerator))
    }
}

buildpack_main!(Ml, exec_d = threads::exec_d);

#[cfg(test)]
mod tests;
