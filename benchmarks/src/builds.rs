//! Whole builds: the builder (builder/builder.toml via `rpack build`, then imported into podman) against a
//! best-practice Dockerfile over the same stack images built by `podman build`, on the pip and uv sample apps
//! (or any app dirs given), and the lifecycle floor: a no-op buildpack's build.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::phases::{self, Breakdown};
use crate::stats::{Samples, bytes, ratio, ratio_median, secs};
use crate::util::{
    Ctx, NOOP_BUILDPACK_TOML, Res, builder_toml, buildpack_dir, copy_tree, import, podman_size,
    show,
};

/// The uv the uv buildpack pins (buildpacks/uv/src/uv.rs), installed hash-checked with the host's pip to make
/// uv.lock at run time.
/// The date uv resolves against, so the locks are the same every run.
const EXCLUDE_NEWER: &str = "2025-06-01T00:00:00Z";
/// One new dependency per repetition, none already among the sample apps' dependencies, all older than
/// `EXCLUDE_NEWER`.
const ADDED: [&str; 6] = [
    "six==1.17.0",
    "tomli==2.2.1",
    "attrs==25.3.0",
    "python-dotenv==1.1.0",
    "more-itertools==10.7.0",
    "toolz==1.0.0",
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Pip,
    Uv,
}

struct App {
    name: String,
    kind: Kind,
    dir: PathBuf,
    /// Unique to this run: podman's layer cache and the dependency files hold nothing from earlier runs.
    nonce: u128,
}

/// Per case, the two sides' samples.
#[derive(Default)]
struct Case {
    rpack: Samples,
    podman: Samples,
    rpack_parts: Vec<Breakdown>,
    podman_parts: Vec<Breakdown>,
}

const CASES: [&str; 4] = [
    "fresh",
    "code-only change",
    "one added dependency",
    "no change",
];

fn uv_tool(ctx: &Ctx) -> Res<PathBuf> {
    let tools = ctx.scratch.path().join("uv-tool");
    let uv = libbuildpack_test::uv::binary(&tools);
    if uv.is_file() {
        return Ok(uv);
    }
    fs::create_dir_all(&tools)?;
    let req = tools.join("uv.txt");
    libbuildpack_test::uv::write_requirement(&req)?;
    ctx.run(&mut libbuildpack_test::uv::pip_install_hashed(&req, &tools))?;
    Ok(uv)
}

fn uv(ctx: &Ctx, app: &Path) -> Res<Command> {
    let mut cmd = Command::new(uv_tool(ctx)?);
    cmd.current_dir(app)
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_CACHE_DIR", ctx.scratch.path().join("uv-cache"));
    Ok(cmd)
}

fn prepare(ctx: &Ctx, src: &Path, base: &Path) -> Res<App> {
    let name = src
        .file_name()
        .ok_or("app dir has no name")?
        .to_string_lossy()
        .into_owned();
    let dir = base.join(&name);
    copy_tree(src, &dir)?;
    let kind = if dir.join("pyproject.toml").is_file() {
        if !dir.join("uv.lock").is_file() {
            ctx.run(uv(ctx, &dir)?.args(["lock", "--exclude-newer", EXCLUDE_NEWER]))?;
        }
        Kind::Uv
    } else if dir.join("requirements.txt").is_file() {
        Kind::Pip
    } else {
        return Err(format!(
            "{}: neither pyproject.toml nor requirements.txt",
            src.display()
        )
        .into());
    };
    // A line unique to this run in the dependency file too, so the builder's keys start fresh as well.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let deps = dir.join(match kind {
        Kind::Pip => "requirements.txt",
        Kind::Uv => "pyproject.toml",
    });
    let mut text = fs::read_to_string(&deps)?;
    let _ = write!(text, "\n# benchmark run {nonce}\n");
    fs::write(&deps, text)?;
    Ok(App {
        name,
        kind,
        dir,
        nonce,
    })
}

