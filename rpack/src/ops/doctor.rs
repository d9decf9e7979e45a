//! `rpack doctor`: checks everything a build can need on this machine and says, for each missing piece, the
//! command that installs it.
//!
//! The tools are looked up on `PATH` (a [`Probe`]), so a check names the program it did not find rather than
//! failing later in the middle of a build.

mod cross;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::buildpack::package::{
    MUSL_C_COMPILERS, MUSL_TARGET, find_musl_c_compiler, target_installed,
};
use crate::provision::lifecycle::{self, Lifecycle};
use crate::provision::stack::{RECIPES, StackRecipe};
use crate::store::Store;
use crate::toolbox::probe::Probe;

/// Free space below which builds are likely to fail.
pub(crate) const MIN_FREE_BYTES: u64 = 5 * 1000 * 1000 * 1000;

/// One check.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it is fine.
    pub ok: bool,
    /// Whether builds work without it (rpack makes it on first use, or only some builds need it): a missing
    /// optional piece is reported, but `rpack doctor` still succeeds.
    pub optional: bool,
    /// What was found.
    pub detail: String,
    /// The command to run when it is not fine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn pass(name: &'static str, detail: String) -> Self {
        Self {
            name,
            ok: true,
            optional: false,
            detail,
            fix: None,
        }
    }

    fn fail(name: &'static str, detail: String, fix: String) -> Self {
        Self {
            name,
            ok: false,
            optional: false,
            detail,
            fix: Some(fix),
        }
    }

    fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Whether this check makes `rpack doctor` fail: it is not fine and builds need it.
    #[must_use]
    pub fn blocks(&self) -> bool {
        !self.ok && !self.optional
    }
}

fn version_of(program: &Path, arg: &str) -> Option<String> {
    let output = Command::new(program).arg(arg).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or_default().trim().to_owned();
    output.status.success().then_some(first)
}

/// A program that must be on `PATH` and answer `program arg`.
fn tool(probe: &Probe, name: &'static str, arg: &str, fix: &str) -> Check {
    let Some(found) = probe.find(name) else {
        return Check::fail(name, format!("`{name}` is not on PATH"), fix.to_owned());
    };
    match version_of(&found, arg) {
        Some(version) => Check::pass(name, version),
        None => Check::fail(
            name,
            format!("`{} {arg}` did not run", found.display()),
            fix.to_owned(),
        ),
    }
}

/// Programs that must be on `PATH` (with no version flag worth running).
fn programs(probe: &Probe, name: &'static str, programs: &[&str], fix: &str) -> Check {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| probe.find(p).is_none())
        .collect();
    if missing.is_empty() {
        Check::pass(name, format!("{} found", programs.join(", ")))
    } else {
        Check::fail(
            name,
            format!("`{}` not on PATH", missing.join("`, `")),
            fix.to_owned(),
        )
    }
}

/// The C compiler for the musl target: crates with C code (`ring`, which libbuildpack's `download` feature
/// uses for TLS) need it to build a buildpack.
#[must_use]
pub(crate) fn musl_c_compiler(probe: &Probe) -> Check {
    let name = "musl C compiler";
    match find_musl_c_compiler(probe) {
        Some(found) => Check::pass(name, found),
        None => Check::fail(
            name,
            format!(
                "neither {} is on PATH; buildpacks whose dependencies compile C (ring, used by libbuildpack's \
                 `download` feature) do not build",
                MUSL_C_COMPILERS.join(" nor ")
            ),
            "apt-get install musl-tools".to_owned(),
        ),
    }
}

