//! The README's main job, end to end: build examples/apps/hello with builder/builder.toml on the reference
//! lifecycle, serve it, and rebuild it with nothing changed.

use libbuildpack_test::{BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains};

const APP: &str = "../examples/apps/hello";
const BUILDER: &str = "../builder/builder.toml";

#[test]
fn hello_demo_serves_its_files_and_a_no_change_rebuild_reuses_its_layer() -> Result<(), TestError> {
    let build = TestRunner::shared()?.build(BuildConfig::new(APP).builder_toml(BUILDER))?;
    assert_contains!(build.stdout(), "===> DETECTING");
    assert_contains!(build.stdout(), "examples/hello 0.1.0");
    assert_contains!(
        build.stdout(),
        "Serving the app with python3 -m http.server"
    );
    insta::assert_snapshot!("hello_first_build", build.build_log());
    let layer = build.layer_digest("examples/hello", "hello")?;
    assert!(
        layer.is_some(),
        "the image has no hello layer:\n{}",
        build.stdout()
    );

    let app = build.start(ContainerConfig::web())?;
    let response = app.http_get("/hello.txt")?;
    assert_eq!(response.status, 200, "{}", app.logs());
    assert_eq!(response.body, "hello\n");
    assert_eq!(app.exec(&["printenv", "HELLO_GREETING"])?.trim(), "hello");
    assert_eq!(app.http_get("/missing.txt")?.status, 404);
    drop(app);

    let again = build.rebuild()?;
    assert_contains!(again.stdout(), "Reusing layer 'examples/hello:hello'");
    insta::assert_snapshot!("hello_no_change_rebuild", again.build_log());
    assert_eq!(again.layer_digest("examples/hello", "hello")?, layer);
    assert_eq!(
        again.digest(),
        build.digest(),
        "a no-change rebuild must give the same image"
    );
    Ok(())
}
