//! How mmdebstrap runs, so that a killed run leaves nothing behind.
//!
//! In root mode mmdebstrap mounts `/proc`, `/sys` and `/dev` files into its temp root and unmounts them when it
//! finishes or is interrupted; SIGKILL (a CI timeout, the OOM killer, `kill -9` of a long emulated stack) left
//! them mounted, and the temp dir in `/tmp` behind them. rpack runs it in a private mount namespace
//! (`unshare --mount`), whose mounts die with its last process, and points its `TMPDIR` into the stack's
//! scratch dir in the store, which the next command that makes a scratch dir (or `rpack prune`) removes when
//! no live command holds it. Seen from rpack's namespace that tree has no mounts, so removing it never reaches
//! into `/proc` or `/sys`.

use std::path::Path;
use std::process::Command;

/// `mmdebstrap` as a command: as root, in a private mount namespace (`unshare --mount`) with its temp root under
/// `work`, so a killed run leaves no mounts and no temp dir outside the store (see the module docs).
/// Unprivileged, mmdebstrap makes its own namespaces (unshare mode) and keeps its temp root in `/tmp`, which the
/// user it maps to can reach (a store dir may not be).
pub(super) fn private_mounts(work: &Path) -> Command {
    if !is_root(work) || !on_path("unshare") {
        // As root without unshare, mounts of a killed run would stay in the host's namespace: the temp root stays
        // in /tmp, away from the store's scratch dirs, which are removed recursively.
        return Command::new("mmdebstrap");
    }
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "mmdebstrap"])
        .env("TMPDIR", work);
    cmd
}

/// Whether rpack runs as root, told by `work`, a dir this process made (so owned by its effective user;
/// `unsafe` is forbidden here, which rules out geteuid).
fn is_root(work: &Path) -> bool {
    fs_err::metadata(work).is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}
