//! The buildpack binary's entry point: which phase to run, its inputs, and exit codes.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::buildpack::Buildpack;
use crate::context::{BuildContext, Common, DetectContext};
use crate::data::{
    ApiVersion, BuildToml, BuildpackDescriptor, BuildpackPlan, TomlFileError, Unmet,
};
use crate::env::Env;
use crate::output::Output;
use crate::platform::{PlatformEnv, PlatformError, Target};

/// Exit status of a detect that passed.
pub const DETECT_PASS: u8 = 0;
/// Exit status of a detect that failed (the buildpack does not apply).
pub const DETECT_FAIL: u8 = 100;
/// Exit status of a phase that hit an error.
pub const ERROR: u8 = 1;

/// Generates `fn main` for a buildpack: one binary, installed as `bin/detect` and `bin/build`,
/// that runs the phase named by its file name. See [`run_buildpack`]. With
/// `exec_d = f`, the same binary started from an `exec.d/` dir runs `f` as an exec.d program
/// (see [`exec_d::run`](crate::exec_d::run)).
///
/// ```ignore
/// libbuildpack::buildpack_main!(MyBuildpack);
/// // or, for a buildpack value that is not a unit struct:
/// libbuildpack::buildpack_main!(MyBuildpack::default());
/// ```
#[macro_export]
macro_rules! buildpack_main {
    ($buildpack:expr) => {
        fn main() -> ::std::process::ExitCode {
            $crate::run_buildpack(&$buildpack)
        }
    };
    ($buildpack:expr, exec_d = $exec_d:expr) => {
        fn main() -> ::std::process::ExitCode {
            if $crate::exec_d::invoked_as_exec_d() {
                $crate::exec_d::run($exec_d)
            } else {
                $crate::run_buildpack(&$buildpack)
            }
        }
    };
}

/// Which phase the binary runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `bin/detect`.
    Detect,
    /// `bin/build`.
    Build,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Detect => "detect",
            Self::Build => "build",
        })
    }
}

/// Runs the buildpack as the lifecycle invoked it: the phase from the basename of `argv[0]`
/// (`detect` or `build`), inputs from the `CNB_*` variables with positional-argument
/// fallbacks. Errors are printed to stderr with their cause chain.
///
/// Exit codes: detect 0 (pass), 100 (fail), 1 (error); build 0 (success), 1 (error).
#[must_use]
pub fn run_buildpack<B: Buildpack>(buildpack: &B) -> ExitCode {
    let output = Output::stdout();
    let args: Vec<OsString> = std::env::args_os().collect();
    let inputs = std::env::current_dir()
        .map_err(RunError::CurrentDir)
        .and_then(|cwd| Inputs::from_args(&args, |name| std::env::var_os(name), cwd));
    let code = match inputs {
        Ok(inputs) => run_phase(buildpack, &inputs, &output),
        Err(error) => {
            output.error(&error);
            ERROR
        }
    };
    ExitCode::from(code)
}

/// Everything a phase reads from its invocation.
#[derive(Debug, Clone)]
pub(crate) struct Inputs {
    pub(crate) phase: Phase,
    pub(crate) app_dir: PathBuf,
    pub(crate) buildpack_dir: PathBuf,
    pub(crate) platform_dir: PathBuf,
    /// Detect: the build plan to write. Build: the buildpack plan to read.
    pub(crate) plan_path: PathBuf,
    /// Build only.
    pub(crate) layers_dir: Option<PathBuf>,
    pub(crate) target: Target,
    pub(crate) exec_env: String,
}

