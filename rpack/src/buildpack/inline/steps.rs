//! What each command of an inline script does, in buildpack terms: a [`Plan`] of typed steps and the layers
//! they fill. Recognised steps (installing uv, `uv sync`, `pip install`, `npm ci`-style installs, `export`,
//! env files, layer types, `launch.toml`) become SDK calls with caching; anything else stays the script's own
//! command, run in the layer it writes to (keyed on the files and env it names) or, when it writes nowhere
//! rpack can see, on every build.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use super::parse::{Body, Command, Part, RedirectOp, Script, Simple, Word};

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

/// Where a path points.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PathRef {
    /// Inside a layer: `$CNB_LAYERS_DIR/<layer>/<rest>`.
    Layer(String, String),
    /// `$CNB_LAYERS_DIR/<layer>.toml`.
    LayerToml(String),
    /// `$CNB_LAYERS_DIR/launch.toml`.
    LaunchToml,
    /// A place where uv was put.
    Uv,
    /// A path in the app dir.
    App(String),
    /// Elsewhere, or not knowable.
    Other,
}

/// Variables the build environment (not the script) provides.
const PROVIDED: &[&str] = &[
    "HOME",
    "PATH",
    "PWD",
    "USER",
    "SHELL",
    "TMPDIR",
    "CNB_LAYERS_DIR",
    "CNB_PLATFORM_DIR",
    "CNB_BP_PLAN_PATH",
    "CNB_BUILDPACK_DIR",
    "CNB_TARGET_OS",
    "CNB_TARGET_ARCH",
    "CNB_TARGET_ARCH_VARIANT",
    "CNB_TARGET_DISTRO_NAME",
    "CNB_TARGET_DISTRO_VERSION",
    "CNB_EXEC_ENV",
    "CNB_STACK_ID",
];

fn is_special(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_digit())
        || matches!(name, "@" | "*" | "#" | "?" | "$" | "!" | "-")
}

/// Layer names the SDK cannot make.
fn valid_layer_name(name: &str) -> bool {
    !name.is_empty()
        && !matches!(name, "launch" | "build" | "store" | "sbom" | "." | "..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn join_cwd(cwd: Option<&str>, file: &str) -> String {
    match cwd {
        Some(dir) if !file.starts_with('/') => format!("{}/{file}", dir.trim_end_matches('/')),
        _ => file.to_owned(),
    }
}

fn lit_text(parts: &[Part]) -> Option<String> {
    Word {
        raw: String::new(),
        parts: parts.to_vec(),
        span: 0..0,
    }
    .literal()
}

/// Reads an `export`/assignment value that changes `PATH`-like variables: `A:$NAME` prepends, `$NAME:A`
/// appends.
fn env_action(name: &str, value: &[Part]) -> (EnvAction, Vec<Part>) {
    let own = Part::Var(name.to_owned());
    if value.last() == Some(&own)
        && let Some(Part::Lit(before)) = value.get(value.len().wrapping_sub(2))
        && let Some(stripped) = before.strip_suffix(':')
    {
        let mut rest = value[..value.len() - 2].to_vec();
        if !stripped.is_empty() {
            rest.push(Part::Lit(stripped.to_owned()));
        }
        return (EnvAction::Prepend, rest);
    }
    if value.first() == Some(&own)
        && let Some(Part::Lit(after)) = value.get(1)
        && let Some(stripped) = after.strip_prefix(':')
    {
        let mut rest = Vec::new();
        if !stripped.is_empty() {
            rest.push(Part::Lit(stripped.to_owned()));
        }
        rest.extend(value[2..].iter().cloned());
        return (EnvAction::Append, rest);
    }
    (EnvAction::Override, value.to_vec())
}

/// A version in a URL or requirement: the first `N.N.N`.
fn version_in(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|piece| {
            let nums: Vec<&str> = piece.split('.').collect();
            nums.len() == 3 && nums.iter().all(|n| !n.is_empty())
        })
        .map(str::to_owned)
}

fn is_uv_install_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.contains("/uv/") || lower.contains("uv-installer") || lower.ends_with("/uv"))
        && (Path::new(&lower)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("sh"))
            || lower.contains("install"))
}

fn is_uv_release_url(url: &str) -> bool {
    url.contains("astral-sh/uv/releases/")
}

/// `uv`, `uv==X`, `uv>=X`, `uv[extra]==X`: the version asked for (`None` when none), else `None` (not uv).
#[allow(clippy::option_option, reason = "not uv, uv, or uv at a version")]
fn uv_requirement(arg: &str) -> Option<Option<String>> {
    let name_end = arg
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(arg.len());
    if !arg[..name_end].eq_ignore_ascii_case("uv") {
        return None;
    }
    Some(version_in(&arg[name_end..]))
}

struct Classifier<'a> {
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
    uv_installed: bool,
    cwd: Option<String>,
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

