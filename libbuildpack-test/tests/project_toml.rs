//! project.toml as pack reads it: an inline buildpack (install uv with pip, `uv sync`) replaces the builder's
//! order, its build env reaches the script, and excluded files stay out of the image.

use libbuildpack_test::{BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains};

#[test]
fn an_inline_uv_script_builds_and_serves_the_app() -> Result<(), TestError> {
    let config =
        BuildConfig::new("tests/fixtures/inline-uv").builder_toml("../builder/builder.toml");
    let build = TestRunner::shared()?.build(config)?;
    assert_contains!(build.stdout(), "example/inline-uv 0.0.0");
    let app = build.start(ContainerConfig::web())?;
    let response = app.http_get("/")?;
    assert_eq!(response.status, 200, "{}", app.logs());
    assert_eq!(response.body, "hello from project.toml (markupsafe 3.0.2)");
    let listing = app.exec(&["ls", "/workspace"])?;
    assert_contains!(listing, "app.py");
    assert!(
        !listing.contains("secret.txt"),
        "excluded files must stay out of the image:\n{listing}"
    );
    Ok(())
}
