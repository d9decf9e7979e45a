//! A big new venv split across two launch layers of similar size, so that its export and import use
//! both cores.
//!
//! The lifecycle compresses each layer it writes on one core, and the layout's save and podman's
//! import handle the layers of an image concurrently: a 300 MB venv in one layer is one long
//! compression and one long unpack, the same venv in two halves is two at once. Whole distributions
//! (the files their `RECORD` lists) move from the venv's site-packages into the same path of the
//! `venv-part2` layer, found at run time through a `.pth` file in the venv (like the delta layer). A
//! distribution moves only when everything it installed is under top-level entries of site-packages
//! that no other distribution shares and that are not `.pth` files: scripts in `bin/`, namespace
//! packages and path hooks stay in the venv.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Venvs smaller than this stay one layer: two small compressions are not faster than one.
pub const MIN_VENV_BYTES: u64 = 96 * 1024 * 1024;

/// The `.pth` file in the venv's site-packages that adds the second part's.
pub const HOOK: &str = "_libbuildpack_venv_part2.pth";

/// One installed distribution: its top-level entries in site-packages and their size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// Its `*.dist-info` dir.
    pub name: String,
    /// The top-level entries of site-packages it installed (its dist-info dir included).
    pub entries: BTreeSet<String>,
    /// Whether it can move: nothing outside site-packages, no shared entry, no `.pth` file.
    pub movable: bool,
    /// The bytes of its files.
    pub bytes: u64,
}

/// The distributions whose entries move: the biggest movable ones first, each when it brings the two
/// parts of the `total` bytes closer to even.
#[must_use]
pub fn choose(distributions: &[Distribution], total: u64) -> Vec<&Distribution> {
    let mut movable: Vec<&Distribution> = distributions.iter().filter(|d| d.movable).collect();
    movable.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    let bigger_part = |moved: u64| moved.max(total.saturating_sub(moved));
    let mut moved = 0;
    let mut chosen = Vec::new();
    for distribution in movable {
        if bigger_part(moved + distribution.bytes) < bigger_part(moved) {
            moved += distribution.bytes;
            chosen.push(distribution);
        }
    }
    chosen
}

/// Reads the distributions installed in `site` (an absolute site-packages dir) from their `RECORD`s,
/// with their sizes from the files themselves.
///
/// # Errors
/// When `site` cannot be read.
pub fn distributions(site: &Path) -> std::io::Result<Vec<Distribution>> {
    let mut found = Vec::new();
    let mut owners: BTreeMap<String, usize> = BTreeMap::new();
    let mut names: Vec<String> = std::fs::read_dir(site)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dist-info"))
        .collect();
    names.sort();
    for name in names {
        let Ok(record) = std::fs::read_to_string(site.join(&name).join("RECORD")) else {
            found.push(Distribution {
                entries: BTreeSet::from([name.clone()]),
                name,
                movable: false,
                bytes: 0,
            });
            continue;
        };
        let mut entries = BTreeSet::from([name.clone()]);
        let mut movable = true;
        for line in record.lines().filter(|l| !l.trim().is_empty()) {
            // `path,hash,size`: a path may hold commas, the other two fields never do.
            let path = line.rsplitn(3, ',').nth(2).unwrap_or(line);
            let path = path.trim_matches('"');
            let top = Path::new(path).components().next();
            match top {
                Some(std::path::Component::Normal(top)) if !path.starts_with("..") => {
                    let top = top.to_string_lossy().into_owned();
                    let is_file_at_top = !path.contains('/');
                    if top == "__pycache__"
                        || (is_file_at_top
                            && Path::new(&top).extension().is_some_and(|e| e == "pth"))
                    {
                        movable = false;
                    }
                    entries.insert(top);
                }
                _ => movable = false,
            }
        }
        for entry in &entries {
            *owners.entry(entry.clone()).or_default() += 1;
        }
        found.push(Distribution {
            bytes: entries.iter().map(|e| bytes_of(&site.join(e))).sum(),
            name,
            entries,
            movable,
        });
    }
    for distribution in &mut found {
        if distribution
            .entries
            .iter()
            .any(|e| owners.get(e) > Some(&1))
        {
            distribution.movable = false;
        }
    }
    Ok(found)
}

