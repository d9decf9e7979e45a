//! Validated names: buildpack ids and versions, layer names and process types.
//!
//! Each type checks its value when it is made (`FromStr`, `TryFrom<String>`, deserializing),
//! so a value of the type is always valid. The macros [`buildpack_id!`](crate::buildpack_id),
//! [`layer_name!`](crate::layer_name) and [`process_type!`](crate::process_type) check a
//! literal at compile time.

use std::fmt;
use std::str::FromStr;

/// A value that is not valid for one of the name types in this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}; {valid}")]
pub struct InvalidName {
    /// What kind of name was rejected ("buildpack id", "layer name", ...).
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
    /// Why it was rejected.
    pub reason: &'static str,
    /// What a valid value looks like.
    pub valid: &'static str,
}

// `<[u8]>::eq_ignore_ascii_case` is not `const` at the crate's minimum Rust version.
#[allow(clippy::manual_ignore_case_cmp)]
const fn bytes_eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i].to_ascii_lowercase() != b[i].to_ascii_lowercase() {
            return false;
        }
        i += 1;
    }
    true
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Checks a buildpack id: `[A-Za-z0-9./-]+`, not `.` or `..`, and not `app`, `config`, `generated`
/// or `sbom` in any letter case. Usable in `const` contexts.
///
/// # Errors
///
/// A short reason when the id is invalid.
pub const fn check_buildpack_id(id: &str) -> Result<(), &'static str> {
    let b = id.as_bytes();
    if b.is_empty() {
        return Err("it is empty");
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_alphanumeric() || c == b'.' || c == b'/' || c == b'-') {
            return Err("it contains a character other than letters, digits, '.', '/' and '-'");
        }
        i += 1;
    }
    // The escaped id names a directory (`/cnb/buildpacks/<id>`, `/layers/<id>`): `.` and `..` would be the
    // parent or the directory itself, and no tool could read such a buildpack back.
    if bytes_eq(b, b".") || bytes_eq(b, b"..") {
        return Err("`.` and `..` cannot name a directory");
    }
    let reserved: [&[u8]; 4] = [b"app", b"config", b"generated", b"sbom"];
    let mut r = 0;
    while r < reserved.len() {
        if bytes_eq_ignore_case(b, reserved[r]) {
            return Err("app, config, generated and sbom are reserved");
        }
        r += 1;
    }
    Ok(())
}

/// Checks a buildpack version: strict `X.Y.Z`, each part an unsigned integer with no leading
/// zeros. Usable in `const` contexts.
///
/// # Errors
///
/// A short reason when the version is invalid.
pub const fn check_buildpack_version(version: &str) -> Result<(), &'static str> {
    let b = version.as_bytes();
    let mut parts = 0;
    let mut part_len = 0;
    let mut part_start_zero = false;
    let mut i = 0;
    while i <= b.len() {
        if i == b.len() || b[i] == b'.' {
            if part_len == 0 {
                return Err("it needs three numbers separated by dots");
            }
            if part_start_zero && part_len > 1 {
                return Err("a number has a leading zero");
            }
            parts += 1;
            part_len = 0;
        } else if b[i].is_ascii_digit() {
            if part_len == 0 {
                part_start_zero = b[i] == b'0';
            }
            part_len += 1;
        } else {
            return Err("it may contain only digits and dots (no pre-release or build suffix)");
        }
        i += 1;
    }
    if parts != 3 {
        return Err("it needs exactly three numbers separated by dots");
    }
    Ok(())
}

/// Checks a layer name: not empty, not `build`, `launch` or `store`, and without `.`, `/`,
/// `\` or NUL. Usable in `const` contexts.
///
/// # Errors
///
/// A short reason when the name is invalid.
pub const fn check_layer_name(name: &str) -> Result<(), &'static str> {
    let b = name.as_bytes();
    if b.is_empty() {
        return Err("it is empty");
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'.' || c == b'/' || c == b'\\' || c == 0 {
            return Err("it contains '.', '/', '\\' or NUL");
        }
        i += 1;
    }
    if bytes_eq(b, b"build") || bytes_eq(b, b"launch") || bytes_eq(b, b"store") {
        return Err("build, launch and store are reserved for the buildpack's own files");
    }
    Ok(())
}

/// Checks a process type: `[A-Za-z0-9._-]+`. Usable in `const` contexts.
///
/// # Errors
///
/// A short reason when the type is invalid.
pub const fn check_process_type(process_type: &str) -> Result<(), &'static str> {
    let b = process_type.as_bytes();
    if b.is_empty() {
        return Err("it is empty");
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-') {
            return Err("it contains a character other than letters, digits, '.', '_' and '-'");
        }
        i += 1;
    }
    Ok(())
}

