//! A real lifecycle build with builder/builder.toml: a `FastAPI` app via uv answers HTTP, and a
//! no-change rebuild installs nothing. uv.lock is made here with the pinned uv (installed with the
//! host's pip, hash-checked) from the fixture's pinned inputs (`exclude-newer` in pyproject.toml).

#![allow(
    clippy::unwrap_used,
    reason = "test setup: a failed step should panic with its error"
)]

use std::path::Path;
use std::process::Command;

use libbuildpack_test::{BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains};

const BUILDER: &str = "../../builder/builder.toml";
const UV_VERSION: &str = "0.9.5";
const UV_AMD64_SHA256: &str = "6507bbbcd788553ec4ad5a96fa19364dc0f58b023e31d79868773559a83ec181";

fn copy_fixture(name: &str, to: &Path) {
    for entry in std::fs::read_dir(Path::new("tests/fixtures").join(name)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn lock(app: &Path, tools: &Path) {
    let requirement = tools.join("uv.txt");
    std::fs::write(
        &requirement,
        format!("uv=={UV_VERSION} --hash=sha256:{UV_AMD64_SHA256}\n"),
    )
    .unwrap();
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--require-hashes",
            "--target",
        ])
        .arg(tools)
        .arg("-r")
        .arg(&requirement)
        .status()
        .unwrap();
    assert!(status.success(), "installing uv {UV_VERSION} failed");
    let status = Command::new(tools.join("bin/uv"))
        .args(["lock", "--exclude-newer", "2025-06-01T00:00:00Z"])
        .current_dir(app)
        .env("UV_PYTHON_DOWNLOADS", "never")
        .status()
        .unwrap();
    assert!(status.success(), "uv lock failed");
}

#[test]
fn fastapi_app_via_uv_serves_and_rebuilds_without_installing() -> Result<(), TestError> {
    let app_dir = tempfile::Builder::new()
        .prefix("uv-e2e-")
        .tempdir()
        .unwrap();
    let tools = tempfile::tempdir().unwrap();
    copy_fixture("fastapi", app_dir.path());
    lock(app_dir.path(), tools.path());

    let config = BuildConfig::new(app_dir.path()).builder_toml(BUILDER);
    let started = std::time::Instant::now();
    let build = TestRunner::shared()?.build(config)?;
    eprintln!("first build: {:?}", started.elapsed());
    let log = build.stdout();
    assert_contains!(log, "libbuildpack/uv 0.1.0");
    assert_contains!(log, ".python-version asks for 3.11");
    assert_contains!(log, "uv sync --locked --no-dev");
    assert_contains!(log, "No Procfile: serving main:app with uvicorn");
    assert!(
        !log.contains("pytest"),
        "dev dependencies must not be installed:\n{log}"
    );

    let app = build.start(ContainerConfig::web())?;
    let response = app.http_get("/")?;
    assert_eq!(response.status, 200, "{}", app.logs());
    assert_eq!(response.body, r#"{"message":"hello from fastapi via uv"}"#);
    drop(app);

    let started = std::time::Instant::now();
    let again = build.rebuild()?;
    eprintln!("no-change rebuild: {:?}", started.elapsed());
    assert_contains!(again.stdout(), "Reusing venv");
    assert_contains!(again.stdout(), "Reusing uv");
    assert!(!again.stdout().contains("uv sync"), "{}", again.stdout());
    assert_eq!(
        again.layer_digest("libbuildpack/uv", "venv")?,
        build.layer_digest("libbuildpack/uv", "venv")?
    );
    Ok(())
}
