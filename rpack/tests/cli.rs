//! The `rpack` binary end to end, with a temp `RPACK_HOME`: packaging (`.cnb` layout, labels,
//! reproducibility: checklist K1–K6), errors on malformed or missing inputs, inspect, the image store
//! commands and the scaffold. Nothing here needs podman or the lifecycle.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::scratch::{Scratch as Env, fixture};

/// The entries of an uncompressed tar: name → (header, content).
fn tar_entries(bytes: &[u8]) -> Vec<(String, tar::Header, Vec<u8>)> {
    let mut archive = tar::Archive::new(bytes);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, e.header().clone(), data)
        })
        .collect()
}

struct Cnb {
    files: BTreeMap<String, Vec<u8>>,
    config: serde_json::Value,
    manifest: serde_json::Value,
}

impl Cnb {
    fn read(path: &Path) -> Self {
        let files = tar_entries(&fs_err::read(path).unwrap())
            .into_iter()
            .map(|(n, _, d)| (n, d))
            .collect::<BTreeMap<_, _>>();
        let index: serde_json::Value = serde_json::from_slice(&files["/index.json"]).unwrap();
        let blob = |digest: &serde_json::Value| {
            let hex = digest.as_str().unwrap().trim_start_matches("sha256:");
            files[&format!("/blobs/sha256/{hex}")].clone()
        };
        let manifest: serde_json::Value =
            serde_json::from_slice(&blob(&index["manifests"][0]["digest"])).unwrap();
        let config = serde_json::from_slice(&blob(&manifest["config"]["digest"])).unwrap();
        Self {
            files,
            config,
            manifest,
        }
    }

    fn label(&self, key: &str) -> serde_json::Value {
        serde_json::from_str(self.config["config"]["Labels"][key].as_str().unwrap()).unwrap()
    }

    /// Each layer's entries, in manifest order.
    fn layers(&self) -> Vec<Vec<(String, tar::Header, Vec<u8>)>> {
        self.manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let hex = l["digest"].as_str().unwrap().trim_start_matches("sha256:");
                let gz = &self.files[&format!("/blobs/sha256/{hex}")];
                let mut tar = Vec::new();
                flate2::read::GzDecoder::new(gz.as_slice())
                    .read_to_end(&mut tar)
                    .unwrap();
                tar_entries(&tar)
            })
            .collect()
    }
}

#[test]
fn packaging_twice_gives_byte_identical_cnb_files() {
    let env = Env::new();
    let a = env.package("script-bp", "a.cnb");
    let b = env.package("script-bp", "b.cnb");
    assert_eq!(fs_err::read(a).unwrap(), fs_err::read(b).unwrap());
}

#[test]
fn a_rust_crate_packages_reproducibly_as_a_static_musl_binary() {
    let env = Env::new();
    let a = env.package("../../../examples/hello", "a.cnb");
    let b = env.package("../../../examples/hello", "b.cnb");
    assert_eq!(fs_err::read(&a).unwrap(), fs_err::read(&b).unwrap());
    let cnb = Cnb::read(&a);
    let layer = &cnb.layers()[0];
    let (_, header, binary) = layer
        .iter()
        .find(|(n, _, _)| n == "cnb/buildpacks/examples_hello/0.1.0/bin/build")
        .unwrap();
    assert_eq!(header.mode().unwrap(), 0o755);
    assert_eq!(&binary[..4], b"\x7fELF");
    // Static: no program interpreter (PT_INTERP) in the ELF.
    assert!(
        !binary
            .windows(12)
            .any(|w| w == b"/lib/ld-musl" || w == b"/lib64/ld-li")
    );
}

#[test]
fn source_date_epoch_sets_entry_mtimes() {
    let env = Env::new();
    let path = fixture("script-bp");
    let out = env.run_env(
        &[
            "buildpack",
            "package",
            "--path",
            path.to_str().unwrap(),
            "-o",
            "s.cnb",
        ],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    );
    assert!(out.status.success());
    let cnb = Cnb::read(&env.path("s.cnb"));
    for (name, header, _) in &cnb.layers()[0] {
        assert_eq!(header.mtime().unwrap(), 1_700_000_000, "{name}");
    }
}

