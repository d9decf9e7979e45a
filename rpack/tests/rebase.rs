#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! `rpack rebase` and `rpack sbom download` (issue 6).
//!
//! - The comparison with the reference lifecycle: a real build on the tiny stack, a patched run image made with
//!   rpack's OCI API, rebased by rpack and, from the same inputs in a loopback `docker-registry`, by the
//!   lifecycle's `rebaser` in a container made from the builder; both give the same layers.
//! - The checks, on small images made with the OCI API in a temp store: not rebasable, os/arch, Python, unknown
//!   image, another run image without `--force`.

mod support;

use std::path::Path;

use libbuildpack_test::Registry;
use rpack::oci::reference::ImageRef;
use rpack::oci::{Image, LayerWriter, Layout};
use rpack::store::Store;
use serde_json::Value;
use support::{build, fixture, rpack_fails, rpack_home_fails, rpack_home_ok, rpack_ok, run_output};

const TINY_RUN: &str = "localhost/rpack/tiny-run:latest";

fn image_ref(text: &str) -> ImageRef {
    text.parse().unwrap()
}

fn load(store: &Store, name: &str) -> Image {
    Image::load(store.image_layout(&image_ref(name))).unwrap()
}

fn digests(image: &Image) -> Vec<String> {
    image
        .layers()
        .iter()
        .map(|d| d.digest().to_string())
        .collect()
}

fn metadata(image: &Image) -> Value {
    serde_json::from_str(&image.label("io.buildpacks.lifecycle.metadata").unwrap()).unwrap()
}

/// `base` plus one layer holding `/etc/rpack-patch`, saved as `name`, with `edit` applied to the copy.
fn derive(
    store: &Store,
    base: &str,
    name: &str,
    patch: Option<&str>,
    edit: impl FnOnce(&mut Image),
) {
    let target = Layout::create(store.image_layout(&image_ref(name)).root()).unwrap();
    let mut image = load(store, base).move_to(target.clone()).unwrap();
    if let Some(text) = patch {
        let mut layer = LayerWriter::new(&target).unwrap();
        layer.dir("etc", 0o755).unwrap();
        layer
            .file("etc/rpack-patch", 0o644, text.as_bytes())
            .unwrap();
        image
            .add_layer(&layer.finish().unwrap(), "rpack test patch")
            .unwrap();
    }
    edit(&mut image);
    image.save(image_ref(name).tag()).unwrap();
}

/// The rebaser of the reference lifecycle, run from the builder image with host networking, as root with the
/// build user's ids (as pack runs it).
fn lifecycle_rebase(
    store: &Store,
    builder: &ImageRef,
    registry: &str,
    run: &str,
    app: &str,
) -> String {
    let ui = rpack::toolbox::ui::Ui::to_writer(std::io::sink());
    let podman = rpack::build::podman::Podman::new(store).unwrap();
    let id = podman
        .ensure_image(&store.image_layout(builder), builder, &ui)
        .unwrap();
    let out = podman
        .command()
        .args(["run", "--rm", "--network", "host", "--user", "0:0"])
        .args(["--security-opt", "label=disable"])
        .args(["--env", "CNB_PLATFORM_API=0.15"])
        .args(["--env", "CNB_USER_ID=1000", "--env", "CNB_GROUP_ID=1000"])
        .arg(&id)
        .arg("/cnb/lifecycle/rebaser")
        .args(["-insecure-registry", registry, "-force"])
        .args(["-report", "/tmp/report.toml", "-run-image", run, app])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "lifecycle rebaser failed:\n{text}");
    text
}

