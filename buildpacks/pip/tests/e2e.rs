//! Real lifecycle builds with builder/builder.toml: a Flask app via pip answers HTTP; a no-change
//! rebuild installs nothing; a one-package change downloads one package.

#![allow(
    clippy::unwrap_used,
    reason = "test setup: a failed step should panic with its error"
)]

use libbuildpack_test::{BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains};

const BUILDER: &str = "../../builder/builder.toml";

fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("pip-e2e-")
        .tempdir()
        .unwrap();
    let src = std::path::Path::new("tests/fixtures").join(name);
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

fn count(log: &str, word: &str) -> usize {
    log.lines()
        .filter(|l| l.trim_start().starts_with(word))
        .count()
}

#[test]
fn flask_app_serves_and_rebuilds_incrementally() -> Result<(), TestError> {
    let app_dir = copy_fixture("flask");
    let config = BuildConfig::new(app_dir.path()).builder_toml(BUILDER);
    let started = std::time::Instant::now();
    let build = TestRunner::shared()?.build(config)?;
    eprintln!("first build: {:?}", started.elapsed());
    assert_contains!(build.stdout(), "libbuildpack/pip 0.1.0");
    assert_contains!(build.stdout(), "Installing requirements");
    assert_contains!(build.stdout(), "No Procfile: serving app:app with gunicorn");

    let app = build.start(ContainerConfig::web())?;
    let response = app.http_get("/")?;
    assert_eq!(response.status, 200, "{}", app.logs());
    assert_eq!(response.body, "hello from flask via pip");
    drop(app);

    let started = std::time::Instant::now();
    let again = build.rebuild()?;
    eprintln!("no-change rebuild: {:?}", started.elapsed());
    assert_contains!(again.stdout(), "Requirements unchanged: nothing to install");
    assert!(
        !again.stdout().contains("pip install"),
        "{}",
        again.stdout()
    );
    assert_eq!(
        again.layer_digest("libbuildpack/pip", "venv")?,
        build.layer_digest("libbuildpack/pip", "venv")?
    );

    let requirements = app_dir.path().join("requirements.txt");
    let mut text = std::fs::read_to_string(&requirements).unwrap();
    text.push_str("six==1.16.0\n");
    std::fs::write(&requirements, text).unwrap();
    let started = std::time::Instant::now();
    let changed = again.rebuild()?;
    eprintln!("one-package rebuild: {:?}", started.elapsed());
    let log = changed.stdout();
    assert_contains!(log, "Requirements changed: installing into the kept venv");
    assert_eq!(count(log, "Collecting"), 1, "{log}");
    assert_eq!(count(log, "Downloading"), 1, "{log}");
    assert_contains!(log, "Collecting six==1.16.0");
    let app = changed.start(ContainerConfig::web())?;
    assert_eq!(app.http_get("/")?.status, 200, "{}", app.logs());
    assert_eq!(
        app.exec(&["python", "-c", "import six; print(six.__version__)"])?
            .trim(),
        "1.16.0"
    );
    Ok(())
}
