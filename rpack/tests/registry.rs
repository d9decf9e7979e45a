#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! `rpack push`, `rpack pull` and `rpack build --publish` against a real distribution registry (Debian's
//! `docker-registry`) on 127.0.0.1 (issue 6). The registry's access log shows which blobs were uploaded.

mod support;

use libbuildpack_test::Registry;
use rpack::oci::reference::ImageRef;
use rpack::oci::{Image, LayerWriter, Layout};
use rpack::store::Store;
use support::{fixture, rpack_home_fails, rpack_home_ok, rpack_ok, run_output};

fn image_ref(text: &str) -> ImageRef {
    text.parse().unwrap()
}

fn digests(image: &Image) -> Vec<String> {
    image
        .layers()
        .iter()
        .map(|d| d.digest().to_string())
        .collect()
}

/// An image with one small layer per entry of `files`, saved as `name`.
fn make_image(store: &Store, name: &str, files: &[(&str, &str)]) -> Image {
    let layout = Layout::create(store.image_layout(&image_ref(name)).root()).unwrap();
    let mut image = Image::scratch(layout.clone(), "linux", "amd64").unwrap();
    for (path, text) in files {
        let mut layer = LayerWriter::new(&layout).unwrap();
        layer.file(path, 0o644, text.as_bytes()).unwrap();
        image.add_layer(&layer.finish().unwrap(), path).unwrap();
    }
    image.set_label("io.rpack.test", name);
    image.save(image_ref(name).tag()).unwrap();
    Image::load(layout).unwrap()
}

#[test]
fn push_uploads_only_missing_blobs_and_pull_brings_the_image_back() {
    let registry = Registry::start().unwrap();
    let host = registry.host();
    let home = tempfile::tempdir().unwrap();
    let store = Store::at(home.path()).unwrap();
    let home = Some(home.path());
    let v1 = make_image(
        &store,
        "localhost/t/img:v1",
        &[("a.txt", "a"), ("b.txt", "b")],
    );
    let v2 = make_image(
        &store,
        "localhost/t/img:v2",
        &[("a.txt", "a"), ("b.txt", "b"), ("c.txt", "c")],
    );

    let remote_v1 = format!("{host}/img:v1");
    let (printed, _) = rpack_home_ok(home, &["push", "localhost/t/img:v1", "--to", &remote_v1]);
    assert!(
        printed.starts_with(&format!("{remote_v1}@sha256:")),
        "{printed}"
    );
    assert_eq!(registry.blob_uploads("img"), 3, "two layers and the config");
    rpack_home_ok(home, &["push", "localhost/t/img:v1", "--to", &remote_v1]);
    assert_eq!(
        registry.blob_uploads("img"),
        3,
        "pushing again uploads nothing"
    );
    rpack_home_ok(
        home,
        &[
            "push",
            "localhost/t/img:v2",
            "--to",
            &format!("{host}/img:v2"),
        ],
    );
    assert_eq!(
        registry.blob_uploads("img"),
        5,
        "a new tag uploads only its new layer and config"
    );

    // Pull both back under other names: same layers, same config, for rpack as for any image of the store.
    for (tag, original) in [("v1", &v1), ("v2", &v2)] {
        let name = format!("localhost/t/pulled:{tag}");
        rpack_home_ok(home, &["pull", &format!("{host}/img:{tag}"), "--as", &name]);
        let pulled = Image::load(store.image_layout(&image_ref(&name))).unwrap();
        assert_eq!(digests(&pulled), digests(original));
        assert_eq!(pulled.diff_ids(), original.diff_ids());
        assert_eq!(
            pulled.config_digest().unwrap(),
            original.config_digest().unwrap()
        );
    }
    // Pulling again (the image is already there) replaces it with the same content.
    rpack_home_ok(
        home,
        &[
            "pull",
            &format!("{host}/img:v2"),
            "--as",
            "localhost/t/pulled:v2",
        ],
    );
    // Without --as the image keeps the registry's name.
    rpack_home_ok(home, &["pull", &format!("{host}/img:v1")]);
    assert!(
        store
            .image_layout(&image_ref(&format!("{host}/img:v1")))
            .exists()
    );

    let missing = rpack_home_fails(home, &["pull", &format!("{host}/img:nope")]);
    assert!(missing.contains("could not pull"), "{missing}");
    assert!(missing.contains("hint: check the reference"), "{missing}");
    let unknown = rpack_home_fails(
        home,
        &["push", "localhost/t/unknown:latest", "--to", &remote_v1],
    );
    assert!(unknown.contains("is not in rpack's store"), "{unknown}");
    assert!(unknown.contains("hint: list the images"), "{unknown}");
    drop(registry);
    let down = rpack_home_fails(home, &["push", "localhost/t/img:v1", "--to", &remote_v1]);
    assert!(down.contains("could not push"), "{down}");
    assert!(down.contains("hint: nothing listens"), "{down}");
}