#[test]
fn k1_each_buildpack_is_at_cnb_buildpacks_id_version_with_parent_dirs_and_exec_modes() {
    let env = Env::new();
    let cnb = Cnb::read(&env.package("script-bp", "a.cnb"));
    let layers = cnb.layers();
    assert_eq!(layers.len(), 1);
    let entries: Vec<(String, u32, u64, u64, u64)> = layers[0]
        .iter()
        .map(|(n, h, _)| {
            (
                n.clone(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.mtime().unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "cnb/",
            "cnb/buildpacks/",
            "cnb/buildpacks/test_script/",
            "cnb/buildpacks/test_script/1.2.3/",
            "cnb/buildpacks/test_script/1.2.3/bin/",
            "cnb/buildpacks/test_script/1.2.3/bin/build",
            "cnb/buildpacks/test_script/1.2.3/bin/detect",
            "cnb/buildpacks/test_script/1.2.3/buildpack.toml",
            "cnb/buildpacks/test_script/1.2.3/extra.txt",
        ]
    );
    for (name, mode, uid, gid, mtime) in &entries {
        let want = if name.ends_with('/') || name.contains("/bin/") {
            0o755
        } else {
            0o644
        };
        assert_eq!(*mode, want, "{name}");
        assert_eq!((*uid, *gid, *mtime), (0, 0, 315_532_801), "{name}");
    }
}

#[test]
fn k2_a_cnb_is_an_uncompressed_tar_of_an_oci_layout() {
    let env = Env::new();
    let path = env.package("script-bp", "a.cnb");
    let bytes = fs_err::read(&path).unwrap();
    assert_ne!(&bytes[..2], b"\x1f\x8b", "must not be gzipped");
    let entries = tar_entries(&bytes);
    let names: Vec<&str> = entries.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names[..2], ["/blobs", "/blobs/sha256"]);
    assert_eq!(names[names.len() - 2..], ["/index.json", "/oci-layout"]);
    assert!(
        names[2..names.len() - 2]
            .iter()
            .all(|n| n.starts_with("/blobs/sha256/"))
    );
    for (name, header, _) in &entries {
        assert_eq!(
            (
                header.uid().unwrap(),
                header.gid().unwrap(),
                header.mode().unwrap()
            ),
            (0, 0, 0o755),
            "{name}"
        );
    }
    let cnb = Cnb::read(&path);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&cnb.files["/oci-layout"]).unwrap()["imageLayoutVersion"],
        "1.0.0"
    );
}

#[test]
fn k3_buildpackage_metadata_names_the_buildpack_with_a_wildcard_stack() {
    let env = Env::new();
    let cnb = Cnb::read(&env.package("script-bp", "a.cnb"));
    let metadata = cnb.label("io.buildpacks.buildpackage.metadata");
    assert_eq!(metadata["id"], "test/script");
    assert_eq!(metadata["version"], "1.2.3");
    assert_eq!(metadata["homepage"], "https://example.com/script");
    assert_eq!(metadata["stacks"], serde_json::json!([{ "id": "*" }]));
}

#[test]
fn k4_layers_label_has_api_and_diff_id_for_every_buildpack_and_order_for_composites() {
    let env = Env::new();
    let cnb = Cnb::read(&env.package("composite", "meta.cnb"));
    let layers = cnb.label("io.buildpacks.buildpack.layers");
    let diff_ids = cnb.config["rootfs"]["diff_ids"].as_array().unwrap().clone();
    for (id, version) in [
        ("test/script", "1.2.3"),
        ("test/dep", "0.0.1"),
        ("test/meta", "2.0.0"),
    ] {
        let entry = &layers[id][version];
        assert_eq!(entry["api"], "0.10", "{id}");
        assert!(diff_ids.contains(&entry["layerDiffID"]), "{id}: {entry}");
    }
    let order = &layers["test/meta"]["2.0.0"]["order"][0]["group"];
    assert_eq!(order[0]["id"], "test/script");
    assert_eq!(order[1]["optional"], true);
}

