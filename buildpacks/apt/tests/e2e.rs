//! Real lifecycle builds with builder/builder.toml of an app that uses python-magic, whose libmagic1 the run
//! image does not have: with its Aptfile it answers with the MIME type libmagic sees, and its image has an SBOM
//! entry per `.deb`; a no-change rebuild downloads nothing; a misspelt package fails the build naming it; and
//! without the Aptfile the app fails at start naming the missing library. One fresh build, the rest rebuilds.

#![allow(
    clippy::unwrap_used,
    reason = "test setup: a failed step should panic with its error"
)]

use libbuildpack_test::{
    BuildConfig, ContainerConfig, Outcome, TestBuild, TestError, TestRunner, assert_contains,
    copy_app,
};

const BUILDER: &str = "../../builder/builder.toml";

/// The apt layer's metadata as the image's lifecycle label has it.
fn apt_layer_metadata(build: &TestBuild) -> serde_json::Value {
    let label: serde_json::Value = serde_json::from_str(
        &build
            .image()
            .unwrap()
            .label("io.buildpacks.lifecycle.metadata")
            .unwrap(),
    )
    .unwrap();
    label["buildpacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|bp| bp["key"] == "libbuildpack/apt")
        .map(|bp| bp["layers"]["packages"]["data"].clone())
        .unwrap_or_default()
}

#[test]
fn python_magic_gets_libmagic_from_the_aptfile() -> Result<(), TestError> {
    // The demo apps double as fixtures: what examples/apps/README.md builds is what is tested.
    let app_dir = copy_app("../../examples/apps/magic", &[".venv"])?;
    let config = BuildConfig::new(app_dir.path()).builder_toml(BUILDER);
    let started = std::time::Instant::now();
    let build = TestRunner::shared()?.build(config)?;
    eprintln!("first build: {:?}", started.elapsed());
    let log = build.stdout();
    for id in [
        "libbuildpack/apt",
        "libbuildpack/pip",
        "libbuildpack/processes",
    ] {
        assert!(build.participated(id), "{id} did not take part\n{log}");
    }
    assert_contains!(log, "Packages from Aptfile: libmagic1");
    assert_contains!(log, "packages the run image lacks: libmagic-mgc ");
    assert!(
        !log.contains("The stack does not say which packages its run image has"),
        "{log}"
    );
    let metadata = apt_layer_metadata(&build);
    assert_eq!(metadata["target"]["distro-name"], "debian", "{metadata}");
    assert_eq!(metadata["target"]["distro-version"], "12", "{metadata}");

    let app = build.start(ContainerConfig::web())?;
    let response = app.http_get("/")?;
    assert_eq!(response.status, 200, "{}", app.logs());
    assert_eq!(response.body, "application/pdf");
    drop(app);
    let cdx = build.layer_sbom("libbuildpack/apt", "packages", "cdx")?;
    assert_contains!(cdx, r#""purl": "pkg:deb/debian/libmagic1@1:"#);
    assert_contains!(cdx, "?arch=amd64&distro=debian-12");
    assert_contains!(cdx, "pkg:deb/debian/libmagic-mgc@");
    let spdx = build.layer_sbom("libbuildpack/apt", "packages", "spdx")?;
    assert_contains!(spdx, "pkg:deb/debian/libmagic1@");

    // No change: apt does not run (nothing is downloaded), and the layer and its SBOM stay as they were.
    let started = std::time::Instant::now();
    let again = build.rebuild()?;
    eprintln!("no-change rebuild: {:?}", started.elapsed());
    let log = again.stdout();
    assert_contains!(
        log,
        "Packages, target and run image unchanged: nothing to download"
    );
    assert!(!log.contains("apt-get"), "{log}");
    assert!(
        !log.lines().any(|l| l.trim_start().starts_with("Get:")),
        "{log}"
    );
    assert_eq!(
        again.layer_digest("libbuildpack/apt", "packages")?,
        build.layer_digest("libbuildpack/apt", "packages")?
    );
    assert_eq!(
        again.layer_sbom("libbuildpack/apt", "packages", "cdx")?,
        cdx
    );

    // A misspelt package (the library is libmagic1): the build fails naming it and what exists.
    let aptfile = app_dir.path().join("Aptfile");
    std::fs::write(&aptfile, "libmagic\n").unwrap();
    let started = std::time::Instant::now();
    let failed = again.rebuild_expecting(Outcome::Fail)?;
    eprintln!("failing rebuild: {:?}", started.elapsed());
    let log = failed.stdout();
    assert_contains!(
        log,
        "no Debian package named `libmagic` is in the stack's sources (debian 12, amd64)"
    );
    assert_contains!(log, "Packages with similar names: libmagic1,");

    // Without the Aptfile the app cannot start, and says which library it misses.
    std::fs::remove_file(&aptfile).unwrap();
    let started = std::time::Instant::now();
    let without = again.rebuild()?;
    eprintln!("rebuild without the Aptfile: {:?}", started.elapsed());
    assert!(
        !without.participated("libbuildpack/apt"),
        "{}",
        without.stdout()
    );
    let app = without.start(ContainerConfig::process_default())?;
    let (code, logs) = app.wait_for_exit()?;
    assert_ne!(code, 0, "{logs}");
    assert_contains!(logs, "ImportError: failed to find libmagic");
    Ok(())
}
