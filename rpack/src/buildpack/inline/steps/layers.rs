//! The layers a plan fills: their types and keys from the steps that write into them, and which must be
//! cached for later steps.

use std::collections::{BTreeMap, BTreeSet};

use super::words::join_cwd;
use super::{KeyField, LayerPlan, Plan, Step, StepKind, step_layer};

/// The layers the steps fill, with their types and keys.
#[allow(clippy::too_many_lines, reason = "one arm per step kind")]
pub(super) fn layers(
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
pub(super) fn layer_key(step: &Step) -> Option<(&str, Vec<KeyField>, bool)> {
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
pub(super) fn new_layer(
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
pub(super) fn cache_for_later_steps(plan: &Plan, layers: &mut [LayerPlan]) {
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
