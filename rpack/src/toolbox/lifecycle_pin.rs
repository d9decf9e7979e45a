//! The reference lifecycle rpack is tested with: its version and the Buildpack APIs it runs. Data, not code,
//! so packaging (which warns about buildpacks the lifecycle will not run) and provisioning (which installs
//! it) both read it from below instead of packaging reaching up into `provision`.

/// The lifecycle version rpack is tested with and uses by default.
pub const DEFAULT_VERSION: &str = "0.21.17";

/// The Buildpack APIs the lifecycle [`DEFAULT_VERSION`] supports (its `lifecycle.toml`); packaging warns about
/// buildpacks written for others.
pub const DEFAULT_BUILDPACK_APIS: &[&str] = &["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"];
