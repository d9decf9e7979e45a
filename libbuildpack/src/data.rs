//! Every CNB file format as serde types that read and write.
//!
//! This module has no runtime dependencies: use it with `default-features = false`.
//! Reading functions return [`TomlFileError`], whose messages name the file, the field, the
//! line and column, and what a valid value looks like.

pub mod api;
pub mod build_plan;
pub mod build_toml;
pub mod builder_toml;
pub mod buildpack_plan;
pub mod buildpack_toml;
pub mod env_file;
pub mod error;
pub mod exec_d;
pub mod ids;
#[cfg(feature = "labels")]
#[cfg_attr(docsrs, doc(cfg(feature = "labels")))]
pub mod labels;
pub mod launch_toml;
pub mod layer_toml;
pub mod lifecycle_toml;
pub mod order_toml;
pub mod package_toml;
pub mod project_toml;
pub mod run_toml;
pub mod sbom;
pub mod store_toml;
pub(crate) mod toml_file;

pub use api::{ApiVersion, ApiVersionError, BuildpackApi, PlatformApi};
pub use build_plan::{BuildPlan, PlanAlternative, Provide, Require};
pub use build_toml::{BuildToml, Unmet};
pub use builder_toml::{
    BuildConfigEnv, BuilderBuild, BuilderBuildpack, BuilderLifecycle, BuilderRun, BuilderStack,
    BuilderToml,
};
pub use buildpack_plan::{BuildpackPlan, PlanEntry};
pub use buildpack_toml::{BuildpackDescriptor, BuildpackInfo, Distro, License, Stack, Target};
pub use env_file::EnvAction;
pub use error::TomlFileError;
pub use exec_d::ExecDOutput;
pub use ids::{BuildpackId, BuildpackVersion, EnvVarName, InvalidName, LayerName, ProcessType};
pub use launch_toml::{Label, LaunchProcess, LaunchToml, Slice};
pub use layer_toml::{LayerToml, LayerTypes};
pub use lifecycle_toml::{ApiSet, LegacyApis, LifecycleApis, LifecycleInfo, LifecycleToml};
pub use order_toml::{GroupEntry, OrderGroup, OrderToml};
pub use package_toml::{PackageDependency, PackageModule, PackagePlatform, PackageToml};
pub use project_toml::{
    InlineScript, IoBuildpacks, ProjectBuild, ProjectBuildpack, ProjectEnv, ProjectInfo,
    ProjectToml,
};
pub use run_toml::{RunImage, RunToml};
pub use sbom::{SbomFormat, UnknownSbomFormat};
pub use store_toml::StoreToml;

/// The platform env var (`<platform>/env/LIBBUILDPACK_CACHE_VOLUME`) through which a platform names the build
/// cache volume it mounts: a directory that outlives builds of one app image and is never part of it. Read by
/// `BuildContext::cache_volume`; written by `rpack build`, which mounts one per app image.
pub const CACHE_VOLUME_ENV: &str = "LIBBUILDPACK_CACHE_VOLUME";

/// Metadata for a buildpack that has none: reads any `[metadata]` table (ignoring it) and is
/// written as an empty table.
///
/// ```
/// use libbuildpack::data::{BuildpackDescriptor, NoMetadata};
/// let text = "api = \"0.10\"\n[buildpack]\nid = \"a/b\"\nversion = \"0.1.0\"\n[metadata]\nx = 1\n";
/// let bp: BuildpackDescriptor<NoMetadata> = BuildpackDescriptor::from_toml_str(text, "buildpack.toml")?;
/// assert_eq!(bp.metadata, Some(NoMetadata));
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NoMetadata;

impl<'de> serde::Deserialize<'de> for NoMetadata {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Self)
    }
}

impl serde::Serialize for NoMetadata {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        serializer.serialize_map(Some(0))?.end()
    }
}
