//! Safe extraction of `.tar` and `.tar.gz` archives from anywhere: a buildpack's downloads, and in rpack
//! `.cnb` files, OCI archives and image layers.
//!
//! Nothing lands or leads outside the destination. Refused, with an error naming the entry (never
//! skipped):
//! - names with `..`, and absolute names unless [`AbsolutePaths::RootRelative`];
//! - entries below a symlink (writing them would follow it);
//! - symlinks whose target leaves the destination, resolved against what is already extracted (so a chain
//!   such as `x/l -> ..` then `t -> x/l/../../outside` is caught), and link loops;
//! - hard links to anything but a regular file extracted before them;
//! - device files, FIFOs, sparse files and other special entries, and a file or link replacing a directory;
//! - archives past the caps on size ([`Extract::max_bytes`]) and entry count ([`Extract::max_entries`]).
//!
//! Every symlink left behind keeps leading inside the destination whatever later entries do: a target whose
//! `..` comes after a name, or an absolute one under [`AbsolutePaths::RootRelative`], is written as the
//! relative path from the link to where it leads (`/cnb/x` at `cnb/buildpacks/a` becomes `../x`); never as
//! an absolute link into the host.
//!
//! Names are kept byte for byte, also when they are not UTF-8 (two names never collide), and are shown
//! escaped in errors ([`EntryName`]). Modes are kept without setuid, setgid and sticky bits; owners and
//! mtimes are not. What was extracted before an error stays: extract into a temp dir and move it into place
//! once the whole archive is good.
//!
//! ```no_run
//! use libbuildpack::archive::Extract;
//! let file = std::fs::File::open("tool.tar.gz")?;
//! // The top-level dir dropped; at most 2 GiB.
//! Extract::new("/layers/acme_tool/tool")
//!     .strip_components(1)
//!     .max_bytes(2 << 30)
//!     .tar_gz(file)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod name;
mod paths;

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub use name::EntryName;
use name::ShownPath;
use paths::LinkProblem;

/// How absolute entry names (`/cnb/buildpacks/...`) and absolute symlink targets are treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AbsolutePaths {
    /// Refuse them: the archive must hold relative names only (downloads, the default).
    #[default]
    Refuse,
    /// Read them relative to the destination, as image layers mean them (the destination is the image
    /// root): `/cnb/x` is `dest/cnb/x`, and a symlink to `/cnb/x` is written as a relative link to it.
    RootRelative,
}

/// A limit on what one [`Extract`] may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    /// [`Extract::max_bytes`].
    Bytes,
    /// [`Extract::max_entries`].
    Entries,
}

/// Extracts tar streams into a directory, with the checks of the [module docs](crate::archive).
///
/// One `Extract` can extract several archives into the same destination (an image's layers, in order);
/// its caps then apply to all of them together.
#[derive(Debug)]
#[must_use]
pub struct Extract {
    dest: PathBuf,
    strip: usize,
    absolute: AbsolutePaths,
    max_bytes: u64,
    max_entries: u64,
    raise_bytes: Cow<'static, str>,
    raise_entries: Cow<'static, str>,
    bytes: u64,
    entries: u64,
}

impl Extract {
    /// The default of [`Self::max_bytes`]: 8 GiB.
    pub const DEFAULT_MAX_BYTES: u64 = 8 << 30;
    /// The default of [`Self::max_entries`]: a million.
    pub const DEFAULT_MAX_ENTRIES: u64 = 1_000_000;

    /// Extracts into `dest` (created if missing), with no components stripped, absolute names refused
    /// and the default caps.
    pub fn new(dest: impl Into<PathBuf>) -> Self {
        Self {
            dest: dest.into(),
            strip: 0,
            absolute: AbsolutePaths::Refuse,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_entries: Self::DEFAULT_MAX_ENTRIES,
            raise_bytes: Cow::Borrowed(
                "a program that trusts the archive can raise it with Extract::max_bytes",
            ),
            raise_entries: Cow::Borrowed(
                "a program that trusts the archive can raise it with Extract::max_entries",
            ),
            bytes: 0,
            entries: 0,
        }
    }