impl Inputs {
    pub(crate) fn from_args(
        args: &[OsString],
        var: impl Fn(&str) -> Option<OsString>,
        cwd: PathBuf,
    ) -> Result<Self, RunError> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let argv0 = args.first().map(PathBuf::from).unwrap_or_default();
        let phase = match argv0.file_stem().and_then(|s| s.to_str()) {
            Some("detect") => Phase::Detect,
            Some("build") => Phase::Build,
            _ => {
                return Err(RunError::UnknownPhase {
                    argv0: argv0.display().to_string(),
                });
            }
        };
        let input = |what: &'static str, env: &'static str, position: usize| {
            var(env)
                .or_else(|| args.get(position).cloned())
                .map(PathBuf::from)
                .ok_or(RunError::MissingInput {
                    what,
                    env,
                    position,
                })
        };
        let buildpack_dir = match var("CNB_BUILDPACK_DIR") {
            Some(dir) => PathBuf::from(dir),
            // <buildpack>/bin/<phase>
            None => argv0
                .parent()
                .and_then(Path::parent)
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .ok_or(RunError::MissingInput {
                    what: "buildpack directory",
                    env: "CNB_BUILDPACK_DIR",
                    position: 0,
                })?,
        };
        let (platform_dir, plan_path, layers_dir) = match phase {
            Phase::Detect => (
                input("platform directory", "CNB_PLATFORM_DIR", 1)?,
                input("build plan path", "CNB_BUILD_PLAN_PATH", 2)?,
                None,
            ),
            Phase::Build => (
                input("platform directory", "CNB_PLATFORM_DIR", 2)?,
                input("buildpack plan path", "CNB_BP_PLAN_PATH", 3)?,
                Some(input("layers directory", "CNB_LAYERS_DIR", 1)?),
            ),
        };
        let exec_env = var("CNB_EXEC_ENV").map_or_else(
            || "production".to_string(),
            |v| v.to_string_lossy().into_owned(),
        );
        if exec_env.contains('/') {
            return Err(RunError::InvalidExecEnv { value: exec_env });
        }
        let target = Target::from_vars(|name| var(name).map(|v| v.to_string_lossy().into_owned()));
        Ok(Self {
            phase,
            app_dir: cwd,
            buildpack_dir,
            platform_dir,
            plan_path,
            layers_dir,
            target,
            exec_env,
        })
    }
}

/// Runs one phase and returns its exit code; errors are printed to `output`.
pub(crate) fn run_phase<B: Buildpack>(buildpack: &B, inputs: &Inputs, output: &Output) -> u8 {
    let result = match inputs.phase {
        Phase::Detect => detect(buildpack, inputs, output)
            .map(|pass| if pass { DETECT_PASS } else { DETECT_FAIL }),
        Phase::Build => build(buildpack, inputs, output).map(|()| 0),
    };
    result.unwrap_or_else(|error| {
        match error.hint() {
            Some(hint) => output.error_with_hint(&error, hint),
            None => output.error(&error),
        }
        ERROR
    })
}

/// The Buildpack API versions the runtime lets a buildpack declare.
pub const SUPPORTED_APIS: [ApiVersion; 3] =
    [ApiVersion::V0_10, ApiVersion::V0_11, ApiVersion::V0_12];

fn common<M: serde::de::DeserializeOwned>(
    inputs: &Inputs,
    output: &Output,
) -> Result<Common<M>, RunError> {
    let path = inputs.buildpack_dir.join("buildpack.toml");
    let mut descriptor: BuildpackDescriptor<M> =
        BuildpackDescriptor::read(&path).map_err(RunError::ReadBuildpackToml)?;
    if !SUPPORTED_APIS.contains(&descriptor.api) {
        return Err(RunError::UnsupportedApi {
            path,
            api: descriptor.api,
        });
    }
    let metadata = match descriptor.metadata.take() {
        Some(metadata) => metadata,
        None => M::deserialize(toml::Value::Table(toml::Table::new()))
            .map_err(|source| RunError::MissingMetadata { path, source })?,
    };
    let platform_env = PlatformEnv::read(&inputs.platform_dir)?;
    let debug =
        output.is_debug() || crate::output::is_debug_level(platform_env.get("BP_LOG_LEVEL"));
    Ok(Common {
        app_dir: inputs.app_dir.clone(),
        buildpack_dir: inputs.buildpack_dir.clone(),
        platform_dir: inputs.platform_dir.clone(),
        platform_env,
        base_env: Env::from_process(),
        descriptor,
        metadata,
        target: inputs.target.clone(),
        exec_env: inputs.exec_env.clone(),
        output: output.clone().with_debug(debug),
    })
}

fn detect<B: Buildpack>(buildpack: &B, inputs: &Inputs, output: &Output) -> Result<bool, RunError> {
    let ctx = DetectContext {
        common: common::<B::Metadata>(inputs, output)?,
    };
    let result = buildpack.detect(&ctx).map_err(|e| RunError::Buildpack {
        phase: Phase::Detect,
        hint: buildpack.hint(&e),
        source: Box::new(e),
    })?;
    if let Some(reason) = result.fail_reason() {
        output.detail(reason);
        return Ok(false);
    }
    if let Some(plan) = result.plan() {
        plan.write(&inputs.plan_path)
            .map_err(RunError::WriteBuildPlan)?;
    }
    Ok(true)
}

