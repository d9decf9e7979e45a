//! What the pip and uv buildpacks share: the SBOM of a Python venv, (in [`python`]) the stack's
//! Python they both build with, and (in [`venv`]) the venv as a big base layer reused while only
//! packages are added, plus a small layer of the added packages.
//!
//! The list comes from the venv itself: its Python runs `importlib.metadata` and reports every
//! installed distribution with its version (and its `License-Expression` where the package
//! declares one). uv venvs have no pip, so `pip list` would not do for both. Packages are sorted
//! by name, so an unchanged venv gives byte-identical SBOM files and the image's SBOM layer keeps
//! its digest.
//!
//! ```no_run
//! # fn f() -> Result<(), python_sbom::ListPackagesError> {
//! let sbom = python_sbom::venv_sbom(std::path::Path::new("/layers/acme_pip/venv"))?;
//! assert!(sbom.packages().iter().any(|p| p.name() == "flask"));
//! # Ok(()) }
//! ```

pub mod bytecode;
pub mod python;
pub mod venv;

use std::path::{Path, PathBuf};
use std::process::Command;

use libbuildpack::sbom::{Package, Sbom};

/// Prints `[{"name", "version", "license"}]` for every distribution the interpreter sees, or only
/// for those in the dirs given as arguments.
const LIST_DISTRIBUTIONS: &str = r#"
import importlib.metadata as m, json, sys
out = {}
for d in (m.distributions(path=sys.argv[1:]) if len(sys.argv) > 1 else m.distributions()):
    name = d.metadata["Name"]
    if name:
        out[name] = {"name": name, "version": d.version, "license": d.metadata.get("License-Expression")}
print(json.dumps(list(out.values())))
"#;

/// One distribution as the venv's Python reports it.
#[derive(Debug, serde::Deserialize)]
struct Distribution {
    name: String,
    version: String,
    license: Option<String>,
}

/// Listing a venv's packages failed.
#[derive(Debug, thiserror::Error)]
pub enum ListPackagesError {
    /// The venv's Python could not be started.
    #[error(
        "could not run {} to list the installed packages for the SBOM",
        python.display()
    )]
    Spawn {
        /// The venv's Python.
        python: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It ran but failed, or printed something other than the package list.
    #[error(
        "{} could not list the installed packages for the SBOM: {why}",
        python.display()
    )]
    Failed {
        /// The venv's Python.
        python: PathBuf,
        /// Its stderr, or why its output was not understood.
        why: String,
    },
}

impl ListPackagesError {
    /// What the user can do (see `Buildpack::hint`).
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        Some(
            match self {
                Self::Spawn { .. } => {
                    "The venv looks incomplete: clear the build cache and build again."
                }
                Self::Failed { .. } => {
                    "The venv looks broken: clear the build cache and build again."
                }
            }
            .to_owned(),
        )
    }
}

/// The package URL of a `PyPI` distribution: the name lowercased, with `_` and `.` as `-`
/// (the purl spec's normalization for `pypi`).
///
/// ```
/// assert_eq!(python_sbom::purl("Flask_SQLAlchemy", "3.1.1"), "pkg:pypi/flask-sqlalchemy@3.1.1");
/// ```
#[must_use]
pub fn purl(name: &str, version: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    format!("pkg:pypi/{name}@{version}")
}

/// The SBOM of the venv at `venv`: every installed distribution, sorted by name.
///
/// # Errors
///
/// [`ListPackagesError`] when the venv's `bin/python` cannot run or its output is not a
/// package list.
pub fn venv_sbom(venv: &Path) -> Result<Sbom, ListPackagesError> {
    list(&venv.join("bin/python"), None)
}

/// The SBOM of the distributions in the site dir `site` only (a venv's delta layer), read with the
/// interpreter `python` (the stack's).
///
/// # Errors
///
/// [`ListPackagesError`] when `python` cannot run or its output is not a package list.
pub fn site_sbom(python: &Path, site: &Path) -> Result<Sbom, ListPackagesError> {
    list(python, Some(site))
}

fn list(python: &Path, site: Option<&Path>) -> Result<Sbom, ListPackagesError> {
    let python = python.to_path_buf();
    let output = Command::new(&python)
        // Isolated: no PYTHONPATH or user site-packages leak into the list.
        .args(["-I", "-c", LIST_DISTRIBUTIONS])
        .args(site)
        // Listing must not change the venv: a .pth file imports a module at startup, and a rewritten .pyc
        // would give an unchanged venv a new layer digest.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|source| ListPackagesError::Spawn {
            python: python.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(ListPackagesError::Failed {
            python,
            why: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    let distributions: Vec<Distribution> =
        serde_json::from_slice(&output.stdout).map_err(|e| ListPackagesError::Failed {
            python,
            why: format!("unexpected output ({e})"),
        })?;
    Ok(sbom_of(distributions))
}

fn sbom_of(mut distributions: Vec<Distribution>) -> Sbom {
    distributions.sort_by(|a, b| {
        (a.name.to_ascii_lowercase(), &a.version).cmp(&(b.name.to_ascii_lowercase(), &b.version))
    });
    distributions.into_iter().fold(Sbom::new(), |sbom, d| {
        let mut package = Package::new(&d.name)
            .version(&d.version)
            .purl(purl(&d.name, &d.version));
        if let Some(license) = d.license.filter(|l| !l.trim().is_empty()) {
            package = package.license(license);
        }
        sbom.package(package)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A venv (without pip) that the host's python3 makes at `dir/venv`; `None`, said on stderr, where it cannot
    /// (the test is then skipped).
    pub(crate) fn python_venv(dir: &Path) -> Option<PathBuf> {
        let venv = dir.join("venv");
        let made = Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv)
            .status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: python3 -m venv is not available here");
            return None;
        }
        Some(venv)
    }

    #[test]
    fn packages_are_sorted_and_get_pypi_purls() {
        let sbom = sbom_of(vec![
            Distribution {
                name: "Werkzeug".into(),
                version: "3.0.3".into(),
                license: None,
            },
            Distribution {
                name: "blinker".into(),
                version: "1.8.2".into(),
                license: Some("MIT".into()),
            },
        ]);
        let names: Vec<&str> = sbom.packages().iter().map(Package::name).collect();
        assert_eq!(names, ["blinker", "Werkzeug"]);
        let cdx = String::from_utf8(sbom.to_cyclonedx_json("t venv").unwrap()).unwrap();
        assert!(cdx.contains("pkg:pypi/werkzeug@3.0.3"), "{cdx}");
        assert!(cdx.contains("\"MIT\""), "{cdx}");
    }

    #[test]
    fn lists_a_real_venv() {
        let dir = tempfile::tempdir().unwrap();
        let Some(venv) = python_venv(dir.path()) else {
            return;
        };
        // An empty venv lists no packages, but the call must work.
        let sbom = venv_sbom(&venv).unwrap();
        assert!(
            sbom.packages().iter().all(|p| p.name() != "flask"),
            "{sbom:?}"
        );
    }

    #[test]
    fn a_missing_python_says_what_to_do() {
        let err = venv_sbom(Path::new("/nonexistent/venv")).unwrap_err();
        assert!(
            err.hint().unwrap().contains("clear the build cache"),
            "{err}"
        );
        assert_eq!(
            libbuildpack::testing::assert_causes_not_repeated(&err),
            [
                "could not run /nonexistent/venv/bin/python to list the installed packages for the SBOM",
                "No such file or directory (os error 2)"
            ]
        );
    }
}
