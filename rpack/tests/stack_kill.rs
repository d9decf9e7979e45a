#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! Killing `rpack stack create` while mmdebstrap has `/proc`, `/sys` and `/dev` files mounted into its temp root
//! (root mode, the host's architecture) leaves no mount behind, and the next command that makes a scratch dir
//! (or `rpack prune`) removes the temp root (issue 17: emulated stacks took long enough to be killed, and each kill left mounts
//! and a tree under /tmp). A private store; the run is killed as soon as mmdebstrap starts installing.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::scratch::Scratch as Env;

/// The mount points (field 5 of /proc/self/mountinfo, with `\040` for spaces) under `dir`.
fn mounts_under(dir: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| p.replace("\\040", " "))
        .filter(|p| p.starts_with(dir))
        .collect()
}

#[test]
fn a_killed_stack_create_leaves_no_mounts_and_the_next_command_removes_its_temp_root() {
    let started = Instant::now();
    let env = Env::new();
    let mut cmd = env.command(&["stack", "create", "--name", "tiny"]);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let group = child.id();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut tempdir = None;
    let mut installing = false;
    for line in lines {
        let line = line.unwrap();
        if let Some(dir) = line
            .trim()
            .strip_prefix("I: using ")
            .and_then(|l| l.strip_suffix(" as tempdir"))
        {
            tempdir = Some(dir.to_owned());
        }
        // mmdebstrap mounts before it installs the essential packages.
        if line.contains("I: installing essential packages") {
            installing = true;
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "mmdebstrap did not start installing within 10 minutes"
        );
    }
    assert!(
        installing,
        "rpack stack create ended before mmdebstrap installed anything"
    );
    let tempdir = tempdir.expect("mmdebstrap names its temp dir");
    assert!(
        tempdir.starts_with(env.path("home").to_str().unwrap()),
        "mmdebstrap's temp root {tempdir} is in the store's scratch dir"
    );
    // The whole group, as a terminal's Ctrl-\ or a CI timeout kills it: rpack, mmdebstrap, dpkg.
    let killed = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    // The namespace's last process may take a moment to be reaped.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !mounts_under(&tempdir).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        mounts_under(&tempdir),
        Vec::<String>::new(),
        "mounts left under {tempdir}"
    );

    // The next command that makes a scratch dir (or `rpack prune`) sweeps the killed one's.
    env.ok(&["prune"]);
    assert!(
        !std::path::Path::new(&tempdir).exists(),
        "{tempdir} is still there after the next command"
    );
    eprintln!("killed stack create and sweep: {:?}", started.elapsed());
}
