//! The scaffold is a working start: a crate made by `rpack buildpack new` passes its own `cargo test`, whose
//! integration test builds the fixture app with the real lifecycle and serves it.

#![allow(clippy::unwrap_used)] // test helpers: a failed step should stop the test with its message

use std::process::Command;

#[test]
fn a_new_buildpack_crate_passes_its_own_tests_with_a_real_build() {
    let dir = tempfile::tempdir().unwrap();
    let new = Command::new(env!("CARGO_BIN_EXE_rpack"))
        .args(["buildpack", "new", "greeter", "--id", "acme/greeter"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );

    // The crate's own tests, as its author would run them; the target dir and rpack's store come from the
    // environment, so compiled dependencies, stacks and the lifecycle are shared with this test run.
    let test = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .arg("test")
        .current_dir(dir.path().join("greeter"))
        .output()
        .unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(
        test.status.success(),
        "cargo test of the new crate failed:\n{output}"
    );
    assert!(
        output.contains("test fixture_app_is_served ... ok"),
        "{output}"
    );
}
