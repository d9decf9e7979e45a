#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! Faults around builds, pushes and pulls (issue 13): builds racing `rpack prune`, a disk that fills up during
//! the export, a registry connection dropped mid-push and mid-pull. For each: nothing is lost, the previous image still runs,
//! the next command succeeds, and no temp files are left in the store. Real builds on the tiny stack with a
//! shell buildpack, each test in a private store seeded from `RPACK_HOME` (see `support::private`).

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use libbuildpack_test::Registry;
use support::private::{PrivateStore, Sleep, probe_app, probe_buildpack};

/// `rpack build IMAGE --path APP --builder BUILDER`.
fn build_cmd(store: &PrivateStore, image: &str, app: &Path, builder: &Path) -> Command {
    let mut cmd = store.rpack();
    cmd.arg("build")
        .arg(image)
        .arg("--path")
        .arg(app)
        .arg("--builder")
        .arg(builder);
    cmd
}

/// Writes an app with `version` at `dir/<version>/app` and returns that app dir.
fn app_dir(dir: &Path, version: &str) -> PathBuf {
    let root = dir.join(version);
    probe_app(&root, version, 0, Sleep::No);
    root.join("app")
}

#[test]
fn builds_of_the_same_image_and_of_another_while_prune_runs_in_a_loop() {
    let store = Arc::new(PrivateStore::new("tiny"));
    let dir = tempfile::tempdir().unwrap();
    probe_buildpack(dir.path());
    let builder = dir.path().join("builder.toml");
    let a = "localhost/faults-test/race-a:latest";
    let b = "localhost/faults-test/race-b:latest";

    let stop = Arc::new(AtomicBool::new(false));
    let prunes = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        thread::spawn(move || {
            let mut runs = 0;
            while !stop.load(Ordering::SeqCst) {
                store.ok(&["prune"]);
                runs += 1;
                // Not a timing: a pause so the loop does not take a core from the builds.
                thread::sleep(std::time::Duration::from_millis(20));
            }
            runs
        })
    };

    // Two rounds: the first builds from nothing, the second from the previous images and build caches, which
    // prune must not take away. Each round builds `a` twice at once (one waits for the other) and `b`.
    for round in 0..2 {
        let started = Instant::now();
        let jobs: Vec<_> = [(a, "a1"), (a, "a2"), (b, "b1")]
            .into_iter()
            .map(|(image, version)| {
                let version = format!("{version}-r{round}");
                let app = app_dir(dir.path(), &version);
                let cmd = build_cmd(&store, image, &app, &builder);
                thread::spawn(move || {
                    let mut cmd = cmd;
                    let out = cmd.output().unwrap();
                    assert!(
                        out.status.success(),
                        "build of {image} ({version}) failed:\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    (image, version, Instant::now())
                })
            })
            .collect();
        let mut done: Vec<_> = jobs.into_iter().map(|j| j.join().unwrap()).collect();
        eprintln!("round {round}: 3 builds in {:.1?}", started.elapsed());
        // The build of an image that finished last is the one the image holds.
        done.sort_by_key(|(_, _, finished)| *finished);
        for image in [a, b] {
            let (_, last, _) = done.iter().rev().find(|(i, _, _)| *i == image).unwrap();
            assert_eq!(
                &store.run_output(image),
                last,
                "{image} after round {round}"
            );
        }
    }
    stop.store(true, Ordering::SeqCst);
    let runs = prunes.join().unwrap();
    eprintln!("prune ran {runs} times during the builds");
    assert!(runs > 1, "prune should have run during the builds");

    // After a last prune with no build running, everything still builds, runs and is whole.
    store.ok(&["prune"]);
    store.assert_no_leftovers("after the builds and prunes");
    let (images, _) = store.ok(&["images"]);
    for name in [a, b, "localhost/rpack/tiny-run:latest"] {
        assert!(images.contains(name), "{name} missing:\n{images}");
    }
    let app = app_dir(dir.path(), "a-final");
    let out = build_cmd(&store, a, &app, &builder).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("cache had a"),
        "the build cache should have survived:\n{stderr}"
    );
    assert_eq!(store.run_output(a), "a-final");
    store.assert_no_leftovers("after the last build");

    // A command killed between the two renames that replace an image leaves it at `<image>.old-<pid>`;
    // prune (or the next build of it) puts it back rather than deleting it as stale.
    let layout = store
        .home()
        .join("images/localhost/faults-test/race-b/latest");
    let aside = layout.with_file_name("latest.old-4242");
    std::fs::rename(&layout, &aside).unwrap();
    store.fails(&["run", b]);
    store.ok(&["prune"]);
    assert!(!aside.exists());
    assert_eq!(store.run_output(b), "b1-r1");
    std::fs::rename(&layout, &aside).unwrap();
    let app = app_dir(dir.path(), "b-final");
    let out = build_cmd(&store, b, &app, &builder).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("restored localhost/faults-test/race-b:latest"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Reusing layers from image"),
        "the previous image was not used:\n{stderr}"
    );
    assert_eq!(store.run_output(b), "b-final");
}