#[test]
#[allow(clippy::too_many_lines)] // one story: build, patch, rebase twice, compare, run, SBOM
fn rebase_gives_the_same_layers_as_the_lifecycle_rebaser() {
    let store = Store::from_env().unwrap();
    let registry = Registry::start().unwrap();
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), "v1");
    let pid = std::process::id();
    let app = format!("localhost/rpack-tests/rebase-{pid}:latest");
    let patched = format!("localhost/rpack-tests/tiny-run-patched-{pid}:latest");
    let from_lifecycle = format!("localhost/rpack-tests/rebase-lc-{pid}:latest");

    build(dir.path(), &app, &[]);
    assert_eq!(run_output(&app), "unpatched\nv1");
    let original = load(&store, &app);
    let tiny_run = load(&store, TINY_RUN);
    derive(&store, TINY_RUN, &patched, Some("patched\n"), |_| {});
    let patched_image = load(&store, &patched);

    // The same inputs for the lifecycle, in the registry. A second push uploads no blob.
    let remote_app = format!("{host}/app:latest");
    let remote_run = format!("{host}/run:patched");
    rpack_ok(&["push", &app, "--to", &remote_app]);
    let uploads = registry.blob_uploads("app");
    assert_eq!(
        uploads,
        original.layers().len() + 1,
        "every layer and the config"
    );
    rpack_ok(&["push", &app, "--to", &remote_app]);
    assert_eq!(
        registry.blob_uploads("app"),
        uploads,
        "the second push must upload nothing"
    );
    rpack_ok(&["push", &patched, "--to", &remote_run]);

    // rpack: another run image needs --force, as with the lifecycle.
    let refused = rpack_fails(&["rebase", &app, "--run-image", &patched]);
    assert!(refused.contains("is not the run image"), "{refused}");
    assert!(refused.contains("hint: pass --force"), "{refused}");
    assert_eq!(
        load(&store, &app).manifest_digest(),
        original.manifest_digest()
    );
    let started = std::time::Instant::now();
    let (_, log) = rpack_ok(&["rebase", &app, "--run-image", &patched, "--force"]);
    eprintln!("rpack rebase took {:?}", started.elapsed());
    assert!(log.contains("1 run image layers replaced by 2"), "{log}");

    // The lifecycle, on the registry copies; its result pulled back into the store.
    let started = std::time::Instant::now();
    let lc_log = lifecycle_rebase(
        &store,
        &rpack::build::platform::builder_ref_for_config(&dir.path().join("builder.toml")),
        &host,
        &remote_run,
        &remote_app,
    );
    eprintln!("lifecycle rebaser took {:?}:\n{lc_log}", started.elapsed());
    rpack_ok(&["pull", &remote_app, "--as", &from_lifecycle]);

    let ours = load(&store, &app);
    let theirs = load(&store, &from_lifecycle);
    assert_eq!(digests(&ours), digests(&theirs), "layer digests");
    assert_eq!(ours.diff_ids(), theirs.diff_ids(), "diff ids");
    let run_layers = patched_image.layers().len();
    assert_eq!(digests(&ours)[..run_layers], digests(&patched_image)[..]);
    assert_eq!(
        digests(&ours)[run_layers..],
        digests(&original)[tiny_run.layers().len()..],
        "app layers are kept"
    );
    assert_eq!((ours.os(), ours.arch()), (theirs.os(), theirs.arch()));
    let runtime = |image: &Image| {
        let mut config = image.config().config().clone().unwrap();
        config.set_labels(None);
        serde_json::to_value(config).unwrap()
    };
    assert_eq!(
        runtime(&ours),
        runtime(&theirs),
        "env, user, entrypoint ..."
    );
    let mut our_labels = ours.labels();
    let mut their_labels = theirs.labels();
    let (our_md, their_md) = (metadata(&ours), metadata(&theirs));
    our_labels.remove("io.buildpacks.lifecycle.metadata");
    their_labels.remove("io.buildpacks.lifecycle.metadata");
    assert_eq!(our_labels, their_labels, "labels");
    for key in [
        "app",
        "sbom",
        "buildpacks",
        "config",
        "launcher",
        "process-types",
    ] {
        assert_eq!(our_md[key], their_md[key], "metadata {key}");
    }
    assert_eq!(
        our_md["runImage"]["topLayer"],
        their_md["runImage"]["topLayer"]
    );
    assert_eq!(
        our_md["runImage"]["topLayer"].as_str(),
        patched_image.diff_ids().last().map(String::as_str)
    );
    // Each records the run image by the name it was given.
    assert_eq!(our_md["runImage"]["image"], patched.as_str());
    assert_eq!(their_md["runImage"]["image"], remote_run.as_str());
    assert_eq!(our_md["stack"]["runImage"]["image"], patched.as_str());

    // Both run, on the patched run image.
    assert_eq!(run_output(&app), "patched\nv1");
    assert_eq!(run_output(&from_lifecycle), "patched\nv1");

    // The rebased image keeps its SBOM layer: download it as pack lays it out.
    let out = dir.path().join("sbom-out");
    let (listed, _) = rpack_ok(&[
        "sbom",
        "download",
        &app,
        "--output-dir",
        &out.display().to_string(),
    ]);
    let layer_sbom = out.join("layers/sbom/launch/rebase_probe/greeting/sbom.cdx.json");
    let launch_sbom = out.join("layers/sbom/launch/rebase_probe/sbom.cdx.json");
    for file in [&layer_sbom, &launch_sbom] {
        assert!(listed.contains(&file.display().to_string()), "{listed}");
    }
    let sbom: Value = serde_json::from_slice(&std::fs::read(&layer_sbom).unwrap()).unwrap();
    assert_eq!(sbom["components"][0]["name"], "greeting");
    // Downloading again replaces the earlier download.
    rpack_ok(&[
        "sbom",
        "download",
        &app,
        "--output-dir",
        &out.display().to_string(),
    ]);
    assert!(layer_sbom.is_file());

    for image in [&app, &patched, &from_lifecycle] {
        rpack_ok(&["image", "rm", image]);
    }
}

