//! In-process detect and build tests.

use super::*;
use libbuildpack::testing::{TestContext, assert_contains};

fn context() -> TestContext {
    TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap()
}

fn requirement(run: &libbuildpack::testing::DetectRun) -> (String, toml::Table) {
    let plan = run.plan.clone().unwrap();
    (
        plan.requires[0].name.clone(),
        plan.requires[0].metadata.clone(),
    )
}

#[test]
fn no_framework_no_detect() {
    let ctx = context();
    ctx.app_file("requirements.txt", "flask\n").unwrap();
    assert_eq!(ctx.detect(&Ml).unwrap().exit_code, 100);
}

#[test]
fn pip_app_on_cuda_asks_for_gpu_variants() {
    let ctx = context();
    ctx.app_file("requirements.txt", "onnxruntime==1.20.1\nscikit-learn\n")
        .unwrap();
    ctx.platform_env("BP_ML_ACCELERATOR", "cuda").unwrap();
    let run = ctx.detect(&Ml).unwrap();
    assert!(run.passed(), "{}", run.output);
    let (name, metadata) = requirement(&run);
    assert_eq!(name, "pip-packages");
    assert_eq!(metadata["accelerator"].as_str(), Some("cuda"));
    assert_eq!(
        metadata["packages"].as_array().unwrap()[0].as_str(),
        Some("onnxruntime-gpu==1.20.1")
    );
    assert_eq!(
        metadata["replaces"].as_array().unwrap()[0].as_str(),
        Some("onnxruntime")
    );
}

#[test]
fn hardware_txt_and_env_precedence() {
    let ctx = context();
    ctx.app_file("requirements.txt", "tensorflow==2.18.0\n")
        .unwrap();
    ctx.app_file("hardware.txt", "# where it runs\ncuda\n")
        .unwrap();
    let (_, metadata) = requirement(&ctx.detect(&Ml).unwrap());
    assert_eq!(
        metadata["packages"].as_array().unwrap()[0].as_str(),
        Some("tensorflow[and-cuda]==2.18.0")
    );
    ctx.platform_env("BP_ML_ACCELERATOR", "cpu").unwrap();
    let (_, metadata) = requirement(&ctx.detect(&Ml).unwrap());
    assert_eq!(
        metadata["packages"].as_array().unwrap()[0].as_str(),
        Some("tensorflow-cpu==2.18.0")
    );
}

#[test]
fn unknown_accelerator_fails_detect_with_choices() {
    let ctx = context();
    ctx.app_file("requirements.txt", "torch\n").unwrap();
    ctx.app_file("hardware.txt", "tpu\n").unwrap();
    let run = ctx.detect(&Ml).unwrap();
    assert!(!run.passed() && run.exit_code != 100, "{}", run.output);
    assert_contains!(run.output, "use one of: cpu, cuda, rocm");
}

#[test]
fn uv_app_selects_the_accelerator_extra() {
    let ctx = context();
    ctx.app_file(
        "pyproject.toml",
        "[project]\nname = \"a\"\nversion = \"0\"\ndependencies = [\"jax==0.4.35\"]\n[project.optional-dependencies]\ncuda = [\"jax[cuda12]==0.4.35\"]\n",
    )
    .unwrap();
    ctx.app_file("uv.lock", "version = 1\n").unwrap();
    ctx.app_file("hardware.txt", "cuda").unwrap();
    let (name, metadata) = requirement(&ctx.detect(&Ml).unwrap());
    assert_eq!(name, "uv-extras");
    assert_eq!(
        metadata["extras"].as_array().unwrap()[0].as_str(),
        Some("cuda")
    );
}

#[test]
fn build_labels_and_installs_exec_d() {
    let ctx = context();
    ctx.app_file("requirements.txt", "scikit-learn==1.5.2\n")
        .unwrap();
    let plan = BuildpackPlan::from_toml_str(
        "[[entries]]\nname = \"pip-packages\"\n[entries.metadata]\naccelerator = \"cpu\"\n",
        "plan.toml",
    )
    .unwrap();
    let run = ctx.build_with_plan(&Ml, &plan).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    let launch = run.launch.clone().unwrap();
    assert_eq!(launch.labels[0].key, ACCELERATOR_LABEL);
    assert_eq!(launch.labels[0].value, "cpu");
    assert!(ctx.layers_dir().join("ml/exec.d/threads").is_file());
    assert_eq!(
        run.layer("ml").unwrap().metadata.as_ref().unwrap()["accelerator"].as_str(),
        Some("cpu")
    );
}
