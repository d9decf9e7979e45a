//! What the fuzz targets share: the round-trip check, structure-aware inputs (TOML values, tar
//! entries) and the checks that an extraction stayed inside its destination.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt::Debug;
use std::path::{Component, Path, PathBuf};

use arbitrary::Arbitrary;

/// Checks write-then-read: `value` is written, the text read back, and the result must equal
/// `value`. A value read from text must always be writable and readable again: anything else
/// means the writer and the reader of a format disagree.
///
/// Floats make the one exception to equality: NaN is unequal to itself, so a value holding one
/// is compared by its written text instead (the text of the value read back must be the same).
pub fn assert_round_trip<T, WE, RE>(
    value: &T,
    write: impl Fn(&T) -> Result<String, WE>,
    read: impl Fn(&str) -> Result<T, RE>,
) where
    T: PartialEq + Debug,
    WE: Debug,
    RE: Debug,
{
    let text = write(value)
        .unwrap_or_else(|e| panic!("a value that was read cannot be written: {e:?}\n{value:#?}"));
    let again = read(&text).unwrap_or_else(|e| {
        panic!("the written text does not read back: {e:?}\n--- text ---\n{text}\n--- value ---\n{value:#?}")
    });
    if again != *value {
        let text_again = write(&again).ok();
        let nan = text.contains("nan");
        assert!(
            nan && text_again.as_deref() == Some(text.as_str()),
            "write then read changed the value\n--- text ---\n{text}\n--- before ---\n{value:#?}\n--- after ---\n{again:#?}"
        );
    }
}

/// A TOML value built by the fuzzer: what free-form `[metadata]` tables may hold.
#[derive(Debug, Clone, Arbitrary)]
pub enum TomlValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float (NaN and infinities included).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// An array (mixed types allowed, as TOML 1.0 allows them).
    Array(Vec<TomlValue>),
    /// A table.
    Table(Vec<(String, TomlValue)>),
}

impl TomlValue {
    /// The `toml` value, nesting cut at a few levels so inputs stay cheap.
    #[must_use]
    pub fn to_toml(&self, depth: usize) -> toml::Value {
        match self {
            Self::Str(s) => toml::Value::String(s.clone()),
            Self::Int(i) => toml::Value::Integer(*i),
            Self::Float(f) => toml::Value::Float(*f),
            Self::Bool(b) => toml::Value::Boolean(*b),
            Self::Array(items) if depth > 0 => {
                toml::Value::Array(items.iter().map(|v| v.to_toml(depth - 1)).collect())
            }
            Self::Table(entries) if depth > 0 => toml::Value::Table(table(entries, depth - 1)),
            Self::Array(_) | Self::Table(_) => toml::Value::Boolean(false),
        }
    }
}

/// A `toml::Table` of the fuzzer's entries (later duplicates win).
#[must_use]
pub fn table(entries: &[(String, TomlValue)], depth: usize) -> toml::Table {
    entries
        .iter()
        .map(|(k, v)| (k.clone(), v.to_toml(depth)))
        .collect()
}

/// The kinds of tar entries the structure-aware archive target writes, hostile ones included.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A hard link.
    HardLink,
    /// A character device.
    Char,
    /// A block device.
    Block,
    /// A FIFO.
    Fifo,
    /// A pax extended header (its data is parsed by the tar reader).
    PaxHeader,
    /// A GNU long name header: its data becomes the next entry's name.
    GnuLongName,
    /// Any other type byte.
    Other(u8),
}

impl EntryKind {
    fn entry_type(self) -> tar::EntryType {
        match self {
            Self::File => tar::EntryType::Regular,
            Self::Dir => tar::EntryType::Directory,
            Self::Symlink => tar::EntryType::Symlink,
            Self::HardLink => tar::EntryType::Link,
            Self::Char => tar::EntryType::Char,
            Self::Block => tar::EntryType::Block,
            Self::Fifo => tar::EntryType::Fifo,
            Self::PaxHeader => tar::EntryType::XHeader,
            Self::GnuLongName => tar::EntryType::GNULongName,
            Self::Other(byte) => tar::EntryType::new(byte),
        }
    }
}

