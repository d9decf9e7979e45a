//! The decision, from file listings only: can the packages installed since the base layer was
//! built go into a delta layer of their own, or must the venv be one layer again?

use std::fmt;
use std::path::{Path, PathBuf};

use libbuildpack::tree::{EntryKind, Manifest};

/// A delta larger than this share of the base (in bytes of files) folds back into one layer: past
/// it, re-exporting the whole venv once is cheaper than carrying two big layers on every pull.
pub const MAX_DELTA_SHARE: f64 = 0.25;

/// What to do with the venv after an install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Keep the base layer as it is; these entries (relative to the venv, sorted, each directory
    /// before what it holds) make the delta layer. May be empty: the install added nothing.
    Delta(Vec<PathBuf>),
    /// Make the venv one fresh layer again, for this reason.
    Fold(Fold),
}

/// Why the venv goes back into one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fold {
    /// There is no listing of the base layer in the build cache volume that matches the
    /// previous image's base layer (first build, cleared cache, or an interrupted build).
    NoBase,
    /// The venv was made from scratch.
    Fresh,
    /// An entry of the base layer is gone (a package was removed or upgraded).
    Removed(PathBuf),
    /// An entry of the base layer was rewritten (a package was reinstalled or upgraded).
    Changed(PathBuf),
    /// A new entry is outside `bin/` and site-packages, where the delta layer is not looked for.
    Outside(PathBuf),
    /// The new files are too big a share of the base's.
    TooBig {
        /// Bytes of the new files.
        delta: u64,
        /// Bytes of the base's files.
        base: u64,
    },
}

impl fmt::Display for Fold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoBase => f.write_str("no listing of the previous venv layer in the build cache"),
            Self::Fresh => f.write_str("a new venv"),
            Self::Removed(path) => write!(f, "{} was removed", path.display()),
            Self::Changed(path) => write!(f, "{} changed", path.display()),
            Self::Outside(path) => {
                write!(f, "{} is outside bin/ and site-packages", path.display())
            }
            Self::TooBig { delta, base } => write!(
                f,
                "the new packages ({}) are more than a quarter of the venv ({})",
                megabytes(*delta),
                megabytes(*base)
            ),
        }
    }
}

