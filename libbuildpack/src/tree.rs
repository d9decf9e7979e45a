//! File trees: a listing of a directory tree ([`Manifest`]), what changed between two listings
//! ([`Diff`]), and copying chosen entries from one tree into another ([`copy_entries`]).
//!
//! Made for big layers that mostly grow by additions (a venv, a `node_modules`): list the layer's
//! tree when it is built, keep the listing next to a copy of the tree (in the build cache volume),
//! and after the next incremental install list it again. When the diff only adds entries, the big
//! layer can be reused from the previous image untouched and the added entries go into a small
//! layer of their own, so the export archives megabytes instead of the whole tree.
//!
//! Entries are compared by their metadata, not their bytes, as `rsync` does by default: a file is
//! changed when its size, modification time or mode changed; a directory only when its mode
//! changed (adding a file changes a directory's time); a symlink when its target changed.
//!
//! ```
//! use libbuildpack::tree::Manifest;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("lib"))?;
//! std::fs::write(dir.path().join("lib/a.py"), "a = 1\n")?;
//! let before = Manifest::scan(dir.path())?;
//! std::fs::write(dir.path().join("lib/b.py"), "b = 2\n")?;
//! let diff = before.diff(&Manifest::scan(dir.path())?);
//! assert!(diff.is_additions_only());
//! assert_eq!(diff.added, [std::path::PathBuf::from("lib/b.py")]);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// The first line of a written manifest: the format and its version.
const HEADER: &str = "libbuildpack-tree 1";

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link, with its target as written (not followed).
    Symlink(PathBuf),
    /// A fifo, socket or device: listed so a diff sees it, never copied.
    Other,
}

/// One entry of a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What it is.
    pub kind: EntryKind,
    /// The permission bits (`0o7777`).
    pub mode: u32,
    /// The size in bytes (0 for directories).
    pub size: u64,
    /// The modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
}

impl Entry {
    /// Whether `after` is a changed version of this entry (see the [module docs](self)).
    #[must_use]
    pub fn changed_in(&self, after: &Entry) -> bool {
        match (&self.kind, &after.kind) {
            (EntryKind::Dir, EntryKind::Dir) => self.mode != after.mode,
            (EntryKind::Symlink(a), EntryKind::Symlink(b)) => a != b,
            (a, b) => {
                a != b
                    || self.mode != after.mode
                    || self.size != after.size
                    || self.mtime_ns != after.mtime_ns
            }
        }
    }
}

/// The entries of a directory tree by their path relative to its root (the root itself is not
/// listed). Symlinks are listed, never followed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    entries: BTreeMap<PathBuf, Entry>,
}

/// What changed from one [`Manifest`] to another; paths are relative and sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// In the second listing only.
    pub added: Vec<PathBuf>,
    /// In both, changed (see [`Entry::changed_in`]).
    pub changed: Vec<PathBuf>,
    /// In the first listing only.
    pub removed: Vec<PathBuf>,
}

