//! rpack: package, build, run and inspect Cloud Native Buildpacks with the reference lifecycle, podman and OCI
//! image layouts. No Docker daemon and no registry needed.
//!
//! The CLI (`rpack`) is a thin shell over this library; `libbuildpack-test` drives real builds through it.

pub mod builder;
pub mod doctor;
pub mod engine;
mod error;
pub mod extract;
pub mod images;
pub mod inspect;
pub mod lifecycle;
pub mod oci;
pub mod output;
pub mod package;
pub mod platform;
pub mod podman;
pub mod project;
pub mod rebase;
pub mod reference;
pub mod registry;
pub mod run;
pub mod sbom;
pub mod scaffold;
pub mod scratch;
pub mod stack;
pub mod store;
pub mod ui;

pub use error::Error;
