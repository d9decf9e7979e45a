//! The uv buildpack: installs a uv project (`pyproject.toml` + `uv.lock`) into a launch venv with
//! `uv sync --locked`, using the stack's Python and a pinned, hash-checked uv.
//!
//! Layers: `venv` (launch: keyed by the lock, pyproject, Python, uv version and extras; a no-change
//! rebuild reuses the previous image's layer without touching its files). uv itself, uv's download
//! and wheel cache (so a changed lock downloads only what changed) and the last venv (so `uv sync`
//! installs only what changed) live in the build cache volume when the platform mounts one (`rpack
//! build` does), where a build that installs nothing does not touch them; when a changed lock only
//! added packages, the venv layer is kept and the added files go into a small `venv-delta` layer
//! (see [`python_sbom::venv`]). Without a volume, uv and its cache are in the cache layers `uv` and
//! `uv-cache`, restored and archived on every build.
//!
//! Each new venv gets a `CycloneDX` and an SPDX SBOM listing its installed packages.

mod uv;

use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;
use libbuildpack::toolbox::style::indent;
use python_sbom::python;
use python_sbom::venv::{self, InstallInto, VenvError};

/// The buildpack.
pub struct Uv;

/// The build plan entry other buildpacks (ml) require to select the project's extras.
pub const PLAN_ENTRY: &str = "uv-extras";

/// What the venv depends on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct VenvKey {
    /// sha256 of `uv.lock`.
    uv_lock_sha256: String,
    /// sha256 of `pyproject.toml`: a change there must re-run `uv sync --locked`, which notices a
    /// stale lock.
    pyproject_sha256: String,
    /// `sys.version` of the stack's python3.
    python: String,
    /// uv's version.
    uv: String,
    /// Extras selected through the build plan.
    extras: Vec<String>,
    /// Where it runs.
    target: Target,
}

/// What the last venv in the build cache volume must match for `uv sync` to update it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct SeedKey {
    /// `sys.version` of the stack's python3.
    python: String,
    /// uv's version.
    uv: String,
    /// Where it runs.
    target: Target,
    /// The venv layout version.
    layout: String,
}