/// The bytes of the files under `path` (links not followed).
fn bytes_of(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::read_dir(path).map_or(0, |entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| bytes_of(&e.path()))
                .sum()
        }),
        Ok(meta) => meta.len(),
        Err(_) => 0,
    }
}

/// Moves `entries` (top-level names) from `from` to `to` (both site-packages dirs on one file
/// system); returns the bytes moved.
///
/// # Errors
/// When a dir cannot be made or an entry cannot be renamed.
pub fn move_entries(from: &Path, to: &Path, entries: &[&str]) -> std::io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut bytes = 0;
    for entry in entries {
        bytes += bytes_of(&from.join(entry));
        std::fs::rename(from.join(entry), to.join(entry))?;
    }
    Ok(bytes)
}

/// The total bytes of the files under `dir`.
#[must_use]
pub fn total_bytes(dir: &Path) -> u64 {
    bytes_of(dir)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn dist(name: &str, bytes: u64, movable: bool) -> Distribution {
        Distribution {
            name: name.into(),
            entries: BTreeSet::from([name.into()]),
            movable,
            bytes,
        }
    }

    #[test]
    fn the_biggest_movable_distributions_move_while_the_parts_get_closer_to_even() {
        let all = [
            dist("scipy", 100, true),
            dist("numpy", 60, false),
            dist("sklearn", 40, true),
            dist("gunicorn", 5, false),
            dist("flask", 3, true),
        ];
        let names = |total| -> Vec<&str> {
            choose(&all, total)
                .iter()
                .map(|d| d.name.as_str())
                .collect()
        };
        assert_eq!(names(220), ["scipy", "flask"], "103 against 117");
        // One distribution over half of the venv still moves: 100 against 80 beats 180 against 0.
        assert_eq!(names(180), ["scipy"]);
        assert!(names(0).is_empty());
    }

    fn install(site: &Path, dist: &str, files: &[(&str, usize)]) {
        let info = site.join(format!("{dist}-1.0.dist-info"));
        std::fs::create_dir_all(&info).unwrap();
        let mut record = String::new();
        for (path, size) in files {
            if !path.starts_with("..") {
                let file = site.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, vec![b'x'; *size]).unwrap();
            }
            writeln!(record, "{path},sha256=abc,{size}").unwrap();
        }
        writeln!(record, "{dist}-1.0.dist-info/RECORD,,").unwrap();
        std::fs::write(info.join("RECORD"), record).unwrap();
    }

    #[test]
    fn a_distribution_moves_only_when_it_owns_all_it_installed_in_site_packages() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path();
        install(
            site,
            "numpy",
            &[("numpy/__init__.py", 10), ("numpy.libs/libx.so", 50)],
        );
        install(
            site,
            "gunicorn",
            &[("gunicorn/app.py", 5), ("../../../bin/gunicorn", 1)],
        );
        install(site, "ns-a", &[("google/a/__init__.py", 3)]);
        install(site, "ns-b", &[("google/b/__init__.py", 3)]);
        install(site, "hooked", &[("hooked/x.py", 2), ("hooked.pth", 1)]);
        install(
            site,
            "six",
            &[("six.py", 4), ("__pycache__/six.cpython-311.pyc", 4)],
        );
        let found = distributions(site).unwrap();
        let movable: Vec<&str> = found
            .iter()
            .filter(|d| d.movable)
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(movable, ["numpy-1.0.dist-info"]);
        let numpy = found.iter().find(|d| d.name.starts_with("numpy")).unwrap();
        assert_eq!(
            numpy.entries,
            BTreeSet::from([
                "numpy".into(),
                "numpy.libs".into(),
                "numpy-1.0.dist-info".into()
            ])
        );
        assert!(numpy.bytes >= 60);

        let to = dir.path().join("part2");
        let names: Vec<&str> = numpy.entries.iter().map(String::as_str).collect();
        move_entries(site, &to, &names).unwrap();
        assert!(to.join("numpy.libs/libx.so").is_file());
        assert!(!site.join("numpy").exists());
    }
}
