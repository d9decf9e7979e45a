//! rpack: package, build, run and inspect Cloud Native Buildpacks with the reference lifecycle, podman and OCI
//! image layouts. No Docker daemon and no registry needed.
//!
//! The CLI (`rpack`) is a thin shell over this library; `libbuildpack-test` drives real builds through it.

pub mod build;
pub mod buildpack;
mod error;
pub mod oci;
pub mod ops;
pub mod provision;
pub mod store;
pub mod toolbox;

pub use error::Error;