impl Classifier<'_> {
    fn resolve(&self, parts: &[Part]) -> Vec<Part> {
        let mut out: Vec<Part> = Vec::new();
        for part in parts {
            match part {
                Part::Var(name) if self.vars.contains_key(name) => {
                    out.extend(self.vars[name].iter().cloned());
                }
                other => out.push(other.clone()),
            }
        }
        // Merge neighbouring literals.
        let mut merged: Vec<Part> = Vec::new();
        for part in out {
            if let (Some(Part::Lit(prev)), Part::Lit(next)) = (merged.last_mut(), &part) {
                prev.push_str(next);
            } else {
                merged.push(part);
            }
        }
        merged
    }

    fn classify_path(&self, parts: &[Part]) -> PathRef {
        let parts = self.resolve(parts);
        if self.uv_aliases.contains(&parts) {
            return PathRef::Uv;
        }
        match parts.as_slice() {
            [Part::Var(root), rest @ ..] if root == "CNB_LAYERS_DIR" || root == "1" => {
                let Some(text) = lit_text(rest) else {
                    return PathRef::Other;
                };
                let text = text.trim_start_matches('/');
                let (first, tail) = text.split_once('/').unwrap_or((text, ""));
                if first == "launch.toml" && tail.is_empty() {
                    return PathRef::LaunchToml;
                }
                if let Some(layer) = first.strip_suffix(".toml")
                    && tail.is_empty()
                {
                    return PathRef::LayerToml(layer.to_owned());
                }
                if self.uv_layers.contains(first) && (tail == "bin/uv" || tail == "uv") {
                    return PathRef::Uv;
                }
                if valid_layer_name(first) {
                    PathRef::Layer(first.to_owned(), tail.to_owned())
                } else {
                    PathRef::Other
                }
            }
            [Part::Var(home), Part::Lit(rest)] if home == "HOME" => {
                if matches!(
                    rest.as_str(),
                    "/.local/bin/uv" | "/.cargo/bin/uv" | "/.local/bin/uvx"
                ) {
                    PathRef::Uv
                } else {
                    PathRef::Other
                }
            }
            [Part::Lit(text)] => {
                if self.uv_installed && matches!(text.as_str(), "uv" | "./uv") {
                    return PathRef::Uv;
                }
                if text.starts_with('/') || text.starts_with('-') || text.contains("://") {
                    PathRef::Other
                } else {
                    PathRef::App(join_cwd(self.cwd.as_deref(), text.trim_start_matches("./")))
                }
            }
            _ => PathRef::Other,
        }
    }

    fn is_uv(&self, word: &Word) -> bool {
        self.classify_path(&word.parts) == PathRef::Uv
    }

    /// The layer a word names (its dir or something in it).
    fn layer_of(&self, word: &Word) -> Option<String> {
        match self.classify_path(&word.parts) {
            PathRef::Layer(layer, _) => Some(layer),
            _ => None,
        }
    }

    fn step(&mut self, command: &Command, kind: StepKind) {
        let run_text = self.run_text(command);
        self.plan.steps.push(Step {
            line: command.line,
            text: command.text.clone(),
            run_text,
            cwd: self.cwd.clone(),
            kind,
        });
    }

    /// The command's text with uv's old places replaced by `uv`.
    fn run_text(&self, command: &Command) -> String {
        let simples: Vec<&Simple> = match &command.body {
            Body::Simple(s) => vec![s],
            Body::Pipeline(p) => p.iter().collect(),
            Body::Compound => Vec::new(),
        };
        let start = command.offset;
        let mut text = command.text.clone();
        let mut replacements: Vec<(usize, usize)> = simples
            .iter()
            .flat_map(|s| s.words.iter())
            .filter(|w| self.is_uv(w) && w.literal().as_deref() != Some("uv"))
            .map(|w| (w.span.start - start, w.span.end - start))
            .collect();
        replacements.sort_unstable();
        for (from, to) in replacements.into_iter().rev() {
            if to <= text.len() {
                text.replace_range(from..to, "uv");
            }
        }
        text
    }

    /// Env vars and app files a command names: what an unrecognised command's layer is keyed on.
    fn inputs_of(&self, command: &Command) -> Vec<KeyField> {
        let mut inputs = BTreeSet::new();
        let simples: Vec<&Simple> = match &command.body {
            Body::Simple(s) => vec![s],
            Body::Pipeline(p) => p.iter().collect(),
            Body::Compound => Vec::new(),
        };
        for simple in &simples {
            let words = simple
                .words
                .iter()
                .skip(1)
                .chain(simple.assignments.iter().map(|(_, w)| w))
                .chain(
                    simple
                        .redirects
                        .iter()
                        .filter(|r| r.op != RedirectOp::Write && r.op != RedirectOp::Append)
                        .map(|r| &r.target),
                );
            for word in words {
                for name in word.vars() {
                    self.env_input(name, &mut inputs);
                }
                let mut candidates = vec![word.parts.clone()];
                if let Some(Part::Lit(text)) = word.parts.first()
                    && text.starts_with('-')
                    && let Some((_, value)) = text.split_once('=')
                {
                    candidates.push(vec![Part::Lit(value.to_owned())]);
                }
                for parts in candidates {
                    if let PathRef::App(file) = self.classify_path(&parts)
                        && self.names_a_file(&file)
                    {
                        inputs.insert(KeyField::File(file));
                    }
                }
            }
            for redirect in &simple.redirects {
                if matches!(redirect.op, RedirectOp::Heredoc) {
                    for name in redirect.target.vars() {
                        self.env_input(name, &mut inputs);
                    }
                }
            }
        }
        if simples.is_empty() {
            // A compound command: parameters it reads, found in its text.
            for name in vars_in_text(&command.text) {
                self.env_input(&name, &mut inputs);
            }
        }
        inputs.into_iter().collect()
    }

    fn env_input(&self, name: &str, inputs: &mut BTreeSet<KeyField>) {
        if !self.vars.contains_key(name) && !PROVIDED.contains(&name) && !is_special(name) {
            inputs.insert(KeyField::Env(name.to_owned()));
        }
    }

    fn names_a_file(&self, file: &str) -> bool {
        if file.is_empty() || file == "." || file == ".." {
            return false;
        }
        if self.app_dir.join(file).exists() {
            return true;
        }
        Path::new(file).extension().is_some_and(|ext| {
            matches!(
                ext.to_str().unwrap_or_default(),
                "txt"
                    | "toml"
                    | "lock"
                    | "json"
                    | "yaml"
                    | "yml"
                    | "cfg"
                    | "ini"
                    | "py"
                    | "sh"
                    | "js"
                    | "ts"
                    | "in"
            )
        })
    }

    /// The layer an unrecognised command writes into: a redirect target in a layer, else the first layer it
    /// names.
    fn written_layer(&self, command: &Command) -> Option<String> {
        match &command.body {
            Body::Simple(_) | Body::Pipeline(_) => {
                let simples: Vec<&Simple> = match &command.body {
                    Body::Simple(s) => vec![s],
                    Body::Pipeline(p) => p.iter().collect(),
                    Body::Compound => Vec::new(),
                };
                let redirect = simples
                    .iter()
                    .flat_map(|s| s.redirects.iter())
                    .find_map(|r| {
                        matches!(r.op, RedirectOp::Write | RedirectOp::Append)
                            .then(|| self.layer_of(&r.target))
                            .flatten()
                    });
                redirect.or_else(|| {
                    simples
                        .iter()
                        .flat_map(|s| s.words.iter().skip(1))
                        .find_map(|w| self.layer_of(w))
                        .filter(|l| !self.uv_layers.contains(l))
                })
            }
            Body::Compound => {
                let text = &command.text;
                for (name, parts) in &self.vars {
                    if let PathRef::Layer(layer, _) = self.classify_path(parts)
                        && (text.contains(&format!("${name}"))
                            || text.contains(&format!("${{{name}}}")))
                        && !self.uv_layers.contains(&layer)
                    {
                        return Some(layer);
                    }
                }
                for marker in ["$CNB_LAYERS_DIR/", "${CNB_LAYERS_DIR}/"] {
                    if let Some(at) = text.find(marker) {
                        let rest = &text[at + marker.len()..];
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                            .collect();
                        if valid_layer_name(&name) {
                            return Some(name);
                        }
                    }
                }
                None
            }
        }
    }

    fn classify(&mut self, command: &Command) {
        let kind = match &command.body {
            Body::Simple(simple) => self.simple(command, simple),
            Body::Pipeline(parts) => self.pipeline(parts),
            Body::Compound => None,
        };
        let kind = kind.unwrap_or_else(|| self.unrecognised(command));
        self.step(command, kind);
    }

    fn unrecognised(&self, command: &Command) -> StepKind {
        let inputs = self.inputs_of(command);
        match self.written_layer(command) {
            Some(layer) => StepKind::LayerCommand { layer, inputs },
            None => StepKind::Command { inputs },
        }
    }

    fn pipeline(&mut self, parts: &[Simple]) -> Option<StepKind> {
        // `curl -LsSf URL | sh`, `wget -qO- URL | bash`.
        let [fetch, shell] = parts else { return None };
        let fetcher = fetch.name()?;
        let shell_name = shell.name()?;
        if !matches!(fetcher.as_str(), "curl" | "wget")
            || !matches!(shell_name.as_str(), "sh" | "bash" | "/bin/sh" | "/bin/bash")
        {
            return None;
        }
        let url = fetch
            .words
            .iter()
            .skip(1)
            .filter_map(Word::literal)
            .find(|w| w.contains("://"))?;
        if !is_uv_install_url(&url) {
            return None;
        }
        let asked = version_in(&url).or_else(|| {
            shell
                .assignments
                .iter()
                .find(|(n, _)| n == "UV_VERSION")
                .and_then(|(_, w)| w.literal())
        });
        self.uv_installed = true;
        Some(StepKind::InstallUv {
            source: UvSource::InstallScript { url },
            asked,
        })
    }

    fn simple(&mut self, command: &Command, simple: &Simple) -> Option<StepKind> {
        if simple.words.is_empty() {
            // `name=value` alone: a script variable.
            if simple.redirects.is_empty() && simple.assignments.len() == 1 {
                let (name, value) = &simple.assignments[0];
                let resolved = self.resolve(&value.parts);
                self.vars.insert(name.clone(), resolved);
                self.var_text
                    .push((name.clone(), format!("{name}={}", value.raw)));
                return Some(StepKind::Variable { name: name.clone() });
            }
            return None;
        }
        let name = simple.name().unwrap_or_default();
        let args: Vec<&Word> = simple.words.iter().skip(1).collect();
        let literal_args: Vec<Option<String>> = args.iter().map(|w| w.literal()).collect();
        let arg = |i: usize| literal_args.get(i).cloned().flatten();

        if let Some(decided) = self.builtin(command, simple, &name, &args, &arg) {
            return decided;
        }

        // Writes of launch.toml, <layer>.toml and env files.
        if let Some(kind) = self.write(simple, &name, &args) {
            return Some(kind);
        }

        // Copies and links of uv, `chmod +x uv`, unpacking the downloaded uv.
        if let Some(kind) = self.uv_file_step(&name, &args) {
            return Some(kind);
        }

        // A download of a uv release.
        if matches!(name.as_str(), "curl" | "wget") {
            return self.uv_download(&literal_args);
        }

        if let Some(kind) = self.venv_step(&name, &args, &arg) {
            return Some(kind);
        }

        if let Some(decided) = self.pip_command(simple, &name, &arg) {
            return decided;
        }

        if self.is_uv(&simple.words[0]) {
            if arg(0).as_deref() == Some("sync") {
                return self.uv_sync(simple, &literal_args);
            }
            return None;
        }

        if let Some(kind) = self.node_install(&name, &literal_args) {
            return Some(kind);
        }
        None
    }

    /// `set`, `cd`, `export` and `source`: `Some` with what the step is (`Some(None)`: not recognised) when
    /// `name` is one of them, `None` to look further.
    #[allow(
        clippy::option_option,
        reason = "decided (maybe unrecognised) or not one of these"
    )]
    fn builtin(
        &mut self,
        command: &Command,
        simple: &Simple,
        name: &str,
        args: &[&Word],
        arg: &dyn Fn(usize) -> Option<String>,
    ) -> Option<Option<StepKind>> {
        match name {
            "set" if simple.redirects.is_empty() => {
                self.plan.set_options.push(command.text.clone());
                return Some(Some(StepKind::ShellOptions));
            }
            "cd" if args.len() == 1 => {
                if let Some(dir) = arg(0)
                    && !dir.starts_with('/')
                    && !dir.contains("..")
                {
                    let dir = join_cwd(self.cwd.as_deref(), dir.trim_start_matches("./"));
                    let dir = dir.trim_end_matches('/').to_owned();
                    self.cwd = (!dir.is_empty() && dir != ".").then(|| dir.clone());
                    return Some(Some(StepKind::ChangeDir { dir }));
                }
                return Some(None);
            }
            "export" => return Some(self.export(simple)),
            "source" | "." if args.len() == 1 => {
                let target = self.resolve(&args[0].parts);
                if matches!(
                    target.as_slice(),
                    [Part::Var(h), Part::Lit(rest)] if h == "HOME" && (rest == "/.local/bin/env" || rest == "/.cargo/env")
                ) {
                    return Some(Some(StepKind::UvPlumbing {
                        why: "uv's installer env file only puts uv on PATH; the pinned uv's layer is on PATH".into(),
                    }));
                }
                return Some(None);
            }
            _ => {}
        }
        None
    }

    /// Copies and links of uv, `chmod +x uv`, unpacking the downloaded uv: uv plumbing the pinned uv makes
    /// unneeded.
    fn uv_file_step(&mut self, name: &str, args: &[&Word]) -> Option<StepKind> {
        // Copies and links of uv, `chmod +x uv`, unpacking the downloaded uv.
        if matches!(name, "cp" | "mv" | "ln" | "install") && args.len() >= 2 {
            let sources = &args[..args.len() - 1];
            let dest = args[args.len() - 1];
            let uv_sources = sources
                .iter()
                .filter(|w| !w.literal().is_some_and(|l| l.starts_with('-')))
                .all(|w| self.is_uv(w));
            if uv_sources && sources.iter().any(|w| self.is_uv(w)) {
                let dest_parts = self.resolve(&dest.parts);
                let mut alias = dest_parts.clone();
                if let Some(Part::Lit(last)) = alias.last_mut() {
                    if last == "." || last == "./" {
                        "./uv".clone_into(last);
                    } else if last.ends_with('/') {
                        last.push_str("uv");
                    } else if !last.ends_with("/uv") && last != "uv" {
                        last.push_str("/uv");
                    }
                } else {
                    alias.push(Part::Lit("/uv".to_owned()));
                }
                self.uv_aliases.push(dest_parts);
                self.uv_aliases.push(alias);
                return Some(StepKind::UvPlumbing {
                    why: "later steps run the pinned uv from its layer, which is on PATH".into(),
                });
            }
        }
        if name == "chmod" && args.last().is_some_and(|w| self.is_uv(w)) {
            return Some(StepKind::UvPlumbing {
                why: "the pinned uv is installed executable".into(),
            });
        }
        if name == "tar"
            && args
                .iter()
                .filter_map(|w| w.literal())
                .any(|a| self.uv_downloads.iter().any(|d| a.ends_with(d.as_str())))
        {
            return Some(StepKind::UvPlumbing {
                why:
                    "the pinned uv is installed by pip from its wheel, not unpacked from an archive"
                        .into(),
            });
        }
        None
    }

    /// `curl` or `wget` of a uv release: the pinned uv instead; anything else they fetch is not recognised.
    fn uv_download(&mut self, literal_args: &[Option<String>]) -> Option<StepKind> {
        let arg = |i: usize| literal_args.get(i).cloned().flatten();
        let url = literal_args.iter().flatten().find(|a| a.contains("://"))?;
        if is_uv_release_url(url) {
            let output = literal_args
                .iter()
                .position(|a| matches!(a.as_deref(), Some("-o" | "-O" | "--output")))
                .and_then(|i| arg(i + 1))
                .unwrap_or_else(|| url.rsplit('/').next().unwrap_or_default().to_owned());
            self.uv_downloads.push(output);
            self.uv_installed = true;
            return Some(StepKind::InstallUv {
                source: UvSource::Download { url: url.clone() },
                asked: version_in(url),
            });
        }
        None
    }

    /// `python3 -m venv DIR`: for uv (plumbing), for a later `pip install` (part of it), else `None`.
    fn venv_step(
        &mut self,
        name: &str,
        args: &[&Word],
        arg: &dyn Fn(usize) -> Option<String>,
    ) -> Option<StepKind> {
        // `python3 -m venv DIR`: for uv (plumbing), for a later `pip install` (part of it), else unrecognised.
        if matches!(name, "python" | "python3")
            && arg(0).as_deref() == Some("-m")
            && arg(1).as_deref() == Some("venv")
            && let Some(dir) = args
                .iter()
                .skip(2)
                .rev()
                .find(|w| !w.literal().is_some_and(|l| l.starts_with('-')))
            && let Some(layer) = self.layer_of(dir)
        {
            if self.uv_layers.contains(&layer) {
                return Some(StepKind::UvPlumbing {
                    why: format!("`{layer}` only held uv; the pinned uv has its own layer"),
                });
            }
            self.venvs.insert(layer.clone());
            return Some(StepKind::UvPlumbing {
                why: format!("the venv in `{layer}` is made where its packages are installed"),
            });
        }
        None
    }

    /// pip, `python3 -m pip`, a venv's pip or `uv pip`: `Some` with the install step it is (`Some(None)`: not an
    /// install), `None` when the command is not pip.
    #[allow(
        clippy::option_option,
        reason = "decided (maybe unrecognised) or not pip"
    )]
    fn pip_command(
        &mut self,
        simple: &Simple,
        name: &str,
        arg: &dyn Fn(usize) -> Option<String>,
    ) -> Option<Option<StepKind>> {
        // pip: `pip install uv`, `pip install -r FILE`, `pip install PKG...`.
        let pip_at = if matches!(name, "pip" | "pip3" | "pipx") {
            Some((1, name == "pipx", None))
        } else if matches!(name, "python" | "python3")
            && arg(0).as_deref() == Some("-m")
            && matches!(arg(1).as_deref(), Some("pip" | "pipx"))
        {
            Some((3, arg(1).as_deref() == Some("pipx"), None))
        } else if let PathRef::Layer(layer, rest) = self.classify_path(&simple.words[0].parts)
            && matches!(rest.as_str(), "bin/pip" | "bin/pip3")
        {
            Some((1, false, Some(layer)))
        } else if self.is_uv(&simple.words[0]) && arg(0).as_deref() == Some("pip") {
            Some((2, false, None))
        } else {
            None
        };
        if let Some((skip, pipx, venv_layer)) = pip_at {
            let via_uv = self.is_uv(&simple.words[0]);
            let rest: Vec<&Word> = simple.words.iter().skip(skip).collect();
            if rest.first().and_then(|w| w.literal()).as_deref() != Some("install")
                && !(pipx && rest.is_empty())
            {
                return Some(None);
            }
            return Some(self.pip_install(&rest[1..], venv_layer, via_uv, pipx));
        }
        None
    }

    #[allow(clippy::too_many_lines, reason = "pip's options, one at a time")]
    fn pip_install(
        &mut self,
        rest: &[&Word],
        venv_layer: Option<String>,
        via_uv: bool,
        pipx: bool,
    ) -> Option<StepKind> {
        let mut files = Vec::new();
        let mut packages = Vec::new();
        let mut flags = Vec::new();
        let mut target_layer = None;
        let mut index = 0;
        while index < rest.len() {
            let word = rest[index];
            let text = word.literal()?;
            if text == "-r" || text == "--requirement" {
                let file = rest.get(index + 1)?.literal()?;
                files.push(join_cwd(self.cwd.as_deref(), &file));
                index += 2;
                continue;
            }
            if let Some(file) = text
                .strip_prefix("--requirement=")
                .or_else(|| text.strip_prefix("-r").filter(|f| !f.is_empty()))
            {
                files.push(join_cwd(self.cwd.as_deref(), file));
            } else if text == "--target" || text == "-t" {
                target_layer = Some(self.layer_of(rest.get(index + 1)?)?);
                index += 2;
                continue;
            } else if text == "--user" || text == "--system" || text == "--break-system-packages" {
                // Where to install is the layer's venv now.
            } else if text.starts_with('-') {
                flags.push(text);
            } else {
                packages.push(text);
            }
            index += 1;
        }
        // `pip install uv`: the pinned uv.
        if files.is_empty()
            && packages.len() == 1
            && let Some(asked) = uv_requirement(&packages[0])
        {
            if let Some(layer) = venv_layer.or(target_layer) {
                self.uv_layers.insert(layer);
            }
            self.uv_installed = true;
            return Some(StepKind::InstallUv {
                source: UvSource::Pip,
                asked,
            });
        }
        if pipx || packages.iter().any(|p| uv_requirement(p).is_some()) || target_layer.is_some() {
            return None;
        }
        let layer = venv_layer.unwrap_or_else(|| self.fresh_layer("venv"));
        Some(StepKind::PipInstall {
            layer,
            files,
            packages,
            flags,
            via_uv,
        })
    }

    fn uv_sync(&mut self, simple: &Simple, literal_args: &[Option<String>]) -> Option<StepKind> {
        let args: Vec<String> = literal_args
            .iter()
            .skip(1)
            .cloned()
            .collect::<Option<_>>()?;
        let mut env = Vec::new();
        let mut layer = None;
        for (name, value) in &simple.assignments {
            if name == "UV_PROJECT_ENVIRONMENT" {
                layer = Some(self.layer_of(value)?);
            } else {
                env.push((name.clone(), value.literal()?));
            }
        }
        if layer.is_none()
            && let Some(parts) = self.vars.get("UV_PROJECT_ENVIRONMENT")
            && let PathRef::Layer(l, _) = self.classify_path(&parts.clone())
        {
            layer = Some(l);
        }
        let layer = layer.unwrap_or_else(|| self.fresh_layer("venv"));
        Some(StepKind::UvSync { layer, args, env })
    }

    fn node_install(&mut self, name: &str, args: &[Option<String>]) -> Option<StepKind> {
        let sub = args.first().cloned().flatten();
        let (lock, ok) = match (name, sub.as_deref()) {
            ("npm", Some("ci" | "install" | "i")) => (
                "package-lock.json",
                args.len() == 1 || args.iter().skip(1).flatten().all(|a| a.starts_with('-')),
            ),
            ("yarn", None | Some("install")) => (
                "yarn.lock",
                args.iter().skip(1).flatten().all(|a| a.starts_with('-')),
            ),
            ("pnpm", Some("install" | "i")) => (
                "pnpm-lock.yaml",
                args.iter().skip(1).flatten().all(|a| a.starts_with('-')),
            ),
            _ => return None,
        };
        if !ok || args.iter().any(Option::is_none) {
            return None;
        }
        let mut command = vec![name.to_owned()];
        command.extend(args.iter().flatten().cloned());
        let layer = self.fresh_layer("node_modules");
        Some(StepKind::NodeInstall {
            layer,
            argv: command,
            lock: join_cwd(self.cwd.as_deref(), lock),
        })
    }

    fn export(&mut self, simple: &Simple) -> Option<StepKind> {
        // `export NAME=value` (one at a time; `export NAME` of a variable set before is the same).
        let [_, word] = simple.words.as_slice() else {
            return None;
        };
        let (name, value) = if let Some(pair) = split(word) {
            pair
        } else {
            let name = word.literal()?;
            let value = self.vars.get(&name)?.clone();
            (name, value)
        };
        // A `PATH` change that only adds uv's places is plumbing.
        let resolved = self.resolve(&value);
        let (action, rest) = env_action(&name, &resolved);
        if name == "PATH" && action != EnvAction::Override {
            let uv_only = split_path_list(&rest)
                .iter()
                .all(|entry| self.is_uv_dir(entry));
            if uv_only {
                return Some(StepKind::UvPlumbing {
                    why: "it only put uv on PATH; the pinned uv's layer is on PATH".into(),
                });
            }
        }
        self.vars.insert(name.clone(), resolved);
        if name == "UV_PROJECT_ENVIRONMENT" {
            return Some(StepKind::Variable { name });
        }
        Some(StepKind::Export {
            name,
            action,
            value: rest,
        })
    }

    fn is_uv_dir(&self, entry: &[Part]) -> bool {
        let mut with_uv = entry.to_vec();
        match with_uv.last_mut() {
            Some(Part::Lit(last)) => last.push_str("/uv"),
            _ => with_uv.push(Part::Lit("/uv".to_owned())),
        }
        self.classify_path(&with_uv) == PathRef::Uv
            || matches!(self.classify_path(entry), PathRef::Layer(ref l, ref r) if self.uv_layers.contains(l) && r == "bin")
    }

    /// `cat > FILE <<EOF`, `echo ... > FILE`, `printf ... > FILE` of launch.toml, `<layer>.toml` and env files.
    #[allow(clippy::too_many_lines, reason = "one arm per file kind")]
    fn write(&mut self, simple: &Simple, name: &str, args: &[&Word]) -> Option<StepKind> {
        let out = simple.redirects.iter().find(|r| {
            matches!(r.op, RedirectOp::Write | RedirectOp::Append) && r.fd.is_none_or(|fd| fd == 1)
        })?;
        let content = written_content(simple, name, args)?;
        let content = self.resolve(&content);
        match self.classify_path(&out.target.parts) {
            PathRef::LaunchToml => {
                let processes = processes_of(&content)?;
                Some(StepKind::Processes { processes })
            }
            PathRef::LayerToml(layer) => self.layer_toml(&content, layer),
            PathRef::Layer(layer, rest) => env_file(content, layer, &rest),
            _ => None,
        }
    }

    /// A `<layer>.toml` the script writes: the layer's types.
    fn layer_toml(&mut self, content: &[Part], layer: String) -> Option<StepKind> {
        let text = lit_text(content)?;
        let table: toml::Table = toml::from_str(&text).ok()?;
        let types = table.get("types").and_then(toml::Value::as_table);
        let flag = |key: &str| {
            types
                .and_then(|t| t.get(key))
                .or_else(|| table.get(key))
                .and_then(toml::Value::as_bool)
                .unwrap_or(false)
        };
        self.declared.insert(
            layer.clone(),
            (flag("launch"), flag("build"), flag("cache")),
        );
        Some(StepKind::LayerTypes { layer })
    }

    fn fresh_layer(&self, base: &str) -> String {
        let taken = |name: &str| {
            self.declared.contains_key(name)
                || self.plan.layers.iter().any(|l| l.name == name)
                || self
                    .vars
                    .values()
                    .any(|v| matches!(self.classify_path(v), PathRef::Layer(ref l, _) if l == name))
        };
        if !taken(base) {
            return base.to_owned();
        }
        (2..100)
            .map(|n| format!("{base}-{n}"))
            .find(|n| !taken(n))
            .unwrap_or_default()
    }
}