/// One tar entry as the fuzzer describes it.
#[derive(Debug, Clone, Arbitrary)]
pub struct Entry {
    /// The name, written byte for byte (cut to the 100 bytes of the header field).
    pub name: NameParts,
    /// What the entry is.
    pub kind: EntryKind,
    /// The link target for links (cut to 100 bytes).
    pub link: NameParts,
    /// The mode bits.
    pub mode: u16,
    /// The contents.
    pub data: Vec<u8>,
}

/// A path made of parts the fuzzer picks, so `..`, `.`, `/` and names reused across entries
/// (which is what the escape checks are about) come up often.
#[derive(Debug, Clone, Arbitrary)]
pub struct NameParts {
    /// Whether the path starts with `/`.
    pub absolute: bool,
    /// The parts, joined with `/`.
    pub parts: Vec<Part>,
    /// Whether the path ends with `/`.
    pub trailing_slash: bool,
}

/// One part of a [`NameParts`] path.
#[derive(Debug, Clone, Arbitrary)]
pub enum Part {
    /// `..`
    Up,
    /// `.`
    Here,
    /// An empty part (`a//b`).
    Empty,
    /// One of a few short names, so entries name each other.
    Known(u8),
    /// Anything else.
    Raw(Vec<u8>),
}

impl NameParts {
    /// The path as bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        // Names entries share, and `tmp`: `/tmp` is where a link out of the destination leads
        // that the checks can see (the temp dir's mode is watched; the rest is read-only in the
        // sandbox scripts/fuzz runs the targets in).
        const KNOWN: [&[u8]; 7] = [b"a", b"b", b"c", b"cnb", b"buildpacks", b"bin", b"tmp"];
        let mut out = Vec::new();
        if self.absolute {
            out.push(b'/');
        }
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            match part {
                Part::Up => out.extend_from_slice(b".."),
                Part::Here => out.push(b'.'),
                Part::Empty => {}
                Part::Known(k) => out.extend_from_slice(KNOWN[usize::from(*k) % KNOWN.len()]),
                Part::Raw(bytes) => out.extend_from_slice(bytes),
            }
        }
        if self.trailing_slash {
            out.push(b'/');
        }
        out
    }
}

/// Writes `entries` as a tar stream header by header, so that any name or link goes in
/// (`tar::Builder`'s path setters refuse `..` and absolute names).
#[must_use]
pub fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        let old = header.as_old_mut();
        let name = entry.name.to_bytes();
        let name = &name[..name.len().min(old.name.len())];
        old.name[..name.len()].copy_from_slice(name);
        let link = entry.link.to_bytes();
        let link = &link[..link.len().min(old.linkname.len())];
        old.linkname[..link.len()].copy_from_slice(link);
        header.set_entry_type(entry.kind.entry_type());
        header.set_mode(u32::from(entry.mode));
        header.set_size(entry.data.len() as u64);
        header.set_cksum();
        builder
            .append(&header, entry.data.as_slice())
            .expect("writing to a Vec cannot fail");
    }
    builder.into_inner().expect("writing to a Vec cannot fail")
}

/// A temp dir with the destination nested a few levels down, so that an entry which climbs out
/// of the destination lands in a dir that must stay empty, not in the rest of the machine.
pub struct Nest {
    root: tempfile::TempDir,
    /// Where the archive is extracted.
    pub dest: PathBuf,
    /// The mode of the system's temp dir, which no extraction may change either.
    temp_mode: u32,
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .expect("a dir of the nest")
        .permissions()
        .mode()
        & 0o7777
}

/// The dirs between the temp dir and the destination.
const LEVELS: [&str; 3] = ["x", "y", "z"];

/// The mode of those dirs, which no extraction may change.
const NEST_MODE: u32 = 0o751;

