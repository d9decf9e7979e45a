//! Building a buildpack crate: `cargo metadata` to find its binaries and `[package.metadata.rpack]`, then a
//! static release build for the target.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};

use super::{PackageError, cross, io_err};
use crate::toolbox::probe::Probe;
use crate::toolbox::ui::Ui;

/// What rpack needs to know about a buildpack crate.
#[derive(Clone, Debug)]
pub(crate) struct CrateInfo {
    /// The crate's `Cargo.toml`.
    pub manifest: PathBuf,
    /// The binary that becomes `bin/build` and `bin/detect`.
    pub binary: String,
    /// `[package.metadata.rpack] extra-binaries`: more bin targets, copied to `bin/<name>`.
    pub extra_binaries: Vec<String>,
    /// `[package.metadata.rpack] include`: files or dirs (relative to the crate) copied into the buildpack.
    pub include: Vec<String>,
    /// Cargo's target dir for the crate.
    pub target_dir: PathBuf,
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Whether the standard library for `target` is installed (rustup puts it under the sysroot).
#[must_use]
pub(crate) fn target_installed(target: &str) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", target])
        .output()
    else {
        return false;
    };
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    output.status.success()
        && fs_err::read_dir(&dir).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
        })
}

/// Reads the crate at `manifest` with `cargo metadata`.
///
/// # Errors
/// When cargo fails, the crate has no binary to use, or `[package.metadata.rpack]` is malformed.
pub(crate) fn crate_info(manifest: &Path) -> Result<CrateInfo, PackageError> {
    let metadata_err = |why: String| PackageError::Metadata {
        manifest: manifest.to_owned(),
        why,
    };
    let metadata = cargo_metadata(manifest)?;
    let wanted = fs_err::canonicalize(manifest).map_err(io_err("resolve", manifest))?;
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| Path::new(m) == wanted)
        })
        .ok_or_else(|| metadata_err("cargo metadata does not list it".to_owned()))?;
    let bins = bin_targets(package);
    let rpack = &package["metadata"]["rpack"];
    let extra_binaries = rpack_strings(rpack, "extra-binaries").map_err(&metadata_err)?;
    let include = rpack_strings(rpack, "include").map_err(&metadata_err)?;
    for extra in &extra_binaries {
        if !bins.contains(&extra.as_str()) {
            return Err(metadata_err(format!(
                "package.metadata.rpack.extra-binaries names {extra:?}, which is not a binary of the crate"
            )));
        }
    }
    let name = package["name"].as_str().unwrap_or_default();
    let binary = main_binary(&bins, &extra_binaries, name).map_err(&metadata_err)?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .ok_or_else(|| metadata_err("no target_directory".to_owned()))?;
    Ok(CrateInfo {
        manifest: manifest.to_owned(),
        binary,
        extra_binaries,
        include,
        target_dir: PathBuf::from(target_dir),
    })
}

/// `cargo metadata --no-deps` of the crate at `manifest`, parsed.
fn cargo_metadata(manifest: &Path) -> Result<serde_json::Value, PackageError> {
    let metadata_err = |why: String| PackageError::Metadata {
        manifest: manifest.to_owned(),
        why,
    };
    let output = cargo()
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .map_err(PackageError::Spawn)?;
    if !output.status.success() {
        return Err(metadata_err(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| metadata_err(format!("unreadable output: {e}")))
}

/// The names of a package's binary targets, from its `cargo metadata` entry.
fn bin_targets(package: &serde_json::Value) -> Vec<&str> {
    package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str())
        .collect()
}

/// The list of strings `key` of `[package.metadata.rpack]` (empty when absent), or why it is not one.
fn rpack_strings(rpack: &serde_json::Value, key: &str) -> Result<Vec<String>, String> {
    let not_strings = || format!("package.metadata.rpack.{key} must be a list of strings");
    match &rpack[key] {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(not_strings))
            .collect(),
        _ => Err(not_strings()),
    }
}

/// The buildpack's binary among `bins`: the one that is not an extra binary, or the one named like the package
/// `name`; else why there is none.
fn main_binary(bins: &[&str], extra_binaries: &[String], name: &str) -> Result<String, String> {
    let main: Vec<&str> = bins
        .iter()
        .copied()
        .filter(|b| !extra_binaries.iter().any(|e| e == b))
        .collect();
    match main.as_slice() {
        [one] => Ok((*one).to_owned()),
        many if many.contains(&name) => Ok(name.to_owned()),
        many => Err(format!(
            "expected one binary target (or one named like the package), found {}",
            many.len()
        )),
    }
}

