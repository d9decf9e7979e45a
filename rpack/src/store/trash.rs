//! Removing big trees off the critical path. A fresh build of an ML app leaves a work dir holding a copy of
//! a 300 MB venv, and `--clear-cache` drops a build cache volume of the same size; removing either took
//! 1.5–15 s on the benchmark machine (thousands of unlinks, each freeing blocks that the file system then
//! discards). A tree given to [`dispose`] is renamed into the store's `trash/` dir (instant: same file
//! system) and removed there by a background `rm`, so the command returns as soon as its result is in place.
//!
//! Nothing of the tree stays visible where it was. What an interrupted `rm` leaves in `trash/` is handed to
//! the next `rm` that [`dispose`] starts once it is old enough not to be another command's, and `rpack
//! prune` removes all of it ([`sweep`]).

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

/// How old an entry of `trash/` must be before a new removal takes it over: older than any `rm` of a live
/// command would run.
const ABANDONED_AFTER: Duration = Duration::from_secs(10 * 60);

/// The store's trash dir.
fn dir(home: &Path) -> PathBuf {
    home.join("trash")
}

/// Moves `path` (a dir or file under the store `home`) out of the way at once and removes it in the
/// background. A missing `path` is fine. When the rename cannot be made (another file system), `path` is
/// removed before this returns.
///
/// # Errors
/// When neither the move nor the removal works.
pub(crate) fn dispose(home: &Path, path: &Path) -> io::Result<()> {
    if fs_err::symlink_metadata(path).is_err() {
        return Ok(());
    }
    let trash = dir(home);
    fs_err::create_dir_all(&trash)?;
    let target = tempfile::Builder::new()
        .prefix("disposed-")
        .tempdir_in(&trash)?
        .keep();
    let moved = target.join("tree");
    if std::fs::rename(path, &moved).is_err() {
        let _ = fs_err::remove_dir(&target);
        return crate::toolbox::scratch::remove_path(path);
    }
    let mut doomed = vec![target];
    doomed.extend(abandoned(&trash));
    remove_in_background(doomed);
    Ok(())
}

/// Removes everything in the store's trash now (for `rpack prune`); returns how many entries went and their
/// bytes.
pub(crate) fn sweep(home: &Path) -> (usize, u64) {
    let mut removed = (0, 0);
    let Ok(entries) = fs_err::read_dir(dir(home)) else {
        return removed;
    };
    for entry in entries.filter_map(Result::ok) {
        let bytes = crate::store::disk_usage(&entry.path());
        if crate::toolbox::scratch::remove_path(&entry.path()).is_ok() {
            removed.0 += 1;
            removed.1 += bytes;
        }
    }
    removed
}

/// Entries of `trash` old enough that no live command's `rm` is still on them.
fn abandoned(trash: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(trash) else {
        return Vec::new();
    };
    let now = SystemTime::now();
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| now.duration_since(at).ok())
                .is_some_and(|age| age > ABANDONED_AFTER)
        })
        .map(|entry| entry.path())
        .collect()
}

/// Starts `rm -rf` on `paths` in its own process group (a Ctrl-C of the command does not stop it) and reaps
/// it from a thread, so a long-lived library user collects no zombies. When `rm` cannot start, a thread
/// removes them.
fn remove_in_background(paths: Vec<PathBuf>) {
    use std::os::unix::process::CommandExt as _;
    let spawned = Command::new("rm")
        .arg("-rf")
        .arg("--")
        .args(&paths)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    let _ = std::thread::Builder::new()
        .name("rpack-trash".to_owned())
        .spawn(move || match spawned {
            Ok(mut child) => {
                let _ = child.wait();
            }
            Err(_) => {
                for path in &paths {
                    let _ = crate::toolbox::scratch::remove_path(path);
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_until_empty(trash: &Path) -> bool {
        for _ in 0..200 {
            if fs_err::read_dir(trash).is_ok_and(|mut e| e.next().is_none()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    #[test]
    fn a_disposed_tree_is_gone_from_its_place_at_once_and_from_the_disk_soon_after() {
        let home = tempfile::tempdir().unwrap();
        let tree = home.path().join("tmp/build-1.scratch");
        fs_err::create_dir_all(tree.join("layers/venv/lib")).unwrap();
        fs_err::write(tree.join("layers/venv/lib/big"), vec![7u8; 1 << 20]).unwrap();
        dispose(home.path(), &tree).unwrap();
        assert!(!tree.exists());
        assert!(
            wait_until_empty(&dir(home.path())),
            "the background removal never finished"
        );
    }

    #[test]
    fn disposing_of_nothing_is_fine_and_prune_sweeps_what_an_interrupted_removal_left() {
        let home = tempfile::tempdir().unwrap();
        dispose(home.path(), &home.path().join("missing")).unwrap();
        let left = dir(home.path()).join("disposed-killed/tree");
        fs_err::create_dir_all(&left).unwrap();
        fs_err::write(left.join("file"), "x").unwrap();
        assert_eq!(sweep(home.path()), (1, 1));
        assert!(!dir(home.path()).join("disposed-killed").exists());
    }
}
