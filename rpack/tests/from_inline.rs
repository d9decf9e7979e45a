//! `rpack buildpack new --from-inline` end to end, as a user runs it: examples/inline-uv's project (with a
//! uv.lock made here with the pinned uv) converted by the CLI, then the new crate's own `cargo test --workspace`:
//! a unit test per recognised step, and a real build of the app with the lifecycle whose no-change rebuild
//! reuses every layer. The other two scripts of the issue (its own, and one with unrecognised steps) must pass
//! their unit tests; `--rewrite` must leave project.toml using the crate, with a backup.
//!
//! The crates live under cargo's tmp dir at fixed paths and build into this test run's target dir, so a rerun
//! reuses their compiled dependencies and the test builder; the images the test makes are removed at the end.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failed step stops the test with its output"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

// The harness's pinned uv on the host, compiled in from its one source (as the pin itself is): rpack's tests
// cannot depend on libbuildpack-test, which depends on rpack.
#[path = "../../libbuildpack-test/src/uv.rs"]
#[allow(dead_code, reason = "only `lock` is used here")]
mod uv;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target dir of this test run: the generated crates build into it too.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_rpack"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_owned()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(what: &str, command: &mut Command) -> String {
    let started = Instant::now();
    let out = command.output().unwrap();
    let output = text(&out);
    assert!(out.status.success(), "{what} failed:\n{output}");
    eprintln!("[from_inline] {what}: {:.1?}", started.elapsed());
    output
}

fn rpack(dir: &Path, args: &[&str]) -> String {
    run(
        &format!("rpack {}", args.join(" ")),
        Command::new(env!("CARGO_BIN_EXE_rpack"))
            .args(args)
            .current_dir(dir)
            .stdin(std::process::Stdio::null()),
    )
}

fn cargo(dir: &Path, args: &[&str]) -> String {
    run(
        &format!("cargo {} in {}", args.join(" "), dir.display()),
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(args)
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", target_dir()),
    )
}

/// A fresh dir under cargo's tmp dir, the same path on every run.
fn fresh(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("from-inline")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Makes `uv.lock` in `app` with the pinned uv (installed once under cargo's tmp dir with the host's pip).
fn lock(app: &Path) {
    let tools = Path::new(env!("CARGO_TARGET_TMPDIR")).join("from-inline-uv");
    let started = Instant::now();
    std::fs::create_dir_all(&tools).unwrap();
    uv::lock(app, &tools, &[]).unwrap();
    eprintln!("[from_inline] uv lock: {:.1?}", started.elapsed());
}

/// Removes what the real build made: the app image and the test builder, from rpack's store and podman.
fn remove_images(crate_dir: &Path) {
    let store = rpack::store::Store::from_env().unwrap();
    let app: rpack::oci::reference::ImageRef = "localhost/libbuildpack-test/inline-uv-rust:latest"
        .parse()
        .unwrap();
    let _ = rpack::store::images::remove(&store, &app);
    for dir in [store.build_cache_dir(&app), store.cache_volume_dir(&app)] {
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir(dir.parent().unwrap());
    }
    let builders = store.home().join("test-builders");
    for entry in std::fs::read_dir(&builders).into_iter().flatten().flatten() {
        let config = entry.path().join("builder.toml");
        let names_crate = std::fs::read_to_string(&config)
            .is_ok_and(|t| t.contains(&crate_dir.display().to_string()));
        if names_crate {
            let builder = rpack::build::platform::builder_ref_for_config(&config);
            let _ = rpack::store::images::remove(&store, &builder);
            let _ = Command::new("podman")
                .args(["rmi", "--force", &builder.to_string()])
                .output();
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[test]
fn the_inline_uv_example_becomes_a_crate_that_passes_its_own_tests_with_a_real_build() {
    let root = fresh("inline-uv");
    let app = root.join("app");
    std::fs::create_dir_all(&app).unwrap();
    for file in ["app/app.py", "app/pyproject.toml", "project.toml"] {
        let from = repo().join("examples/inline-uv").join(file);
        std::fs::copy(&from, app.join(from.file_name().unwrap())).unwrap();
    }
    lock(&app);
    let original = std::fs::read_to_string(app.join("project.toml")).unwrap();

    let out = rpack(
        &root,
        &[
            "buildpack",
            "new",
            "inline-uv-rust",
            "--from-inline",
            "app/project.toml",
            "--no-rewrite",
        ],
    );
    let crate_dir = root.join("inline-uv-rust");
    assert!(out.contains(&crate_dir.display().to_string()), "{out}");
    assert!(
        out.contains("9 steps") && out.contains("8 recognised, 1 kept as shell (line 7)"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(app.join("project.toml")).unwrap(),
        original
    );

    let tests = cargo(&crate_dir, &["test", "--workspace"]);
    remove_images(&crate_dir);
    for name in [
        "tests::venv_key_follows_uv_lock",
        "tests::uv_sync_installs_into_the_venv_layer_with_the_pinned_uv",
        "tests::uv_is_pinned_and_hash_checked",
        "tests::declares_the_processes_of_the_script",
        "a_rebuild_with_nothing_changed_reuses_every_layer",
    ] {
        assert!(
            tests.contains(&format!("test {name} ... ok")),
            "{name}:\n{tests}"
        );
    }

    // --rewrite: the group now names the crate; the script is in the backup.
    rpack(
        &root,
        &[
            "buildpack",
            "new",
            "again",
            "--from-inline",
            "app/project.toml",
            "--rewrite",
        ],
    );
    let rewritten = std::fs::read_to_string(app.join("project.toml")).unwrap();
    assert!(
        rewritten.contains("[[io.buildpacks.group]]\nuri = \"../again\"\n"),
        "{rewritten}"
    );
    assert!(!rewritten.contains("inline ="), "{rewritten}");
    assert!(rewritten.contains("name = \"GREETING\""), "{rewritten}");
    assert_eq!(
        std::fs::read_to_string(app.join("project.toml.bak")).unwrap(),
        original
    );
}

#[test]
fn the_issue_script_and_unrecognised_steps_become_crates_that_pass_their_unit_tests() {
    let root = fresh("unit");
    for case in ["issue", "mixed"] {
        let app = root.join(case);
        let fixtures = repo().join("rpack/tests/fixtures/from-inline").join(case);
        std::fs::create_dir_all(&app).unwrap();
        for entry in std::fs::read_dir(&fixtures).unwrap().flatten() {
            if entry.path().is_file() {
                std::fs::copy(entry.path(), app.join(entry.file_name())).unwrap();
            }
        }
        let name = format!("{case}-rust");
        let original = std::fs::read_to_string(app.join("project.toml")).unwrap();
        // No --rewrite or --no-rewrite, and no terminal to ask on: project.toml stays as it is.
        rpack(
            &root,
            &[
                "buildpack",
                "new",
                &name,
                "--from-inline",
                &format!("{case}/project.toml"),
            ],
        );
        assert_eq!(
            std::fs::read_to_string(app.join("project.toml")).unwrap(),
            original
        );
        let tests = cargo(&root.join(&name), &["test"]);
        assert!(tests.contains("test result: ok"), "{tests}");
        assert!(!tests.contains("warning"), "{tests}");
    }
}