/// `NAME=value` of an `export` argument.
fn split(word: &Word) -> Option<(String, Vec<Part>)> {
    let Some(Part::Lit(first)) = word.parts.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let mut value = Vec::new();
    if !rest.is_empty() {
        value.push(Part::Lit(rest.to_owned()));
    }
    value.extend(word.parts[1..].iter().cloned());
    Some((name.to_owned(), value))
}

/// A `PATH`-like value split at `:`.
fn split_path_list(parts: &[Part]) -> Vec<Vec<Part>> {
    let mut entries = vec![Vec::new()];
    for part in parts {
        match part {
            Part::Lit(text) => {
                let mut pieces = text.split(':');
                if let Some(first) = pieces.next()
                    && !first.is_empty()
                    && let Some(last) = entries.last_mut()
                {
                    last.push(Part::Lit(first.to_owned()));
                }
                for piece in pieces {
                    entries.push(if piece.is_empty() {
                        Vec::new()
                    } else {
                        vec![Part::Lit(piece.to_owned())]
                    });
                }
            }
            other => {
                if let Some(last) = entries.last_mut() {
                    last.push(other.clone());
                }
            }
        }
    }
    entries.retain(|e| !e.is_empty());
    entries
}

/// A `printf` format with no conversions: its escapes applied.
fn unescape_printf(format: &str) -> Option<Vec<String>> {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            '%' => match chars.next()? {
                '%' => out.push('%'),
                _ => return None,
            },
            other => out.push(other),
        }
    }
    Some(vec![out])
}

