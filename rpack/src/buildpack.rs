//! Buildpacks as files: packaging them into `.cnb` files or dirs, and scaffolding new ones.

pub mod inline;
pub mod package;
pub mod scaffold;