    /// Drops the first `n` components of every entry name (and hard link target); entries with no more
    /// components than that are skipped.
    pub fn strip_components(mut self, n: usize) -> Self {
        self.strip = n;
        self
    }

    /// How absolute names and symlink targets are treated (default [`AbsolutePaths::Refuse`]).
    pub fn absolute_paths(mut self, absolute: AbsolutePaths) -> Self {
        self.absolute = absolute;
        self
    }

    /// The most bytes of uncompressed tar stream (contents, headers and padding) to read, so a small
    /// compressed archive cannot fill the disk or memory. Default [`Self::DEFAULT_MAX_BYTES`].
    pub fn max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = max;
        self
    }

    /// The most entries to read. Default [`Self::DEFAULT_MAX_ENTRIES`].
    pub fn max_entries(mut self, max: u64) -> Self {
        self.max_entries = max;
        self
    }

    /// What the error for an exceeded `cap` tells the user to do (by default it names the method that
    /// raises the cap, which is right for a program's author; a CLI names its flag or env var).
    pub fn how_to_raise(mut self, cap: Cap, text: impl Into<Cow<'static, str>>) -> Self {
        match cap {
            Cap::Bytes => self.raise_bytes = text.into(),
            Cap::Entries => self.raise_entries = text.into(),
        }
        self
    }

    /// Extracts the gzip-compressed tar `reader`.
    ///
    /// # Errors
    /// As [`Self::tar`]; a stream that is not gzip is [`ArchiveError::Read`].
    pub fn tar_gz(&mut self, reader: impl Read) -> Result<(), ArchiveError> {
        self.tar(flate2::read::GzDecoder::new(reader))
    }

    /// Extracts the uncompressed tar `reader`.
    ///
    /// # Errors
    /// [`ArchiveError::Unsafe`] for an entry the [module docs](crate::archive) list as refused,
    /// [`ArchiveError::TooLarge`] past a cap, [`ArchiveError::Read`] for a damaged archive,
    /// [`ArchiveError::Write`] when the destination cannot be written.
    pub fn tar(&mut self, reader: impl Read) -> Result<(), ArchiveError> {
        std::fs::create_dir_all(&self.dest).map_err(write_error(&self.dest))?;
        let read = Cell::new(self.bytes);
        let capped = Capped {
            inner: reader,
            read: &read,
            limit: self.max_bytes,
        };
        let mut archive = tar::Archive::new(capped);
        let result = self.entries_of(&mut archive, &read);
        self.bytes = read.get();
        result
    }

    fn entries_of<R: Read>(
        &mut self,
        archive: &mut tar::Archive<R>,
        read: &Cell<u64>,
    ) -> Result<(), ArchiveError> {
        let entries = archive.entries().map_err(|e| self.read_error(e, read))?;
        for entry in entries {
            let entry = entry.map_err(|e| self.read_error(e, read))?;
            self.entries += 1;
            if self.entries > self.max_entries {
                return Err(self.too_large(Cap::Entries));
            }
            self.entry(entry, read)?;
        }
        Ok(())
    }

    fn entry<R: Read>(
        &self,
        mut entry: tar::Entry<'_, R>,
        read: &Cell<u64>,
    ) -> Result<(), ArchiveError> {
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
        ) {
            return Ok(());
        }
        let name = EntryName::from_bytes(entry.path_bytes().into_owned());
        let refuse = |reason| ArchiveError::Unsafe {
            entry: name.clone(),
            reason,
        };
        let kind = Kind::of(kind).map_err(refuse)?;
        let raw = entry.path().map_err(ArchiveError::Read)?.into_owned();
        let Some(rel) = paths::clean(&raw, self.strip, self.absolute).map_err(refuse)? else {
            return Ok(());
        };
        paths::check_no_symlink_on_the_way(&self.dest, &rel).map_err(refuse)?;
        let path = self.dest.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write_error(parent))?;
        }
        let mode = entry.header().mode().map_err(ArchiveError::Read)? & 0o777;
        match kind {
            Kind::Dir => make_dir(&path, mode),
            Kind::File => {
                if read.get().saturating_add(entry.size()) > self.max_bytes {
                    return Err(self.too_large(Cap::Bytes));
                }
                remove_non_dir(&path, refuse)?;
                let file = create_file(&path)?;
                self.copy(&mut entry, file, &path, read)?;
                set_mode(&path, mode)
            }
            Kind::Symlink => {
                let target = link_name(&entry)?.ok_or_else(|| refuse(Refusal::EmptySymlink))?;
                let written = paths::symlink_target(&self.dest, &rel, &target, self.absolute)
                    .map_err(|problem| {
                        let shown = EntryName::from_path(&target);
                        match problem {
                            LinkProblem::Absolute => refuse(Refusal::AbsoluteSymlink(shown)),
                            LinkProblem::Escapes => refuse(Refusal::SymlinkEscapes(shown)),
                            LinkProblem::Loop => refuse(Refusal::SymlinkLoop(shown)),
                            LinkProblem::Io(path, source) => ArchiveError::Write { path, source },
                        }
                    })?;
                remove_non_dir(&path, refuse)?;
                symlink(&written, &path).map_err(write_error(&path))
            }
            Kind::HardLink => {
                let target = link_name(&entry)?.ok_or_else(|| refuse(Refusal::EmptyHardLink))?;
                let shown = EntryName::from_path(&target);
                let source = match paths::clean(&target, self.strip, self.absolute) {
                    Ok(Some(source))
                        if paths::check_no_symlink_on_the_way(&self.dest, &source).is_ok() =>
                    {
                        self.dest.join(source)
                    }
                    _ => return Err(refuse(Refusal::HardLinkEscapes(shown))),
                };
                if !std::fs::symlink_metadata(&source).is_ok_and(|m| m.file_type().is_file()) {
                    return Err(refuse(Refusal::HardLinkNotAFile(shown)));
                }
                remove_non_dir(&path, refuse)?;
                std::fs::hard_link(&source, &path).map_err(write_error(&path))
            }
        }
    }

    /// Copies an entry's content, telling a damaged or oversized archive from a failing disk.
    fn copy(
        &self,
        entry: &mut impl Read,
        mut file: std::fs::File,
        path: &Path,
        read: &Cell<u64>,
    ) -> Result<(), ArchiveError> {
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.read_error(e, read)),
            };
            file.write_all(&buf[..n]).map_err(write_error(path))?;
        }
    }

    fn read_error(&self, error: io::Error, read: &Cell<u64>) -> ArchiveError {
        if read.get() > self.max_bytes {
            self.too_large(Cap::Bytes)
        } else {
            ArchiveError::Read(error)
        }
    }

    fn too_large(&self, cap: Cap) -> ArchiveError {
        let (limit, raise) = match cap {
            Cap::Bytes => (self.max_bytes, &self.raise_bytes),
            Cap::Entries => (self.max_entries, &self.raise_entries),
        };
        ArchiveError::TooLarge {
            cap,
            limit,
            raise: raise.clone(),
        }
    }
}

