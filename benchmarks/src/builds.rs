//! Whole builds: the builder (builder/builder.toml via `rpack build`, then imported into podman) against a
//! best-practice Dockerfile over the same stack images built by `podman build`, on the pip and uv sample apps
//! (or any app dirs given), and the lifecycle floor: a no-op buildpack's build.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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
            .arg(format!("BENCH_RUN={}", self.app.nonce))
            .arg(&self.app.dir);
        cmd
    }

    /// rpack build + import into podman.
    fn rpack(&self, fresh: bool) -> Res<Duration> {
        if fresh {
            let _ = self
                .ctx
                .run(self.ctx.rpack().args(["image", "rm", &self.rpack_image]));
            let _ = self
                .ctx
                .run(self.ctx.podman().args(["rmi", "-f", &self.rpack_image]));
        }
        Ok(self.ctx.run(&mut self.rpack_cmd(fresh))? + import(self.ctx, &self.rpack_image)?)
    }

    fn podman(&self, fresh: bool) -> Res<Duration> {
        if fresh {
            let _ = self
                .ctx
                .run(self.ctx.podman().args(["rmi", "-f", &self.podman_image]));
            if self.tmpdir.exists() {
                fs::remove_dir_all(&self.tmpdir)?;
            }
            fs::create_dir_all(&self.tmpdir)?;
        }
        self.ctx.run(&mut self.podman_cmd())
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
            if rpack_first {
                case.rpack.push(sides.rpack(fresh)?);
                case.podman.push(sides.podman(fresh)?);
            } else {
                case.podman.push(sides.podman(fresh)?);
                case.rpack.push(sides.rpack(fresh)?);
            }
        }
    }
    let run_size = podman_size(ctx, "localhost/rpack/python-run:latest")?;
    let rsize = podman_size(ctx, &sides.rpack_image)?;
    let psize = podman_size(ctx, &sides.podman_image)?;

    let _ = writeln!(
        md,
        "\n### {} ({})\n\nCommands: `{}` + `skopeo --insecure-policy copy oci:$RPACK_HOME/images/localhost/bench/{}-rpack/latest \
         containers-storage:{}` (fresh: `rpack image rm` first and `--clear-cache`) against `{}` (fresh: `podman rmi` first and a new \
         TMPDIR, so the cache mount starts empty; `BENCH_RUN` is unique to the run, so no step comes from an earlier run's cache); {reps} repetition(s), alternating which goes first.\n",
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
    for (i, t, r) in missed {
        let case = &cases[i];
        let _ = writeln!(
            md,
            "\n- **Missed** {}: {r:.2}x against <= {t:.1}x. The builder's {} include the lifecycle floor of {} \
             (a no-op buildpack's build + import, below); the Dockerfile's {} have no such fixed cost.",
            CASES[i],
            secs(case.rpack.median()),
            secs(floor),
            secs(case.podman.median()),
        );
    }
    Ok(())
}

/// A no-op buildpack's build of a one-file app: the lifecycle's own cost. Returns the median build + import.
fn floor(ctx: &Ctx, reps: usize, md: &mut String) -> Res<f64> {
    let sdk = crate::util::build_sdk_crates(ctx)?;
    let base = ctx.dir("builds-floor")?;
    let bp = base.join("noop-bp");
    buildpack_dir(&bp, NOOP_BUILDPACK_TOML, &sdk.join("noop"))?;
    let builder = base.join("builder.toml");
    fs::write(&builder, builder_toml(&bp, "bench/noop", "0.0.1"))?;
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
    let (mut b, mut total) = (Samples::default(), Samples::default());
    for _ in 0..reps {
        let _ = ctx.run(ctx.rpack().args(["image", "rm", image]));
        let _ = ctx.run(ctx.podman().args(["rmi", "-f", image]));
        let t = ctx.run(&mut build())?;
        b.push(t);
        total.push(t + import(ctx, image)?);
    }
    let _ = writeln!(
        md,
        "\n### Lifecycle floor\n\nA no-op buildpack (the no-op static binary as `bin/detect` and `bin/build`) on the \
         python stack building a one-file app, no previous image: `{}` ({reps} repetitions).\n\n| | time |\n|---|---|\n\
         | rpack build | {} |\n| rpack build + import into podman | {} |",
        show(&build()).replace(&ctx.scratch.path().display().to_string(), "$SCRATCH"),
        b.time(),
        total.time()
    );
    Ok(total.median())
}

/// Runs the section; returns its markdown.
pub fn run(ctx: &Ctx, reps: usize, apps: &[PathBuf]) -> Res<String> {
    for image in ["python-build", "python-run"] {
        import(ctx, &format!("localhost/rpack/{image}:latest"))?;
    }
    let base = ctx.dir("builds")?;
    let mut md = String::new();
    let floor = floor(ctx, reps.max(3), &mut md)?;
    for src in apps {
        let app = prepare(ctx, src, &base)?;
        if let Err(e) = bench_app(ctx, &app, reps, floor, &mut md) {
            let _ = writeln!(md, "\n### {}\n\nFAILED: {e}", app.name);
        }
    }
    Ok(md)
}
