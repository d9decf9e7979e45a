//! The same small buildpack (examples/hello) with libbuildpack and with libcnb 0.30.x: static binary size,
//! and detect/build wall time of spawning each with the CNB dirs and env laid out as the lifecycle does,
//! against a no-op static binary as the floor.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::stats::{Samples, bytes, ratio, secs};
use crate::util::{Ctx, Res, buildpack_dir};

struct Subject {
    name: &'static str,
    binary: PathBuf,
    root: PathBuf,
    detect: Samples,
    build: Samples,
}

impl Subject {
    fn lifecycle_env(&self, cmd: &mut Command) {
        let root = &self.root;
        cmd.env_clear()
            .current_dir(root.join("app"))
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", root)
            .env("CNB_BUILDPACK_DIR", root.join("bp"))
            .env("CNB_PLATFORM_DIR", root.join("platform"))
            .env("CNB_TARGET_OS", "linux")
            .env("CNB_TARGET_ARCH", "amd64")
            .env("CNB_TARGET_DISTRO_NAME", "debian")
            .env("CNB_TARGET_DISTRO_VERSION", "12")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    }

    /// `bin/detect`, as lifecycle 0.21 runs it for Buildpack API 0.10: env and positional arguments.
    fn detect(&mut self) -> Res<()> {
        let plan = self.root.join("plan/build-plan.toml");
        let _ = fs::remove_file(&plan);
        let mut cmd = Command::new(self.root.join("bp/bin/detect"));
        self.lifecycle_env(&mut cmd);
        cmd.env("CNB_BUILD_PLAN_PATH", &plan)
            .arg(self.root.join("platform"))
            .arg(&plan);
        let started = Instant::now();
        let status = cmd.status()?;
        self.detect.push(started.elapsed());
        if !status.success() {
            return Err(format!("{} detect: {status}", self.name).into());
        }
        Ok(())
    }

    /// `bin/build` into an empty layers dir (a first build).
    fn build(&mut self) -> Res<()> {
        let layers = self.root.join("layers/examples_hello");
        if layers.exists() {
            fs::remove_dir_all(&layers)?;
        }
        fs::create_dir_all(&layers)?;
        let bp_plan = self.root.join("plan/bp-plan.toml");
        let mut cmd = Command::new(self.root.join("bp/bin/build"));
        self.lifecycle_env(&mut cmd);
        cmd.env("CNB_LAYERS_DIR", &layers)
            .env("CNB_BP_PLAN_PATH", &bp_plan)
            .arg(&layers)
            .arg(self.root.join("platform"))
            .arg(&bp_plan);
        let started = Instant::now();
        let status = cmd.status()?;
        self.build.push(started.elapsed());
        if !status.success() {
            return Err(format!("{} build: {status}", self.name).into());
        }
        Ok(())
    }
}

fn layout(root: &Path, binary: &Path, buildpack_toml: &str) -> Res<()> {
    buildpack_dir(&root.join("bp"), buildpack_toml, binary)?;
    for dir in ["app", "platform/env", "plan", "layers"] {
        fs::create_dir_all(root.join(dir))?;
    }
    fs::write(root.join("app/hello.txt"), "hi\n")?;
    fs::write(root.join("plan/bp-plan.toml"), "")?;
    Ok(())
}

/// Both SDKs' `build` wrote the same layer, env var and process.
fn check_same_work(subjects: &[Subject]) -> Res<()> {
    for s in &subjects[1..] {
        let layers = s.root.join("layers/examples_hello");
        let env = fs::read_to_string(layers.join("hello/env.launch/HELLO_GREETING.override"))?;
        let greeting = fs::read_to_string(layers.join("hello/greeting.txt"))?;
        let launch = fs::read_to_string(layers.join("launch.toml"))?;
        let layer = fs::read_to_string(layers.join("hello.toml"))?;
        if env != "hello"
            || greeting != "hello\n"
            || !launch.contains("type = \"web\"")
            || !launch.contains("default = true")
            || !layer.contains("launch = true")
            || !layer.contains("version = \"0.1.0\"")
        {
            return Err(format!("{} did not do the same work as the others", s.name).into());
        }
    }
    Ok(())
}

