//! Run a buildpack's detect and build in-process, against temp dirs laid out as the lifecycle
//! would, and look at what they wrote.
//!
//! Needs the `testing` feature, which a buildpack enables in `[dev-dependencies]`
//! (`libbuildpack = { ..., features = ["testing"] }`). These docs are in a buildpack's own `cargo doc`
//! without the feature too (`cargo doc` leaves out dev-dependency features).
//!
//! ```no_run
//! # struct Hello;
//! # impl libbuildpack::Buildpack for Hello {
//! #     type Metadata = libbuildpack::data::NoMetadata;
//! #     type Error = libbuildpack::LayerError;
//! #     fn detect(&self, _: &libbuildpack::DetectContext) -> Result<libbuildpack::Detect, Self::Error> { todo!() }
//! #     fn build(&self, _: &mut libbuildpack::BuildContext) -> Result<libbuildpack::Build, Self::Error> { todo!() }
//! # }
//! use libbuildpack::testing::TestContext;
//!
//! let ctx = TestContext::new(env!("CARGO_MANIFEST_DIR"))?;
//! ctx.app_file("hello.txt", "hi")?;
//! assert!(ctx.detect(&Hello)?.passed());
//! let build = ctx.build(&Hello)?;
//! assert_eq!(build.exit_code, 0);
//! assert!(build.layer("hello").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod errors;

/// Assertions on a run's output that show the whole output when they fail.
pub use crate::{assert_contains, assert_not_contains};
pub use errors::{assert_causes_not_repeated, error_chain};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::buildpack::Buildpack;
use crate::data::{
    BuildPlan, BuildToml, BuildpackDescriptor, BuildpackPlan, LaunchToml, LayerToml, NoMetadata,
    TomlFileError,
};
use crate::entry::{Inputs, Phase, run_phase};
use crate::output::Output;
use crate::platform::Target;
use crate::toolbox::capture::Capture;

/// The temp dir type: `tempfile`'s, which is a dependency only with the `testing` feature. The module is also
/// compiled for `cargo doc` without it (see the crate root), where any type does.
#[cfg(feature = "testing")]
type TempDir = tempfile::TempDir;
#[cfg(not(feature = "testing"))]
type TempDir = PathBuf;

/// A temp workspace for one buildpack: app, platform and layers dirs and plan files.
///
/// Layers persist across [`build`](Self::build) calls, so
/// [`restore_for_next_build`](Self::restore_for_next_build) followed by another build tests
/// what a rebuild keeps.
#[derive(Debug)]
pub struct TestContext {
    root: TempDir,
    buildpack_dir: PathBuf,
    app_dir: PathBuf,
    platform_dir: PathBuf,
    layers_dir: PathBuf,
    target: Target,
    exec_env: String,
}

/// Setting up or reading the test workspace failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// A file or directory operation failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A CNB file could not be read.
    #[error(transparent)]
    Toml(#[from] TomlFileError),
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> TestError {
    let path = path.to_path_buf();
    move |source| TestError::Io {
        action,
        path,
        source,
    }
}

/// What a detect run produced.
#[derive(Debug, Clone)]
pub struct DetectRun {
    /// The exit code the binary would have exited with (0 pass, 100 fail, 1 error).
    pub exit_code: u8,
    /// The build plan written, when detect passed.
    pub plan: Option<BuildPlan>,
    /// Everything printed (stdout and stderr together).
    pub output: String,
}

impl DetectRun {
    /// Whether detection passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.exit_code == crate::DETECT_PASS
    }
}

/// What a build run produced.
#[derive(Debug, Clone)]
pub struct BuildRun {
    /// The exit code the binary would have exited with (0 success, 1 error).
    pub exit_code: u8,
    /// `launch.toml`, when written.
    pub launch: Option<LaunchToml>,
    /// `build.toml`, when written.
    pub build: Option<BuildToml>,
    /// Every `<layer>.toml` in the layers dir, by layer name.
    pub layers: BTreeMap<String, LayerToml>,
    /// Everything printed (stdout and stderr together).
    pub output: String,
}

impl BuildRun {
    /// Whether the build succeeded.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.exit_code == 0
    }

    /// The `<layer>.toml` of layer `name`.
    #[must_use]
    pub fn layer(&self, name: &str) -> Option<&LayerToml> {
        self.layers.get(name)
    }
}