/// Finds the crate called `name` in the workspace around `dir`; returns its dir.
///
/// # Errors
/// When cargo fails or no package of the workspace has that name.
pub(crate) fn workspace_crate(dir: &Path, name: &str) -> Result<PathBuf, PackageError> {
    let output = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(dir)
        .output()
        .map_err(PackageError::Spawn)?;
    let not_found = |why: String| PackageError::UnknownCrate {
        name: name.to_owned(),
        dir: dir.to_owned(),
        why,
    };
    if !output.status.success() {
        return Err(not_found(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| not_found(format!("unreadable cargo metadata output: {e}")))?;
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name)
        .and_then(|p| p["manifest_path"].as_str())
        .and_then(|m| Path::new(m).parent().map(Path::to_owned))
        .ok_or_else(|| not_found("no package of the workspace has that name".to_owned()))
}

/// The dirs of the workspace members around `dir`, in `cargo metadata`'s order.
///
/// # Errors
/// When cargo fails.
pub(crate) fn workspace_members(dir: &Path) -> Result<Vec<PathBuf>, PackageError> {
    let output = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(dir)
        .output()
        .map_err(PackageError::Spawn)?;
    let failed = |why: String| PackageError::Workspace {
        dir: dir.to_owned(),
        why,
    };
    if !output.status.success() {
        return Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| failed(format!("unreadable cargo metadata output: {e}")))?;
    let members = metadata["workspace_members"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| members.contains(&p["id"]))
        .filter_map(|p| p["manifest_path"].as_str())
        .filter_map(|m| Path::new(m).parent().map(Path::to_owned))
        .collect())
}

/// The names cc (the C compiler driver Rust crates such as `ring` build with) tries for the musl target, in
/// its order.
pub(crate) const MUSL_C_COMPILERS: &[&str] = &["x86_64-linux-musl-gcc", "musl-gcc"];

/// The C compiler cc would use for the musl target: `CC_x86_64_unknown_linux_musl` when set, else the first of
/// [`MUSL_C_COMPILERS`] on `PATH`.
#[must_use]
pub(crate) fn find_musl_c_compiler(probe: &Probe) -> Option<String> {
    if let Some(cc) = std::env::var_os("CC_x86_64_unknown_linux_musl") {
        return Some(format!(
            "CC_x86_64_unknown_linux_musl={}",
            Path::new(&cc).display()
        ));
    }
    MUSL_C_COMPILERS
        .iter()
        .find_map(|cc| probe.find(cc))
        .map(|found| found.display().to_string())
}

/// `cargo build --release --target <target>` of the crate's binaries; returns the dir they are in.
///
/// Before a musl build of a crate that links packages compiling C for the target (`ring`, used by
/// libbuildpack's `download` feature), it warns when no musl C compiler is on `PATH`; a build that then fails
/// for want of one says what to install.
///
/// # Errors
/// When the target is not installed or the build fails.
pub(crate) fn build(info: &CrateInfo, target: &str, ui: &Ui) -> Result<PathBuf, PackageError> {
    if !target_installed(target) {
        return Err(PackageError::MissingTarget {
            target: target.to_owned(),
        });
    }
    if target.contains("musl") && cross::find_c_compiler(&Probe::from_env(), target).is_none() {
        let compiles_c = c_dependencies(info, target);
        if !compiles_c.is_empty() {
            ui.warn(&format!(
                "{} depends on {}, which compiles C for {target}, and no C compiler for it ({} or {}) is found: {}",
                info.manifest.display(),
                compiles_c.join(", "),
                cross::c_compilers(target).join(", "),
                cross::cc_env(target),
                cross::c_compiler_fix(target)
            ));
        }
    }
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--quiet", "--target", target]);
    if let Some((var, linker)) = cross::linker_env(target) {
        cmd.env(var, linker);
    }
    if let Some((var, cc)) = cross::cc_override(&Probe::from_env(), target) {
        cmd.env(var, cc);
    }
    for bin in std::iter::once(&info.binary).chain(&info.extra_binaries) {
        cmd.args(["--bin", bin]);
    }
    cmd.arg("--manifest-path").arg(&info.manifest);
    ui.step(&format!(
        "cargo build --release --target {target} of {} (quiet; a first build compiles every dependency)",
        info.manifest.display()
    ));
    let missing_tool = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&missing_tool);
    let finished = ui
        .run_observed(&mut cmd, move |line| {
            if let Some(tool) = missing_c_tool(line) {
                *seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(tool);
            }
        })
        .map_err(PackageError::Spawn)?;
    if !finished.status.success() {
        let output = finished.tail_text();
        let missing_target = output.contains("target may not be installed")
            || output.contains("can't find crate for `core`");
        let missing_c_compiler = missing_tool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        return Err(PackageError::Build {
            manifest: info.manifest.clone(),
            output,
            missing_target,
            missing_c_compiler,
        });
    }
    Ok(info.target_dir.join(target).join("release"))
}