/// uv's cache depends only on where it runs; uv manages what is inside.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct CacheKey {
    target: Target,
}

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum UvError {
    /// The stack's Python could not be asked for its version.
    #[error(transparent)]
    PythonVersion(#[from] python::PythonVersionError),
    /// `.python-version` asks for a Python the stack does not have.
    #[error(
        ".python-version asks for Python {requested}, but this stack has Python {stack}, and this buildpack does \
         not download other Pythons (UV_PYTHON_DOWNLOADS=never).\nChange .python-version to {stack_minor} (or \
         remove it), or build with a builder whose stack has Python {requested}."
    )]
    UnsupportedPythonVersion {
        /// What `.python-version` says.
        requested: String,
        /// The stack's `X.Y.Z`.
        stack: String,
        /// The stack's `X.Y`.
        stack_minor: String,
    },
    /// A project file could not be read.
    #[error("could not read {}: {source}", path.display())]
    ReadProjectFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// uv could not be put into the build cache volume.
    #[error("could not prepare uv in the build cache volume at {}: {source}", path.display())]
    CacheVolume {
        /// The dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A layer could not be made.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// uv could not be installed.
    #[error(transparent)]
    InstallUv(#[from] uv::InstallUvError),
    /// `uv sync` failed.
    #[error(
        "uv could not install the project ({status}).\nLast lines of uv's output:\n{}\n{hint}",
        indent(last_lines)
    )]
    Sync {
        /// How uv exited.
        status: String,
        /// Its last lines of output.
        last_lines: Vec<String>,
        /// What to do.
        hint: String,
    },
    /// The venv's layers, the copy in the build cache volume or the SBOMs could not be made.
    #[error(transparent)]
    Venv(#[from] VenvError),
    /// The installed packages could not be compiled to bytecode.
    #[error(transparent)]
    Compile(#[from] python_sbom::bytecode::CompileError),
    /// uv could not be started.
    #[error("could not run uv: {0}")]
    RunUv(#[source] CommandError),
}

/// What to do about a failed `uv sync`, from its last lines.
#[must_use]
pub fn hint(last_lines: &[String], stack_python: &str) -> String {
    let text = last_lines.join("\n");
    if text.contains("--locked") && text.contains("lockfile") {
        "uv.lock does not match pyproject.toml. Run `uv lock` in the project, commit the updated uv.lock, then \
         build again."
            .to_string()
    } else if text.contains("incompatible with the project's Python requirement") {
        format!(
            "The project's `requires-python` excludes this stack's Python {stack_python}. Widen `requires-python` \
             in pyproject.toml (then run `uv lock`), or build with a stack that has a matching Python."
        )
    } else {
        "Fix pyproject.toml or uv.lock according to uv's message above (then run `uv lock`), and build again."
            .to_string()
    }
}

fn sha256_of(path: &Path) -> Result<String, UvError> {
    libbuildpack::toolbox::hash::sha256_file(path).map_err(|e| UvError::ReadProjectFile {
        path: e.path,
        source: e.source,
    })
}

/// The extras other buildpacks selected through the build plan (`extras` string arrays).
/// uv and uv's cache dir. In the build cache volume when the platform mounts one: nothing there is restored
/// or archived on builds that do not install. Else in cache layers (`uv`, `uv-cache`).
fn prepare_tools(ctx: &BuildContext, volume: Option<&Path>) -> Result<(PathBuf, PathBuf), UvError> {
    ctx.output().step(format!("Preparing uv {}", uv::VERSION));
    let arch = ctx.target().arch.clone();
    if let Some(volume) = volume {
        let dir = volume.join(format!("uv-{}-{arch}", uv::VERSION));
        let binary = uv::binary(&dir);
        if !binary.is_file() {
            // Installed next to its final place and renamed, so an interrupted install leaves no half uv.
            let staging = volume.join(format!("uv-{}-{arch}.new", uv::VERSION));
            let io = |path: &Path| {
                let path = path.to_owned();
                move |source| UvError::CacheVolume { path, source }
            };
            if staging.exists() {
                std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
            }
            std::fs::create_dir_all(&staging).map_err(io(&staging))?;
            uv::install(ctx, &staging)?;
            std::fs::rename(&staging, &dir).map_err(io(&dir))?;
        }
        return Ok((binary, volume.join(format!("uv-cache-{arch}"))));
    }
    let uv_layer = ctx.layer(layer_name!("uv")).cache().keyed_by(&uv::UvKey {
        uv: uv::VERSION.to_string(),
        arch,
    })?;
    let uv_binary = if uv_layer.is_new() {
        uv::install(ctx, uv_layer.path())?
    } else {
        uv::binary(uv_layer.path())
    };
    let cache = ctx
        .layer(layer_name!("uv-cache"))
        .cache()
        .keyed_by(&CacheKey {
            target: ctx.target().clone(),
        })?;
    Ok((uv_binary, cache.path().to_owned()))
}

fn plan_extras(plan: &BuildpackPlan) -> Vec<String> {
    let mut extras: Vec<String> = plan
        .entries_named(PLAN_ENTRY)
        .flat_map(|entry| {
            entry
                .metadata
                .get("extras")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(toml::Value::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    extras.sort();
    extras.dedup();
    extras
}

impl Buildpack for Uv {
    type Metadata = NoMetadata;
    type Error = UvError;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, UvError> {
        let app = ctx.app_dir();
        if !app.join("pyproject.toml").is_file() {
            return Ok(Detect::fail("no pyproject.toml"));
        }
        if !app.join("uv.lock").is_file() {
            return Ok(Detect::fail(
                "pyproject.toml but no uv.lock (run `uv lock` to use uv)",
            ));
        }
        // Providing and requiring `uv-extras` lets other buildpacks (ml) select extras.
        Ok(Detect::pass().provides(PLAN_ENTRY).requires(PLAN_ENTRY))
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, UvError> {
        ctx.output().section("Python project (uv)");
        let python = python::stack()?;
        let stack_version = python::short(&python.version).to_string();
        let requested = match std::fs::read_to_string(ctx.app_dir().join(".python-version")) {
            Ok(text) => python::requested(&text),
            Err(_) => None,
        };
        if let Some(requested) = requested {
            if !python::satisfies(&stack_version, &requested) {
                let stack_minor = stack_version
                    .split('.')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(".");
                return Err(UvError::UnsupportedPythonVersion {
                    requested,
                    stack: stack_version,
                    stack_minor,
                });
            }
            ctx.output().step(format!(
                "Using Python {stack_version} from the stack (.python-version asks for {requested})"
            ));
        } else {
            ctx.output()
                .step(format!("Using Python {stack_version} from the stack"));
        }

        ctx.output().step("Preparing the venv");
        let extras = plan_extras(ctx.plan());
        let key = VenvKey {
            uv_lock_sha256: sha256_of(&ctx.app_dir().join("uv.lock"))?,
            pyproject_sha256: sha256_of(&ctx.app_dir().join("pyproject.toml"))?,
            python: python.version.clone(),
            uv: uv::VERSION.to_string(),
            extras: extras.clone(),
            target: ctx.target().clone(),
        };
        let volume = ctx.cache_volume();
        // Without a build cache volume, uv and its cache live in cache layers, which must be declared on
        // every build to be kept; with one, an unchanged venv needs neither.
        let mut tools = if volume.is_none() {
            Some(prepare_tools(ctx, None)?)
        } else {
            None
        };
        let spec = venv::Spec {
            seed_key: SeedKey {
                python: key.python.clone(),
                uv: key.uv.clone(),
                target: key.target.clone(),
                layout: "1".to_string(),
            },
            wanted: key,
            python: Path::new(&python.executable),
            state: &[],
        };
        let made = venv::build(ctx, &spec, |into| {
            let (uv_binary, cache_dir) = match tools.take() {
                Some(tools) => tools,
                None => prepare_tools(ctx, volume.as_deref())?,
            };
            sync(
                ctx,
                &uv_binary,
                &cache_dir,
                into,
                &extras,
                &python,
                &stack_version,
            )
        })?;
        let venv = &made.layer;
        venv.launch_env()
            .prepend_path("PATH", venv.path().join("bin"))?
            .set("VIRTUAL_ENV", venv.path())?
            .set_default("PYTHONUNBUFFERED", "1")?;
        Ok(Build::new())
    }
}

/// `uv sync --locked` of the project's dependencies into the venv at `into.path`.
fn sync(
    ctx: &BuildContext,
    uv_binary: &Path,
    cache_dir: &Path,
    into: &InstallInto,
    extras: &[String],
    python: &python::StackPython,
    stack_version: &str,
) -> Result<(), UvError> {
    ctx.output().step(if into.fresh {
        "Installing the locked dependencies"
    } else {
        "Installing the locked dependencies into the last venv, kept in the build cache volume"
    });
    let mut command = Command::new(uv_binary);
    command
        .args([
            "sync",
            "--locked",
            "--no-dev",
            "--no-install-project",
            "--no-progress",
        ])
        .args(extras.iter().flat_map(|e| ["--extra", e.as_str()]))
        .env("UV_PROJECT_ENVIRONMENT", &into.path)
        .env("UV_PYTHON", &python.executable)
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_CACHE_DIR", cache_dir)
        // The cache and the venv are in separate layers or volumes: copies keep them independent.
        .env("UV_LINK_MODE", "copy")
        // Bytecode is compiled afterwards, in parallel and only for what is new (see below).
        .env("UV_COMPILE_BYTECODE", "0")
        .env("PYTHONNOUSERSITE", "1");
    match ctx.run(&mut command) {
        // The run user cannot write the venv, so bytecode is compiled now: checked by hash, and only for
        // files without it, so the kept packages' files stay as they were.
        Ok(()) => Ok(python_sbom::bytecode::compile_missing(ctx, &into.path)?),
        Err(CommandError::Failed {
            status, last_lines, ..
        }) => Err(UvError::Sync {
            status: status.to_string(),
            hint: hint(&last_lines, stack_version),
            last_lines,
        }),
        Err(other) => Err(UvError::RunUv(other)),
    }
}

buildpack_main!(Uv);

#[cfg(test)]
mod tests;
