#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! Killing `rpack build`, or its build container, at each lifecycle phase leaves the previous image runnable and
//! the build cache usable, the next build succeeds, and no temp files are left in the store (issue 13: crash
//! safety). Real builds on the tiny stack with a shell buildpack, each test in a private store seeded from
//! `RPACK_HOME` (see `support::private`), so it can tell exactly what a killed command left behind.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Instant;

use support::build_args;
use support::private::{PrivateStore, Sleep, probe_app, probe_buildpack, slow_restores};

/// The phases the creator announces (`===> ANALYZING` ...), in order.
const PHASES: [&str; 5] = [
    "ANALYZING",
    "DETECTING",
    "RESTORING",
    "BUILDING",
    "EXPORTING",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// SIGKILL of rpack (the build container is left running).
    KillRpack,
    /// `podman kill --signal KILL` of the build container.
    PodmanKill,
    /// `podman rm --force` of the build container.
    PodmanRm,
    /// SIGKILL of the build container's process (the lifecycle's creator, its init) from the host, as the
    /// kernel's OOM killer or `kill -9` does: it lands at once, where a podman call takes longer than the
    /// analyzing and restoring phases last.
    KillProcess,
}

/// The host pid of the creator building `image` (its last argument), found in `/proc`.
fn creator_pid(image: &str) -> Option<String> {
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let entry = entry.ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .collect();
        (args.first() == Some(&&b"/cnb/lifecycle/creator"[..])
            && args.last() == Some(&image.as_bytes()))
        .then(|| entry.file_name().to_string_lossy().into_owned())
    })
}

