//! Buildpack and Platform API versions (`api = "0.10"`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An API version: `<major>` or `<major>.<minor>`, as used by `buildpack.toml` `api`,
/// `CNB_PLATFORM_API` and `lifecycle.toml`.
///
/// Parsing is strict (no `v` prefix, no trailing `.`); `"1"` means `1.0`. [`Display`](fmt::Display)
/// always writes `<major>.<minor>`.
///
/// ```
/// use libbuildpack::data::ApiVersion;
/// let api: ApiVersion = "0.10".parse()?;
/// assert_eq!(api, ApiVersion::new(0, 10));
/// assert!(api > "0.9".parse()?);
/// assert_eq!("1".parse::<ApiVersion>()?.to_string(), "1.0");
/// # Ok::<(), libbuildpack::data::ApiVersionError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApiVersion {
    major: u64,
    minor: u64,
}

/// The Buildpack API version a buildpack declares in `buildpack.toml`.
pub type BuildpackApi = ApiVersion;

/// The Platform API version a platform speaks to the lifecycle (`CNB_PLATFORM_API`).
pub type PlatformApi = ApiVersion;

impl ApiVersion {
    /// Buildpack API 0.10: targets replace stacks.
    pub const V0_10: Self = Self::new(0, 10);
    /// Buildpack API 0.11.
    pub const V0_11: Self = Self::new(0, 11);
    /// Buildpack API 0.12: execution environments.
    pub const V0_12: Self = Self::new(0, 12);

    /// Makes a version from its parts.
    #[must_use]
    pub const fn new(major: u64, minor: u64) -> Self {
        Self { major, minor }
    }

    /// The major part.
    #[must_use]
    pub const fn major(self) -> u64 {
        self.major
    }

    /// The minor part.
    #[must_use]
    pub const fn minor(self) -> u64 {
        self.minor
    }

    /// Whether an implementation of API `self` can serve a consumer that declares `other`,
    /// by the lifecycle's rule: before 1.0 the versions must be equal; from 1.0 the majors
    /// must be equal and `self`'s minor must be at least `other`'s.
    #[must_use]
    pub const fn is_superset_of(self, other: Self) -> bool {
        if self.major == 0 {
            self.major == other.major && self.minor == other.minor
        } else {
            self.major == other.major && self.minor >= other.minor
        }
    }
}

/// A string that is not an API version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid API version {value:?}: expected <major> or <major>.<minor> with unsigned integers, e.g. \"0.10\""
)]
pub struct ApiVersionError {
    /// The rejected text.
    pub value: String,
}

impl FromStr for ApiVersion {
    type Err = ApiVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ApiVersionError {
            value: s.to_string(),
        };
        let part = |p: &str| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            p.parse::<u64>().map_err(|_| err())
        };
        match s.split_once('.') {
            Some((major, minor)) => Ok(Self::new(part(major)?, part(minor)?)),
            None => Ok(Self::new(part(s)?, 0)),
        }
    }
}

impl TryFrom<String> for ApiVersion {
    type Error = ApiVersionError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<ApiVersion> for String {
    fn from(value: ApiVersion) -> Self {
        value.to_string()
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spec_forms() {
        assert_eq!("0.10".parse(), Ok(ApiVersion::new(0, 10)));
        assert_eq!("1".parse(), Ok(ApiVersion::new(1, 0)));
        assert_eq!("12.345".parse(), Ok(ApiVersion::new(12, 345)));
    }

    #[test]
    fn rejects_loose_forms() {
        for bad in [
            "",
            "v0.10",
            "1.",
            ".1",
            "0.1.2",
            "a",
            "0.-1",
            " 0.1",
            "+1",
            "99999999999999999999",
        ] {
            assert!(
                bad.parse::<ApiVersion>().is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn orders_numerically() {
        assert!(ApiVersion::new(0, 10) > ApiVersion::new(0, 9));
        assert!(ApiVersion::new(1, 0) > ApiVersion::new(0, 12));
    }

    #[test]
    fn superset_rule() {
        assert!(ApiVersion::new(0, 12).is_superset_of(ApiVersion::new(0, 12)));
        assert!(!ApiVersion::new(0, 12).is_superset_of(ApiVersion::new(0, 11)));
        assert!(ApiVersion::new(1, 3).is_superset_of(ApiVersion::new(1, 2)));
        assert!(!ApiVersion::new(1, 2).is_superset_of(ApiVersion::new(1, 3)));
        assert!(!ApiVersion::new(2, 0).is_superset_of(ApiVersion::new(1, 0)));
    }

    #[test]
    fn display_is_strict() {
        assert_eq!(ApiVersion::new(0, 10).to_string(), "0.10");
    }
}
