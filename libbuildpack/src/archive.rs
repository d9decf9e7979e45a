//! Safe extraction of `.tar` and `.tar.gz` archives.
//!
//! Entries are refused when they would land outside the destination: absolute paths, `..`
//! components, symlinks or hard links whose target escapes it, and entries below a symlink.
//! Device files, FIFOs and other special entries are refused too. Modes are kept (without
//! setuid/setgid/sticky bits); owners are not.
//!
//! ```no_run
//! use libbuildpack::archive::extract_tar_gz;
//! let file = std::fs::File::open("tool.tar.gz")?;
//! extract_tar_gz(file, "/layers/acme_tool/tool".as_ref(), 1)?; // strip the top-level dir
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Extracts a gzip-compressed tar from `reader` into `dest`, dropping the first
/// `strip_components` path components of every entry.
///
/// # Errors
///
/// See [`extract_tar`].
pub fn extract_tar_gz(
    reader: impl Read,
    dest: &Path,
    strip_components: usize,
) -> Result<(), ArchiveError> {
    extract_tar(flate2::read::GzDecoder::new(reader), dest, strip_components)
}

/// Extracts a tar from `reader` into `dest` (created if missing).
///
/// # Errors
///
/// [`ArchiveError::Unsafe`] for an entry that would escape `dest` or is a special file,
/// [`ArchiveError::Read`] for a corrupt archive, [`ArchiveError::Write`] when a file cannot
/// be written.
pub fn extract_tar(
    reader: impl Read,
    dest: &Path,
    strip_components: usize,
) -> Result<(), ArchiveError> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArchiveError::Write { path, source }
    };
    std::fs::create_dir_all(dest).map_err(write_err(dest))?;
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(ArchiveError::Read)?;
    for entry in entries {
        let mut entry = entry.map_err(ArchiveError::Read)?;
        let raw = entry.path().map_err(ArchiveError::Read)?.into_owned();
        let unsafe_entry = |reason: &'static str| ArchiveError::Unsafe {
            entry: raw.clone(),
            reason,
        };
        let Some(relative) = clean_relative(&raw, strip_components).map_err(unsafe_entry)? else {
            continue;
        };
        let target = dest.join(&relative);
        check_no_symlink_parent(dest, &relative).map_err(unsafe_entry)?;
        let kind = entry.header().entry_type();
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(write_err(parent))?;
        }
        match kind {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target).map_err(write_err(&target))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                remove_existing(&target).map_err(write_err(&target))?;
                let mut file = std::fs::File::create(&target).map_err(write_err(&target))?;
                std::io::copy(&mut entry, &mut file).map_err(write_err(&target))?;
                set_mode(&target, entry.header().mode().unwrap_or(0o644))
                    .map_err(write_err(&target))?;
            }
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(ArchiveError::Read)?
                    .ok_or_else(|| unsafe_entry("a symlink without a target"))?
                    .into_owned();
                if link.is_absolute() {
                    return Err(unsafe_entry("a symlink with an absolute target"));
                }
                let resolved = relative.parent().unwrap_or(Path::new("")).join(&link);
                if normalize(&resolved).is_none() {
                    return Err(unsafe_entry("a symlink pointing outside the destination"));
                }
                remove_existing(&target).map_err(write_err(&target))?;
                symlink(&link, &target).map_err(write_err(&target))?;
            }
            tar::EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(ArchiveError::Read)?
                    .ok_or_else(|| unsafe_entry("a hard link without a target"))?
                    .into_owned();
                let Some(link_rel) = clean_relative(&link, strip_components)
                    .map_err(|_| unsafe_entry("a hard link pointing outside the destination"))?
                else {
                    return Err(unsafe_entry("a hard link pointing outside the destination"));
                };
                check_no_symlink_parent(dest, &link_rel)
                    .map_err(|_| unsafe_entry("a hard link through a symlink"))?;
                let source = dest.join(&link_rel);
                if std::fs::symlink_metadata(&source).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(unsafe_entry("a hard link to a symlink"));
                }
                remove_existing(&target).map_err(write_err(&target))?;
                std::fs::hard_link(&source, &target).map_err(write_err(&target))?;
            }
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            _ => return Err(unsafe_entry("a device file, FIFO or other special entry")),
        }
    }
    Ok(())
}

/// The entry's path relative to the destination after stripping, or `None` when stripping
/// consumes it.
fn clean_relative(path: &Path, strip: usize) -> Result<Option<PathBuf>, &'static str> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("a path with '..'"),
            Component::RootDir | Component::Prefix(_) => return Err("an absolute path"),
        }
    }
    if parts.len() <= strip {
        return Ok(None);
    }
    Ok(Some(parts[strip..].iter().collect()))
}

/// Resolves `.` and `..` lexically; `None` when the path climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Refuses to write through a symlink an earlier entry created.
fn check_no_symlink_parent(dest: &Path, relative: &Path) -> Result<(), &'static str> {
    let mut current = dest.to_path_buf();
    let parents: Vec<_> = relative.components().collect();
    for component in parents.iter().take(parents.len().saturating_sub(1)) {
        current.push(component);
        if std::fs::symlink_metadata(&current).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err("a path below a symlink");
        }
    }
    Ok(())
}

fn remove_existing(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o777))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn symlink(link: &Path, target: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(link, target)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "symlinks are not supported on this platform",
    ))
}

/// Extracting an archive failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The archive is corrupt or could not be read.
    #[error("could not read the archive: {0}")]
    Read(#[source] std::io::Error),
    /// An entry would escape the destination or is a special file.
    #[error("refusing archive entry {}: {reason}; the archive is unsafe to extract", entry.display())]
    Unsafe {
        /// The entry's path as stored.
        entry: PathBuf,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A file could not be written.
    #[error("could not extract to {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}
