//! Env modifiers: the script's `export`s and the env files it wrote into layers, as SDK calls, with their tests.

use std::fmt::Write as _;

use super::Generator;
use super::expr::{Expr, ExprKind, reads_env, value_expr};
use super::keys::layer_chain;
use super::text::{lit, short};
use crate::buildpack::inline::parse::Part;
use crate::buildpack::inline::steps::{EnvAction, EnvScope, LayerPlan, Step, StepKind};

/// An env modifier as the script wrote it: where, the variable, how, and its value's parts.
pub(super) type EnvWrite = (EnvScope, String, EnvAction, Vec<Part>);

/// An env modifier the generated code writes: a variable's values, repeated prepends and appends merged (its
/// env file holds one value).
struct Merged {
    scope: EnvScope,
    name: String,
    action: EnvAction,
    values: Vec<Vec<Part>>,
}

/// The writes merged as the env files hold them: prepends and appends of one variable into one value (in the
/// order the shell would put them), a later override or default replacing an earlier one.
fn merge(writes: &[EnvWrite]) -> Vec<Merged> {
    let mut merged: Vec<Merged> = Vec::new();
    for (scope, name, action, value) in writes {
        let same = merged
            .iter_mut()
            .find(|m| m.scope == *scope && m.name == *name && m.action == *action);
        match same {
            Some(m) if *action == EnvAction::Prepend => m.values.insert(0, value.clone()),
            Some(m) if *action == EnvAction::Append => m.values.push(value.clone()),
            Some(m) => m.values = vec![value.clone()],
            None => merged.push(Merged {
                scope: scope.clone(),
                name: name.clone(),
                action: *action,
                values: vec![value.clone()],
            }),
        }
    }
    merged
}

/// The values of a merged write joined with `:`.
fn joined(values: &[Vec<Part>]) -> Vec<Part> {
    let mut joined: Vec<Part> = Vec::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            joined.push(Part::Lit(":".to_owned()));
        }
        joined.extend(value.iter().cloned());
    }
    joined
}

/// The SDK call that writes one modifier into `target`'s env, as a line of the generated function.
fn env_call(target: &str, write: &Merged, value: &Expr) -> String {
    let dir = match &write.scope {
        EnvScope::All => format!("{target}.env()"),
        EnvScope::Build => format!("{target}.build_env()"),
        EnvScope::Launch => format!("{target}.launch_env()"),
        EnvScope::Process(p) => format!("{target}.process_env(&process_type!({}))", lit(p)),
    };
    let name = lit(&write.name);
    let code = &value.code;
    match write.action {
        EnvAction::Override => format!("    {dir}.set({name}, {code})?;\n"),
        EnvAction::Default => format!("    {dir}.set_default({name}, {code})?;\n"),
        EnvAction::Prepend | EnvAction::Append => {
            let call = if write.action == EnvAction::Prepend {
                "prepend"
            } else {
                "append"
            };
            if value.kind == ExprKind::Path {
                format!("    {dir}.{call}_path({name}, {code})?;\n")
            } else {
                format!("    {dir}.{call}({name}, {code}, \":\")?;\n")
            }
        }
    }
}

/// The env file a modifier becomes (relative to the layer), and its text when it is known without a build.
fn env_file(write: &Merged, joined: &[Part]) -> (String, Option<String>) {
    let dir = match &write.scope {
        EnvScope::All => "env".to_owned(),
        EnvScope::Build => "env.build".to_owned(),
        EnvScope::Launch => "env.launch".to_owned(),
        EnvScope::Process(p) => format!("env.launch/{p}"),
    };
    let suffix = match write.action {
        EnvAction::Override => "override",
        EnvAction::Default => "default",
        EnvAction::Prepend => "prepend",
        EnvAction::Append => "append",
    };
    let text = joined
        .iter()
        .all(|p| matches!(p, Part::Lit(_)))
        .then(|| crate::buildpack::inline::parse::parts_text(joined));
    (format!("{dir}/{}.{suffix}", write.name), text)
}

/// The asserts of a generated env test: each env file in `layer` is there, with its text when it is known.
fn env_asserts(files: &[(String, Option<String>)]) -> String {
    let mut asserts = String::new();
    for (file, text) in files {
        match text {
            None => {
                let _ = writeln!(
                    asserts,
                    "        assert!(layer.join({}).is_file());",
                    lit(file)
                );
            }
            Some(text) => {
                let _ = writeln!(
                    asserts,
                    "        assert_eq!(std::fs::read_to_string(layer.join({})).unwrap(), {});",
                    lit(file),
                    lit(text)
                );
            }
        }
    }
    asserts
}

