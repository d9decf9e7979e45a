#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! Killing `rpack build` at any phase leaves the previous image runnable, and the next build succeeds
//! (issue: crash safety). Real builds on the tiny stack with a shell buildpack; uses rpack's store from the
//! environment (`RPACK_HOME`) so the stack and lifecycle are shared with the other tests.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use support::{build, build_args, rpack, run_output, shell_buildpack, write};

const BUILDPACK_TOML: &str =
    "api = \"0.10\"\n[buildpack]\nid = \"kill/probe\"\nversion = \"0.0.1\"\n";
const BUILD: &str = r#"#!/bin/sh
set -eu
layer="$CNB_LAYERS_DIR/greeting"
mkdir -p "$layer"
cat version.txt > "$layer/version"
printf '[types]\nlaunch = true\n' > "$layer.toml"
printf '[[processes]]\ntype = "web"\ncommand = ["cat", "/layers/kill_probe/greeting/version"]\ndefault = true\n' > "$CNB_LAYERS_DIR/launch.toml"
if [ -f slow ]; then echo "sleeping in build"; sleep 120; fi
"#;

/// Starts a build and SIGKILLs rpack as soon as a line containing `marker` appears.
fn build_killed_at(dir: &Path, image: &str, marker: &str) {
    let mut child = rpack()
        .args(build_args(dir, image))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains(marker) {
            child.kill().unwrap();
            child.wait().unwrap();
            return;
        }
    }
    child.wait().unwrap();
    panic!("the build ended before printing {marker:?}:\n{seen}");
}

fn set_version(dir: &Path, version: &str, slow: bool) {
    write(&dir.join("app/version.txt"), version);
    let slow_file = dir.join("app/slow");
    if slow {
        write(&slow_file, "");
    } else if slow_file.exists() {
        std::fs::remove_file(slow_file).unwrap();
    }
}

#[test]
fn a_killed_build_leaves_the_previous_image_and_the_next_build_works() {
    let dir = tempfile::tempdir().unwrap();
    shell_buildpack(dir.path(), "kill/probe", BUILDPACK_TOML, BUILD);
    let image = format!("localhost/rpack-tests/kill-{}:latest", std::process::id());

    set_version(dir.path(), "v1", false);
    build(dir.path(), &image, &[]);
    assert_eq!(run_output(&image), "v1");

    // Killed while a buildpack runs: the container is left behind, sleeping.
    set_version(dir.path(), "v2", true);
    build_killed_at(dir.path(), &image, "sleeping in build");
    assert_eq!(
        run_output(&image),
        "v1",
        "the previous image must still run after a kill"
    );

    // The next build removes the leftover container and succeeds.
    set_version(dir.path(), "v2", false);
    let out = build(dir.path(), &image, &[]);
    assert!(out.contains("left by an interrupted build"), "{out}");
    assert_eq!(run_output(&image), "v2");

    // Killed while exporting: the image is replaced only by a finished build.
    set_version(dir.path(), "v3", false);
    build_killed_at(dir.path(), &image, "===> EXPORTING");
    assert_eq!(run_output(&image), "v2");
    build(dir.path(), &image, &[]);
    assert_eq!(run_output(&image), "v3");
}
