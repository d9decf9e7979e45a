//! The scaffold is a working start, and the guide's getting-started page is true: its commands run here as
//! written (with the image name and port swapped for ones no other test uses). A crate made by
//! `rpack buildpack new` passes its unit tests without compiling the real-build harness (rpack), its `cargo doc`
//! shows `libbuildpack::testing`, its integration test builds the fixture app with the real lifecycle and
//! serves it, and `rpack buildpack package` afterwards reuses the binary that test built.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failed step stops the test with its output"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use libbuildpack_guide::markdown::named_block;

const PAGE: &str = "getting-started.md";

/// Runs the shell commands of a getting-started block in `dir` with this build's `rpack` first on `PATH`;
/// returns its output and the dir the block ended in (blocks `cd` as a reader would).
fn run_block(name: &str, dir: &Path, swap: &[(&str, String)]) -> (String, PathBuf) {
    let block = named_block(PAGE, name).unwrap();
    let mut script = block.text.clone();
    for (from, to) in swap {
        script = script.replace(from, to);
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_rpack")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_owned()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let end = tempfile::NamedTempFile::new().unwrap();
    let started = Instant::now();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c"])
        .arg(format!("{script}pwd > {}\n", end.path().display()))
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the getting-started block `{name}` failed:\n{script}\n--- output ---\n{output}"
    );
    eprintln!("[scaffold] block `{name}`: {:.1?}", started.elapsed());
    let cwd = std::fs::read_to_string(end.path()).unwrap();
    (output, PathBuf::from(cwd.trim()))
}

fn cargo(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "cargo {args:?} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The targets (crates, by their Rust names) cargo lists as compiled for `args` (`--message-format=json`),
/// fresh ones too.
fn artifacts(dir: &Path, args: &[&str]) -> BTreeSet<String> {
    let mut all = args.to_vec();
    all.push("--message-format=json");
    cargo(dir, &all)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter_map(|m| Some(m["target"]["name"].as_str()?.to_owned()))
        .collect()
}

fn files_under(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![root.to_owned()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    todo.push(path);
                }
            } else if path.extension().is_none_or(|e| e != "lock") {
                out.insert(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_getting_started_page_runs_as_written_on_a_new_buildpack_crate() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let swap = [
        (
            "localhost/greeter",
            format!(
                "localhost/libbuildpack-test/guide-greeter-{}",
                std::process::id()
            ),
        ),
        ("8080", port.to_string()),
    ];

    // The crate and its unit tests; the target dir and rpack's store come from the environment, so compiled
    // dependencies, stacks and the lifecycle are shared with this test run.
    let (output, crate_dir) = run_block("new-crate", dir.path(), &swap);
    assert!(
        output.contains("test tests::build_declares_a_web_process ... ok"),
        "{output}"
    );
    assert!(!output.contains("fixture_app_is_served"), "{output}");

    let files = named_block(PAGE, "files").unwrap();
    let listed: BTreeSet<String> = files
        .text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, files_under(&crate_dir), "the page's file list");

    // The unit tests compile the SDK and not the real-build harness.
    let started = Instant::now();
    let unit = artifacts(&crate_dir, &["test", "--no-run"]);
    assert!(unit.contains("libbuildpack"), "{unit:?}");
    for heavy in ["rpack", "libbuildpack_test", "oci_spec"] {
        assert!(
            !unit.contains(heavy),
            "the unit-test build compiles {heavy}: {unit:?}"
        );
    }

    // The crate's `cargo doc` shows the in-process test helpers it uses only in dev-dependencies.
    let docs = cargo(
        &crate_dir,
        &["doc", "-p", "libbuildpack", "--message-format=json"],
    );
    let index = docs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "libbuildpack")
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| Some(PathBuf::from(f.as_str()?)))
        .find(|f| f.ends_with("index.html"))
        .unwrap_or_else(|| panic!("cargo doc listed no libbuildpack docs:\n{docs}"));
    let testing = index
        .parent()
        .unwrap()
        .join("testing/struct.TestContext.html");
    assert!(testing.is_file(), "{} is missing", testing.display());
    eprintln!(
        "[scaffold] the unit-test build's crates and cargo doc: {:.1?}",
        started.elapsed()
    );

    let (output, crate_dir) = run_block("real-build", &crate_dir, &swap);
    assert!(
        output.contains("test fixture_app_is_served ... ok"),
        "{output}"
    );

    // Packaging uses the binary the integration test built: cargo does not link it again.
    let target = cargo(
        &crate_dir,
        &["metadata", "--format-version", "1", "--no-deps"],
    );
    let target: serde_json::Value = serde_json::from_str(&target).unwrap();
    let binary = Path::new(target["target_directory"].as_str().unwrap())
        .join("x86_64-unknown-linux-musl/release/greeter");
    let built = modified(&binary);
    let (output, crate_dir) = run_block("package", &crate_dir, &swap);
    assert!(
        crate_dir.join("acme_greeter_0.1.0.cnb").is_file(),
        "{output}"
    );
    assert!(output.contains("acme/greeter"), "{output}");
    assert_eq!(modified(&binary), built, "packaging built the binary again");

    let (output, _) = run_block("run", &crate_dir, &swap);
    assert!(output.contains("hello"), "{output}");
}
