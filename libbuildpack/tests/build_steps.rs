//! What a build does between layers: the env later steps see, store.toml, migrations of
//! older layer metadata, exec.d programs, debug output and the declared Buildpack API.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;
use libbuildpack::testing::{TestContext, assert_contains};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Toml(#[from] libbuildpack::data::TomlFileError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Installs a tool into a layer's bin dir and an env file, then runs both in a later step.
struct Steps;

impl Buildpack for Steps {
    type Metadata = NoMetadata;
    type Error = StepError;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, StepError> {
        ctx.output().debug("looking for nothing");
        Ok(Detect::pass())
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, StepError> {
        let tool = ctx.layer("tool").launch().fresh()?;
        std::fs::create_dir_all(tool.path().join("bin"))?;
        let script = tool.path().join("bin/greet-tool");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"tool says $GREETING $FROM_BUILD\" > out.txt\n",
        )?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        }
        tool.env().set_default("GREETING", "hello")?;
        tool.build_env().set("FROM_BUILD", "env.build")?;
        tool.launch_env().set("FROM_BUILD", "launch-only")?;
        let env = ctx.build_env().map_err(std::io::Error::other)?;
        assert!(
            env.get("PATH")
                .unwrap()
                .to_string_lossy()
                .starts_with(&*tool.path().join("bin").to_string_lossy())
        );
        ctx.run(&mut Command::new("greet-tool"))?;

        let mut runs: toml::Table = ctx.store()?.unwrap_or_default();
        let n = runs
            .get("runs")
            .and_then(toml::Value::as_integer)
            .unwrap_or(0);
        runs.insert("runs".into(), (n + 1).into());
        ctx.set_store(&runs)?;
        Ok(Build::new())
    }
}

#[test]
fn later_steps_see_layer_bin_dirs_and_env_build_files() {
    let ctx = TestContext::new(fixture("bp")).unwrap();
    let run = ctx.build(&Steps).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    assert_eq!(
        std::fs::read_to_string(ctx.app_dir().join("out.txt")).unwrap(),
        "tool says hello env.build\n"
    );
}

#[test]
fn store_toml_is_one_metadata_table_read_back_next_build() {
    let ctx = TestContext::new(fixture("bp")).unwrap();
    assert!(ctx.build(&Steps).unwrap().succeeded());
    let store = ctx.layers_dir().join("store.toml");
    assert_eq!(
        std::fs::read_to_string(&store).unwrap(),
        "[metadata]\nruns = 1\n"
    );
    ctx.restore_for_next_build().unwrap();
    assert!(ctx.build(&Steps).unwrap().succeeded());
    assert_eq!(
        std::fs::read_to_string(&store).unwrap(),
        "[metadata]\nruns = 2\n"
    );
}

