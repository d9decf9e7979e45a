//! Buildpacks as files: packaging them into `.cnb` files or dirs, and scaffolding new ones.

pub mod package;
pub mod scaffold;
pub mod inline;