impl TestContext {
    /// A workspace for the buildpack whose `buildpack.toml` is in `buildpack_dir` (usually
    /// `env!("CARGO_MANIFEST_DIR")`). The app dir starts empty; the target is `linux` and the
    /// host architecture.
    ///
    /// # Errors
    ///
    /// [`TestError`] when `buildpack.toml` cannot be read or the temp dirs cannot be made.
    pub fn new(buildpack_dir: impl Into<PathBuf>) -> Result<Self, TestError> {
        let buildpack_dir = buildpack_dir.into();
        let descriptor: BuildpackDescriptor<NoMetadata> =
            BuildpackDescriptor::read(buildpack_dir.join("buildpack.toml"))?;
        let root = tempfile::Builder::new()
            .prefix("libbuildpack-test-")
            .tempdir()
            .map_err(io_err("creating a temp dir in", &std::env::temp_dir()))?;
        let app_dir = root.path().join("workspace");
        let platform_dir = root.path().join("platform");
        let layers_dir = root
            .path()
            .join("layers")
            .join(descriptor.buildpack.id.escaped());
        for dir in [&app_dir, &platform_dir.join("env"), &layers_dir] {
            std::fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
        }
        let mut target = Target::host();
        target.os = "linux".into();
        Ok(Self {
            root,
            buildpack_dir,
            app_dir,
            platform_dir,
            layers_dir,
            target,
            exec_env: "production".into(),
        })
    }

    /// The app dir.
    #[must_use]
    pub fn app_dir(&self) -> &Path {
        &self.app_dir
    }

    /// The platform dir.
    #[must_use]
    pub fn platform_dir(&self) -> &Path {
        &self.platform_dir
    }

    /// This buildpack's layers dir (`<layers>/<escaped id>`).
    #[must_use]
    pub fn layers_dir(&self) -> &Path {
        &self.layers_dir
    }