impl Nest {
    /// A fresh nest; `dest` does not exist yet (the extractors create it).
    #[must_use]
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("a temp dir");
        let mut dest = root.path().to_path_buf();
        for level in LEVELS {
            dest.push(level);
        }
        std::fs::create_dir_all(&dest).expect("the nest's dirs");
        let mut at = root.path().to_path_buf();
        for level in LEVELS {
            use std::os::unix::fs::PermissionsExt;
            at.push(level);
            std::fs::set_permissions(&at, std::fs::Permissions::from_mode(NEST_MODE))
                .expect("the nest's modes");
        }
        dest.push("dest");
        let temp_mode = mode_of(&std::env::temp_dir());
        Self {
            root,
            dest,
            temp_mode,
        }
    }

    /// The temp dir itself.
    #[must_use]
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Panics when anything but the destination was created in the nest, or a dir of the nest
    /// changed its mode: an entry escaped (or was written through a link that leads out).
    pub fn assert_nothing_outside(&self) {
        let temp = std::env::temp_dir();
        assert_eq!(
            mode_of(&temp),
            self.temp_mode,
            "the mode of {} changed",
            temp.display()
        );
        let mut at = self.root.path().to_path_buf();
        let mut expected: Vec<&str> = LEVELS.to_vec();
        expected.push("dest");
        for want in expected {
            let names: Vec<OsString> = std::fs::read_dir(&at)
                .expect("reading a nest dir")
                .map(|e| e.expect("a dir entry").file_name())
                .collect();
            assert!(
                names.iter().all(|n| n == want),
                "something was created outside the destination, in {}: {names:?}",
                at.display()
            );
            if at != self.root.path() {
                assert_eq!(
                    mode_of(&at),
                    NEST_MODE,
                    "the mode of {} outside the destination changed",
                    at.display()
                );
            }
            at.push(want);
        }
    }
}

impl Default for Nest {
    fn default() -> Self {
        Self::new()
    }
}

/// How absolute link targets are meant by an extractor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absolute {
    /// They point outside the destination (and must have been refused).
    Outside,
    /// They mean the destination's root, as in an image layer.
    Root,
}

/// Panics when a symlink under `dest` leads outside it when followed as the host follows it:
/// through earlier links, whatever order they were made in. Absolute targets are judged by
/// `absolute`.
pub fn assert_links_inside(dest: &Path, absolute: Absolute) {
    let mut dirs = vec![PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(dest.join(&rel)) else {
            continue;
        };
        for entry in entries {
            let entry = entry.expect("a dir entry");
            let rel = rel.join(entry.file_name());
            let kind = entry.file_type().expect("a file type");
            if kind.is_dir() {
                dirs.push(rel);
            } else if kind.is_symlink() {
                assert!(
                    resolves_inside(dest, &rel, absolute),
                    "the symlink {} -> {} leads outside the destination",
                    rel.display(),
                    std::fs::read_link(dest.join(&rel))
                        .unwrap_or_default()
                        .display()
                );
            }
        }
    }
}

/// One step of a path being resolved.
enum Step {
    Root,
    Up,
    Name(OsString),
}

fn steps(path: &Path) -> impl DoubleEndedIterator<Item = Step> + '_ {
    path.components().filter_map(|c| match c {
        Component::RootDir | Component::Prefix(_) => Some(Step::Root),
        Component::ParentDir => Some(Step::Up),
        Component::Normal(n) => Some(Step::Name(n.to_owned())),
        Component::CurDir => None,
    })
}

