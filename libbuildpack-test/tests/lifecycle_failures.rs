//! How the real lifecycle fails, and that rpack says where: exit codes of the checklist's (lc) items, with the
//! phase named in the error. Each case is a one-buildpack builder over the tiny stack.

use std::path::{Path, PathBuf};

use libbuildpack::buildpack_id;
use libbuildpack::data::BuilderToml;
use libbuildpack_test::{BuildConfig, Outcome, TestError, TestRunner, assert_contains};

/// Writes a builder with one shell buildpack (`api`, `detect`, `build` scripts) into a temp dir.
fn case(
    descriptor: &str,
    detect: &str,
    build: &str,
) -> Result<(tempfile::TempDir, PathBuf), TestError> {
    let io = |action: &str| {
        let action = action.to_owned();
        move |source| TestError::Io { action, source }
    };
    let dir = tempfile::tempdir().map_err(io("create a temp dir"))?;
    let bp = dir.path().join("bp");
    std::fs::create_dir_all(bp.join("bin")).map_err(io("create the buildpack"))?;
    let files = [
        (bp.join("buildpack.toml"), descriptor.to_owned()),
        (bp.join("bin/detect"), format!("#!/bin/sh\n{detect}\n")),
        (bp.join("bin/build"), format!("#!/bin/sh\n{build}\n")),
        (dir.path().join("builder.toml"), builder_toml()?),
        (dir.path().join("app/README"), "app\n".to_owned()),
    ];
    for (path, text) in files {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
            .map_err(io("create a dir"))?;
        std::fs::write(&path, text).map_err(io("write a fixture file"))?;
    }
    for script in ["bin/detect", "bin/build"] {
        std::fs::set_permissions(
            bp.join(script),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .map_err(io("chmod"))?;
    }
    let builder = dir.path().join("builder.toml");
    Ok((dir, builder))
}

/// A builder over the tiny stack with the one buildpack `failures/case` at `bp`.
fn builder_toml() -> Result<String, TestError> {
    BuilderToml::on_stack(
        "localhost/rpack/tiny-build:latest",
        "localhost/rpack/tiny-run:latest",
    )
    .with_buildpack("bp", buildpack_id!("failures/case"), None)
    .to_toml_string()
    .map_err(|e| TestError::Io {
        action: "write builder.toml".to_owned(),
        source: std::io::Error::other(e),
    })
}

fn descriptor(api: &str) -> String {
    format!("api = \"{api}\"\n[buildpack]\nid = \"failures/case\"\nversion = \"0.0.1\"\n")
}

fn failing_build(api: &str, detect: &str, build: &str) -> Result<String, TestError> {
    failing_build_with(&descriptor(api), detect, build)
}

fn failing_build_with(descriptor: &str, detect: &str, build: &str) -> Result<String, TestError> {
    let (dir, builder) = case(descriptor, detect, build)?;
    let config = BuildConfig::new(dir.path().join("app"))
        .builder_toml(builder)
        .expect(Outcome::Fail);
    Ok(TestRunner::shared()?.build(config)?.stdout().to_owned())
}

#[test]
fn failures_name_the_phase_and_the_lifecycle_exit_code() -> Result<(), TestError> {
    // D1, D11: detect exiting 100 everywhere fails detection with exit 20.
    let out = failing_build("0.10", "echo 'nothing here'; exit 100", "exit 0")?;
    assert_contains!(
        out,
        "the build failed in the detecting phase (lifecycle exit code 20)"
    );

    // D11: a detect error (not 0 or 100) makes it 21, and its output is shown.
    let out = failing_build("0.10", "echo 'detect blew up' >&2; exit 3", "exit 0")?;
    assert_contains!(out, "lifecycle exit code 21");
    assert_contains!(out, "detect blew up");

    // A13: an API the lifecycle does not support.
    let out = failing_build("0.13", "exit 0", "exit 0")?;
    assert_contains!(out, "lifecycle exit code 12");

    // B6: a failing build exits 51, after the buildpack's own output.
    let out = failing_build(
        "0.10",
        "exit 0",
        "echo 'compiling failed: no compiler'; exit 1",
    )?;
    assert_contains!(out, "compiling failed: no compiler");
    assert_contains!(
        out,
        "the build failed in the building phase (lifecycle exit code 51)"
    );

    // P3, B7: a string command in launch.toml is rejected for API 0.10.
    let launch = r#"printf '[[processes]]\ntype = "web"\ncommand = "echo hi"\n' > "$CNB_LAYERS_DIR/launch.toml""#;
    let out = failing_build("0.10", "exit 0", launch)?;
    assert_contains!(out, "the build failed in the building phase");

    // L1: layer flags outside [types] fail the build.
    let flags =
        r#"mkdir -p "$CNB_LAYERS_DIR/l"; printf 'launch = true\n' > "$CNB_LAYERS_DIR/l.toml""#;
    let out = failing_build("0.10", "exit 0", flags)?;
    assert_contains!(out, "the build failed in the building phase");

    // P2: `direct` in launch.toml is refused for API 0.10.
    let direct = r#"printf '[[processes]]\ntype = "web"\ncommand = ["true"]\ndirect = true\n' > "$CNB_LAYERS_DIR/launch.toml""#;
    let out = failing_build("0.10", "exit 0", direct)?;
    assert_contains!(out, "the build failed in the building phase");

    // B4: marking a name unmet that is not in the plan fails the build.
    let unmet = r#"printf '[[unmet]]\nname = "never-planned"\n' > "$CNB_LAYERS_DIR/build.toml""#;
    let out = failing_build("0.10", "exit 0", unmet)?;
    assert_contains!(out, "the build failed in the building phase");

    // L9: a launch and cache layer with no contents cannot be exported.
    let empty = r#"printf '[types]\nlaunch = true\ncache = true\n' > "$CNB_LAYERS_DIR/ghost.toml""#;
    let out = failing_build("0.10", "exit 0", empty)?;
    assert_contains!(out, "the build failed in the exporting phase");

    // D4: a top-level `version` in a requirement makes detection error out.
    let versioned = r#"printf '[[provides]]\nname = "x"\n[[requires]]\nname = "x"\nversion = "1"\n' > "$CNB_BUILD_PLAN_PATH""#;
    let out = failing_build("0.10", versioned, "exit 0")?;
    assert_contains!(
        out,
        "the build failed in the detecting phase (lifecycle exit code 21)"
    );

    // S2: an SBOM in a format the buildpack did not declare in sbom-formats fails the build.
    let sbom = r#"mkdir -p "$CNB_LAYERS_DIR/l"; echo x > "$CNB_LAYERS_DIR/l/f"; printf '[types]\nlaunch = true\n' > "$CNB_LAYERS_DIR/l.toml"; echo '{}' > "$CNB_LAYERS_DIR/l.sbom.cdx.json""#;
    let out = failing_build("0.10", "exit 0", sbom)?;
    assert_contains!(out, "the build failed in the building phase");

    // A8: a target whose distros do not match the run image fails detection.
    let ubuntu = format!(
        "{}[[targets]]\nos = \"linux\"\n[[targets.distros]]\nname = \"ubuntu\"\nversion = \"24.04\"\n",
        descriptor("0.10")
    );
    let out = failing_build_with(&ubuntu, "exit 0", "exit 0")?;
    assert_contains!(out, "the build failed in the detecting phase");
    Ok(())
}
