//! The buildpack with the real lifecycle, on a builder libbuildpack-test makes from this crate and a stack.

use libbuildpack_test::{
    BuildConfig, ContainerConfig, Outcome, TestError, TestRunner, assert_contains,
};

#[test]
fn serves_the_app_dir_on_the_python_stack() -> Result<(), TestError> {
    let build = TestRunner::shared()?.build(BuildConfig::new("../apps/hello").stack("python"))?;
    assert_contains!(build.stdout(), "examples/hello 0.1.0");
    let app = build.start(ContainerConfig::web())?;
    assert_eq!(app.http_get("/hello.txt")?.body, "hello\n");
    Ok(())
}

#[test]
fn an_app_without_hello_txt_fails_detection_with_the_reason() -> Result<(), TestError> {
    let config = BuildConfig::new("tests/fixtures/no-hello")
        .stack("tiny")
        .expect(Outcome::Fail);
    let build = TestRunner::shared()?.build(config)?;
    assert_contains!(build.stdout(), "no hello.txt in the app directory");
    assert_contains!(
        build.stdout(),
        "the build failed in the detecting phase (lifecycle exit code 20)"
    );
    Ok(())
}