#[test]
fn k5_config_os_and_architecture_come_from_the_target() {
    let env = Env::new();
    let cnb = Cnb::read(&env.package("script-bp", "a.cnb"));
    assert_eq!(cnb.config["os"], "linux");
    assert_eq!(cnb.config["architecture"], "amd64");

    // The fixture declares only linux/amd64: packaging it for arm64 is refused, and nothing is written.
    let path = fixture("script-bp");
    let err = env.fails(&[
        "buildpack",
        "package",
        "--path",
        path.to_str().unwrap(),
        "--target",
        "aarch64-unknown-linux-musl",
        "-o",
        "arm.cnb",
    ]);
    assert!(err.contains("linux/arm64"), "{err}");
    assert!(err.contains("buildpack.toml"), "{err}");
    assert!(!env.path("arm.cnb").exists());
}

/// A prebuilt shell buildpack `id` `version` at `dir` (no compile), with `extra` appended to buildpack.toml.
fn shell_buildpack(dir: &Path, id: &str, version: &str, extra: &str) {
    fs_err::create_dir_all(dir.join("bin")).unwrap();
    fs_err::write(
        dir.join("buildpack.toml"),
        format!("api = \"0.10\"\n[buildpack]\nid = \"{id}\"\nversion = \"{version}\"\n{extra}"),
    )
    .unwrap();
    for script in ["build", "detect"] {
        let path = dir.join("bin").join(script);
        fs_err::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        fs_err::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
}

const TWO_TARGETS: &str = "[[targets]]\nos = \"linux\"\narch = \"amd64\"\n[[targets]]\nos = \"linux\"\narch = \"arm64\"\n";

#[test]
fn several_targets_give_one_cnb_per_target_with_its_os_and_architecture() {
    let env = Env::new();
    shell_buildpack(&env.path("bp"), "test/multi", "1.0.0", TWO_TARGETS);
    let printed = env.ok(&[
        "buildpack",
        "package",
        "--path",
        "bp",
        "-o",
        "out/multi.cnb",
    ]);
    assert_eq!(
        printed.lines().collect::<Vec<_>>(),
        ["out/multi-linux-amd64.cnb", "out/multi-linux-arm64.cnb"],
        "{printed}"
    );
    assert!(!env.path("out/multi.cnb").exists());
    for arch in ["amd64", "arm64"] {
        let cnb = Cnb::read(&env.path(&format!("out/multi-linux-{arch}.cnb")));
        assert_eq!(cnb.config["os"], "linux");
        assert_eq!(cnb.config["architecture"], arch);
        assert_eq!(
            cnb.label("io.buildpacks.buildpackage.metadata")["id"],
            "test/multi"
        );
    }

    // package.toml's [[targets]] take precedence; default names get the suffix too.
    fs_err::write(
        env.path("bp/package.toml"),
        "[buildpack]\nuri = \".\"\n[[targets]]\nos = \"linux\"\narch = \"arm64\"\n",
    )
    .unwrap();
    let printed = env.ok(&["buildpack", "package", "--path", "bp"]);
    assert_eq!(printed.trim(), "test_multi_1.0.0.cnb");
    assert_eq!(
        Cnb::read(&env.path("test_multi_1.0.0.cnb")).config["architecture"],
        "arm64"
    );
}

#[test]
fn several_targets_of_a_crate_need_each_rust_target_installed() {
    let env = Env::new();
    // A crate without bin/build would be compiled; the arm64 target is refused before any build starts.
    let dir = env.path("crate");
    fs_err::create_dir_all(dir.join("src")).unwrap();
    fs_err::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"multi\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[workspace]\n",
    )
    .unwrap();
    fs_err::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    fs_err::write(
        dir.join("buildpack.toml"),
        format!(
            "api = \"0.10\"\n[buildpack]\nid = \"test/crate\"\nversion = \"0.1.0\"\n{TWO_TARGETS}"
        ),
    )
    .unwrap();
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("aarch64-unknown-linux-musl"));
    if installed {
        eprintln!("aarch64-unknown-linux-musl is installed: nothing to check");
        return;
    }
    let err = env.fails(&["buildpack", "package", "--path", "crate"]);
    assert!(
        err.contains("rustup target add aarch64-unknown-linux-musl"),
        "{err}"
    );
    assert!(!dir.join("target").exists(), "nothing was built");
}

