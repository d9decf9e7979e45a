//! Building and running apps: the lifecycle's creator in podman, project.toml, and app containers.

pub mod engine;
pub mod platform;
pub mod podman;
pub(crate) mod project;
pub mod run;
