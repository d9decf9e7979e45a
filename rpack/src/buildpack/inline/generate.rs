//! A [`Plan`] as the files of a buildpack crate: `src/main.rs` whose `build()` follows the script step by step,
//! `src/inputs.rs` (what layer keys are made of), `src/uv.rs` (the pinned uv, when the script used uv), unit
//! tests per recognised step, and `integration/`, a real build of the app with a no-change rebuild that must
//! reuse every layer.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::parse::Part;
use super::steps::{
    EnvAction, EnvScope, KeyField, LayerPlan, Plan, ProcessPlan, Step, StepKind, UvSource,
    step_layer,
};
use super::uv_pin;

/// What the generated crate is made from, besides the plan.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    /// The crate's name.
    pub name: String,
    /// The buildpack id.
    pub id: String,
    /// The Buildpack API the buildpack declares.
    pub api: String,
    /// project.toml, as the user named it (for comments).
    pub project_toml: String,
    /// The inline buildpack's id in project.toml's group.
    pub inline_id: String,
    /// The app dir (project.toml's dir) relative to the crate's `integration/` dir.
    pub app_from_integration: String,
    /// The crate's dir relative to the app dir, when the crate is inside it (its copy leaves it out).
    pub crate_in_app: Option<String>,
    /// The `libbuildpack` dependency (`{ path = ... }`).
    pub libbuildpack: String,
    /// The `libbuildpack` dependency with the `testing` feature.
    pub libbuildpack_testing: String,
    /// The `libbuildpack-test` dependency.
    pub harness: String,
    /// The crate's dir relative to the app dir (absolute when they share nothing but `/`): the `uri` of a
    /// group entry that uses it.
    pub uri: String,
    /// `[profile.dev.package.*]` tables of the SDK's workspace, as TOML text, to copy (empty when none).
    pub dev_profiles: String,
}

/// A Rust string literal of `text`: raw when that reads better.
fn lit(text: &str) -> String {
    if (text.contains('"') || text.contains('\\') || text.contains('\n'))
        && !text.contains('\r')
        && !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        let mut hashes = String::from("#");
        while text.contains(&format!("\"{hashes}")) {
            hashes.push('#');
        }
        format!("r{hashes}\"{text}\"{hashes}")
    } else {
        format!("{text:?}")
    }
}