/// Crates that compile C with `cc` for the target they are built for.
const C_CRATES: &[&str] = &[
    "ring",
    "aws-lc-sys",
    "openssl-src",
    "zstd-sys",
    "libsqlite3-sys",
];

/// Which of [`C_CRATES`] the crate links for `target` (`cargo tree`, normal dependencies); empty when cargo
/// cannot tell.
fn c_dependencies(info: &CrateInfo, target: &str) -> Vec<&'static str> {
    let Ok(output) = cargo()
        .args([
            "tree", "--edges", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .args(["--target", target, "--manifest-path"])
        .arg(&info.manifest)
        .output()
    else {
        return Vec::new();
    };
    if !output.status.success() {
        return Vec::new();
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let names: std::collections::BTreeSet<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    C_CRATES
        .iter()
        .copied()
        .filter(|name| names.contains(name))
        .collect()
}

/// The compiler named by cc's `failed to find tool "x86_64-linux-musl-gcc"` in a line of cargo's output.
fn missing_c_tool(line: &str) -> Option<String> {
    let rest = &line[line.find("failed to find tool \"")? + "failed to find tool \"".len()..];
    let tool = &rest[..rest.find('"')?];
    (!tool.is_empty()).then(|| tool.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buildpack_binary_is_the_one_that_is_not_extra_or_the_one_named_like_the_package() {
        let extra = vec!["helper".to_owned()];
        assert_eq!(
            main_binary(&["bp", "helper"], &extra, "x"),
            Ok("bp".to_owned())
        );
        assert_eq!(main_binary(&["a", "bp"], &[], "bp"), Ok("bp".to_owned()));
        let err = main_binary(&["a", "b"], &[], "bp").unwrap_err();
        assert!(err.contains("found 2"), "{err}");
    }

    #[test]
    fn rpack_metadata_lists_must_be_strings() {
        let rpack = serde_json::json!({ "include": ["resources"], "extra-binaries": [1] });
        assert_eq!(
            rpack_strings(&rpack, "include"),
            Ok(vec!["resources".to_owned()])
        );
        assert_eq!(rpack_strings(&rpack, "missing"), Ok(Vec::new()));
        assert_eq!(
            rpack_strings(&rpack, "extra-binaries"),
            Err("package.metadata.rpack.extra-binaries must be a list of strings".to_owned())
        );
    }

    #[test]
    fn finds_the_compiler_cc_could_not_run() {
        let line = "  error occurred in cc-rs: failed to find tool \"x86_64-linux-musl-gcc\": No such file or \
                    directory (os error 2)";
        assert_eq!(
            missing_c_tool(line).as_deref(),
            Some("x86_64-linux-musl-gcc")
        );
        assert_eq!(missing_c_tool("   Compiling ring v0.17.14"), None);
    }

    /// A crate whose build script fails as ring's does without a musl C compiler (cc cannot find
    /// `x86_64-linux-musl-gcc`): the packaging error says to install musl-tools.
    #[test]
    fn a_missing_musl_c_compiler_is_named_with_what_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            (
                "Cargo.toml",
                "[package]\nname = \"needs-cc\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
            ),
            ("src/main.rs", "fn main() {}\n"),
            (
                "build.rs",
                "fn main() {\n    eprintln!(\"error occurred in cc-rs: failed to find tool \\\"x86_64-linux-musl-gcc\\\": \
                 No such file or directory (os error 2)\");\n    std::process::exit(1);\n}\n",
            ),
        ];
        for (name, text) in files {
            let path = dir.path().join(name);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text).unwrap();
        }
        let info = crate_info(&dir.path().join("Cargo.toml")).unwrap();
        let error = build(
            &info,
            super::super::MUSL_TARGET,
            &Ui::to_writer(std::io::sink()),
        )
        .unwrap_err();
        let PackageError::Build {
            missing_c_compiler, ..
        } = &error
        else {
            panic!("{error}");
        };
        assert_eq!(missing_c_compiler.as_deref(), Some("x86_64-linux-musl-gcc"));
        let hint = error.hint().unwrap();
        assert!(hint.contains("apt-get install musl-tools"), "{hint}");
    }
}
