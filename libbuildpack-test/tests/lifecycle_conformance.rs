//! Checklist items that only the real lifecycle can show (the (lc) and H items of
//! ../shared/spec/checklist.md), checked with two shell buildpacks over the tiny stack
//! (tests/fixtures/conformance) that print what they are given.

use libbuildpack_test::{
    BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains, assert_not_contains,
};

const FIXTURE: &str = "tests/fixtures/conformance";

fn probe_build() -> BuildConfig {
    BuildConfig::new(format!("{FIXTURE}/app"))
        .builder_toml(format!("{FIXTURE}/builder.toml"))
        .env("BP_X", "1")
}

#[test]
fn detect_build_and_launch_see_what_the_spec_promises() -> Result<(), TestError> {
    let build = TestRunner::shared()?.build(probe_build())?;
    let out = build.stdout();

    // D12, D13: detect runs in the app dir, sees platform env but nothing the platform's own process has.
    assert_contains!(out, r#"detect_pwd="/workspace""#);
    assert_contains!(out, r#"detect_bp_x="1""#);
    assert_contains!(out, r#"detect_lifecycle_env="unset""#);
    // D8, H6: target vars, the distro from the run image labels.
    assert_contains!(out, r#"target_os="linux""#);
    assert_contains!(out, r#"target_arch="amd64""#);
    assert_contains!(out, r#"target_distro="debian12""#);
    // H2: buildpacks run as the build user, not root.
    assert_contains!(out, "first: running as uid 1000 gid 1000");
    // H3: layout export runs with the experimental mode at warn; H4: the app image goes to its reference's path.
    assert_contains!(
        out,
        "Platform requested experimental feature 'export to OCI layout format'"
    );
    assert_contains!(out, "Saving /layout-repo/localhost/libbuildpack-test/app-");
    // B2: CNB_LAYERS_DIR is the buildpack's own dir and exists before build.
    assert_contains!(
        out,
        "first: layers dir /layers/conformance_first exists=yes"
    );
    // B9, B10: user env and build-config env (no suffix = default; .override wins).
    assert_contains!(out, "first: BP_X=1 FROM_CONFIG=config-default");
    assert_contains!(
        out,
        "second: FROM_CONFIG=config-default OVERRIDDEN_BY_CONFIG=config-override"
    );
    // B8: a build=true layer's bin is on a later buildpack's PATH; a launch-only layer's is not.
    assert_contains!(out, "second: tool says tool-from-first");
    assert_contains!(out, "second: hiddentool not-on-path");
    // E3, E10: env.build append with delim applies to later buildpacks; env/ applies at build too (E1).
    assert_contains!(out, "second: BUILD_LIST=first SHARED_VAR=from-env-dir");
    // A10: clear-env hides platform env from the env, while the file stays readable.
    assert_contains!(out, "second: clear-env BP_X=unset platform file=1");
    // D9: a 0.12 buildpack gets CNB_EXEC_ENV, production by default.
    assert_contains!(out, "second: CNB_EXEC_ENV=production");
    // L3: a layer without types is not exported; L4: launch layers are.
    assert_contains!(out, "Adding layer 'conformance/first:tools'");
    assert_contains!(out, "Adding layer 'conformance/first:hidden'");
    assert_not_contains!(out, "conformance/first:untyped'");
    // P10: launch.toml labels become image labels.
    let image = build.image()?;
    assert_eq!(
        image.label("io.example.first").as_deref(),
        Some("first-label")
    );

    // E11, X3, X4, X5: per-process env and exec.d, in order, each seeing the previous one's output;
    // P7: user args replace the process's default args.
    let probe = build.start(ContainerConfig::process_default().process("probe"))?;
    let (code, logs) = probe.wait_for_exit()?;
    assert_eq!(code, 0, "{logs}");
    assert_contains!(
        logs,
        "SHARED_VAR=from-env-launch-probe PROBE_ONLY=only-for-probe"
    );
    assert_contains!(
        logs,
        "EXECD_FIRST=one EXECD_SECOND=saw-one EXECD_WEB_ONLY=unset"
    );
    // P8: a process without working-dir starts in the app dir.
    assert_contains!(logs, "PWD=/workspace ARGS=default-arg");
    let with_args = build.start(
        ContainerConfig::process_default()
            .process("probe")
            .args(["user-arg"]),
    )?;
    assert_contains!(with_args.wait_for_exit()?.1, "ARGS=user-arg");
    // P8: working-dir is honoured.
    let elsewhere = build.start(ContainerConfig::process_default().process("elsewhere"))?;
    assert_eq!(elsewhere.wait_for_exit()?.1.trim(), "/tmp");
    // X6: a failing exec.d program makes the launcher exit 82 before the process starts.
    let broken = build.start(ContainerConfig::process_default().process("broken"))?;
    let (code, logs) = broken.wait_for_exit()?;
    assert_eq!(code, 82, "{logs}");
    assert_contains!(logs, "exec.d failing on purpose");
    assert!(!logs.contains("never printed"), "{logs}");
    // S3: a launch layer's SBOM is in the image under sbom/launch; S5: one without a layer toml is not.
    let sbom = build.start(ContainerConfig::process_default().process("sleeper"))?;
    let found = sbom.exec(&["find", "/layers/sbom/launch", "-name", "*.json"])?;
    assert_contains!(
        found,
        "/layers/sbom/launch/conformance_first/tools/sbom.cdx.json"
    );
    assert!(!found.contains("nolayer"), "{found}");
    // The default process (web) does not get the probe-only env or exec.d.
    let web = build.start(ContainerConfig::process_default())?;
    assert_contains!(
        web.wait_for_exit()?.1,
        "web SHARED_VAR=from-env-dir PROBE_ONLY=unset EXECD_WEB_ONLY=web"
    );

    // L6, H7: a cache layer comes back on the next build; L7, L8: launch layers are reused from the previous
    // image (same digest) without being rebuilt.
    let again = build.rebuild()?;
    assert_contains!(again.stdout(), "first: cached count was 1");
    assert_contains!(
        again.stdout(),
        "Restoring data for \"conformance/first:cached\" from cache"
    );
    assert_eq!(
        again.layer_digest("conformance/first", "tools")?,
        build.layer_digest("conformance/first", "tools")?
    );
    Ok(())
}
