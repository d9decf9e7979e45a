//! libbuildpack: a typed SDK for writing Cloud Native Buildpacks.
//!
//! - [`data`]: every CNB file format as serde types (always available, also with
//!   `default-features = false`).
//! - The runtime (feature `runtime`, on by default): the [`Buildpack`] trait,
//!   [`buildpack_main!`], detect and build contexts, layers, env files, processes and build
//!   output.
//! - [`testing`] (feature `testing`): run detect and build in-process against temp dirs.

pub mod data;
