//! Example buildpack: the inline script of `examples/inline-uv/project.toml`, in Rust.
//!
//! Teaches one thing: turning a shell script that redoes everything on every build into layers
//! that say what they depend on. `uv` (a cached build-only layer) is kept while uv's version is
//! the same; `venv` (a launch layer) is kept while `uv.lock`, the stack's Python, uv and the
//! greeting are the same, and then reused from the previous image without touching its files.
//! (`buildpacks/uv` adds hash-checked uv, `.python-version`, extras and SBOMs.)

use libbuildpack::layer::{HashError, sha256_file};
use libbuildpack::prelude::*;

// The project's one uv pin (buildpacks/uv's, which the script's `uv==` matches), compiled in from its source.
#[path = "../../../../buildpacks/uv/src/uv/pin.rs"]
#[allow(
    dead_code,
    reason = "this example installs uv by version; the wheel hashes are for buildpacks/uv"
)]
mod uv_pin;

/// The uv the script pins.
const UV_VERSION: &str = uv_pin::VERSION;

/// The buildpack.
pub struct InlineUv;

/// What the `uv` layer holds: uv (and its download cache).
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct UvKey {
    uv: String,
}

/// What the `venv` layer depends on: any change rebuilds it, with the reason in the log.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct VenvKey {
    uv_lock_sha256: String,
    python: String,
    uv: String,
    greeting: String,
}

/// Why the build failed: each variant names the step; [`Buildpack::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum InlineUvError {
    /// `uv.lock` could not be read.
    #[error("could not hash the app's uv.lock")]
    ReadLock(#[from] HashError),
    /// A layer could not be made.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The stack's `python3` did not run.
    #[error("could not run the stack's python3: {0}")]
    Python(String),
    /// pip could not install uv.
    #[error("could not install uv {UV_VERSION} with pip")]
    InstallUv(#[source] CommandError),
    /// `uv sync` failed.
    #[error("uv sync failed")]
    Sync(#[source] CommandError),
    /// The greeting could not be written into the venv.
    #[error("could not write the greeting into the venv")]
    WriteGreeting(#[source] std::io::Error),
}

fn python_version() -> Result<String, InlineUvError> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.version)"])
        .output();
    match out {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).trim().into()),
        Ok(out) => Err(InlineUvError::Python(
            String::from_utf8_lossy(&out.stderr).into(),
        )),
        Err(e) => Err(InlineUvError::Python(e.to_string())),
    }
}

impl Buildpack for InlineUv {
    type Metadata = NoMetadata;
    type Error = InlineUvError;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, InlineUvError> {
        let app = ctx.app_dir();
        if app.join("pyproject.toml").is_file() && app.join("uv.lock").is_file() {
            return Ok(Detect::pass());
        }
        Ok(Detect::fail("no pyproject.toml with a uv.lock"))
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, InlineUvError> {
        ctx.output().section("Python project (uv, in Rust)");
        // Script: `python3 -m venv tools && tools/bin/pip install uv` on every build.
        let uv = ctx.layer("uv").cache().keyed_by(&UvKey {
            uv: UV_VERSION.into(),
        })?;
        if uv.is_new() {
            ctx.run(Command::new("python3").args(["-m", "venv"]).arg(uv.path()))
                .map_err(InlineUvError::InstallUv)?;
            ctx.run(Command::new(uv.path().join("bin/pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                &format!("uv=={UV_VERSION}"),
            ]))
            .map_err(InlineUvError::InstallUv)?;
        }

        // Script: `uv sync` into a fresh venv on every build.
        // An input of the layer like any other: project.toml's build env reaches us as platform env.
        let greeting = ctx.platform_env().get("GREETING").unwrap_or("hello");
        let greeting = greeting.to_string();
        let key = VenvKey {
            uv_lock_sha256: sha256_file(&ctx.app_dir().join("uv.lock"))?,
            python: python_version()?,
            uv: UV_VERSION.into(),
            greeting: greeting.clone(),
        };
        let venv = ctx.layer("venv").launch().keyed_by(&key)?;
        if venv.is_new() {
            ctx.run(
                Command::new(uv.path().join("bin/uv"))
                    .args(["sync", "--locked", "--no-dev", "--no-progress"])
                    .env("UV_PROJECT_ENVIRONMENT", venv.path())
                    .env("UV_PYTHON_DOWNLOADS", "never")
                    .env("UV_PYTHON", "/usr/bin/python3")
                    // uv's cache lives in the cached uv layer; copies keep the venv self-contained.
                    .env("UV_CACHE_DIR", uv.path().join("cache"))
                    .env("UV_LINK_MODE", "copy"),
            )
            .map_err(InlineUvError::Sync)?;
            std::fs::write(venv.path().join("greeting.txt"), &greeting)
                .map_err(InlineUvError::WriteGreeting)?;
        }
        venv.launch_env()
            .prepend_path("PATH", venv.path().join("bin"))?;
        Ok(Build::new().process(Process::web(["python", "app.py"])))
    }

    fn hint(&self, error: &InlineUvError) -> Option<String> {
        let hint = match error {
            InlineUvError::ReadLock(_) => "Run `uv lock` in the app and commit uv.lock.",
            InlineUvError::Python(_) => "Build with a builder whose stack has Python.",
            InlineUvError::InstallUv(_) => "Check that pip's index serves uv.",
            InlineUvError::Sync(_) => "If uv.lock is out of date, run `uv lock` and commit it.",
            InlineUvError::Layer(_) | InlineUvError::WriteGreeting(_) => return None,
        };
        Some(hint.to_owned())
    }
}

buildpack_main!(InlineUv);
