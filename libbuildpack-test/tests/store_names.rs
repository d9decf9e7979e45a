//! What the harness leaves in rpack's store: a test's app image is named after the test, so running the test
//! again replaces its image instead of adding one, though its app is a new temp copy every time.

use libbuildpack_test::{BuildConfig, TestError, TestRunner, copy_app};

const FIXTURE: &str = "tests/fixtures/conformance";

/// One run of a test: a fresh temp copy of the app, built on a thread named as this test is (libtest names
/// each test's thread after it, and a new run is a new thread); returns the image and the app dir it built.
fn run_of_this_test() -> Result<(String, std::path::PathBuf), TestError> {
    let test = std::thread::current().name().unwrap_or_default().to_owned();
    let run = std::thread::Builder::new()
        .name(test)
        .spawn(|| -> Result<_, TestError> {
            let app = copy_app(format!("{FIXTURE}/app"), &[])?;
            let build = TestRunner::shared()?.build(
                BuildConfig::new(app.path()).builder_toml(format!("{FIXTURE}/builder.toml")),
            )?;
            Ok((build.image_ref().to_string(), app.path().to_owned()))
        })
        .map_err(|source| TestError::Io {
            action: "start a test thread".to_owned(),
            source,
        })?;
    run.join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The images in rpack's store named after this test (other checkouts of the repo have their own).
fn images_of_this_test() -> Result<Vec<String>, TestError> {
    Ok(rpack::store::images::list(TestRunner::shared()?.store())
        .into_iter()
        .map(|entry| entry.reference)
        .filter(|reference| {
            reference.contains("/a-test-run-twice-leaves-one-image-named-after-it-")
        })
        .collect())
}

#[test]
fn a_test_run_twice_leaves_one_image_named_after_it() -> Result<(), TestError> {
    let before = images_of_this_test()?;
    let (first, first_app) = run_of_this_test()?;
    let (second, second_app) = run_of_this_test()?;

    assert_ne!(first_app, second_app, "each run copies the app anew");
    assert_eq!(first, second, "the same test, the same image name");
    assert!(
        first.starts_with(
            "localhost/libbuildpack-test/a-test-run-twice-leaves-one-image-named-after-it-"
        ),
        "{first}"
    );
    let added: Vec<String> = images_of_this_test()?
        .into_iter()
        .filter(|image| !before.contains(image))
        .collect();
    assert!(
        added.is_empty() || added == [first.clone()],
        "two runs added {added:?} to the store; expected at most {first}"
    );
    assert!(
        images_of_this_test()?.contains(&first),
        "{first} is in the store"
    );
    Ok(())
}