/// `12.3 MB`.
#[must_use]
#[allow(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Decides from the listing of the base layer (`base`) and of the venv after the install
/// (`after`). `site` is the venv's site-packages dir and `state` the buildpack's own records,
/// both relative to the venv: entries under `state` are never compared and always go with the
/// newest layer. Additions must be under `bin/` or `site` (where the delta layer is found at
/// run time); anything removed or changed from the base, or a delta bigger than
/// [`MAX_DELTA_SHARE`] of the base, folds.
#[must_use]
pub fn plan(base: &Manifest, after: &Manifest, site: &Path, state: &[&Path]) -> Plan {
    let is_state = |path: &Path| state.iter().any(|s| path.starts_with(s));
    let diff = base.diff(after);
    if let Some(path) = diff.removed.iter().find(|p| !is_state(p)) {
        return Plan::Fold(Fold::Removed(path.clone()));
    }
    if let Some(path) = diff.changed.iter().find(|p| !is_state(p)) {
        return Plan::Fold(Fold::Changed(path.clone()));
    }
    let bin = Path::new("bin");
    let mut delta = Vec::new();
    let mut bytes = 0;
    for path in &diff.added {
        if is_state(path) {
            continue;
        }
        if !(path.starts_with(bin) || path.starts_with(site)) {
            return Plan::Fold(Fold::Outside(path.clone()));
        }
        if let Some(entry) = after.get(path)
            && entry.kind == EntryKind::File
        {
            bytes += entry.size;
        }
        delta.push(path.clone());
    }
    let base_bytes = base.file_bytes();
    #[allow(clippy::cast_precision_loss, reason = "a ratio of sizes")]
    if bytes as f64 > base_bytes as f64 * MAX_DELTA_SHARE {
        return Plan::Fold(Fold::TooBig {
            delta: bytes,
            base: base_bytes,
        });
    }
    // The state goes with the delta, so the image's newest layer records what was installed.
    delta.extend(
        after
            .entries()
            .map(|(path, _)| path)
            .filter(|path| is_state(path))
            .map(Path::to_path_buf),
    );
    delta.sort();
    Plan::Delta(delta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    const SITE: &str = "lib/python3.11/site-packages";

    /// A venv with one 1000-byte package, its listing, and the tree to change.
    fn venv() -> (tempfile::TempDir, Manifest) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["bin", SITE, &format!("{SITE}/flask"), ".libbuildpack"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join(SITE).join("flask/__init__.py"), [b'x'; 1000]).unwrap();
        std::fs::write(root.join("bin/flask"), "#!/venv/bin/python\n").unwrap();
        std::fs::write(root.join(".libbuildpack/requested.txt"), "flask\n").unwrap();
        let base = Manifest::scan(root).unwrap();
        (dir, base)
    }

    fn decide(root: &Path, base: &Manifest) -> Plan {
        plan(
            base,
            &Manifest::scan(root).unwrap(),
            Path::new(SITE),
            &[Path::new(".libbuildpack")],
        )
    }

    fn add_package(root: &Path, name: &str, bytes: usize) {
        let dir = root.join(SITE).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("__init__.py"), vec![b'y'; bytes]).unwrap();
    }

    #[test]
    fn an_added_package_and_its_script_make_the_delta_with_the_state() {
        let (dir, base) = venv();
        let root = dir.path();
        add_package(root, "six", 100);
        std::fs::write(root.join("bin/six-tool"), "#!/venv/bin/python\n").unwrap();
        std::fs::write(root.join(".libbuildpack/requested.txt"), "flask\nsix\n").unwrap();
        assert_eq!(
            decide(root, &base),
            Plan::Delta(
                [
                    ".libbuildpack",
                    ".libbuildpack/requested.txt",
                    "bin/six-tool",
                    "lib/python3.11/site-packages/six",
                    "lib/python3.11/site-packages/six/__init__.py",
                ]
                .map(PathBuf::from)
                .to_vec()
            )
        );
    }

    #[test]
    fn nothing_added_is_an_empty_delta_apart_from_the_state() {
        let (dir, base) = venv();
        let Plan::Delta(entries) = decide(dir.path(), &base) else {
            panic!()
        };
        assert!(
            entries.iter().all(|p| p.starts_with(".libbuildpack")),
            "{entries:?}"
        );
    }

    #[test]
    fn a_removed_or_rewritten_base_file_folds() {
        let (dir, base) = venv();
        let root = dir.path();
        let init = root.join(SITE).join("flask/__init__.py");
        std::fs::set_permissions(&init, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            decide(root, &base),
            Plan::Fold(Fold::Changed(PathBuf::from(SITE).join("flask/__init__.py")))
        );
        std::fs::remove_file(root.join("bin/flask")).unwrap();
        assert_eq!(
            decide(root, &base),
            Plan::Fold(Fold::Removed(PathBuf::from("bin/flask")))
        );
    }

    #[test]
    fn an_upgrade_folds_even_when_it_only_renames_a_dist_info() {
        let (dir, base) = venv();
        let root = dir.path();
        std::fs::rename(
            root.join(SITE).join("flask"),
            root.join(SITE).join("flask2"),
        )
        .unwrap();
        assert!(matches!(decide(root, &base), Plan::Fold(Fold::Removed(_))));
    }

    #[test]
    fn an_addition_outside_bin_and_site_packages_folds() {
        let (dir, base) = venv();
        let root = dir.path();
        std::fs::create_dir_all(root.join("share/jupyter")).unwrap();
        assert_eq!(
            decide(root, &base),
            Plan::Fold(Fold::Outside(PathBuf::from("share")))
        );
    }

    #[test]
    fn a_delta_over_a_quarter_of_the_base_folds() {
        let (dir, base) = venv();
        let root = dir.path();
        // The base has 1000 + 19 + 6 bytes of files: 256 is just over a quarter.
        add_package(root, "small", 250);
        assert!(matches!(decide(root, &base), Plan::Delta(_)));
        add_package(root, "more", 10);
        let Plan::Fold(fold) = decide(root, &base) else {
            panic!()
        };
        assert_eq!(
            fold,
            Fold::TooBig {
                delta: 260,
                base: 1025
            }
        );
        assert_eq!(
            fold.to_string(),
            "the new packages (0.0 MB) are more than a quarter of the venv (0.0 MB)"
        );
    }
}
