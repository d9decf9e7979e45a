//! In-process tests against the host's python3. The stale-lock test installs the pinned uv with
//! the host's pip (its configured index) and locks a project without dependencies.

use super::*;
use libbuildpack::testing::{TestContext, assert_contains};

fn context() -> TestContext {
    TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap()
}

const PYPROJECT: &str = "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = []\n\n[tool.uv]\nexclude-newer = \"2025-10-01T00:00:00Z\"\n";

/// Replaces what changes from run to run: temp paths, timings, the Python version.
fn redact(text: &str, ctx: &TestContext, stack: &str) -> String {
    let layers = ctx.layers_dir().display().to_string();
    let executable = python::stack().unwrap().executable;
    let minor: String = stack.split('.').take(2).collect::<Vec<_>>().join(".");
    text.lines()
        .filter(|line| !line.trim_start().starts_with("Looking in "))
        .map(|line| {
            if line.contains("Done (") {
                "  Done (<time>)".to_string()
            } else if let (Some(at), true) = (line.find(" in "), line.contains("Resolved ")) {
                format!("{} in <time>", &line[..at])
            } else {
                line.replace(&layers, "<layers>")
                    .replace(&executable, "<stack-python-executable>")
                    .replace(stack, "<stack-python>")
                    .replace(&format!(" {minor} "), " <stack-minor> ")
            }
        })
        .fold(String::new(), |text, line| text + &line + "\n")
}

fn stack_version() -> String {
    python::short(&python::stack().unwrap().version).to_string()
}

#[test]
fn detect_needs_pyproject_and_lock() {
    let ctx = context();
    ctx.app_file("pyproject.toml", PYPROJECT).unwrap();
    let run = ctx.detect(&Uv).unwrap();
    assert_eq!(run.exit_code, 100);
    assert_contains!(run.output, "run `uv lock`");
    ctx.app_file("uv.lock", "version = 1\n").unwrap();
    let run = ctx.detect(&Uv).unwrap();
    assert!(run.passed(), "{}", run.output);
    assert_eq!(run.plan.unwrap().provides[0].name, "uv-extras");
}

#[test]
fn unsupported_python_version_says_what_to_change() {
    let ctx = context();
    ctx.app_file("pyproject.toml", PYPROJECT).unwrap();
    ctx.app_file("uv.lock", "version = 1\n").unwrap();
    ctx.app_file(".python-version", "2.7\n").unwrap();
    let run = ctx.build(&Uv).unwrap();
    assert!(!run.succeeded());
    insta::assert_snapshot!(redact(&run.output, &ctx, &stack_version()));
}

#[test]
fn plan_extras_are_sorted_and_unique() {
    let plan = BuildpackPlan::from_toml_str(
        "[[entries]]\nname = \"uv-extras\"\n[entries.metadata]\nextras = [\"cuda\", \"api\"]\n[[entries]]\nname = \"uv-extras\"\n[entries.metadata]\nextras = [\"api\"]\n",
        "plan.toml",
    )
    .unwrap();
    assert_eq!(plan_extras(&plan), ["api", "cuda"]);
}

#[test]
fn hints() {
    let stale = ["error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided. To update the lockfile, run `uv lock`.".to_string()];
    assert!(hint(&stale, "3.11.2").contains("Run `uv lock`"));
    let python = ["error: The Python request from `.python-version` resolved to Python 3.11.2, which is incompatible with the project's Python requirement: `>=3.12`".to_string()];
    assert!(hint(&python, "3.11.2").contains("requires-python"));
}

#[test]
fn stale_lock_says_run_uv_lock() {
    let ctx = context();
    ctx.app_file("pyproject.toml", PYPROJECT).unwrap();
    // Lock with the pinned uv, installed hash-checked beside the app.
    let tools = ctx.layers_dir().join("uv-for-lock");
    std::fs::create_dir_all(&tools).unwrap();
    let requirement = tools.join("requirements.txt");
    libbuildpack_test::uv::write_requirement(&requirement).unwrap();
    let status = libbuildpack_test::uv::pip_install_hashed(&requirement, &tools)
        .status()
        .unwrap();
    assert!(status.success());
    let uv_binary = libbuildpack_test::uv::binary(&tools);
    let status = std::process::Command::new(&uv_binary)
        .args([
            "lock",
            "--offline",
            "--exclude-newer",
            "2025-10-01T00:00:00Z",
        ])
        .current_dir(ctx.app_dir())
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_PYTHON", "python3")
        .status()
        .unwrap();
    assert!(status.success());
    // The project changes, the lock does not.
    ctx.app_file(
        "pyproject.toml",
        PYPROJECT.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    let run = ctx.build(&Uv).unwrap();
    assert!(!run.succeeded(), "{}", run.output);
    let output = redact(&run.output, &ctx, &stack_version());
    // From the failing sync on: installing uv is not what this snapshot is about.
    let from = output.find("- Installing the locked dependencies").unwrap();
    insta::assert_snapshot!(&output[from..]);
}
