//! The compiled binary, run the way the lifecycle runs it: as `bin/detect` and `bin/build`
//! symlinks, with `CNB_*` variables and the app dir as working directory.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Layout {
    _root: tempfile::TempDir,
    buildpack: PathBuf,
    app: PathBuf,
    platform: PathBuf,
    layers: PathBuf,
    plan: PathBuf,
}

fn layout() -> Layout {
    let root = tempfile::tempdir().unwrap();
    let buildpack = root.path().join("buildpack");
    std::fs::create_dir_all(buildpack.join("bin")).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/buildpack.toml"),
        buildpack.join("buildpack.toml"),
    )
    .unwrap();
    for phase in ["detect", "build"] {
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_hello-buildpack"),
            buildpack.join("bin").join(phase),
        )
        .unwrap();
    }
    let app = root.path().join("workspace");
    let platform = root.path().join("platform");
    let layers = root.path().join("layers/examples_hello");
    for dir in [&app, &platform.join("env"), &layers] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let plan = root.path().join("plan.toml");
    std::fs::write(&plan, "").unwrap();
    Layout {
        buildpack,
        app,
        platform,
        layers,
        plan,
        _root: root,
    }
}

fn run(layout: &Layout, phase: &str, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(layout.buildpack.join("bin").join(phase));
    command
        .current_dir(&layout.app)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CNB_BUILDPACK_DIR", &layout.buildpack);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn detect_exit_codes() {
    let layout = layout();
    let env = [
        ("CNB_PLATFORM_DIR", layout.platform.as_path()),
        ("CNB_BUILD_PLAN_PATH", layout.plan.as_path()),
    ];
    let out = run(&layout, "detect", &env);
    assert_eq!(out.status.code(), Some(100), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no hello.txt"));

    std::fs::write(layout.app.join("hello.txt"), "hi").unwrap();
    let out = run(&layout, "detect", &env);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn build_writes_launch_toml() {
    let layout = layout();
    std::fs::write(layout.app.join("hello.txt"), "hi").unwrap();
    let env = [
        ("CNB_PLATFORM_DIR", layout.platform.as_path()),
        ("CNB_BP_PLAN_PATH", layout.plan.as_path()),
        ("CNB_LAYERS_DIR", layout.layers.as_path()),
    ];
    let out = run(&layout, "build", &env);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let launch = std::fs::read_to_string(layout.layers.join("launch.toml")).unwrap();
    assert!(launch.contains("type = \"web\""), "{launch}");
    assert!(layout.layers.join("hello.toml").exists());
}

#[test]
fn positional_arguments_work_too() {
    let layout = layout();
    std::fs::write(layout.app.join("hello.txt"), "hi").unwrap();
    let out = Command::new(layout.buildpack.join("bin/build"))
        .current_dir(&layout.app)
        .env_clear()
        .env("CNB_BUILDPACK_DIR", &layout.buildpack)
        .args([&layout.layers, &layout.platform, &layout.plan])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(layout.layers.join("launch.toml").exists());
}

#[test]
fn errors_exit_1_and_say_why() {
    let layout = layout();
    // No plan path at all.
    let out = run(
        &layout,
        "detect",
        &[("CNB_PLATFORM_DIR", layout.platform.as_path())],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("build plan path is not known: set CNB_BUILD_PLAN_PATH"),
        "{stderr}"
    );

    // Run under an unknown name.
    let out = Command::new(env!("CARGO_BIN_EXE_hello-buildpack"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("install it as bin/detect and bin/build")
    );
}