#[test]
fn build_publish_with_a_builder_pulled_from_a_registry() {
    let registry = Registry::start().unwrap();
    let host = registry.host();
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), "published");
    let pid = std::process::id();
    let made = format!("localhost/rpack-tests/reg-builder-{pid}:latest");
    let pulled = format!("localhost/rpack-tests/reg-builder-pulled-{pid}:latest");
    let remote_builder = format!("{host}/builders/tiny:latest");

    // A builder published to a registry, and pulled by another machine's rpack (here: under another name).
    let config = dir.path().join("builder.toml").display().to_string();
    rpack_ok(&["builder", "create", &made, "--config", &config]);
    rpack_ok(&["push", &made, "--to", &remote_builder]);
    rpack_ok(&["pull", &remote_builder, "--as", &pulled]);

    let app = format!("{host}/apps/published:latest");
    let path = dir.path().join("app").display().to_string();
    let started = std::time::Instant::now();
    let publish = [
        "build",
        &app,
        "--path",
        &path,
        "--builder",
        &pulled,
        "--publish",
    ];
    let (_, log) = rpack_ok(&publish);
    eprintln!("build --publish took {:?}", started.elapsed());
    assert!(log.contains(&format!("Pushed {app}@sha256:")), "{log}");
    let uploads = registry.blob_uploads("apps/published");
    assert!(uploads > 0, "{}", registry.log());

    // What the registry has runs after a pull; the build's own copy in the store runs too.
    let back = format!("localhost/rpack-tests/published-{pid}:latest");
    rpack_ok(&["pull", &app, "--as", &back]);
    assert_eq!(run_output(&back), "unpatched\npublished");
    assert_eq!(run_output(&app), "unpatched\npublished");

    // An unchanged rebuild publishes again without uploading a layer (only a new config, if any).
    rpack_ok(&publish);
    assert!(
        registry.blob_uploads("apps/published") <= uploads + 1,
        "{}",
        registry.log()
    );

    for image in [&made, &pulled, &app, &back] {
        rpack_ok(&["image", "rm", image]);
    }
}

/// Issue 17: an image with amd64 and arm64 images under one name goes to the registry as an index and comes
/// back whole with `--all-platforms`; each platform's layers keep their digests.
#[test]
fn push_and_pull_move_a_multi_platform_index() {
    let registry = Registry::start().unwrap();
    let host = registry.host();
    let home = tempfile::tempdir().unwrap();
    let store = Store::at(home.path()).unwrap();
    let name = image_ref("localhost/t/multi:v1");
    let mut layers = Vec::new();
    for arch in ["amd64", "arm64"] {
        let staged = Layout::create(home.path().join(format!("staged-{arch}"))).unwrap();
        let mut image = Image::scratch(staged.clone(), "linux", arch).unwrap();
        let mut layer = LayerWriter::new(&staged).unwrap();
        layer.file("arch", 0o644, arch.as_bytes()).unwrap();
        image.add_layer(&layer.finish().unwrap(), arch).unwrap();
        image.save("v1").unwrap();
        layers.push(digests(&image));
        rpack::store::platforms::put(&store, &name, &staged).unwrap();
    }
    let home = Some(home.path());
    let remote = format!("{host}/multi:v1");
    rpack_home_ok(home, &["push", "localhost/t/multi:v1", "--to", &remote]);

    let back = "localhost/t/back:v1";
    rpack_home_ok(home, &["pull", &remote, "--as", back, "--all-platforms"]);
    let (inspected, _) = rpack_home_ok(home, &["inspect", back]);
    assert!(
        inspected.contains("platforms: linux/amd64, linux/arm64"),
        "{inspected}"
    );
    for (arch, layers) in ["amd64", "arm64"].into_iter().zip(&layers) {
        let layout = store
            .image_layout(&image_ref(back))
            .for_platform(rpack::oci::Platform::new("linux", arch));
        let image = Image::load(layout).unwrap();
        assert_eq!(image.arch(), arch);
        assert_eq!(&digests(&image), layers);
        assert_eq!(
            image.read_file("arch").unwrap().as_deref(),
            Some(arch.as_bytes())
        );
    }
    // Without --all-platforms, only this machine's platform comes.
    let host_only = "localhost/t/host:v1";
    rpack_home_ok(home, &["pull", &remote, "--as", host_only]);
    let (inspected, _) = rpack_home_ok(home, &["inspect", host_only]);
    assert!(!inspected.contains("platforms:"), "{inspected}");
    assert!(inspected.contains("linux/amd64"), "{inspected}");
}