/// Parameters named in a compound command's text.
fn vars_in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let rest = &text[i + 1..];
            let rest = rest.strip_prefix('{').unwrap_or(rest);
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && !out.contains(&name)
            {
                out.push(name);
            }
        }
        i += 1;
    }
    out
}

/// Marks where a parameter was in a `launch.toml` text while it is read as TOML (control characters are not
/// allowed in TOML strings).
const HOLE: &str = "@@rpack-parameter@@";

/// The processes of a `launch.toml` text whose parameters are layer paths or other parts.
fn processes_of(content: &[Part]) -> Option<Vec<ProcessPlan>> {
    // Parameters are swapped for markers, the TOML is read, and the markers are swapped back in each string.
    let mut text = String::new();
    let mut holes = Vec::new();
    for part in content {
        match part {
            Part::Lit(lit) => text.push_str(lit),
            other => {
                let _ = write!(text, "{HOLE}{}{HOLE}", holes.len());
                holes.push(other.clone());
            }
        }
    }
    let table: toml::Table = toml::from_str(&text).ok()?;
    let refill = |s: &str| -> Vec<Part> {
        let mut parts = Vec::new();
        for (i, piece) in s.split(HOLE).enumerate() {
            if i % 2 == 1 {
                if let Some(hole) = piece.parse::<usize>().ok().and_then(|n| holes.get(n)) {
                    parts.push(hole.clone());
                }
            } else if !piece.is_empty() {
                parts.push(Part::Lit(piece.to_owned()));
            }
        }
        parts
    };
    let strings = |value: Option<&toml::Value>| -> Option<Vec<Vec<Part>>> {
        match value {
            None => Some(Vec::new()),
            Some(toml::Value::String(s)) => Some(vec![refill(s)]),
            Some(toml::Value::Array(items)) => {
                items.iter().map(|v| v.as_str().map(refill)).collect()
            }
            Some(_) => None,
        }
    };
    let mut out = Vec::new();
    for process in table.get("processes")?.as_array()? {
        let process = process.as_table()?;
        let kind = process.get("type")?.as_str()?.to_owned();
        let command = strings(process.get("command"))?;
        if command.is_empty() {
            return None;
        }
        out.push(ProcessPlan {
            kind,
            command,
            args: strings(process.get("args"))?,
            default: process
                .get("default")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false),
            working_dir: process
                .get("working-dir")
                .and_then(toml::Value::as_str)
                .map(str::to_owned),
        });
    }
    Some(out)
}