#[test]
fn debug_lines_only_with_bp_log_level_debug() {
    let ctx = TestContext::new(fixture("bp")).unwrap();
    assert!(
        !ctx.detect(&Steps)
            .unwrap()
            .output
            .contains("looking for nothing")
    );
    ctx.platform_env("BP_LOG_LEVEL", "DEBUG").unwrap();
    let run = ctx.detect(&Steps).unwrap();
    assert_contains!(run.output, "[debug] looking for nothing");
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct OldKey {
    python_version: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct NewKey {
    python: String,
    abi: String,
}

struct Migrates {
    python: &'static str,
}

impl Buildpack for Migrates {
    type Metadata = NoMetadata;
    type Error = StepError;

    fn detect(&self, _: &DetectContext) -> Result<Detect, StepError> {
        Ok(Detect::pass())
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, StepError> {
        let key = NewKey {
            python: self.python.into(),
            abi: "cp".into(),
        };
        let venv = ctx
            .layer("venv")
            .cache()
            .migrate(|old: OldKey| {
                Some(NewKey {
                    python: old.python_version,
                    abi: "cp".into(),
                })
            })
            .keyed_by(&key)?;
        if venv.is_new() {
            std::fs::write(venv.path().join("built"), self.python)?;
        }
        Ok(Build::new())
    }
}

fn with_old_metadata(python: &str) -> TestContext {
    let ctx = TestContext::new(fixture("bp")).unwrap();
    let layers = ctx.layers_dir();
    std::fs::create_dir_all(layers.join("venv")).unwrap();
    std::fs::write(layers.join("venv/built"), "old").unwrap();
    std::fs::write(
        layers.join("venv.toml"),
        format!("[metadata]\npython_version = \"{python}\"\n"),
    )
    .unwrap();
    ctx
}

#[test]
fn older_metadata_is_migrated_and_the_layer_kept() {
    let ctx = with_old_metadata("3.12");
    let run = ctx.build(&Migrates { python: "3.12" }).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    assert_contains!(run.output, "Migrating venv (older metadata migrated");
    assert_eq!(
        std::fs::read_to_string(ctx.layers_dir().join("venv/built")).unwrap(),
        "old"
    );
    let metadata = run.layer("venv").unwrap().metadata.clone().unwrap();
    assert_eq!(metadata["python"].as_str(), Some("3.12"));
    assert!(!metadata.contains_key("python_version"));
}

#[test]
fn migrated_metadata_that_differs_rebuilds() {
    let ctx = with_old_metadata("3.11");
    let run = ctx.build(&Migrates { python: "3.12" }).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    assert_contains!(
        run.output,
        "Rebuilding venv (older metadata migrated, then python changed (3.11 → 3.12))",
    );
    assert_eq!(
        std::fs::read_to_string(ctx.layers_dir().join("venv/built")).unwrap(),
        "3.12"
    );
}

struct InstallsExecD;

impl Buildpack for InstallsExecD {
    type Metadata = NoMetadata;
    type Error = StepError;

    fn detect(&self, _: &DetectContext) -> Result<Detect, StepError> {
        Ok(Detect::pass())
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, StepError> {
        let layer = ctx.layer("port").launch().fresh()?;
        let program = ctx.buildpack_dir().join("buildpack.toml");
        layer.install_exec_d("all", &program)?;
        layer.install_process_exec_d(&process_type!("web"), "web-only", &program)?;
        Ok(Build::new())
    }
}

#[test]
fn exec_d_programs_are_installed_executable_per_layer_and_per_process() {
    let ctx = TestContext::new(fixture("bp")).unwrap();
    let run = ctx.build(&InstallsExecD).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    let all = ctx.layers_dir().join("port/exec.d/all");
    let web = ctx.layers_dir().join("port/exec.d/web/web-only");
    assert!(all.is_file() && web.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&all).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }
    assert!(libbuildpack::exec_d::is_exec_d_path(&all));
    assert!(libbuildpack::exec_d::is_exec_d_path(&web));
}

#[test]
fn only_buildpack_api_0_10_to_0_12_is_accepted() {
    for ok in ["bp", "api-0.12"] {
        let ctx = TestContext::new(fixture(ok)).unwrap();
        assert!(ctx.detect(&Steps).unwrap().passed(), "{ok}");
    }
    for bad in ["api-0.9", "api-0.13"] {
        let ctx = TestContext::new(fixture(bad)).unwrap();
        let run = ctx.detect(&Steps).unwrap();
        assert_eq!(run.exit_code, 1, "{bad}");
        assert_contains!(run.output, "this SDK implements only 0.10, 0.11 and 0.12");
        assert_contains!(run.output, "hint: set api = \"0.12\"");
    }
}

#[test]
fn exec_env_defaults_to_production_and_is_passed_through() {
    struct ExecEnv;
    impl Buildpack for ExecEnv {
        type Metadata = NoMetadata;
        type Error = StepError;
        fn detect(&self, ctx: &DetectContext) -> Result<Detect, StepError> {
            ctx.output().detail(format!("exec-env={}", ctx.exec_env()));
            Ok(Detect::pass())
        }
        fn build(&self, _: &mut BuildContext) -> Result<Build, StepError> {
            Ok(Build::new())
        }
    }
    let ctx = TestContext::new(fixture("api-0.12")).unwrap();
    assert!(
        ctx.detect(&ExecEnv)
            .unwrap()
            .output
            .contains("exec-env=production")
    );
    let ctx = ctx.with_exec_env("test");
    assert!(
        ctx.detect(&ExecEnv)
            .unwrap()
            .output
            .contains("exec-env=test")
    );
}