    /// Writes a file into the app dir, making parent dirs.
    ///
    /// # Errors
    ///
    /// [`TestError::Io`] when it cannot be written.
    pub fn app_file(
        &self,
        relative: impl AsRef<Path>,
        contents: impl AsRef<[u8]>,
    ) -> Result<&Self, TestError> {
        let path = self.app_dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err("creating", parent))?;
        }
        std::fs::write(&path, contents).map_err(io_err("writing", &path))?;
        Ok(self)
    }

    /// Copies a fixture directory's contents into the app dir.
    ///
    /// # Errors
    ///
    /// [`TestError::Io`] when a file cannot be copied.
    pub fn copy_app(&self, fixture: impl AsRef<Path>) -> Result<&Self, TestError> {
        let fixture = fixture.as_ref();
        crate::toolbox::copy::copy_tree(fixture, &self.app_dir)
            .map_err(|e| io_err("copying", fixture)(e.into()))?;
        Ok(self)
    }

    /// Sets a user env variable (`<platform>/env/<name>`).
    ///
    /// # Errors
    ///
    /// [`TestError::Io`] when it cannot be written.
    pub fn platform_env(&self, name: &str, value: &str) -> Result<&Self, TestError> {
        let path = self.platform_dir.join("env").join(name);
        std::fs::write(&path, value).map_err(io_err("writing", &path))?;
        Ok(self)
    }

    /// Gives the build a cache volume, as `rpack build` does (see
    /// [`BuildContext::cache_volume`](crate::BuildContext::cache_volume)): a dir that keeps its contents across
    /// the builds of this context. Returns its path.
    ///
    /// # Errors
    ///
    /// [`TestError::Io`] when it cannot be created or named in the platform env.
    pub fn cache_volume(&self) -> Result<PathBuf, TestError> {
        let dir = self.root.path().join("cache-volume");
        std::fs::create_dir_all(&dir).map_err(io_err("creating", &dir))?;
        self.platform_env(crate::data::CACHE_VOLUME_ENV, &dir.to_string_lossy())?;
        Ok(dir)
    }

    /// Sets the target the phases see.
    #[must_use]
    pub fn with_target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Sets the execution environment the phases see.
    #[must_use]
    pub fn with_exec_env(mut self, exec_env: impl Into<String>) -> Self {
        self.exec_env = exec_env.into();
        self
    }

    fn inputs(&self, phase: Phase, plan_path: PathBuf) -> Inputs {
        Inputs {
            phase,
            app_dir: self.app_dir.clone(),
            buildpack_dir: self.buildpack_dir.clone(),
            platform_dir: self.platform_dir.clone(),
            plan_path,
            layers_dir: (phase == Phase::Build).then(|| self.layers_dir.clone()),
            target: self.target.clone(),
            exec_env: self.exec_env.clone(),
        }
    }

    /// Runs detect, as the lifecycle would (the plan file exists and is empty beforehand).
    ///
    /// # Errors
    ///
    /// [`TestError`] when the plan file cannot be made or the written plan cannot be read.
    pub fn detect<B: Buildpack>(&self, buildpack: &B) -> Result<DetectRun, TestError> {
        let plan_dir = self.root.path().join("detect");
        std::fs::create_dir_all(&plan_dir).map_err(io_err("creating", &plan_dir))?;
        let plan_path = plan_dir.join("plan.toml");
        std::fs::write(&plan_path, "").map_err(io_err("writing", &plan_path))?;
        let capture = Capture::default();
        let exit_code = run_phase(
            buildpack,
            &self.inputs(Phase::Detect, plan_path.clone()),
            &Output::to_writer(capture.clone()),
        );
        let plan = if exit_code == crate::DETECT_PASS {
            Some(BuildPlan::read(&plan_path)?)
        } else {
            None
        };
        Ok(DetectRun {
            exit_code,
            plan,
            output: capture.text(),
        })
    }

    /// Runs build with an empty buildpack plan. See [`build_with_plan`](Self::build_with_plan).
    ///
    /// # Errors
    ///
    /// See [`build_with_plan`](Self::build_with_plan).
    pub fn build<B: Buildpack>(&self, buildpack: &B) -> Result<BuildRun, TestError> {
        self.build_with_plan(buildpack, &BuildpackPlan::default())
    }

    /// Runs build with `plan` as the buildpack plan, then reads what it wrote.
    ///
    /// # Errors
    ///
    /// [`TestError`] when the plan cannot be written or an output file cannot be read.
    pub fn build_with_plan<B: Buildpack>(
        &self,
        buildpack: &B,
        plan: &BuildpackPlan,
    ) -> Result<BuildRun, TestError> {
        let plan_dir = self.root.path().join("build-plan");
        std::fs::create_dir_all(&plan_dir).map_err(io_err("creating", &plan_dir))?;
        let plan_path = plan_dir.join("plan.toml");
        plan.write(&plan_path)?;
        let capture = Capture::default();
        let exit_code = run_phase(
            buildpack,
            &self.inputs(Phase::Build, plan_path),
            &Output::to_writer(capture.clone()),
        );
        let launch_path = self.layers_dir.join("launch.toml");
        let build_path = self.layers_dir.join("build.toml");
        Ok(BuildRun {
            exit_code,
            launch: launch_path
                .exists()
                .then(|| LaunchToml::read(&launch_path))
                .transpose()?,
            build: build_path
                .exists()
                .then(|| BuildToml::read(&build_path))
                .transpose()?,
            layers: self.layer_tomls()?,
            output: capture.text(),
        })
    }

    fn layer_tomls(&self) -> Result<BTreeMap<String, LayerToml>, TestError> {
        let mut layers = BTreeMap::new();
        let entries =
            std::fs::read_dir(&self.layers_dir).map_err(io_err("reading", &self.layers_dir))?;
        for entry in entries {
            let entry = entry.map_err(io_err("reading", &self.layers_dir))?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(name) = file_name.strip_suffix(".toml") else {
                continue;
            };
            if matches!(name, "launch" | "build" | "store") {
                continue;
            }
            layers.insert(name.to_string(), LayerToml::read(entry.path())?);
        }
        Ok(layers)
    }

    /// Leaves the layers dir as the lifecycle's restorer would for the next build, with a
    /// cache and a previous image: launch.toml and build.toml are removed; every
    /// `<layer>.toml` keeps only `[metadata]`; a launch-only layer loses its files (they stay
    /// in the previous image); a cached layer keeps them; other layers are removed.
    ///
    /// # Errors
    ///
    /// [`TestError`] when a file cannot be read, rewritten or removed.
    pub fn restore_for_next_build(&self) -> Result<(), TestError> {
        for file in ["launch.toml", "build.toml"] {
            let path = self.layers_dir.join(file);
            if path.exists() {
                std::fs::remove_file(&path).map_err(io_err("removing", &path))?;
            }
        }
        for (name, layer) in self.layer_tomls()? {
            let types = layer.types.unwrap_or_default();
            let dir = self.layers_dir.join(&name);
            let toml_path = self.layers_dir.join(format!("{name}.toml"));
            let keep_toml = types.cache || (types.launch && !types.build);
            let keep_dir = types.cache;
            if dir.exists() && !keep_dir {
                std::fs::remove_dir_all(&dir).map_err(io_err("removing", &dir))?;
            }
            if keep_toml {
                LayerToml::<toml::Table> {
                    types: None,
                    metadata: layer.metadata,
                }
                .write(&toml_path)?;
            } else {
                std::fs::remove_file(&toml_path).map_err(io_err("removing", &toml_path))?;
            }
        }
        Ok(())
    }
}
