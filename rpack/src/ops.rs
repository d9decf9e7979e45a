//! What is done to built images: rebase, SBOM download, inspect, and the doctor that checks the tools.

pub mod doctor;
pub mod inspect;
pub mod rebase;
pub mod sbom;