macro_rules! name_type {
    (
        $(#[$meta:meta])*
        $name:ident, $check:ident, $kind:literal, $valid:literal
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Checks `value` and makes a ", $kind, " from it.")]
            ///
            /// # Errors
            ///
            /// [`InvalidName`] saying why the value is rejected and what a valid one looks like.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidName> {
                let value = value.into();
                match $check(&value) {
                    Ok(()) => Ok(Self(value)),
                    Err(reason) => Err(InvalidName {
                        kind: $kind,
                        value,
                        reason,
                        valid: $valid,
                    }),
                }
            }

            /// The value as a string slice.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            #[doc(hidden)]
            #[must_use]
            pub fn __from_checked_literal(value: &'static str) -> Self {
                Self(value.to_string())
            }
        }

        impl FromStr for $name {
            type Err = InvalidName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidName;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidName;

            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// Checks an environment variable name as exec.d output keys and env files need it:
/// `^[A-Za-z_][A-Za-z0-9_]*$` (a POSIX name, which is also a TOML bare key). Usable in `const`
/// contexts.
///
/// # Errors
///
/// A short reason when the name is invalid.
pub const fn check_env_var_name(value: &str) -> Result<(), &'static str> {
    let b = value.as_bytes();
    if b.is_empty() {
        return Err("it is empty");
    }
    if b[0].is_ascii_digit() {
        return Err("it starts with a digit");
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_alphanumeric() || c == b'_') {
            return Err("it contains a character other than letters, digits and '_'");
        }
        i += 1;
    }
    Ok(())
}

name_type!(
    /// A buildpack id such as `acme/pip`: letters, digits, `.`, `/` and `-`; not `.`, `..`, `app`,
    /// `config`, `generated` or `sbom` in any case.
    ///
    /// ```
    /// use libbuildpack::data::BuildpackId;
    /// let id: BuildpackId = "acme/pip".parse()?;
    /// assert_eq!(id.escaped(), "acme_pip");
    /// assert!("acme_pip".parse::<BuildpackId>().is_err());
    /// # Ok::<(), libbuildpack::data::InvalidName>(())
    /// ```
    BuildpackId,
    check_buildpack_id,
    "buildpack id",
    "a valid id uses only letters, digits, '.', '/' and '-', e.g. \"acme/pip\""
);

name_type!(
    /// A buildpack version: strict `X.Y.Z` with no leading zeros and no suffix.
    ///
    /// ```
    /// use libbuildpack::data::BuildpackVersion;
    /// assert!("1.2.3".parse::<BuildpackVersion>().is_ok());
    /// assert!("1.02.3".parse::<BuildpackVersion>().is_err());
    /// ```
    BuildpackVersion,
    check_buildpack_version,
    "buildpack version",
    "a valid version is three numbers without leading zeros, e.g. \"0.1.0\""
);

name_type!(
    /// The name of a layer in a buildpack's layers dir.
    ///
    /// ```
    /// use libbuildpack::data::LayerName;
    /// assert!("venv".parse::<LayerName>().is_ok());
    /// assert!("launch".parse::<LayerName>().is_err());
    /// ```
    LayerName,
    check_layer_name,
    "layer name",
    "a valid name is a non-empty file name without '.' or '/' other than build, launch and store, e.g. \"venv\""
);

name_type!(
    /// A process type such as `web`: letters, digits, `.`, `_` and `-`.
    ///
    /// ```
    /// use libbuildpack::data::ProcessType;
    /// assert!("web".parse::<ProcessType>().is_ok());
    /// assert!("web server".parse::<ProcessType>().is_err());
    /// ```
    ProcessType,
    check_process_type,
    "process type",
    "a valid type uses only letters, digits, '.', '_' and '-', e.g. \"web\""
);

impl BuildpackId {
    /// The id as used in paths: every `/` replaced by `_`.
    #[must_use]
    pub fn escaped(&self) -> String {
        self.0.replace('/', "_")
    }
}

name_type!(
    /// An environment variable name such as `JAVA_OPTS`: letters, digits and `_`, not
    /// starting with a digit. exec.d output keys and env file names use it.
    ///
    /// ```
    /// use libbuildpack::data::EnvVarName;
    /// assert!("JAVA_OPTS".parse::<EnvVarName>().is_ok());
    /// assert!("1X".parse::<EnvVarName>().is_err());
    /// assert!("A-B".parse::<EnvVarName>().is_err());
    /// ```
    EnvVarName,
    check_env_var_name,
    "env variable name",
    "a valid name uses only letters, digits and '_' and does not start with a digit, e.g. \"JAVA_OPTS\""
);

/// Makes a [`BuildpackId`](crate::data::BuildpackId) from a literal, checked at compile time.
///
/// ```
/// let id = libbuildpack::buildpack_id!("acme/pip");
/// assert_eq!(id.as_str(), "acme/pip");
/// ```
///
/// An invalid literal does not compile:
///
/// ```compile_fail
/// let id = libbuildpack::buildpack_id!("acme_pip");
/// ```
#[macro_export]
macro_rules! buildpack_id {
    ($value:literal) => {{
        const _: () = match $crate::data::ids::check_buildpack_id($value) {
            Ok(()) => (),
            Err(reason) => panic!("{}", reason),
        };
        $crate::data::BuildpackId::__from_checked_literal($value)
    }};
}