/// What `cat <<EOF`, `echo` or `printf` with stdout sent to a file writes into it, as written (unresolved).
fn written_content(simple: &Simple, name: &str, args: &[&Word]) -> Option<Vec<Part>> {
    let content = match name {
        "cat" if args.is_empty() => simple
            .redirects
            .iter()
            .find(|r| r.op == RedirectOp::Heredoc)?
            .target
            .parts
            .clone(),
        "echo" => {
            let mut words = args.to_vec();
            let mut newline = true;
            if words.first().and_then(|w| w.literal()).as_deref() == Some("-n") {
                newline = false;
                words.remove(0);
            }
            if words
                .first()
                .and_then(|w| w.literal())
                .is_some_and(|l| l.starts_with('-'))
            {
                return None;
            }
            let mut parts = Vec::new();
            for (i, word) in words.iter().enumerate() {
                if i > 0 {
                    parts.push(Part::Lit(" ".to_owned()));
                }
                parts.extend(word.parts.iter().cloned());
            }
            if newline {
                parts.push(Part::Lit("\n".to_owned()));
            }
            parts
        }
        "printf" => match args {
            [format] => unescape_printf(&format.literal()?)?
                .into_iter()
                .map(Part::Lit)
                .collect(),
            [format, value] if format.literal().as_deref() == Some("%s") => value.parts.clone(),
            _ => return None,
        },
        _ => return None,
    };
    Some(content)
}

