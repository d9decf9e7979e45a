//! The runtime end to end, in-process: exit codes, plan and launch.toml written, layer
//! keep/rebuild decisions across builds, env files.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::path::PathBuf;

use libbuildpack::data::{BuildpackPlan, LayerTypes, PlanEntry};
use libbuildpack::prelude::*;
use libbuildpack::testing::{TestContext, assert_contains};

#[derive(Debug, Deserialize)]
struct Meta {
    greeting: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Key {
    version: String,
}

#[derive(Debug, thiserror::Error)]
enum TestBpError {
    #[error("the app asked to fail")]
    AskedToFail,
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("could not write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

struct TestBp;

impl Buildpack for TestBp {
    type Metadata = Meta;
    type Error = TestBpError;

    fn detect(&self, ctx: &DetectContext<Meta>) -> Result<Detect, TestBpError> {
        if ctx.app_dir().join("error").exists() {
            return Err(TestBpError::AskedToFail);
        }
        if !ctx.app_dir().join("app.txt").exists() {
            return Ok(Detect::fail("no app.txt"));
        }
        assert_eq!(ctx.metadata().greeting, "hi");
        assert_eq!(ctx.exec_env(), "production");
        let mut meta = toml::Table::new();
        meta.insert(
            "version".into(),
            ctx.platform_env().get("VERSION").unwrap_or("1").into(),
        );
        Ok(Detect::pass()
            .provides("thing")
            .requires_with("thing", meta))
    }

    fn build(&self, ctx: &mut BuildContext<Meta>) -> Result<Build, TestBpError> {
        ctx.output().section("Test");
        if ctx.app_dir().join("error").exists() {
            return Err(TestBpError::AskedToFail);
        }
        let version = ctx.platform_env().get("VERSION").unwrap_or("1").to_string();
        let cached = ctx.layer("cached").cache().build().keyed_by(&Key {
            version: version.clone(),
        })?;
        if cached.is_new() {
            let path = cached.path().join("data");
            std::fs::write(&path, &version)
                .map_err(|source| TestBpError::Write { path, source })?;
        }
        cached
            .env()
            .prepend_path("PATH", cached.path().join("bin"))?;
        let launch = ctx
            .layer(layer_name!("runtime"))
            .launch()
            .keyed_by(&Key { version })?;
        if launch.is_new() {
            let path = launch.path().join("file");
            std::fs::write(&path, "x").map_err(|source| TestBpError::Write { path, source })?;
        }
        launch
            .launch_env()
            .set("GREETING", &ctx.metadata().greeting)?;
        if ctx.app_dir().join("run").exists() {
            ctx.run(Command::new("sh").args(["-c", "echo from-command; cat app.txt"]))?;
        }
        let mut build = Build::new()
            .process(Process::web(["bash", "-c", "echo hi"]).args(["x"]))
            .process(Process::new(process_type!("worker"), ["worker"]).working_dir("/w"))
            .label("team", "core");
        for entry in ctx.plan().entries_named("unmet-me") {
            build = build.unmet(entry.name.clone());
        }
        Ok(build)
    }
}

fn context() -> TestContext {
    TestContext::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bp")).unwrap()
}

#[test]
fn detect_pass_writes_plan() {
    let ctx = context();
    ctx.app_file("app.txt", "hello").unwrap();
    ctx.platform_env("VERSION", "7").unwrap();
    let run = ctx.detect(&TestBp).unwrap();
    assert_eq!(run.exit_code, 0, "{}", run.output);
    let plan = run.plan.unwrap();
    insta::assert_snapshot!(plan.to_toml_string().unwrap(), @r#"
    [[provides]]
    name = "thing"

    [[requires]]
    name = "thing"

    [requires.metadata]
    version = "7"
    "#);
}

#[test]
fn detect_fail_exits_100_with_reason() {
    let ctx = context();
    let run = ctx.detect(&TestBp).unwrap();
    assert_eq!(run.exit_code, 100);
    assert!(run.plan.is_none());
    assert_eq!(run.output, "  no app.txt\n");
}

#[test]
fn detect_error_exits_1_with_cause() {
    let ctx = context();
    ctx.app_file("error", "").unwrap();
    let run = ctx.detect(&TestBp).unwrap();
    assert_eq!(run.exit_code, 1);
    assert_eq!(
        run.output,
        "ERROR: detect failed\n  caused by: the app asked to fail\n"
    );
}

#[test]
fn build_writes_layers_env_and_launch_toml() {
    let ctx = context();
    ctx.app_file("app.txt", "hello").unwrap();
    let run = ctx.build(&TestBp).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    insta::assert_snapshot!(run.output, @r"
    ## Test
      Creating cached
      Creating runtime
    ");
    let launch = run.launch.unwrap();
    insta::assert_snapshot!(launch.to_toml_string().unwrap(), @r#"
    [[labels]]
    key = "team"
    value = "core"

    [[processes]]
    type = "web"
    command = ["bash", "-c", "echo hi"]
    args = ["x"]
    default = true

    [[processes]]
    type = "worker"
    command = ["worker"]
    working-dir = "/w"
    "#);
    assert_eq!(
        run.layers["cached"].types,
        Some(LayerTypes {
            launch: false,
            build: true,
            cache: true
        })
    );
    assert_eq!(
        run.layers["runtime"].types,
        Some(LayerTypes {
            launch: true,
            build: false,
            cache: false
        })
    );
    let layers = ctx.layers_dir();
    assert_eq!(
        std::fs::read_to_string(layers.join("runtime/env.launch/GREETING.override")).unwrap(),
        "hi"
    );
    assert_eq!(
        std::fs::read_to_string(layers.join("cached/env/PATH.prepend")).unwrap(),
        layers.join("cached/bin").to_str().unwrap()
    );
    assert!(run.build.is_none());
}

#[test]
fn rebuild_reuses_then_rebuilds_on_change() {
    let ctx = context();
    ctx.app_file("app.txt", "hello").unwrap();
    assert!(ctx.build(&TestBp).unwrap().succeeded());

    ctx.restore_for_next_build().unwrap();
    assert!(!ctx.layers_dir().join("runtime").exists());
    let run = ctx.build(&TestBp).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    assert_contains!(run.output, "Reusing cached (version 1 unchanged)");
    assert_contains!(run.output, "Reusing runtime (version 1 unchanged)");
    // The launch-only layer stays absent: the lifecycle reuses the previous image's layer.
    assert!(!ctx.layers_dir().join("runtime").exists());
    assert!(run.layers["runtime"].types.unwrap().launch);
    assert_eq!(
        std::fs::read_to_string(ctx.layers_dir().join("cached/data")).unwrap(),
        "1"
    );

    ctx.restore_for_next_build().unwrap();
    ctx.platform_env("VERSION", "2").unwrap();
    let run = ctx.build(&TestBp).unwrap();
    assert_contains!(run.output, "Rebuilding cached (version changed (1 → 2))");
    assert_contains!(run.output, "Rebuilding runtime (version changed (1 → 2))");
    assert_eq!(
        std::fs::read_to_string(ctx.layers_dir().join("cached/data")).unwrap(),
        "2"
    );
    assert!(ctx.layers_dir().join("runtime/file").exists());
}

#[test]
fn build_error_exits_1() {
    let ctx = context();
    ctx.app_file("error", "").unwrap();
    let run = ctx.build(&TestBp).unwrap();
    assert_eq!(run.exit_code, 1);
    assert_contains!(
        run.output,
        "ERROR: build failed\n  caused by: the app asked to fail\n"
    );
    assert!(run.launch.is_none());
}

#[test]
fn build_runs_commands_in_app_dir() {
    let ctx = context();
    ctx.app_file("app.txt", "app-contents").unwrap();
    ctx.app_file("run", "").unwrap();
    let run = ctx.build(&TestBp).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    assert_contains!(
        run.output,
        "      from-command\n      app-contents\n  Done ("
    );
}

#[test]
fn unmet_entries_are_written_and_checked() {
    let ctx = context();
    ctx.app_file("app.txt", "x").unwrap();
    let plan = BuildpackPlan {
        entries: vec![PlanEntry {
            name: "unmet-me".into(),
            metadata: toml::Table::new(),
        }],
    };
    let run = ctx.build_with_plan(&TestBp, &plan).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    assert_eq!(run.build.unwrap().unmet[0].name, "unmet-me");
}

#[test]
fn metadata_missing_is_an_error_for_required_fields() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("buildpack.toml"),
        "api = \"0.10\"\n[buildpack]\nid = \"a/b\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    let ctx = TestContext::new(dir.path()).unwrap();
    ctx.app_file("app.txt", "x").unwrap();
    let run = ctx.detect(&TestBp).unwrap();
    assert_eq!(run.exit_code, 1);
    assert_contains!(run.output, "has no [metadata] table");
}

struct TwoDefaults;

impl Buildpack for TwoDefaults {
    type Metadata = NoMetadata;
    type Error = LayerError;

    fn detect(&self, _: &DetectContext) -> Result<Detect, LayerError> {
        Ok(Detect::pass())
    }

    fn build(&self, _: &mut BuildContext) -> Result<Build, LayerError> {
        Ok(Build::new()
            .process(Process::web(["a"]))
            .process(Process::new(process_type!("other"), ["b"]).default(true)))
    }
}

#[test]
fn invalid_launch_toml_fails_the_build() {
    let ctx = context();
    let run = ctx.build(&TwoDefaults).unwrap();
    assert_eq!(run.exit_code, 1);
    assert_contains!(run.output, "only one process may be the default");
    assert!(run.launch.is_none());
}

#[test]
fn empty_detect_plan_is_written_empty() {
    let ctx = context();
    let run = ctx.detect(&TwoDefaults).unwrap();
    assert!(run.passed());
    assert_eq!(run.plan, Some(libbuildpack::data::BuildPlan::default()));
}

#[derive(Debug, thiserror::Error)]
enum InstallError {
    #[error("could not install the app's packages")]
    Install {
        #[source]
        source: std::io::Error,
        hint: String,
    },
}

/// A buildpack whose build fails with an error that carries a hint.
struct Hinted;

impl Buildpack for Hinted {
    type Metadata = Meta;
    type Error = InstallError;

    fn detect(&self, _: &DetectContext<Meta>) -> Result<Detect, InstallError> {
        Ok(Detect::pass())
    }

    fn build(&self, _: &mut BuildContext<Meta>) -> Result<Build, InstallError> {
        Err(InstallError::Install {
            source: std::io::Error::other("the package index is unreachable"),
            hint: "Check PIP_INDEX_URL, then build again.".into(),
        })
    }

    fn hint(&self, error: &InstallError) -> Option<String> {
        let InstallError::Install { hint, .. } = error;
        Some(hint.clone())
    }
}

#[test]
fn a_buildpack_hint_is_printed_once_after_the_error_and_its_causes() {
    let ctx = context();
    let run = ctx.build(&Hinted).unwrap();
    assert_eq!(run.exit_code, 1);
    insta::assert_snapshot!(run.output, @r"
    ERROR: build failed
      caused by: could not install the app's packages
      caused by: the package index is unreachable
      hint: Check PIP_INDEX_URL, then build again.
    ");
    let error = InstallError::Install {
        source: std::io::Error::other("the package index is unreachable"),
        hint: String::new(),
    };
    libbuildpack::testing::assert_causes_not_repeated(&error);
}