/// `text` in lowercase with every character but letters and digits as `_`.
fn snake(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `venv-2` → `venv_2`, `node_modules` → `node_modules`; Rust keywords and names the code uses get a suffix.
fn ident(name: &str) -> String {
    let mut out = snake(name);
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if matches!(
        out.as_str(),
        "uv" | "ctx"
            | "env"
            | "self"
            | "super"
            | "crate"
            | "type"
            | "mod"
            | "use"
            | "fn"
            | "let"
            | "match"
            | "build"
            | "layer"
            | "key"
            | "in"
            | "ref"
            | "move"
            | "static"
            | "const"
            | "loop"
            | "box"
            | "inputs"
    ) {
        out.push_str("_layer");
    }
    out
}

/// `node_modules` → `NodeModules`.
fn camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A command as errors name it: its first line, up to 60 characters.
fn label(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    if first.chars().count() > 60 || text.lines().count() > 1 {
        format!(
            "{} …",
            first.chars().take(60).collect::<String>().trim_end()
        )
    } else {
        first.to_owned()
    }
}

/// The first line of a command, shortened, for a comment.
fn short(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    let more = text.lines().count() > 1;
    let mut out: String = first.chars().take(96).collect();
    if first.chars().count() > 96 {
        out.push('…');
    }
    if more {
        out.push_str(" …");
    }
    out
}

fn field_name(field: &KeyField) -> String {
    match field {
        KeyField::File(file) => snake(file).trim_matches('_').to_owned(),
        KeyField::Env(name) => format!("env_{}", name.to_ascii_lowercase()),
        KeyField::Python => "python".to_owned(),
        KeyField::Uv => "uv".to_owned(),
        KeyField::Node => "node".to_owned(),
        KeyField::Packages(_) => "packages".to_owned(),
    }
}

fn field_doc(field: &KeyField) -> String {
    match field {
        KeyField::File(file) => {
            format!("sha256 of the app's `{file}` (`absent` when there is none).")
        }
        KeyField::Env(name) => format!("`${name}`: project.toml's build env, or the build's env."),
        KeyField::Python => "The stack's Python (`sys.version`).".to_owned(),
        KeyField::Uv => "The pinned uv.".to_owned(),
        KeyField::Node => "`node --version`.".to_owned(),
        KeyField::Packages(_) => "The packages the script installs, as written.".to_owned(),
    }
}

fn field_value(field: &KeyField) -> String {
    match field {
        KeyField::File(file) => format!("inputs::sha256_of(&app.join({}))?", lit(file)),
        KeyField::Env(name) => format!("inputs::env_value(env, {})", lit(name)),
        KeyField::Python => "inputs::python()?".to_owned(),
        KeyField::Uv => "uv::VERSION.to_owned()".to_owned(),
        KeyField::Node => "inputs::node()?".to_owned(),
        KeyField::Packages(packages) => format!(
            "vec![{}]",
            packages
                .iter()
                .map(|p| format!("{}.to_owned()", lit(p)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn describe_key(layer: &LayerPlan) -> String {
    let names: Vec<String> = layer
        .key
        .iter()
        .map(|f| match f {
            KeyField::File(file) => format!("`{file}`"),
            KeyField::Env(name) => format!("`${name}`"),
            KeyField::Python => "the stack's Python".to_owned(),
            KeyField::Uv => "uv's version".to_owned(),
            KeyField::Node => "node's version".to_owned(),
            KeyField::Packages(_) => "the packages named".to_owned(),
        })
        .collect();
    if names.is_empty() {
        "nothing that can change (the commands are in this crate)".to_owned()
    } else {
        names.join(", ")
    }
}

fn types_text(layer: &LayerPlan) -> String {
    let mut types = Vec::new();
    if layer.launch {
        types.push("launch");
    }
    if layer.build {
        types.push("build");
    }
    if layer.cache {
        types.push("cache");
    }
    if types.is_empty() {
        "a build-only".to_owned()
    } else {
        format!("a {}", types.join(" + "))
    }
}

/// A value made of script parts, as Rust code.
struct Expr {
    code: String,
    kind: ExprKind,
}

#[derive(PartialEq, Eq)]
enum ExprKind {
    /// A `&str` literal.
    Literal,
    /// A `PathBuf`.
    Path,
    /// A `String`.
    Owned,
}

impl Expr {
    /// As a `String` expression.
    fn owned(self) -> String {
        match self.kind {
            ExprKind::Literal => format!("{}.to_owned()", self.code),
            ExprKind::Path => format!("{}.display().to_string()", self.code),
            ExprKind::Owned => self.code,
        }
    }
}

/// Where a parameter that names one of the buildpack's dirs points, as Rust code.
fn dir_of(name: &str) -> Option<&'static str> {
    match name {
        "CNB_LAYERS_DIR" | "1" => Some("ctx.layers_dir()"),
        "CNB_PLATFORM_DIR" | "2" => Some("ctx.platform_dir()"),
        _ => None,
    }
}

/// A value made of script parts as Rust code (`None` when only a shell can work it out): a literal, a path in
/// the layers dir, an env value, or a `format!` of them.
fn value_expr(parts: &[Part], uses_ctx: &mut bool) -> Option<Expr> {
    match parts {
        [Part::Lit(text)] => {
            return Some(Expr {
                code: lit(text),
                kind: ExprKind::Literal,
            });
        }
        [Part::Var(name)] if dir_of(name).is_some() => {
            *uses_ctx = true;
            return Some(Expr {
                code: format!("{}.to_owned()", dir_of(name).unwrap_or_default()),
                kind: ExprKind::Path,
            });
        }
        [Part::Var(name), Part::Lit(rest)]
            if dir_of(name).is_some() && rest.starts_with('/') && !rest.contains(' ') =>
        {
            *uses_ctx = true;
            return Some(Expr {
                code: format!(
                    "{}.join({})",
                    dir_of(name).unwrap_or_default(),
                    lit(rest.trim_start_matches('/'))
                ),
                kind: ExprKind::Path,
            });
        }
        [Part::Var(name)] => {
            *uses_ctx = true;
            return Some(Expr {
                code: format!("inputs::env_value(ctx.platform_env(), {})", lit(name)),
                kind: ExprKind::Owned,
            });
        }
        _ => {}
    }
    let mut format = String::new();
    let mut args = Vec::new();
    for part in parts {
        match part {
            Part::Lit(text) => format.push_str(&text.replace('{', "{{").replace('}', "}}")),
            Part::Var(name) => {
                format.push_str("{}");
                *uses_ctx = true;
                args.push(dir_of(name).map_or_else(
                    || format!("inputs::env_value(ctx.platform_env(), {})", lit(name)),
                    |dir| format!("{dir}.display()"),
                ));
            }
            Part::Subst(_) => return None,
        }
    }
    Some(Expr {
        code: format!("format!({}, {})", lit(&format), args.join(", ")),
        kind: ExprKind::Owned,
    })
}

struct Names {
    /// Step function names by line.
    fns: Vec<(usize, String)>,
}

impl Names {
    fn unique(&mut self, base: &str, line: usize) -> String {
        let taken = |n: &str, fns: &Vec<(usize, String)>| fns.iter().any(|(_, f)| f == n);
        let name = if taken(base, &self.fns) {
            format!("{base}_line_{line}")
        } else {
            base.to_owned()
        };
        self.fns.push((line, name.clone()));
        name
    }
}

/// What the generator found it needs while writing `main.rs`.
#[derive(Default)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "one flag per helper the generated code needs"
)]
struct Needs {
    uv: bool,
    uv_launch: bool,
    python: bool,
    node: bool,
    env_value: bool,
    sha256: bool,
    script: bool,
    link: bool,
    copy: bool,
}

/// What the steps of one layer's block share.
#[derive(Clone, Copy)]
struct LayerScope<'l> {
    name: &'l str,
    var: &'l str,
    key_type: &'l str,
    layer: &'l LayerPlan,
}

/// What a layer's steps leave for after its `is_new` block.
#[derive(Default)]
struct LayerAfter {
    env_steps: Vec<Step>,
    venv_env: bool,
    node_link: Option<String>,
}

/// `.current_dir(...)` for a step that runs in another dir than the app's, else nothing.
fn call_dir(step: &Step) -> String {
    step.cwd
        .as_ref()
        .map(|d| format!(".current_dir(ctx.app_dir().join({}))", lit(d)))
        .unwrap_or_default()
}

struct Generator<'a> {
    plan: &'a Plan,
    type_name: String,
    needs: Needs,
    names: Names,
    /// Helper functions (commands, env writers, key constructors), after `build`.
    helpers: String,
    /// Unit tests.
    tests: String,
    /// Layers declared so far in `build`.
    declared: BTreeSet<String>,
    /// The layers (by name) whose key needs the env.
    key_types: String,
    uv_declared: bool,
    exports_done: bool,
}

impl Generator<'_> {
    fn uses_uv(&self) -> bool {
        self.plan.uv.is_some()
            || self.plan.steps.iter().any(|s| {
                matches!(
                    &s.kind,
                    StepKind::UvSync { .. } | StepKind::PipInstall { via_uv: true, .. }
                )
            })
    }

    fn comment(out: &mut String, indent: &str, step: &Step, note: &str) {
        let _ = writeln!(
            out,
            "{indent}// line {}: `{}`",
            step.line,
            short(&step.text)
        );
        if !note.is_empty() {
            for line in wrap(note, 100 - indent.len() - 3) {
                let _ = writeln!(out, "{indent}// {line}");
            }
        }
    }

    fn ensure_uv(&mut self, out: &mut String) {
        if !self.uv_declared {
            self.uv_declared = true;
            self.needs.uv = true;
            let _ = writeln!(out, "        let uv = uv::layer(ctx)?;");
        }
    }

    #[allow(clippy::too_many_lines, reason = "one arm per step kind")]
    fn build_body(&mut self) -> String {
        let mut out = String::new();
        let steps = self.plan.steps.clone();
        for (index, step) in steps.iter().enumerate() {
            match &step.kind {
                StepKind::ShellOptions => Self::comment(
                    &mut out,
                    "        ",
                    step,
                    "Nothing to do: the build stops at the first step that fails (commands that still run as shell get these options too).",
                ),
                StepKind::Variable { name } => Self::comment(
                    &mut out,
                    "        ",
                    step,
                    &format!(
                        "A variable: where later steps use `${name}`, the code below uses what it names."
                    ),
                ),
                StepKind::ChangeDir { dir } => Self::comment(
                    &mut out,
                    "        ",
                    step,
                    &format!("Later steps run in `{dir}` (each step below says so)."),
                ),
                StepKind::UvPlumbing { why } => {
                    Self::comment(&mut out, "        ", step, &format!("Not needed: {why}."));
                }
                StepKind::InstallUv { source, asked } => {
                    self.install_uv_step(&mut out, step, source, asked.as_deref());
                }
                StepKind::Export { .. } => self.export_step(&mut out, step, &steps),
                StepKind::Processes { .. } => Self::comment(
                    &mut out,
                    "        ",
                    step,
                    "The processes it wrote into launch.toml: `processes` below, declared at the end.",
                ),
                StepKind::Command { .. } => {
                    self.needs.script = true;
                    Self::comment(
                        &mut out,
                        "        ",
                        step,
                        "Not recognised, and it writes nowhere rpack can see (the app dir, `$HOME`, ...): it runs as written, on every build, as the script ran it. To cache it, let it write into a layer and key the layer on its inputs, as the layers here are.",
                    );
                    let _ = writeln!(
                        out,
                        "        ctx.run({}).map_err(failed({}, {}))?;",
                        script_call(step),
                        step.line,
                        lit(&label(&step.text))
                    );
                }
                _ => {
                    let Some(layer) = step_layer(&step.kind) else {
                        continue;
                    };
                    if self.declared.contains(layer) {
                        continue;
                    }
                    let layer = layer.to_owned();
                    self.layer_block(&mut out, &layer, &steps[index..]);
                }
            }
        }
        out
    }

    /// The script's uv install: replaced by the pinned uv, with a comment saying what it was.
    fn install_uv_step(
        &mut self,
        out: &mut String,
        step: &Step,
        source: &UvSource,
        asked: Option<&str>,
    ) {
        let how = match source {
            UvSource::InstallScript { .. } => {
                "uv's install script, downloaded on every build and not checked"
            }
            UvSource::Pip => "`pip install uv`, on every build",
            UvSource::Download { .. } => "a download of a uv release, on every build",
        };
        let mut note = format!(
            "Was {how}. Now: uv {}, pinned and hash-checked (`src/uv.rs`), in the cached build layer `uv`, installed once and reused while the pin is the same.",
            uv_pin::VERSION
        );
        if let Some(asked) = asked
            && asked != uv_pin::VERSION
        {
            let _ = write!(
                note,
                " The script asked for uv {asked}: to keep that, change `uv::VERSION` and its wheel hashes."
            );
        }
        if self.uv_declared {
            note.push_str(" (Installed above.)");
        }
        Self::comment(out, "        ", step, &note);
        self.ensure_uv(out);
    }

    /// An `export`: the first one writes the `exports` call (for all of them), the others point to it.
    fn export_step(&mut self, out: &mut String, step: &Step, steps: &[Step]) {
        if self.exports_done {
            Self::comment(out, "        ", step, "Set by `exports` above.");
        } else {
            self.exports_done = true;
            let lines: Vec<String> = steps
                .iter()
                .filter(|s| matches!(s.kind, StepKind::Export { .. }))
                .map(|s| s.line.to_string())
                .collect();
            Self::comment(
                out,
                "        ",
                step,
                &format!(
                    "`export` (lines {}): env modifiers the later steps of this build see, as the script's exports were. Not in the app image: for that, use `launch_env()` on a launch layer.",
                    lines.join(", ")
                ),
            );
            let _ = writeln!(out, "        exports(ctx)?;");
            self.exports_fn();
        }
    }

    /// The generated crate installs the pinned uv, with a test that it is pinned and hash-checked.
    fn pin_uv(&mut self) {
        self.needs.uv = true;
        self.needs.python = true;
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
         fn uv_is_pinned_and_hash_checked() {{\n        \
         // The script's uv install is the pinned uv {version}, checked by pip against the wheel's sha256.\n        \
         let requirement = uv::requirement(\"amd64\").unwrap();\n        \
         assert!(requirement.starts_with(\"uv=={version} --hash=sha256:\"), \"{{requirement}}\");\n        \
         assert!(uv::requirement(\"s390x\").is_err());\n    \
         }}\n",
            version = uv_pin::VERSION,
        );
    }

    fn layer_block(&mut self, out: &mut String, name: &str, rest: &[Step]) {
        let Some(layer) = self.plan.layer(name).cloned() else {
            return;
        };
        self.declared.insert(name.to_owned());
        let var = ident(name);
        let key_type = format!("{}Key", camel(name));
        let mine: Vec<&Step> = rest
            .iter()
            .filter(|s| step_layer(&s.kind) == Some(name))
            .collect();
        let needs_uv = mine.iter().any(|s| {
            matches!(
                s.kind,
                StepKind::UvSync { .. } | StepKind::PipInstall { via_uv: true, .. }
            )
        });
        if needs_uv {
            self.ensure_uv(out);
        }
        self.key_type(&layer, &key_type);
        let chain = Self::layer_intro(out, name, &layer, &var, &key_type);
        let _ = writeln!(out, "        if {var}.is_new() {{");
        let scope = LayerScope {
            name,
            var: &var,
            key_type: &key_type,
            layer: &layer,
        };
        let mut after = LayerAfter::default();
        for step in &mine {
            match &step.kind {
                StepKind::UvSync { args, env, .. } => {
                    after.venv_env = true;
                    self.uv_sync_step(out, step, args, env, &scope);
                }
                StepKind::PipInstall {
                    files,
                    packages,
                    flags,
                    via_uv,
                    ..
                } => {
                    after.venv_env = true;
                    self.pip_install_step(out, step, (files, packages, flags), *via_uv, &scope);
                }
                StepKind::NodeInstall { argv, lock, .. } => {
                    self.node_install_step(out, step, argv, lock, &scope, &mut after);
                }
                StepKind::LayerCommand { .. } => {
                    self.needs.script = true;
                    Self::comment(
                        out,
                        "            ",
                        step,
                        &format!(
                            "Not recognised: it runs as written, here because it writes into `{name}`, so it runs again only when the layer's key changes (its key holds the files and env the command names)."
                        ),
                    );
                    let _ = writeln!(
                        out,
                        "            ctx.run({}).map_err(failed({}, {}))?;",
                        script_call(step),
                        step.line,
                        lit(&label(&step.text))
                    );
                }
                StepKind::LayerTypes { .. } => Self::comment(
                    out,
                    "            ",
                    step,
                    &format!(
                        "The layer's types: `{}` above.",
                        chain.trim_start_matches(&format!("ctx.layer({})", lit(name)))
                    ),
                ),
                StepKind::LayerEnv { .. } => {
                    Self::comment(
                        out,
                        "            ",
                        step,
                        &format!("Env of `{name}`: `{var}_env` below, on every build."),
                    );
                    after.env_steps.push((*step).clone());
                }
                _ => {}
            }
        }
        let _ = writeln!(out, "        }}");
        self.layer_after(out, &scope, after);
    }

    /// The comment that says what layer `name` is, and its `let` with the key: returns its `ctx.layer(..)` chain.
    fn layer_intro(
        out: &mut String,
        name: &str,
        layer: &LayerPlan,
        var: &str,
        key_type: &str,
    ) -> String {
        let args = key_args(layer);
        let about = format!(
            "`{name}`: {} layer ({}), keyed on {}.",
            types_text(layer),
            layer.why,
            describe_key(layer)
        );
        for line in wrap(&about, 92) {
            let _ = writeln!(out, "        // {line}");
        }
        let chain = layer_chain(name, layer);
        let _ = writeln!(
            out,
            "        let {var} = {chain}.keyed_by(&{key_type}::of({args})?)?;"
        );
        chain
    }

    /// What comes after a layer's `is_new` block: the link into its `node_modules`, the venv's env, and the
    /// call of its env function.
    fn layer_after(&mut self, out: &mut String, scope: &LayerScope<'_>, after: LayerAfter) {
        let LayerScope {
            name, var, layer, ..
        } = *scope;
        if let Some(app_dir) = after.node_link {
            let _ = writeln!(
                out,
                "        inputs::link(&{app_dir}.join(\"node_modules\"), &{var}.path().join(\"node_modules\"))?;"
            );
        }
        if after.venv_env {
            let _ = writeln!(
                out,
                "        // At launch the lifecycle puts the venv's `bin` on PATH; VIRTUAL_ENV is set too."
            );
            if layer.launch {
                let _ = writeln!(
                    out,
                    "        {var}.launch_env().set(\"VIRTUAL_ENV\", {var}.path())?;"
                );
            }
        }
        if !after.env_steps.is_empty() {
            let uses_ctx = self.env_fn(var, name, layer, &after.env_steps);
            let ctx_arg = if uses_ctx { "ctx, " } else { "" };
            let _ = writeln!(out, "        {var}_env({ctx_arg}&{var})?;");
        }
    }

    /// A `uv sync` step inside a layer's `is_new` block, and its function.
    fn uv_sync_step(
        &mut self,
        out: &mut String,
        step: &Step,
        args: &[String],
        env: &[(String, String)],
        scope: &LayerScope<'_>,
    ) {
        let LayerScope {
            name,
            var,
            key_type,
            layer,
        } = *scope;
        let call_dir = call_dir(step);
        let f = self.names.unique("uv_sync", step.line);
        Self::comment(
            out,
            "            ",
            step,
            &format!(
                "`uv sync` with the pinned uv into `{name}`, only when the key changed; uv's download cache lives in the uv layer."
            ),
        );
        let _ = writeln!(
            out,
            "            ctx.run(&mut {f}(uv.path(), {var}.path()){call_dir}).map_err(failed({}, {}))?;",
            step.line,
            lit(&label(&step.text))
        );
        self.uv_sync_fn(&f, step, args, env, name, key_type, layer);
    }

    /// A `pip install` (or `uv pip install`) step inside a layer's `is_new` block, and its function.
    fn pip_install_step(
        &mut self,
        out: &mut String,
        step: &Step,
        (files, packages, flags): (&[String], &[String], &[String]),
        via_uv: bool,
        scope: &LayerScope<'_>,
    ) {
        let LayerScope {
            name,
            var,
            key_type,
            layer,
        } = *scope;
        let call_dir = call_dir(step);
        self.needs.python = true;
        let f = self.names.unique("pip_install", step.line);
        Self::comment(
            out,
            "            ",
            step,
            &format!(
                "A venv in `{name}` and {} into it, only when the key changed.",
                if via_uv {
                    "`uv pip install`"
                } else {
                    "`pip install`"
                }
            ),
        );
        let uv_arg = if via_uv { "uv.path(), " } else { "" };
        let _ = writeln!(
            out,
            "            ctx.run(Command::new(\"python3\").args([\"-m\", \"venv\"]).arg({var}.path())).map_err(failed({}, {}))?;",
            step.line,
            lit(&label(&step.text))
        );
        let _ = writeln!(
            out,
            "            ctx.run(&mut {f}({uv_arg}{var}.path()){call_dir}).map_err(failed({}, {}))?;",
            step.line,
            lit(&label(&step.text))
        );
        self.pip_fn(
            &f, step, files, packages, flags, via_uv, name, key_type, layer,
        );
    }

    /// A node install step inside a layer's `is_new` block, and its function; the link to its `node_modules`
    /// comes after the block.
    fn node_install_step(
        &mut self,
        out: &mut String,
        step: &Step,
        argv: &[String],
        lock: &str,
        scope: &LayerScope<'_>,
        after: &mut LayerAfter,
    ) {
        let LayerScope {
            name,
            var,
            key_type,
            layer,
        } = *scope;
        self.needs.node = true;
        self.needs.copy = true;
        self.needs.link = true;
        let f = self.names.unique("node_install", step.line);
        Self::comment(
            out,
            "            ",
            step,
            &format!(
                "`{}` in `{name}` (from copies of package.json and {lock}), only when the key changed; the app's `node_modules` links to it.",
                argv.join(" ")
            ),
        );
        let dir = step.cwd.clone().unwrap_or_default();
        let lock_name = lock.rsplit('/').next().unwrap_or(lock);
        let app_dir = if dir.is_empty() {
            "ctx.app_dir().to_owned()".to_owned()
        } else {
            format!("ctx.app_dir().join({})", lit(&dir))
        };
        let _ = writeln!(
            out,
            "            inputs::copy_into(&{app_dir}, &[\"package.json\", {}], {var}.path())?;",
            lit(lock_name)
        );
        let _ = writeln!(
            out,
            "            ctx.run(&mut {f}({var}.path())).map_err(failed({}, {}))?;",
            step.line,
            lit(&label(&step.text))
        );
        after.node_link = Some(app_dir);
        self.node_fn(&f, step, argv, lock_name, name, key_type, layer);
    }

    fn key_type(&mut self, layer: &LayerPlan, key_type: &str) {
        let mut fields = String::new();
        let mut values = String::new();
        let mut seen = BTreeSet::new();
        for field in &layer.key {
            let mut name = field_name(field);
            while !seen.insert(name.clone()) {
                name.push('_');
            }
            let ty = if matches!(field, KeyField::Packages(_)) {
                "Vec<String>"
            } else {
                "String"
            };
            let _ = writeln!(
                fields,
                "    /// {}\n    pub {name}: {ty},",
                field_doc(field)
            );
            let _ = writeln!(values, "            {name}: {},", field_value(field));
            match field {
                KeyField::File(_) => self.needs.sha256 = true,
                KeyField::Env(_) => self.needs.env_value = true,
                KeyField::Python => self.needs.python = true,
                KeyField::Node => self.needs.node = true,
                KeyField::Uv => self.needs.uv = true,
                KeyField::Packages(_) => {}
            }
        }
        let mut params = Vec::new();
        if layer.key.iter().any(|f| matches!(f, KeyField::File(_))) {
            params.push("app: &Path");
        }
        if layer.key.iter().any(|f| matches!(f, KeyField::Env(_))) {
            params.push("env: &PlatformEnv");
        }
        // Every key is fallible, so `build` reads the same for each layer.
        let ret = "Result<Self, inputs::InputError>";
        let body = format!("        Ok(Self {{\n{values}        }})");
        let _ = write!(
            self.key_types,
            "\n/// What the `{}` layer depends on: when a field changes, its steps run again (the SDK logs which).\n\
             #[derive(Debug, Serialize, Deserialize, PartialEq)]\n\
             pub struct {key_type} {{\n{fields}}}\n\n\
             impl {key_type} {{\n    \
             /// The key for the app in `app`{}.\n    \
             ///\n    \
             /// # Errors\n    \
             /// When an input cannot be read.\n    \
             pub fn of({}) -> {ret} {{\n{body}\n    }}\n}}\n",
            layer.name,
            if params.iter().any(|p| p.starts_with("env")) {
                ", with `env` the build's user env"
            } else {
                ""
            },
            params.join(", "),
        );
    }

    #[allow(clippy::too_many_arguments, reason = "what the test needs to say")]
    fn uv_sync_fn(
        &mut self,
        f: &str,
        step: &Step,
        args: &[String],
        env: &[(String, String)],
        layer: &str,
        key_type: &str,
        plan: &LayerPlan,
    ) {
        let mut env_lines = String::new();
        let mut has_downloads = false;
        for (name, value) in env {
            has_downloads |= name == "UV_PYTHON_DOWNLOADS";
            let _ = writeln!(env_lines, "        .env({}, {})", lit(name), lit(value));
        }
        if !has_downloads {
            let _ = writeln!(
                env_lines,
                "        // A Python uv downloads would live outside the layers, and the venv would break at launch.\n        .env(\"UV_PYTHON_DOWNLOADS\", \"never\")"
            );
        }
        let args_list: Vec<String> = std::iter::once("sync".to_owned())
            .chain(args.iter().cloned())
            .map(|a| lit(&a))
            .collect();
        let _ = write!(
            self.helpers,
            "\n/// line {line}: `{text}`, with the pinned uv (in `uv_layer`) into `{layer}`.\n\
             fn {f}(uv_layer: &Path, {var}: &Path) -> Command {{\n    \
             let mut command = Command::new(uv::binary(uv_layer));\n    \
             command\n        \
             .args([{args}])\n        \
             .env(\"UV_PROJECT_ENVIRONMENT\", {var})\n{env_lines}        \
             .env(\"UV_CACHE_DIR\", uv_layer.join(\"cache\"))\n        \
             // The cache and the venv are separate layers: copies keep the venv whole.\n        \
             .env(\"UV_LINK_MODE\", \"copy\");\n    \
             command\n}}\n",
            line = step.line,
            text = short(&step.text).replace('`', "'"),
            var = ident(layer),
            args = args_list.join(", "),
        );
        let files = key_files(plan);
        self.key_follows_files_test(layer, key_type, plan, &files, step.line);
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
             fn {f}_installs_into_the_{var}_layer_with_the_pinned_uv() {{\n        \
             // line {line}: `{text}`\n        \
             let command = {f}(Path::new(\"/layers/uv\"), Path::new(\"/layers/{layer}\"));\n        \
             assert_eq!(command.get_program(), Path::new(\"/layers/uv/bin/uv\"));\n        \
             let args: Vec<_> = command.get_args().collect();\n        \
             assert_eq!(args, [{args}]);\n        \
             let env: Vec<_> = command.get_envs().collect();\n        \
             assert!(env.contains(&(OsStr::new(\"UV_PROJECT_ENVIRONMENT\"), Some(OsStr::new(\"/layers/{layer}\")))));\n        \
             assert!(env.contains(&(OsStr::new(\"UV_PYTHON_DOWNLOADS\"), Some(OsStr::new(\"never\")))));\n    \
             }}\n",
            var = ident(layer),
            line = step.line,
            text = short(&step.text).replace('`', "'"),
            args = args_list.join(", "),
        );
    }

    /// A test that the layer's key follows its files: a change to one changes the key, a change elsewhere in the
    /// app does not.
    fn key_follows_files_test(
        &mut self,
        layer: &str,
        key_type: &str,
        plan: &LayerPlan,
        files: &[&String],
        line: usize,
    ) {
        let Some(first) = files.first() else {
            return;
        };
        let mut setup = String::new();
        for file in files {
            let _ = writeln!(setup, "        write(app.path(), {}, \"one\");", lit(file));
        }
        let env = if plan.key.iter().any(|k| matches!(k, KeyField::Env(_))) {
            ", &PlatformEnv::default()"
        } else {
            ""
        };
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
             fn {var}_key_follows_{field}() {{\n        \
             // line {line}: the `{layer}` layer is made again when {first} changes, and only then.\n        \
             let app = tempfile::tempdir().unwrap();\n{setup}        \
             let before = {key_type}::of(app.path(){env}).unwrap();\n        \
             write(app.path(), \"unrelated.py\", \"print()\");\n        \
             assert_eq!({key_type}::of(app.path(){env}).unwrap(), before);\n        \
             write(app.path(), {first_lit}, \"two\");\n        \
             assert_ne!({key_type}::of(app.path(){env}).unwrap(), before);\n    \
             }}\n",
            var = ident(layer),
            field = field_name(&KeyField::File((*first).clone())),
            first_lit = lit(first),
        );
    }

    #[allow(clippy::too_many_arguments, reason = "what the test needs to say")]
    fn pip_fn(
        &mut self,
        f: &str,
        step: &Step,
        files: &[String],
        packages: &[String],
        flags: &[String],
        via_uv: bool,
        layer: &str,
        key_type: &str,
        plan: &LayerPlan,
    ) {
        let var = ident(layer);
        let mut args: Vec<String> = Vec::new();
        if via_uv {
            args.extend(["pip".to_owned(), "install".to_owned()]);
        } else {
            args.push("install".to_owned());
        }
        args.extend(flags.iter().cloned());
        for file in files {
            let name = step
                .cwd
                .as_ref()
                .and_then(|d| file.strip_prefix(&format!("{d}/")))
                .unwrap_or(file);
            args.extend(["-r".to_owned(), name.to_owned()]);
        }
        args.extend(packages.iter().cloned());
        let args_list: Vec<String> = args.iter().map(|a| lit(a)).collect();
        let (params, program, extra) = if via_uv {
            (
                format!("uv_layer: &Path, {var}: &Path"),
                "uv::binary(uv_layer)".to_owned(),
                format!(
                    "\n        .arg(\"--python\")\n        .arg({var}.join(\"bin/python\"))\n        .env(\"UV_CACHE_DIR\", uv_layer.join(\"cache\"))\n        .env(\"UV_LINK_MODE\", \"copy\")"
                ),
            )
        } else {
            (
                format!("{var}: &Path"),
                format!("{var}.join(\"bin/pip\")"),
                String::new(),
            )
        };
        let _ = write!(
            self.helpers,
            "\n/// line {line}: `{text}`, into the venv in `{layer}`.\n\
             fn {f}({params}) -> Command {{\n    \
             let mut command = Command::new({program});\n    \
             command.args([{args}]){extra};\n    \
             command\n}}\n",
            line = step.line,
            text = short(&step.text).replace('`', "'"),
            args = args_list.join(", "),
        );
        let file_refs: Vec<&String> = files.iter().collect();
        self.key_follows_files_test(layer, key_type, plan, &file_refs, step.line);
        let call = if via_uv {
            format!("{f}(Path::new(\"/layers/uv\"), Path::new(\"/layers/{layer}\"))")
        } else {
            format!("{f}(Path::new(\"/layers/{layer}\"))")
        };
        let program_path = if via_uv {
            "/layers/uv/bin/uv".to_owned()
        } else {
            format!("/layers/{layer}/bin/pip")
        };
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
             fn {f}_installs_into_the_venv_in_{var}() {{\n        \
             // line {line}: `{text}`\n        \
             let command = {call};\n        \
             assert_eq!(command.get_program(), Path::new({program_path:?}));\n        \
             let args: Vec<_> = command.get_args().collect();\n        \
             assert!(args.starts_with(&[{args}]), \"{{args:?}}\");\n    \
             }}\n",
            line = step.line,
            text = short(&step.text).replace('`', "'"),
            args = args_list
                .iter()
                .map(|a| format!("OsStr::new({a})"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }

    #[allow(clippy::too_many_arguments, reason = "what the test needs to say")]
    fn node_fn(
        &mut self,
        f: &str,
        step: &Step,
        argv: &[String],
        lock: &str,
        layer: &str,
        key_type: &str,
        plan: &LayerPlan,
    ) {
        let var = ident(layer);
        let program = lit(&argv[0]);
        let arg_list: Vec<String> = argv[1..].iter().map(|a| lit(a)).collect();
        let _ = write!(
            self.helpers,
            "\n/// line {line}: `{text}`, in `{layer}` (where package.json and {lock} were copied).\n\
             fn {f}({var}: &Path) -> Command {{\n    \
             let mut command = Command::new({program});\n    \
             command.args([{args}]).current_dir({var});\n    \
             command\n}}\n",
            line = step.line,
            text = short(&step.text).replace('`', "'"),
            args = arg_list.join(", "),
        );
        let files = key_files(plan);
        self.key_follows_files_test(layer, key_type, plan, &files, step.line);
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
             fn {f}_runs_in_the_{var}_layer() {{\n        \
             // line {line}: `{text}`\n        \
             let command = {f}(Path::new(\"/layers/{layer}\"));\n        \
             assert_eq!(command.get_program(), OsStr::new({program}));\n        \
             assert_eq!(command.get_current_dir(), Some(Path::new(\"/layers/{layer}\")));\n    \
             }}\n",
            line = step.line,
            text = short(&step.text).replace('`', "'"),
        );
    }

    fn env_calls(
        &mut self,
        steps: &[(EnvScope, String, EnvAction, Vec<Part>)],
        target: &str,
    ) -> (String, Vec<String>) {
        let mut body = String::new();
        let mut checks = Vec::new();
        // Merge repeated prepends/appends of one variable into one value, as the env file holds one.
        let mut merged: Vec<(EnvScope, String, EnvAction, Vec<Vec<Part>>)> = Vec::new();
        for (scope, name, action, value) in steps {
            if let Some(existing) = merged.iter_mut().find(|(s, n, a, _)| {
                s == scope
                    && n == name
                    && a == action
                    && matches!(action, EnvAction::Prepend | EnvAction::Append)
            }) {
                if *action == EnvAction::Prepend {
                    existing.3.insert(0, value.clone());
                } else {
                    existing.3.push(value.clone());
                }
            } else if let Some(existing) = merged
                .iter_mut()
                .find(|(s, n, a, _)| s == scope && n == name && a == action)
            {
                existing.3 = vec![value.clone()];
            } else {
                merged.push((scope.clone(), name.clone(), *action, vec![value.clone()]));
            }
        }
        for (scope, name, action, values) in merged {
            let mut joined: Vec<Part> = Vec::new();
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    joined.push(Part::Lit(":".to_owned()));
                }
                joined.extend(value.iter().cloned());
            }
            let mut uses_ctx = false;
            let value = value_expr(&joined, &mut uses_ctx).unwrap_or_else(|| Expr {
                code: format!(
                    "{} /* a shell substitution: work out its value here */",
                    lit(&super::parse::parts_text(&joined))
                ),
                kind: ExprKind::Literal,
            });
            if uses_ctx {
                self.needs.env_value |= joined.iter().any(|p| matches!(p, Part::Var(n) if !matches!(n.as_str(), "CNB_LAYERS_DIR" | "1" | "CNB_PLATFORM_DIR" | "2")));
            }
            let dir = match &scope {
                EnvScope::All => format!("{target}.env()"),
                EnvScope::Build => format!("{target}.build_env()"),
                EnvScope::Launch => format!("{target}.launch_env()"),
                EnvScope::Process(p) => format!("{target}.process_env(&process_type!({}))", lit(p)),
            };
            let (call, suffix) = match action {
                EnvAction::Override => ("set", "override"),
                EnvAction::Default => ("set_default", "default"),
                EnvAction::Prepend => ("prepend", "prepend"),
                EnvAction::Append => ("append", "append"),
            };
            if matches!(action, EnvAction::Prepend | EnvAction::Append)
                && value.kind == ExprKind::Path
            {
                let _ = writeln!(
                    body,
                    "    {dir}.{call}_path({}, {})?;",
                    lit(&name),
                    value.code
                );
            } else if matches!(action, EnvAction::Prepend | EnvAction::Append) {
                let _ = writeln!(
                    body,
                    "    {dir}.{call}({}, {}, \":\")?;",
                    lit(&name),
                    value.code
                );
            } else {
                let _ = writeln!(body, "    {dir}.{call}({}, {})?;", lit(&name), value.code);
            }
            let sub = match &scope {
                EnvScope::All => "env".to_owned(),
                EnvScope::Build => "env.build".to_owned(),
                EnvScope::Launch => "env.launch".to_owned(),
                EnvScope::Process(p) => format!("env.launch/{p}"),
            };
            if let Some(text) = joined
                .iter()
                .all(|p| matches!(p, Part::Lit(_)))
                .then(|| super::parse::parts_text(&joined))
            {
                checks.push(format!("{sub}/{name}.{suffix}\0{text}"));
            } else {
                checks.push(format!("{sub}/{name}.{suffix}"));
            }
        }
        (body, checks)
    }

    fn exports_fn(&mut self) {
        let exports: Vec<(EnvScope, String, EnvAction, Vec<Part>)> = self
            .plan
            .steps
            .iter()
            .filter_map(|s| match &s.kind {
                StepKind::Export {
                    name,
                    action,
                    value,
                } => Some((EnvScope::Build, name.clone(), *action, value.clone())),
                _ => None,
            })
            .collect();
        let lines: Vec<String> = self
            .plan
            .steps
            .iter()
            .filter(|s| matches!(s.kind, StepKind::Export { .. }))
            .map(|s| {
                format!(
                    "/// - line {}: `{}`",
                    s.line,
                    short(&s.text).replace('`', "'")
                )
            })
            .collect();
        let (body, checks) = self.env_calls(&exports, "env");
        let layer = self.exports_layer();
        let _ = write!(
            self.helpers,
            "\n/// The script's exports, as build env modifiers in the layer `{layer}` (made afresh on every build, never\n\
             /// in the image): every later step of this build sees them.\n{}\n\
             fn exports(ctx: &BuildContext) -> Result<(), LayerError> {{\n    \
             let env = ctx.layer({}).fresh()?;\n{body}    Ok(())\n}}\n",
            lines.join("\n"),
            lit(&layer),
        );
        let mut asserts = String::new();
        for check in checks {
            let (file, value) = check.split_once('\0').unwrap_or((&check, ""));
            let file = file.replacen("env/", "env.build/", 1);
            if value.is_empty() {
                let _ = writeln!(
                    asserts,
                    "        assert!(layer.join({}).is_file());",
                    lit(&file)
                );
            } else {
                let _ = writeln!(
                    asserts,
                    "        assert_eq!(std::fs::read_to_string(layer.join({})).unwrap(), {});",
                    lit(&file),
                    lit(value)
                );
            }
        }
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
             fn exports_become_build_env_modifiers() {{\n        \
             let ctx = TestContext::new(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n        \
             let run = ctx.build(&Only(|ctx: &mut BuildContext| {{\n            \
             exports(ctx)?;\n            \
             Ok(Build::new())\n        \
             }})).unwrap();\n        \
             assert!(run.succeeded(), \"{{}}\", run.output);\n        \
             let layer = ctx.layers_dir().join({});\n{asserts}    \
             }}\n",
            lit(&layer),
        );
        self.needs_only();
    }

    fn exports_layer(&self) -> String {
        let mut name = "exports".to_owned();
        while self.plan.layer(&name).is_some() {
            name.push('_');
        }
        name
    }

    /// Writes the layer's env function and its test; whether the function takes `ctx`.
    fn env_fn(&mut self, var: &str, layer: &str, plan: &LayerPlan, steps: &[Step]) -> bool {
        let writes: Vec<(EnvScope, String, EnvAction, Vec<Part>)> = steps
            .iter()
            .filter_map(|s| match &s.kind {
                StepKind::LayerEnv {
                    scope,
                    name,
                    action,
                    value,
                    ..
                } => Some((scope.clone(), name.clone(), *action, value.clone())),
                _ => None,
            })
            .collect();
        let lines: Vec<String> = steps
            .iter()
            .map(|s| {
                format!(
                    "/// - line {}: `{}`",
                    s.line,
                    short(&s.text).replace('`', "'")
                )
            })
            .collect();
        let (body, checks) = self.env_calls(&writes, "layer");
        let uses_ctx = body.contains("ctx.");
        let _ = write!(
            self.helpers,
            "\n/// The env files the script wrote into `{layer}`, as env modifiers.\n{}\n\
             fn {var}_env({}layer: &Layer) -> Result<(), LayerError> {{\n{body}    Ok(())\n}}\n",
            lines.join("\n"),
            if uses_ctx { "ctx: &BuildContext, " } else { "" },
        );
        let chain = layer_chain(layer, plan);
        let mut asserts = String::new();
        for check in checks {
            let (file, value) = check.split_once('\0').unwrap_or((&check, ""));
            if value.is_empty() {
                let _ = writeln!(
                    asserts,
                    "        assert!(layer.join({}).is_file());",
                    lit(file)
                );
            } else {
                let _ = writeln!(
                    asserts,
                    "        assert_eq!(std::fs::read_to_string(layer.join({})).unwrap(), {});",
                    lit(file),
                    lit(value)
                );
            }
        }
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
             fn {var}_env_files_become_env_modifiers() {{\n        \
             let ctx = TestContext::new(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n        \
             let run = ctx.build(&Only(|ctx: &mut BuildContext| {{\n            \
             let layer = {chain}.fresh()?;\n            \
             {var}_env({}&layer)?;\n            \
             Ok(Build::new())\n        \
             }})).unwrap();\n        \
             assert!(run.succeeded(), \"{{}}\", run.output);\n        \
             let layer = ctx.layers_dir().join({});\n{asserts}    \
             }}\n",
            if uses_ctx { "ctx, " } else { "" },
            lit(layer),
        );
        self.needs_only();
        uses_ctx
    }

    fn needs_only(&mut self) {
        if !self.tests.contains("struct Only") {
            let type_name = &self.type_name;
            self.tests.insert_str(
                0,
                &format!(
                    "\n    /// One step of `build`, run in-process as a buildpack of its own.\n    \
                     struct Only<F>(F);\n\n    \
                     impl<F: Fn(&mut BuildContext) -> Result<Build, {type_name}Error>> Buildpack for Only<F> {{\n        \
                     type Metadata = NoMetadata;\n        \
                     type Error = {type_name}Error;\n\n        \
                     fn detect(&self, _: &DetectContext) -> Result<Detect, Self::Error> {{\n            \
                     Ok(Detect::pass())\n        \
                     }}\n\n        \
                     fn build(&self, ctx: &mut BuildContext) -> Result<Build, Self::Error> {{\n            \
                     (self.0)(ctx)\n        \
                     }}\n    \
                     }}\n"
                ),
            );
        }
    }

    #[allow(clippy::too_many_lines, reason = "a process and its test")]
    fn processes_fn(&mut self) -> Option<String> {
        let processes: Vec<(usize, String, ProcessPlan)> = self
            .plan
            .steps
            .iter()
            .flat_map(|s| match &s.kind {
                StepKind::Processes { processes } => processes
                    .iter()
                    .map(|p| (s.line, short(&s.text), p.clone()))
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            })
            .collect();
        if processes.is_empty() {
            return None;
        }
        let mut items = Vec::new();
        let mut any_ctx = false;
        let mut checks = String::new();
        for (index, (line, _, process)) in processes.iter().enumerate() {
            let (item, uses_ctx) = self.process_item(*line, process);
            any_ctx |= uses_ctx;
            items.push(item);
            checks.push_str(&process_checks(index, process));
        }
        let _ = write!(
            self.helpers,
            "\n/// The processes the script wrote into launch.toml.\n\
             fn processes({}) -> Vec<Process> {{\n    vec![\n{}\n    ]\n}}\n",
            if any_ctx { "ctx: &BuildContext" } else { "" },
            items
                .iter()
                .map(|i| format!("{i},"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        let call = if any_ctx {
            "processes(ctx)"
        } else {
            "processes()"
        };
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
             fn declares_the_processes_of_the_script() {{\n        \
             let ctx = TestContext::new(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n        \
             let run = ctx.build(&Only(|{ctx_param}: &mut BuildContext| {{\n            \
             Ok({call}.into_iter().fold(Build::new(), Build::process))\n        \
             }})).unwrap();\n        \
             assert!(run.succeeded(), \"{{}}\", run.output);\n        \
             let launch = run.launch.unwrap();\n{checks}    \
             }}\n",
            ctx_param = if any_ctx { "ctx" } else { "_" },
        );
        self.needs_only();
        Some(call.to_owned())
    }

    /// One `Process::new(..)` of the generated `processes()`, and whether it needs `ctx`.
    fn process_item(&mut self, line: usize, process: &ProcessPlan) -> (String, bool) {
        let mut uses_ctx = false;
        let part = |parts: &Vec<Part>, uses_ctx: &mut bool, needs: &mut Needs| -> String {
            if matches!(parts.as_slice(), [Part::Lit(t)] if t == "./uv") {
                needs.uv_launch = true;
                *uses_ctx = true;
                return "ctx.layers_dir().join(\"uv/bin/uv\").display().to_string()".to_owned();
            }
            value_expr(parts, uses_ctx).map_or_else(
                || lit(&super::parse::parts_text(parts)) + ".to_owned()",
                Expr::owned,
            )
        };
        let command: Vec<String> = process
            .command
            .iter()
            .map(|p| part(p, &mut uses_ctx, &mut self.needs))
            .collect();
        let args: Vec<String> = process
            .args
            .iter()
            .map(|p| part(p, &mut uses_ctx, &mut self.needs))
            .collect();
        if uses_ctx {
            self.needs.env_value |= process
                .command
                .iter()
                .chain(&process.args)
                .flatten()
                .any(|p| matches!(p, Part::Var(n) if !matches!(n.as_str(), "CNB_LAYERS_DIR" | "1" | "CNB_PLATFORM_DIR" | "2")));
        }
        let all_lit = command
            .iter()
            .chain(&args)
            .all(|c| c.ends_with(".to_owned()") && !c.contains("format!"));
        let list = |items: &[String]| {
            if all_lit {
                items
                    .iter()
                    .map(|i| i.trim_end_matches(".to_owned()").to_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                items.join(", ")
            }
        };
        let mut item = format!(
            "        // line {line}\n        Process::new(process_type!({}), [{}])",
            lit(&process.kind),
            list(&command)
        );
        if !args.is_empty() {
            let _ = write!(item, "\n            .args([{}])", list(&args));
        }
        if process.default {
            item.push_str("\n            .default(true)");
        }
        if let Some(dir) = &process.working_dir {
            let _ = write!(item, "\n            .working_dir({})", lit(dir));
        }
        (item, uses_ctx)
    }
}

/// The generated test's checks of the process at `index`.
fn process_checks(index: usize, process: &ProcessPlan) -> String {
    let mut checks = String::new();
    let _ = writeln!(
        checks,
        "        assert_eq!(launch.processes[{index}].kind.as_str(), {});",
        lit(&process.kind)
    );
    if process.default {
        let _ = writeln!(
            checks,
            "        assert!(launch.processes[{index}].default);"
        );
    }
    if let Some(first) = process.command.first().and_then(|p| match p.as_slice() {
        [Part::Lit(text)] => Some(text.clone()),
        _ => None,
    }) {
        let _ = writeln!(
            checks,
            "        assert_eq!(launch.processes[{index}].command[0], {});",
            lit(&first)
        );
    }
    checks
}

/// `ctx.layer("name")` with the layer's types: `.launch()`, `.build()`, `.cache()`.
fn layer_chain(name: &str, layer: &LayerPlan) -> String {
    let mut chain = format!("ctx.layer({})", lit(name));
    if layer.launch {
        chain.push_str(".launch()");
    }
    if layer.build {
        chain.push_str(".build()");
    }
    if layer.cache {
        chain.push_str(".cache()");
    }
    chain
}

/// `ctx.run`'s argument for a step kept as shell.
fn script_call(step: &Step) -> String {
    let mut call = format!("&mut script(ctx, {})", lit(&step.run_text));
    if let Some(dir) = &step.cwd {
        call = format!(
            "script(ctx, {}).current_dir(ctx.app_dir().join({}))",
            lit(&step.run_text),
            lit(dir)
        );
    }
    call
}

/// The arguments of a key's `of` in `build`.
fn key_args(layer: &LayerPlan) -> String {
    let mut args = Vec::new();
    if layer.key.iter().any(|f| matches!(f, KeyField::File(_))) {
        args.push("ctx.app_dir()");
    }
    if layer.key.iter().any(|f| matches!(f, KeyField::Env(_))) {
        args.push("ctx.platform_env()");
    }
    args.join(", ")
}

/// Each item on a line of its own.
fn lines<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().fold(String::new(), |mut out, item| {
        let _ = writeln!(out, "{item}");
        out
    })
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The files of the crate: (relative path, text).
#[must_use]
pub(crate) fn files(plan: &Plan, source: &Source) -> Vec<(String, String)> {
    let type_name = camel(&source.name);
    let mut generator = Generator {
        plan,
        type_name: type_name.clone(),
        needs: Needs::default(),
        names: Names { fns: Vec::new() },
        helpers: String::new(),
        tests: String::new(),
        declared: BTreeSet::new(),
        key_types: String::new(),
        uv_declared: false,
        exports_done: false,
    };
    let body = generator.build_body();
    let processes = generator.processes_fn();
    if generator.uses_uv() || generator.needs.uv {
        generator.pin_uv();
    }
    let detect = detect_body(&plan.detect_files(), &type_name, &mut generator.tests);
    let needs = &generator.needs;

    let table = steps_table(plan);
    let mut main = main_head(
        source,
        needs,
        &generator.key_types,
        &generator.helpers,
        &table,
    );
    main.push_str(&buildpack_impl(
        source,
        &detect,
        &body,
        processes.as_deref(),
    ));
    main.push_str(&generator.helpers);
    if needs.script {
        main.push_str(&script_helper(plan));
    }
    main.push_str(&tests_module(
        &generator.tests,
        main.contains("use std::path::Path;"),
    ));

    let mut out = vec![
        ("src/main.rs".to_owned(), main),
        ("Cargo.toml".to_owned(), cargo_toml(source, needs)),
        (
            "buildpack.toml".to_owned(),
            buildpack_toml(source, &type_name),
        ),
        (
            "integration/Cargo.toml".to_owned(),
            integration_cargo_toml(source),
        ),
        (
            "integration/tests/rebuild.rs".to_owned(),
            integration_test(plan, source, needs.uv),
        ),
        (".gitignore".to_owned(), "/target\n".to_owned()),
        ("README.md".to_owned(), readme(plan, source)),
    ];
    if main_needs_inputs(needs) {
        out.push(("src/inputs.rs".to_owned(), inputs_rs(needs)));
    }
    if needs.uv {
        out.push(("src/uv.rs".to_owned(), uv_rs(needs.uv_launch)));
    }
    out
}

/// The generated `impl Buildpack` and `buildpack_main!`: `detect` and `build` bodies, and the processes call
/// (if any) whose result `build` returns.
fn buildpack_impl(source: &Source, detect: &str, body: &str, processes: Option<&str>) -> String {
    let type_name = camel(&source.name);
    let ending = match processes {
        Some(call) => {
            format!("        Ok({call}.into_iter().fold(Build::new(), Build::process))\n")
        }
        None => "        Ok(Build::new())\n".to_owned(),
    };
    format!(
        "\nimpl Buildpack for {type_name} {{\n    \
         type Metadata = NoMetadata;\n    \
         type Error = {type_name}Error;\n\n    \
         fn detect(&self, ctx: &DetectContext) -> Result<Detect, Self::Error> {{\n{detect}    }}\n\n    \
         fn build(&self, ctx: &mut BuildContext) -> Result<Build, Self::Error> {{\n        \
         ctx.output().section({});\n{body}{ending}    }}\n}}\n\nbuildpack_main!({type_name});\n",
        lit(&format!("{} (converted from the inline script)", source.id)),
    )
}

/// The generated `main.rs` up to the `Buildpack` impl: the crate docs with the table of steps, the modules and
/// imports, the buildpack and its error type, and the helper that makes a step's error.
fn main_head(
    source: &Source,
    needs: &Needs,
    key_types: &str,
    helpers: &str,
    table: &str,
) -> String {
    let type_name = camel(&source.name);
    let mut main = String::new();
    let _ = write!(
        main,
        "//! The `{id}` buildpack: the inline buildpack `{inline}` of\n\
         //! `{project}`,\n\
         //! converted by `rpack buildpack new --from-inline`.\n\
         //!\n\
         //! `build()` follows the script step by step, each step with its line: recognised steps are SDK calls whose\n\
         //! layers say what they depend on, so a build with nothing changed reuses them all; the others run as the\n\
         //! script ran them.\n\
         //!\n\
         //! | line | script | here |\n\
         //! |---|---|---|\n{table}\n",
        id = source.id,
        inline = source.inline_id,
        project = source.project_toml,
    );
    if needs.uv
        || needs.sha256
        || needs.env_value
        || needs.python
        || needs.node
        || needs.link
        || needs.copy
    {
        main.push_str("mod inputs;\n");
    }
    if needs.uv {
        main.push_str("mod uv;\n");
    }
    main.push('\n');
    if key_types.contains("Path") || helpers.contains("Path") {
        main.push_str("use std::path::Path;\n\n");
    }
    main.push_str("use libbuildpack::prelude::*;\n");
    let _ = write!(
        main,
        "\n/// The buildpack.\npub struct {type_name};\n{key_types}"
    );
    let _ = write!(
        main,
        "\n/// Why the build failed.\n\
         #[derive(Debug, thiserror::Error)]\n\
         pub enum {type_name}Error {{\n    \
         /// A layer could not be made.\n    \
         #[error(transparent)]\n    \
         Layer(#[from] LayerError),\n"
    );
    if main.contains("mod inputs") {
        main.push_str(
            "    /// An input of a layer's key could not be read, or a file put in place.\n    #[error(transparent)]\n    Input(#[from] inputs::InputError),\n",
        );
    }
    if needs.uv {
        main.push_str("    /// uv could not be installed.\n    #[error(transparent)]\n    InstallUv(#[from] uv::InstallUvError),\n");
    }
    main.push_str(
        "    /// A step of the script failed.\n    #[error(\"`{command}` (line {line} of the inline script) failed\")]\n    Step {\n        /// Its line.\n        line: usize,\n        /// The command.\n        command: &'static str,\n        /// Why.\n        #[source]\n        source: CommandError,\n    },\n}\n",
    );
    let _ = write!(
        main,
        "\n/// The error of the step on `line`.\n\
         fn failed(line: usize, command: &'static str) -> impl FnOnce(CommandError) -> {type_name}Error {{\n    \
         move |source| {type_name}Error::Step {{ line, command, source }}\n}}\n"
    );
    main
}

/// The body of the generated `detect`: pass when the app has the files the steps read, with a test of it
/// appended to `tests`.
fn detect_body(detect_files: &[String], type_name: &str, tests: &mut String) -> String {
    let mut detect = String::new();
    if detect_files.is_empty() {
        detect.push_str("        // The inline buildpack always passed detection; so does this one.\n        let _ = ctx;\n        Ok(Detect::pass())\n");
    } else {
        let _ = write!(
            detect,
            "        // The steps below read these files (the inline buildpack passed detection without looking).\n        \
             for file in [{}] {{\n            \
             if !ctx.app_dir().join(file).exists() {{\n                \
             return Ok(Detect::fail(format!(\"no {{file}} in the app\")));\n            \
             }}\n        \
             }}\n        \
             Ok(Detect::pass())\n",
            detect_files
                .iter()
                .map(|f| lit(f))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut setup = String::new();
        for file in detect_files {
            let _ = writeln!(setup, "        ctx.app_file({}, \"\").unwrap();", lit(file));
        }
        let _ = write!(
            tests,
            "\n    #[test]\n    \
             fn detects_apps_with_the_files_the_steps_read() {{\n        \
             let ctx = TestContext::new(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n        \
             assert!(!ctx.detect(&{type_name}).unwrap().passed());\n{setup}        \
             let run = ctx.detect(&{type_name}).unwrap();\n        \
             assert!(run.passed(), \"{{}}\", run.output);\n    \
             }}\n"
        );
    }
    detect
}

/// The table of steps in the crate docs: each line of the script and what it became.
fn steps_table(plan: &Plan) -> String {
    let mut table = String::new();
    for step in &plan.steps {
        let became = match &step.kind {
            StepKind::ShellOptions => "nothing: a failing step stops the build".to_owned(),
            StepKind::Variable { .. } => "a variable, translated where it is used".to_owned(),
            StepKind::ChangeDir { dir } => format!("later steps run in `{dir}`"),
            StepKind::InstallUv { .. } => format!(
                "the pinned, hash-checked uv {} in the cached build layer `uv`",
                uv_pin::VERSION
            ),
            StepKind::UvPlumbing { .. } => "nothing (the pinned uv is on PATH)".to_owned(),
            StepKind::UvSync { layer, .. } => {
                format!("`uv sync` into the layer `{layer}`, keyed on the lock")
            }
            StepKind::PipInstall { layer, .. } => {
                format!("a venv in the layer `{layer}`, keyed on what it installs")
            }
            StepKind::NodeInstall { layer, .. } => {
                format!("the layer `{layer}`, keyed on the lock")
            }
            StepKind::Export { .. } => "a build env modifier".to_owned(),
            StepKind::LayerEnv { layer, .. } => format!("an env modifier of `{layer}`"),
            StepKind::LayerTypes { layer } => format!("the types of the layer `{layer}`"),
            StepKind::Processes { .. } => "`Process`es".to_owned(),
            StepKind::LayerCommand { layer, .. } => {
                format!("not recognised: runs as written in the layer `{layer}`")
            }
            StepKind::Command { .. } => "not recognised: runs as written on every build".to_owned(),
        };
        let _ = writeln!(
            table,
            "//! | {} | `{}` | {became} |",
            step.line,
            short(&step.text).replace('|', "\\|").replace('`', "'")
        );
    }
    table
}

/// The generated `script` helper that runs a command as the inline buildpack ran it, with its constants.
fn script_helper(plan: &Plan) -> String {
    let set = lines(&plan.set_options);
    let variables = lines(
        &plan
            .variables
            .iter()
            .map(|(_, text)| text)
            .collect::<Vec<_>>(),
    );
    format!(
        "\n/// The script's shell.\nconst SHELL: &str = {};\n\n\
         /// What every command that runs as shell starts with: the script's `set` options and variables.\n\
         const PRELUDE: &str = {};\n\n\
         /// `text` run as the inline buildpack ran it: with the script's shell, options and variables, and this\n\
         /// buildpack's layers dir as `$CNB_LAYERS_DIR` and `$1`, its platform dir as `$CNB_PLATFORM_DIR` and `$2`.\n\
         fn script(ctx: &BuildContext, text: &str) -> Command {{\n    \
         let mut command = Command::new(SHELL);\n    \
         command\n        \
         .arg(\"-c\")\n        \
         .arg(format!(\"{{PRELUDE}}{{text}}\"))\n        \
         .arg(SHELL)\n        \
         .arg(ctx.layers_dir())\n        \
         .arg(ctx.platform_dir())\n        \
         .env(\"CNB_LAYERS_DIR\", ctx.layers_dir())\n        \
         .env(\"CNB_PLATFORM_DIR\", ctx.platform_dir());\n    \
         command\n}}\n",
        lit(&plan.shell),
        lit(&(set + &variables)),
    )
}

/// The generated crate's test module around `tests` (one test per recognised step).
fn tests_module(tests: &str, main_uses_path: bool) -> String {
    let mut test_uses = vec!["use super::*;".to_owned()];
    if tests.contains("TestContext") {
        test_uses.push("use libbuildpack::testing::TestContext;".to_owned());
    }
    if tests.contains("OsStr::") {
        test_uses.push("use std::ffi::OsStr;".to_owned());
    }
    let write_helper = if tests.contains("write(app.path()") {
        "\n    fn write(dir: &Path, file: &str, text: &str) {\n        let path = dir.join(file);\n        std::fs::create_dir_all(path.parent().unwrap()).unwrap();\n        std::fs::write(path, text).unwrap();\n    }\n"
    } else {
        ""
    };
    if tests.contains("write(app.path()") && !main_uses_path {
        test_uses.push("use std::path::Path;".to_owned());
    }
    format!(
        "\n/// One test per recognised step.\n#[cfg(test)]\nmod tests {{\n    {}\n{write_helper}{}}}\n",
        test_uses.join("\n    "),
        tests
    )
}

/// The `.rs` files formatted by rustfmt (edition 2024), as `cargo fmt` would; left as they are when rustfmt is
/// missing or fails.
#[must_use]
pub(crate) fn formatted(files: Vec<(String, String)>) -> Vec<(String, String)> {
    files
        .into_iter()
        .map(|(path, text)| {
            if std::path::Path::new(&path)
                .extension()
                .is_none_or(|e| e != "rs")
            {
                return (path, text);
            }
            let formatted = rustfmt(&text);
            (path, formatted.unwrap_or(text))
        })
        .collect()
}

fn rustfmt(text: &str) -> Option<String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).ok())
        .flatten()
}

fn main_needs_inputs(needs: &Needs) -> bool {
    needs.uv
        || needs.sha256
        || needs.env_value
        || needs.python
        || needs.node
        || needs.link
        || needs.copy
}

/// The files among a layer plan's key fields.
fn key_files(plan: &LayerPlan) -> Vec<&String> {
    plan.key
        .iter()
        .filter_map(|k| match k {
            KeyField::File(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn cargo_toml(source: &Source, needs: &Needs) -> String {
    let sha2 = if needs.sha256 {
        "sha2 = \"0.11\"\n"
    } else {
        ""
    };
    let head = crate::buildpack::scaffold::manifest_head(
        &source.name,
        &source.libbuildpack,
        sha2,
        &source.libbuildpack_testing,
    );
    format!(
        r#"{head}tempfile = "3"

# The real-build test is a crate of its own (`integration/`), so `cargo test` here runs the unit tests without
# compiling its harness (libbuildpack-test, which links rpack); `cargo test --workspace` runs both, sharing
# `target/`.
[workspace]
members = ["integration"]
{profiles}"#,
        profiles = if source.dev_profiles.is_empty() {
            String::new()
        } else {
            format!(
                "\n# As in the SDK's workspace: the real-build tests run rpack's hashing and compression in the dev profile,\n\
                 # too slow unoptimised.\n{}",
                source.dev_profiles
            )
        },
    )
}

/// The `[profile.dev.package.*]` tables of the cargo workspace at `root`, as TOML text (empty when there are
/// none or the file cannot be read).
#[must_use]
pub(crate) fn dev_profiles(root: &std::path::Path) -> String {
    let Ok(text) = std::fs::read_to_string(root.join("Cargo.toml")) else {
        return String::new();
    };
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return String::new();
    };
    let Some(packages) = manifest
        .get("profile")
        .and_then(|p| p.get("dev"))
        .and_then(|d| d.get("package"))
        .and_then(toml::Value::as_table)
    else {
        return String::new();
    };
    let mut out = String::new();
    for (name, settings) in packages {
        let Some(settings) = settings.as_table() else {
            continue;
        };
        let _ = writeln!(out, "[profile.dev.package.{name}]");
        for (key, value) in settings {
            let _ = writeln!(out, "{key} = {value}");
        }
    }
    out
}

fn integration_cargo_toml(source: &Source) -> String {
    format!(
        "# A real build of the app next to {project} with the {name} buildpack: `cargo test --workspace`.\n\
         {head}tempfile = \"3\"\ntoml = \"1\"\n",
        project = source.project_toml,
        name = source.name,
        head = crate::buildpack::scaffold::integration_manifest_head(&source.name, &source.harness),
    )
}

fn buildpack_toml(source: &Source, type_name: &str) -> String {
    format!(
        r#"# Converted by `rpack buildpack new --from-inline` from the inline buildpack `{inline}` of {project}.
api = "{api}"

[buildpack]
id = "{id}"
version = "0.1.0"
name = "{type_name}"

[[targets]]
os = "linux"
arch = "amd64"
"#,
        inline = source.inline_id,
        project = source.project_toml,
        api = source.api,
        id = source.id,
    )
}

fn integration_test(plan: &Plan, source: &Source, uv: bool) -> String {
    let mut layers: Vec<String> = Vec::new();
    if uv {
        layers.push("uv".to_owned());
    }
    layers.extend(plan.layers.iter().map(|l| l.name.clone()));
    let launch: Vec<String> = plan
        .layers
        .iter()
        .filter(|l| l.launch)
        .map(|l| l.name.clone())
        .collect();
    let skip = source
        .crate_in_app
        .as_ref()
        .map(|c| format!(", {}", lit(c)))
        .unwrap_or_default();
    let stack = if plan.uv.is_some()
        || plan.steps.iter().any(|s| {
            matches!(
                s.kind,
                StepKind::UvSync { .. } | StepKind::PipInstall { .. }
            )
        }) {
        "python"
    } else {
        "tiny"
    };
    format!(
        r#"//! A real build, with the reference lifecycle, of the app next to {project} (`{app}`), with this
//! buildpack in place of the inline script: a copy of the app whose project.toml has no `[[io.buildpacks.group]]`
//! (the group would replace the builder's order), built on rpack's {stack} stack. A rebuild with nothing changed
//! must reuse every layer.

#![allow(clippy::unwrap_used, reason = "test setup: a failed step should stop the test with its error")]

use std::path::{{Path, PathBuf}};

use libbuildpack_test::{{BuildConfig, TestError, TestRunner, assert_contains}};

/// The app: the dir of the project.toml the buildpack was converted from.
const APP: &str = {app_lit};

/// Dirs of the app the copy leaves out.
const SKIP: &[&str] = &["target", ".git", ".venv", "node_modules"{skip}];

/// The buildpack's id.
const ID: &str = {id};

/// The layers the build makes, each keyed: a rebuild with nothing changed reuses them all.
const LAYERS: &[&str] = &[{layers}];

/// Those that go into the app image: their image layers must stay the same.
const LAUNCH_LAYERS: &[&str] = &[{launch}];

fn copy_dir(from: &Path, to: &Path) {{
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {{
        let entry = entry.unwrap();
        let name = entry.file_name();
        if SKIP.iter().any(|s| name == *s) {{
            continue;
        }}
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {{
            copy_dir(&entry.path(), &to.join(&name));
        }} else if kind.is_file() {{
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }}
    }}
}}

/// A copy of the app whose project.toml keeps everything but the buildpack group.
fn app_without_group() -> tempfile::TempDir {{
    let dir = tempfile::Builder::new().prefix("app-").tempdir().unwrap();
    let app = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(APP);
    copy_dir(&app, dir.path());
    let project = dir.path().join("project.toml");
    let mut toml: toml::Table = std::fs::read_to_string(&project).unwrap().parse().unwrap();
    if let Some(io) = toml.get_mut("io").and_then(|io| io.get_mut("buildpacks")).and_then(|b| b.as_table_mut()) {{
        io.remove("group");
    }}
    std::fs::write(&project, toml.to_string()).unwrap();
    dir
}}

#[test]
fn a_rebuild_with_nothing_changed_reuses_every_layer() -> Result<(), TestError> {{
    let app = app_without_group();
    let buildpack = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let config = BuildConfig::new(app.path())
        .stack({stack:?})
        .buildpack(buildpack)
        .image("localhost/libbuildpack-test/{name}:latest".parse().unwrap());
    let first = TestRunner::shared()?.build(config)?;
    assert!(first.participated(ID), "{{}}", first.stdout());
    let again = first.rebuild()?;
    let log = again.stdout();
    for layer in LAYERS {{
        assert_contains!(log, format!("Reusing {{layer}} ("));
        assert!(!log.contains(&format!("Rebuilding {{layer}} (")), "{{log}}");
    }}
    for layer in LAUNCH_LAYERS {{
        assert_eq!(again.layer_digest(ID, layer)?, first.layer_digest(ID, layer)?);
    }}
    Ok(())
}}
"#,
        project = source.project_toml,
        stack = stack,
        app = source.app_from_integration,
        app_lit = lit(&source.app_from_integration),
        id = lit(&source.id),
        name = source.name,
        layers = layers.iter().map(|l| lit(l)).collect::<Vec<_>>().join(", "),
        launch = launch.iter().map(|l| lit(l)).collect::<Vec<_>>().join(", "),
    )
}

/// The generated `inputs.rs`: its error type and the `io` helper.
const INPUTS_ERROR: &str = "\n\n/// An input could not be read, or a file could not be put in place.\n\
         #[derive(Debug, thiserror::Error)]\n\
         pub enum InputError {\n    \
         /// A file or dir could not be read or written.\n    \
         #[error(\"could not {action} {}\", path.display())]\n    \
         Io {\n        \
         /// What was being done.\n        \
         action: &'static str,\n        \
         /// The path.\n        \
         path: PathBuf,\n        \
         /// Why.\n        \
         #[source]\n        \
         source: std::io::Error,\n    \
         },\n    \
         /// A tool did not say its version.\n    \
         #[error(\"could not run `{program}` for its version: {why}\")]\n    \
         Version {\n        \
         /// The tool.\n        \
         program: &'static str,\n        \
         /// Why.\n        \
         why: String,\n    \
         },\n}\n\n\
         fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> InputError + 'a {\n    \
         move |source| InputError::Io { action, path: path.to_owned(), source }\n}\n";

/// The generated `inputs.rs`: `sha256_of` a file, streamed.
const INPUTS_SHA256: &str = "\n/// sha256 of a file, or of every file under a dir (their paths and contents, in order); `absent` when\n\
             /// there is nothing at `path`. Files are streamed, never read whole.\n\
             ///\n\
             /// # Errors\n\
             /// When something at `path` cannot be read.\n\
             pub fn sha256_of(path: &Path) -> Result<String, InputError> {\n    \
             if !path.exists() {\n        \
             return Ok(\"absent\".to_owned());\n    \
             }\n    \
             let mut hasher = Sha256::new();\n    \
             let mut todo = vec![path.to_owned()];\n    \
             let mut files = Vec::new();\n    \
             while let Some(next) = todo.pop() {\n        \
             if next.is_dir() {\n            \
             for entry in std::fs::read_dir(&next).map_err(io(\"read\", &next))? {\n                \
             todo.push(entry.map_err(io(\"read\", &next))?.path());\n            \
             }\n        \
             } else {\n            \
             files.push(next);\n        \
             }\n    \
             }\n    \
             files.sort();\n    \
             for file in files {\n        \
             hasher.update(file.strip_prefix(path).unwrap_or(&file).as_os_str().as_encoded_bytes());\n        \
             let mut reader = std::fs::File::open(&file).map_err(io(\"read\", &file))?;\n        \
             let mut buf = vec![0; 64 * 1024];\n        \
             loop {\n            \
             let n = reader.read(&mut buf).map_err(io(\"read\", &file))?;\n            \
             if n == 0 {\n                \
             break;\n            \
             }\n            \
             hasher.update(&buf[..n]);\n        \
             }\n    \
             }\n    \
             Ok(hasher.finalize().iter().fold(String::new(), |mut hex, b| {\n        \
             let _ = write!(hex, \"{b:02x}\");\n        \
             hex\n    \
             }))\n}\n";

/// The generated `inputs.rs`: `copy_into` for files a step puts in place.
const INPUTS_COPY: &str = "\n/// Copies `files` of `from` (those that exist) into `to`.\n\
             ///\n\
             /// # Errors\n\
             /// When a file cannot be copied.\n\
             pub fn copy_into(from: &Path, files: &[&str], to: &Path) -> Result<(), InputError> {\n    \
             for file in files {\n        \
             let source = from.join(file);\n        \
             if source.is_file() {\n            \
             std::fs::copy(&source, to.join(file)).map_err(io(\"copy\", &source))?;\n        \
             }\n    \
             }\n    \
             Ok(())\n}\n";

/// The generated `inputs.rs`: `link` from the app to a layer.
const INPUTS_LINK: &str = "\n/// Makes `link` a symlink to `target` (the app's `node_modules` to the layer's), unless the app has one.\n\
             ///\n\
             /// # Errors\n\
             /// When the link cannot be made.\n\
             pub fn link(link: &Path, target: &Path) -> Result<(), InputError> {\n    \
             if link.symlink_metadata().is_ok() {\n        \
             return Ok(());\n    \
             }\n    \
             std::os::unix::fs::symlink(target, link).map_err(io(\"link\", link))\n}\n";

#[allow(clippy::too_many_lines, reason = "the helpers, each only when needed")]
fn inputs_rs(needs: &Needs) -> String {
    let mut out =
        String::from("//! What the layers are keyed on and the files the steps put in place.\n\n");
    let mut uses = vec!["use std::path::{Path, PathBuf};".to_owned()];
    if needs.env_value {
        uses.push("use libbuildpack::PlatformEnv;".to_owned());
    }
    if needs.sha256 {
        uses.insert(0, "use std::io::Read as _;".to_owned());
        uses.insert(0, "use std::fmt::Write as _;".to_owned());
        uses.push("use sha2::{Digest, Sha256};".to_owned());
    }
    out.push_str(&uses.join("\n"));
    out.push_str(INPUTS_ERROR);
    if needs.sha256 {
        out.push_str(INPUTS_SHA256);
    }
    if needs.env_value {
        out.push_str(
            "\n/// The value of an env var the script read: project.toml's build env (the platform env), else the\n\
             /// build's own env, else empty.\n\
             #[must_use]\n\
             pub fn env_value(env: &PlatformEnv, name: &str) -> String {\n    \
             env.get(name)\n        \
             .map(str::to_owned)\n        \
             .or_else(|| std::env::var(name).ok())\n        \
             .unwrap_or_default()\n}\n",
        );
    }
    let version = |f: &str, program: &str, args: &str, doc: &str| {
        format!(
            "\n/// {doc}\n\
             ///\n\
             /// # Errors\n\
             /// When `{program}` cannot run.\n\
             pub fn {f}() -> Result<String, InputError> {{\n    \
             let out = std::process::Command::new({program:?})\n        \
             .args({args})\n        \
             .output()\n        \
             .map_err(|e| InputError::Version {{ program: {program:?}, why: e.to_string() }})?;\n    \
             if !out.status.success() {{\n        \
             return Err(InputError::Version {{\n            \
             program: {program:?},\n            \
             why: String::from_utf8_lossy(&out.stderr).trim().to_owned(),\n        \
             }});\n    \
             }}\n    \
             Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())\n}}\n"
        )
    };
    if needs.python {
        out.push_str(&version(
            "python",
            "python3",
            "[\"-c\", \"import sys; print(sys.version)\"]",
            "The stack's Python: a venv is made for one.",
        ));
    }
    if needs.node {
        out.push_str(&version(
            "node",
            "node",
            "[\"--version\"]",
            "The stack's node: `node_modules` may hold native modules built for it.",
        ));
    }
    if needs.copy {
        out.push_str(INPUTS_COPY);
    }
    if needs.link {
        out.push_str(INPUTS_LINK);
    }
    out
}

fn uv_rs(launch: bool) -> String {
    let hashes = lines(
        &uv_pin::WHEEL_SHA256
            .iter()
            .map(|(arch, sha)| format!("    ({arch:?}, {sha:?}),"))
            .collect::<Vec<_>>(),
    );
    let types = if launch {
        ".launch().cache()"
    } else {
        ".cache()"
    };
    format!(
        r#"//! uv, pinned and hash-checked: pip installs the pinned version from the configured index (so private mirrors
//! work), and `--require-hashes` makes pip check the wheel's sha256. The pin is the one rpack's uv buildpack
//! (buildpacks/uv) had when this crate was generated.

use std::fmt::Write as _;
use std::path::{{Path, PathBuf}};

use libbuildpack::prelude::*;

/// The uv this buildpack uses. Bumping it changes every key that names it.
pub const VERSION: &str = {version:?};

/// sha256 of the uv wheels pip may pick, by architecture.
pub const WHEEL_SHA256: [(&str, &str); {count}] = [
{hashes}];

/// What the uv layer holds.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct UvKey {{
    /// uv's version.
    pub uv: String,
    /// The architecture: the wheel holds a native binary.
    pub arch: String,
}}

/// Installing uv failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallUvError {{
    /// The layer could not be made.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// No wheel hash is known for the target.
    #[error("uv {{VERSION}} is not pinned for {{arch}} in this buildpack (pinned: amd64, arm64)")]
    UnsupportedArch {{
        /// The target architecture.
        arch: String,
    }},
    /// The pinned requirement could not be written.
    #[error("could not write {{}}", path.display())]
    WriteRequirement {{
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    }},
    /// pip failed.
    #[error(
        "could not install uv {{VERSION}} with pip: check that the index pip is configured with (PIP_INDEX_URL, \
         pip.conf) serves it, and that its wheel was not altered (pip checks its sha256)"
    )]
    Pip(#[source] CommandError),
}}

/// The hash-pinned requirement for `arch`.
///
/// # Errors
/// [`InstallUvError::UnsupportedArch`] when no hash is known for `arch`.
pub fn requirement(arch: &str) -> Result<String, InstallUvError> {{
    let (_, sha) = WHEEL_SHA256
        .iter()
        .find(|(a, _)| *a == arch)
        .ok_or_else(|| InstallUvError::UnsupportedArch {{ arch: arch.to_owned() }})?;
    let mut text = format!("uv=={{VERSION}}");
    let _ = writeln!(text, " --hash=sha256:{{sha}}");
    Ok(text)
}}

/// Where uv's binary is in its layer.
#[must_use]
pub fn binary(layer: &Path) -> PathBuf {{
    layer.join("bin/uv")
}}

/// The layer `uv`, kept in the cache while uv's version and the architecture are the same; uv is installed
/// into it when it is new. Its `bin` is on PATH for the later steps of this build.
///
/// # Errors
/// When the layer cannot be made or pip fails (a hash mismatch included).
pub fn layer(ctx: &BuildContext) -> Result<Layer, InstallUvError> {{
    let arch = ctx.target().arch.clone();
    let layer = ctx.layer("uv"){types}.keyed_by(&UvKey {{
        uv: VERSION.to_owned(),
        arch: arch.clone(),
    }})?;
    if layer.is_new() {{
        let path = layer.path().join("requirements.txt");
        std::fs::write(&path, requirement(&arch)?)
            .map_err(|source| InstallUvError::WriteRequirement {{ path: path.clone(), source }})?;
        ctx.run(
            Command::new("python3")
                .args(["-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--no-cache-dir"])
                .args(["--progress-bar=off", "--no-deps", "--only-binary=:all:", "--require-hashes"])
                .arg("--target")
                .arg(layer.path())
                .arg("-r")
                .arg(&path)
                .env("PYTHONNOUSERSITE", "1"),
        )
        .map_err(InstallUvError::Pip)?;
    }}
    Ok(layer)
}}
"#,
        version = uv_pin::VERSION,
        count = uv_pin::WHEEL_SHA256.len(),
    )
}

fn readme(plan: &Plan, source: &Source) -> String {
    let mut steps = String::new();
    for step in &plan.steps {
        let kind = match &step.kind {
            StepKind::Command { .. } => "kept: runs on every build",
            StepKind::LayerCommand { .. } => "kept: runs in its layer",
            StepKind::ShellOptions
            | StepKind::Variable { .. }
            | StepKind::UvPlumbing { .. }
            | StepKind::ChangeDir { .. } => "nothing left to do",
            _ => "recognised",
        };
        let _ = writeln!(
            steps,
            "| {} | `{}` | {kind} |",
            step.line,
            short(&step.text).replace('|', "\\|").replace('`', "'")
        );
    }
    let mut layers = String::new();
    for layer in &plan.layers {
        let _ = writeln!(
            layers,
            "| `{}` | {} | {} |",
            layer.name,
            types_text(layer).trim_start_matches("a "),
            describe_key(layer)
        );
    }
    let warnings = lines(
        &plan
            .warnings
            .iter()
            .map(|w| format!("- {w}"))
            .collect::<Vec<_>>(),
    );
    format!(
        r"# {id}

The inline buildpack `{inline}` of `{project}`, converted by `rpack buildpack new --from-inline`.
`src/main.rs` follows the script step by step, each step with its line.

| line | script | |
|---|---|---|
{steps}
| layer | types | keyed on |
|---|---|---|
{layers}{uv}
{warnings}
## Test

- `cargo test`: a unit test per recognised step, in-process.
- `cargo test --workspace`: also `integration/`, a real build of the app next to project.toml with the reference
  lifecycle (rpack's python stack: `rpack stack create --name python` once), and a rebuild with nothing changed
  that must reuse every layer.

## Use it

In project.toml, replace the group entry that holds the script with this crate (rpack compiles it when it builds
the app):

```toml
[[io.buildpacks.group]]
uri = {uri:?}
```

`rpack buildpack new ... --from-inline ... --rewrite` does that for you and keeps `project.toml.bak`; with
`--measure` it also builds the app before and after and prints the times.
",
        id = source.id,
        inline = source.inline_id,
        project = source.project_toml,
        uv = if plan.uv.is_some()
            || plan
                .steps
                .iter()
                .any(|s| matches!(s.kind, StepKind::UvSync { .. }))
        {
            format!(
                "| `uv` | cache | uv's version ({}) and the architecture |\n",
                uv_pin::VERSION
            )
        } else {
            String::new()
        },
        uri = source.uri,
    )
}
