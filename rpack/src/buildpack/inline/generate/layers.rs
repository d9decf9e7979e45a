//! A layer's block in the generated `build()`: its key, its `is_new` block with the steps that write into it,
//! and what follows (links, env).

use std::fmt::Write as _;

use super::Generator;
use super::body::{run_step, runs_uv, script_call};
use super::keys::{describe_key, key_args, layer_chain, types_text};
use super::text::{camel, ident, lit, wrap};
use crate::buildpack::inline::steps::{LayerPlan, Step, StepKind, step_layer};

/// What the steps of one layer's block share.
#[derive(Clone, Copy)]
pub(super) struct LayerScope<'l> {
    /// The layer's name.
    pub(super) name: &'l str,
    /// Its variable in `build`.
    pub(super) var: &'l str,
    /// Its key type.
    pub(super) key_type: &'l str,
    /// What the steps made of it.
    pub(super) layer: &'l LayerPlan,
    /// Its `ctx.layer(..)` chain with its types.
    pub(super) chain: &'l str,
}

/// What a layer's steps leave for after its `is_new` block.
#[derive(Default)]
pub(super) struct LayerAfter {
    /// The steps that wrote its env files.
    pub(super) env_steps: Vec<Step>,
    /// Whether it holds a venv.
    pub(super) venv_env: bool,
    /// The app dir (as Rust code) whose `node_modules` links into it.
    pub(super) node_link: Option<String>,
}

/// The arguments of a `pip install` (or `uv pip install`) step.
pub(super) struct Pip<'s> {
    /// The requirements files (`-r`).
    pub(super) files: &'s [String],
    /// The packages named.
    pub(super) packages: &'s [String],
    /// The other flags.
    pub(super) flags: &'s [String],
    /// Whether uv runs it.
    pub(super) via_uv: bool,
}

/// The indent of the steps in a layer's `is_new` block.
const INNER: &str = "            ";

/// `.current_dir(...)` for a step that runs in another dir than the app's, else nothing.
pub(super) fn call_dir(step: &Step) -> String {
    step.cwd
        .as_ref()
        .map(|d| format!(".current_dir(ctx.app_dir().join({}))", lit(d)))
        .unwrap_or_default()
}

