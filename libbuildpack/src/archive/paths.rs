//! Where entries land and where links lead, checked against the tree extracted so far.
//!
//! The invariant: every symlink the extractor leaves resolves inside the destination, whatever later entries
//! do. A target is kept as written when its `..` components all come first (they climb the real directories
//! above the link, which later entries cannot turn into symlinks: a symlink never replaces a directory and
//! nothing is written through one) and the rest only descends, through links that keep the invariant. Any
//! other target is rewritten to that form, from where it resolves now.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::{AbsolutePaths, Refusal};

/// More links than this in one resolution is a loop (Linux's `MAXSYMLINKS`).
const MAX_LINK_HOPS: u32 = 40;

/// The entry `name` relative to the destination, after dropping `strip` leading components; `None` when
/// nothing is left (the entry is skipped).
pub(super) fn clean(
    name: &Path,
    strip: usize,
    absolute: AbsolutePaths,
) -> Result<Option<PathBuf>, Refusal> {
    let mut parts = Vec::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(Refusal::ParentDir),
            Component::RootDir if absolute == AbsolutePaths::RootRelative => {}
            Component::RootDir | Component::Prefix(_) => return Err(Refusal::AbsolutePath),
        }
    }
    Ok(parts
        .get(strip..)
        .filter(|rest| !rest.is_empty())
        .map(|rest| rest.iter().collect()))
}

/// Fails when a directory on the way to `rel` is a symlink: creating the entry would write through it.
pub(super) fn check_no_symlink_on_the_way(dest: &Path, rel: &Path) -> Result<(), Refusal> {
    let mut at = dest.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        at.push(part);
        if is_symlink(&at) {
            return Err(Refusal::BelowSymlink);
        }
    }
    Ok(())
}

pub(super) fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Why a symlink target cannot be kept.
pub(super) enum LinkProblem {
    /// Absolute, under [`AbsolutePaths::Refuse`].
    Absolute,
    /// It resolves outside the destination.
    Escapes,
    /// It goes through too many links.
    Loop,
    /// A link in the tree could not be read.
    Io(PathBuf, io::Error),
}

/// The target to write for a symlink at `link` (relative to `dest`) that the archive gives as `target`:
/// `target` itself, or the relative path of where it resolves now (see the module docs).
///
/// # Errors
/// When `target` is absolute and `absolute` is [`AbsolutePaths::Refuse`], resolves outside `dest` (links
/// already in the tree followed), or goes through a link loop.
pub(super) fn symlink_target(
    dest: &Path,
    link: &Path,
    target: &Path,
    absolute: AbsolutePaths,
) -> Result<PathBuf, LinkProblem> {
    let parent = normal_parts(link.parent().unwrap_or(Path::new("")));
    let is_absolute = target.has_root();
    if is_absolute && absolute == AbsolutePaths::Refuse {
        return Err(LinkProblem::Absolute);
    }
    let start = if is_absolute {
        Vec::new()
    } else {
        parent.clone()
    };
    let mut hops = 0;
    let resolved = resolve(dest, start, target, &mut hops)?;
    if !is_absolute && climbs_then_descends(target) {
        return Ok(target.to_path_buf());
    }
    // An absolute target means the image root: written relative to the link, as it was meant, so that the
    // link never leads to the host's root. Other targets are written as where they lead now.
    let to = if is_absolute && climbs_then_descends(target) {
        normal_parts(target)
    } else {
        resolved
    };
    Ok(relative(&parent, &to))
}

/// Where `target`, read in the directory `at`, leads, following the links already in the tree.
fn resolve(
    dest: &Path,
    mut at: Vec<OsString>,
    target: &Path,
    hops: &mut u32,
) -> Result<Vec<OsString>, LinkProblem> {
    for component in target.components() {
        match component {
            Component::RootDir => at.clear(),
            Component::CurDir => {}
            Component::Prefix(_) => return Err(LinkProblem::Escapes),
            Component::ParentDir => {
                if at.pop().is_none() {
                    return Err(LinkProblem::Escapes);
                }
            }
            Component::Normal(part) => {
                at.push(part.to_owned());
                let here: PathBuf = std::iter::once(dest.as_os_str())
                    .chain(at.iter().map(OsString::as_os_str))
                    .collect();
                if !is_symlink(&here) {
                    continue;
                }
                *hops += 1;
                if *hops > MAX_LINK_HOPS {
                    return Err(LinkProblem::Loop);
                }
                let next = std::fs::read_link(&here).map_err(|e| LinkProblem::Io(here, e))?;
                // The extractor never writes an absolute link, so this one was there before: on the host it
                // leads out of the destination.
                if next.has_root() {
                    return Err(LinkProblem::Escapes);
                }
                at.pop();
                at = resolve(dest, at, &next, hops)?;
            }
        }
    }
    Ok(at)
}

/// Whether every `..` of `target` comes before its first name.
fn climbs_then_descends(target: &Path) -> bool {
    let mut descending = false;
    for component in target.components() {
        match component {
            Component::ParentDir if descending => return false,
            Component::Normal(_) => descending = true,
            _ => {}
        }
    }
    true
}

fn normal_parts(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_owned()),
            _ => None,
        })
        .collect()
}

/// The path from the directory `from` to `to`, both relative to the same root: `..` up to their common
/// prefix, then down.
fn relative(from: &[OsString], to: &[OsString]) -> PathBuf {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let mut out: PathBuf = std::iter::repeat_n("..", from.len() - common).collect();
    out.extend(&to[common..]);
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(path: &str) -> Vec<OsString> {
        normal_parts(Path::new(path))
    }

    #[test]
    fn archive_relative_paths_climb_to_the_common_prefix() {
        assert_eq!(
            relative(&parts("a/b"), &parts("a/c/d")),
            Path::new("../c/d")
        );
        assert_eq!(relative(&parts(""), &parts("etc")), Path::new("etc"));
        assert_eq!(relative(&parts("a/b"), &parts("")), Path::new("../.."));
        assert_eq!(relative(&parts("a"), &parts("a")), Path::new("."));
    }

    #[test]
    fn archive_targets_that_climb_after_a_name_are_not_kept_as_written() {
        assert!(climbs_then_descends(Path::new("../../lib/x")));
        assert!(climbs_then_descends(Path::new("./x/y")));
        assert!(!climbs_then_descends(Path::new("x/../y")));
        assert!(!climbs_then_descends(Path::new("../x/l/../y")));
    }
}
