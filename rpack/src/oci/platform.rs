//! OCI platforms (`os/arch[/variant]`): the host's, one parsed from the command line, the one a descriptor
//! declares. Below `layout` and `index`, which both pick images by platform.

use std::fmt;
use std::str::FromStr;

use oci_spec::image::Descriptor;

/// The OCI architecture of this machine (`amd64`, `arm64`, or Rust's name for others).
#[must_use]
pub(crate) fn host_arch() -> &'static str {
    oci_arch(std::env::consts::ARCH)
}

/// The OCI (and Debian) name of a Rust architecture: `amd64` for `x86_64`, `arm64` for `aarch64`; others as
/// they are.
#[must_use]
pub(crate) fn oci_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// An OCI platform: `os/arch[/variant]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`.
    pub arch: String,
    /// `v8`, when given.
    pub variant: Option<String>,
}

/// A platform that is not `os/arch[/variant]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a platform: give os/arch, like linux/amd64 or linux/arm64")]
pub struct InvalidPlatform {
    /// What was given.
    pub given: String,
}

impl Platform {
    /// `os`/`arch`.
    #[must_use]
    pub fn new(os: &str, arch: &str) -> Self {
        Self {
            os: os.to_owned(),
            arch: arch.to_owned(),
            variant: None,
        }
    }

    /// The platform of this machine (`linux/amd64` on an x86-64 Linux host).
    #[must_use]
    pub fn host() -> Self {
        Self::new(std::env::consts::OS, host_arch())
    }

    /// Whether a descriptor's platform is this one (a variant counts only when both name one).
    #[must_use]
    pub(crate) fn matches(&self, descriptor: &Descriptor) -> bool {
        descriptor.platform().as_ref().is_some_and(|p| {
            p.os().to_string() == self.os
                && p.architecture().to_string() == self.arch
                && match (p.variant(), &self.variant) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        })
    }

    /// The platform a descriptor declares, if it declares one.
    #[must_use]
    pub(crate) fn of(descriptor: &Descriptor) -> Option<Self> {
        descriptor.platform().as_ref().map(|p| Self {
            os: p.os().to_string(),
            arch: p.architecture().to_string(),
            variant: p.variant().clone(),
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = InvalidPlatform;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidPlatform {
            given: s.to_owned(),
        };
        let parts: Vec<&str> = s.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(invalid());
        }
        match parts.as_slice() {
            [os, arch] => Ok(Self::new(os, arch)),
            [os, arch, variant] => Ok(Self {
                variant: Some((*variant).to_owned()),
                ..Self::new(os, arch)
            }),
            _ => Err(invalid()),
        }
    }
}
