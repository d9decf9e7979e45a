//! What the app asks for: the `Aptfile` (one Debian package per line, `#` comments), or the typed form in
//! `project.toml`:
//!
//! ```toml
//! [com.libbuildpack.apt]
//! packages = ["libmagic1", "poppler-utils"]
//! install-recommends = false
//! ```
//!
//! Both may be given; their packages are merged. A package is a Debian package name, optionally pinned to a
//! version (`libmagic1=1:5.44-3`) or taken from another suite of the configured sources
//! (`libmagic1/bookworm-backports`). Anything else (URLs, options, shell) is refused with the file and line,
//! as the names are handed to apt.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The plain list.
pub const APTFILE: &str = "Aptfile";
/// The file with the typed form.
pub const PROJECT_TOML: &str = "project.toml";

/// The packages the app asks for, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The packages as written (validated), sorted and without duplicates.
    pub packages: BTreeSet<String>,
    /// Whether apt also installs the packages' recommendations (default: no; they are rarely needed at
    /// run time and often large).
    pub install_recommends: bool,
    /// The files the request came from, for the build log.
    pub sources: Vec<&'static str>,
}

/// `[com.libbuildpack.apt]` of project.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Typed {
    #[serde(default)]
    packages: Vec<String>,
    #[serde(default)]
    install_recommends: bool,
}

#[derive(Debug, Default, Deserialize)]
struct ProjectToml {
    #[serde(default)]
    com: Com,
}

#[derive(Debug, Default, Deserialize)]
struct Com {
    #[serde(default)]
    libbuildpack: Libbuildpack,
}

#[derive(Debug, Default, Deserialize)]
struct Libbuildpack {
    apt: Option<Typed>,
}

/// The app's request could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadRequestError {
    /// A file could not be read.
    #[error("could not read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// project.toml is not valid TOML, or its `[com.libbuildpack.apt]` has unknown or mistyped fields.
    #[error("{} is not valid: {message}", path.display())]
    ProjectToml {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the position.
        message: String,
    },
    /// An entry is not a Debian package name.
    #[error(
        "{file}, {location}: `{entry}` is not a Debian package name.\nWrite one package per line, e.g. `libmagic1`, \
         optionally with a version (`libmagic1=1:5.44-3`) or a suite (`libmagic1/bookworm-backports`); `#` starts \
         a comment. URLs and apt options are not accepted."
    )]
    InvalidPackage {
        /// `Aptfile` or `project.toml`.
        file: &'static str,
        /// `line 3` or `packages[2]`.
        location: String,
        /// What was written.
        entry: String,
    },
}

impl Request {
    /// Whether the app has an Aptfile or an `[com.libbuildpack.apt]` table: what detect checks.
    /// A project.toml that cannot be read counts as none here: detect must not fail the whole build for it
    /// (the build step reports it when there is an Aptfile).
    #[must_use]
    pub fn exists(app: &Path) -> bool {
        app.join(APTFILE).is_file() || read_typed(app).is_ok_and(|typed| typed.is_some())
    }

    /// Reads the Aptfile and project.toml of the app at `app`.
    ///
    /// # Errors
    ///
    /// [`ReadRequestError`] naming the file (and line) that cannot be read or holds something that is not a
    /// package.
    pub fn load(app: &Path) -> Result<Self, ReadRequestError> {
        let mut request = Self::default();
        if let Some(text) = read_optional(&app.join(APTFILE))? {
            request.sources.push(APTFILE);
            for (number, line) in text.lines().enumerate() {
                let line = line.split_once('#').map_or(line, |(kept, _)| kept);
                for entry in line.split_whitespace() {
                    request.add(APTFILE, || format!("line {}", number + 1), entry)?;
                }
            }
        }
        if let Some(typed) = read_typed(app)? {
            request.sources.push(PROJECT_TOML);
            for (index, entry) in typed.packages.iter().enumerate() {
                request.add(PROJECT_TOML, || format!("packages[{index}]"), entry)?;
            }
            request.install_recommends |= typed.install_recommends;
        }
        Ok(request)
    }

    fn add(
        &mut self,
        file: &'static str,
        location: impl Fn() -> String,
        entry: &str,
    ) -> Result<(), ReadRequestError> {
        if !is_package_spec(entry) {
            return Err(ReadRequestError::InvalidPackage {
                file,
                location: location(),
                entry: entry.to_string(),
            });
        }
        self.packages.insert(entry.to_string());
        Ok(())
    }
}

/// The package name of a spec: `libmagic1` of `libmagic1=1:5.44-3` or `libmagic1/bookworm-backports`.
#[must_use]
pub fn name_of(spec: &str) -> &str {
    spec.split(['=', '/']).next().unwrap_or(spec)
}

/// Debian policy 5.6.1: a name is lowercase letters, digits, `+`, `-` and `.`, at least two characters,
/// starting with a letter or digit. Versions (5.6.12) add `:` and `~` and uppercase letters; suites are
/// like names.
fn is_package_spec(spec: &str) -> bool {
    let is_name = |s: &str| {
        s.len() >= 2
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
    };
    let Some(at) = spec.find(['=', '/']) else {
        return is_name(spec);
    };
    let (name, rest) = spec.split_at(at);
    if let Some(version) = rest.strip_prefix('=') {
        is_name(name)
            && version.starts_with(|c: char| c.is_ascii_digit())
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+-~:".contains(c))
    } else {
        let suite = &rest[1..];
        is_name(name)
            && !suite.is_empty()
            && suite
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, ReadRequestError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReadRequestError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn read_typed(app: &Path) -> Result<Option<Typed>, ReadRequestError> {
    let path = app.join(PROJECT_TOML);
    let Some(text) = read_optional(&path)? else {
        return Ok(None);
    };
    let project: ProjectToml =
        toml::from_str(&text).map_err(|e| ReadRequestError::ProjectToml {
            path,
            message: e.to_string().trim().to_string(),
        })?;
    Ok(project.com.libbuildpack.apt)
}
