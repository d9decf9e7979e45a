//! The body of the generated `build()`: one block per step of the script, in its order, each under a comment
//! with its line.

use std::fmt::Write as _;

use super::Generator;
use super::text::{label, lit, short, wrap};
use crate::buildpack::inline::steps::{Step, StepKind, UvSource, step_layer};
use crate::buildpack::inline::uv_pin;

/// `ctx.run`'s argument for a step kept as shell.
pub(super) fn script_call(step: &Step) -> String {
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

/// Whether a step runs the pinned uv.
pub(super) fn runs_uv(kind: &StepKind) -> bool {
    matches!(
        kind,
        StepKind::UvSync { .. } | StepKind::PipInstall { via_uv: true, .. }
    )
}

/// `ctx.run(CALL).map_err(failed(LINE, "COMMAND"))?;` at `indent`: a step that runs a command, its error naming
/// the step.
pub(super) fn run_step(out: &mut String, indent: &str, call: &str, step: &Step) {
    let _ = writeln!(
        out,
        "{indent}ctx.run({call}).map_err(failed({}, {}))?;",
        step.line,
        lit(&label(&step.text))
    );
}

impl Generator<'_> {
    /// Whether the script installs or runs uv.
    pub(super) fn uses_uv(&self) -> bool {
        self.plan.uv.is_some() || self.plan.steps.iter().any(|s| runs_uv(&s.kind))
    }

    /// The comment above a step: its line, and `note` wrapped.
    pub(super) fn comment(out: &mut String, indent: &str, step: &Step, note: &str) {
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

    /// `let uv = uv::layer(ctx)?;`, the first time a step needs uv.
    pub(super) fn ensure_uv(&mut self, out: &mut String) {
        if !self.uv_declared {
            self.uv_declared = true;
            self.needs.uv = true;
            let _ = writeln!(out, "        let uv = uv::layer(ctx)?;");
        }
    }

    /// The steps of `build()`, in the script's order.
    pub(super) fn build_body(&mut self) -> String {
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
                    run_step(&mut out, "        ", &script_call(step), step);
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
    pub(super) fn install_uv_step(
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
    pub(super) fn export_step(&mut self, out: &mut String, step: &Step, steps: &[Step]) {
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
}
