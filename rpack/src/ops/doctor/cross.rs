//! The checks for building and running the other architecture (arm64 on an amd64 host, amd64 on an arm64 one):
//! its musl target, a linker for it, a C compiler for crates with C code, and emulation to run its images.
//! All are optional: single-architecture builds do not need them.

use super::Check;
use crate::buildpack::package::cross::{self, ARM64_MUSL_TARGET};
use crate::buildpack::package::target_installed;
use crate::provision::emulation::{self, EmulationError};
use crate::toolbox::probe::Probe;

/// The architecture these checks are for, with its musl target and the check names.
struct Other {
    target: &'static str,
    arch: &'static str,
    names: [&'static str; 4],
}

fn other() -> Other {
    if emulation::host_arch() == "arm64" {
        Other {
            target: "x86_64-unknown-linux-musl",
            arch: "amd64",
            names: [
                "amd64 musl target",
                "amd64 linker",
                "amd64 C compiler",
                "amd64 emulation",
            ],
        }
    } else {
        Other {
            target: ARM64_MUSL_TARGET,
            arch: "arm64",
            names: [
                "arm64 musl target",
                "arm64 linker",
                "arm64 C compiler",
                "arm64 emulation",
            ],
        }
    }
}

/// The checks for the other architecture, finding programs with `probe`; `binfmt` is where `binfmt_misc`
/// is mounted.
pub(super) fn checks(probe: &Probe, binfmt: &std::path::Path) -> Vec<Check> {
    let Other {
        target,
        arch,
        names: [musl, linker, cc, emulate],
    } = other();
    let mut checks = Vec::new();
    checks.push(if target_installed(target) {
        Check::pass(musl, format!("{target} installed"))
    } else {
        Check::fail(
            musl,
            format!("{target} is not installed: buildpacks cannot be packaged for {arch}"),
            format!("rustup target add {target}"),
        )
    });
    let linker_var = format!(
        "CARGO_TARGET_{}_LINKER",
        target.to_uppercase().replace('-', "_")
    );
    checks.push(if let Some(set) = std::env::var_os(&linker_var) {
        Check::pass(linker, format!("{linker_var}={}", set.to_string_lossy()))
    } else if let Some(lld) = cross::find_rust_lld() {
        Check::pass(
            linker,
            format!("{} (rpack passes it to cargo as the linker)", lld.display()),
        )
    } else {
        Check::fail(
            linker,
            "the Rust toolchain has no rust-lld to link static binaries for another architecture"
                .to_owned(),
            format!("rustup update (Rust ships rust-lld), or name a linker in {linker_var}"),
        )
    });
    checks.push(match cross::find_c_compiler(probe, target) {
        Some(found) => Check::pass(cc, found),
        None => Check::fail(
            cc,
            format!(
                "neither {} is on PATH nor {} set: buildpacks whose dependencies compile C do not build for {arch}",
                cross::c_compilers(target).join(" nor "),
                cross::cc_env(target)
            ),
            cross::c_compiler_fix(target),
        ),
    });
    checks.push(match emulation::check_in(binfmt, arch) {
        Ok(emulation::Runs::Emulated { name, interpreter }) => Check::pass(
            emulate,
            format!("binfmt_misc {name} runs them with {interpreter}"),
        ),
        Ok(emulation::Runs::Natively) => Check::pass(emulate, "native".to_owned()),
        Err(e) => {
            let fix = e.hint().unwrap_or_default();
            let detail = match e {
                EmulationError::NotFixed { .. } => e.to_string(),
                _ => format!("{e}: {arch} stacks, builds and apps do not run"),
            };
            Check::fail(emulate, detail, fix)
        }
    });
    checks.into_iter().map(Check::optional).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named<'a>(checks: &'a [Check], suffix: &str) -> &'a Check {
        checks.iter().find(|c| c.name.ends_with(suffix)).unwrap()
    }

    #[test]
    fn missing_emulation_and_c_compiler_say_what_to_run_without_failing_the_doctor() {
        let empty = tempfile::tempdir().unwrap();
        let checks = checks(&Probe::with_path(&[empty.path()]), empty.path());
        assert!(checks.iter().all(|c| !c.blocks()), "{checks:?}");
        let emulation = named(&checks, "emulation");
        assert!(!emulation.ok, "{emulation:?}");
        let fix = emulation.fix.as_deref().unwrap();
        assert!(
            fix.contains("mount -t binfmt_misc")
                && fix.contains("update-binfmts --enable qemu-aarch64"),
            "{fix}"
        );
        let cc = named(&checks, "C compiler");
        if std::env::var_os(cross::cc_env(other().target)).is_none() {
            assert!(!cc.ok, "{cc:?}");
            assert!(
                cc.fix
                    .as_deref()
                    .unwrap()
                    .contains(&cross::cc_env(other().target)),
                "{cc:?}"
            );
        }
    }

    #[test]
    fn a_registered_emulator_with_the_f_flag_passes() {
        let mount = tempfile::tempdir().unwrap();
        std::fs::write(mount.path().join("register"), "").unwrap();
        std::fs::write(mount.path().join("status"), "enabled\n").unwrap();
        let magic = if other().arch == "arm64" {
            "b700"
        } else {
            "3e00"
        };
        std::fs::write(
            mount.path().join("qemu"),
            format!(
                "enabled\ninterpreter /usr/libexec/qemu-binfmt/x-binfmt-P\nflags: PF\noffset 0\n\
                 magic 7f454c460201010000000000000000000200{magic}\nmask ffffffffffffff00fffffffffffffffffeffffff\n"
            ),
        )
        .unwrap();
        let checks = checks(&Probe::from_env(), mount.path());
        let emulation = named(&checks, "emulation");
        assert!(emulation.ok, "{emulation:?}");
        assert!(emulation.detail.contains("x-binfmt-P"), "{emulation:?}");
    }
}
