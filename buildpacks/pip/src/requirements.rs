//! The requirements pip installs: the app's `requirements.txt` (and the files it includes), plus the
//! packages other buildpacks ask for through the build plan (`pip-packages`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;
use libbuildpack::redact;
use python_sbom::python::normalize;
use sha2::{Digest, Sha256};

/// The build plan entry other buildpacks require to get packages installed.
pub const PLAN_ENTRY: &str = "pip-packages";

/// Reading a requirements file failed.
#[derive(Debug, thiserror::Error)]
#[error("could not read {}", path.display())]
pub struct ReadRequirementsError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// What the build plan adds: `packages` to install, and app requirements they `replace` (a GPU
/// variant replaces the CPU package of the same framework).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanPackages {
    /// Requirement lines to add, e.g. `onnxruntime-gpu==1.20.1`.
    pub packages: Vec<String>,
    /// Normalised names of app requirements to drop.
    pub replaces: BTreeSet<String>,
    /// Who asked, for the log (`requested-by` in the entries' metadata).
    pub requested_by: Vec<String>,
}

impl PlanPackages {
    /// Collects the `pip-packages` entries of the buildpack plan. Metadata keys read: `packages`
    /// and `replaces` (string arrays) and `requested-by` (string); others are ignored.
    #[must_use]
    pub fn from_plan(plan: &BuildpackPlan) -> Self {
        let mut out = Self::default();
        let strings = |value: Option<&toml::Value>| -> Vec<String> {
            value
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(toml::Value::as_str)
                .map(str::to_string)
                .collect()
        };
        for entry in plan.entries_named(PLAN_ENTRY) {
            out.packages.extend(strings(entry.metadata.get("packages")));
            out.replaces.extend(
                strings(entry.metadata.get("replaces"))
                    .iter()
                    .map(|name| normalize(name)),
            );
            if let Some(by) = entry
                .metadata
                .get("requested-by")
                .and_then(toml::Value::as_str)
            {
                out.requested_by.push(by.to_string());
            }
        }
        out
    }
}

/// The requirements to install, as one file's text, and a hash of everything they depend on.
///
/// A password typed into a URL in a requirements file (`--index-url https://user:password@...`,
/// `pkg @ https://user:password@...`) reaches pip, and nothing that outlives the build: the venv records
/// [`recorded`](Self::recorded), the hash covers the files with their passwords masked (a changed password
/// alone does not rebuild the venv), and [`mask_app_files`](Self::mask_app_files) masks them in the app's
/// copies, which go into the image.
#[derive(Clone, PartialEq, Eq)]
pub struct Requirements {
    /// The text handed to `pip install -r`: include paths made absolute, replaced lines commented
    /// out, plan packages appended. It may hold passwords: it is never written into a layer.
    pub text: String,
    /// [`text`](Self::text) with the password of every URL masked: what the venv records.
    pub recorded: String,
    /// sha256 of the app's requirement files (every included file too, passwords masked) and the plan packages.
    pub sha256: String,
    /// The passwords found in URLs of the requirement files.
    pub passwords: Vec<String>,
    /// The requirement files in the app dir that hold a password.
    pub files_with_passwords: Vec<PathBuf>,
}

impl std::fmt::Debug for Requirements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the passwords, not even in a panic message.
        f.debug_struct("Requirements")
            .field("recorded", &self.recorded)
            .field("sha256", &self.sha256)
            .field("files_with_passwords", &self.files_with_passwords)
            .finish_non_exhaustive()
    }
}

