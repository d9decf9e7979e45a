//! What each command of an inline script does, in buildpack terms: a [`Plan`] of typed steps and the layers
//! they fill. Recognised steps (installing uv, `uv sync`, `pip install`, `npm ci`-style installs, `export`,
//! env files, layer types, `launch.toml`) become SDK calls with caching; anything else stays the script's own
//! command, run in the layer it writes to (keyed on the files and env it names) or, when it writes nowhere
//! rpack can see, on every build.
//!
//! [`plan`] walks the commands with a `Classifier`: `classify` sends each command to the recogniser that takes
//! it, `installs` and `writes` are the recognisers (installs; exports, env files, layer types, `launch.toml`),
//! `words` says where a command's words point and what it reads and writes, and `layers` makes the layers the
//! steps fill.

mod classify;
mod installs;
mod layers;
mod words;
mod writes;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::parse::{Part, Script};
use layers::layers;
use words::join_cwd;

/// How the script got uv.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UvSource {
    /// `curl ... | sh` of uv's install script.
    InstallScript {
        /// The script's URL.
        url: String,
    },
    /// `pip install uv`.
    Pip,
    /// A download of a uv release archive.
    Download {
        /// The archive's URL.
        url: String,
    },
}

/// The env dir of a layer a value goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvScope {
    /// `env/`: build (for later buildpacks, when the layer is a build layer) and launch.
    All,
    /// `env.build/`.
    Build,
    /// `env.launch/`.
    Launch,
    /// `env.launch/<process>/`.
    Process(String),
}

/// What an env modifier does (the file suffix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvAction {
    /// `.override` (and no suffix, for API 0.10's env/ files without one: override).
    Override,
    /// `.default`.
    Default,
    /// `.prepend`, with `:` as delimiter.
    Prepend,
    /// `.append`, with `:` as delimiter.
    Append,
}

/// Something a layer depends on: a field of its key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyField {
    /// The sha256 of an app file (or dir), `absent` when there is none.
    File(String),
    /// The value of an env var (project.toml's build env, or the build's env).
    Env(String),
    /// The stack's Python (`sys.version` of `python3`).
    Python,
    /// The pinned uv's version.
    Uv,
    /// `node --version`.
    Node,
    /// The packages a command installs, as written.
    Packages(Vec<String>),
}

/// A layer the generated buildpack makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerPlan {
    /// Its name (the script's name for it when the script had one).
    pub name: String,
    /// In the app image.
    pub launch: bool,
    /// Visible to later buildpacks.
    pub build: bool,
    /// Kept in the build cache.
    pub cache: bool,
    /// What it depends on, in the order the steps name it.
    pub key: Vec<KeyField>,
    /// Why it has these types, for a comment.
    pub why: String,
}

/// A process the script declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessPlan {
    /// Its type.
    pub kind: String,
    /// The command: executable, then fixed arguments; each a list of parts (layer paths stay parameters).
    pub command: Vec<Vec<Part>>,
    /// Default arguments.
    pub args: Vec<Vec<Part>>,
    /// The default process.
    pub default: bool,
    /// Its working dir.
    pub working_dir: Option<String>,
}

