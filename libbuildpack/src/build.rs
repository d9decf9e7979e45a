//! The result of a build: processes, labels, slices and unmet plan entries.

use std::path::PathBuf;

use crate::data::{Label, LaunchProcess, LaunchToml, ProcessType, Slice};

/// What a build declares for the app image; written to `launch.toml` (and `build.toml` for
/// unmet entries).
///
/// ```
/// use libbuildpack::{Build, Process};
/// let build = Build::new()
///     .process(Process::web(["gunicorn", "app:app"]))
///     .label("org.example.team", "core");
/// assert_eq!(build.launch_toml().processes.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Build {
    launch: LaunchToml,
    unmet: Vec<String>,
}

impl Build {
    /// A build that declares nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a process.
    pub fn process(mut self, process: Process) -> Self {
        self.launch.processes.push(process.0);
        self
    }

    /// Sets a label on the app image.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.launch.labels.push(Label {
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Puts the app files matching `paths` (globs relative to the app dir) in their own layer.
    pub fn slice<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.launch.slices.push(Slice {
            paths: paths.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Marks the buildpack plan entry `name` as not met, so a later buildpack may meet it.
    pub fn unmet(mut self, name: impl Into<String>) -> Self {
        self.unmet.push(name.into());
        self
    }

    /// The `launch.toml` this build writes.
    #[must_use]
    pub fn launch_toml(&self) -> &LaunchToml {
        &self.launch
    }

    /// The plan entries marked unmet.
    #[must_use]
    pub fn unmet_entries(&self) -> &[String] {
        &self.unmet
    }
}

/// A process of the app image.
///
/// ```
/// use libbuildpack::{Process, process_type};
/// let worker = Process::new(process_type!("worker"), ["celery", "worker"])
///     .args(["--concurrency", "2"])
///     .working_dir("/workspace/src");
/// let web = Process::web(["gunicorn", "app:app"]); // the default process
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Process(LaunchProcess);

impl Process {
    /// A process of type `kind` running `command` (the executable, then fixed arguments).
    pub fn new<I, S>(kind: ProcessType, command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(LaunchProcess::new(kind, command))
    }

    /// The default `web` process running `command`.
    pub fn web<I, S>(command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(crate::process_type!("web"), command).default(true)
    }

    /// Default arguments, replaced by arguments the user passes.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.0.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Whether this is the image's default process.
    pub fn default(mut self, default: bool) -> Self {
        self.0.default = default;
        self
    }

    /// The directory the process starts in (the app dir when not set).
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.0.working_dir = Some(dir.into());
        self
    }

    /// The execution environments the process is for (Buildpack API 0.12); all when not set.
    pub fn exec_env<I, S>(mut self, envs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.0.exec_env = envs.into_iter().map(Into::into).collect();
        self
    }
}

impl From<Process> for LaunchProcess {
    fn from(process: Process) -> Self {
        process.0
    }
}
