//! A real lifecycle build with builder/builder.toml: a scikit-learn app via pip + ml (CPU) serves a
//! prediction, with the accelerator as an image label, thread counts set by exec.d and its venv split
//! across two layers.

#![allow(
    clippy::unwrap_used,
    reason = "test setup: a failed step should panic with its error"
)]

use libbuildpack_test::{BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains};

#[test]
fn sklearn_app_serves_a_prediction_on_cpu() -> Result<(), TestError> {
    let started = std::time::Instant::now();
    let build = TestRunner::shared()?.build(
        BuildConfig::new("tests/fixtures/sklearn").builder_toml("../../builder/builder.toml"),
    )?;
    eprintln!("build: {:?}", started.elapsed());
    let log = build.stdout();
    assert!(build.participated("libbuildpack/ml"), "{}", build.stdout());
    assert_contains!(log, "Accelerator: cpu; frameworks: scikit-learn");
    // The big venv is split in two launch layers (python_sbom::venv::split); the prediction below
    // imports scipy from the second one.
    assert_contains!(log, "go into the venv-part2 layer");
    let metadata = build
        .image()?
        .label("io.buildpacks.lifecycle.metadata")
        .unwrap_or_default();
    assert_contains!(metadata, r#""venv-part2""#);
    assert_eq!(
        build
            .image()?
            .label("io.libbuildpack.ml.accelerator")
            .as_deref(),
        Some("cpu")
    );

    let app = build.start(ContainerConfig::web())?;
    let response = app.http_get("/predict?x=5.1,3.5,1.4,0.2")?;
    assert_eq!(response.status, 200, "{}", app.logs());
    assert_eq!(response.body.trim(), r#"{"species":"setosa"}"#);
    let env = app.http_get("/env")?.body;
    assert_contains!(env, r#""ML_ACCELERATOR":"cpu""#);
    let threads: u64 = env
        .split(r#""OMP_NUM_THREADS":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(threads >= 1, "exec.d did not set OMP_NUM_THREADS: {env}");
    Ok(())
}
