//! What a buildpack author needs, in one import: `use libbuildpack::prelude::*;`.
//!
//! The `Serialize`/`Deserialize` derives expand to paths under `serde`, so add `serde` as a
//! dependency (or write `#[serde(crate = "libbuildpack::serde")]` on each derived type).

pub use crate::build::{Build, Process};
pub use crate::buildpack::Buildpack;
pub use crate::context::{BuildContext, DetectContext};
pub use crate::data::{
    BuildpackId, BuildpackPlan, EnvAction, LayerName, NoMetadata, PlanEntry, ProcessType,
};
pub use crate::detect::Detect;
pub use crate::layer::{Layer, LayerEnv, LayerError, LayerState};
pub use crate::output::{CommandError, Output};
pub use crate::platform::{PlatformEnv, Target};
pub use crate::{buildpack_id, buildpack_main, layer_name, process_type};
pub use serde::{Deserialize, Serialize};
pub use std::process::Command;
