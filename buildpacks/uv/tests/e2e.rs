//! A real lifecycle build with builder/builder.toml: a `FastAPI` app via uv answers HTTP and carries
//! `CycloneDX` and SPDX SBOMs of its venv; a no-change rebuild installs nothing and keeps the venv
//! layer and its SBOMs; a one-package change downloads only that package. uv.lock is made here with the pinned uv (installed with the
//! host's pip, hash-checked) from the fixture's pinned inputs (`exclude-newer` in pyproject.toml).

#![allow(
    clippy::unwrap_used,
    reason = "test setup: a failed step should panic with its error"
)]

use std::path::Path;

use libbuildpack_test::{BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains, uv};

const BUILDER: &str = "../../builder/builder.toml";

fn copy_fixture(name: &str, to: &Path) {
    // The demo apps double as fixtures: what the README builds is what is tested.
    for entry in std::fs::read_dir(Path::new("../../examples/apps").join(name)).unwrap() {
        let entry = entry.unwrap();
        // Only the app's files: not a .venv or a uv.lock left by trying the demo by hand.
        if !entry.file_type().unwrap().is_file() || entry.file_name() == "uv.lock" {
            continue;
        }
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The venv layer's `CycloneDX` and SPDX SBOMs as the image has them.
fn sboms(build: &libbuildpack_test::TestBuild) -> (String, String) {
    let read = |ext| build.layer_sbom("libbuildpack/uv", "venv", ext).unwrap();
    (read("cdx"), read("spdx"))
}

#[test]
fn fastapi_app_via_uv_serves_rebuilds_without_installing_and_downloads_one_changed_package()
-> Result<(), TestError> {
    let app_dir = tempfile::Builder::new()
        .prefix("uv-e2e-")
        .tempdir()
        .unwrap();
    let tools = tempfile::tempdir().unwrap();
    copy_fixture("fastapi", app_dir.path());
    uv::lock(
        app_dir.path(),
        tools.path(),
        &["--exclude-newer", "2025-06-01T00:00:00Z"],
    )
    .unwrap();

    let config = BuildConfig::new(app_dir.path()).builder_toml(BUILDER);
    let started = std::time::Instant::now();
    let build = TestRunner::shared()?.build(config)?;
    eprintln!("first build: {:?}", started.elapsed());
    let log = build.stdout();
    assert!(build.participated("libbuildpack/uv"), "{}", build.stdout());
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
    let (cdx, spdx) = sboms(&build);
    assert_contains!(cdx, "pkg:pypi/fastapi@0.115.12");
    assert_contains!(cdx, "pkg:pypi/uvicorn@0.34.2");
    assert_contains!(spdx, r#""spdxVersion": "SPDX-2.3""#);
    assert_contains!(spdx, "pkg:pypi/fastapi@0.115.12");
    assert!(
        !cdx.contains("pkg:pypi/pytest@"),
        "dev dependencies are not installed:\n{cdx}"
    );

    let started = std::time::Instant::now();
    let again = build.rebuild()?;
    eprintln!("no-change rebuild: {:?}", started.elapsed());
    assert_contains!(again.stdout(), "Reusing venv");
    // uv and its cache are in the build cache volume: a build that installs nothing does not even prepare uv.
    assert!(
        !again.stdout().contains("Preparing uv"),
        "{}",
        again.stdout()
    );
    assert!(!again.stdout().contains("uv sync"), "{}", again.stdout());
    assert_eq!(
        again.layer_digest("libbuildpack/uv", "venv")?,
        build.layer_digest("libbuildpack/uv", "venv")?
    );
    assert_eq!(sboms(&again), (cdx, spdx), "a reused venv keeps its SBOMs");

    // One more dependency: uv's cache in the volume has the others, so only the new one is downloaded.
    let pyproject = app_dir.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    std::fs::write(
        &pyproject,
        text.replace(
            r#""uvicorn==0.34.2"]"#,
            r#""uvicorn==0.34.2", "six==1.17.0"]"#,
        ),
    )
    .unwrap();
    uv::lock(
        app_dir.path(),
        tools.path(),
        &["--exclude-newer", "2025-06-01T00:00:00Z"],
    )
    .unwrap();
    let started = std::time::Instant::now();
    let changed = again.rebuild()?;
    eprintln!("one-package rebuild: {:?}", started.elapsed());
    let log = changed.stdout();
    assert_contains!(log, "Rebuilding venv");
    assert_contains!(log, "Prepared 1 package");
    assert_contains!(log, "+ six==1.17.0");
    assert_contains!(sboms(&changed).0, "pkg:pypi/six@1.17.0");
    Ok(())
}
