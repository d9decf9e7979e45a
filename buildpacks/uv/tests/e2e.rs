//! A real lifecycle build with builder/builder.toml: a `FastAPI` app via uv answers HTTP and carries
//! `CycloneDX` and SPDX SBOMs of its venv; a no-change rebuild installs nothing and keeps the venv
//! layer and its SBOMs; a one-package change downloads only that package and puts it into a
//! `venv-delta` layer over the unchanged venv layer; removing it again gives the first venv layer
//! alone. uv.lock is made here with the pinned uv (installed with the
//! host's pip, hash-checked) from the fixture's pinned inputs (`exclude-newer` in pyproject.toml).

#![allow(
    clippy::unwrap_used,
    reason = "test setup: a failed step should panic with its error"
)]

use libbuildpack_test::{
    BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains, copy_app, uv,
};

const BUILDER: &str = "../../builder/builder.toml";

/// The venv layer's `CycloneDX` and SPDX SBOMs as the image has them.
fn sboms(build: &libbuildpack_test::TestBuild) -> (String, String) {
    let read = |ext| build.layer_sbom("libbuildpack/uv", "venv", ext).unwrap();
    (read("cdx"), read("spdx"))
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one build sequence, shared so the builds stay few"
)]
fn fastapi_app_via_uv_serves_rebuilds_without_installing_and_downloads_one_changed_package()
-> Result<(), TestError> {
    // The demo app doubles as the fixture (what the README builds is what is tested): its files only, not a
    // .venv or a uv.lock left by trying the demo by hand.
    let app_dir = copy_app("../../examples/apps/fastapi", &[".venv", "uv.lock"])?;
    let tools = tempfile::tempdir().unwrap();
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
    // The venv's bytecode is checked by hash (flags 3), so it stays valid with the image's fixed file times.
    assert_eq!(
        app.exec(&[
            "python",
            "-c",
            "import fastapi, importlib.util as u; \
             print(open(u.cache_from_source(fastapi.__file__), 'rb').read(8)[4])"
        ])?
        .trim(),
        "3"
    );
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

    // One more dependency: uv's cache in the volume has the others, so only the new one is downloaded;
    // the venv layer stays the previous image's and the new package is in venv-delta.
    let pyproject = app_dir.path().join("pyproject.toml");
    let original = std::fs::read_to_string(&pyproject).unwrap();
    let relock = |text: &str| {
        std::fs::write(&pyproject, text).unwrap();
        uv::lock(
            app_dir.path(),
            tools.path(),
            &["--exclude-newer", "2025-06-01T00:00:00Z"],
        )
        .unwrap();
    };
    relock(&original.replace(
        r#""uvicorn==0.34.2"]"#,
        r#""uvicorn==0.34.2", "pyflakes==3.2.0"]"#,
    ));
    let started = std::time::Instant::now();
    let changed = again.rebuild()?;
    eprintln!("one-package rebuild: {:?}", started.elapsed());
    let log = changed.stdout();
    assert_contains!(log, "into the last venv, kept in the build cache volume");
    assert_contains!(log, "Prepared 1 package");
    assert_contains!(log, "+ pyflakes==3.2.0");
    assert_contains!(log, "Only packages were added: the venv layer is kept");
    let venv_digest = build.layer_digest("libbuildpack/uv", "venv")?;
    assert_eq!(
        changed.layer_digest("libbuildpack/uv", "venv")?,
        venv_digest
    );
    assert!(
        changed
            .layer_digest("libbuildpack/uv", "venv-delta")?
            .is_some()
    );
    assert_contains!(
        changed.layer_sbom("libbuildpack/uv", "venv-delta", "cdx")?,
        "pkg:pypi/pyflakes@3.2.0"
    );
    let app = changed.start(ContainerConfig::web())?;
    assert_eq!(app.http_get("/")?.status, 200, "{}", app.logs());
    assert_contains!(app.exec(&["pyflakes", "--version"])?, "3.2.0");
    drop(app);

    // Nothing changed since: the same image.
    let same = changed.rebuild()?;
    assert_eq!(same.digest(), changed.digest());

    // Removed again: the venv holds what its layer holds, so that layer is the whole venv again.
    relock(&original);
    let back = same.rebuild()?;
    assert_contains!(back.stdout(), "- pyflakes==3.2.0");
    assert_contains!(back.stdout(), "Back to the packages of the venv layer");
    assert_eq!(back.layer_digest("libbuildpack/uv", "venv")?, venv_digest);
    assert_eq!(back.layer_digest("libbuildpack/uv", "venv-delta")?, None);
    let app = back.start(ContainerConfig::web())?;
    assert_eq!(
        app.exec(&[
            "python",
            "-c",
            "import importlib.util as u; print(u.find_spec('pyflakes'))"
        ])?
        .trim(),
        "None"
    );
    Ok(())
}
