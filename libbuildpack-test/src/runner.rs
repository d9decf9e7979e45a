//! The shared test runner and what one test build asks for.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use rpack::build::platform::{self, BuildOptions, BuilderSource};
use rpack::oci::reference::ImageRef;
use rpack::provision::lifecycle::{self, Lifecycle};
use rpack::store::Store;
use rpack::toolbox::ui::Ui;

use crate::build::TestBuild;
use crate::error::TestError;
use crate::stack_builder;

/// Whether a build is expected to pass or fail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Outcome {
    /// The build must pass.
    #[default]
    Pass,
    /// The build must fail (for testing error output).
    Fail,
}

/// One build: the app, the builder, env and the expected outcome.
#[derive(Clone, Debug)]
pub struct BuildConfig {
    pub(crate) app_dir: PathBuf,
    pub(crate) builder: Option<BuilderSource>,
    pub(crate) stack: Option<String>,
    pub(crate) buildpacks: Vec<PathBuf>,
    pub(crate) image: Option<ImageRef>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) operator_env: Vec<(String, String)>,
    pub(crate) outcome: Outcome,
    pub(crate) timeout: Duration,
    /// Start without the previous image and cache (every build but a rebuild), so a test sees the same
    /// output whatever ran before it.
    pub(crate) fresh: bool,
}

impl BuildConfig {
    /// Builds the app at `app_dir` (relative paths are taken from the crate's dir, as `cargo test` runs there).
    #[must_use]
    pub fn new(app_dir: impl Into<PathBuf>) -> Self {
        Self {
            app_dir: app_dir.into(),
            builder: None,
            stack: None,
            buildpacks: Vec::new(),
            image: None,
            env: Vec::new(),
            operator_env: Vec::new(),
            outcome: Outcome::Pass,
            timeout: Duration::from_secs(600),
            fresh: true,
        }
    }

    /// Builds with the builder made from this `builder.toml`.
    #[must_use]
    pub fn builder_toml(mut self, path: impl Into<PathBuf>) -> Self {
        self.builder = Some(BuilderSource::Config(path.into()));
        self
    }

    /// Builds with a builder image from rpack's store.
    #[must_use]
    pub fn builder_image(mut self, image: ImageRef) -> Self {
        self.builder = Some(BuilderSource::Image(image));
        self
    }

    /// Builds with a builder rpack makes on the fly: the crate under test (the crate whose tests are running,
    /// packaged once per test run) followed by [`BuildConfig::buildpack`]s, in one order group, over one of
    /// rpack's stacks (`tiny` without Python, `python`). This is the default, on `tiny`, when no builder is
    /// given.
    #[must_use]
    pub fn stack(mut self, stack: impl Into<String>) -> Self {
        self.stack = Some(stack.into());
        self
    }

    /// Adds a buildpack (a buildpack dir or a Rust crate with a `buildpack.toml`) after the crate under test, for
    /// builds on a [`BuildConfig::stack`].
    #[must_use]
    pub fn buildpack(mut self, dir: impl Into<PathBuf>) -> Self {
        self.buildpacks.push(dir.into());
        self
    }

    /// Names the app image. By default a build in a test is named after the test (and how many builds it
    /// started before), so running the test again replaces its image instead of adding one.
    ///
    /// ```
    /// use libbuildpack_test::{BuildConfig, ImageRef};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let image: ImageRef = "localhost/my-tests/models:latest".parse()?;
    /// let config = BuildConfig::new("tests/fixtures/app").image(image);
    /// # let _ = config;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn image(mut self, image: ImageRef) -> Self {
        self.image = Some(image);
        self
    }

    /// Sets a user env var for the buildpacks (`/platform/env/<key>`).
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets an operator env var in the builder of a [`BuildConfig::stack`] build (`[[build.env]]` of its
    /// builder.toml, `/cnb/build-config/env/<key>`), as a builder made for users would: the place for a
    /// buildpack's own settings, such as where its tool finds the CA bundle. The harness itself sets only
    /// `SSL_CERT_FILE`, to the stack's CA bundle (the host's).
    ///
    /// ```
    /// use libbuildpack_test::BuildConfig;
    ///
    /// let config = BuildConfig::new("tests/fixtures/app")
    ///     .stack("python")
    ///     .build_config_env("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt");
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn build_config_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.operator_env.push((key.into(), value.into()));
        self
    }

    /// Expects the build to pass or fail.
    #[must_use]
    pub fn expect(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Bounds the build's time (default 10 minutes); a build over it is stopped and fails, naming its phase.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The app image: the one given, or one named after the test (see [`crate::naming`]).
    fn image_ref(&self) -> ImageRef {
        self.image
            .clone()
            .unwrap_or_else(|| crate::naming::app_image(&self.app_dir, self.builder.as_ref()))
    }
}

/// Runs test builds. One per test process ([`TestRunner::shared`]); it checks once that podman and the lifecycle
/// are there, and builders made from one `builder.toml` are shared by every test.
#[derive(Debug)]
pub struct TestRunner {
    store: Store,
    builders: Mutex<std::collections::HashMap<PathBuf, ImageRef>>,
}

static SHARED: OnceLock<Result<TestRunner, Arc<TestError>>> = OnceLock::new();