/// Makes a [`LayerName`](crate::data::LayerName) from a literal, checked at compile time.
///
/// ```
/// let name = libbuildpack::layer_name!("venv");
/// assert_eq!(name.as_str(), "venv");
/// ```
///
/// ```compile_fail
/// let name = libbuildpack::layer_name!("store");
/// ```
#[macro_export]
macro_rules! layer_name {
    ($value:literal) => {{
        const _: () = match $crate::data::ids::check_layer_name($value) {
            Ok(()) => (),
            Err(reason) => panic!("{}", reason),
        };
        $crate::data::LayerName::__from_checked_literal($value)
    }};
}

/// Makes an [`EnvVarName`](crate::data::EnvVarName) from a literal, checked at compile time.
///
/// ```
/// let name = libbuildpack::env_var_name!("PORT");
/// assert_eq!(name.as_str(), "PORT");
/// ```
///
/// ```compile_fail
/// let bad = libbuildpack::env_var_name!("A-B");
/// ```
#[macro_export]
macro_rules! env_var_name {
    ($value:literal) => {{
        const _: () = match $crate::data::ids::check_env_var_name($value) {
            Ok(()) => (),
            Err(reason) => panic!("{}", reason),
        };
        $crate::data::EnvVarName::__from_checked_literal($value)
    }};
}

/// Makes a [`ProcessType`](crate::data::ProcessType) from a literal, checked at compile time.
///
/// ```
/// let web = libbuildpack::process_type!("web");
/// assert_eq!(web.as_str(), "web");
/// ```
///
/// ```compile_fail
/// let bad = libbuildpack::process_type!("web/server");
/// ```
#[macro_export]
macro_rules! process_type {
    ($value:literal) => {{
        const _: () = match $crate::data::ids::check_process_type($value) {
            Ok(()) => (),
            Err(reason) => panic!("{}", reason),
        };
        $crate::data::ProcessType::__from_checked_literal($value)
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names() {
        for ok in ["A", "_X", "JAVA_OPTS", "a1"] {
            assert!(EnvVarName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1A", "A-B", "A.B", "A B", "A=B"] {
            assert!(EnvVarName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn buildpack_ids() {
        for ok in ["acme/pip", "io.buildpacks.x", "a-b", "A9", "sbom2", "x/app"] {
            assert!(BuildpackId::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a_b",
            "a b",
            "app",
            "APP",
            "Config",
            "generated",
            "sBoM",
            "é",
            "a:b",
            ".",
            "..",
        ] {
            assert!(BuildpackId::new(bad).is_err(), "{bad}");
        }
        assert_eq!(buildpack_id!("a/b/c").escaped(), "a_b_c");
    }

    #[test]
    fn ids_that_escape_to_dot_or_dot_dot_are_refused() {
        // Found by the names fuzz target: the escaped id is a dir name (`<layers>/<id>`), and `..` named the
        // parent of the layers dir.
        for bad in [".", ".."] {
            assert!(BuildpackId::new(bad).is_err(), "{bad}");
        }
        for ok in ["...", "./a", "a/..", ".a"] {
            let id = BuildpackId::new(ok).unwrap();
            assert!(!matches!(id.escaped().as_str(), "." | ".."), "{ok}");
        }
    }

    #[test]
    fn buildpack_id_error_says_what_is_valid() {
        let err = BuildpackId::new("acme_pip").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid buildpack id \"acme_pip\": it contains a character other than letters, digits, '.', '/' and '-'; a valid id uses only letters, digits, '.', '/' and '-', e.g. \"acme/pip\""
        );
    }

    #[test]
    fn buildpack_versions() {
        for ok in ["0.0.0", "1.2.3", "10.20.30", "0.10.0"] {
            assert!(BuildpackVersion::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.2",
            "1.02.3",
            "01.2.3",
            "1.2.3-rc1",
            "1.2.3+b",
            "1.2.3.4",
            "1..3",
            ".1.2",
            "1.2.",
            "v1.2.3",
        ] {
            assert!(BuildpackVersion::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn layer_names() {
        for ok in ["venv", "a-b", "A_b", "builds", "Launch"] {
            assert!(LayerName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "build", "launch", "store", "a.b", "a/b", ".", ".."] {
            assert!(LayerName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn process_types() {
        for ok in ["web", "worker-1", "a.b_c"] {
            assert!(ProcessType::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", "a:b", "a|b"] {
            assert!(ProcessType::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_validates() {
        #[derive(serde::Deserialize, serde::Serialize)]
        struct T {
            id: BuildpackId,
        }
        assert!(toml::from_str::<T>("id = \"a_b\"").is_err());
        let t: T = toml::from_str("id = \"a/b\"").unwrap();
        assert_eq!(toml::to_string(&t).unwrap(), "id = \"a/b\"\n");
    }
}
