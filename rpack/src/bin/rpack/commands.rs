//! One module per command, each with its args struct and a `run` function.

pub mod build;
pub mod builder;
pub mod buildpack;
pub mod doctor;
pub mod image;
pub mod images;
pub mod inspect;
pub mod lifecycle;
pub mod prune;
pub mod pull;
pub mod push;
pub mod rebase;
pub mod run;
pub mod sbom;
pub mod stack;
pub mod stop;
