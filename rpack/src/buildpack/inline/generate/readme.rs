//! The generated `README.md`: what each line of the script became, the layers, how to test and use the crate.

use std::fmt::Write as _;

use super::Source;
use super::keys::{describe_key, types_text};
use super::text::{fill, lines, table_cell};
use crate::buildpack::inline::steps::{Plan, StepKind};
use crate::buildpack::inline::uv_pin;

/// The generated `README.md`.
pub(super) fn readme(plan: &Plan, source: &Source) -> String {
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
            table_cell(&step.text)
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
    let has_uv = plan.uv.is_some()
        || plan
            .steps
            .iter()
            .any(|s| matches!(s.kind, StepKind::UvSync { .. }));
    let uv = if has_uv {
        format!(
            "| `uv` | cache | uv's version ({}) and the architecture |\n",
            uv_pin::VERSION
        )
    } else {
        String::new()
    };
    let warnings: Vec<String> = plan.warnings.iter().map(|w| format!("- {w}")).collect();
    fill(
        include_str!("templates/README.md.in"),
        &[
            ("ID", &source.id),
            ("INLINE", &source.inline_id),
            ("PROJECT", &source.project_toml),
            ("STEPS", &steps),
            ("LAYERS", &layers),
            ("UV", &uv),
            ("WARNINGS", &lines(&warnings)),
            ("URI", &format!("{:?}", source.uri)),
        ],
    )
}