impl Requirements {
    /// Reads `requirements.txt` in `app_dir` and the files it includes with `-r`/`-c`.
    ///
    /// # Errors
    ///
    /// [`ReadRequirementsError`] naming a file that cannot be read.
    pub fn load(app_dir: &Path, plan: &PlanPackages) -> Result<Self, ReadRequirementsError> {
        let mut hasher = Sha256::new();
        let mut seen = BTreeSet::new();
        let mut passwords = Vec::new();
        let mut files_with_passwords = Vec::new();
        let root = app_dir.join("requirements.txt");
        let root_text = read(&root)?;
        // Every included file changes what gets installed, so it is part of the hash.
        let mut pending = vec![(root.clone(), root_text.clone())];
        while let Some((path, text)) = pending.pop() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let relative = path.strip_prefix(app_dir).unwrap_or(&path);
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update([0]);
            hasher.update(redact::mask_url_passwords(&text).as_bytes());
            hasher.update([0]);
            let found = redact::url_passwords(&text);
            if !found.is_empty() {
                passwords.extend(found.into_iter().map(str::to_owned));
                if path.starts_with(app_dir) {
                    files_with_passwords.push(path.clone());
                }
            }
            let dir = path.parent().unwrap_or(app_dir);
            for include in text.lines().filter_map(include_of) {
                let included = dir.join(include);
                let included_text = read(&included)?;
                pending.push((included, included_text));
            }
        }
        for package in &plan.packages {
            hasher.update(b"plan:");
            hasher.update(package.as_bytes());
            hasher.update([0]);
        }
        for name in &plan.replaces {
            hasher.update(b"replaces:");
            hasher.update(name.as_bytes());
            hasher.update([0]);
        }
        let text = effective_text(app_dir, &root_text, plan);
        passwords.sort();
        passwords.dedup();
        files_with_passwords.sort();
        Ok(Self {
            recorded: redact::mask_url_passwords(&text),
            text,
            sha256: hex(&hasher.finalize()),
            passwords,
            files_with_passwords,
        })
    }

    /// Masks the URL passwords in the app's requirement files that hold one, so the image's copies of them
    /// (in the app layer) do not hold it.
    ///
    /// # Errors
    /// [`ReadRequirementsError`] naming a file that cannot be rewritten.
    pub fn mask_app_files(&self) -> Result<(), ReadRequirementsError> {
        for path in &self.files_with_passwords {
            let text = read(path)?;
            std::fs::write(path, redact::mask_url_passwords(&text)).map_err(|source| {
                ReadRequirementsError {
                    path: path.clone(),
                    source,
                }
            })?;
        }
        Ok(())
    }
}