fn change_code(app: &App, rep: usize) -> Res<()> {
    let mut py: Vec<PathBuf> = fs::read_dir(&app.dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    py.sort();
    let file = py.first().ok_or("no .py file to change")?;
    let mut text = fs::read_to_string(file)?;
    let _ = writeln!(text, "# benchmark code change {rep}");
    fs::write(file, text)?;
    Ok(())
}

fn add_dependency(ctx: &Ctx, app: &App, rep: usize) -> Res<()> {
    let dep = ADDED[rep % ADDED.len()];
    match app.kind {
        Kind::Pip => {
            let path = app.dir.join("requirements.txt");
            let mut text = fs::read_to_string(&path)?;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            let _ = writeln!(text, "{dep}");
            fs::write(&path, text)?;
        }
        Kind::Uv => {
            ctx.run(uv(ctx, &app.dir)?.args([
                "add",
                "--no-sync",
                "--exclude-newer",
                EXCLUDE_NEWER,
                dep,
            ]))?;
        }
    }
    Ok(())
}

struct Sides<'a> {
    ctx: &'a Ctx,
    app: &'a App,
    rpack_image: String,
    podman_image: String,
    dockerfile: PathBuf,
    /// podman's TMPDIR: buildah keeps `--mount=type=cache` dirs under it, so a new one is a cold cache.
    tmpdir: PathBuf,
    /// The `BENCH_RUN` build arg: new for every fresh build, so no step of it comes from podman's layer cache
    /// (an earlier fresh build of the same run would otherwise have left the venv step cached).
    bench_run: std::cell::Cell<u128>,
}

impl Sides<'_> {
    fn rpack_cmd(&self, fresh: bool) -> Command {
        let mut cmd = self.ctx.rpack();
        cmd.args(["build", &self.rpack_image, "--path"])
            .arg(&self.app.dir)
            .arg("--builder")
            .arg(self.ctx.root.join("builder/builder.toml"));
        if fresh {
            cmd.arg("--clear-cache");
        }
        cmd
    }

    fn podman_cmd(&self) -> Command {
        let mut cmd = self.ctx.podman();
        cmd.env("TMPDIR", &self.tmpdir)
            .args(["build", "--network", "host", "-t", &self.podman_image, "-f"])
            .arg(&self.dockerfile)
            .arg("--build-arg")
            .arg(format!("BENCH_RUN={}", self.bench_run.get()))
            .arg(&self.app.dir);
        cmd
    }

    /// rpack build + import into podman, and where the time went.
    fn rpack(&self, fresh: bool) -> Res<(Duration, Breakdown)> {
        if fresh {
            let _ = self
                .ctx
                .run(self.ctx.rpack().args(["image", "rm", &self.rpack_image]));
            let _ = self
                .ctx
                .run(self.ctx.podman().args(["rmi", "-f", &self.rpack_image]));
        }
        let (build, lines) = self.ctx.run_lines(&mut self.rpack_cmd(fresh))?;
        let import = import(self.ctx, &self.rpack_image)?;
        wait_for_trash(&self.ctx.rpack_home);
        let parts = phases::rpack(&lines, build.as_secs_f64(), import.as_secs_f64());
        Ok((build + import, parts))
    }

    fn podman(&self, fresh: bool) -> Res<(Duration, Breakdown)> {
        if fresh {
            self.bench_run.set(self.bench_run.get() + 1);
            let _ = self
                .ctx
                .run(self.ctx.podman().args(["rmi", "-f", &self.podman_image]));
            if self.tmpdir.exists() {
                fs::remove_dir_all(&self.tmpdir)?;
            }
            fs::create_dir_all(&self.tmpdir)?;
        }
        let (took, lines) = self.ctx.run_lines(&mut self.podman_cmd())?;
        let parts = phases::dockerfile(&lines, took.as_secs_f64());
        Ok((took, parts))
    }

    /// One build on each side, in the given order.
    fn pair(&self, case: &mut Case, fresh: bool, rpack_first: bool) -> Res<()> {
        if rpack_first {
            self.push_rpack(case, fresh)?;
        }
        let (t, parts) = self.podman(fresh)?;
        case.podman.push(t);
        case.podman_parts.push(parts);
        if !rpack_first {
            self.push_rpack(case, fresh)?;
        }
        Ok(())
    }

    fn push_rpack(&self, case: &mut Case, fresh: bool) -> Res<()> {
        let (t, parts) = self.rpack(fresh)?;
        case.rpack.push(t);
        case.rpack_parts.push(parts);
        Ok(())
    }
}

