//! The same app built twice with builder/builder.toml: once by the inline script in
//! examples/inline-uv/project.toml, once by this crate (a project.toml group with `uri`). Both
//! serve the same answer; on a no-change rebuild the Rust buildpack reuses its layers while the
//! script installs uv and the venv again. Times are printed for docs/inline-uv.md (and the
//! build logs too, with `SHOW_BUILD_LOGS=1`).
//! uv.lock is made here with the pinned uv, from the app's pinned inputs (`exclude-newer`).

#![allow(
    clippy::unwrap_used,
    reason = "test setup: a failed step should panic with its error"
)]

use std::path::Path;
use std::time::Instant;

use libbuildpack_test::{
    BuildConfig, ContainerConfig, TestBuild, TestError, TestRunner, assert_contains, copy_app, uv,
};

const BUILDER: &str = "../../../builder/builder.toml";
const EXPECTED: &str = "hello from project.toml (markupsafe 3.0.2)";

/// A copy of examples/inline-uv/app with `project_toml` as its project.toml.
fn app_with(project_toml: &str) -> tempfile::TempDir {
    let dir = copy_app(
        "../app",
        &["project.toml", "uv.lock", ".venv", ".gitignore"],
    )
    .unwrap();
    std::fs::write(dir.path().join("project.toml"), project_toml).unwrap();
    dir
}

fn timed(what: &str, run: impl FnOnce() -> Result<TestBuild, TestError>) -> TestBuild {
    let started = Instant::now();
    let build = run().unwrap();
    eprintln!("{what}: {:.1}s", started.elapsed().as_secs_f64());
    if std::env::var_os("SHOW_BUILD_LOGS").is_some() {
        eprintln!("{}", build.stdout());
    }
    build
}

fn serves_expected(build: &TestBuild) -> Result<(), TestError> {
    let app = build.start(ContainerConfig::web())?;
    let response = app.http_get("/")?;
    assert_eq!(response.status, 200, "{}", app.logs());
    assert_eq!(response.body, EXPECTED);
    Ok(())
}

#[test]
fn inline_script_and_rust_buildpack_serve_the_same_app_and_only_rust_reuses_layers()
-> Result<(), TestError> {
    let inline = app_with(&std::fs::read_to_string("../project.toml").unwrap());
    // The checked-in group's `uri` is relative to examples/inline-uv/app; the copy lives elsewhere.
    let buildpack = std::path::absolute(".").unwrap();
    let rust_toml = std::fs::read_to_string("../app/project.toml")
        .unwrap()
        .replace(
            r#"uri = "../buildpack""#,
            &format!("uri = {:?}", buildpack.display().to_string()),
        );
    let rust = app_with(&rust_toml);
    let tools = tempfile::tempdir().unwrap();
    uv::lock(rust.path(), tools.path(), &[]).unwrap();
    std::fs::copy(rust.path().join("uv.lock"), inline.path().join("uv.lock")).unwrap();

    let runner = TestRunner::shared()?;
    let config = |dir: &Path| BuildConfig::new(dir).builder_toml(BUILDER);
    let first_inline = timed("inline script, first build", || {
        runner.build(config(inline.path()))
    });
    let first_rust = timed("Rust buildpack, first build", || {
        runner.build(config(rust.path()))
    });
    assert_contains!(first_inline.stdout(), "example/inline-uv 0.0.0");
    assert_contains!(first_rust.stdout(), "examples/inline-uv 0.1.0");
    serves_expected(&first_inline)?;
    serves_expected(&first_rust)?;

    let again_inline = timed("inline script, no-change rebuild", || {
        first_inline.rebuild()
    });
    let again_rust = timed("Rust buildpack, no-change rebuild", || first_rust.rebuild());
    // The script redoes everything: a new venv, uv installed again, every package installed again.
    assert_contains!(again_inline.stdout(), "Creating virtual environment");
    assert_contains!(again_inline.stdout(), "Installed 1 package");
    // The Rust buildpack keeps both layers, with the reason, and runs neither pip nor uv.
    let log = again_rust.stdout();
    assert_contains!(log, "Reusing uv (");
    assert_contains!(log, "Reusing venv");
    assert!(
        !log.contains("bin/pip install") && !log.contains("bin/uv sync"),
        "{log}"
    );
    assert_eq!(
        again_rust.layer_digest("examples/inline-uv", "venv")?,
        first_rust.layer_digest("examples/inline-uv", "venv")?
    );
    serves_expected(&again_rust)?;
    Ok(())
}