/// The entry types that are extracted.
enum Kind {
    Dir,
    File,
    Symlink,
    HardLink,
}

impl Kind {
    /// Refuses every other type before anything is created for the entry.
    fn of(kind: tar::EntryType) -> Result<Self, Refusal> {
        match kind {
            tar::EntryType::Directory => Ok(Self::Dir),
            tar::EntryType::Regular | tar::EntryType::Continuous => Ok(Self::File),
            tar::EntryType::Symlink => Ok(Self::Symlink),
            tar::EntryType::Link => Ok(Self::HardLink),
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                Err(Refusal::Special)
            }
            tar::EntryType::GNUSparse => Err(Refusal::Sparse),
            other => Err(Refusal::Unsupported(other.as_byte())),
        }
    }
}

/// Extracts the tar `reader` into `dest` with [`Extract`]'s defaults, dropping the first `strip_components`
/// components of every name.
///
/// # Errors
/// See [`Extract::tar`].
pub fn extract_tar(
    reader: impl Read,
    dest: &Path,
    strip_components: usize,
) -> Result<(), ArchiveError> {
    Extract::new(dest)
        .strip_components(strip_components)
        .tar(reader)
}

/// [`extract_tar`] for a gzip-compressed tar.
///
/// # Errors
/// See [`Extract::tar`].
pub fn extract_tar_gz(
    reader: impl Read,
    dest: &Path,
    strip_components: usize,
) -> Result<(), ArchiveError> {
    Extract::new(dest)
        .strip_components(strip_components)
        .tar_gz(reader)
}