impl TestRunner {
    /// The runner shared by every test of this process, using rpack's store (`RPACK_HOME`, or its default).
    ///
    /// # Errors
    /// When the store cannot be opened or the lifecycle is not installed (the error says how to install it).
    pub fn shared() -> Result<&'static Self, TestError> {
        SHARED
            .get_or_init(|| Self::new().map_err(Arc::new))
            .as_ref()
            .map_err(|source| TestError::RunnerSetup {
                source: Arc::clone(source),
            })
    }

    fn new() -> Result<Self, TestError> {
        let store = Store::from_env().map_err(|e| TestError::rpack(e, String::new()))?;
        Lifecycle::locate(&store, lifecycle::DEFAULT_VERSION)
            .map_err(|e| TestError::rpack(e, String::new()))?;
        Ok(Self {
            store,
            builders: Mutex::default(),
        })
    }

    /// rpack's store the runner uses.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs the build and checks its outcome.
    ///
    /// # Errors
    /// When the build does not end as [`BuildConfig::expect`] says, or cannot run at all; the error holds the
    /// build log.
    pub fn build(&'static self, config: BuildConfig) -> Result<TestBuild, TestError> {
        let log = Log::default();
        let ui = Ui::to_writer(log.clone());
        let builder = match config.builder.clone() {
            Some(builder) => builder,
            None => BuilderSource::Config(self.stack_builder(&config)?),
        };
        let options = BuildOptions {
            image: config.image_ref(),
            app_dir: absolute(&config.app_dir),
            builder: match builder {
                BuilderSource::Config(path) => self.builder_for(&absolute(&path), &ui, &log)?,
                image @ BuilderSource::Image(_) => image,
            },
            env: config.env.clone(),
            clear_cache: false,
            timeout: Some(config.timeout),
            platform: None,
        };
        if config.fresh {
            self.forget(&options.image)?;
        }
        let result = platform::build(&self.store, &options, &ui);
        let output = log.text();
        match (result, config.outcome) {
            (Ok(built), Outcome::Pass) => {
                Ok(TestBuild::new(self, config, options, Some(built), output))
            }
            (Ok(_), Outcome::Fail) => Err(TestError::UnexpectedPass { log: output }),
            (Err(err), Outcome::Pass) => Err(TestError::rpack(err, output)),
            (Err(err), Outcome::Fail) => {
                // As the CLI prints it: the message, then each cause on its own line.
                let mut output = format!("{output}error: {err}\n");
                let mut cause = std::error::Error::source(&err);
                while let Some(inner) = cause {
                    output = format!("{output}caused by: {inner}\n");
                    cause = inner.source();
                }
                Ok(TestBuild::new(self, config, options, None, output))
            }
        }
    }
}

impl TestRunner {
    /// The builder made from `config`, made once per test process: every later build of this process uses the
    /// image. (Across processes rpack reuses a builder whose sources did not change, without running cargo.)
    fn builder_for(&self, config: &Path, ui: &Ui, log: &Log) -> Result<BuilderSource, TestError> {
        let mut made = self.builders.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(image) = made.get(config) {
            return Ok(BuilderSource::Image(image.clone()));
        }
        let name = crate::naming::builder_image(config);
        // Making a stack or building the buildpack crates can take minutes: show it as it happens.
        let (progress, _step) =
            crate::progress::start(std::io::stderr(), crate::progress::PROGRESS_AFTER);
        let ui = ui.clone().with_progress(progress);
        rpack::provision::builder::ensure(&self.store, config, &name, &ui)
            .map_err(|e| TestError::rpack(e, log.text()))?;
        made.insert(config.to_owned(), name.clone());
        Ok(BuilderSource::Image(name))
    }

    /// Writes the builder.toml of a [`BuildConfig::stack`] build: the crate under test and the extra buildpacks
    /// in one group, with the stack's CA bundle and the config's build-config env. Its path depends only on its
    /// contents, so the builder is made once and reused.
    fn stack_builder(&self, config: &BuildConfig) -> Result<PathBuf, TestError> {
        let stack = config.stack.as_deref().unwrap_or("tiny");
        let mut dirs = Vec::new();
        if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from)
            && dir.join("buildpack.toml").is_file()
        {
            dirs.push(dir);
        }
        dirs.extend(config.buildpacks.iter().map(|d| absolute(d)));
        let builder = stack_builder::builder_toml(stack, &dirs, &config.operator_env)?;
        stack_builder::write(&builder, &self.store.home().join("test-builders"))
    }

    /// Removes an app image, its build cache and its build cache volume from the store.
    fn forget(&self, image: &ImageRef) -> Result<(), TestError> {
        let _lock = self
            .store
            .lock(&image.to_string())
            .map_err(|e| TestError::rpack(e, String::new()))?;
        for dir in [
            self.store.image_layout(image).root().to_owned(),
            self.store.build_cache_dir(image),
            self.store.cache_volume_dir(image),
        ] {
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .map_err(|source| TestError::Forget { path: dir, source })?;
            }
        }
        Ok(())
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The build output, captured for assertions and error messages.
type Log = libbuildpack::toolbox::capture::Capture;