impl Diff {
    /// Whether the second tree is the first plus new entries: nothing changed or removed.
    #[must_use]
    pub fn is_additions_only(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Listing, reading, writing or copying a tree failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// An entry's metadata or a directory could not be read.
    #[error("could not list {}: {source}", path.display())]
    Scan {
        /// The entry.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A manifest file could not be read or written.
    #[error("could not access the tree listing {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A manifest file is not in this module's format.
    #[error("the tree listing {} is not valid at line {line}: {why}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// An entry could not be copied.
    #[error("could not copy {} to {}: {source}", from.display(), to.display())]
    Copy {
        /// The source entry.
        from: PathBuf,
        /// Where it was copied to.
        to: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Manifest {
    /// Lists the tree under `root`.
    ///
    /// # Errors
    ///
    /// [`TreeError::Scan`] when a directory or an entry's metadata cannot be read.
    pub fn scan(root: &Path) -> Result<Self, TreeError> {
        let mut entries = BTreeMap::new();
        let mut dirs = vec![PathBuf::new()];
        while let Some(relative) = dirs.pop() {
            let dir = root.join(&relative);
            let scan_err = |path: &Path| {
                let path = path.to_path_buf();
                move |source| TreeError::Scan { path, source }
            };
            for item in std::fs::read_dir(&dir).map_err(scan_err(&dir))? {
                let item = item.map_err(scan_err(&dir))?;
                let path = item.path();
                let meta = std::fs::symlink_metadata(&path).map_err(scan_err(&path))?;
                let file_type = meta.file_type();
                let kind = if file_type.is_dir() {
                    EntryKind::Dir
                } else if file_type.is_file() {
                    EntryKind::File
                } else if file_type.is_symlink() {
                    EntryKind::Symlink(std::fs::read_link(&path).map_err(scan_err(&path))?)
                } else {
                    EntryKind::Other
                };
                let name = relative.join(item.file_name());
                if kind == EntryKind::Dir {
                    dirs.push(name.clone());
                }
                entries.insert(
                    name,
                    Entry {
                        size: if kind == EntryKind::Dir {
                            0
                        } else {
                            meta.len()
                        },
                        kind,
                        mode: meta.permissions().mode() & 0o7777,
                        mtime_ns: i128::from(meta.mtime()) * 1_000_000_000
                            + i128::from(meta.mtime_nsec()),
                    },
                );
            }
        }
        Ok(Self { entries })
    }

    /// The entries, sorted by path (a directory before what it holds).
    pub fn entries(&self) -> impl Iterator<Item = (&Path, &Entry)> {
        self.entries.iter().map(|(p, e)| (p.as_path(), e))
    }

    /// The entry at the relative `path`.
    #[must_use]
    pub fn get(&self, path: &Path) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// How many entries there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the tree is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The total size of the regular files, in bytes.
    #[must_use]
    pub fn file_bytes(&self) -> u64 {
        self.entries
            .values()
            .filter(|e| e.kind == EntryKind::File)
            .map(|e| e.size)
            .sum()
    }

    /// A SHA-256 (`sha256:<hex>`) of the paths, kinds, modes, sizes and link targets, without
    /// the times: two trees with the same files in the same places get the same fingerprint,
    /// so it can name a tree in layer metadata without making a rebuilt image differ.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        for (path, entry) in &self.entries {
            hasher.update(path.as_os_str().as_bytes());
            match &entry.kind {
                EntryKind::File => hasher.update(b"\0f"),
                EntryKind::Dir => hasher.update(b"\0d"),
                EntryKind::Other => hasher.update(b"\0o"),
                EntryKind::Symlink(target) => {
                    hasher.update(b"\0l");
                    hasher.update(target.as_os_str().as_bytes());
                }
            }
            hasher.update(format!("\0{:o}\0{}\n", entry.mode, entry.size).as_bytes());
        }
        format!("sha256:{}", crate::toolbox::hash::hex(&hasher.finalize()))
    }

    /// What changed from this listing to `after`.
    #[must_use]
    pub fn diff(&self, after: &Manifest) -> Diff {
        let mut diff = Diff::default();
        for (path, entry) in &self.entries {
            match after.entries.get(path) {
                None => diff.removed.push(path.clone()),
                Some(now) if entry.changed_in(now) => diff.changed.push(path.clone()),
                Some(_) => {}
            }
        }
        diff.added = after
            .entries
            .keys()
            .filter(|path| !self.entries.contains_key(*path))
            .cloned()
            .collect();
        diff
    }

    /// Writes the listing to `path`, atomically (a temporary file next to it, then a rename).
    ///
    /// # Errors
    ///
    /// [`TreeError::Io`] when the file cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), TreeError> {
        let mut text = String::with_capacity(64 * (self.entries.len() + 1));
        text.push_str(HEADER);
        text.push('\n');
        for (name, entry) in &self.entries {
            let (kind, link) = match &entry.kind {
                EntryKind::File => ('f', None),
                EntryKind::Dir => ('d', None),
                EntryKind::Other => ('o', None),
                EntryKind::Symlink(target) => ('l', Some(target)),
            };
            let _ = write!(
                text,
                "{kind} {:o} {} {} {}",
                entry.mode,
                entry.size,
                entry.mtime_ns,
                escape(name.as_os_str())
            );
            if let Some(target) = link {
                let _ = write!(text, " {}", escape(target.as_os_str()));
            }
            text.push('\n');
        }
        let io = |source| TreeError::Io {
            path: path.to_path_buf(),
            source,
        };
        let tmp = path.with_file_name(format!(
            ".{}.tmp-{}",
            path.file_name()
                .map_or_else(|| "tree".into(), |n| n.to_string_lossy().into_owned()),
            std::process::id()
        ));
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }

    /// Reads a listing written by [`write`](Self::write). Paths must be relative and stay inside
    /// the tree (no `..`).
    ///
    /// # Errors
    ///
    /// [`TreeError::Io`] when the file cannot be read, [`TreeError::Parse`] when it is not a
    /// listing.
    pub fn read(path: &Path) -> Result<Self, TreeError> {
        let text = std::fs::read(path).map_err(|source| TreeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let parse = |line: usize, why: &str| TreeError::Parse {
            path: path.to_path_buf(),
            line,
            why: why.to_string(),
        };
        let mut lines = text.split(|b| *b == b'\n');
        if lines.next() != Some(HEADER.as_bytes()) {
            return Err(parse(1, &format!("the first line is not `{HEADER}`")));
        }
        let mut entries = BTreeMap::new();
        for (index, line) in lines.enumerate() {
            let number = index + 2;
            if line.is_empty() {
                continue;
            }
            let line = std::str::from_utf8(line).map_err(|_| parse(number, "not UTF-8"))?;
            let fields: Vec<&str> = line.split(' ').collect();
            let [kind, mode, size, mtime, name, rest @ ..] = fields.as_slice() else {
                return Err(parse(number, "too few fields"));
            };
            let number_field = |field: &str, what: &str| {
                field
                    .parse::<i128>()
                    .map_err(|_| parse(number, &format!("the {what} is not a number")))
            };
            let name = unescape(name).ok_or_else(|| parse(number, "bad escape in the path"))?;
            if name.as_os_str().is_empty()
                || !name.components().all(|c| matches!(c, Component::Normal(_)))
            {
                return Err(parse(number, "the path is not relative to the tree"));
            }
            let kind = match (*kind, rest) {
                ("f", []) => EntryKind::File,
                ("d", []) => EntryKind::Dir,
                ("o", []) => EntryKind::Other,
                ("l", [target]) => EntryKind::Symlink(
                    unescape(target).ok_or_else(|| parse(number, "bad escape in the link"))?,
                ),
                _ => return Err(parse(number, "unknown entry kind or field count")),
            };
            let entry = Entry {
                kind,
                mode: u32::from_str_radix(mode, 8)
                    .map_err(|_| parse(number, "the mode is not an octal number"))?,
                size: u64::try_from(number_field(size, "size")?)
                    .map_err(|_| parse(number, "the size is negative"))?,
                mtime_ns: number_field(mtime, "time")?,
            };
            entries.insert(name, entry);
        }
        Ok(Self { entries })
    }
}

/// `%XX` for bytes outside printable ASCII, space and `%`; everything else as is.
fn escape(name: &OsStr) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn unescape(text: &str) -> Option<PathBuf> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(PathBuf::from(OsStr::from_bytes(&out)))
}

/// Copies the entries at the relative `paths` from the tree `from` into the tree `to`: files
/// with their mode and modification time, symlinks as links, directories with their mode.
/// Missing parent directories are created; entries of kind [`EntryKind::Other`] are skipped.
/// Copy a directory's entries by listing them too (a directory is not copied recursively).
///
/// # Errors
///
/// [`TreeError::Copy`] naming the entry that could not be copied.
pub fn copy_entries<'p>(
    from: &Path,
    to: &Path,
    paths: impl IntoIterator<Item = &'p Path>,
) -> Result<(), TreeError> {
    for path in paths {
        let (source, target) = (from.join(path), to.join(path));
        let err = |e| TreeError::Copy {
            from: source.clone(),
            to: target.clone(),
            source: e,
        };
        let meta = std::fs::symlink_metadata(&source).map_err(err)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let file_type = meta.file_type();
        if file_type.is_dir() {
            std::fs::create_dir_all(&target).map_err(err)?;
            std::fs::set_permissions(&target, meta.permissions()).map_err(err)?;
        } else if file_type.is_symlink() {
            let link = std::fs::read_link(&source).map_err(err)?;
            std::os::unix::fs::symlink(link, &target).map_err(err)?;
        } else if file_type.is_file() {
            // `copy` gives the target the source's permissions; the time is set through a
            // read-only handle, which works on a file of mode 0444 too (its owner may).
            std::fs::copy(&source, &target).map_err(err)?;
            let modified = meta.modified().map_err(err)?;
            std::fs::File::open(&target)
                .and_then(|file| file.set_modified(modified))
                .map_err(err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("lib/site")).unwrap();
        std::fs::create_dir(root.join("bin")).unwrap();
        std::fs::write(root.join("lib/site/a.py"), "a = 1\n").unwrap();
        std::fs::write(root.join("bin/tool"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            root.join("bin/tool"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::os::unix::fs::symlink("lib", root.join("lib64")).unwrap();
        dir
    }

    #[test]
    fn lists_entries_without_following_links() {
        let dir = tree();
        let manifest = Manifest::scan(dir.path()).unwrap();
        let paths: Vec<&Path> = manifest.entries().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "bin",
                "bin/tool",
                "lib",
                "lib/site",
                "lib/site/a.py",
                "lib64"
            ]
            .map(Path::new)
        );
        let tool = manifest.get(Path::new("bin/tool")).unwrap();
        assert_eq!(
            (tool.kind.clone(), tool.mode, tool.size),
            (EntryKind::File, 0o755, 10)
        );
        assert_eq!(
            manifest.get(Path::new("lib64")).unwrap().kind,
            EntryKind::Symlink("lib".into())
        );
        assert_eq!(manifest.file_bytes(), 16);
    }

    #[test]
    fn sees_additions_changes_and_removals() {
        let dir = tree();
        let root = dir.path();
        let before = Manifest::scan(root).unwrap();
        assert_eq!(before.diff(&before), Diff::default());

        // Adding a file changes its directory's time, which is not a change.
        std::fs::create_dir(root.join("lib/site/b")).unwrap();
        std::fs::write(root.join("lib/site/b/__init__.py"), "").unwrap();
        let added = before.diff(&Manifest::scan(root).unwrap());
        assert!(added.is_additions_only(), "{added:?}");
        assert_eq!(
            added.added,
            [
                PathBuf::from("lib/site/b"),
                PathBuf::from("lib/site/b/__init__.py")
            ]
        );

        std::fs::write(root.join("lib/site/a.py"), "a = 22\n").unwrap();
        std::fs::remove_file(root.join("bin/tool")).unwrap();
        let diff = before.diff(&Manifest::scan(root).unwrap());
        assert!(!diff.is_additions_only());
        assert_eq!(diff.changed, [PathBuf::from("lib/site/a.py")]);
        assert_eq!(diff.removed, [PathBuf::from("bin/tool")]);
    }

    #[test]
    fn a_rewritten_file_of_the_same_size_is_changed_by_its_time_or_mode() {
        let dir = tree();
        let path = dir.path().join("lib/site/a.py");
        let before = Manifest::scan(dir.path()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            before.diff(&Manifest::scan(dir.path()).unwrap()).changed,
            [PathBuf::from("lib/site/a.py")]
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::UNIX_EPOCH).unwrap();
        assert_eq!(
            before.diff(&Manifest::scan(dir.path()).unwrap()).changed,
            [PathBuf::from("lib/site/a.py")]
        );
    }

    #[test]
    fn round_trips_through_its_file_with_odd_names() {
        let dir = tree();
        let root = dir.path();
        std::fs::write(root.join("lib/site/with space %.txt"), "x").unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"lib/site/\xffnew\nline")), "y").unwrap();
        let manifest = Manifest::scan(root).unwrap();
        let file = root.join("listing");
        manifest.write(&file).unwrap();
        assert_eq!(Manifest::read(&file).unwrap(), manifest);
        assert_eq!(
            Manifest::read(&file).unwrap().fingerprint(),
            manifest.fingerprint()
        );
    }

    #[test]
    fn the_fingerprint_ignores_times_but_not_sizes() {
        let dir = tree();
        let path = dir.path().join("lib/site/a.py");
        let before = Manifest::scan(dir.path()).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::UNIX_EPOCH).unwrap();
        assert_eq!(
            Manifest::scan(dir.path()).unwrap().fingerprint(),
            before.fingerprint()
        );
        std::fs::write(&path, "a = 333\n").unwrap();
        assert_ne!(
            Manifest::scan(dir.path()).unwrap().fingerprint(),
            before.fingerprint()
        );
    }

    #[test]
    fn refuses_listings_that_are_not_its_own_or_leave_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("listing");
        for (text, why) in [
            ("something else\n", "the first line"),
            ("libbuildpack-tree 1\nf 644 1 0\n", "too few fields"),
            (
                "libbuildpack-tree 1\nf 644 1 0 ../etc/passwd\n",
                "not relative",
            ),
            (
                "libbuildpack-tree 1\nf 644 1 0 /etc/passwd\n",
                "not relative",
            ),
            ("libbuildpack-tree 1\nf 9z9 1 0 a\n", "octal"),
            ("libbuildpack-tree 1\nx 644 1 0 a\n", "unknown entry kind"),
            ("libbuildpack-tree 1\nf 644 1 0 a%G1\n", "bad escape"),
        ] {
            std::fs::write(&file, text).unwrap();
            let err = Manifest::read(&file).unwrap_err().to_string();
            assert!(err.contains(why), "{text:?}: {err}");
            assert!(err.contains("listing"), "{err}");
        }
    }

    #[test]
    fn copies_chosen_entries_with_modes_times_and_links() {
        let dir = tree();
        let from = dir.path();
        std::fs::write(from.join("lib/site/ro.txt"), "read only").unwrap();
        std::fs::set_permissions(
            from.join("lib/site/ro.txt"),
            std::fs::Permissions::from_mode(0o444),
        )
        .unwrap();
        let to = tempfile::tempdir().unwrap();
        let wanted = ["bin/tool", "lib/site/ro.txt", "lib64"].map(Path::new);
        copy_entries(from, to.path(), wanted).unwrap();
        let copied = Manifest::scan(to.path()).unwrap();
        let original = Manifest::scan(from).unwrap();
        for path in wanted {
            let (was, is) = (original.get(path).unwrap(), copied.get(path).unwrap());
            assert!(!was.changed_in(is), "{}: {was:?} {is:?}", path.display());
        }
        // Files keep their time to the nanosecond (a link's own time is not compared).
        assert_eq!(
            copied.get(Path::new("lib/site/ro.txt")),
            original.get(Path::new("lib/site/ro.txt"))
        );
        assert!(copied.get(Path::new("lib/site/a.py")).is_none());
    }
}