/// Free bytes of the file system holding `path`, from `df`.
fn free_bytes(path: &Path) -> Option<u64> {
    let output = Command::new("df").arg("-Pk").arg(path).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

fn stack(store: &Store, recipe: &StackRecipe) -> Check {
    let name = match recipe.name {
        "tiny" => "stack tiny",
        "python" => "stack python",
        _ => "stack",
    };
    let images = [recipe.build_image(), recipe.run_image()];
    let missing: Vec<String> = images
        .iter()
        .filter(|image| !store.image_layout(image).exists())
        .map(ToString::to_string)
        .collect();
    if missing.is_empty() {
        Check::pass(name, format!("{} and {}", images[0], images[1]))
    } else {
        Check::fail(
            name,
            format!(
                "not made yet ({}); the first build on it makes it, silently for minutes",
                missing.join(", ")
            ),
            format!("rpack stack create --name {}", recipe.name),
        )
        .optional()
    }
}

/// Runs every check, finding programs on this process's `PATH`.
#[must_use]
pub fn run(store: &Store) -> Vec<Check> {
    run_with(store, &Probe::from_env())
}

/// Runs every check, finding programs with `probe`.
#[must_use]
pub(crate) fn run_with(store: &Store, probe: &Probe) -> Vec<Check> {
    let mut checks = vec![
        tool(probe, "podman", "--version", "apt-get install podman"),
        tool(probe, "runc", "--version", "apt-get install runc"),
        programs(
            probe,
            "uidmap",
            &["newuidmap", "newgidmap"],
            "apt-get install uidmap",
        ),
        catatonit(probe),
        tool(probe, "skopeo", "--version", "apt-get install skopeo"),
        tool(
            probe,
            "mmdebstrap",
            "--version",
            "apt-get install mmdebstrap",
        ),
        containers_conf(store),
        tool(
            probe,
            "cargo",
            "--version",
            "install Rust with rustup: curl --proto '=https' -sSf https://sh.rustup.rs | sh",
        ),
        musl_target(),
        musl_c_compiler(probe),
    ];
    checks.extend(cross::checks(
        probe,
        Path::new(crate::provision::emulation::BINFMT_MISC),
    ));
    checks.extend(go_and_lifecycle(store, probe));
    checks.extend(RECIPES.iter().map(|recipe| stack(store, recipe)));
    checks.push(free_disk(store));
    checks
}

/// rpack's `containers.conf` for podman, written into the store.
fn containers_conf(store: &Store) -> Check {
    match crate::build::podman::Podman::new(store) {
        Ok(podman) => Check::pass(
            "containers.conf",
            format!(
                "rpack's settings (runc, cgroupfs) at {}",
                podman.conf().display()
            ),
        ),
        Err(e) => Check::fail(
            "containers.conf",
            e.to_string(),
            format!("make {} writable", store.home().display()),
        ),
    }
}

/// Rust's musl target, which buildpack binaries are built for.
fn musl_target() -> Check {
    if target_installed(MUSL_TARGET) {
        Check::pass("musl target", format!("{MUSL_TARGET} installed"))
    } else {
        Check::fail(
            "musl target",
            format!("{MUSL_TARGET} is not installed"),
            format!("rustup target add {MUSL_TARGET}"),
        )
    }
}

/// Go, then the pinned lifecycle: Go only builds the lifecycle, so once it is installed builds no longer need
/// Go.
fn go_and_lifecycle(store: &Store, probe: &Probe) -> [Check; 2] {
    let lifecycle = Lifecycle::locate(store, lifecycle::DEFAULT_VERSION);
    let mut go = tool(
        probe,
        "go",
        "version",
        "apt-get install golang-go (or a newer Go from https://go.dev/dl)",
    );
    go.optional = lifecycle.is_ok();
    let lifecycle = match lifecycle {
        Ok(found) => Check::pass(
            "lifecycle",
            format!("{} at {}", found.version(), found.root().display()),
        ),
        Err(e) => Check::fail(
            "lifecycle",
            e.to_string(),
            format!(
                "rpack lifecycle install --from-source {}",
                lifecycle::DEFAULT_VERSION
            ),
        ),
    };
    [go, lifecycle]
}

/// Free space on the store's disk: a warning below [`MIN_FREE_BYTES`].
fn free_disk(store: &Store) -> Check {
    let free = free_bytes(store.home());
    let enough = free.is_some_and(|f| f >= MIN_FREE_BYTES);
    let detail = free.map_or_else(
        || "could not run df".to_owned(),
        |f| {
            format!(
                "{} free at {}",
                libbuildpack::toolbox::style::format_size(f),
                store.home().display()
            )
        },
    );
    if enough {
        Check::pass("free disk", detail)
    } else {
        // A warning, not a failure: small apps build in far less, and a big one fails with its own error.
        Check::fail(
            "free disk",
            detail,
            "free some space: `rpack prune`, or point RPACK_HOME at a larger disk".to_owned(),
        )
        .optional()
    }
}

/// The small init `rpack run` and test containers start as PID 1 (`podman run --init`).
fn catatonit(probe: &Probe) -> Check {
    let name = "catatonit";
    let known = [
        PathBuf::from("/usr/libexec/podman/catatonit"),
        PathBuf::from("/usr/bin/catatonit"),
    ];
    match probe
        .find(name)
        .or_else(|| known.into_iter().find(|p| p.is_file()))
    {
        Some(found) => Check::pass(name, found.display().to_string()),
        None => Check::fail(
            name,
            "podman's --init program is missing".to_owned(),
            "apt-get install catatonit".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_program(dir: &Path, name: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\necho \"fake $0 1.0\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn every_missing_tool_says_what_to_install() {
        let empty = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let store = Store::at(home.path()).unwrap();
        let checks = run_with(&store, &Probe::with_path(&[empty.path()]));
        let missing: Vec<String> = checks
            .iter()
            // What does not depend on PATH (rustc finds its targets; catatonit has fixed places; df).
            .filter(|c| {
                !c.ok
                    && ![
                        "catatonit",
                        "musl target",
                        "free disk",
                        "arm64 musl target",
                        "arm64 linker",
                        "arm64 emulation",
                    ]
                    .contains(&c.name)
            })
            .map(|c| {
                format!(
                    "{} ({}): {}",
                    c.name,
                    if c.optional { "optional" } else { "required" },
                    c.fix.as_deref().unwrap_or("NO FIX")
                )
            })
            .collect();
        insta::assert_snapshot!(missing.join("\n"));
    }

    #[test]
    fn finds_a_musl_c_compiler_under_either_name() {
        let dir = tempfile::tempdir().unwrap();
        if std::env::var_os("CC_x86_64_unknown_linux_musl").is_some() {
            return;
        }
        let missing = musl_c_compiler(&Probe::with_path(&[dir.path()]));
        assert!(!missing.ok);
        assert_eq!(missing.fix.as_deref(), Some("apt-get install musl-tools"));
        fake_program(dir.path(), "musl-gcc");
        let found = musl_c_compiler(&Probe::with_path(&[dir.path()]));
        assert!(found.ok, "{found:?}");
        assert!(found.detail.ends_with("/musl-gcc"), "{found:?}");
    }

    #[test]
    fn a_missing_stack_does_not_fail_the_doctor_but_says_how_to_make_it() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::at(home.path()).unwrap();
        let check = stack(&store, StackRecipe::named("python").unwrap());
        assert!(!check.ok && !check.blocks());
        assert_eq!(
            check.fix.as_deref(),
            Some("rpack stack create --name python")
        );
    }

    #[test]
    fn tools_report_their_version() {
        let dir = tempfile::tempdir().unwrap();
        fake_program(dir.path(), "skopeo");
        let check = tool(
            &Probe::with_path(&[dir.path()]),
            "skopeo",
            "--version",
            "apt-get install skopeo",
        );
        assert!(check.ok, "{check:?}");
        assert!(check.detail.starts_with("fake "), "{check:?}");
    }
}