/// The path, relative to the destination, where an entry named `name` would land: its names without `.`
/// (and without the leading `/` under [`AbsolutePaths::RootRelative`]); empty for `.`.
///
/// # Errors
/// [`ArchiveError::Unsafe`] when `name` has `..`, or is absolute under [`AbsolutePaths::Refuse`].
pub fn entry_path(name: &Path, absolute: AbsolutePaths) -> Result<PathBuf, ArchiveError> {
    paths::clean(name, 0, absolute)
        .map(Option::unwrap_or_default)
        .map_err(|reason| ArchiveError::Unsafe {
            entry: EntryName::from_path(name),
            reason,
        })
}

/// Counts the bytes of the (uncompressed) tar stream and stops reading past `limit`.
struct Capped<'a, R> {
    inner: R,
    read: &'a Cell<u64>,
    limit: u64,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let room = self.limit.saturating_sub(self.read.get());
        // At the cap, one more byte tells the end of the stream from an archive that is too large.
        let want = usize::try_from(room).map_or(buf.len(), |room| room.clamp(1, buf.len()));
        let n = self.inner.read(&mut buf[..want])?;
        self.read.set(self.read.get().saturating_add(n as u64));
        if self.read.get() > self.limit {
            return Err(io::Error::other("the archive is larger than the cap"));
        }
        Ok(n)
    }
}

fn link_name<R: Read>(entry: &tar::Entry<'_, R>) -> Result<Option<PathBuf>, ArchiveError> {
    Ok(entry
        .link_name()
        .map_err(ArchiveError::Read)?
        .map(Cow::into_owned)
        .filter(|target| !target.as_os_str().is_empty()))
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Makes `path` a directory: a file or symlink there is replaced (a later entry wins), a directory kept.
fn make_dir(path: &Path, mode: u32) -> Result<(), ArchiveError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            std::fs::remove_file(path).map_err(write_error(path))?;
            std::fs::create_dir(path).map_err(write_error(path))?;
        }
        Err(_) => std::fs::create_dir(path).map_err(write_error(path))?,
    }
    // The owner keeps write access, or the entries below it could not be extracted.
    set_mode(path, mode | 0o700)
}

/// Removes a file or symlink at `path` so an entry can take its place; a directory is refused (replacing
/// it would drop everything extracted below it).
fn remove_non_dir(
    path: &Path,
    refuse: impl FnOnce(Refusal) -> ArchiveError,
) -> Result<(), ArchiveError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(refuse(Refusal::ReplacesDirectory)),
        Ok(_) => std::fs::remove_file(path).map_err(write_error(path)),
        Err(_) => Ok(()),
    }
}

/// Creates a new file, never opening one that is there (or a symlink that appeared since).
fn create_file(path: &Path) -> Result<std::fs::File, ArchiveError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(write_error(path))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), ArchiveError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o777))
        .map_err(write_error(path))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<(), ArchiveError> {
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, path: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, path)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::other(
        "symlinks are not supported on this platform",
    ))
}