fn build<B: Buildpack>(buildpack: &B, inputs: &Inputs, output: &Output) -> Result<(), RunError> {
    let layers_dir = inputs.layers_dir.clone().ok_or(RunError::MissingInput {
        what: "layers directory",
        env: "CNB_LAYERS_DIR",
        position: 1,
    })?;
    std::fs::create_dir_all(&layers_dir).map_err(|source| RunError::CreateLayersDir {
        path: layers_dir.clone(),
        source,
    })?;
    let plan = BuildpackPlan::read(&inputs.plan_path).map_err(RunError::ReadBuildpackPlan)?;
    let mut ctx = BuildContext {
        common: common::<B::Metadata>(inputs, output)?,
        layers_dir: layers_dir.clone(),
        plan,
    };
    let result = buildpack.build(&mut ctx).map_err(|e| RunError::Buildpack {
        phase: Phase::Build,
        hint: buildpack.hint(&e),
        source: Box::new(e),
    })?;

    for name in result.unmet_entries() {
        if !ctx.plan.entries.iter().any(|e| &e.name == name) {
            return Err(RunError::UnmetNotInPlan { name: name.clone() });
        }
    }
    if !result.unmet_entries().is_empty() {
        BuildToml {
            unmet: result
                .unmet_entries()
                .iter()
                .map(|name| Unmet { name: name.clone() })
                .collect(),
        }
        .write(layers_dir.join("build.toml"))
        .map_err(RunError::WriteBuildToml)?;
    }
    let launch = result.launch_toml();
    if !launch.processes.is_empty() || !launch.labels.is_empty() || !launch.slices.is_empty() {
        launch
            .write(layers_dir.join("launch.toml"))
            .map_err(RunError::WriteLaunchToml)?;
    }
    Ok(())
}

