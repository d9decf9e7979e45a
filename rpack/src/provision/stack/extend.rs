//! The build image made from the run image: mmdebstrap unpacks the run image's root file system and installs
//! only the build packages on top, so the run packages are unpacked and their maintainer scripts run once per
//! stack instead of once per image. Under emulation (an arm64 stack on an amd64 machine) those scripts are most
//! of a stack's time.
//!
//! The result has the files a build image made from scratch has, with the same contents, modes and owners
//! (compared file by file for the python stack, amd64 and arm64). apt's record of which packages were
//! installed automatically (`/var/lib/apt/extended_states`) is rebuilt as apt writes it when it installs the
//! build packages itself; only dpkg's backup of its previous status (`/var/lib/dpkg/status-old`) differs, as
//! the last dpkg run before it differs.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use super::StackRecipe;

/// mmdebstrap's customize hook that adds the build and run users (`cnb` and `app`) to a root file system.
pub(super) fn users_hook(recipe: &StackRecipe) -> String {
    let (bu, bg) = recipe.build_user;
    let (ru, rg) = recipe.run_user;
    format!(
        "chroot \"$1\" sh -ec 'groupadd -g {bg} cnb; useradd -u {bu} -g {bg} -m -s /bin/bash cnb; \
         groupadd -g {rg} app; useradd -u {ru} -g {rg} -m -s /bin/bash app'"
    )
}

/// The packages apt marks as installed automatically when it adds the recipe's build packages to the run
/// image: what the build image has (`build`, resolved as `name version`) beyond the run image (`run`), but
/// the build packages themselves, which were asked for.
pub(super) fn auto_installed(
    recipe: &StackRecipe,
    build: &[String],
    run: &[String],
) -> Vec<String> {
    let name = |p: &String| p.split_once(' ').map_or(p.as_str(), |(n, _)| n).to_owned();
    let run: BTreeSet<String> = run.iter().map(name).collect();
    build
        .iter()
        .map(name)
        .filter(|p| !run.contains(p) && !recipe.build_packages.contains(&p.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// `cmd` (mmdebstrap, or a command that runs it) with the arguments that make the build image of `recipe`
/// for `arch` from the run image's root file system `run_tar`: its custom variant installs nothing but the
/// build packages (and what they need that the run image lacks), and the packages `auto` are then marked as
/// installed automatically, with the host's apt on the root file system (no emulation).
pub(super) fn on_run_image(
    recipe: &StackRecipe,
    cmd: Command,
    arch: &str,
    run_tar: &Path,
    auto: &[String],
) -> Command {
    let mut cmd = super::mmdebstrap_args(cmd, arch, "custom", recipe.build_packages);
    cmd.arg(format!("--setup-hook=tar-in {} /", run_tar.display()));
    if !auto.is_empty() {
        cmd.arg(format!(
            "--customize-hook=APT_CONFIG=\"$MMDEBSTRAP_APT_CONFIG\" apt-mark auto {} >/dev/null",
            auto.join(" ")
        ));
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_build_packages_pull_in_is_marked_automatic() {
        let python = StackRecipe::named("python").unwrap();
        let run = ["libc6 2.36-9", "python3 3.11.2-1+b1"].map(String::from);
        let build = [
            "gcc 4:12.2.0-3",
            "git 1:2.39.5-0",
            "libc6 2.36-9",
            "python3 3.11.2-1+b1",
            "python3-pip 23.0.1",
        ]
        .map(String::from);
        assert_eq!(auto_installed(python, &build, &run), ["gcc"]);
    }
}
