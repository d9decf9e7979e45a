//! Reading tar archives rpack did not write (`.cnb` files, image layers, OCI archives) without trusting them:
//! entries that would land outside the destination (`..`, absolute paths where they are not allowed, links that
//! point out of the tree, writes through a link) and device files are refused, not skipped.

use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// How absolute entry names (`/cnb/buildpacks/...`) are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbsolutePaths {
    /// Refuse them: the archive must hold relative names only.
    Refuse,
    /// Read them relative to the destination, as image layers (and pack's `.cnb` files) mean them.
    RootRelative,
}

/// Why an archive was refused or could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The tar stream itself is broken.
    #[error("could not read the archive")]
    Read(#[source] io::Error),
    /// An entry name is unsafe.
    #[error("refusing entry {name:?}: {why}")]
    UnsafeEntry {
        /// The name as written in the archive.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A file could not be written.
    #[error("could not write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// The path an entry name stands for, relative to the destination, or why it is refused.
///
/// # Errors
/// When the name is empty, climbs with `..`, or is absolute under [`AbsolutePaths::Refuse`].
pub fn entry_path(name: &str, absolute: AbsolutePaths) -> Result<PathBuf, ArchiveError> {
    let refuse = |why| ArchiveError::UnsafeEntry {
        name: name.to_owned(),
        why,
    };
    if name.starts_with('/') && absolute == AbsolutePaths::Refuse {
        return Err(refuse("absolute paths are not allowed"));
    }
    let mut out = PathBuf::new();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => return Err(refuse("`..` is not allowed")),
            Component::Prefix(_) => return Err(refuse("path prefixes are not allowed")),
        }
    }
    Ok(out)
}

/// Whether `target`, a link at `link` (both relative to the destination), stays inside the destination.
fn link_stays_inside(link: &Path, target: &Path, absolute: AbsolutePaths) -> bool {
    let mut depth: Vec<&std::ffi::OsStr> = Vec::new();
    if target.is_absolute() {
        if absolute == AbsolutePaths::Refuse {
            return false;
        }
    } else {
        depth.extend(
            link.parent()
                .into_iter()
                .flat_map(Path::components)
                .filter_map(|c| match c {
                    Component::Normal(p) => Some(p),
                    _ => None,
                }),
        );
    }
    for component in target.components() {
        match component {
            Component::Normal(part) => depth.push(part),
            Component::ParentDir => {
                if depth.pop().is_none() {
                    return false;
                }
            }
            Component::CurDir | Component::RootDir => {}
            Component::Prefix(_) => return false,
        }
    }
    true
}

/// Fails when any existing ancestor of `rel` under `dest` is a symlink: writing there would follow it.
fn check_no_link_on_the_way(dest: &Path, rel: &Path, name: &str) -> Result<(), ArchiveError> {
    let mut at = dest.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        at.push(part);
        if let Ok(meta) = std::fs::symlink_metadata(&at)
            && meta.file_type().is_symlink()
        {
            return Err(ArchiveError::UnsafeEntry {
                name: name.to_owned(),
                why: "it would be written through a symlink",
            });
        }
    }
    Ok(())
}

/// Extracts the tar stream `reader` into `dest` (created if missing), checking every entry first.
/// Modes are kept (without setuid/setgid/sticky bits); owners and mtimes are not.
///
/// # Errors
/// On an unsafe entry (see the module docs), a broken archive, or a write error. What was extracted before
/// the failure stays; extract into a temp dir and rename it when the whole archive is good.
pub fn extract(
    reader: impl Read,
    dest: &Path,
    absolute: AbsolutePaths,
) -> Result<(), ArchiveError> {
    use std::os::unix::fs::PermissionsExt;
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArchiveError::Write { path, source }
    };
    fs_err::create_dir_all(dest).map_err(write_err(dest))?;
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(ArchiveError::Read)? {
        let mut entry = entry.map_err(ArchiveError::Read)?;
        let raw = entry.path_bytes();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let refuse = |why| ArchiveError::UnsafeEntry {
            name: name.clone(),
            why,
        };
        let rel = entry_path(&name, absolute)?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        check_no_link_on_the_way(dest, &rel, &name)?;
        let path = dest.join(&rel);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(write_err(parent))?;
        }
        let mode = entry.header().mode().map_err(ArchiveError::Read)? & 0o777;
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Directory => {
                fs_err::create_dir_all(&path).map_err(write_err(&path))?;
                fs_err::set_permissions(&path, std::fs::Permissions::from_mode(mode | 0o700))
                    .map_err(write_err(&path))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                remove_existing(&path)?;
                let mut file = fs_err::File::create(&path).map_err(write_err(&path))?;
                io::copy(&mut entry, &mut file).map_err(write_err(&path))?;
                file.set_permissions(std::fs::Permissions::from_mode(mode))
                    .map_err(write_err(&path))?;
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(ArchiveError::Read)?
                    .ok_or_else(|| refuse("a symlink without a target"))?;
                if !link_stays_inside(&rel, &target, absolute) {
                    return Err(refuse("its symlink target points outside the archive"));
                }
                remove_existing(&path)?;
                std::os::unix::fs::symlink(&target, &path).map_err(write_err(&path))?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(ArchiveError::Read)?
                    .ok_or_else(|| refuse("a hard link without a target"))?;
                let target = entry_path(&target.to_string_lossy(), absolute)
                    .map_err(|_| refuse("its hard link target points outside the archive"))?;
                check_no_link_on_the_way(dest, &target, &name)?;
                let source = dest.join(&target);
                let meta = std::fs::symlink_metadata(&source)
                    .map_err(|_| refuse("its hard link target is not in the archive before it"))?;
                if !meta.is_file() {
                    return Err(refuse("its hard link target is not a regular file"));
                }
                remove_existing(&path)?;
                fs_err::hard_link(&source, &path).map_err(write_err(&path))?;
            }
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                return Err(refuse("device files and fifos are not allowed"));
            }
            _ => return Err(refuse("unsupported entry type")),
        }
    }
    Ok(())
}