/// A small app image on `run` in a temp store: two app layers, the lifecycle's metadata label, Platform API 0.15.
fn fake_app(store: &Store, run: &str, name: &str) {
    let run_image = load(store, run);
    let top = run_image.diff_ids().last().unwrap().clone();
    let target = Layout::create(store.image_layout(&image_ref(name)).root()).unwrap();
    let mut image = run_image.move_to(target.clone()).unwrap();
    for (path, text) in [
        ("workspace/app.txt", "app"),
        ("layers/sbom/launch/x/sbom.cdx.json", "{}"),
    ] {
        let mut layer = LayerWriter::new(&target).unwrap();
        layer.file(path, 0o644, text.as_bytes()).unwrap();
        image.add_layer(&layer.finish().unwrap(), path).unwrap();
    }
    let sbom = image.diff_ids().last().unwrap().clone();
    let app_layer = image.diff_ids()[1].clone();
    image.set_env("CNB_PLATFORM_API", "0.15");
    let metadata = serde_json::json!({
        "app": [{ "sha": app_layer }],
        "sbom": { "sha": sbom },
        "runImage": { "topLayer": top, "reference": "x", "image": run },
        "stack": { "runImage": { "image": run } },
    });
    image.set_label("io.buildpacks.lifecycle.metadata", &metadata.to_string());
    image.save(image_ref(name).tag()).unwrap();
}

fn fake_run(store: &Store, name: &str, arch: &str, python: &str, patch: Option<&str>) {
    let layout = Layout::create(store.image_layout(&image_ref(name)).root()).unwrap();
    let mut image = Image::scratch(layout.clone(), "linux", arch).unwrap();
    let mut layer = LayerWriter::new(&layout).unwrap();
    layer.file("etc/os-release", 0o644, b"ID=debian\n").unwrap();
    image.add_layer(&layer.finish().unwrap(), "base").unwrap();
    if let Some(text) = patch {
        let mut layer = LayerWriter::new(&layout).unwrap();
        layer
            .file("etc/rpack-patch", 0o644, text.as_bytes())
            .unwrap();
        image.add_layer(&layer.finish().unwrap(), "patch").unwrap();
    }
    image.set_label("io.buildpacks.base.distro.name", "debian");
    image.set_label("io.buildpacks.base.distro.version", "12");
    image.set_label(
        "io.buildpacks.stack.id",
        &format!("test.{}", patch.unwrap_or("plain")),
    );
    image.set_label("io.rpack.python.version", python);
    image.save(image_ref(name).tag()).unwrap();
}

