//! Order resolution, build plans and processes across buildpacks, on the real lifecycle
//! (tests/fixtures/plan: four shell buildpacks over the tiny stack).

use libbuildpack_test::{
    BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains, assert_not_contains,
};

#[test]
fn groups_plans_unmet_entries_and_processes_resolve_as_the_spec_says() -> Result<(), TestError> {
    let config = BuildConfig::new("tests/fixtures/plan/app")
        .builder_toml("tests/fixtures/plan/builder.toml");
    let build = TestRunner::shared()?.build(config)?;
    let out = build.stdout();
    // D6: group 1 fails: a required buildpack provides what nobody requires, so it never builds.
    assert_not_contains!(out, "lonely: must never build");
    // D7: the optional buildpack whose requirement nobody meets is dropped from group 2.
    assert_contains!(out, "2 of 3 buildpacks participating");
    assert_not_contains!(out, "needy: must never build");
    // B3, B5: base gets both requirements of the name it provides; marking them unmet passes both on.
    assert_contains!(out, "base: plan 2 thing entries");
    assert_contains!(
        out,
        r#"second: plan 2 thing entries: who="base" who="second""#
    );
    // P6: the last buildpack's default process wins.
    assert_contains!(out, "Setting default process type 'second-web'");
    let image = build.image()?;
    let entrypoint = image
        .config()
        .config()
        .as_ref()
        .and_then(|c| c.entrypoint().clone())
        .unwrap_or_default();
    assert_eq!(entrypoint, ["/cnb/process/second-web"]);
    // P11: each slice is its own app layer, with the rest of the app in one more; an empty slice is accepted.
    assert_contains!(out, "Added 3/3 app layer(s)");

    // H9: the launcher's metadata.toml lists every buildpack with its api, and processes sorted by type.
    let metadata = image
        .read_file("/layers/config/metadata.toml")
        .map_err(|e| TestError::from(rpack::Error::from(e)))?;
    let metadata: toml::Table = String::from_utf8_lossy(&metadata.unwrap_or_default())
        .parse()
        .unwrap_or_default();
    let buildpacks: Vec<(String, String)> = metadata["buildpacks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|bp| {
            (
                bp["id"].as_str().unwrap_or("").to_owned(),
                bp["api"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        buildpacks,
        [
            ("plan/base".to_owned(), "0.10".to_owned()),
            ("plan/second".to_owned(), "0.12".to_owned())
        ]
    );
    let types: Vec<&str> = metadata["processes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["type"].as_str())
        .collect();
    assert_eq!(types, ["base-web", "second-web", "test-only"], "{metadata}");

    // P9: a process for exec-env "test" cannot be launched in production (the default exec env).
    let test_only = build.start(ContainerConfig::process_default().process("test-only"))?;
    let (code, logs) = test_only.wait_for_exit()?;
    assert_ne!(code, 0, "{logs}");
    assert!(!logs.lines().any(|l| l.trim() == "test"), "{logs}");
    Ok(())
}