/// Whether following `rel` (relative to `root`, links included) stays under `root`. Parts that
/// do not exist are taken as plain names: a later entry could still make them.
fn resolves_inside(root: &Path, rel: &Path, absolute: Absolute) -> bool {
    let mut todo: VecDeque<Step> = steps(rel).collect();
    let mut at: Vec<OsString> = Vec::new();
    let mut hops = 0;
    while let Some(step) = todo.pop_front() {
        match step {
            Step::Root => match absolute {
                Absolute::Outside => return false,
                Absolute::Root => at.clear(),
            },
            Step::Up => {
                if at.pop().is_none() {
                    return false;
                }
            }
            Step::Name(name) => {
                let mut path = root.to_path_buf();
                path.extend(&at);
                path.push(&name);
                if let Ok(target) = std::fs::read_link(&path) {
                    hops += 1;
                    // The kernel gives up after 40 links (ELOOP): nothing past that is reached.
                    if hops > 40 {
                        return true;
                    }
                    for step in steps(&target).rev() {
                        todo.push_front(step);
                    }
                } else {
                    at.push(name);
                }
            }
        }
    }
    true
}

/// Extracts the tar (or, with gzip's magic bytes, tar.gz) stream `bytes` with every extractor
/// the project has, each into a fresh nest, and checks that nothing landed outside and no link
/// leads outside, whether the extraction succeeded or failed half way.
pub fn extract_everywhere(bytes: &[u8]) {
    use libbuildpack::archive::{AbsolutePaths, Extract};
    fn reader(bytes: &[u8], gzip: bool) -> Box<dyn std::io::Read + '_> {
        if gzip {
            Box::new(flate2::read::GzDecoder::new(bytes))
        } else {
            Box::new(bytes)
        }
    }
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    for (absolute, mode) in [
        (AbsolutePaths::Refuse, Absolute::Outside),
        (AbsolutePaths::RootRelative, Absolute::Root),
    ] {
        let nest = Nest::new();
        // rpack reads image layers and `.cnb` files this way (`rpack::oci::extract`), with smaller caps here so a
        // fuzz input cannot fill the disk.
        let _ = Extract::new(&nest.dest)
            .absolute_paths(absolute)
            .max_bytes(64 << 20)
            .tar(reader(bytes, gzip));
        nest.assert_nothing_outside();
        assert_links_inside(&nest.dest, mode);
    }
    for strip in [0, 1] {
        let nest = Nest::new();
        let _ = if gzip {
            libbuildpack::archive::extract_tar_gz(bytes, &nest.dest, strip)
        } else {
            libbuildpack::archive::extract_tar(bytes, &nest.dest, strip)
        };
        nest.assert_nothing_outside();
        assert_links_inside(&nest.dest, Absolute::Outside);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(root: &Path, at: &str, target: &str) {
        std::os::unix::fs::symlink(target, root.join(at)).unwrap();
    }

    #[test]
    fn a_chain_of_links_that_climbs_out_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        link(dir.path(), "l1", ".");
        link(dir.path(), "l2", "l1/..");
        assert!(!resolves_inside(
            dir.path(),
            Path::new("l2"),
            Absolute::Root
        ));
        assert!(resolves_inside(dir.path(), Path::new("l1"), Absolute::Root));
    }

    #[test]
    fn absolute_targets_follow_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        link(dir.path(), "abs", "/cnb/x");
        assert!(resolves_inside(
            dir.path(),
            Path::new("abs"),
            Absolute::Root
        ));
        assert!(!resolves_inside(
            dir.path(),
            Path::new("abs"),
            Absolute::Outside
        ));
    }

    #[test]
    fn a_file_beside_the_destination_is_caught() {
        let nest = Nest::new();
        std::fs::create_dir_all(&nest.dest).unwrap();
        nest.assert_nothing_outside();
        std::fs::write(nest.dest.parent().unwrap().join("evil"), b"x").unwrap();
        let caught = std::panic::catch_unwind(|| nest.assert_nothing_outside());
        assert!(caught.is_err());
    }

    #[test]
    fn round_trip_catches_a_lossy_writer() {
        let lossy = std::panic::catch_unwind(|| {
            assert_round_trip(
                &3_i32,
                |_| Ok::<_, ()>("0".to_owned()),
                |t| t.parse::<i32>(),
            );
        });
        assert!(lossy.is_err());
        assert_round_trip(&3_i32, |v| Ok::<_, ()>(v.to_string()), |t| t.parse::<i32>());
    }
}
