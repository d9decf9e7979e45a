//! A scratch dir with its own `RPACK_HOME` and `TMPDIR`, and the `rpack` binary run in it: the CLI tests that
//! need no podman and no lifecycle.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The CLI fixtures (`rpack/tests/fixtures`).
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// How long one command may take before the test calls it hung (each finishes in well under a second).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The fixture `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// A temp dir that is the working dir of every command, with the store at `home/` and temp files in `systmp/`.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A new, empty one.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// `rel` inside it.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `rpack ARGS` in it, output captured; `SOURCE_DATE_EPOCH` is not inherited.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = super::rpack();
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("RPACK_HOME", self.path("home"))
            .env("TMPDIR", self.path("systmp"))
            .env_remove("SOURCE_DATE_EPOCH")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        fs_err::create_dir_all(self.path("systmp")).unwrap();
        cmd
    }

    /// Runs rpack with `env` added, failing the test when it runs longer than a minute (it is killed then).
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_within(args, env, TIMEOUT)
    }

    /// [`Scratch::run_env`] with another time limit.
    pub fn run_within(&self, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
        let mut cmd = self.command(args);
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > limit {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("rpack {args:?} still ran after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    /// Runs rpack (see [`Scratch::run_env`]).
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// Runs rpack, asserts it succeeded and returns its stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rpack {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs rpack, asserts it succeeded and returns what it printed on stderr (warnings, progress).
    #[track_caller]
    pub fn ok_stderr(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "rpack {args:?} failed:\n{stderr}");
        stderr
    }

    /// Runs rpack, asserts it failed and returns its stderr.
    #[track_caller]
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "rpack {args:?} should fail:\n{stderr}"
        );
        stderr
    }

    /// Packages the fixture `name` to `out` (in the scratch dir); returns its path.
    pub fn package(&self, name: &str, out: &str) -> PathBuf {
        let path = fixture(name);
        self.ok(&[
            "buildpack",
            "package",
            "--path",
            path.to_str().unwrap(),
            "-o",
            out,
        ]);
        self.path(out)
    }
}
