//! Building buildpack binaries for another architecture than the host's: the linker rpack gives cargo
//! (`rust-lld`, shipped with the Rust toolchain, links static musl binaries with no other toolchain) and the C
//! compiler crates with C code (`ring`) need for a target.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::toolbox::probe::Probe;

/// The musl target for arm64 buildpack binaries.
pub(crate) const ARM64_MUSL_TARGET: &str = "aarch64-unknown-linux-musl";

/// The linker rpack uses for musl targets of another architecture, unless the user names one.
pub(crate) const CROSS_LINKER: &str = "rust-lld";

/// The Rust arch of a target triple (`aarch64` of `aarch64-unknown-linux-musl`).
fn arch_of(target: &str) -> &str {
    target.split('-').next().unwrap_or_default()
}

/// Whether `target` builds for another architecture than this machine's.
#[must_use]
pub(crate) fn is_cross(target: &str) -> bool {
    arch_of(target) != std::env::consts::ARCH
}

/// `CARGO_TARGET_<TRIPLE>_<key>` as cargo reads it.
fn cargo_env(target: &str, key: &str) -> String {
    format!(
        "CARGO_TARGET_{}_{key}",
        target.to_uppercase().replace(['-', '.'], "_")
    )
}

/// The env var cargo takes the linker of `target` from, and the linker rpack sets there: `rust-lld` for a
/// musl target of another architecture, unless the variable is already set (the user's choice wins).
#[must_use]
pub(crate) fn linker_env(target: &str) -> Option<(String, &'static str)> {
    let var = cargo_env(target, "LINKER");
    (is_cross(target) && target.contains("musl") && std::env::var_os(&var).is_none())
        .then_some((var, CROSS_LINKER))
}

/// The `CC_<triple>` variable cc (the C compiler driver of `ring` and others) reads for `target`.
#[must_use]
pub(crate) fn cc_env(target: &str) -> String {
    format!("CC_{}", target.replace('-', "_"))
}

/// The C compilers that compile for a musl `target`, in the order they are looked for: `<arch>-linux-musl-gcc`,
/// then `musl-gcc` when the target is the host's architecture (both tried by cc itself), else Debian's cross
/// compiler `<arch>-linux-gnu-gcc` (rpack names it to cc, see [`cc_override`]: with `libc6-dev-<arch>-cross`
/// its headers compile ring, and the objects link against Rust's own musl).
#[must_use]
pub(crate) fn c_compilers(target: &str) -> Vec<String> {
    let arch = arch_of(target);
    let mut names = vec![format!("{arch}-linux-musl-gcc")];
    if is_cross(target) {
        names.push(format!("{arch}-linux-gnu-gcc"));
    } else {
        names.push("musl-gcc".to_owned());
    }
    names
}

/// The `CC_<triple>` rpack sets for a cross `target` when the user set none and cc would not find a compiler
/// itself but Debian's cross compiler (`aarch64-linux-gnu-gcc`) is on the probe's `PATH`.
#[must_use]
pub(crate) fn cc_override(probe: &Probe, target: &str) -> Option<(String, PathBuf)> {
    let var = cc_env(target);
    let names = c_compilers(target);
    if !is_cross(target) || std::env::var_os(&var).is_some() || probe.find(&names[0]).is_some() {
        return None;
    }
    names[1..]
        .iter()
        .find_map(|cc| probe.find(cc))
        .map(|found| (var, found))
}

/// The C compiler cc would use for `target`: `CC_<triple>` when set, else the first of [`c_compilers`] on
/// the probe's `PATH`.
#[must_use]
pub(crate) fn find_c_compiler(probe: &Probe, target: &str) -> Option<String> {
    let var = cc_env(target);
    if let Some(cc) = std::env::var_os(&var) {
        return Some(format!("{var}={}", Path::new(&cc).display()));
    }
    c_compilers(target)
        .iter()
        .find_map(|cc| probe.find(cc))
        .map(|found| found.display().to_string())
}

/// What to do when crates with C code cannot be compiled for `target`.
#[must_use]
pub(crate) fn c_compiler_fix(target: &str) -> String {
    if is_cross(target) {
        format!(
            "only crates with C code (ring, used by libbuildpack's `download` feature) need it: apt-get install \
             gcc-{arch}-linux-gnu libc6-dev-{deb}-cross (rpack then uses {arch}-linux-gnu-gcc), or name a C compiler \
             for {target} in {}",
            cc_env(target),
            arch = arch_of(target),
            deb = crate::oci::platform::oci_arch(arch_of(target)),
        )
    } else {
        "apt-get install musl-tools".to_owned()
    }
}

/// The `rust-lld` of the active Rust toolchain (`<sysroot>/lib/rustlib/<host>/bin/rust-lld`), if it has one.
#[must_use]
pub(crate) fn find_rust_lld() -> Option<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("-vV").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let host = text.lines().find_map(|l| l.strip_prefix("host: "))?.trim();
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    let lld = sysroot
        .join("lib/rustlib")
        .join(host)
        .join("bin")
        .join(CROSS_LINKER);
    lld.is_file().then_some(lld)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_targets_link_with_rust_lld_unless_the_user_chose_a_linker() {
        let other = if std::env::consts::ARCH == "aarch64" {
            "x86_64-unknown-linux-musl"
        } else {
            ARM64_MUSL_TARGET
        };
        if std::env::var_os(cargo_env(other, "LINKER")).is_none() {
            let (var, linker) = linker_env(other).unwrap();
            assert_eq!(var, cargo_env(other, "LINKER"));
            assert!(
                var.starts_with("CARGO_TARGET_") && var.ends_with("_UNKNOWN_LINUX_MUSL_LINKER")
            );
            assert_eq!(linker, "rust-lld");
        }
        let host = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
        assert_eq!(linker_env(&host), None);
    }

    #[test]
    fn names_the_c_compilers_cc_tries() {
        assert_eq!(
            c_compilers(ARM64_MUSL_TARGET),
            ["aarch64-linux-musl-gcc", "aarch64-linux-gnu-gcc"]
        );
        assert_eq!(cc_env(ARM64_MUSL_TARGET), "CC_aarch64_unknown_linux_musl");
        if std::env::consts::ARCH == "x86_64" {
            assert_eq!(
                c_compilers("x86_64-unknown-linux-musl"),
                ["x86_64-linux-musl-gcc", "musl-gcc"]
            );
            assert!(c_compiler_fix(ARM64_MUSL_TARGET).contains("CC_aarch64_unknown_linux_musl"));
        }
    }

    #[test]
    fn debians_cross_compiler_is_named_to_cc_when_there_is_no_musl_one() {
        if !is_cross(ARM64_MUSL_TARGET) || std::env::var_os(cc_env(ARM64_MUSL_TARGET)).is_some() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let probe = Probe::with_path(&[dir.path()]);
        assert_eq!(cc_override(&probe, ARM64_MUSL_TARGET), None);
        let gcc = dir.path().join("aarch64-linux-gnu-gcc");
        std::fs::write(&gcc, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&gcc, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        assert_eq!(
            cc_override(&probe, ARM64_MUSL_TARGET),
            Some(("CC_aarch64_unknown_linux_musl".to_owned(), gcc.clone()))
        );
        assert_eq!(
            find_c_compiler(&probe, ARM64_MUSL_TARGET),
            Some(gcc.display().to_string())
        );
    }
}