#[test]
fn workspace_packages_every_buildpack_member_dependencies_first() {
    let env = Env::new();
    let ws = env.path("ws");
    fs_err::create_dir_all(&ws).unwrap();
    // The composite is listed first; it still comes after the buildpacks its order names.
    fs_err::write(
        ws.join("Cargo.toml"),
        "[workspace]\nmembers = [\"meta\", \"a\", \"b\", \"lib\"]\nresolver = \"3\"\n",
    )
    .unwrap();
    for (name, id) in [
        ("meta", "ws/meta"),
        ("a", "ws/a"),
        ("b", "ws/b"),
        ("lib", ""),
    ] {
        let dir = ws.join(name);
        fs_err::create_dir_all(dir.join("src")).unwrap();
        fs_err::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
        )
        .unwrap();
        fs_err::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
        match name {
            "lib" => {} // no buildpack.toml: skipped
            "meta" => {
                fs_err::write(
                    dir.join("buildpack.toml"),
                    "api = \"0.10\"\n[buildpack]\nid = \"ws/meta\"\nversion = \"0.1.0\"\n\
                     [[order]]\n[[order.group]]\nid = \"ws/b\"\nversion = \"0.1.0\"\n\
                     [[order.group]]\nid = \"ws/a\"\nversion = \"0.1.0\"\n",
                )
                .unwrap();
                fs_err::write(
                    dir.join("package.toml"),
                    "[buildpack]\nuri = \".\"\n[[dependencies]]\nuri = \"cargo:a\"\n\
                     [[dependencies]]\nuri = \"cargo:b\"\n",
                )
                .unwrap();
            }
            _ => shell_buildpack(&dir, id, "0.1.0", ""),
        }
    }
    let printed = env.ok(&[
        "buildpack",
        "package",
        "--workspace",
        "--path",
        "ws",
        "--output-dir",
        "dist",
    ]);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{printed}");
    assert_eq!(lines[2], "dist/ws_meta_0.1.0.cnb", "{printed}");
    let mut firsts = lines[..2].to_vec();
    firsts.sort_unstable();
    assert_eq!(firsts, ["dist/ws_a_0.1.0.cnb", "dist/ws_b_0.1.0.cnb"]);
    let meta = Cnb::read(&env.path("dist/ws_meta_0.1.0.cnb"));
    let layers = meta.label("io.buildpacks.buildpack.layers");
    assert!(layers["ws/a"]["0.1.0"].is_object(), "{layers}");
    assert!(layers["ws/b"]["0.1.0"].is_object(), "{layers}");

    // A workspace without buildpacks is an error with a hint.
    let plain = env.path("plain");
    fs_err::create_dir_all(plain.join("src")).unwrap();
    fs_err::write(
        plain.join("Cargo.toml"),
        "[package]\nname = \"plain\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[workspace]\n",
    )
    .unwrap();
    fs_err::write(plain.join("src/main.rs"), "fn main() {}\n").unwrap();
    let err = env.fails(&["buildpack", "package", "--workspace", "--path", "plain"]);
    assert!(err.contains("buildpack.toml"), "{err}");
}

#[test]
fn k6_a_composite_holds_every_referenced_buildpack_at_its_exact_version() {
    let env = Env::new();
    let cnb = Cnb::read(&env.package("composite", "meta.cnb"));
    let dirs: Vec<String> = cnb.layers().iter().map(|l| l[3].0.clone()).collect();
    // One layer each, in a fixed (sorted) order.
    assert_eq!(
        dirs,
        [
            "cnb/buildpacks/test_dep/0.0.1/",
            "cnb/buildpacks/test_meta/2.0.0/",
            "cnb/buildpacks/test_script/1.2.3/",
        ]
    );
}