/// A phase could not run to completion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The binary was started under a name other than `detect` or `build`.
    #[error(
        "this buildpack binary was run as {argv0:?}; install it as bin/detect and bin/build (symlinks or copies)"
    )]
    UnknownPhase {
        /// argv\[0\].
        argv0: String,
    },
    /// An input the lifecycle passes is missing.
    #[error("the {what} is not known: set {env} or pass it as argument {position}")]
    MissingInput {
        /// What is missing.
        what: &'static str,
        /// The env variable that gives it.
        env: &'static str,
        /// The positional argument that gives it.
        position: usize,
    },
    /// The current directory (the app dir) could not be determined.
    #[error("could not determine the current directory (the app dir)")]
    CurrentDir(#[source] std::io::Error),
    /// `CNB_EXEC_ENV` contains `/`.
    #[error("CNB_EXEC_ENV {value:?} is not valid: it must not contain '/'")]
    InvalidExecEnv {
        /// The value.
        value: String,
    },
    /// `buildpack.toml` could not be read.
    #[error("could not read the buildpack descriptor")]
    ReadBuildpackToml(#[source] TomlFileError),
    /// `buildpack.toml` declares a Buildpack API the runtime does not implement.
    #[error("{} declares Buildpack API {api}, but this SDK implements only 0.10, 0.11 and 0.12", path.display())]
    UnsupportedApi {
        /// The `buildpack.toml`.
        path: PathBuf,
        /// The declared version.
        api: ApiVersion,
    },
    /// `buildpack.toml` has no `[metadata]` and the buildpack's metadata type needs one.
    #[error("{} has no [metadata] table, and the buildpack's metadata type cannot be empty", path.display())]
    MissingMetadata {
        /// The `buildpack.toml`.
        path: PathBuf,
        /// Why an empty table did not do.
        source: toml::de::Error,
    },
    /// The platform env could not be read.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// The buildpack plan could not be read.
    #[error("could not read the buildpack plan")]
    ReadBuildpackPlan(#[source] TomlFileError),
    /// The layers dir could not be created.
    #[error("could not create the layers directory {}", path.display())]
    CreateLayersDir {
        /// The directory.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The buildpack's own detect or build returned an error.
    #[error("{phase} failed")]
    Buildpack {
        /// The phase.
        phase: Phase,
        /// What the user can do, from [`Buildpack::hint`].
        hint: Option<String>,
        /// The buildpack's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The build plan could not be written.
    #[error("could not write the build plan")]
    WriteBuildPlan(#[source] TomlFileError),
    /// A plan entry marked unmet is not in the buildpack plan.
    #[error(
        "plan entry {name:?} was marked unmet, but the buildpack plan has no entry with that name"
    )]
    UnmetNotInPlan {
        /// The name.
        name: String,
    },
    /// `build.toml` could not be written.
    #[error("could not write build.toml")]
    WriteBuildToml(#[source] TomlFileError),
    /// `launch.toml` could not be written (or is invalid).
    #[error("could not write launch.toml")]
    WriteLaunchToml(#[source] TomlFileError),
}

impl RunError {
    /// What the user or the buildpack author can do about this error, when there is a clear
    /// step.
    #[must_use]
    pub fn hint(&self) -> Option<&str> {
        match self {
            Self::Buildpack { hint, .. } => hint.as_deref(),
            Self::UnknownPhase { .. } => Some("the lifecycle runs bin/detect and bin/build"),
            Self::MissingInput { .. } => {
                Some("run the buildpack through the lifecycle, or use libbuildpack::testing")
            }
            Self::InvalidExecEnv { .. } => Some("set CNB_EXEC_ENV to a name such as production"),
            Self::UnsupportedApi { .. } => {
                Some("set api = \"0.12\" (or \"0.10\" / \"0.11\") in buildpack.toml")
            }
            Self::MissingMetadata { .. } => {
                Some("add a [metadata] table to buildpack.toml, or give its fields defaults")
            }
            Self::UnmetNotInPlan { .. } => Some("only mark entries unmet that ctx.plan() lists"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn detect_inputs_from_env() {
        let inputs = Inputs::from_args(
            &os(&["/cnb/buildpacks/x/0.1.0/bin/detect", "/ignored", "/ignored"]),
            |name| match name {
                "CNB_BUILDPACK_DIR" => Some("/bp".into()),
                "CNB_PLATFORM_DIR" => Some("/platform".into()),
                "CNB_BUILD_PLAN_PATH" => Some("/tmp/plan.toml".into()),
                "CNB_EXEC_ENV" => Some("test".into()),
                _ => None,
            },
            "/workspace".into(),
        )
        .unwrap();
        assert_eq!(inputs.phase, Phase::Detect);
        assert_eq!(inputs.buildpack_dir, Path::new("/bp"));
        assert_eq!(inputs.platform_dir, Path::new("/platform"));
        assert_eq!(inputs.plan_path, Path::new("/tmp/plan.toml"));
        assert_eq!(inputs.app_dir, Path::new("/workspace"));
        assert_eq!(inputs.exec_env, "test");
    }

    #[test]
    fn positional_fallbacks() {
        let inputs = Inputs::from_args(
            &os(&["/bp/bin/detect", "/platform", "/plan.toml"]),
            |_| None,
            "/app".into(),
        )
        .unwrap();
        assert_eq!(inputs.buildpack_dir, Path::new("/bp"));
        assert_eq!(inputs.platform_dir, Path::new("/platform"));
        assert_eq!(inputs.plan_path, Path::new("/plan.toml"));
        assert_eq!(inputs.exec_env, "production");

        let inputs = Inputs::from_args(
            &os(&["/bp/bin/build", "/layers/x", "/platform", "/bpplan.toml"]),
            |_| None,
            "/app".into(),
        )
        .unwrap();
        assert_eq!(inputs.phase, Phase::Build);
        assert_eq!(inputs.layers_dir.as_deref(), Some(Path::new("/layers/x")));
        assert_eq!(inputs.platform_dir, Path::new("/platform"));
        assert_eq!(inputs.plan_path, Path::new("/bpplan.toml"));
    }

    #[test]
    fn bad_invocations() {
        let err = Inputs::from_args(&os(&["/bp/bin/hello-buildpack"]), |_| None, "/app".into())
            .unwrap_err();
        assert!(matches!(err, RunError::UnknownPhase { .. }), "{err}");
        let err = Inputs::from_args(&os(&["/bp/bin/build", "/layers"]), |_| None, "/app".into())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the platform directory is not known: set CNB_PLATFORM_DIR or pass it as argument 2"
        );
        let err = Inputs::from_args(
            &os(&["/bp/bin/detect", "/p", "/plan"]),
            |name| (name == "CNB_EXEC_ENV").then(|| "a/b".into()),
            "/app".into(),
        )
        .unwrap_err();
        assert!(matches!(err, RunError::InvalidExecEnv { .. }));
    }
}