/// Runs the section; returns its markdown.
#[allow(clippy::cast_precision_loss, reason = "binary sizes far below 2^52")]
pub fn run(ctx: &Ctx, reps: usize) -> Res<String> {
    let hello = crate::util::build_hello(ctx)?;
    let sdk = crate::util::build_sdk_crates(ctx)?;
    let hello_toml = fs::read_to_string(ctx.root.join("examples/hello/buildpack.toml"))?;
    let cnb_toml = fs::read_to_string(ctx.root.join("benchmarks/sdk/libcnb-hello/buildpack.toml"))?;
    let base = ctx.dir("sdk")?;
    let mut subjects = Vec::new();
    for (name, binary, toml) in [
        ("no-op floor", sdk.join("noop"), &hello_toml),
        ("libbuildpack", hello, &hello_toml),
        ("libcnb 0.30.4", sdk.join("libcnb-hello"), &cnb_toml),
    ] {
        let root = base.join(name.split(' ').next().unwrap_or(name));
        layout(&root, &binary, toml)?;
        subjects.push(Subject {
            name,
            binary,
            root,
            detect: Samples::default(),
            build: Samples::default(),
        });
    }
    // Warm the page cache, then rotate the order every repetition: A B C, B C A, C A B, ...
    for s in &mut subjects {
        s.detect()?;
        s.build()?;
        s.detect = Samples::default();
        s.build = Samples::default();
    }
    check_same_work(&subjects)?;
    let n = subjects.len();
    for rep in 0..reps {
        for k in 0..n {
            subjects[(rep + k) % n].detect()?;
        }
        for k in 0..n {
            subjects[(rep + k) % n].build()?;
        }
    }

    let mut md = String::new();
    let _ = writeln!(
        md,
        "Each binary is spawned as `bin/detect` (app with `hello.txt`: passes) and `bin/build` (empty layers dir: \
         a first build that writes the `hello` launch layer, its env var and the web process), with the CNB env \
         and positional arguments lifecycle 0.21 gives a Buildpack API 0.10 buildpack, stdout to /dev/null. \
         {reps} repetitions, the three binaries in rotating order each time. The libcnb buildpack is \
         [`benchmarks/sdk/libcnb-hello`](../benchmarks/sdk/libcnb-hello/src/main.rs); its layer is a cached launch \
         layer (libcnb's struct API has no launch-only layer reused from the previous image).\n"
    );
    let _ = writeln!(
        md,
        "Built with `cargo build --release --target x86_64-unknown-linux-musl -p hello-buildpack` (workspace) and \
         `cargo build --release --target x86_64-unknown-linux-musl --manifest-path benchmarks/sdk/Cargo.toml`, \
         both with the profile strip, opt-level \"s\", codegen-units 4, panic abort.\n"
    );
    md.push_str("| binary | size (stripped, static) | detect | build | detect over floor | build over floor |\n");
    md.push_str("|---|---|---|---|---|---|\n");
    let floor_detect = subjects[0].detect.median();
    let floor_build = subjects[0].build.median();
    for s in &subjects {
        let size = fs::metadata(&s.binary)?.len();
        let (od, ob) = if s.name.starts_with("no-op") {
            ("—".to_owned(), "—".to_owned())
        } else {
            (
                secs(s.detect.median() - floor_detect),
                secs(s.build.median() - floor_build),
            )
        };
        let _ = writeln!(
            md,
            "| {} | {} ({} bytes) | {} | {} | {od} | {ob} |",
            s.name,
            bytes(size),
            size,
            s.detect.time(),
            s.build.time()
        );
    }
    let (lb, cnb) = (&subjects[1], &subjects[2]);
    let size_ratio =
        fs::metadata(&lb.binary)?.len() as f64 / fs::metadata(&cnb.binary)?.len() as f64;
    let over = |a: &Samples, b: &Samples, floor: f64| (a.median() - floor) / (b.median() - floor);
    let _ = writeln!(
        md,
        "\n**libbuildpack / libcnb**: size {size_ratio:.2}x; detect {} (pair by pair), {:.2}x over the floor; \
         build {} (pair by pair), {:.2}x over the floor.\n",
        ratio(&lb.detect, &cnb.detect),
        over(&lb.detect, &cnb.detect, floor_detect),
        ratio(&lb.build, &cnb.build),
        over(&lb.build, &cnb.build, floor_build),
    );
    Ok(md)
}
