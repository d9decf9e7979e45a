//! SBOM file names and media types (`<layer>.sbom.<ext>`, `launch.sbom.<ext>`,
//! `build.sbom.<ext>`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An SBOM format a buildpack may write, as declared in `[buildpack] sbom-formats`.
///
/// ```
/// use libbuildpack::data::SbomFormat;
/// let cdx: SbomFormat = "application/vnd.cyclonedx+json".parse()?;
/// assert_eq!(cdx, SbomFormat::CycloneDxJson);
/// assert_eq!(cdx.extension(), "cdx.json");
/// // Parameters are tolerated, as the lifecycle parses a media type.
/// assert_eq!("application/spdx+json; version=2.3".parse::<SbomFormat>()?, SbomFormat::SpdxJson);
/// # Ok::<(), libbuildpack::data::UnknownSbomFormat>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SbomFormat {
    /// `application/vnd.cyclonedx+json`, files `*.sbom.cdx.json`.
    CycloneDxJson,
    /// `application/spdx+json`, files `*.sbom.spdx.json`.
    SpdxJson,
    /// `application/vnd.syft+json`, files `*.sbom.syft.json`.
    SyftJson,
}

impl SbomFormat {
    /// Every format, in the order of the table in the spec.
    pub const ALL: [Self; 3] = [Self::CycloneDxJson, Self::SpdxJson, Self::SyftJson];

    /// The media type, as written in `sbom-formats`.
    #[must_use]
    pub const fn media_type(self) -> &'static str {
        match self {
            Self::CycloneDxJson => "application/vnd.cyclonedx+json",
            Self::SpdxJson => "application/spdx+json",
            Self::SyftJson => "application/vnd.syft+json",
        }
    }

    /// The file extension after `.sbom.`: `cdx.json`, `spdx.json` or `syft.json`.
    #[must_use]
    pub const fn extension(self) -> &'static str {
        match self {
            Self::CycloneDxJson => "cdx.json",
            Self::SpdxJson => "spdx.json",
            Self::SyftJson => "syft.json",
        }
    }

    /// The file name for an SBOM of `owner`: a layer name, `launch` or `build`.
    ///
    /// ```
    /// use libbuildpack::data::SbomFormat;
    /// assert_eq!(SbomFormat::SpdxJson.file_name("venv"), "venv.sbom.spdx.json");
    /// ```
    #[must_use]
    pub fn file_name(self, owner: &str) -> String {
        format!("{owner}.sbom.{}", self.extension())
    }

    /// The format of an SBOM file name (`<owner>.sbom.<ext>`), with its owner. The owner is
    /// the part before the first `.`, as the lifecycle reads it.
    #[must_use]
    pub fn from_file_name(name: &str) -> Option<(&str, Self)> {
        let (owner, rest) = name.split_once('.')?;
        let ext = rest.strip_prefix("sbom.")?;
        Self::ALL
            .into_iter()
            .find(|f| f.extension() == ext)
            .map(|f| (owner, f))
    }
}

/// A media type that is not one of the three SBOM formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown SBOM media type {value:?}: use application/vnd.cyclonedx+json, application/spdx+json or application/vnd.syft+json"
)]
pub struct UnknownSbomFormat {
    /// The rejected text.
    pub value: String,
}

impl FromStr for SbomFormat {
    type Err = UnknownSbomFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let essence = s.split(';').next().unwrap_or_default().trim();
        Self::ALL
            .into_iter()
            .find(|f| f.media_type().eq_ignore_ascii_case(essence))
            .ok_or_else(|| UnknownSbomFormat {
                value: s.to_string(),
            })
    }
}

impl TryFrom<String> for SbomFormat {
    type Error = UnknownSbomFormat;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<SbomFormat> for String {
    fn from(value: SbomFormat) -> Self {
        value.media_type().to_string()
    }
}

impl fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.media_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbom_file_names() {
        assert_eq!(
            SbomFormat::CycloneDxJson.file_name("launch"),
            "launch.sbom.cdx.json"
        );
        assert_eq!(
            SbomFormat::SyftJson.file_name("build"),
            "build.sbom.syft.json"
        );
        assert_eq!(
            SbomFormat::from_file_name("venv.sbom.spdx.json"),
            Some(("venv", SbomFormat::SpdxJson))
        );
        assert_eq!(SbomFormat::from_file_name("x.sbom.xml.json"), None);
        assert_eq!(SbomFormat::from_file_name("venv.toml"), None);
    }

    #[test]
    fn only_three_media_types() {
        for f in SbomFormat::ALL {
            assert_eq!(f.media_type().parse::<SbomFormat>(), Ok(f));
        }
        assert!("application/json".parse::<SbomFormat>().is_err());
        assert!("text/xml".parse::<SbomFormat>().is_err());
    }
}
