//! The generated `integration/tests/rebuild.rs`: a real build of the app, and a no-change rebuild that must
//! reuse every layer.

use super::Source;
use super::text::{fill, lit};
use crate::buildpack::inline::steps::{Plan, StepKind};

/// The generated `integration/tests/rebuild.rs` for `plan` (`uv`: whether the crate has the uv layer).
pub(super) fn integration_test(plan: &Plan, source: &Source, uv: bool) -> String {
    let mut layers: Vec<&str> = Vec::new();
    if uv {
        layers.push("uv");
    }
    layers.extend(plan.layers.iter().map(|l| l.name.as_str()));
    let launch: Vec<&str> = plan
        .layers
        .iter()
        .filter(|l| l.launch)
        .map(|l| l.name.as_str())
        .collect();
    let skip = source
        .crate_in_app
        .as_ref()
        .map(|c| format!(", {}", lit(c)))
        .unwrap_or_default();
    let python = plan.uv.is_some()
        || plan.steps.iter().any(|s| {
            matches!(
                s.kind,
                StepKind::UvSync { .. } | StepKind::PipInstall { .. }
            )
        });
    let stack = if python { "python" } else { "tiny" };
    let list = |items: &[&str]| items.iter().map(|l| lit(l)).collect::<Vec<_>>().join(", ");
    fill(
        include_str!("templates/rebuild.rs.in"),
        &[
            ("PROJECT", &source.project_toml),
            ("APP", &source.app_from_integration),
            ("APP_LIT", &lit(&source.app_from_integration)),
            ("STACK", stack),
            ("STACK_LIT", &lit(stack)),
            ("SKIP", &skip),
            ("ID", &lit(&source.id)),
            ("LAYERS", &list(&layers)),
            ("LAUNCH", &list(&launch)),
            ("NAME", &source.name),
        ],
    )
}