/// One recognised or kept step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// `set -e` and friends: the generated build stops at the first failing step anyway.
    ShellOptions,
    /// `name=value`: a variable later steps read; its uses are translated.
    Variable {
        /// The name.
        name: String,
    },
    /// `cd DIR`: later steps run in DIR.
    ChangeDir {
        /// The dir, relative to the app.
        dir: String,
    },
    /// uv installed: becomes the pinned, hash-checked uv in the cached layer `uv`.
    InstallUv {
        /// How the script did it.
        source: UvSource,
        /// The version the script asked for.
        asked: Option<String>,
    },
    /// Part of getting uv onto `PATH` or into place: the pinned uv makes it unnecessary.
    UvPlumbing {
        /// Why nothing is left of it.
        why: String,
    },
    /// `uv sync`: a launch layer keyed on `uv.lock` and `pyproject.toml`.
    UvSync {
        /// The layer the venv goes into.
        layer: String,
        /// uv's arguments after `sync`.
        args: Vec<String>,
        /// Env the script gave uv (besides the venv's place).
        env: Vec<(String, String)>,
    },
    /// `pip install -r FILE` / `pip install PKG` (or `uv pip install`): a venv layer keyed on the files.
    PipInstall {
        /// The layer the venv goes into.
        layer: String,
        /// `-r` files.
        files: Vec<String>,
        /// Packages named on the command line.
        packages: Vec<String>,
        /// Other arguments, as written.
        flags: Vec<String>,
        /// Installed with the pinned uv (`uv pip install`) rather than pip.
        via_uv: bool,
    },
    /// `npm ci`, `npm install`, `yarn install`, `pnpm install`: a `node_modules` layer keyed on the lock.
    NodeInstall {
        /// The layer.
        layer: String,
        /// The command, as written (program first).
        argv: Vec<String>,
        /// The lock file.
        lock: String,
    },
    /// `export NAME=value`: a build env modifier for the later steps.
    Export {
        /// The variable.
        name: String,
        /// What happens to it.
        action: EnvAction,
        /// The value (without the `:$NAME` part for prepend/append).
        value: Vec<Part>,
    },
    /// A file written into a layer's env dir.
    LayerEnv {
        /// The layer.
        layer: String,
        /// Which env dir.
        scope: EnvScope,
        /// The variable.
        name: String,
        /// What happens to it.
        action: EnvAction,
        /// The value.
        value: Vec<Part>,
    },
    /// `<layer>.toml` written: the layer's types.
    LayerTypes {
        /// The layer.
        layer: String,
    },
    /// `launch.toml` written: processes.
    Processes {
        /// Them.
        processes: Vec<ProcessPlan>,
    },
    /// Not recognised, and it writes into a layer: runs in that layer when the layer's key changes.
    LayerCommand {
        /// The layer.
        layer: String,
        /// What the command names, which goes into the layer's key.
        inputs: Vec<KeyField>,
    },
    /// Not recognised, writing nowhere rpack can see (the app dir, `$HOME`, ...): runs on every build.
    Command {
        /// Env vars and files it names.
        inputs: Vec<KeyField>,
    },
}

/// One step: where it came from and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The line in the inline script.
    pub line: usize,
    /// The command, as written.
    pub text: String,
    /// The command with uv's old places replaced by `uv` (the pinned one is on `PATH`), for [`StepKind::Command`]
    /// and [`StepKind::LayerCommand`].
    pub run_text: String,
    /// The dir it runs in, relative to the app (from an earlier `cd`).
    pub cwd: Option<String>,
    /// What it is.
    pub kind: StepKind,
}

/// The whole conversion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The shell the script is run with.
    pub shell: String,
    /// `set ...` lines, given to every command that runs as shell.
    pub set_options: Vec<String>,
    /// Every step, in script order.
    pub steps: Vec<Step>,
    /// The layers, in the order they are first needed (the uv layer is not among them).
    pub layers: Vec<LayerPlan>,
    /// The uv the script installed.
    pub uv: Option<(UvSource, Option<String>)>,
    /// Variables the script defines (`name=value`), for commands that read them.
    pub variables: Vec<(String, String)>,
    /// Things the user should know.
    pub warnings: Vec<String>,
}

