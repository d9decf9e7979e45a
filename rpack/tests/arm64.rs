#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! Issue 17: one builder.toml for amd64 and arm64. An arm64 app is built and run on this (amd64) machine
//! under qemu emulation: the lifecycle cross-built with `GOARCH=arm64`, the tiny stack's arm64 images (made
//! once with `mmdebstrap --arch arm64` and kept in the store like the amd64 ones), examples/hello's Rust
//! binary cross-linked for aarch64 (its detect and build run emulated), and a shell buildpack that serves
//! the app with the run image's perl. The same app built for amd64 joins it under one name, one platform is
//! rebased without touching the other, and the name is published as an index. Needs what `scripts/setup`
//! registers (`rpack doctor` checks it).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use libbuildpack_test::Registry;
use support::platforms::{
    Podman, free_port, http_get, pack_inspect_remote_builder, perl_hello_server_build,
    registries_conf, skopeo_inspect,
};
use support::{rpack_ok, write, write_executable};

/// A builder.toml for linux/amd64 and linux/arm64 on the tiny stack: examples/hello, then the server.
fn builder(dir: &Path) {
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello");
    write(
        &dir.join("serve/buildpack.toml"),
        "api = \"0.10\"\n[buildpack]\nid = \"test/serve\"\nversion = \"0.1.0\"\n\
         [[targets]]\nos = \"linux\"\narch = \"amd64\"\n[[targets]]\nos = \"linux\"\narch = \"arm64\"\n",
    );
    write_executable(&dir.join("serve/bin/detect"), "#!/bin/sh\nexit 0\n");
    // Serves `hello.txt` with the env the hello buildpack's launch layer sets and the machine it runs on.
    write_executable(
        &dir.join("serve/bin/build"),
        &perl_hello_server_build(
            "",
            r#"$body = "$ENV{HELLO_GREETING} from " . `uname -m` . $body;"#,
        ),
    );
    write(
        &dir.join("builder.toml"),
        &format!(
            "[[buildpacks]]\nuri = \"{}\"\n[[buildpacks]]\nuri = \"serve\"\n\
             [[order]]\n[[order.group]]\nid = \"examples/hello\"\n[[order.group]]\nid = \"test/serve\"\n\
             [build]\nimage = \"localhost/rpack/tiny-build:latest\"\n\
             [[run.images]]\nimage = \"localhost/rpack/tiny-run:latest\"\n\
             [[targets]]\nos = \"linux\"\narch = \"amd64\"\n[[targets]]\nos = \"linux\"\narch = \"arm64\"\n",
            hello.display()
        ),
    );
    write(&dir.join("app/hello.txt"), "hello from arm64\n");
}

/// The manifest digest and diff ids of `image`'s linux/`arch` image in the store.
fn platform_image(image: &str, arch: &str) -> (String, Vec<String>) {
    let store = rpack::store::Store::from_env().unwrap();
    let layout = store
        .image_layout(&image.parse().unwrap())
        .for_platform(rpack::oci::Platform::new("linux", arch));
    let loaded = rpack::oci::Image::load(layout).unwrap();
    assert_eq!(loaded.arch(), arch);
    (
        loaded.manifest_digest().unwrap().to_string(),
        loaded.diff_ids().to_vec(),
    )
}

/// The manifest digest of the linux/arm64 image of `image` in the store.
fn arm64_digest(image: &str) -> String {
    platform_image(image, "arm64").0
}

/// Runs the linux/arm64 image of `image` detached with `PORT` set, asks it for `/` (waiting up to `wait`) and
/// stops it; returns the answer's body.
fn arm64_answer(image: &str, wait: Duration) -> Option<String> {
    let port = free_port();
    let (container, _) = rpack_ok(&[
        "run",
        "--detach",
        "--platform",
        "linux/arm64",
        "--env",
        &format!("PORT={port}"),
        image,
    ]);
    let answer = http_get(port, wait);
    rpack_ok(&["stop", container.trim()]);
    answer
}