fn read(path: &Path) -> Result<String, ReadRequirementsError> {
    std::fs::read_to_string(path).map_err(|source| ReadRequirementsError {
        path: path.to_path_buf(),
        source,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The file a `-r`/`-c` line includes.
fn include_of(line: &str) -> Option<&str> {
    let line = line.trim();
    ["--requirement", "--constraint", "-r", "-c"]
        .iter()
        .find_map(|flag| line.strip_prefix(flag))
        .map(|rest| rest.trim_start_matches('=').trim())
        .filter(|path| !path.is_empty() && !path.contains("://"))
}

fn effective_text(app_dir: &Path, text: &str, plan: &PlanPackages) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if let Some(include) = include_of(line) {
            // The file is handed to pip from outside the app dir, so includes must not be relative.
            let flag = if line.trim_start().starts_with("-c")
                || line.trim_start().starts_with("--constraint")
            {
                "-c"
            } else {
                "-r"
            };
            let _ = writeln!(out, "{flag} {}", app_dir.join(include).display());
        } else if name_of(line).is_some_and(|name| plan.replaces.contains(&name)) {
            let _ = writeln!(out, "# replaced through the build plan: {line}");
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    if !plan.packages.is_empty() {
        let _ = writeln!(
            out,
            "# added through the build plan ({})",
            plan.requested_by.join(", ")
        );
        for package in &plan.packages {
            let _ = writeln!(out, "{package}");
        }
    }
    out
}

/// The normalised (PEP 503) name a requirement line installs; `None` for comments, options and
/// paths/URLs without a name.
#[must_use]
pub fn name_of(line: &str) -> Option<String> {
    let line = line.split(" #").next().unwrap_or_default().trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(line.len());
    let name = &line[..end];
    let rest = line[end..].trim_start();
    // `./pkg`, `pkg.whl` and URLs are paths, not names.
    if name.is_empty()
        || rest.starts_with('/')
        || rest.starts_with(':')
        || name.to_ascii_lowercase().ends_with(".whl")
    {
        return None;
    }
    Some(normalize(name))
}

/// The names in `old` that are no longer in `new` (both requirement texts).
#[must_use]
pub fn removed_names(old: &str, new: &str) -> Vec<String> {
    let names = |text: &str| -> BTreeSet<String> { text.lines().filter_map(name_of).collect() };
    let new = names(new);
    names(old)
        .into_iter()
        .filter(|n| !new.contains(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name_of("Flask==3.0.3").as_deref(), Some("flask"));
        assert_eq!(
            name_of("uvicorn[standard]>=0.30 ; python_version>'3'").as_deref(),
            Some("uvicorn")
        );
        assert_eq!(
            name_of("Zope.Interface_x ~= 6").as_deref(),
            Some("zope-interface-x")
        );
        assert_eq!(
            name_of("pkg @ https://example.invalid/pkg.whl").as_deref(),
            Some("pkg")
        );
        assert_eq!(name_of("# comment"), None);
        assert_eq!(name_of("-r other.txt"), None);
        assert_eq!(name_of("./local/pkg"), None);
        assert_eq!(name_of("https://example.invalid/x.whl"), None);
    }

    #[test]
    fn hash_covers_includes_and_plan() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            "-r base.txt\nflask==3.0.3\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("base.txt"), "itsdangerous\n").unwrap();
        let no_plan = PlanPackages::default();
        let a = Requirements::load(dir.path(), &no_plan).unwrap();
        assert!(
            a.text
                .starts_with(&format!("-r {}\n", dir.path().join("base.txt").display()))
        );

        std::fs::write(dir.path().join("base.txt"), "itsdangerous==2.2.0\n").unwrap();
        let b = Requirements::load(dir.path(), &no_plan).unwrap();
        assert_ne!(a.sha256, b.sha256, "an included file changed");

        let plan = PlanPackages {
            packages: vec!["onnxruntime-gpu==1.20.1".into()],
            replaces: ["flask".to_string()].into(),
            requested_by: vec!["libbuildpack/ml".into()],
        };
        let c = Requirements::load(dir.path(), &plan).unwrap();
        assert_ne!(b.sha256, c.sha256);
        assert!(
            c.text
                .contains("# replaced through the build plan: flask==3.0.3\n"),
            "{}",
            c.text
        );
        assert!(
            c.text.ends_with(
                "# added through the build plan (libbuildpack/ml)\nonnxruntime-gpu==1.20.1\n"
            ),
            "{}",
            c.text
        );
    }

    #[test]
    fn passwords_in_urls_reach_pip_only() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path();
        std::fs::write(
            app.join("requirements.txt"),
            "--index-url https://ci:pw-index@127.0.0.1:1/simple/\n-r base.txt\nflask==3.0.3\n",
        )
        .unwrap();
        std::fs::write(
            app.join("base.txt"),
            "probe @ https://u:pw-direct@127.0.0.1:1/probe-1.0-py3-none-any.whl\n",
        )
        .unwrap();
        let with = Requirements::load(app, &PlanPackages::default()).unwrap();
        assert!(with.text.contains("ci:pw-index@"), "pip gets the password");
        assert_eq!(with.passwords, ["pw-direct", "pw-index"]);
        assert_eq!(
            with.files_with_passwords,
            [app.join("base.txt"), app.join("requirements.txt")]
        );
        assert!(!with.recorded.contains("pw-"), "{}", with.recorded);
        assert!(
            with.recorded.contains("ci:****@127.0.0.1"),
            "{}",
            with.recorded
        );
        assert!(!format!("{with:?}").contains("pw-"));

        // Another password alone keeps the hash (and so the venv).
        std::fs::write(
            app.join("requirements.txt"),
            "--index-url https://ci:rotated@127.0.0.1:1/simple/\n-r base.txt\nflask==3.0.3\n",
        )
        .unwrap();
        let rotated = Requirements::load(app, &PlanPackages::default()).unwrap();
        assert_eq!(rotated.sha256, with.sha256);

        rotated.mask_app_files().unwrap();
        for file in ["requirements.txt", "base.txt"] {
            let text = std::fs::read_to_string(app.join(file)).unwrap();
            assert!(text.contains(":****@127.0.0.1"), "{file}: {text}");
        }
        let masked = Requirements::load(app, &PlanPackages::default()).unwrap();
        assert!(masked.passwords.is_empty() && masked.files_with_passwords.is_empty());
    }

    #[test]
    fn missing_include_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("requirements.txt"), "-r nope.txt\n").unwrap();
        let err = Requirements::load(dir.path(), &PlanPackages::default()).unwrap_err();
        assert!(err.path.ends_with("nope.txt"));
    }

    #[test]
    fn plan_entries_are_collected() {
        let plan = BuildpackPlan::from_toml_str(
            "[[entries]]\nname = \"pip-packages\"\n[[entries]]\nname = \"pip-packages\"\n[entries.metadata]\npackages = [\"onnxruntime-gpu\"]\nreplaces = [\"ONNXRuntime\"]\nrequested-by = \"libbuildpack/ml\"\n",
            "plan.toml",
        )
        .unwrap();
        let packages = PlanPackages::from_plan(&plan);
        assert_eq!(packages.packages, ["onnxruntime-gpu"]);
        assert!(packages.replaces.contains("onnxruntime"));
        assert_eq!(packages.requested_by, ["libbuildpack/ml"]);
    }

    #[test]
    fn removed() {
        assert_eq!(
            removed_names("flask\nrequests==2\n", "Flask==3\n"),
            ["requests"]
        );
    }
}
