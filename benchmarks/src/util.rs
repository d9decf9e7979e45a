//! Running commands, timing them, and the settings every section shares.

use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libbuildpack::data::{BuilderLifecycle, BuilderToml};

/// Errors are reported in the document, in place of the section that failed.
pub type Res<T> = Result<T, Box<dyn Error>>;

/// Paths and tools shared by the sections.
pub struct Ctx {
    /// The repository root.
    pub root: PathBuf,
    /// Cargo's target dir (`CARGO_TARGET_DIR`, set by scripts/env).
    pub target_dir: PathBuf,
    /// rpack's store (`RPACK_HOME`).
    pub rpack_home: PathBuf,
    /// The rpack binary.
    pub rpack: PathBuf,
    /// Scratch space, removed at the end.
    pub scratch: tempfile::TempDir,
    /// Where each command's output goes, numbered.
    pub logs: PathBuf,
    /// The pack binary, when there is one.
    pub pack: Option<PathBuf>,
    /// Whether to print each command.
    pub verbose: bool,
}

impl Ctx {
    /// A fresh scratch dir under the scratch space.
    pub fn dir(&self, name: &str) -> Res<PathBuf> {
        let dir = self.scratch.path().join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// A `podman` command with rpack's settings.
    pub fn podman(&self) -> Command {
        let mut cmd = Command::new("podman");
        cmd.env(
            "CONTAINERS_CONF",
            self.rpack_home.join("podman/containers.conf"),
        )
        .args(["--runtime", "runc", "--cgroup-manager", "cgroupfs"]);
        cmd
    }

    /// An `rpack` command.
    pub fn rpack(&self) -> Command {
        let mut cmd = Command::new(&self.rpack);
        cmd.env("RPACK_HOME", &self.rpack_home);
        cmd
    }

    /// Runs `cmd` to completion, its output into a log file; fails with the log's tail when it fails.
    pub fn run(&self, cmd: &mut Command) -> Res<Duration> {
        let n = fs::read_dir(&self.logs)?.count();
        let log_path = self.logs.join(format!("{n:04}.log"));
        let shown = show(cmd);
        if self.verbose {
            eprintln!("  $ {shown}");
        }
        fs::write(&log_path, format!("$ {shown}\n"))?;
        let log = fs::OpenOptions::new().append(true).open(&log_path)?;
        let started = Instant::now();
        let status = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()
            .map_err(|e| format!("{shown}: {e}"))?;
        let elapsed = started.elapsed();
        if !status.success() {
            let text = fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            let mut msg = format!("`{shown}` failed ({status}); log {}:\n", log_path.display());
            for line in tail.iter().rev() {
                let _ = writeln!(msg, "    {line}");
            }
            return Err(msg.into());
        }
        Ok(elapsed)
    }

    /// Runs `cmd` like [`run`](Self::run), and also returns each line of its output (stdout and stderr) with
    /// the seconds since the start at which it arrived: the phase breakdowns come from these.
    pub fn run_lines(&self, cmd: &mut Command) -> Res<(Duration, Vec<(f64, String)>)> {
        let n = fs::read_dir(&self.logs)?.count();
        let log_path = self.logs.join(format!("{n:04}.log"));
        let shown = show(cmd);
        if self.verbose {
            eprintln!("  $ {shown}");
        }
        let started = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{shown}: {e}"))?;
        let (send, receive) = std::sync::mpsc::channel();
        let readers: Vec<_> = [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|stream| {
            let send = send.clone();
            std::thread::spawn(move || {
                for line in
                    std::io::BufRead::lines(std::io::BufReader::new(stream)).map_while(Result::ok)
                {
                    let _ = send.send((started.elapsed().as_secs_f64(), line));
                }
            })
        })
        .collect();
        drop(send);
        let mut lines: Vec<(f64, String)> = receive.iter().collect();
        for reader in readers {
            let _ = reader.join();
        }
        let status = child.wait()?;
        let elapsed = started.elapsed();
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut text = format!("$ {shown}\n");
        for (at, line) in &lines {
            let _ = writeln!(text, "{at:8.3} {line}");
        }
        fs::write(&log_path, &text)?;
        if !status.success() {
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            let mut msg = format!("`{shown}` failed ({status}); log {}:\n", log_path.display());
            for line in tail.iter().rev() {
                let _ = writeln!(msg, "    {line}");
            }
            return Err(msg.into());
        }
        Ok((elapsed, lines))
    }

    /// Runs `cmd` and returns its stdout.
    #[allow(clippy::unused_self, reason = "a method like run, for the callers")]
    pub fn output(&self, cmd: &mut Command) -> Res<String> {
        let shown = show(cmd);
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{shown}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`{shown}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// A command as one line, for logs and the document.
pub fn show(cmd: &Command) -> String {
    // Programs by name: `rpack`, not the target dir's path to it.
    let program = Path::new(cmd.get_program());
    let mut s = program
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy()
        .into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.contains(' ') || arg.is_empty() {
            let _ = write!(s, " '{arg}'");
        } else {
            let _ = write!(s, " {arg}");
        }
    }
    s
}

/// The 1-, 5- and 15-minute load averages.
pub fn load() -> String {
    fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// The total size of the regular files under `path`.
pub fn tree_size(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| tree_size(&e.path()))
            .sum()
    } else if meta.is_file() {
        meta.len()
    } else {
        0
    }
}

/// Copies the files of `from` (recursively) into `to`.
pub fn copy_tree(from: &Path, to: &Path) -> Res<()> {
    Ok(libbuildpack::toolbox::copy::copy_tree(from, to)?)
}

/// Writes a buildpack dir: `buildpack.toml` and `bin/detect`, `bin/build` copies of `binary`.
pub fn buildpack_dir(dir: &Path, buildpack_toml: &str, binary: &Path) -> Res<()> {
    fs::create_dir_all(dir.join("bin"))?;
    fs::write(dir.join("buildpack.toml"), buildpack_toml)?;
    fs::copy(binary, dir.join("bin/detect"))?;
    fs::copy(binary, dir.join("bin/build"))?;
    Ok(())
}

/// A no-op buildpack's `buildpack.toml` (detect passes, build does nothing).
pub const NOOP_BUILDPACK_TOML: &str = r#"api = "0.10"

[buildpack]
id = "bench/noop"
version = "0.0.1"
name = "No-op"

[[targets]]
os = "linux"
arch = "amd64"
"#;

/// A builder.toml with one buildpack dir (`id` at `version`) over rpack's `stack` (`tiny` or `python`), with the
/// lifecycle the benchmarks pin.
pub fn builder_toml(stack: &str, buildpack_dir: &Path, id: &str, version: &str) -> Res<String> {
    let mut builder = BuilderToml::on_stack(
        format!("localhost/rpack/{stack}-build:latest"),
        format!("localhost/rpack/{stack}-run:latest"),
    )
    .with_buildpack(
        buildpack_dir.display().to_string(),
        id.parse()?,
        Some(version.parse()?),
    );
    builder.description = Some(format!("benchmark builder ({stack} stack)"));
    builder.lifecycle = Some(BuilderLifecycle {
        uri: None,
        version: Some("0.21.17".to_owned()),
    });
    Ok(builder.to_toml_string()?)
}

/// Builds the SDK comparison workspace (no-op and libcnb hello) for musl; returns its release dir.
pub fn build_sdk_crates(ctx: &Ctx) -> Res<PathBuf> {
    let target = ctx.target_dir.join("benchmarks-sdk");
    ctx.run(
        Command::new("cargo")
            .args([
                "build",
                "--release",
                "--target",
                "x86_64-unknown-linux-musl",
            ])
            .arg("--manifest-path")
            .arg(ctx.root.join("benchmarks/sdk/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target),
    )?;
    Ok(target.join("x86_64-unknown-linux-musl/release"))
}

/// Builds examples/hello (libbuildpack) for musl with the workspace's release profile; returns the binary.
pub fn build_hello(ctx: &Ctx) -> Res<PathBuf> {
    ctx.run(
        Command::new("cargo")
            .current_dir(&ctx.root)
            .args([
                "build",
                "--release",
                "--target",
                "x86_64-unknown-linux-musl",
                "-p",
                "hello-buildpack",
            ])
            .env("CARGO_TARGET_DIR", &ctx.target_dir),
    )?;
    Ok(ctx
        .target_dir
        .join("x86_64-unknown-linux-musl/release/hello-buildpack"))
}

/// Imports an image of rpack's store into podman (as rpack does before running it).
pub fn import(ctx: &Ctx, image: &str) -> Res<Duration> {
    let (name, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
    let layout = ctx.rpack_home.join("images").join(name).join(tag);
    let mut total = ctx.run(Command::new("skopeo").args([
        "--insecure-policy",
        "copy",
        "--quiet",
        &format!("oci:{}", layout.display()),
        &format!("containers-storage:{image}"),
    ]))?;
    total += ctx.run(ctx.podman().args(["image", "exists", image]))?;
    Ok(total)
}

/// podman's size of an image, in bytes.
pub fn podman_size(ctx: &Ctx, image: &str) -> Res<u64> {
    Ok(ctx
        .output(
            ctx.podman()
                .args(["image", "inspect", "--format", "{{.Size}}", image]),
        )?
        .parse()?)
}