/// The doc lines that list `steps`, one `/// - line N: 'text'` each (the step's text between backquotes).
fn step_list<'s>(steps: impl Iterator<Item = &'s Step>) -> String {
    steps
        .map(|s| {
            format!(
                "/// - line {}: `{}`",
                s.line,
                short(&s.text).replace('`', "'")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Generator<'_> {
    /// The lines of a generated function that write `writes` into `target`'s env, and the env files they make.
    fn env_calls(
        &mut self,
        writes: &[EnvWrite],
        target: &str,
    ) -> (String, Vec<(String, Option<String>)>) {
        let mut body = String::new();
        let mut files = Vec::new();
        for write in merge(writes) {
            let joined = joined(&write.values);
            let mut uses_ctx = false;
            let value = value_expr(&joined, &mut uses_ctx).unwrap_or_else(|| Expr {
                code: format!(
                    "{} /* a shell substitution: work out its value here */",
                    lit(&crate::buildpack::inline::parse::parts_text(&joined))
                ),
                kind: ExprKind::Literal,
            });
            if uses_ctx {
                self.needs.env_value |= reads_env(&joined);
            }
            body.push_str(&env_call(target, &write, &value));
            files.push(env_file(&write, &joined));
        }
        (body, files)
    }

    /// The `exports` function (the script's exports as build env modifiers in a fresh layer) and its test.
    pub(super) fn exports_fn(&mut self) {
        let exports: Vec<EnvWrite> = self
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
        let lines = step_list(
            self.plan
                .steps
                .iter()
                .filter(|s| matches!(s.kind, StepKind::Export { .. })),
        );
        let (body, files) = self.env_calls(&exports, "env");
        let layer = self.exports_layer();
        let _ = write!(
            self.helpers,
            "\n/// The script's exports, as build env modifiers in the layer `{layer}` (made afresh on every build, never\n\
             /// in the image): every later step of this build sees them.\n{lines}\n\
             fn exports(ctx: &BuildContext) -> Result<(), LayerError> {{\n    \
             let env = ctx.layer({}).fresh()?;\n{body}    Ok(())\n}}\n",
            lit(&layer),
        );
        let checks = format!(
            "        let layer = ctx.layers_dir().join({});\n{}",
            lit(&layer),
            env_asserts(&files)
        );
        self.only_test(
            "exports_become_build_env_modifiers",
            "ctx",
            "            exports(ctx)?;\n            Ok(Build::new())\n",
            &checks,
        );
    }

    /// The layer the exports go into: `exports`, or with `_`s when the script has a layer of that name.
    fn exports_layer(&self) -> String {
        let mut name = "exports".to_owned();
        while self.plan.layer(&name).is_some() {
            name.push('_');
        }
        name
    }

    /// Writes the layer's env function and its test; whether the function takes `ctx`.
    pub(super) fn env_fn(
        &mut self,
        var: &str,
        layer: &str,
        plan: &LayerPlan,
        steps: &[Step],
    ) -> bool {
        let writes: Vec<EnvWrite> = steps
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
        let (body, files) = self.env_calls(&writes, "layer");
        let uses_ctx = body.contains("ctx.");
        let _ = write!(
            self.helpers,
            "\n/// The env files the script wrote into `{layer}`, as env modifiers.\n{}\n\
             fn {var}_env({}layer: &Layer) -> Result<(), LayerError> {{\n{body}    Ok(())\n}}\n",
            step_list(steps.iter()),
            if uses_ctx { "ctx: &BuildContext, " } else { "" },
        );
        let run = format!(
            "            let layer = {}.fresh()?;\n            {var}_env({}&layer)?;\n            Ok(Build::new())\n",
            layer_chain(layer, plan),
            if uses_ctx { "ctx, " } else { "" },
        );
        let checks = format!(
            "        let layer = ctx.layers_dir().join({});\n{}",
            lit(layer),
            env_asserts(&files)
        );
        self.only_test(
            &format!("{var}_env_files_become_env_modifiers"),
            "ctx",
            &run,
            &checks,
        );
        uses_ctx
    }
}