/// Waits (untimed, two minutes at most) until rpack's background removals are done (`$RPACK_HOME/trash`, see
/// rpack's `store::trash`): the next command, the Dockerfile's build maybe, must not share the disk with them.
fn wait_for_trash(rpack_home: &Path) {
    let trash = rpack_home.join("trash");
    for _ in 0..1200 {
        if fs::read_dir(&trash).map_or(true, |mut entries| entries.next().is_none()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[allow(clippy::cast_precision_loss, reason = "image sizes far below 2^52")]
#[allow(clippy::too_many_lines, reason = "the measurements, then their table")]
fn bench_app(ctx: &Ctx, app: &App, reps: usize, floor: f64, md: &mut String) -> Res<()> {
    let dockerfile = ctx.root.join(match app.kind {
        Kind::Pip => "benchmarks/dockerfiles/pip.Dockerfile",
        Kind::Uv => "benchmarks/dockerfiles/uv.Dockerfile",
    });
    let sides = Sides {
        ctx,
        app,
        rpack_image: format!("localhost/bench/{}-rpack:latest", app.name),
        podman_image: format!("localhost/bench/{}-podman:latest", app.name),
        dockerfile,
        tmpdir: ctx.scratch.path().join(format!("podman-tmp-{}", app.name)),
        bench_run: std::cell::Cell::new(app.nonce),
    };
    let mut cases: Vec<Case> = CASES.iter().map(|_| Case::default()).collect();
    for rep in 0..reps {
        let rpack_first = rep % 2 == 0;
        for (i, case) in cases.iter_mut().enumerate() {
            match i {
                1 => change_code(app, rep)?,
                2 => add_dependency(ctx, app, rep)?,
                _ => {}
            }
            let fresh = i == 0;
            eprintln!("  {} rep {rep}: {}", app.name, CASES[i]);
            sides.pair(case, fresh, rpack_first)?;
        }
    }
    let run_size = podman_size(ctx, "localhost/rpack/python-run:latest")?;
    let rsize = podman_size(ctx, &sides.rpack_image)?;
    let psize = podman_size(ctx, &sides.podman_image)?;

    let _ = writeln!(
        md,
        "\n### {} ({})\n\nCommands: `{}` + `skopeo --insecure-policy copy oci:$RPACK_HOME/images/localhost/bench/{}-rpack/latest \
         containers-storage:{}` (fresh: `rpack image rm` first and `--clear-cache`) against `{}` (fresh: `podman rmi` first and a new \
         TMPDIR, so the cache mount starts empty, and a new `BENCH_RUN`, so no step comes from podman's layer cache); {reps} repetition(s), alternating which goes first.\n",
        app.name,
        match app.kind {
            Kind::Pip => "pip, requirements.txt",
            Kind::Uv =>
                "uv, pyproject.toml + uv.lock made at run time with uv 0.9.5 and exclude-newer",
        },
        show(&sides.rpack_cmd(false))
            .replace(&ctx.scratch.path().display().to_string(), "$SCRATCH"),
        app.name,
        sides.rpack_image,
        show(&sides.podman_cmd()).replace(&ctx.scratch.path().display().to_string(), "$SCRATCH"),
    );
    md.push_str("| case | builder (rpack build + import) | Dockerfile (podman build) | builder / Dockerfile (pair by pair) | target |\n");
    md.push_str("|---|---|---|---|---|\n");
    let mut missed = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let target = match i {
            0 | 1 => Some(1.0),
            2 => Some(0.5),
            _ => None,
        };
        let r = ratio_median(&case.rpack, &case.podman);
        let verdict = match target {
            Some(t) if r <= t => format!("<= {t:.1}x: met"),
            Some(t) => {
                missed.push((i, t, r));
                format!("<= {t:.1}x: **missed**")
            }
            None => "—".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {verdict} |",
            CASES[i],
            case.rpack.time(),
            case.podman.time(),
            ratio(&case.rpack, &case.podman)
        );
    }
    let _ = writeln!(
        md,
        "| image size (podman), total | {} | {} | {:.2}x | |\n| image size, added over the run image ({}) | {} | {} | {:.2}x | |",
        bytes(rsize),
        bytes(psize),
        rsize as f64 / psize as f64,
        bytes(run_size),
        bytes(rsize.saturating_sub(run_size)),
        bytes(psize.saturating_sub(run_size)),
        rsize.saturating_sub(run_size) as f64 / psize.saturating_sub(run_size).max(1) as f64,
    );
    md.push_str(
        "\nWhere the time goes (medians; the builder's `start` is rpack's checks, the app copy and the build \
         container's start, `finish` is rpack completing and storing the image after the lifecycle's last line):\n\n\
         | case | builder | Dockerfile |\n|---|---|---|\n",
    );
    for (i, case) in cases.iter().enumerate() {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            CASES[i],
            phases::summary(&case.rpack_parts),
            phases::summary(&case.podman_parts)
        );
    }
    for (i, t, r) in missed {
        let case = &cases[i];
        let _ = writeln!(
            md,
            "\n- **Missed** {}: {r:.2}x against <= {t:.1}x. The builder's {} include the lifecycle floor of {} \
             (a no-op buildpack's rebuild + import, above); the Dockerfile's {} have no such fixed cost.",
            CASES[i],
            secs(case.rpack.median()),
            secs(floor),
            secs(case.podman.median()),
        );
    }
    Ok(())
}

/// A no-op buildpack's build of a one-file app: the lifecycle's own cost, for a first build and for a
/// rebuild with nothing changed. Returns the median rebuild + import.
fn floor(ctx: &Ctx, reps: usize, md: &mut String) -> Res<f64> {
    let sdk = crate::util::build_sdk_crates(ctx)?;
    let base = ctx.dir("builds-floor")?;
    let bp = base.join("noop-bp");
    buildpack_dir(&bp, NOOP_BUILDPACK_TOML, &sdk.join("noop"))?;
    let builder = base.join("builder.toml");
    fs::write(
        &builder,
        builder_toml("python", &bp, "bench/noop", "0.0.1")?,
    )?;
    let app = base.join("app");
    fs::create_dir_all(&app)?;
    fs::write(app.join("hello.txt"), "hi\n")?;
    let image = "localhost/bench/noop-app:latest";
    let build = || {
        let mut cmd = ctx.rpack();
        cmd.args(["build", image, "--path"])
            .arg(&app)
            .arg("--builder")
            .arg(&builder);
        cmd
    };
    ctx.run(&mut build())?; // makes the builder
    let (mut first, mut first_total) = (Samples::default(), Samples::default());
    let (mut again, mut again_total) = (Samples::default(), Samples::default());
    let mut parts = Vec::new();
    for _ in 0..reps {
        let _ = ctx.run(ctx.rpack().args(["image", "rm", image]));
        let _ = ctx.run(ctx.podman().args(["rmi", "-f", image]));
        let t = ctx.run(&mut build())?;
        first.push(t);
        first_total.push(t + import(ctx, image)?);
        let (t, lines) = ctx.run_lines(&mut build())?;
        let i = import(ctx, image)?;
        again.push(t);
        again_total.push(t + i);
        parts.push(phases::rpack(&lines, t.as_secs_f64(), i.as_secs_f64()));
    }
    let target = if again_total.median() <= 1.5 {
        "<= 1.5 s: met"
    } else {
        "<= 1.5 s: **missed**"
    };
    let _ = writeln!(
        md,
        "\n### Lifecycle floor\n\nA no-op buildpack (the no-op static binary as `bin/detect` and `bin/build`) on the \
         python stack building a one-file app: `{}` ({reps} repetitions), first with no previous image, then again \
         with nothing changed.\n\n| | first build | rebuild, nothing changed | target (rebuild + import) |\n|---|---|---|---|\n\
         | rpack build | {} | {} | |\n| rpack build + import into podman | {} | {} | {target} |\n\n\
         Where a rebuild's time goes (medians): {}",
        show(&build()).replace(&ctx.scratch.path().display().to_string(), "$SCRATCH"),
        first.time(),
        again.time(),
        first_total.time(),
        again_total.time(),
        phases::summary(&parts),
    );
    Ok(again_total.median())
}

/// Writes `dir/<name>-1.0-py3-none-any.whl`: a package of `mb` MB of random (incompressible) bytes in files of at
/// most 64 MB, made with Python's zipfile so the wheel is what pip expects.
fn big_wheel(ctx: &Ctx, dir: &Path, name: &str, mb: u64) -> Res<()> {
    const SCRIPT: &str = r#"
import os, sys, zipfile
out, name, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
info = f"{name}-1.0.dist-info"
with zipfile.ZipFile(os.path.join(out, f"{name}-1.0-py3-none-any.whl"), "w", zipfile.ZIP_STORED) as whl:
    whl.writestr(f"{name}/__init__.py", "SIZE_MB = %d\n" % mb)
    left, i = mb, 0
    while left > 0:
        part = min(left, 64)
        whl.writestr(f"{name}/data{i}.bin", os.urandom(part * 1024 * 1024))
        left, i = left - part, i + 1
    whl.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    whl.writestr(f"{info}/RECORD", "")
"#;
    ctx.run(
        Command::new("python3")
            .args(["-c", SCRIPT])
            .arg(dir)
            .arg(name)
            .arg(mb.to_string()),
    )?;
    Ok(())
}

/// A static file server on a free loopback port (`python3 -m http.server`), stopped on drop.
struct FileServer {
    child: std::process::Child,
    port: u16,
}

impl FileServer {
    fn start(dir: &Path) -> Res<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
                "--directory",
            ])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { child, port });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("the loopback file server did not start".into())
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The flask app with one more dependency of each size (a generated wheel served from loopback, so nothing
/// large is downloaded from outside): fresh builds, then code-only rebuilds, against the Dockerfile.
#[allow(clippy::too_many_lines, reason = "the measurements, then their table")]
fn dependency_scaling(
    ctx: &Ctx,
    reps: usize,
    sizes_mb: &[u64],
    flask: &Path,
    md: &mut String,
) -> Res<()> {
    let base = ctx.dir("builds-deps")?;
    let wheels = base.join("wheels");
    fs::create_dir_all(&wheels)?;
    for &mb in sizes_mb.iter().filter(|&&mb| mb > 0) {
        big_wheel(ctx, &wheels, &format!("benchdep{mb}mb"), mb)?;
    }
    let server = FileServer::start(&wheels)?;
    let mut rows = Vec::new();
    for &mb in std::iter::once(&0).chain(sizes_mb.iter().filter(|&&mb| mb > 0)) {
        let src = base.join(format!("src-{mb}"));
        copy_tree(flask, &src)?;
        if mb > 0 {
            let path = src.join("requirements.txt");
            let mut text = fs::read_to_string(&path)?;
            let _ = write!(
                text,
                "\n--find-links http://127.0.0.1:{}/\nbenchdep{mb}mb==1.0\n",
                server.port
            );
            fs::write(&path, text)?;
        }
        let mut app = prepare(ctx, &src, &base.join(format!("app-{mb}")))?;
        app.name = format!("deps-{mb}mb");
        let sides = Sides {
            ctx,
            app: &app,
            rpack_image: format!("localhost/bench/{}-rpack:latest", app.name),
            podman_image: format!("localhost/bench/{}-podman:latest", app.name),
            dockerfile: ctx.root.join("benchmarks/dockerfiles/pip.Dockerfile"),
            tmpdir: ctx.scratch.path().join(format!("podman-tmp-{}", app.name)),
            bench_run: std::cell::Cell::new(app.nonce),
        };
        eprintln!("  dependency of {mb} MB: fresh");
        let mut fresh = Case::default();
        sides.pair(&mut fresh, true, true)?;
        let mut code = Case::default();
        for rep in 0..reps {
            eprintln!("  dependency of {mb} MB: code-only change, rep {rep}");
            change_code(&app, rep)?;
            sides.pair(&mut code, false, rep % 2 == 1)?;
        }
        let size = podman_size(ctx, &sides.rpack_image)?;
        rows.push((mb, size, fresh, code));
        let _ = ctx.run(ctx.rpack().args(["image", "rm", &sides.rpack_image]));
        let _ = ctx.run(
            ctx.podman()
                .args(["rmi", "-f", &sides.rpack_image, &sides.podman_image]),
        );
    }
    let small = rows.first().map_or(0.0, |r| r.3.rpack.median());
    let _ = writeln!(
        md,
        "\n### Code-only rebuilds against dependency size\n\nexamples/apps/flask with one more requirement: a generated \
         wheel of that many MB of random bytes (incompressible), served by `python3 -m http.server` on loopback and \
         found through a `--find-links` line in requirements.txt, so both sides install it the same way. Per size: \
         a fresh build on each side, then {reps} code-only rebuild(s) alternating which goes first. Target: the \
         builder's code-only rebuild stays within 1.25x of the app without the extra dependency.\n\n\
         | extra dependency | image size (podman) | fresh: builder | fresh: Dockerfile | code-only: builder | \
         code-only: Dockerfile | code-only builder / Dockerfile | code-only builder / without the dependency |\n\
         |---|---|---|---|---|---|---|---|"
    );
    let mut worst: f64 = 0.0;
    for (mb, size, fresh, code) in &rows {
        let flat = code.rpack.median() / small.max(1e-9);
        worst = worst.max(flat);
        let _ = writeln!(
            md,
            "| {mb} MB | {} | {} | {} | {} | {} | {} | {flat:.2}x |",
            bytes(*size),
            fresh.rpack.time(),
            fresh.podman.time(),
            code.rpack.time(),
            code.podman.time(),
            ratio(&code.rpack, &code.podman),
        );
    }
    let _ = writeln!(
        md,
        "\nFlat in dependency size (<= 1.25x): **{}** (worst {worst:.2}x).\n\nWhere a code-only rebuild's time goes \
         (medians):\n\n| extra dependency | builder | Dockerfile |\n|---|---|---|",
        if worst <= 1.25 { "met" } else { "missed" }
    );
    for (mb, _, _, code) in &rows {
        let _ = writeln!(
            md,
            "| {mb} MB | {} | {} |",
            phases::summary(&code.rpack_parts),
            phases::summary(&code.podman_parts)
        );
    }
    drop(server);
    Ok(())
}

/// Runs the section; returns its markdown.
pub fn run(ctx: &Ctx, reps: usize, apps: &[PathBuf], dep_sizes_mb: &[u64]) -> Res<String> {
    for image in ["python-build", "python-run"] {
        import(ctx, &format!("localhost/rpack/{image}:latest"))?;
    }
    // The builder of builder/builder.toml is made (or found up to date) before anything is timed: its
    // making is measured in the packaging section, and a first fresh build must not pay it.
    let config = ctx.root.join("builder/builder.toml");
    let builder = rpack::build::platform::builder_ref_for_config(&config).to_string();
    ctx.run(
        ctx.rpack()
            .args(["builder", "create", &builder, "--config"])
            .arg(&config)
            // Builds are timed for this machine's platform: builder.toml's arm64 target is not made.
            .args(["--platform", &rpack::oci::Platform::host().to_string()]),
    )?;
    let base = ctx.dir("builds")?;
    let mut md = String::new();
    let floor = floor(ctx, reps.max(3), &mut md)?;
    for src in apps {
        let app = prepare(ctx, src, &base)?;
        if let Err(e) = bench_app(ctx, &app, reps, floor, &mut md) {
            let _ = writeln!(md, "\n### {}\n\nFAILED: {e}", app.name);
        }
    }
    if !dep_sizes_mb.is_empty() {
        let flask = ctx.root.join("examples/apps/flask");
        if let Err(e) = dependency_scaling(ctx, reps, dep_sizes_mb, &flask, &mut md) {
            let _ = writeln!(
                md,
                "\n### Code-only rebuilds against dependency size\n\nFAILED: {e}"
            );
        }
    }
    Ok(md)
}
