//! `lifecycle.toml`: the descriptor shipped in a lifecycle tarball.

use serde::{Deserialize, Serialize};

use super::api::ApiVersion;
use super::toml_file::toml_file_impl;

/// The lifecycle descriptor: which APIs the lifecycle supports, and its version.
///
/// ```
/// use libbuildpack::data::{ApiVersion, LifecycleToml};
/// let text = r#"
/// [apis.buildpack]
/// deprecated = []
/// supported = ["0.7", "0.12"]
/// [apis.platform]
/// deprecated = []
/// supported = ["0.15"]
/// [lifecycle]
/// version = "0.21.17"
/// "#;
/// let lifecycle = LifecycleToml::from_toml_str(text, "lifecycle.toml")?;
/// assert!(lifecycle.supports_buildpack_api(ApiVersion::V0_12));
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleToml {
    /// `[apis]`: the supported and deprecated API versions.
    #[serde(default)]
    pub apis: LifecycleApis,
    /// The legacy `[api]` table (RFC 0011): the minimum supported APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<LegacyApis>,
    /// `[lifecycle]`.
    pub lifecycle: LifecycleInfo,
}

toml_file_impl!(LifecycleToml, "lifecycle.toml");

/// The `[apis]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleApis {
    /// `[apis.buildpack]`.
    #[serde(default)]
    pub buildpack: ApiSet,
    /// `[apis.platform]`.
    #[serde(default)]
    pub platform: ApiSet,
}

/// The supported and deprecated versions of one API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSet {
    /// Deprecated versions (still supported).
    #[serde(default)]
    pub deprecated: Vec<ApiVersion>,
    /// Supported versions.
    #[serde(default)]
    pub supported: Vec<ApiVersion>,
}

impl ApiSet {
    /// Whether some supported version serves a consumer of `api` (see
    /// [`ApiVersion::is_superset_of`]).
    #[must_use]
    pub fn supports(&self, api: ApiVersion) -> bool {
        self.supported.iter().any(|v| v.is_superset_of(api))
    }
}

/// The legacy `[api]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyApis {
    /// The minimum Platform API.
    pub platform: ApiVersion,
    /// The minimum Buildpack API.
    pub buildpack: ApiVersion,
}

/// The `[lifecycle]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LifecycleInfo {
    /// The lifecycle's version, e.g. `0.21.17`.
    pub version: String,
    /// The SBOM media types the lifecycle writes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sbom_formats: Vec<String>,
}

impl LifecycleToml {
    /// Whether the lifecycle can run a buildpack declaring `api`.
    #[must_use]
    pub fn supports_buildpack_api(&self, api: ApiVersion) -> bool {
        self.apis.buildpack.supports(api)
    }

    /// Whether the lifecycle can be driven at Platform API `api`.
    #[must_use]
    pub fn supports_platform_api(&self, api: ApiVersion) -> bool {
        self.apis.platform.supports(api)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = r#"[apis]
[apis.buildpack]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"]
[apis.platform]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15"]

# For backwards compatibility the minimum supported APIs are provided in RFC-0011 format
# https://github.com/buildpacks/rfcs/blob/main/text/0011-lifecycle-descriptor.md
[api]
  platform = "0.7"
  buildpack = "0.7"

[lifecycle]
  version = "0.21.17"
  sbom-formats = ["application/vnd.cyclonedx+json", "application/spdx+json", "application/vnd.syft+json"]
"#;

    #[test]
    fn reads_the_real_descriptor() {
        let lc = LifecycleToml::from_toml_str(REAL, "lifecycle.toml").unwrap();
        assert_eq!(lc.lifecycle.version, "0.21.17");
        assert!(lc.supports_buildpack_api(ApiVersion::V0_10));
        assert!(!lc.supports_buildpack_api(ApiVersion::new(0, 13)));
        assert!(lc.supports_platform_api(ApiVersion::new(0, 15)));
        assert_eq!(lc.api.as_ref().unwrap().platform, ApiVersion::new(0, 7));
        let text = lc.to_toml_string().unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(
            LifecycleToml::from_toml_str(&text, "lifecycle.toml").unwrap(),
            lc
        );
    }
}