impl Plan {
    /// The layer named `name`.
    #[must_use]
    pub(crate) fn layer(&self, name: &str) -> Option<&LayerPlan> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// The files detection needs (the inputs of recognised steps).
    #[must_use]
    pub(crate) fn detect_files(&self) -> Vec<String> {
        let mut files = Vec::new();
        for step in &self.steps {
            let wanted: Vec<String> = match &step.kind {
                StepKind::UvSync { .. } => vec!["pyproject.toml".to_owned()],
                StepKind::PipInstall { files, .. } => files.clone(),
                StepKind::NodeInstall { .. } => vec!["package.json".to_owned()],
                _ => continue,
            };
            for file in wanted {
                let file = join_cwd(step.cwd.as_deref(), &file);
                if !files.contains(&file) {
                    files.push(file);
                }
            }
        }
        files
    }
}

/// The walk over a script's commands: what the earlier commands set up (variables, layers, uv, the dir), and the
/// plan so far.
struct Classifier<'a> {
    /// The app dir.
    app_dir: &'a Path,
    /// Script variables, resolved.
    vars: BTreeMap<String, Vec<Part>>,
    /// Their definitions, as written.
    var_text: Vec<(String, String)>,
    /// Layers the script writes `<layer>.toml` for, with their types.
    declared: BTreeMap<String, (bool, bool, bool)>,
    /// Layers used only to hold uv.
    uv_layers: BTreeSet<String>,
    /// Paths (resolved) that hold uv after a copy.
    uv_aliases: Vec<Vec<Part>>,
    /// Files the uv download was saved as.
    uv_downloads: Vec<String>,
    /// Layers made by `python3 -m venv`.
    venvs: BTreeSet<String>,
    /// Whether uv was installed by an earlier step.
    uv_installed: bool,
    /// The dir of a `cd` before, relative to the app.
    cwd: Option<String>,
    /// The plan so far.
    plan: Plan,
}

impl<'a> Classifier<'a> {
    /// A classifier that has seen nothing yet, filling `plan`.
    fn new(app_dir: &'a Path, plan: Plan) -> Self {
        Self {
            app_dir,
            vars: BTreeMap::new(),
            var_text: Vec::new(),
            declared: BTreeMap::new(),
            uv_layers: BTreeSet::new(),
            uv_aliases: Vec::new(),
            uv_downloads: Vec::new(),
            venvs: BTreeSet::new(),
            uv_installed: false,
            cwd: None,
            plan,
        }
    }
}

/// Reads `script` (run with `shell`) into a plan. `app_dir` is where project.toml is: a word that names a file
/// there is an input of its step.
#[must_use]
pub(crate) fn plan(script: &Script, shell: &str, app_dir: &Path) -> Plan {
    let mut classifier = Classifier::new(
        app_dir,
        Plan {
            shell: shell.to_owned(),
            ..Plan::default()
        },
    );
    // A first pass finds the dirs that only hold uv (`python3 -m venv $tools; $tools/bin/pip install uv`), so
    // the venv made for it is known as plumbing when it is met.
    {
        let mut scout = Classifier::new(app_dir, Plan::default());
        for command in &script.commands {
            scout.classify(command);
        }
        classifier.uv_layers = scout.uv_layers;
        classifier.declared = scout.declared;
    }
    for command in &script.commands {
        classifier.classify(command);
    }
    let mut plan = classifier.plan;
    plan.variables = classifier.var_text;
    if let Some(step) = plan
        .steps
        .iter()
        .find(|s| matches!(s.kind, StepKind::InstallUv { .. }))
        && let StepKind::InstallUv { source, asked } = &step.kind
    {
        plan.uv = Some((source.clone(), asked.clone()));
    }
    plan.layers = layers(&plan, &classifier.declared, &classifier.uv_layers);
    plan
}

/// The layer a step works in.
#[must_use]
pub(crate) fn step_layer(kind: &StepKind) -> Option<&str> {
    match kind {
        StepKind::UvSync { layer, .. }
        | StepKind::PipInstall { layer, .. }
        | StepKind::NodeInstall { layer, .. }
        | StepKind::LayerCommand { layer, .. }
        | StepKind::LayerEnv { layer, .. }
        | StepKind::LayerTypes { layer } => Some(layer),
        _ => None,
    }
}
