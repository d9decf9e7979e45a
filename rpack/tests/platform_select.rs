#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns
//! `--platform` of `rpack inspect`, `rpack image import` and `rpack image export` (issue 17): of a file or
//! stored image with several platforms (an image index), the one asked for is shown or moved, and one that is
//! not there is refused with an error naming the platforms there are. A multi-arch `.cnb` of a shell
//! buildpack stands in for any index: no podman, no lifecycle, no emulation.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::scratch::Scratch as Env;

/// A shell buildpack for linux/amd64 and linux/arm64, packaged as `multi.cnb` (one image per platform).
fn multi_cnb(env: &Env) {
    let dir = env.path("bp");
    fs_err::create_dir_all(dir.join("bin")).unwrap();
    fs_err::write(
        dir.join("buildpack.toml"),
        "api = \"0.10\"\n[buildpack]\nid = \"test/multi\"\nversion = \"1.0.0\"\n\
         [[targets]]\nos = \"linux\"\narch = \"amd64\"\n[[targets]]\nos = \"linux\"\narch = \"arm64\"\n",
    )
    .unwrap();
    for script in ["build", "detect"] {
        let path = dir.join("bin").join(script);
        fs_err::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        fs_err::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    env.ok(&["buildpack", "package", "--path", "bp", "-o", "multi.cnb"]);
}

/// The platforms `index.json` of the OCI archive `file` lists, as `os/arch`.
fn archive_platforms(file: &Path) -> Vec<String> {
    let mut archive = tar::Archive::new(fs_err::File::open(file).unwrap());
    let files: BTreeMap<String, Vec<u8>> = archive
        .entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            (name.trim_start_matches('/').to_owned(), bytes)
        })
        .collect();
    let index: serde_json::Value = serde_json::from_slice(&files["index.json"]).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let digest = m["digest"].as_str().unwrap().trim_start_matches("sha256:");
            assert!(
                files.contains_key(&format!("blobs/sha256/{digest}")),
                "the archive has the manifest index.json lists"
            );
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect()
}

/// The first line of `rpack inspect`: the target, its kind and platform.
fn head(text: &str) -> &str {
    text.lines().next().unwrap()
}

#[test]
fn inspect_shows_the_platform_asked_for_and_names_the_ones_there_are() {
    let env = Env::new();
    multi_cnb(&env);
    let arm = env.ok(&["inspect", "multi.cnb", "--platform", "linux/arm64"]);
    assert_eq!(head(&arm), "multi.cnb (buildpackage, linux/arm64)", "{arm}");
    assert!(arm.contains("platforms: linux/amd64, linux/arm64"), "{arm}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "inspect",
        "--json",
        "--platform",
        "linux/amd64",
        "multi.cnb",
    ]))
    .unwrap();
    assert_eq!(json["architecture"], "amd64");
    assert_ne!(
        json["id"].as_str(),
        arm.lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("id: "))
            .map(str::trim),
        "each platform's image has its own config"
    );
    insta::assert_snapshot!(
        "inspect_a_file_without_the_platform",
        env.fails(&["inspect", "multi.cnb", "--platform", "linux/s390x"])
    );
    insta::assert_snapshot!(
        "inspect_an_invalid_platform",
        env.fails(&["inspect", "multi.cnb", "--platform", "arm64"])
    );
}

#[test]
fn import_and_export_move_one_platform_of_an_index() {
    let env = Env::new();
    multi_cnb(&env);
    // Each platform imported on its own joins the same name; without --platform an import replaces it.
    env.ok(&[
        "image",
        "import",
        "multi.cnb",
        "localhost/multi:1",
        "--platform",
        "linux/arm64",
    ]);
    let only_arm = env.ok(&["inspect", "localhost/multi:1"]);
    assert_eq!(
        head(&only_arm),
        "localhost/multi:1 (buildpackage, linux/arm64)",
        "{only_arm}"
    );
    insta::assert_snapshot!(
        "inspect_a_stored_image_of_another_platform",
        env.fails(&["inspect", "localhost/multi:1", "--platform", "linux/amd64"])
    );
    env.ok(&[
        "image",
        "import",
        "multi.cnb",
        "localhost/multi:1",
        "--platform",
        "linux/amd64",
    ]);
    let both = env.ok(&["inspect", "localhost/multi:1", "--platform", "linux/arm64"]);
    assert_eq!(
        head(&both),
        "localhost/multi:1 (buildpackage, linux/arm64)",
        "{both}"
    );
    assert!(
        both.contains("platforms: linux/amd64, linux/arm64"),
        "{both}"
    );

    env.ok(&["image", "export", "localhost/multi:1", "all.tar"]);
    assert_eq!(
        archive_platforms(&env.path("all.tar")),
        ["linux/amd64", "linux/arm64"]
    );
    env.ok(&[
        "image",
        "export",
        "localhost/multi:1",
        "arm.tar",
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(archive_platforms(&env.path("arm.tar")), ["linux/arm64"]);
    // The exported platform is the stored one: importing it back gives the same image.
    env.ok(&["image", "import", "arm.tar", "localhost/multi:arm"]);
    let id = |text: &str| text.lines().nth(1).unwrap().to_owned();
    assert_eq!(
        id(&env.ok(&[
            "inspect",
            "localhost/multi:arm",
            "--platform",
            "linux/arm64"
        ])),
        id(&both)
    );

    insta::assert_snapshot!(
        "export_a_platform_the_image_lacks",
        env.fails(&[
            "image",
            "export",
            "localhost/multi:1",
            "s390x.tar",
            "--platform",
            "linux/s390x"
        ])
    );
    assert!(!env.path("s390x.tar").exists());
    insta::assert_snapshot!(
        "import_a_platform_the_archive_lacks",
        env.fails(&[
            "image",
            "import",
            "all.tar",
            "localhost/multi:2",
            "--platform",
            "linux/s390x"
        ])
    );
    assert!(!env.ok(&["images"]).contains("localhost/multi:2"));
}

#[test]
fn import_without_a_platform_keeps_every_platform_of_the_archive() {
    let env = Env::new();
    multi_cnb(&env);
    env.ok(&["image", "import", "multi.cnb", "localhost/multi:all"]);
    let arm = env.ok(&[
        "inspect",
        "localhost/multi:all",
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(
        head(&arm),
        "localhost/multi:all (buildpackage, linux/arm64)",
        "{arm}"
    );
    assert!(arm.contains("platforms: linux/amd64, linux/arm64"), "{arm}");
    // The stored index is the archive's: exported again, it lists the same platforms, each with its own image.
    env.ok(&["image", "export", "localhost/multi:all", "again.tar"]);
    assert_eq!(
        archive_platforms(&env.path("again.tar")),
        archive_platforms(&env.path("multi.cnb"))
    );
    let id = |text: &str| text.lines().nth(1).unwrap().to_owned();
    assert_eq!(
        id(&arm),
        id(&env.ok(&["inspect", "multi.cnb", "--platform", "linux/arm64"])),
        "the arm64 image is the archive's, unchanged"
    );
    // A single-platform archive still replaces the name as a whole.
    env.ok(&[
        "image",
        "export",
        "localhost/multi:all",
        "amd.tar",
        "--platform",
        "linux/amd64",
    ]);
    env.ok(&["image", "import", "amd.tar", "localhost/multi:all"]);
    let amd = env.ok(&["inspect", "localhost/multi:all"]);
    assert_eq!(
        head(&amd),
        "localhost/multi:all (buildpackage, linux/amd64)",
        "{amd}"
    );
    assert!(!amd.contains("linux/arm64"), "{amd}");
}