impl Generator<'_> {
    /// The block of the layer `name`, at the first step that writes into it: its key, then the steps of `rest` that
    /// write into it, run only when it is new.
    pub(super) fn layer_block(&mut self, out: &mut String, name: &str, rest: &[Step]) {
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
        if mine.iter().any(|s| runs_uv(&s.kind)) {
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
            chain: &chain,
        };
        let mut after = LayerAfter::default();
        for step in mine {
            self.layer_step(out, step, &scope, &mut after);
        }
        let _ = writeln!(out, "        }}");
        self.layer_after(out, &scope, after);
    }

    /// One step in a layer's `is_new` block.
    fn layer_step(
        &mut self,
        out: &mut String,
        step: &Step,
        scope: &LayerScope<'_>,
        after: &mut LayerAfter,
    ) {
        let LayerScope {
            name, var, chain, ..
        } = *scope;
        match &step.kind {
            StepKind::UvSync { args, env, .. } => {
                after.venv_env = true;
                self.uv_sync_step(out, step, args, env, scope);
            }
            StepKind::PipInstall {
                files,
                packages,
                flags,
                via_uv,
                ..
            } => {
                after.venv_env = true;
                let pip = Pip {
                    files,
                    packages,
                    flags,
                    via_uv: *via_uv,
                };
                self.pip_install_step(out, step, &pip, scope);
            }
            StepKind::NodeInstall { argv, lock, .. } => {
                after.node_link = Some(self.node_install_step(out, step, argv, lock, scope));
            }
            StepKind::LayerCommand { .. } => {
                self.needs.script = true;
                Self::comment(
                    out,
                    INNER,
                    step,
                    &format!(
                        "Not recognised: it runs as written, here because it writes into `{name}`, so it runs again only when the layer's key changes (its key holds the files and env the command names)."
                    ),
                );
                run_step(out, INNER, &script_call(step), step);
            }
            StepKind::LayerTypes { .. } => Self::comment(
                out,
                INNER,
                step,
                &format!(
                    "The layer's types: `{}` above.",
                    chain.trim_start_matches(&format!("ctx.layer({})", lit(name)))
                ),
            ),
            StepKind::LayerEnv { .. } => {
                Self::comment(
                    out,
                    INNER,
                    step,
                    &format!("Env of `{name}`: `{var}_env` below, on every build."),
                );
                after.env_steps.push(step.clone());
            }
            _ => {}
        }
    }

    /// The comment that says what layer `name` is, and its `let` with the key: returns its `ctx.layer(..)` chain.
    pub(super) fn layer_intro(
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
    pub(super) fn layer_after(
        &mut self,
        out: &mut String,
        scope: &LayerScope<'_>,
        after: LayerAfter,
    ) {
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

    /// The comment of a recognised step in a layer's `is_new` block, and the unique name of the function that
    /// makes its command.
    fn step_fn_name(&mut self, out: &mut String, step: &Step, base: &str, note: &str) -> String {
        let f = self.names.unique(base, step.line);
        Self::comment(out, INNER, step, note);
        f
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
        let LayerScope { name, var, .. } = *scope;
        let note = format!(
            "`uv sync` with the pinned uv into `{name}`, only when the key changed; uv's download cache lives in the uv layer."
        );
        let f = self.step_fn_name(out, step, "uv_sync", &note);
        let call = format!("&mut {f}(uv.path(), {var}.path()){}", call_dir(step));
        run_step(out, INNER, &call, step);
        self.uv_sync_fn(&f, step, args, env, scope);
    }

    /// A `pip install` (or `uv pip install`) step inside a layer's `is_new` block, and its function.
    fn pip_install_step(
        &mut self,
        out: &mut String,
        step: &Step,
        pip: &Pip<'_>,
        scope: &LayerScope<'_>,
    ) {
        let LayerScope { name, var, .. } = *scope;
        self.needs.python = true;
        let tool = if pip.via_uv {
            "`uv pip install`"
        } else {
            "`pip install`"
        };
        let note = format!("A venv in `{name}` and {tool} into it, only when the key changed.");
        let f = self.step_fn_name(out, step, "pip_install", &note);
        let venv = format!("Command::new(\"python3\").args([\"-m\", \"venv\"]).arg({var}.path())");
        run_step(out, INNER, &venv, step);
        let uv_arg = if pip.via_uv { "uv.path(), " } else { "" };
        let call = format!("&mut {f}({uv_arg}{var}.path()){}", call_dir(step));
        run_step(out, INNER, &call, step);
        self.pip_fn(&f, step, pip, scope);
    }

    /// A node install step inside a layer's `is_new` block, and its function; returns the app dir (as Rust code)
    /// whose `node_modules` links to the layer's, after the block.
    fn node_install_step(
        &mut self,
        out: &mut String,
        step: &Step,
        argv: &[String],
        lock: &str,
        scope: &LayerScope<'_>,
    ) -> String {
        let LayerScope { name, var, .. } = *scope;
        self.needs.node = true;
        self.needs.copy = true;
        self.needs.link = true;
        let note = format!(
            "`{}` in `{name}` (from copies of package.json and {lock}), only when the key changed; the app's `node_modules` links to it.",
            argv.join(" ")
        );
        let f = self.step_fn_name(out, step, "node_install", &note);
        let lock_name = lock.rsplit('/').next().unwrap_or(lock);
        let app_dir = match step.cwd.as_deref() {
            None | Some("") => "ctx.app_dir().to_owned()".to_owned(),
            Some(dir) => format!("ctx.app_dir().join({})", lit(dir)),
        };
        let _ = writeln!(
            out,
            "{INNER}inputs::copy_into(&{app_dir}, &[\"package.json\", {}], {var}.path())?;",
            lit(lock_name)
        );
        run_step(out, INNER, &format!("&mut {f}({var}.path())"), step);
        self.node_fn(&f, step, argv, lock_name, scope);
        app_dir
    }
}
