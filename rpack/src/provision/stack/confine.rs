//! How mmdebstrap runs, so that making a root file system is quick for another architecture and leaves nothing
//! behind when it is killed.
//!
//! Another architecture ([`foreign`]): mmdebstrap's default (root) mode runs the target's own dpkg and apt
//! inside the chroot, so every package is unpacked (decompressed) and every database update made under qemu.
//! Its `chrootless` mode runs the host's dpkg instead, natively, but also runs the maintainer scripts unchrooted
//! on the host, where scripts without `DPKG_ROOT` support would change the host. rpack takes the first half
//! only: a wrapper named `dpkg` (first on mmdebstrap's `PATH` and apt's `Dir::Bin::dpkg`) drops
//! `--force-script-chrootless`, so the host's dpkg chroots into the target for every maintainer script and
//! trigger, as root mode does, and they run under emulation with the target's own tools. The images hold the
//! same packages, configured by the same scripts; only dpkg's and apt's own work is native. (The arm64 tiny
//! stack's tar was compared entry by entry with root mode's: same names, modes, owners, times and contents.
//! Unlike root mode, chrootless mode mounts no `/proc` or `/sys` into the target while scripts run.) For
//! another architecture mmdebstrap itself skips its emulation check; rpack made it (see
//! [`crate::provision::emulation`]).
//!
//! Killed ([`private_mounts`]): in root mode mmdebstrap mounts `/proc`, `/sys` and `/dev` files into its temp
//! root and unmounts them when it finishes or is interrupted; SIGKILL left them mounted, and the temp dir in
//! `/tmp` behind them. rpack runs it in a private mount namespace (`unshare --mount`), whose mounts die with
//! its last process, and points its `TMPDIR` into the stack's scratch dir in the store, which the next command
//! that makes a scratch dir removes when no live command holds it.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `dpkg` mmdebstrap and apt run for another architecture: the host's, without
/// `--force-script-chrootless` (so maintainer scripts run chrooted), with the `TMPDIR` mmdebstrap sets for itself
/// (a host path, missing inside the chroot) unset, and with `--force-unsafe-io` (the tree becomes a tar
/// afterwards; a crash only loses a scratch dir). `@DPKG@` is the host's dpkg.
const DPKG_WRAPPER: &str = "#!/bin/sh
# Written by rpack: the host's dpkg, but maintainer scripts and triggers run chrooted in the target.
for arg do
  shift
  [ \"$arg\" = --force-script-chrootless ] || set -- \"$@\" \"$arg\"
done
unset TMPDIR
exec '@DPKG@' --force-unsafe-io \"$@\"
";

/// Sets `cmd` (an mmdebstrap command) up to make a root file system of another architecture with the host's
/// dpkg (see the module docs); the wrapper is written under `work`. Needs root ([`is_root`]): the host's dpkg
/// chroots for every maintainer script.
///
/// # Errors
/// When the host has no `dpkg` on `PATH` or the wrapper cannot be written.
pub(super) fn foreign(cmd: &mut Command, work: &Path) -> io::Result<()> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    let dpkg = std::env::split_paths(&path)
        .map(|dir| dir.join("dpkg"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no dpkg on PATH"))?;
    let dpkg = dpkg.to_str().filter(|p| !p.contains('\'')).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path of dpkg is not plain text",
        )
    })?;
    let dir = work.join("host-dpkg");
    fs_err::create_dir_all(&dir)?;
    let wrapper = dir.join("dpkg");
    fs_err::write(&wrapper, DPKG_WRAPPER.replace("@DPKG@", dpkg))?;
    fs_err::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    let mut dirs: Vec<PathBuf> = vec![dir];
    dirs.extend(std::env::split_paths(&path));
    cmd.env(
        "PATH",
        std::env::join_paths(dirs).map_err(io::Error::other)?,
    )
    .arg("--mode=chrootless")
    .arg(format!("--aptopt=Dir::Bin::dpkg \"{}\"", wrapper.display()))
    // The option above is written into the target's apt config; it names a file that is gone afterwards.
    .arg("--customize-hook=rm -f \"$1/etc/apt/apt.conf.d/99mmdebstrap\"");
    Ok(())
}

/// `mmdebstrap` as a command: as root, in a private mount namespace (`unshare --mount`) with its temp root under
/// `work`, so a killed run leaves no mounts and no temp dir outside the store (see the module docs). Unprivileged,
/// mmdebstrap makes its own namespaces (unshare mode), and its temp root goes under `work` too.
pub(super) fn private_mounts(work: &Path) -> Command {
    let root = is_root(work);
    if root && !on_path("unshare") {
        // Mounts of a killed run would stay in the host's namespace: the temp root stays where mmdebstrap puts
        // it, away from the store's scratch dirs, which are removed recursively.
        return Command::new("mmdebstrap");
    }
    let mut cmd = if root {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--", "mmdebstrap"]);
        cmd
    } else {
        Command::new("mmdebstrap")
    };
    cmd.env("TMPDIR", work);
    cmd
}

/// Whether rpack runs as root, told by `work`, a dir this process made (so owned by its effective user;
/// `unsafe` is forbidden here, which rules out geteuid). Unprivileged, the host's dpkg cannot chroot for
/// maintainer scripts, so [`foreign`] is for root only.
pub(super) fn is_root(work: &Path) -> bool {
    fs_err::metadata(work).is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}
