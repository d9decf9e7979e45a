//! project.toml as pack reads it: an inline buildpack (install uv with pip, `uv sync`) replaces the builder's
//! order, its build env reaches the script, and excluded files stay out of the image. The project is
//! examples/inline-uv's inline-script variant: its project.toml with the app's files.

use std::path::Path;

use libbuildpack_test::{
    BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains, copy_app,
};

const EXAMPLE: &str = "../examples/inline-uv";

/// The inline-script project in a temp dir, plus files its `exclude` patterns must keep out.
fn inline_project() -> Result<tempfile::TempDir, TestError> {
    let io = |action: &str| {
        let action = action.to_owned();
        move |source| TestError::Io { action, source }
    };
    // The app's files, with the inline-script variant's project.toml in place of the app's own.
    let dir = copy_app(
        Path::new(EXAMPLE).join("app"),
        &["project.toml", "uv.lock", ".venv", ".gitignore"],
    )?;
    std::fs::copy(
        Path::new(EXAMPLE).join("project.toml"),
        dir.path().join("project.toml"),
    )
    .map_err(io("copy project.toml"))?;
    std::fs::write(dir.path().join("secret.txt"), "do not ship me\n")
        .map_err(io("write secret.txt"))?;
    std::fs::write(dir.path().join("debug.log"), "noise\n").map_err(io("write debug.log"))?;
    Ok(dir)
}

#[test]
fn an_inline_uv_script_builds_and_serves_the_app() -> Result<(), TestError> {
    let project = inline_project()?;
    let config = BuildConfig::new(project.path()).builder_toml("../builder/builder.toml");
    let build = TestRunner::shared()?.build(config)?;
    assert_contains!(build.stdout(), "example/inline-uv 0.0.0");
    let app = build.start(ContainerConfig::web())?;
    let response = app.http_get("/")?;
    assert_eq!(response.status, 200, "{}", app.logs());
    assert_eq!(response.body, "hello from project.toml (markupsafe 3.0.2)");
    let listing = app.exec(&["ls", "/workspace"])?;
    assert_contains!(listing, "app.py");
    for excluded in ["secret.txt", "debug.log"] {
        assert!(
            !listing.contains(excluded),
            "excluded files must stay out of the image:\n{listing}"
        );
    }
    Ok(())
}