fn remove_existing(path: &Path) -> Result<(), ArchiveError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(ArchiveError::UnsafeEntry {
            name: path.display().to_string(),
            why: "a file would replace a directory",
        }),
        Ok(_) => std::fs::remove_file(path).map_err(|source| ArchiveError::Write {
            path: path.to_owned(),
            source,
        }),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar built header by header, so names and links can be anything (tar-rs refuses to write `..`).
    fn crafted(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, link, data) in entries {
            let mut header = tar::Header::new_old();
            let bytes = name.as_bytes();
            header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            if !link.is_empty() {
                let l = link.as_bytes();
                header.as_old_mut().linkname[..l.len()].copy_from_slice(l);
            }
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn extract_crafted(
        entries: &[(&str, tar::EntryType, &str, &[u8])],
        absolute: AbsolutePaths,
    ) -> (tempfile::TempDir, Result<(), ArchiveError>) {
        let dir = tempfile::tempdir().unwrap();
        let result = extract(
            io::Cursor::new(crafted(entries)),
            &dir.path().join("out"),
            absolute,
        );
        (dir, result)
    }

    fn refused(result: &Result<(), ArchiveError>) -> bool {
        matches!(result, Err(ArchiveError::UnsafeEntry { .. }))
    }

    use tar::EntryType as T;

    #[test]
    fn plain_archive_extracts() {
        let (dir, result) = extract_crafted(
            &[
                ("a/", T::Directory, "", b""),
                ("a/b.txt", T::Regular, "", b"hi"),
                ("a/c", T::Symlink, "b.txt", b""),
                ("a/d", T::Link, "a/b.txt", b""),
            ],
            AbsolutePaths::Refuse,
        );
        result.unwrap();
        let out = dir.path().join("out");
        assert_eq!(fs_err::read_to_string(out.join("a/c")).unwrap(), "hi");
        assert_eq!(fs_err::read_to_string(out.join("a/d")).unwrap(), "hi");
    }

    #[test]
    fn refuses_parent_dir_entries() {
        let (dir, result) =
            extract_crafted(&[("../evil", T::Regular, "", b"x")], AbsolutePaths::Refuse);
        assert!(refused(&result));
        assert!(!dir.path().join("evil").exists());
        let (_, result) = extract_crafted(
            &[("a/../../evil", T::Regular, "", b"x")],
            AbsolutePaths::RootRelative,
        );
        assert!(refused(&result));
    }

    #[test]
    fn refuses_absolute_paths_unless_root_relative() {
        let (_, result) = extract_crafted(
            &[("/etc/evil", T::Regular, "", b"x")],
            AbsolutePaths::Refuse,
        );
        assert!(refused(&result));
        let (dir, result) = extract_crafted(
            &[("/cnb/x", T::Regular, "", b"x")],
            AbsolutePaths::RootRelative,
        );
        result.unwrap();
        assert!(dir.path().join("out/cnb/x").is_file());
    }

    #[test]
    fn refuses_symlinks_that_escape() {
        for target in ["../../etc/passwd", "/etc/passwd", "a/../../x"] {
            let (_, result) =
                extract_crafted(&[("link", T::Symlink, target, b"")], AbsolutePaths::Refuse);
            assert!(refused(&result), "{target}");
        }
        // An absolute target inside a layer means the image root, which is inside.
        let (_, result) = extract_crafted(
            &[("link", T::Symlink, "/cnb/x", b"")],
            AbsolutePaths::RootRelative,
        );
        result.unwrap();
    }

    #[test]
    fn refuses_writing_through_a_symlink() {
        let (dir, result) = extract_crafted(
            &[
                ("d", T::Symlink, ".", b""),
                ("d/file", T::Regular, "", b"x"),
            ],
            AbsolutePaths::Refuse,
        );
        assert!(refused(&result));
        assert!(!dir.path().join("out/file").exists());
    }

    #[test]
    fn refuses_hard_links_out_of_the_tree() {
        let (_, result) = extract_crafted(
            &[("h", T::Link, "../../etc/passwd", b"")],
            AbsolutePaths::Refuse,
        );
        assert!(refused(&result));
        let (_, result) = extract_crafted(&[("h", T::Link, "missing", b"")], AbsolutePaths::Refuse);
        assert!(refused(&result));
    }

    #[test]
    fn refuses_device_files() {
        for kind in [T::Char, T::Block, T::Fifo] {
            let (_, result) = extract_crafted(&[("dev", kind, "", b"")], AbsolutePaths::Refuse);
            assert!(refused(&result));
        }
    }
}
