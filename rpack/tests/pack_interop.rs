#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! Checklist K7: the reference `pack` CLI (v0.40.6, built by `scripts/pack` from its Go module source when
//! missing) accepts the `.cnb` files rpack writes. No Docker daemon: pack reads and writes `.cnb` files
//! itself, and `pack builder create --publish` talks to a loopback registry (Debian's `docker-registry`) with
//! the build/run image pushed there by skopeo. `pack build` needs a daemon and is not tried.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use libbuildpack_test::Registry;
use rpack::oci::{Image, LayerWriter, Layout};
use support::platforms::{self, NO_DAEMON, pack_inspect_remote_builder, skopeo_inspect};
use support::{rpack_home_ok, write, write_executable};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Runs pack in `dir` with no reachable Docker daemon; returns stdout and stderr.
#[track_caller]
fn pack_ok(dir: &Path, args: &[&str]) -> String {
    platforms::pack_ok(dir, NO_DAEMON, args)
}

/// The parsed `io.buildpacks.buildpack.layers` label of a label map.
fn layers_label(labels: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(labels["io.buildpacks.buildpack.layers"].as_str().unwrap()).unwrap()
}

/// The labels of the one image in a `.cnb` (pack's or rpack's), read through rpack's store import.
fn cnb_labels(dir: &Path, cnb: &Path) -> serde_json::Value {
    let home = dir.join("rpack-home");
    let name = format!(
        "localhost/interop/{}:latest",
        cnb.file_stem().unwrap().to_str().unwrap()
    );
    rpack_home_ok(
        Some(&home),
        &["image", "import", cnb.to_str().unwrap(), &name],
    );
    let (json, _) = rpack_home_ok(Some(&home), &["inspect", &name, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    json["labels"].clone()
}

/// rpack packages test/script 1.2.3 (the `script-bp` fixture); returns the `.cnb`.
fn rpack_cnb(dir: &Path) -> PathBuf {
    let out = dir.join("script.cnb");
    rpack_package(dir, Path::new(&format!("{FIXTURES}/script-bp")), &out);
    out
}

/// `rpack buildpack package --path BUILDPACK -o OUT` with the store `dir/rpack-home`.
fn rpack_package(dir: &Path, buildpack: &Path, out: &Path) {
    rpack_home_ok(
        Some(&dir.join("rpack-home")),
        &[
            "buildpack",
            "package",
            "--path",
            buildpack.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
}

/// A composite (interop/meta 0.1.0, one group with test/script 1.2.3) whose package.toml depends on `cnb`.
fn composite(dir: &Path, cnb: &Path) -> PathBuf {
    let meta = dir.join("meta");
    write(
        &meta.join("buildpack.toml"),
        "api = \"0.10\"\n[buildpack]\nid = \"interop/meta\"\nversion = \"0.1.0\"\n\
         [[order]]\n[[order.group]]\nid = \"test/script\"\nversion = \"1.2.3\"\n",
    );
    write(
        &meta.join("package.toml"),
        &format!(
            "[buildpack]\nuri = \".\"\n[[dependencies]]\nuri = \"{}\"\n",
            cnb.display()
        ),
    );
    meta
}

#[test]
fn k7_pack_buildpack_package_and_inspect_accept_an_rpack_cnb() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ours = rpack_cnb(dir);

    let inspected = pack_ok(dir, &["buildpack", "inspect", ours.to_str().unwrap()]);
    assert!(inspected.contains("LOCAL ARCHIVE"), "{inspected}");
    assert!(
        inspected.contains("test/script") && inspected.contains("1.2.3"),
        "{inspected}"
    );
    assert!(
        inspected.contains("https://example.com/script"),
        "{inspected}"
    );

    // A composite packaged by pack with rpack's .cnb as its dependency.
    let meta = composite(dir, &ours);
    let theirs = dir.join("pack-meta.cnb");
    let printed = pack_ok(
        dir,
        &[
            "buildpack",
            "package",
            theirs.to_str().unwrap(),
            "--format",
            "file",
            "--config",
            meta.join("package.toml").to_str().unwrap(),
        ],
    );
    assert!(
        printed.contains("Successfully created package"),
        "{printed}"
    );
    let inspected = pack_ok(dir, &["buildpack", "inspect", theirs.to_str().unwrap()]);
    assert!(
        inspected.contains("interop/meta") && inspected.contains("test/script@1.2.3"),
        "{inspected}"
    );

    // pack kept rpack's layer as it is: the same diff id in both labels; and rpack reads pack's file back.
    let our_layers = layers_label(&cnb_labels(dir, &ours));
    let their_layers = layers_label(&cnb_labels(dir, &theirs));
    assert_eq!(
        their_layers["test/script"]["1.2.3"]["layerDiffID"],
        our_layers["test/script"]["1.2.3"]["layerDiffID"],
        "{their_layers}"
    );
    assert_eq!(
        their_layers["interop/meta"]["0.1.0"]["order"][0]["group"][0]["id"],
        "test/script"
    );
}

/// A multi-arch `.cnb` (an image index with linux/amd64 and linux/arm64 images) is read by pack too: it
/// inspects it and packages a composite with it as a dependency.
#[test]
fn pack_reads_a_multi_arch_rpack_cnb() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bp = dir.join("multi");
    std::fs::create_dir_all(bp.join("bin")).unwrap();
    write(
        &bp.join("buildpack.toml"),
        "api = \"0.10\"\n[buildpack]\nid = \"test/script\"\nversion = \"1.2.3\"\n\
         [[targets]]\nos = \"linux\"\narch = \"amd64\"\n[[targets]]\nos = \"linux\"\narch = \"arm64\"\n",
    );
    for script in ["build", "detect"] {
        write_executable(&bp.join("bin").join(script), "#!/bin/sh\nexit 0\n");
    }
    let ours = dir.join("multi.cnb");
    rpack_package(dir, &bp, &ours);
    let inspected = pack_ok(dir, &["buildpack", "inspect", ours.to_str().unwrap()]);
    assert!(
        inspected.contains("test/script") && inspected.contains("1.2.3"),
        "{inspected}"
    );

    let meta = composite(dir, &ours);
    let theirs = dir.join("pack-meta.cnb");
    pack_ok(
        &meta,
        &[
            "buildpack",
            "package",
            theirs.to_str().unwrap(),
            "--config",
            "package.toml",
            "--format",
            "file",
        ],
    );
    let inspected = pack_ok(dir, &["buildpack", "inspect", theirs.to_str().unwrap()]);
    assert!(inspected.contains("test/script@1.2.3"), "{inspected}");
}

/// A minimal base image (stack label, CNB user) saved as an OCI layout at `dir`.
fn base_image(dir: &Path) {
    let layout = Layout::create(dir).unwrap();
    let mut image = Image::scratch(layout.clone(), "linux", "amd64").unwrap();
    let mut layer = LayerWriter::new(&layout).unwrap();
    layer
        .file("etc/os-release", 0o644, b"ID=interop\n")
        .unwrap();
    image.add_layer(&layer.finish().unwrap(), "base").unwrap();
    image.set_label("io.buildpacks.stack.id", "io.rpack.interop");
    image.set_env("CNB_USER_ID", "1000");
    image.set_env("CNB_GROUP_ID", "1000");
    image.edit_config(|c| {
        c.set_user(Some("1000:1000".to_owned()));
    });
    image.save("latest").unwrap();
}

/// A lifecycle dir pack accepts as `[lifecycle] uri`: lifecycle.toml and (placeholder) binaries. pack only
/// copies them into the builder; nothing here runs them.
fn lifecycle_dir(dir: &Path) {
    write(
        &dir.join("lifecycle.toml"),
        "[apis.buildpack]\ndeprecated = []\nsupported = [\"0.7\", \"0.8\", \"0.9\", \"0.10\", \"0.11\", \"0.12\"]\n\
         [apis.platform]\ndeprecated = []\nsupported = [\"0.12\", \"0.13\"]\n[lifecycle]\nversion = \"0.21.17\"\n",
    );
    for bin in [
        "analyzer",
        "builder",
        "creator",
        "detector",
        "exporter",
        "extender",
        "launcher",
        "lifecycle",
        "rebaser",
        "restorer",
    ] {
        write_executable(&dir.join("lifecycle").join(bin), "#!/bin/sh\nexit 1\n");
    }
}

#[test]
fn k7_pack_builder_create_publishes_a_builder_from_rpack_cnb_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let registry = Registry::start().unwrap();
    let host = registry.host();

    base_image(&dir.join("base"));
    let status = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:latest", dir.join("base").display()))
        .arg(format!("docker://{host}/interop/base:latest"))
        .status()
        .unwrap();
    assert!(status.success(), "skopeo copy failed");
    lifecycle_dir(&dir.join("lifecycle"));

    // rpack writes both the buildpack and the composite (whose dependency is that .cnb).
    let ours = rpack_cnb(dir);
    let meta = composite(dir, &ours);
    let meta_cnb = dir.join("meta.cnb");
    rpack_package(dir, &meta, &meta_cnb);
    write(
        &dir.join("builder.toml"),
        &format!(
            "[[buildpacks]]\nuri = \"{}\"\n[[buildpacks]]\nuri = \"{}\"\n\
             [[order]]\n[[order.group]]\nid = \"interop/meta\"\n\
             [lifecycle]\nuri = \"{}\"\n[build]\nimage = \"{host}/interop/base:latest\"\n\
             [[run.images]]\nimage = \"{host}/interop/base:latest\"\n",
            ours.display(),
            meta_cnb.display(),
            dir.join("lifecycle").display()
        ),
    );
    let builder = format!("{host}/interop/builder:latest");
    let printed = pack_ok(
        dir,
        &[
            "builder",
            "create",
            &builder,
            "--config",
            "builder.toml",
            "--publish",
        ],
    );
    assert!(
        printed.contains("Successfully created builder"),
        "{printed}"
    );

    // pack reads the published builder back from the registry (its "LOCAL" half needs a daemon).
    let remote = pack_inspect_remote_builder(dir, &builder);
    assert!(remote.contains("interop/meta"), "{remote}");
    assert!(remote.contains("test/script@1.2.3"), "{remote}");

    // The builder's layers label keeps the diff id of rpack's layer.
    let config = skopeo_inspect(&builder, "--config");
    let ours = layers_label(&cnb_labels(dir, &ours));
    assert_eq!(
        layers_label(&config["config"]["Labels"])["test/script"]["1.2.3"]["layerDiffID"],
        ours["test/script"]["1.2.3"]["layerDiffID"]
    );
}

/// The store's tiny stack pushed to the registry at `host`, as any platform would get it: (build, run).
fn tiny_stack_in(host: &str, home: Option<&Path>) -> (String, String) {
    let rpack = |args: &[&str]| rpack_home_ok(home, args);
    let (build_image, run_image) = (
        format!("{host}/interop/tiny-build:latest"),
        format!("{host}/interop/tiny-run:latest"),
    );
    // `stack create` resolves the package lists again (tens of seconds); the store's tiny stack will do.
    let stored = |name: &str| {
        home.is_some_and(|home| {
            home.join("images/localhost/rpack")
                .join(name)
                .join("latest/index.json")
                .is_file()
        })
    };
    if !(stored("tiny-build") && stored("tiny-run")) {
        rpack(&["stack", "create", "--name", "tiny"]);
    }
    rpack(&[
        "push",
        "localhost/rpack/tiny-build:latest",
        "--to",
        &build_image,
    ]);
    rpack(&[
        "push",
        "localhost/rpack/tiny-run:latest",
        "--to",
        &run_image,
    ]);

    (build_image, run_image)
}

/// Issue 16: a builder made by current pack (run image in `images`, not `stack.runImage`) with one of our
/// buildpacks, pulled from a registry under its `host:port/...` name, builds and runs an app with `rpack build`;
/// and pack reads an rpack builder's buildpack names.
#[test]
fn rpack_builds_with_a_pack_made_builder_and_pack_reads_an_rpack_builder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let registry = Registry::start().unwrap();
    let host = registry.host();
    let home = std::env::var_os("RPACK_HOME").map(PathBuf::from);
    let rpack = |args: &[&str]| rpack_home_ok(home.as_deref(), args);

    let (build_image, run_image) = tiny_stack_in(&host, home.as_deref());

    // A shell buildpack with a name.
    let bp = dir.join("bp");
    write(
        &bp.join("buildpack.toml"),
        "api = \"0.10\"\n[buildpack]\nid = \"interop/named\"\nversion = \"0.0.1\"\nname = \"Interop Named Probe\"\n\
         [[targets]]\nos = \"linux\"\n",
    );
    write_executable(&bp.join("bin/detect"), "#!/bin/sh\nexit 0\n");
    write_executable(
        &bp.join("bin/build"),
        "#!/bin/sh\nset -eu\nprintf '[[processes]]\\ntype = \"web\"\\ncommand = [\"echo\", \"built by a pack builder\"]\\ndefault = true\\n' > \"$CNB_LAYERS_DIR/launch.toml\"\n",
    );
    let store_lifecycle = rpack::store::Store::from_env()
        .unwrap()
        .lifecycles_dir()
        .join(rpack::provision::lifecycle::DEFAULT_VERSION);
    write(
        &dir.join("builder.toml"),
        &format!(
            "[[buildpacks]]\nuri = \"{}\"\n[[order]]\n[[order.group]]\nid = \"interop/named\"\n\
             [lifecycle]\nuri = \"{}\"\n[build]\nimage = \"{build_image}\"\n[[run.images]]\nimage = \"{run_image}\"\n",
            bp.display(),
            store_lifecycle.display()
        ),
    );

    // pack makes the builder; rpack pulls it and its run image under their registry names and builds with it.
    let pack_builder = format!("{host}/interop/pack-builder:latest");
    pack_ok(
        dir,
        &[
            "builder",
            "create",
            &pack_builder,
            "--config",
            "builder.toml",
            "--publish",
        ],
    );
    rpack(&["pull", &pack_builder]);
    rpack(&["pull", &run_image]);
    let app = dir.join("app");
    write(&app.join("hello.txt"), "hi\n");
    let image = "localhost/rpack-test/pack-builder-app:latest";
    rpack(&[
        "build",
        image,
        "--path",
        app.to_str().unwrap(),
        "--builder",
        &pack_builder,
    ]);
    assert_eq!(rpack(&["run", image]).0.trim(), "built by a pack builder");

    // rpack makes a builder from the same builder.toml; pack reads it back from the registry with its names.
    let ours = "localhost/rpack-test/interop-named-builder:latest";
    rpack(&["pull", &build_image]);
    rpack(&[
        "builder",
        "create",
        ours,
        "--config",
        dir.join("builder.toml").to_str().unwrap(),
    ]);
    let pushed = format!("{host}/interop/rpack-builder:latest");
    rpack(&["push", ours, "--to", &pushed]);
    let remote = pack_inspect_remote_builder(dir, &pushed);
    assert!(remote.contains("Interop Named Probe"), "{remote}");

    // The registry's port is new each run: images stored under it would pile up in the store and in podman.
    for name in [&pack_builder, &run_image, &build_image, ours, image] {
        rpack(&["image", "rm", name]);
        let _ = Command::new("podman").args(["rmi", "-f", name]).output();
    }
}
