//! What detect and build see: the app, the buildpack, the platform and the target.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::data::{BuildpackDescriptor, BuildpackPlan};
use crate::layer::LayerBuilder;
use crate::output::{CommandError, Output};
use crate::platform::{PlatformEnv, Target};

/// The inputs both phases share.
#[derive(Debug)]
pub(crate) struct Common<M> {
    pub(crate) app_dir: PathBuf,
    pub(crate) buildpack_dir: PathBuf,
    pub(crate) platform_dir: PathBuf,
    pub(crate) platform_env: PlatformEnv,
    pub(crate) descriptor: BuildpackDescriptor<M>,
    pub(crate) metadata: M,
    pub(crate) target: Target,
    pub(crate) exec_env: String,
    pub(crate) output: Output,
}

macro_rules! common_accessors {
    () => {
        /// The app directory (the working directory the lifecycle starts the phase in).
        #[must_use]
        pub fn app_dir(&self) -> &Path {
            &self.common.app_dir
        }

        /// The buildpack's root directory (`CNB_BUILDPACK_DIR`), where `buildpack.toml` is.
        #[must_use]
        pub fn buildpack_dir(&self) -> &Path {
            &self.common.buildpack_dir
        }

        /// The platform directory (`CNB_PLATFORM_DIR`).
        #[must_use]
        pub fn platform_dir(&self) -> &Path {
            &self.common.platform_dir
        }

        /// The user's env from `<platform>/env/`.
        #[must_use]
        pub fn platform_env(&self) -> &PlatformEnv {
            &self.common.platform_env
        }

        /// The buildpack's `buildpack.toml`. Its `metadata` has been moved to
        /// [`metadata`](Self::metadata).
        #[must_use]
        pub fn buildpack(&self) -> &BuildpackDescriptor<M> {
            &self.common.descriptor
        }

        /// The buildpack's typed `[metadata]`.
        #[must_use]
        pub fn metadata(&self) -> &M {
            &self.common.metadata
        }

        /// The platform the app is built for.
        #[must_use]
        pub fn target(&self) -> &Target {
            &self.common.target
        }

        /// The execution environment (`CNB_EXEC_ENV`), `production` when unset.
        #[must_use]
        pub fn exec_env(&self) -> &str {
            &self.common.exec_env
        }

        /// Build output: sections, steps, warnings and commands.
        #[must_use]
        pub fn output(&self) -> &Output {
            &self.common.output
        }
    };
}

/// What detection sees.
#[derive(Debug)]
pub struct DetectContext<M = crate::data::NoMetadata> {
    pub(crate) common: Common<M>,
}

impl<M> DetectContext<M> {
    common_accessors!();
}

/// What a build sees, and where it makes layers.
#[derive(Debug)]
pub struct BuildContext<M = crate::data::NoMetadata> {
    pub(crate) common: Common<M>,
    pub(crate) layers_dir: PathBuf,
    pub(crate) plan: BuildpackPlan,
}

impl<M> BuildContext<M> {
    common_accessors!();

    /// This buildpack's layers directory (`CNB_LAYERS_DIR`).
    #[must_use]
    pub fn layers_dir(&self) -> &Path {
        &self.layers_dir
    }

    /// The buildpack plan: the requirements this buildpack is asked to meet, duplicates kept.
    #[must_use]
    pub fn plan(&self) -> &BuildpackPlan {
        &self.plan
    }

    /// Starts declaring the layer `name`; finish with
    /// [`keyed_by`](LayerBuilder::keyed_by) or [`fresh`](LayerBuilder::fresh). The name is
    /// checked there.
    pub fn layer(&self, name: impl AsRef<str>) -> LayerBuilder<'_> {
        LayerBuilder::new(&self.layers_dir, &self.common.output, name.as_ref())
    }

    /// Runs `command` in the app dir (unless it sets its own), streaming its output and
    /// printing the time it took. See [`Output::run`].
    ///
    /// # Errors
    ///
    /// [`CommandError`] when it cannot start or exits unsuccessfully.
    pub fn run(&self, command: &mut Command) -> Result<(), CommandError> {
        if command.get_current_dir().is_none() {
            command.current_dir(&self.common.app_dir);
        }
        self.common.output.run(command)
    }
}
