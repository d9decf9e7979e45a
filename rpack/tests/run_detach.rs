//! `rpack run --detach` starts a container that outlives rpack, prints its name, and `rpack stop` removes it.
//! Needs podman and the `tiny` stack in rpack's store (`RPACK_HOME`), as the builds do.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::process::{Command, Output};

use rpack::store::Store;

fn rpack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rpack"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = rpack(args);
    assert!(
        out.status.success(),
        "rpack {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_detached_app_keeps_running_until_rpack_stop() {
    let store = Store::from_env().unwrap();
    let name = ok(&[
        "run",
        "--detach",
        "localhost/rpack/tiny-run:latest",
        "--",
        "sleep",
        "300",
    ])
    .trim()
    .to_owned();
    assert!(name.starts_with("rpack-tiny-run-"), "{name}");
    assert!(rpack::build::run::detached(&store).unwrap().contains(&name));

    let refused = rpack(&["stop", "not-an-rpack-container"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("is not a container `rpack run --detach` started"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    assert_eq!(ok(&["stop", &name]), format!("removed {name}\n"));
    assert!(!rpack::build::run::detached(&store).unwrap().contains(&name));
}