/// pack reads the builder index pushed to `registry` (the "LOCAL" half of its answer needs a daemon).
fn pack_reads_the_builder(dir: &Path, registry: &Registry, name: &str) {
    let pushed = format!("{}/arm64-builder:latest", registry.host());
    rpack_ok(&["push", name, "--to", &pushed]);
    let remote = pack_inspect_remote_builder(dir, &pushed);
    assert!(remote.contains("examples/hello"), "{remote}");
}

/// The architectures of the index a registry serves for `image`.
fn registry_archs(image: &str) -> Vec<String> {
    let index = skopeo_inspect(image, "--raw");
    index["manifests"]
        .as_array()
        .unwrap_or_else(|| panic!("{image} is no index: {index}"))
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_arm64_hello_app_builds_and_answers_http_under_emulation() {
    let started = Instant::now();
    if let Err(e) = rpack::provision::emulation::check("arm64") {
        panic!("{e}: {}", e.hint().unwrap_or_default());
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    builder(dir);
    rpack_ok(&["lifecycle", "install", "--arch", "arm64"]);
    let config = dir.join("builder.toml");
    let name = "localhost/rpack-test/arm64-builder:latest";
    rpack_ok(&[
        "builder",
        "create",
        name,
        "--config",
        config.to_str().unwrap(),
    ]);
    let (inspected, _) = rpack_ok(&["inspect", name]);
    assert!(
        inspected.contains("platforms: linux/amd64, linux/arm64"),
        "{inspected}"
    );

    let registry = Registry::start().unwrap();
    pack_reads_the_builder(dir, &registry, name);

    let image = "localhost/rpack-test/arm64-hello:latest";
    // What a failed run of this test left.
    let _ = support::rpack().args(["image", "rm", image]).output();
    let app = dir.join("app");
    let build = [
        "build",
        image,
        "--path",
        app.to_str().unwrap(),
        "--builder",
        name,
        "--platform",
        "linux/arm64",
    ];
    rpack_ok(&build);
    let first = arm64_digest(image);
    let (inspected, _) = rpack_ok(&["inspect", image]);
    assert!(inspected.contains("(app, linux/arm64)"), "{inspected}");

    let answer = arm64_answer(image, Duration::from_secs(60));
    assert_eq!(
        answer.as_deref(),
        Some("hello from aarch64\nhello from arm64\n"),
        "the arm64 app answers: the hello buildpack's launch env, uname -m of the emulated container, hello.txt"
    );

    // The same inputs give the same arm64 image.
    rpack_ok(&build);
    assert_eq!(first, arm64_digest(image));

    // Built for amd64 too, the app is one name with both platforms, published as an index.
    let mut native = build.to_vec();
    if let Some(platform) = native.last_mut() {
        *platform = "linux/amd64";
    }
    rpack_ok(&native);
    assert_eq!(
        first,
        arm64_digest(image),
        "the amd64 build keeps the arm64 image"
    );
    let (inspected, _) = rpack_ok(&["inspect", image]);
    assert!(
        inspected.contains("platforms: linux/amd64, linux/arm64"),
        "{inspected}"
    );
    // Rebasing one platform (onto the run image it has: its layers stay) keeps the other as it was.
    let (native, arm_layers) = (
        platform_image(image, "amd64").0,
        platform_image(image, "arm64").1,
    );
    rpack_ok(&["rebase", image, "--platform", "linux/arm64"]);
    assert_eq!(platform_image(image, "arm64").1, arm_layers);
    assert_eq!(platform_image(image, "amd64").0, native);
    let published = format!("{}/arm64-hello:latest", registry.host());
    rpack_ok(&["push", image, "--to", &published]);
    assert_eq!(registry_archs(&published), ["amd64", "arm64"]);
    drop(registry);

    let podman = Podman::new(registries_conf(dir, "127.0.0.1:1"));
    for gone in [image, name] {
        rpack_ok(&["image", "rm", gone]);
        let _ = podman.output(&["rmi", "--force", gone]);
    }
    eprintln!(
        "arm64 builder, build, run, rebuild, rebase and publish: {:?}",
        started.elapsed()
    );
}

/// A build makes only the builder image of the platform it builds for: a builder.toml with an arm64 target
/// costs an amd64 build nothing (no arm64 stack, lifecycle or emulation), is recognised as up to date on the
/// next build without cargo, and a platform it has no target for is refused, naming the ones it has. Runs on
/// the amd64 tiny stack only.
#[test]
fn a_build_makes_only_its_platforms_image_of_a_multi_target_builder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    builder(dir);
    let config = dir.join("builder.toml");
    let name = rpack::build::platform::builder_ref_for_config(&config).to_string();
    let image = "localhost/rpack-test/one-platform-hello:latest";
    let app = dir.join("app");
    let build = [
        "build",
        image,
        "--path",
        app.to_str().unwrap(),
        "--builder",
        config.to_str().unwrap(),
    ];
    let (_, first) = rpack_ok(&build);
    assert!(first.contains("for linux/amd64"), "{first}");
    let (inspected, _) = rpack_ok(&["inspect", &name]);
    assert!(
        inspected.contains("(builder, linux/amd64)") && !inspected.contains("arm64"),
        "only the amd64 image was made:\n{inspected}"
    );
    let (_, again) = rpack_ok(&build);
    assert!(
        again.contains("is up to date (its sources are unchanged)"),
        "{again}"
    );

    let mut s390x = build.to_vec();
    s390x.extend(["--platform", "linux/s390x"]);
    let refused = support::rpack_fails(&s390x);
    let dir_shown = config.display().to_string();
    insta::assert_snapshot!(refused.replace(&dir_shown, "[dir]/builder.toml"));

    // `builder create --platform` makes that platform's image and keeps the others.
    rpack_ok(&[
        "builder",
        "create",
        &name,
        "--config",
        config.to_str().unwrap(),
        "--platform",
        "linux/amd64",
    ]);
    let (inspected, _) = rpack_ok(&["inspect", &name]);
    assert!(!inspected.contains("arm64"), "{inspected}");
    for gone in [image, name.as_str()] {
        rpack_ok(&["image", "rm", gone]);
    }
}

/// The shipped builder/builder.toml serves arm64 too: examples/apps/flask (requirements.txt, pip) built with it
/// for linux/arm64 answers HTTP under emulation. The first run makes the arm64 python stack (about 5 minutes
/// of emulated maintainer scripts) and the buildpacks' aarch64 binaries; later runs reuse both, and the build
/// itself (pip under emulation) takes about 20 s.
#[test]
fn a_python_app_built_for_arm64_with_the_shipped_builder_answers_http() {
    let started = Instant::now();
    if let Err(e) = rpack::provision::emulation::check("arm64") {
        panic!("{e}: {}", e.hint().unwrap_or_default());
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let app = repo.join("examples/apps/flask");
    let image = "localhost/rpack-test/arm64-flask:latest";
    let _ = support::rpack().args(["image", "rm", image]).output();
    rpack_ok(&["lifecycle", "install", "--arch", "arm64"]);
    let config = repo.join("builder/builder.toml");
    rpack_ok(&[
        "build",
        image,
        "--path",
        app.to_str().unwrap(),
        "--builder",
        config.to_str().unwrap(),
        "--platform",
        "linux/arm64",
    ]);
    let (inspected, _) = rpack_ok(&["inspect", image]);
    assert!(inspected.contains("(app, linux/arm64)"), "{inspected}");
    assert!(inspected.contains("libbuildpack/pip"), "{inspected}");

    assert_eq!(
        arm64_answer(image, Duration::from_secs(120)).as_deref(),
        Some("hello from flask via pip"),
        "gunicorn on the emulated arm64 image answers"
    );
    let podman = Podman::new(registries_conf(tmp.path(), "127.0.0.1:1"));
    rpack_ok(&["image", "rm", image]);
    let _ = podman.output(&["rmi", "--force", image]);
    eprintln!(
        "arm64 python app with builder/builder.toml: {:?}",
        started.elapsed()
    );
}