/// Starts `rpack build` and applies `fault` as soon as rpack prints `===> {phase}`. Returns what rpack printed
/// and, unless rpack itself was killed, how it exited.
fn interrupted_build(
    store: &PrivateStore,
    dir: &Path,
    image: &str,
    phase: &str,
    fault: Fault,
) -> (String, Option<ExitStatus>) {
    let mut child = store
        .rpack()
        .args(build_args(dir, image))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let marker = format!("===> {phase}");
    let mut seen = String::new();
    let mut fired = false;
    let mut container = None;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        // The container is looked up at the first phase, so the fault itself is one podman call.
        if matches!(fault, Fault::PodmanKill | Fault::PodmanRm)
            && container.is_none()
            && line.contains("===> ")
        {
            let ids = store.build_containers(image);
            assert_eq!(ids.len(), 1, "one build container of {image}: {ids:?}");
            container = ids.into_iter().next();
        }
        if fired || !line.contains(&marker) {
            continue;
        }
        fired = true;
        if fault == Fault::KillRpack {
            child.kill().unwrap();
            child.wait().unwrap();
            return (seen, None);
        }
        if fault == Fault::KillProcess {
            let pid = creator_pid(image)
                .unwrap_or_else(|| panic!("no creator process building {image} in /proc"));
            let status = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .unwrap();
            assert!(status.success(), "kill -KILL {pid} failed");
            continue;
        }
        // The phases are fast (analyzing takes milliseconds): the creator is stopped first, at once, so
        // the podman call, which takes a tenth of a second to start, lands in the phase it aims at.
        if let Some(pid) = creator_pid(image) {
            let _ = std::process::Command::new("kill")
                .args(["-STOP", &pid])
                .status();
        }
        let args: &[&str] = if fault == Fault::PodmanKill {
            &["kill", "--signal", "KILL"]
        } else {
            &["rm", "--force", "--time", "0"]
        };
        let id = container.as_deref().unwrap();
        let out = store.podman().args(args).arg(id).output().unwrap();
        assert!(
            out.status.success(),
            "podman {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let status = child.wait().unwrap();
    assert!(fired, "the build ended before printing {marker:?}:\n{seen}");
    (seen, Some(status))
}

/// Applies `fault` at each phase in turn: after each, the previous image runs, and the next build succeeds
/// (finding the build cache), leaves no build container and no temp files, and its image runs. A fault on the
/// container lands in the phase it is aimed at: the analyzing and restoring phases get a previous image and a
/// cache that take a while to restore (see [`slow_restores`]) and the container's process is killed directly.
fn fault_at_every_phase(fault: Fault, name: &str) {
    let store = PrivateStore::new("tiny");
    let dir = tempfile::tempdir().unwrap();
    probe_buildpack(dir.path());
    // The process id keeps the creator's arguments apart from those of another run of this test.
    let image = format!("localhost/faults-test/{name}-{}:latest", std::process::id());
    let on_container = fault != Fault::KillRpack;
    let short = |phase: &str| matches!(phase, "ANALYZING" | "RESTORING");

    probe_app(dir.path(), "v1", 0, Sleep::No);
    slow_restores(dir.path(), on_container && short(PHASES[0]));
    store.build(dir.path(), &image);
    assert_eq!(store.run_output(&image), "v1");

    let mut current = "v1".to_owned();
    for (i, phase) in PHASES.iter().enumerate() {
        let next = format!("v{}", i + 2);
        let exporting = *phase == "EXPORTING";
        let fault = if on_container && short(phase) {
            Fault::KillProcess
        } else {
            fault
        };
        slow_restores(dir.path(), false);
        // The build sleeps in detect for DETECTING, else in its build phase until the export, so a fault aimed
        // at a phase lands before the build could finish even if it came late; a 100 MB layer makes the export
        // take seconds, more than podman needs to kill the container.
        let big = if exporting && fault != Fault::KillRpack {
            100
        } else {
            0
        };
        let sleep = match *phase {
            "DETECTING" => Sleep::Detect,
            "EXPORTING" => Sleep::No,
            _ => Sleep::Build,
        };
        probe_app(dir.path(), &next, big, sleep);
        let started = Instant::now();
        let (out, status) = interrupted_build(&store, dir.path(), &image, phase, fault);
        if let Some(status) = status {
            assert!(
                !status.success(),
                "the build passed although its container was stopped at {phase}:\n{out}"
            );
            let error = out
                .lines()
                .find(|l| l.contains("error:"))
                .unwrap_or_default();
            assert!(
                error.contains(&format!(
                    "build container was killed in the {} phase",
                    phase.to_lowercase()
                )),
                "rpack should say the container was killed in the {phase} phase:\n{out}"
            );
            eprintln!(
                "{fault:?} at {phase}: rpack said {error:?} ({:.1?})",
                started.elapsed()
            );
            // rpack outlived the container, so it cleaned up itself.
            store.assert_no_leftovers(&format!("by rpack after {fault:?} at {phase}"));
        } else {
            eprintln!("{fault:?} at {phase} ({:.1?})", started.elapsed());
        }
        assert_eq!(
            store.run_output(&image),
            current,
            "after {fault:?} at {phase}, the previous image must still run"
        );

        probe_app(dir.path(), &next, 0, Sleep::No);
        slow_restores(
            dir.path(),
            on_container && PHASES.get(i + 1).is_some_and(|p| short(p)),
        );
        let out = store.build(dir.path(), &image);
        assert!(
            out.contains("cache had v"),
            "after {fault:?} at {phase}, the next build must find the build cache:\n{out}"
        );
        if out.contains("left by an interrupted build") {
            eprintln!("  the next build removed the container {fault:?} at {phase} left");
        }
        assert_eq!(store.build_containers(&image), Vec::<String>::new());
        store.assert_no_leftovers(&format!("after {fault:?} at {phase} and the next build"));
        assert_eq!(store.run_output(&image), next);
        current = next;
    }
}

#[test]
fn killing_rpack_at_any_phase_loses_nothing_and_the_next_build_cleans_up() {
    fault_at_every_phase(Fault::KillRpack, "kill-rpack");
}

#[test]
fn killing_the_build_container_at_any_phase_fails_the_build_and_loses_nothing() {
    fault_at_every_phase(Fault::PodmanKill, "kill-container");
}

#[test]
fn removing_the_build_container_while_it_builds_fails_the_build_and_loses_nothing() {
    let store = PrivateStore::new("tiny");
    let dir = tempfile::tempdir().unwrap();
    probe_buildpack(dir.path());
    let image = "localhost/faults-test/rm-container:latest";
    probe_app(dir.path(), "v1", 0, Sleep::No);
    store.build(dir.path(), image);

    probe_app(dir.path(), "v2", 0, Sleep::Build);
    let (out, status) = interrupted_build(&store, dir.path(), image, "BUILDING", Fault::PodmanRm);
    assert!(!status.unwrap().success(), "{out}");
    assert!(out.contains("build container was killed"), "{out}");
    store.assert_no_leftovers("by rpack after its container was removed");
    assert_eq!(store.run_output(image), "v1");

    probe_app(dir.path(), "v2", 0, Sleep::No);
    let out = store.build(dir.path(), image);
    assert!(out.contains("cache had v1"), "{out}");
    store.assert_no_leftovers("after the next build");
    assert_eq!(store.run_output(image), "v2");
}