/// A file the script writes under a layer's `env*` dir (`rest` is its path in the layer): the env modifier.
fn env_file(content: Vec<Part>, layer: String, rest: &str) -> Option<StepKind> {
    let (dir, file) = rest.rsplit_once('/')?;
    let scope = match dir {
        "env" => EnvScope::All,
        "env.build" => EnvScope::Build,
        "env.launch" => EnvScope::Launch,
        other => EnvScope::Process(other.strip_prefix("env.launch/")?.to_owned()),
    };
    let (var, action) = match file.rsplit_once('.') {
        Some((var, "override")) => (var, EnvAction::Override),
        Some((var, "default")) => (var, EnvAction::Default),
        Some((var, "prepend")) => (var, EnvAction::Prepend),
        Some((var, "append")) => (var, EnvAction::Append),
        Some(_) => return None,
        None => (file, EnvAction::Override),
    };
    let mut value = content;
    // `echo` adds a newline the env file would keep; the SDK writes values without one.
    if let Some(Part::Lit(last)) = value.last_mut() {
        while last.ends_with('\n') {
            last.pop();
        }
        if last.is_empty() {
            value.pop();
        }
    }
    Some(StepKind::LayerEnv {
        layer,
        scope,
        name: var.to_owned(),
        action,
        value,
    })
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

/// The layers the steps fill, with their types and keys.
#[allow(clippy::too_many_lines, reason = "one arm per step kind")]
fn layers(
    plan: &Plan,
    declared: &BTreeMap<String, (bool, bool, bool)>,
    uv_layers: &BTreeSet<String>,
) -> Vec<LayerPlan> {
    let mut layers: Vec<LayerPlan> = Vec::new();
    for step in &plan.steps {
        let Some((name, fields, recognised)) = layer_key(step) else {
            continue;
        };
        if uv_layers.contains(name) {
            continue;
        }
        if let Some(layer) = layers.iter_mut().find(|l| l.name == name) {
            for field in fields {
                if !layer.key.contains(&field) {
                    layer.key.push(field);
                }
            }
        } else {
            layers.push(new_layer(name, fields, recognised, declared));
        }
    }
    cache_for_later_steps(plan, &mut layers);
    layers
}

/// The layer a step works in, what its key holds for the step, and whether the step is one rpack recognises.
fn layer_key(step: &Step) -> Option<(&str, Vec<KeyField>, bool)> {
    let cwd = step.cwd.as_deref();
    match &step.kind {
        StepKind::UvSync { layer, .. } => Some((
            layer,
            vec![
                KeyField::File(join_cwd(cwd, "uv.lock")),
                KeyField::File(join_cwd(cwd, "pyproject.toml")),
                KeyField::Python,
                KeyField::Uv,
            ],
            true,
        )),
        StepKind::PipInstall {
            layer,
            files,
            packages,
            via_uv,
            ..
        } => {
            let mut fields: Vec<KeyField> =
                files.iter().map(|f| KeyField::File(f.clone())).collect();
            fields.push(KeyField::Python);
            if !packages.is_empty() {
                fields.push(KeyField::Packages(packages.clone()));
            }
            if *via_uv {
                fields.push(KeyField::Uv);
            }
            Some((layer, fields, true))
        }
        StepKind::NodeInstall { layer, lock, .. } => Some((
            layer,
            vec![
                KeyField::File(lock.clone()),
                KeyField::File(join_cwd(cwd, "package.json")),
                KeyField::Node,
            ],
            true,
        )),
        StepKind::LayerCommand { layer, inputs } => Some((layer, inputs.clone(), false)),
        StepKind::LayerEnv { layer, .. } | StepKind::LayerTypes { layer } => {
            Some((layer, Vec::new(), false))
        }
        _ => None,
    }
}

/// A layer first met in a step, with the types the script declared for it or, without a `<layer>.toml`, the
/// types that keep its files where the script's steps need them.
fn new_layer(
    name: &str,
    key: Vec<KeyField>,
    recognised: bool,
    declared: &BTreeMap<String, (bool, bool, bool)>,
) -> LayerPlan {
    let (launch, build, cache, why) = match declared.get(name) {
        Some(&(launch, build, cache)) => (
            launch,
            build,
            cache,
            format!("the types the script gave `{name}.toml`"),
        ),
        None if recognised => (true, false, false, "the app needs it at launch".to_owned()),
        None => (
            false,
            false,
            true,
            format!(
                "the script wrote no `{name}.toml`, so its `{name}` dir was thrown away after each build; here it is a cached build-time layer"
            ),
        ),
    };
    LayerPlan {
        name: name.to_owned(),
        launch,
        build,
        cache,
        key,
        why,
    }
}

/// A layer whose files a later unrecognised step may read must be restored for it: cache it too.
fn cache_for_later_steps(plan: &Plan, layers: &mut [LayerPlan]) {
    for (index, step) in plan.steps.iter().enumerate() {
        if let Some(layer) = step_layer(&step.kind) {
            let later_commands = plan.steps[index + 1..].iter().any(|s| match &s.kind {
                StepKind::Command { .. } => true,
                StepKind::LayerCommand { layer: other, .. } => other != layer,
                _ => false,
            });
            if later_commands
                && let Some(l) = layers.iter_mut().find(|l| l.name == layer)
                && l.launch
                && !l.cache
            {
                l.cache = true;
                l.why
                    .push_str("; cached too, so later steps of the build find its files");
            }
        }
    }
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
