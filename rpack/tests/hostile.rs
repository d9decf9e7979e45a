//! Hostile input and faults (issue 13): crafted `.cnb` archives (blobs and `index.json` as symlinks to
//! `/dev/zero` or host files, tampered or resized layers), outputs over special files, image references that
//! climb out of the store or carry control characters, buildpack ids that name no directory, unsupported
//! Buildpack APIs, and interrupted commands. Each runs the `rpack` binary with a temp `RPACK_HOME`; nothing here
//! needs podman or the lifecycle.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod support;

use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use libbuildpack_test::Registry;
use support::scratch::{FIXTURES, Scratch as Env, TIMEOUT};

/// One entry of a `.cnb` as read back: name, header and data.
struct Entry {
    name: String,
    header: tar::Header,
    data: Vec<u8>,
}

fn entries(path: &Path) -> Vec<Entry> {
    let bytes = fs_err::read(path).unwrap();
    let mut archive = tar::Archive::new(bytes.as_slice());
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            Entry {
                name,
                header: e.header().clone(),
                data,
            }
        })
        .collect()
}

/// The `/blobs/sha256/<hex>` name of the first layer of the `.cnb` entries.
fn first_layer(entries: &[Entry]) -> String {
    let find = |name: &str| &entries.iter().find(|e| e.name == name).unwrap().data;
    let index: serde_json::Value = serde_json::from_slice(find("/index.json")).unwrap();
    let blob = |digest: &serde_json::Value| {
        format!(
            "/blobs/sha256/{}",
            digest.as_str().unwrap().trim_start_matches("sha256:")
        )
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(find(&blob(&index["manifests"][0]["digest"]))).unwrap();
    blob(&manifest["layers"][0]["digest"])
}

/// What to put in place of one entry.
enum Change {
    /// A symlink to this target.
    Symlink(&'static str),
    /// These bytes.
    Data(Vec<u8>),
}

/// Writes `out`: the `.cnb` entries with `name` replaced as `change` says.
fn rewrite(entries: &[Entry], name: &str, change: &Change, out: &Path) {
    let mut tar = tar::Builder::new(fs_err::File::create(out).unwrap());
    let mut found = false;
    for entry in entries {
        let mut header = entry.header.clone();
        if entry.name != name {
            tar.append(&header, entry.data.as_slice()).unwrap();
            continue;
        }
        found = true;
        match change {
            Change::Symlink(target) => {
                // The header keeps its name (`/blobs/...`: absolute, which `append_link` would refuse).
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                header.set_link_name(target).unwrap();
                header.set_cksum();
                tar.append(&header, std::io::empty()).unwrap();
            }
            Change::Data(data) => {
                header.set_size(data.len() as u64);
                header.set_cksum();
                tar.append(&header, data.as_slice()).unwrap();
            }
        }
    }
    assert!(found, "no entry {name}");
    tar.into_inner().unwrap();
}

/// A `package.toml` at `dir` for the fixture `script-bp` with the `.cnb` `dep` as a dependency.
fn composite_with(env: &Env, dep: &Path) -> PathBuf {
    let dir = env.path("composite");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::write(
        dir.join("package.toml"),
        format!(
            "[buildpack]\nuri = \"{FIXTURES}/script-bp\"\n[[dependencies]]\nuri = \"{}\"\n",
            dep.display()
        ),
    )
    .unwrap();
    dir
}

/// Whether `err` refuses the symlink entry `name` of the archive: as a symlink in the layout, or (when the
/// extractor refuses links out of the archive) as an unsafe entry.
fn refuses_symlink(err: &str, name: &str) -> bool {
    err.contains(name) && (err.contains("is a symlink") || err.contains("refusing entry"))
}

#[test]
fn a_layer_blob_linked_to_dev_zero_is_refused_at_once() {
    let env = Env::new();
    let cnb = env.package("dep-bp", "dep.cnb");
    let entries = entries(&cnb);
    let layer = first_layer(&entries);
    let hostile = env.path("zero.cnb");
    rewrite(&entries, &layer, &Change::Symlink("/dev/zero"), &hostile);
    let hex = layer.trim_start_matches("/blobs/sha256/");

    let err = env.fails(&["image", "import", "zero.cnb", "localhost/zero:1"]);
    assert!(
        err.contains(&format!("blob sha256:{hex} in zero.cnb is a symlink"))
            || refuses_symlink(&err, hex),
        "{err}"
    );
    assert!(!env.path("home/images/localhost/zero").exists());

    let err = env.fails(&["inspect", "zero.cnb"]);
    assert!(refuses_symlink(&err, hex), "{err}");

    // `builder create` reads buildpack .cnb files the same way as packaging a composite does.
    let composite = composite_with(&env, &hostile);
    let err = env.fails(&[
        "buildpack",
        "package",
        "--path",
        composite.to_str().unwrap(),
        "-o",
        "out.cnb",
    ]);
    assert!(refuses_symlink(&err, hex), "{err}");
    assert!(!env.path("out.cnb").exists());
}

#[test]
fn an_index_linked_to_a_host_file_is_refused() {
    let env = Env::new();
    let cnb = env.package("dep-bp", "dep.cnb");
    rewrite(
        &entries(&cnb),
        "/index.json",
        &Change::Symlink("/etc/hostname"),
        &env.path("index.cnb"),
    );
    let err = env.fails(&["inspect", "index.cnb"]);
    assert!(refuses_symlink(&err, "index.json"), "{err}");
    let err = env.fails(&["image", "import", "index.cnb", "localhost/index:1"]);
    assert!(refuses_symlink(&err, "index.json"), "{err}");
}

#[test]
fn a_tampered_layer_is_refused_by_inspect_import_and_package() {
    let env = Env::new();
    let cnb = env.package("dep-bp", "dep.cnb");
    let entries = entries(&cnb);
    let layer = first_layer(&entries);
    let mut data = entries
        .iter()
        .find(|e| e.name == layer)
        .unwrap()
        .data
        .clone();
    // The last byte of a gzip stream is part of its length trailer: flipping it keeps the tar readable.
    *data.last_mut().unwrap() ^= 0x01;
    let tampered = env.path("tampered.cnb");
    rewrite(&entries, &layer, &Change::Data(data), &tampered);
    let hex = layer.trim_start_matches("/blobs/sha256/");
    let expected = format!("blob sha256:{hex} in tampered.cnb does not match its digest");

    let err = env.fails(&["inspect", "tampered.cnb"]);
    assert!(err.contains(&expected), "{err}");
    let err = env.fails(&["image", "import", "tampered.cnb", "localhost/t:1"]);
    assert!(err.contains(&expected), "{err}");
    let composite = composite_with(&env, &tampered);
    let err = env.fails(&[
        "buildpack",
        "package",
        "--path",
        composite.to_str().unwrap(),
        "-o",
        "out.cnb",
    ]);
    assert!(err.contains("does not match its digest"), "{err}");
    assert!(!env.path("out.cnb").exists());
}

#[test]
fn a_layer_longer_than_its_descriptor_is_refused_before_reading() {
    let env = Env::new();
    let cnb = env.package("dep-bp", "dep.cnb");
    let entries = entries(&cnb);
    let layer = first_layer(&entries);
    let mut data = entries
        .iter()
        .find(|e| e.name == layer)
        .unwrap()
        .data
        .clone();
    let declared = data.len();
    data.extend(std::iter::repeat_n(0, 1 << 20));
    rewrite(&entries, &layer, &Change::Data(data), &env.path("long.cnb"));
    let err = env.fails(&["inspect", "long.cnb"]);
    assert!(
        err.contains(&format!(
            "has {} bytes but its descriptor declares {declared}",
            declared + (1 << 20)
        )),
        "{err}"
    );
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn outputs_are_not_written_over_fifos_or_symlinks() {
    let env = Env::new();
    let cnb = env.package("dep-bp", "dep.cnb");
    env.ok(&["image", "import", cnb.to_str().unwrap(), "localhost/dep:1"]);
    let script = format!("{FIXTURES}/script-bp");
    mkfifo(&env.path("fifo"));
    fs_err::write(env.path("target"), "precious").unwrap();
    std::os::unix::fs::symlink(env.path("target"), env.path("link")).unwrap();
    for out in ["fifo", "link"] {
        let err = env.fails(&["buildpack", "package", "--path", &script, "-o", out]);
        let what = if out == "fifo" { "a fifo" } else { "a symlink" };
        assert!(
            err.contains(&format!("refusing to write {out}: it is {what}")),
            "{err}"
        );
        let err = env.fails(&["image", "export", "localhost/dep:1", out]);
        assert!(
            err.contains(&format!("refusing to write {out}: it is {what}")),
            "{err}"
        );
    }
    assert!(
        fs_err::symlink_metadata(env.path("fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(
        fs_err::symlink_metadata(env.path("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs_err::read_to_string(env.path("target")).unwrap(),
        "precious"
    );
    // A regular file and a dir output over a dir are still replaced.
    env.ok(&["buildpack", "package", "--path", &script, "-o", "target"]);
    env.ok(&[
        "buildpack",
        "package",
        "--path",
        &script,
        "--format",
        "dir",
        "-o",
        "dir",
    ]);
    env.ok(&[
        "buildpack",
        "package",
        "--path",
        &script,
        "--format",
        "dir",
        "-o",
        "dir",
    ]);
    let err = env.fails(&[
        "buildpack",
        "package",
        "--path",
        &script,
        "--format",
        "dir",
        "-o",
        "fifo",
    ]);
    assert!(err.contains("it is a fifo"), "{err}");
}

#[test]
fn references_cannot_reach_outside_the_image_store() {
    let env = Env::new();
    let cnb = env.package("dep-bp", "dep.cnb");
    let lifecycle = env.path("home/lifecycle/0.21.17");
    fs_err::create_dir_all(&lifecycle).unwrap();
    fs_err::write(lifecycle.join("lifecycle.toml"), "installed").unwrap();
    let err = env.fails(&[
        "image",
        "import",
        cnb.to_str().unwrap(),
        "../lifecycle:0.21.17",
    ]);
    assert!(err.contains("invalid registry `..`"), "{err}");
    let err = env.fails(&["image", "rm", "../lifecycle:0.21.17"]);
    assert!(err.contains("invalid registry `..`"), "{err}");
    assert_eq!(
        fs_err::read_to_string(lifecycle.join("lifecycle.toml")).unwrap(),
        "installed"
    );
    let err = env.fails(&["inspect", "../lifecycle:0.21.17"]);
    assert!(err.contains("invalid registry `..`"), "{err}");
}

#[test]
fn control_characters_in_references_are_escaped() {
    let env = Env::new();
    for args in [
        vec!["image", "rm", "localhost/a\u{1b}[2J:1"],
        vec!["image", "rm", "localhost/a:1\u{7}"],
        vec!["inspect", "localhost/\u{1b}]0;pwned\u{7}"],
    ] {
        let err = env.fails(&args);
        assert!(
            !err.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?}: {err:?}"
        );
        assert!(err.contains("\\u{"), "{args:?}: {err}");
    }
}

#[test]
fn a_buildpack_id_that_names_no_directory_is_refused_at_package_time() {
    let env = Env::new();
    for id in [".", ".."] {
        let dir = env.path("dot");
        fs_err::create_dir_all(dir.join("bin")).unwrap();
        fs_err::write(
            dir.join("buildpack.toml"),
            format!("api = \"0.10\"\n[buildpack]\nid = \"{id}\"\nversion = \"1.0.0\"\n"),
        )
        .unwrap();
        fs_err::write(dir.join("bin/build"), "#!/bin/sh\n").unwrap();
        let err = env.fails(&["buildpack", "package", "--path", "dot", "-o", "dot.cnb"]);
        assert!(err.contains("dot/buildpack.toml"), "{err}");
        assert!(err.contains("invalid `buildpack.id`"), "{err}");
        assert!(!env.path("dot.cnb").exists());
    }
}

#[test]
fn an_unsupported_buildpack_api_is_packaged_with_a_warning() {
    let env = Env::new();
    let dir = env.path("old");
    fs_err::create_dir_all(dir.join("bin")).unwrap();
    fs_err::write(
        dir.join("buildpack.toml"),
        "api = \"0.2\"\n[buildpack]\nid = \"test/old\"\nversion = \"1.0.0\"\n",
    )
    .unwrap();
    fs_err::write(dir.join("bin/build"), "#!/bin/sh\n").unwrap();
    let stderr = env.ok_stderr(&["buildpack", "package", "--path", "old", "-o", "old.cnb"]);
    assert!(
        stderr.contains("buildpack test/old 1.0.0 declares api = \"0.2\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("it supports Buildpack APIs 0.7, 0.8, 0.9, 0.10, 0.11, 0.12"),
        "{stderr}"
    );
    let stderr = env.ok_stderr(&[
        "buildpack",
        "package",
        "--path",
        &format!("{FIXTURES}/script-bp"),
        "-o",
        "ok.cnb",
    ]);
    assert!(!stderr.contains("declares api"), "{stderr}");
}

#[test]
fn inspect_and_import_say_what_they_expected_of_a_missing_file_a_directory_or_a_device() {
    let env = Env::new();
    let err = env.fails(&["inspect", "missing.cnb"]);
    assert!(
        err.contains(
            "there is no file missing.cnb and no image index.docker.io/library/missing.cnb:latest in rpack's store"
        ),
        "{err}"
    );
    fs_err::create_dir_all(env.path("some-dir")).unwrap();
    let err = env.fails(&["inspect", "some-dir"]);
    assert!(
        err.contains("some-dir is a directory; rpack inspect reads a .cnb or OCI archive file"),
        "{err}"
    );
    let err = env.fails(&["inspect", "no/such/Thing.cnb"]);
    assert!(
        err.contains("there is no file no/such/Thing.cnb, and it is not an image reference either"),
        "{err}"
    );
    // A device is refused before it is read (reading /dev/zero would never end).
    let err = env.fails(&["inspect", "/dev/zero"]);
    assert!(
        err.contains(
            "/dev/zero is a character device; rpack inspect reads a .cnb or OCI archive file"
        ),
        "{err}"
    );
    let err = env.fails(&["image", "import", "/dev/zero", "localhost/zero:1"]);
    assert!(
        err.contains("could not open /dev/zero")
            && err.contains("it is a character device, not a regular file"),
        "{err}"
    );
}

/// The entries of `dir` whose names start with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<String> {
    fs_err::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_interrupted_package_removes_its_temp_dirs() {
    let env = Env::new();
    // A buildpack of 40,000 small files: copying it for `--format dir` takes seconds, so the command is
    // mid-way with its temp dirs in place when it is interrupted. (A fifo used to hold it there; the copy
    // now skips fifos.)
    let bp = env.path("bp");
    fs_err::create_dir_all(bp.join("bin")).unwrap();
    fs_err::write(
        bp.join("buildpack.toml"),
        "api = \"0.10\"\n[buildpack]\nid = \"test/slow\"\nversion = \"1.0.0\"\n",
    )
    .unwrap();
    fs_err::write(bp.join("bin/build"), "#!/bin/sh\n").unwrap();
    for dir in 0..40 {
        let dir = bp.join(format!("data/{dir}"));
        fs_err::create_dir_all(&dir).unwrap();
        for file in 0..1000 {
            fs_err::write(dir.join(file.to_string()), "x").unwrap();
        }
    }
    fs_err::create_dir_all(env.path("out")).unwrap();
    let mut child = env
        .command(&[
            "buildpack",
            "package",
            "--path",
            "bp",
            "--format",
            "dir",
            "-o",
            "out/bp",
        ])
        .spawn()
        .unwrap();
    let started = Instant::now();
    while named(&env.path("out"), ".tmp-").is_empty()
        || named(&env.path("systmp"), ".tmp").is_empty()
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "rpack ended before it was interrupted"
        );
        assert!(started.elapsed() < TIMEOUT, "no temp dirs appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            child.kill().unwrap();
            panic!("rpack did not end on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.signal(), Some(2), "{status:?}");
    assert_eq!(named(&env.path("out"), ""), Vec::<String>::new());
    assert_eq!(named(&env.path("systmp"), ""), Vec::<String>::new());
}

/// The `/blobs/sha256/<hex>` entry name of `digest`.
fn blob_name(digest: &str) -> String {
    format!("/blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

/// `sha256:<hex>` of `bytes`.
fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// Writes `out`: the `.cnb` entries with the first layer swapped for another valid tar.gz (the same tree with
/// `bin/build` changed) and the manifest and index updated to match; the config, and so its diff ids, are left
/// as they were. Returns the new layer's digest.
fn swap_first_layer(entries: &[Entry], out: &Path) -> String {
    let data = |name: &str| &entries.iter().find(|e| e.name == name).unwrap().data;
    let mut index: serde_json::Value = serde_json::from_slice(data("/index.json")).unwrap();
    let old_manifest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(data(&blob_name(&old_manifest))).unwrap();
    let old_layer = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();

    // The same tree, with a line added to the buildpack's build script.
    let mut original = tar::Archive::new(flate2::read::GzDecoder::new(
        data(&blob_name(&old_layer)).as_slice(),
    ));
    let mut tar = tar::Builder::new(Vec::new());
    let mut changed = false;
    for entry in original.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut header = entry.header().clone();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if entry.path().unwrap().ends_with("bin/build") {
            bytes.extend_from_slice(b"echo swapped in\n");
            header.set_size(bytes.len() as u64);
            header.set_cksum();
            changed = true;
        }
        tar.append(&header, bytes.as_slice()).unwrap();
    }
    assert!(changed, "the layer has no bin/build");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
    let layer = gz.finish().unwrap();
    let new_layer = sha256(&layer);
    manifest["layers"][0]["digest"] = new_layer.clone().into();
    manifest["layers"][0]["size"] = layer.len().into();
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let new_manifest = sha256(&manifest_bytes);
    index["manifests"][0]["digest"] = new_manifest.clone().into();
    index["manifests"][0]["size"] = manifest_bytes.len().into();

    // Headers named in their raw name field: `/blobs/...` is absolute, which `append_data` would refuse.
    let named = |template: &tar::Header, name: &str, bytes: &[u8]| {
        let mut header = template.clone();
        header.as_old_mut().name = [0; 100];
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(bytes.len() as u64);
        header.set_cksum();
        header
    };
    let template = &entries
        .iter()
        .find(|e| e.name == "/index.json")
        .unwrap()
        .header;
    let index_bytes = serde_json::to_vec(&index).unwrap();
    let mut tar = tar::Builder::new(fs_err::File::create(out).unwrap());
    for entry in entries {
        if entry.name == "/index.json" {
            let header = named(&entry.header, &entry.name, &index_bytes);
            tar.append(&header, index_bytes.as_slice()).unwrap();
        } else if entry.name != blob_name(&old_layer) && entry.name != blob_name(&old_manifest) {
            tar.append(&entry.header, entry.data.as_slice()).unwrap();
        }
    }
    for (name, bytes) in [
        (blob_name(&new_layer), &layer),
        (blob_name(&new_manifest), &manifest_bytes),
    ] {
        tar.append(&named(template, &name, bytes), bytes.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap();
    new_layer
}

#[test]
fn a_layer_swapped_for_another_that_its_config_does_not_list_is_refused() {
    let env = Env::new();
    let cnb = env.package("dep-bp", "dep.cnb");
    let swapped = env.path("swapped.cnb");
    let layer = swap_first_layer(&entries(&cnb), &swapped);
    // The blob and the manifest agree, so only the diff id check can tell.
    let expected = format!("blob {layer} in swapped.cnb (layer 1) unpacks to sha256:");
    let listed = "the diff id the image config lists for it";

    let err = env.fails(&["inspect", "swapped.cnb"]);
    assert!(err.contains(&expected) && err.contains(listed), "{err}");
    let err = env.fails(&["image", "import", "swapped.cnb", "localhost/swapped:1"]);
    assert!(err.contains(&expected) && err.contains(listed), "{err}");
    assert!(!env.path("home/images/localhost/swapped").exists());
    // `builder create` reads buildpack .cnb files the same way as packaging a composite does.
    let composite = composite_with(&env, &swapped);
    let err = env.fails(&[
        "buildpack",
        "package",
        "--path",
        composite.to_str().unwrap(),
        "-o",
        "out.cnb",
    ]);
    assert!(
        err.contains(&format!("blob {layer} in ")) && err.contains(listed),
        "{err}"
    );
    assert!(!env.path("out.cnb").exists());

    // Pulled from a registry (pushed there as is by skopeo, which checks no diff ids): refused, nothing stored.
    let registry = Registry::start().unwrap();
    let remote = format!("{}/hostile/swapped:1", registry.host());
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci-archive:{}", swapped.display()))
        .arg(format!("docker://{remote}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = env.fails(&["pull", &remote, "--as", "localhost/swapped:1"]);
    assert!(
        err.contains(&format!("blob {layer} in ")) && err.contains(listed),
        "{err}"
    );
    assert!(!env.path("home/images/localhost/swapped").exists());
}