/// Why an entry was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The name has a `..` component.
    ParentDir,
    /// The name is absolute under [`AbsolutePaths::Refuse`].
    AbsolutePath,
    /// A directory on the way to the entry is a symlink.
    BelowSymlink,
    /// A symlink with an empty target.
    EmptySymlink,
    /// A hard link with an empty target.
    EmptyHardLink,
    /// A symlink with an absolute target (as stored) under [`AbsolutePaths::Refuse`].
    AbsoluteSymlink(EntryName),
    /// A symlink whose target (as stored) resolves outside the destination, links already extracted
    /// followed.
    SymlinkEscapes(EntryName),
    /// A symlink whose target (as stored) goes through more than 40 links.
    SymlinkLoop(EntryName),
    /// A hard link whose target (as stored) is outside the destination or below a symlink.
    HardLinkEscapes(EntryName),
    /// A hard link whose target (as stored) is not a regular file extracted before it.
    HardLinkNotAFile(EntryName),
    /// A device file or FIFO.
    Special,
    /// A GNU sparse file.
    Sparse,
    /// An entry type the extractor does not know (its type byte).
    Unsupported(u8),
    /// A file or link would replace a directory.
    ReplacesDirectory,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ParentDir => f.write_str("a path with '..'"),
            Self::AbsolutePath => f.write_str("an absolute path"),
            Self::BelowSymlink => {
                f.write_str("a path below a symlink (writing it would follow the link)")
            }
            Self::EmptySymlink => f.write_str("a symlink without a target"),
            Self::EmptyHardLink => f.write_str("a hard link without a target"),
            Self::AbsoluteSymlink(target) => {
                write!(f, "a symlink with an absolute target ({target})")
            }
            Self::SymlinkEscapes(target) => write!(
                f,
                "a symlink pointing outside the destination ({target}, following the links already extracted)"
            ),
            Self::SymlinkLoop(target) => write!(f, "a symlink through a loop of links ({target})"),
            Self::HardLinkEscapes(target) => {
                write!(f, "a hard link pointing outside the destination ({target})")
            }
            Self::HardLinkNotAFile(target) => write!(
                f,
                "a hard link to {target}, which is not a regular file extracted before it"
            ),
            Self::Special => f.write_str("a device file, FIFO or other special entry"),
            Self::Sparse => f.write_str("a sparse file"),
            Self::Unsupported(byte) => {
                write!(f, "an entry of unknown type {}", byte.escape_ascii())
            }
            Self::ReplacesDirectory => f.write_str("a file or link replacing a directory"),
        }
    }
}

/// Extracting an archive failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The archive is damaged or could not be read.
    #[error("could not read the archive")]
    Read(#[source] io::Error),
    /// An entry would land or lead outside the destination, or is a special file.
    #[error("refusing archive entry {entry}: {reason}")]
    Unsafe {
        /// The entry's name as stored.
        entry: EntryName,
        /// Why it was refused.
        reason: Refusal,
    },
    /// The archive is larger than a cap of the [`Extract`].
    #[error("{}; {raise}", too_large(*.cap, *.limit))]
    TooLarge {
        /// Which cap.
        cap: Cap,
        /// Its value.
        limit: u64,
        /// What raises it.
        raise: Cow<'static, str>,
    },
    /// The destination could not be written.
    #[error("could not extract to {}", ShownPath(path))]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

fn too_large(cap: Cap, limit: u64) -> String {
    match cap {
        Cap::Bytes => format!(
            "the archive expands to more than {limit} bytes{}, the cap on one extraction",
            readable(limit)
        ),
        Cap::Entries => {
            format!("the archive has more than {limit} entries, the cap on one extraction")
        }
    }
}

/// ` (8.0 GiB)`, ` (1.5 MiB)`; nothing under a MiB, where the byte count reads well enough.
fn readable(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // one decimal shown
    let value = bytes as f64;
    if bytes >= 1 << 30 {
        format!(" ({:.1} GiB)", value / f64::from(1u32 << 30))
    } else if bytes >= 1 << 20 {
        format!(" ({:.1} MiB)", value / f64::from(1u32 << 20))
    } else {
        String::new()
    }
}