#[test]
fn k6_a_composite_with_a_missing_dependency_is_refused() {
    let env = Env::new();
    let dir = env.path("meta");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::copy(
        fixture("composite/buildpack.toml"),
        dir.join("buildpack.toml"),
    )
    .unwrap();
    fs_err::write(
        dir.join("package.toml"),
        format!("[[dependencies]]\nuri = {:?}\n", fixture("script-bp")),
    )
    .unwrap();
    let err = env.fails(&["buildpack", "package", "--path", "meta", "-o", "m.cnb"]);
    assert!(err.contains("order[0].group[1]"), "{err}");
    assert!(err.contains("test/dep 0.0.1"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!env.path("m.cnb").exists());
}

#[test]
fn a_cnb_file_can_be_a_dependency_of_a_composite() {
    let env = Env::new();
    let script = env.package("script-bp", "script.cnb");
    let dep = env.package("dep-bp", "dep.cnb");
    let dir = env.path("meta");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::copy(
        fixture("composite/buildpack.toml"),
        dir.join("buildpack.toml"),
    )
    .unwrap();
    fs_err::write(
        dir.join("package.toml"),
        format!("[[dependencies]]\nuri = {script:?}\n[[dependencies]]\nuri = {dep:?}\n"),
    )
    .unwrap();
    env.ok(&[
        "buildpack",
        "package",
        "--path",
        "meta",
        "-o",
        "from-cnb.cnb",
    ]);
    // The same buildpacks from dirs or from .cnb files give the same layers (the composite's own layer
    // differs: it holds its package.toml).
    let from_cnb = Cnb::read(&env.path("from-cnb.cnb")).label("io.buildpacks.buildpack.layers");
    let from_dirs = Cnb::read(&env.package("composite", "from-dirs.cnb"))
        .label("io.buildpacks.buildpack.layers");
    for id in ["test/script", "test/dep"] {
        assert_eq!(from_cnb[id], from_dirs[id], "{id}");
    }
}

#[test]
fn skopeo_accepts_the_cnb() {
    if Command::new("skopeo").arg("--version").output().is_err() {
        eprintln!("skopeo is not installed; skipping");
        return;
    }
    let env = Env::new();
    let path = env.package("composite", "meta.cnb");
    let out = Command::new("skopeo")
        .arg("inspect")
        .arg(format!("oci-archive:{}", path.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["Layers"].as_array().unwrap().len(), 3);
    assert_eq!(info["Architecture"], "amd64");
}

#[test]
fn format_dir_writes_the_assembled_buildpack() {
    let env = Env::new();
    let path = fixture("script-bp");
    env.ok(&[
        "buildpack",
        "package",
        "--path",
        path.to_str().unwrap(),
        "--format",
        "dir",
    ]);
    let out = env.path("test_script_1.2.3");
    assert!(out.join("buildpack.toml").is_file());
    assert!(out.join("bin/build").is_file());
}

#[test]
fn malformed_buildpack_toml_names_file_field_and_line_and_writes_nothing() {
    let env = Env::new();
    let path = fixture("bad-toml");
    let err = env.fails(&[
        "buildpack",
        "package",
        "--path",
        path.to_str().unwrap(),
        "-o",
        "bad.cnb",
    ]);
    assert!(err.contains("bad-toml/buildpack.toml:5"), "{err}");
    assert!(err.contains("buildpack.version"), "{err}");
    assert!(!env.path("bad.cnb").exists());
}

#[test]
fn malformed_package_toml_names_file_field_and_line() {
    let env = Env::new();
    let dir = env.path("meta");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::copy(
        fixture("composite/buildpack.toml"),
        dir.join("buildpack.toml"),
    )
    .unwrap();
    fs_err::write(
        dir.join("package.toml"),
        "[buildpack]\nuri = \".\"\n\n[[dependencies]]\nurl = \"x\"\n",
    )
    .unwrap();
    let err = env.fails(&["buildpack", "package", "--path", "meta", "-o", "m.cnb"]);
    assert!(err.contains("package.toml:5"), "{err}");
    assert!(err.contains("dependencies"), "{err}");
    assert!(!env.path("m.cnb").exists());
}

#[test]
fn malformed_builder_toml_names_file_field_and_line() {
    let env = Env::new();
    fs_err::write(
        env.path("builder.toml"),
        "[[buildpacks]]\nuri = \"x\"\n\n[[order]]\n[[order.group]]\nid = \"bad id!\"\n",
    )
    .unwrap();
    let err = env.fails(&[
        "builder",
        "create",
        "localhost/b:latest",
        "--config",
        "builder.toml",
    ]);
    assert!(err.contains("builder.toml:6"), "{err}");
    assert!(err.contains("order[0].group[0].id"), "{err}");
    assert!(!env.path("home/images/localhost/b").exists());
}

#[test]
fn missing_paths_are_named() {
    let env = Env::new();
    let err = env.fails(&["buildpack", "package", "--path", "nowhere"]);
    assert!(err.contains("nowhere/buildpack.toml"), "{err}");
    let err = env.fails(&["inspect", "missing.cnb"]);
    assert!(err.contains("missing.cnb"), "{err}");
}

#[test]
fn inspect_shows_a_cnb_as_text_and_json() {
    let env = Env::new();
    let path = env.package("composite", "meta.cnb");
    let text = env.ok(&["inspect", path.to_str().unwrap()]);
    assert!(text.contains("(buildpackage, linux/amd64)"), "{text}");
    assert!(
        text.contains("group 1: test/script@1.2.3, test/dep@0.0.1 (optional)"),
        "{text}"
    );
    assert!(
        text.contains("rpack buildpack package: test/meta 2.0.0"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["inspect", "--json", path.to_str().unwrap()])).unwrap();
    assert_eq!(json["kind"], "buildpackage");
    assert_eq!(json["buildpacks"].as_array().unwrap().len(), 3);
    assert!(json["layers"][0]["size"].as_u64().unwrap() > 0);
}

#[test]
fn images_import_export_rm_and_prune() {
    let env = Env::new();
    let path = env.package("script-bp", "a.cnb");
    env.ok(&[
        "image",
        "import",
        path.to_str().unwrap(),
        "localhost/script:1",
    ]);
    let list = env.ok(&["images"]);
    assert!(list.contains("localhost/script:1"), "{list}");
    assert!(list.contains("buildpackage"), "{list}");
    let inspected = env.ok(&["inspect", "localhost/script:1"]);
    assert!(inspected.contains("test/script"), "{inspected}");

    env.ok(&["image", "export", "localhost/script:1", "out.tar"]);
    let exported = Cnb::read(&env.path("out.tar"));
    assert_eq!(
        exported.label("io.buildpacks.buildpackage.metadata")["id"],
        "test/script"
    );

    let blobs = env.path("home/images/localhost/script/1/blobs/sha256");
    fs_err::write(blobs.join("a".repeat(64)), "unreferenced").unwrap();
    let pruned = env.ok(&["prune"]);
    assert!(pruned.contains("removed 1 unreferenced blobs"), "{pruned}");
    assert!(!blobs.join("a".repeat(64)).exists());
    env.ok(&["inspect", "localhost/script:1"]);

    env.ok(&["image", "rm", "localhost/script:1"]);
    assert!(!env.ok(&["images"]).contains("localhost/script"));
    let err = env.fails(&["image", "rm", "localhost/script:1"]);
    assert!(err.contains("hint: list the images"), "{err}");
}

#[test]
fn image_import_refuses_a_damaged_archive() {
    let env = Env::new();
    let path = env.package("script-bp", "a.cnb");
    let mut bytes = fs_err::read(&path).unwrap();
    // Flip a byte inside the first blob's content (the second 512-byte block after the blob's header).
    let entries = tar_entries(&bytes);
    assert!(entries[2].0.starts_with("/blobs/sha256/"));
    bytes[3 * 512 + 10] ^= 0xff;
    fs_err::write(env.path("bad.tar"), bytes).unwrap();
    let err = env.fails(&["image", "import", "bad.tar", "localhost/bad:1"]);
    assert!(err.contains("does not match its digest"), "{err}");
    assert!(!env.path("home/images/localhost/bad").exists());
}

#[test]
fn buildpack_new_scaffolds_a_crate_using_this_checkout() {
    let env = Env::new();
    env.ok(&["buildpack", "new", "my-bp", "--id", "acme/my-bp"]);
    let dir = env.path("my-bp");
    for file in [
        "Cargo.toml",
        "buildpack.toml",
        "src/main.rs",
        "integration/Cargo.toml",
        "integration/tests/fixture_app.rs",
        "integration/tests/fixtures/app/hello.txt",
        "integration/tests/fixtures/builder.toml",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let cargo = fs_err::read_to_string(dir.join("Cargo.toml")).unwrap();
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .canonicalize()
        .unwrap();
    assert!(
        cargo.contains(&format!(
            "{:?}",
            checkout.join("libbuildpack").display().to_string()
        )),
        "{cargo}"
    );
    let builder =
        fs_err::read_to_string(dir.join("integration/tests/fixtures/builder.toml")).unwrap();
    assert!(builder.contains("localhost/rpack/python-build:latest"));
    let err = env.fails(&["buildpack", "new", "my-bp"]);
    assert!(err.contains("exists already"), "{err}");
}

#[test]
fn buildpack_new_does_not_need_the_store() {
    let env = Env::new();
    // A file where the store would be: every command that opens the store fails on it.
    fs_err::write(env.path("home"), "not a dir").unwrap();
    let err = env.fails(&["images"]);
    assert!(err.contains("home"), "{err}");
    env.ok(&["buildpack", "new", "my-bp"]);
    assert!(env.path("my-bp/buildpack.toml").is_file());
}

/// A host dir an attacker wants copied into rpack's output: a valid buildpack with a file that must never
/// leave the host.
fn host_buildpack(env: &Env) -> PathBuf {
    let host = env.path("host");
    let bp = host.join("1.2.3");
    fs_err::create_dir_all(bp.join("bin")).unwrap();
    fs_err::copy(
        fixture("script-bp/buildpack.toml"),
        bp.join("buildpack.toml"),
    )
    .unwrap();
    for bin in ["build", "detect"] {
        fs_err::copy(fixture("script-bp/bin").join(bin), bp.join("bin").join(bin)).unwrap();
    }
    fs_err::write(bp.join("host-secret.txt"), "host secret").unwrap();
    host
}

/// A `.cnb` made with rpack's own OCI API whose one layer has `cnb/buildpacks/test_script` as an absolute
/// symlink to `host`, and labels listing `test/script 1.2.3` in it.
fn cnb_linking_to(env: &Env, host: &Path) -> PathBuf {
    use rpack::oci::archive::write_archive;
    use rpack::oci::labels::{BUILDPACK_LAYERS, BUILDPACKAGE_METADATA};
    use rpack::oci::{Image, LayerWriter, Layout};
    let layout = Layout::create(env.path("hostile-layout")).unwrap();
    let mut image = Image::scratch(layout.clone(), "linux", "amd64").unwrap();
    let mut layer = LayerWriter::new(&layout).unwrap();
    layer.dir("cnb", 0o755).unwrap();
    layer.dir("cnb/buildpacks", 0o755).unwrap();
    layer
        .symlink("cnb/buildpacks/test_script", host.to_str().unwrap())
        .unwrap();
    let written = layer.finish().unwrap();
    image.add_layer(&written, "hostile").unwrap();
    let main =
        serde_json::json!({ "id": "test/script", "version": "1.2.3", "stacks": [{ "id": "*" }] });
    let layers = serde_json::json!({
        "test/script": { "1.2.3": { "api": "0.10", "layerDiffID": written.diff_id.to_string() } }
    });
    image.set_label(BUILDPACKAGE_METADATA, &main.to_string());
    image.set_label(BUILDPACK_LAYERS, &layers.to_string());
    image.save("1.2.3").unwrap();
    let path = env.path("hostile.cnb");
    write_archive(layout.root(), fs_err::File::create(&path).unwrap()).unwrap();
    path
}

/// Defect (issue 13): the absolute link was extracted as is, so packaging a composite with this `.cnb` as a
/// dependency copied the host dir, secret included, into the new `.cnb`.
#[test]
fn a_cnb_whose_buildpack_dir_links_to_the_host_does_not_bring_host_files_into_a_package() {
    let env = Env::new();
    let host = host_buildpack(&env);
    let hostile = cnb_linking_to(&env, &host);
    let dir = env.path("meta");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::copy(
        fixture("composite/buildpack.toml"),
        dir.join("buildpack.toml"),
    )
    .unwrap();
    let dep = fixture("dep-bp");
    fs_err::write(
        dir.join("package.toml"),
        format!("[[dependencies]]\nuri = {hostile:?}\n[[dependencies]]\nuri = {dep:?}\n"),
    )
    .unwrap();
    let out = env.run(&["buildpack", "package", "--path", "meta", "-o", "meta.cnb"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        let leaked = Cnb::read(&env.path("meta.cnb"))
            .layers()
            .into_iter()
            .flatten()
            .any(|(_, _, data)| data == b"host secret");
        panic!("packaged from a link to the host (host file in the package: {leaked})");
    }
    // The link now leads to `<image root>/<host path>`, which the .cnb does not have.
    assert!(
        stderr.contains("could not read a buildpack from") && stderr.contains("hostile.cnb"),
        "{stderr}"
    );
    assert!(!env.path("meta.cnb").exists());
    assert!(host.join("1.2.3/host-secret.txt").is_file());
}

/// Defect (issue 13): an SBOM layer with `layers` an absolute symlink to a host dir made `rpack sbom
/// download` create `sbom` in that host dir and move it into the output.
#[test]
fn sbom_download_of_a_layer_linking_to_the_host_leaves_the_host_alone() {
    use rpack::oci::{Image, LayerWriter, Layout};
    let env = Env::new();
    let host = env.path("host");
    fs_err::create_dir_all(host.join("sbom")).unwrap();
    fs_err::write(host.join("sbom/host-secret.txt"), "host secret").unwrap();
    let store = rpack::store::Store::at(env.path("home")).unwrap();
    let reference: rpack::oci::reference::ImageRef = "localhost/t/app:latest".parse().unwrap();
    let layout = Layout::create(store.image_layout(&reference).root()).unwrap();
    let mut image = Image::scratch(layout.clone(), "linux", "amd64").unwrap();
    let mut layer = LayerWriter::new(&layout).unwrap();
    layer.symlink("layers", host.to_str().unwrap()).unwrap();
    let written = layer.finish().unwrap();
    image.add_layer(&written, "sbom").unwrap();
    let metadata = serde_json::json!({ "sbom": { "sha": written.diff_id.to_string() } });
    image.set_label("io.buildpacks.lifecycle.metadata", &metadata.to_string());
    image.save(reference.tag()).unwrap();

    let err = env.fails(&["sbom", "download", "localhost/t/app:latest", "-o", "out"]);
    assert!(err.contains("symlink at \"layers\""), "{err}");
    assert!(host.join("sbom/host-secret.txt").is_file());
    assert!(!env.path("out/layers/sbom/host-secret.txt").exists());
}

/// Defect (issue 13): no cap on what a `.cnb` expands to. The cap comes from the environment here to keep
/// the test small; the error names it and the variable that raises it.
#[test]
fn a_cnb_expanding_past_the_cap_is_refused_naming_the_variable_that_raises_it() {
    let env = Env::new();
    let path = env.package("script-bp", "a.cnb");
    let out = env.run_env(
        &["inspect", path.to_str().unwrap()],
        &[("RPACK_MAX_ARCHIVE_BYTES", "4096")],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("more than 4096 bytes"), "{err}");
    assert!(err.contains("set RPACK_MAX_ARCHIVE_BYTES"), "{err}");
    assert!(!err.contains("hint: rpack only reads archives"), "{err}");
}

/// An entry whose name would drive the terminal is named escaped, never raw.
#[test]
fn image_import_names_a_hostile_entry_escaped() {
    let env = Env::new();
    let mut header = tar::Header::new_gnu();
    let name = b"\x1b]0;pwned\x07/../../evil";
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(1);
    header.set_mode(0o644);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, &b"x"[..]).unwrap();
    fs_err::write(env.path("bad.tar"), builder.into_inner().unwrap()).unwrap();
    let err = env.fails(&["image", "import", "bad.tar", "localhost/bad:1"]);
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains(r"\u{1b}]0;pwned\u{7}/../../evil"), "{err}");
    assert!(!env.path("evil").exists());
}
