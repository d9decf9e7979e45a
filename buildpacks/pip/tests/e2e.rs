//! Real lifecycle builds with builder/builder.toml: a Flask app via pip answers HTTP and carries
//! `CycloneDX` and SPDX SBOMs of its venv; a code-only rebuild installs nothing and keeps the venv
//! layer and its SBOMs byte for byte; an added package downloads one package and goes into a
//! `venv-delta` layer over the unchanged venv layer; a removal and a downgrade make one venv layer
//! again.

#![allow(
    clippy::unwrap_used,
    reason = "test setup: a failed step should panic with its error"
)]

use libbuildpack_test::{
    BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains, copy_app,
};

const BUILDER: &str = "../../builder/builder.toml";

/// The venv layer's `CycloneDX` and SPDX SBOMs as the image has them.
fn sboms(build: &libbuildpack_test::TestBuild) -> (String, String) {
    let read = |ext| build.layer_sbom("libbuildpack/pip", "venv", ext).unwrap();
    (read("cdx"), read("spdx"))
}

fn count(log: &str, word: &str) -> usize {
    log.lines()
        .filter(|l| l.trim_start().starts_with(word))
        .count()
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one build sequence, shared so the builds stay few"
)]
fn flask_app_serves_and_rebuilds_incrementally() -> Result<(), TestError> {
    // The demo apps double as fixtures: what the README builds is what is tested.
    let app_dir = copy_app("../../examples/apps/flask", &[".venv"])?;
    let config = BuildConfig::new(app_dir.path()).builder_toml(BUILDER);
    let started = std::time::Instant::now();
    let build = TestRunner::shared()?.build(config)?;
    eprintln!("first build: {:?}", started.elapsed());
    assert!(build.participated("libbuildpack/pip"), "{}", build.stdout());
    assert_contains!(build.stdout(), "Installing requirements");
    assert_contains!(build.stdout(), "No Procfile: serving app:app with gunicorn");

    let app = build.start(ContainerConfig::web())?;
    let response = app.http_get("/")?;
    assert_eq!(response.status, 200, "{}", app.logs());
    assert_eq!(response.body, "hello from flask via pip");
    drop(app);
    let (cdx, spdx) = sboms(&build);
    assert_contains!(cdx, r#""bomFormat": "CycloneDX""#);
    assert_contains!(cdx, "pkg:pypi/flask@3.0.3");
    assert_contains!(cdx, "pkg:pypi/gunicorn@23.0.0");
    assert_contains!(spdx, r#""spdxVersion": "SPDX-2.3""#);
    assert_contains!(spdx, "pkg:pypi/flask@3.0.3");

    // A code-only change: nothing to install, and the venv (and its SBOMs) stay as they were, so
    // the image reuses their layers. (Stronger than a no-change rebuild, which it covers.)
    let app_py = app_dir.path().join("app.py");
    let code = std::fs::read_to_string(&app_py).unwrap();
    std::fs::write(&app_py, code.replace("via pip", "via pip, edited")).unwrap();
    let started = std::time::Instant::now();
    let again = build.rebuild()?;
    eprintln!("code-only rebuild: {:?}", started.elapsed());
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
    assert_eq!(
        sboms(&again),
        (cdx.clone(), spdx),
        "an unchanged venv's SBOMs must not change"
    );
    let app = again.start(ContainerConfig::web())?;
    assert_eq!(app.http_get("/")?.body, "hello from flask via pip, edited");
    drop(app);

    // One added package: one download, and the venv layer stays the previous image's, byte for
    // byte; the package and its script are in the venv-delta layer.
    let requirements = app_dir.path().join("requirements.txt");
    let original = std::fs::read_to_string(&requirements).unwrap();
    std::fs::write(&requirements, format!("{original}pyflakes==3.2.0\n")).unwrap();
    let started = std::time::Instant::now();
    let changed = again.rebuild()?;
    eprintln!("one-package rebuild: {:?}", started.elapsed());
    let log = changed.stdout();
    assert_contains!(
        log,
        "Requirements changed: installing into the last venv, kept in the build cache volume"
    );
    assert_eq!(count(log, "Collecting"), 1, "{log}");
    assert_eq!(count(log, "Downloading"), 1, "{log}");
    assert_contains!(log, "Collecting pyflakes==3.2.0");
    assert_contains!(log, "Only packages were added: the venv layer is kept");
    let venv_digest = build.layer_digest("libbuildpack/pip", "venv")?;
    assert_eq!(
        changed.layer_digest("libbuildpack/pip", "venv")?,
        venv_digest
    );
    assert!(
        changed
            .layer_digest("libbuildpack/pip", "venv-delta")?
            .is_some()
    );
    assert_eq!(sboms(&changed).0, cdx, "the kept venv keeps its SBOM");
    let delta_cdx = changed.layer_sbom("libbuildpack/pip", "venv-delta", "cdx")?;
    assert_contains!(delta_cdx, "pkg:pypi/pyflakes@3.2.0");
    assert!(!delta_cdx.contains("pkg:pypi/flask@"), "{delta_cdx}");
    let app = changed.start(ContainerConfig::web())?;
    assert_eq!(app.http_get("/")?.status, 200, "{}", app.logs());
    assert_eq!(
        app.exec(&[
            "python",
            "-c",
            "import pyflakes; print(pyflakes.__version__)"
        ])?
        .trim(),
        "3.2.0"
    );
    assert_contains!(app.exec(&["pyflakes", "--version"])?, "3.2.0");
    drop(app);

    // Nothing changed since: the same image.
    let same = changed.rebuild()?;
    assert_contains!(same.stdout(), "Requirements unchanged: nothing to install");
    assert_eq!(same.digest(), changed.digest());

    // The package removed and one of the venv's own downgraded: files of the venv layer are gone,
    // so it is one new venv layer again, without the removed package.
    std::fs::write(&requirements, format!("{original}blinker==1.8.2\n")).unwrap();
    let folded = same.rebuild()?;
    let log = folded.stdout();
    assert_contains!(log, "Uninstalling removed requirements: pyflakes");
    assert_contains!(log, "Making the venv one layer again: ");
    assert_eq!(folded.layer_digest("libbuildpack/pip", "venv-delta")?, None);
    assert_ne!(
        folded.layer_digest("libbuildpack/pip", "venv")?,
        venv_digest
    );
    let app = folded.start(ContainerConfig::web())?;
    assert_eq!(app.http_get("/")?.status, 200, "{}", app.logs());
    assert_eq!(
        app.exec(&[
            "python",
            "-c",
            "import importlib.util as u, importlib.metadata as m; \
             print(u.find_spec('pyflakes') is None, m.version('blinker'))"
        ])?
        .trim(),
        "True 1.8.2"
    );
    Ok(())
}