/// A tmpfs mounted at a temp dir; unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size_mib: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a tmpfs failed (the test needs root with CAP_SYS_ADMIN, as rootful podman does): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Bytes in use.
    fn used(&self) -> u64 {
        let out = Command::new("df")
            .args(["-B1", "--output=used"])
            .arg(self.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    fn resize(&self, size_mib: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size_mib}m")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            let _ = Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }
}

#[test]
fn a_disk_that_fills_up_during_the_export_loses_nothing() {
    // The whole store on a small file system: stack images, builder, images, build cache and scratch space.
    let disk = Tmpfs::mount(400);
    let store = PrivateStore::at(disk.path(), "tiny");
    let dir = tempfile::tempdir().unwrap();
    probe_buildpack(dir.path());
    let image = "localhost/faults-test/disk-full:latest";
    probe_app(dir.path(), "v1", 0, Sleep::No);
    store.build(dir.path(), image);
    assert_eq!(store.run_output(image), "v1");

    // 60 MiB free: room for the build's 40 MB layer, not for the export's compressed copy of it as well.
    let size = disk.used().div_ceil(1 << 20) + 60;
    disk.resize(size);
    probe_app(dir.path(), "v2", 40, Sleep::No);
    let args = support::build_args(dir.path(), image);
    let err = store.fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    eprintln!(
        "disk full: rpack said {:?}",
        err.lines().find(|l| l.starts_with("error:"))
    );
    assert!(err.contains("failed in the exporting phase"), "{err}");
    assert!(err.contains("no space left on device"), "{err}");
    assert!(
        err.contains("hint: the disk that holds rpack's store"),
        "{err}"
    );
    store.assert_no_leftovers("by the build that ran out of space");
    assert_eq!(store.run_output(image), "v1");

    // With the failed build's scratch space freed, the next build fits on the same disk and finds the cache.
    probe_app(dir.path(), "v3", 0, Sleep::No);
    let out = store.build(dir.path(), image);
    assert!(out.contains("cache had v1"), "{out}");
    assert_eq!(store.run_output(image), "v3");
    store.assert_no_leftovers("after the next build");
    drop(store);
}

/// A TCP proxy on 127.0.0.1 that forwards to `upstream` and, when armed, cuts every connection once `limit`
/// bytes went one way on it (the client's upload in a push, the registry's answer in a pull).
struct CuttingProxy {
    port: u16,
    limit: Arc<AtomicU64>,
    cuts: Arc<AtomicUsize>,
}

impl CuttingProxy {
    fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let limit = Arc::new(AtomicU64::new(0));
        let cuts = Arc::new(AtomicUsize::new(0));
        let (conn_limit, conn_cuts) = (Arc::clone(&limit), Arc::clone(&cuts));
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let limit = conn_limit.load(Ordering::SeqCst);
                let (up, down) = (Arc::clone(&conn_cuts), Arc::clone(&conn_cuts));
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                thread::spawn(move || pump(client, server, limit, &up));
                thread::spawn(move || pump(s2, c2, limit, &down));
            }
        });
        Self { port, limit, cuts }
    }

    /// Cut connections after `bytes` from the client (0: never).
    fn cut_after(&self, bytes: u64) {
        self.limit.store(bytes, Ordering::SeqCst);
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// Copies `from` to `to`; with a `limit`, drops both connections once more than `limit` bytes came.
fn pump(mut from: TcpStream, mut to: TcpStream, limit: u64, cuts: &AtomicUsize) {
    let mut buf = [0; 16 * 1024];
    let mut sent = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if limit > 0 && sent + n as u64 > limit {
            let keep = usize::try_from(limit - sent).unwrap();
            let _ = to.write_all(&buf[..keep]);
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            cuts.fetch_add(1, Ordering::SeqCst);
            return;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n as u64;
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[test]
fn a_registry_connection_dropped_mid_push_or_mid_pull_loses_nothing() {
    let registry = Registry::start().unwrap();
    let proxy = CuttingProxy::start(registry.host());
    let store = PrivateStore::new("tiny");
    let dir = tempfile::tempdir().unwrap();
    probe_buildpack(dir.path());
    let image = "localhost/faults-test/push:latest";
    let remote = format!("{}/faults-test/push:latest", proxy.host());
    let direct = format!("{}/faults-test/push:latest", registry.host());
    let pulled = "localhost/faults-test/pulled:latest";

    probe_app(dir.path(), "v1", 0, Sleep::No);
    store.build(dir.path(), image);
    store.ok(&["push", image, "--to", &remote]);

    // v2 has a 4 MB layer the registry lacks; every connection is cut after 256 KiB from rpack.
    probe_app(dir.path(), "v2", 4, Sleep::No);
    store.build(dir.path(), image);
    proxy.cut_after(256 * 1024);
    let started = Instant::now();
    let err = store.fails(&["push", image, "--to", &remote]);
    eprintln!(
        "push cut after 256 KiB: failed in {:.1?}, rpack said {:?}",
        started.elapsed(),
        err.lines().find(|l| l.starts_with("error:"))
    );
    assert!(
        proxy.cuts.load(Ordering::SeqCst) > 0,
        "no connection was cut:\n{err}"
    );
    assert!(err.contains("connection to the registry broke"), "{err}");
    store.assert_no_leftovers("by the push that was cut");
    // The local image is whole, and the registry still serves the previous push.
    assert_eq!(store.run_output(image), "v2");
    store.ok(&["pull", &direct, "--as", pulled]);
    assert_eq!(store.run_output(pulled), "v1");

    // The next push through the same (now healthy) proxy succeeds.
    proxy.cut_after(0);
    store.ok(&["push", image, "--to", &remote]);

    // A pull cut mid-blob leaves the stored image as it was; the next pull gets the whole image.
    proxy.cut_after(256 * 1024);
    let cuts = proxy.cuts.load(Ordering::SeqCst);
    let err = store.fails(&["pull", &remote, "--as", pulled]);
    eprintln!(
        "pull cut after 256 KiB: rpack said {:?}",
        err.lines().find(|l| l.starts_with("error:"))
    );
    assert!(
        proxy.cuts.load(Ordering::SeqCst) > cuts,
        "no connection was cut:\n{err}"
    );
    assert!(err.contains("connection to the registry broke"), "{err}");
    store.assert_no_leftovers("by the pull that was cut");
    assert_eq!(store.run_output(pulled), "v1");
    proxy.cut_after(0);
    store.ok(&["pull", &remote, "--as", pulled]);
    assert_eq!(store.run_output(pulled), "v2");
    store.assert_no_leftovers("after the next push and pull");
}

/// A builder `rpack build --builder builder.toml` made for a file that is gone (a temp dir, a deleted checkout)
/// is removed by `rpack prune`; one whose builder.toml is still there stays, and so does its app image.
#[test]
fn prune_removes_the_builders_of_deleted_builder_toml_files() {
    let store = PrivateStore::new("tiny");
    let kept = tempfile::tempdir().unwrap();
    let gone = tempfile::tempdir().unwrap();
    for dir in [kept.path(), gone.path()] {
        probe_buildpack(dir);
    }
    let builder_of = |dir: &Path| {
        rpack::build::platform::builder_ref_for_config(&dir.join("builder.toml")).to_string()
    };
    let (kept_builder, gone_builder) = (builder_of(kept.path()), builder_of(gone.path()));
    let image = "localhost/faults-test/orphan:latest";
    for dir in [kept.path(), gone.path()] {
        let app = app_dir(dir, "v1");
        support::assert_ok(
            build_cmd(&store, image, &app, &dir.join("builder.toml")),
            &[],
        );
    }
    let (images, _) = store.ok(&["images"]);
    for name in [&kept_builder, &gone_builder] {
        assert!(images.contains(name.as_str()), "{name}:\n{images}");
    }

    drop(gone);
    let (pruned, _) = store.ok(&["prune"]);
    assert!(
        pruned.contains(" 1 builders of deleted builder.toml files"),
        "{pruned}"
    );
    let (images, _) = store.ok(&["images"]);
    assert!(!images.contains(gone_builder.as_str()), "{images}");
    assert!(images.contains(kept_builder.as_str()), "{images}");
    assert_eq!(store.run_output(image), "v1", "the app built with it stays");
    let (again, _) = store.ok(&["prune"]);
    assert!(again.contains(" 0 builders"), "{again}");
}