fn fails_with(home: &Path, args: &[&str], message: &str, hint: &str) {
    let stderr = rpack_home_fails(Some(home), args);
    assert!(
        stderr.contains(message),
        "expected {message:?} in:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("hint: {hint}")),
        "expected hint {hint:?} in:\n{stderr}"
    );
}

#[test]
fn rebase_checks_refuse_with_a_reason_and_a_hint() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::at(home.path()).unwrap();
    let run = "localhost/t/run:latest";
    let app = "localhost/t/app:latest";
    fake_run(&store, run, "amd64", "3.11.2", None);
    fake_app(&store, run, app);
    let home = home.path();

    fails_with(
        home,
        &["rebase", "localhost/t/missing:latest"],
        "is not in rpack's store",
        "list the images",
    );
    fails_with(
        home,
        &["rebase", app, "--run-image", "localhost/t/nothing:latest"],
        "run image localhost/t/nothing:latest is not in rpack's store",
        "make it with `rpack stack create`",
    );

    fake_run(&store, "localhost/t/run:arm", "arm64", "3.11.2", None);
    fails_with(
        home,
        &["rebase", app, "--run-image", "localhost/t/run:arm"],
        "the run image's target is linux/arm64 (debian 12), the app image's is linux/amd64 (debian 12)",
        "rebase onto a run image of the same stack",
    );

    fake_run(
        &store,
        "localhost/t/run:py312",
        "amd64",
        "3.12.1",
        Some("x"),
    );
    for force in [false, true] {
        let mut args = vec!["rebase", app, "--run-image", "localhost/t/run:py312"];
        if force {
            args.push("--force");
        }
        fails_with(
            home,
            &args,
            "has Python 3.12.1, but localhost/t/app:latest was built against Python 3.11.2",
            "rebuild the app",
        );
    }

    let frozen = "localhost/t/frozen:latest";
    derive(&store, app, frozen, None, |image| {
        image.set_label("io.buildpacks.rebasable", "false");
    });
    fails_with(
        home,
        &["rebase", frozen],
        "is not marked as rebasable",
        "an image extension changed",
    );
    let (_, log) = rpack_home_ok(Some(home), &["rebase", frozen, "--force"]);
    assert!(
        log.contains("not marked as rebasable"),
        "--force warns:\n{log}"
    );

    fake_run(
        &store,
        "localhost/t/run:other",
        "amd64",
        "3.11.2",
        Some("o"),
    );
    fails_with(
        home,
        &["rebase", app, "--run-image", "localhost/t/run:other"],
        "localhost/t/run:other is not the run image localhost/t/app:latest was built on",
        "pass --force",
    );
}

