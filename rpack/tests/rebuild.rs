#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! What makes rebuilds fast stays correct (issue 12): real builds on the tiny stack with a shell buildpack,
//! using rpack's store from the environment so the stack and lifecycle are shared with the other tests.
//!
//! - The lifecycle gets the run image and the previous image without their layers' blobs; rpack links them into
//!   the exported image afterwards. The image must come out whole, run, and keep its digest when nothing changed.
//! - `rpack build --builder builder.toml` recognises an unchanged builder from its sources without running
//!   cargo; a changed buildpack file must still make a new builder.

mod support;

use std::path::Path;

use rpack::oci::reference::ImageRef;
use rpack::oci::{Digest, Image};
use rpack::store::Store;
use support::{build, fixture, run_output, write};

fn image(name: &str) -> Image {
    let store = Store::from_env().unwrap();
    Image::load(store.image_layout(&name.parse::<ImageRef>().unwrap())).unwrap()
}

/// Every blob the image names is in its layout, with the size its descriptor declares.
fn assert_whole(image: &Image) {
    let layout = image.layout();
    for layer in image.layers() {
        let digest: Digest = layer.digest().to_string().parse().unwrap();
        let meta = std::fs::metadata(layout.blob_path(&digest))
            .unwrap_or_else(|e| panic!("layer {digest} is missing from the image: {e}"));
        assert_eq!(
            meta.len(),
            layer.size(),
            "layer {digest} has the wrong size"
        );
    }
    assert!(layout.has_blob(&image.config_digest().unwrap()));
}

#[test]
fn a_rebuild_gives_a_whole_image_with_the_same_digest_and_a_change_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), "one");
    let name = "localhost/rpack-test/rebuild-whole:latest";
    build(dir.path(), name, &["--clear-cache"]);
    let first = image(name);
    assert_whole(&first);

    let again = build(dir.path(), name, &[]);
    let second = image(name);
    assert_whole(&second);
    assert_eq!(second.manifest_digest(), first.manifest_digest(), "{again}");
    assert!(again.contains("Reusing layers from image"), "{again}");

    write(&dir.path().join("app/version.txt"), "two");
    build(dir.path(), name, &[]);
    let third = image(name);
    assert_whole(&third);
    assert_ne!(third.manifest_digest(), first.manifest_digest());
    // The run image's layers come from the store, not from the lifecycle: the image still starts.
    assert!(run_output(name).ends_with("two"), "{}", run_output(name));
    // Blobs of the earlier image that the new one does not use are not carried along.
    let blobs = std::fs::read_dir(third.layout().blobs_dir())
        .unwrap()
        .count();
    assert_eq!(
        blobs,
        third.layers().len() + 2,
        "layers, config and manifest"
    );
}

fn set_greeting(dir: &Path, greeting: &str) {
    let build = format!(
        "#!/bin/sh\nset -eu\nprintf '[[processes]]\\ntype = \"web\"\\ncommand = [\"echo\", \"{greeting}\"]\\ndefault = true\\n' \
         > \"$CNB_LAYERS_DIR/launch.toml\"\n"
    );
    write(&dir.join("bp/bin/build"), &build);
    std::fs::set_permissions(
        dir.join("bp/bin/build"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
}

#[test]
fn an_unchanged_builder_is_recognised_from_its_sources_and_a_changed_one_is_made_again() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path(), "one");
    set_greeting(dir.path(), "hello");
    let name = "localhost/rpack-test/rebuild-sources:latest";
    build(dir.path(), name, &[]);
    let again = build(dir.path(), name, &[]);
    assert!(again.contains("its sources are unchanged"), "{again}");

    set_greeting(dir.path(), "changed");
    let changed = build(dir.path(), name, &[]);
    assert!(!changed.contains("its sources are unchanged"), "{changed}");
    assert_eq!(run_output(name), "changed");
}
