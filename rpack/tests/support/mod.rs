//! Helpers shared by the integration tests: a shell buildpack fixture for builds on the tiny stack and running
//! rpack. (The loopback registry the push and pull tests use is libbuildpack-test's `Registry`.)
#![allow(dead_code, clippy::unwrap_used, clippy::panic)] // each test crate uses part of it; failed steps stop the test

use std::path::Path;
use std::process::Command;

pub mod platforms;
pub mod private;
pub mod scratch;

/// The `rpack` binary under test.
pub fn rpack() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rpack"))
}

/// Runs `cmd` (rpack, with `args` not yet added), asserts it succeeded and returns (stdout, stderr).
#[track_caller]
pub fn assert_ok(mut cmd: Command, args: &[&str]) -> (String, String) {
    let out = cmd.args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "rpack {} failed:\n{stderr}",
        args.join(" ")
    );
    (stdout, stderr)
}

/// Runs `cmd` (rpack, with `args` not yet added), asserts it failed and returns its stderr.
#[track_caller]
pub fn assert_fails(mut cmd: Command, args: &[&str]) -> String {
    let out = cmd.args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "rpack {} should have failed:\n{stderr}",
        args.join(" ")
    );
    stderr
}

/// rpack with `RPACK_HOME=home` when given.
fn rpack_in(home: Option<&Path>) -> Command {
    let mut cmd = rpack();
    if let Some(home) = home {
        cmd.env("RPACK_HOME", home);
    }
    cmd
}

/// Runs rpack with `args` (with `RPACK_HOME=home` when given), asserts it succeeded and returns (stdout, stderr).
#[track_caller]
pub fn rpack_home_ok(home: Option<&Path>, args: &[&str]) -> (String, String) {
    assert_ok(rpack_in(home), args)
}

/// Runs rpack with `args` (with `RPACK_HOME=home` when given), asserts it failed and returns its stderr.
#[track_caller]
pub fn rpack_home_fails(home: Option<&Path>, args: &[&str]) -> String {
    assert_fails(rpack_in(home), args)
}

/// [`rpack_home_ok`] with the store from the environment.
#[track_caller]
pub fn rpack_ok(args: &[&str]) -> (String, String) {
    rpack_home_ok(None, args)
}

/// [`rpack_home_fails`] with the store from the environment.
#[track_caller]
pub fn rpack_fails(args: &[&str]) -> String {
    rpack_home_fails(None, args)
}

/// Writes `text` to `path`, creating parent dirs.
pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Writes `text` to `path` as an executable script (mode 755), creating parent dirs.
pub fn write_executable(path: &Path, text: &str) {
    write(path, text);
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

const BUILDPACK_TOML: &str = "api = \"0.10\"\n[buildpack]\nid = \"rebase/probe\"\nversion = \"0.0.1\"\n\
     sbom-formats = [\"application/vnd.cyclonedx+json\"]\n";

/// The build writes a launch layer with an SBOM, a launch SBOM, and a process that shows whether the run image
/// has rpack's test patch.
const BUILD: &str = r#"#!/bin/sh
set -eu
layer="$CNB_LAYERS_DIR/greeting"
mkdir -p "$layer"
cat version.txt > "$layer/version"
printf '[types]\nlaunch = true\n' > "$layer.toml"
printf '{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"components":[{"type":"library","name":"greeting"}]}' > "$layer.sbom.cdx.json"
printf '{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"components":[]}' > "$CNB_LAYERS_DIR/launch.sbom.cdx.json"
cat > "$CNB_LAYERS_DIR/launch.toml" <<'TOML'
[[processes]]
type = "web"
command = ["sh", "-c", "cat /etc/rpack-patch 2>/dev/null || echo unpatched; cat /layers/rebase_probe/greeting/version"]
default = true
TOML
"#;

/// The builder.toml of a builder (tiny stack) with the one buildpack `id` at `bp`.
pub fn builder_toml(id: &str) -> String {
    libbuildpack::data::BuilderToml::on_stack(
        "localhost/rpack/tiny-build:latest",
        "localhost/rpack/tiny-run:latest",
    )
    .with_buildpack("bp", id.parse().unwrap(), None)
    .to_toml_string()
    .unwrap()
}

/// Writes a shell buildpack `id` (`dir/bp`: `buildpack_toml`, a detect that passes and `build`) and the
/// builder.toml of a tiny-stack builder with it (`dir/builder.toml`).
pub fn shell_buildpack(dir: &Path, id: &str, buildpack_toml: &str, build: &str) {
    write(&dir.join("bp/buildpack.toml"), buildpack_toml);
    write_executable(&dir.join("bp/bin/detect"), "#!/bin/sh\nexit 0\n");
    write_executable(&dir.join("bp/bin/build"), build);
    write(&dir.join("builder.toml"), &builder_toml(id));
}

/// Writes the fixture buildpack (`dir/bp`), builder.toml (`dir/builder.toml`) and app (`dir/app`).
pub fn fixture(dir: &Path, version: &str) {
    shell_buildpack(dir, "rebase/probe", BUILDPACK_TOML, BUILD);
    write(&dir.join("app/version.txt"), version);
}

/// The arguments of `rpack build IMAGE` of the app `dir/app` with the builder `dir/builder.toml`.
pub fn build_args(dir: &Path, image: &str) -> Vec<String> {
    let app = dir.join("app").display().to_string();
    let builder = dir.join("builder.toml").display().to_string();
    ["build", image, "--path", &app, "--builder", &builder]
        .map(str::to_owned)
        .to_vec()
}

/// `rpack build IMAGE` of the fixture app with the fixture builder; returns stderr.
pub fn build(dir: &Path, image: &str, extra: &[&str]) -> String {
    let mut args = build_args(dir, image);
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    rpack_ok(&args.iter().map(String::as_str).collect::<Vec<_>>()).1
}

/// What `rpack run IMAGE` prints.
pub fn run_output(image: &str) -> String {
    rpack_ok(&["run", image]).0.trim().to_owned()
}