#[test]
fn rebase_onto_an_updated_run_image_keeps_app_layers_and_updates_metadata() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::at(home.path()).unwrap();
    let run = "localhost/t/run:latest";
    let app = "localhost/t/app:latest";
    fake_run(&store, run, "amd64", "3.11.2", None);
    fake_app(&store, run, app);
    let before = load(&store, app);

    // The stack is updated in place (same name): no --run-image and no --force needed.
    fake_run(&store, run, "amd64", "3.11.2", Some("security fix"));
    let new_run = load(&store, run);
    rpack_home_ok(Some(home.path()), &["rebase", app]);
    let after = load(&store, app);
    assert_eq!(digests(&after)[..2], digests(&new_run)[..]);
    assert_eq!(digests(&after)[2..], digests(&before)[1..]);
    assert_eq!(after.diff_ids().len(), after.layers().len());
    let md = metadata(&after);
    assert_eq!(
        md["runImage"]["topLayer"].as_str(),
        new_run.diff_ids().last().map(String::as_str)
    );
    assert_eq!(md["runImage"]["image"], run);
    assert!(
        md["runImage"]["reference"]
            .as_str()
            .unwrap()
            .ends_with(&new_run.manifest_digest().unwrap().to_string())
    );
    assert_eq!(md["app"], metadata(&before)["app"]);
    // Stack and base labels come from the new run image; the rest of the config stays the app's.
    assert_eq!(
        after.label("io.buildpacks.stack.id").as_deref(),
        Some("test.security fix")
    );
    assert_eq!(after.env_var("CNB_PLATFORM_API").as_deref(), Some("0.15"));
    let history = after.config().history().clone().unwrap();
    let created: Vec<_> = history
        .iter()
        .filter_map(|h| h.created_by().clone())
        .collect();
    assert_eq!(
        created,
        [
            "base",
            "patch",
            "workspace/app.txt",
            "layers/sbom/launch/x/sbom.cdx.json"
        ]
    );

    // SBOM download of an image without an SBOM entry fails with a reason; with one, its files land as pack's.
    let out = home.path().join("sbom");
    rpack_home_ok(
        Some(home.path()),
        &["sbom", "download", app, "-o", &out.display().to_string()],
    );
    assert!(out.join("layers/sbom/launch/x/sbom.cdx.json").is_file());
    let plain = "localhost/t/plain:latest";
    derive(&store, run, plain, None, |_| {});
    fails_with(
        home.path(),
        &["sbom", "download", plain, "-o", &out.display().to_string()],
        "has no SBOM layer",
        "the image's buildpacks wrote no SBOM files",
    );
}

#[test]
fn rebase_warns_about_apt_layers_built_for_another_distro_version() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::at(home.path()).unwrap();
    let run = "localhost/t/run:latest";
    let app = "localhost/t/app:latest";
    fake_run(&store, run, "amd64", "3.11.2", None);
    fake_app(&store, run, app);
    // The apt buildpack's layer records the target it was built for (debian 12).
    derive(&store, app, app, None, |image| {
        let mut md = metadata(image);
        md["buildpacks"] = serde_json::json!([{ "key": "libbuildpack/apt", "layers": { "packages": {
            "data": { "packages": ["libmagic1"], "target": {
                "os": "linux", "arch": "amd64", "distro-name": "debian", "distro-version": "12" } },
            "launch": true, "build": true, "cache": true } } }]);
        image.set_label("io.buildpacks.lifecycle.metadata", &md.to_string());
    });
    let warning = "has layers built for another distro than";

    // An updated run image of the same distro version: no warning.
    fake_run(&store, run, "amd64", "3.11.2", Some("security fix"));
    let (_, log) = rpack_home_ok(Some(home.path()), &["rebase", app]);
    assert!(!log.contains(warning), "{log}");

    // Debian 13: the target check refuses; forced, the apt layer is named.
    let trixie = "localhost/t/run:13";
    derive(&store, run, trixie, Some("13"), |image| {
        image.set_label("io.buildpacks.base.distro.version", "13");
    });
    let (_, log) = rpack_home_ok(
        Some(home.path()),
        &["rebase", app, "--run-image", trixie, "--force"],
    );
    assert!(
        log.contains(&format!(
            "{app} {warning} {trixie} (debian 13): libbuildpack/apt:packages (debian 12)"
        )),
        "{log}"
    );
    // The image's labels now say debian 13, so the next rebase onto it passes the target check: the layer
    // still says what it was built for.
    let (_, log) = rpack_home_ok(Some(home.path()), &["rebase", app, "--run-image", trixie]);
    assert!(
        log.contains("libbuildpack/apt:packages (debian 12)"),
        "{log}"
    );
}
