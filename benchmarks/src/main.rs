//! Side-by-side benchmarks for libbuildpack and rpack; writes `docs/benchmarks.md`.
//!
//! `cargo run --release -p benchmarks` (after `source scripts/env` and `cargo build --release -p rpack`). Sections:
//! the SDK against libcnb 0.30.x, packaging against pack, whole builds against Dockerfiles built by podman, and
//! rpack's OCI writing against layer size. Every comparison is measured pair by pair in the same run. Benchmarks,
//! not tests: nothing here runs under `cargo test`.

mod builds;
mod packaging;
mod phases;
mod scaling;
mod sdk;
mod stats;
mod util;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::{Parser, ValueEnum};

use util::{Ctx, Res, load};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum Section {
    Sdk,
    Packaging,
    Builds,
    Scaling,
}

/// Side-by-side benchmarks; writes docs/benchmarks.md.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The sections to run (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "sdk,packaging,builds,scaling"
    )]
    only: Vec<Section>,
    /// Spawns of each SDK binary per phase.
    #[arg(long, default_value_t = 200)]
    sdk_reps: usize,
    /// Repetitions of each packaging command.
    #[arg(long, default_value_t = 5)]
    package_reps: usize,
    /// Repetitions of each build case (each is a full set: fresh, code change, added dependency, no change).
    #[arg(long, default_value_t = 1)]
    build_reps: usize,
    /// Repetitions per layer size.
    #[arg(long, default_value_t = 1)]
    scaling_reps: usize,
    /// Layer sizes in MB (a 0 MB row for fixed costs is always added); `--sizes-mb 10,100,1000` for 1 GB.
    #[arg(long, value_delimiter = ',', default_value = "10,100")]
    sizes_mb: Vec<u64>,
    /// Sizes in MB of the generated extra dependency for the code-only rebuild scaling case (empty: skip it);
    /// `--dep-sizes-mb 100,1000` for 1 GB; `--dep-sizes-mb` alone skips the case.
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "100")]
    dep_sizes_mb: Vec<u64>,
    /// App dirs to build (default: the pip and uv sample apps, examples/apps/flask and examples/apps/fastapi, and
    /// the ML app of the ml buildpack's tests).
    #[arg(long)]
    app: Vec<PathBuf>,
    /// A pack binary (default: build pack from its Go module source once, into the cache next to the target dir).
    #[arg(long)]
    pack: Option<PathBuf>,
    /// Where to write the document.
    #[arg(long, default_value = "docs/benchmarks.md")]
    out: PathBuf,
    /// Print every command.
    #[arg(long, short)]
    verbose: bool,
}

fn env_path(name: &str) -> Res<PathBuf> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .ok_or_else(|| format!("{name} is not set: run `source scripts/env` first").into())
}

fn version(cmd: &str, args: &[&str]) -> String {
    match Command::new(cmd).args(args).output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_owned(),
        Err(_) => "?".into(),
    }
}

fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("?", |l| l.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem = fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches(" kB").parse::<u64>().ok())
        .map_or("?".to_owned(), |kb| format!("{} GiB", kb / 1024 / 1024));
    format!("{model}, {cores} cores, {mem}")
}

fn main() {
    let args = Args::parse();
    if let Err(e) = real_main(&args) {
        eprintln!("benchmarks: {e}");
        std::process::exit(1);
    }
}

#[allow(clippy::too_many_lines, reason = "the document, section by section")]
fn real_main(args: &Args) -> Res<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no repository root")?
        .to_owned();
    let target_dir = env_path("CARGO_TARGET_DIR")?;
    let rpack_home = env_path("RPACK_HOME")?;
    let rpack = target_dir.join("release/rpack");
    if !rpack.is_file() {
        return Err(format!(
            "{} is missing: run `cargo build --release -p rpack`",
            rpack.display()
        )
        .into());
    }
    // Not under $RPACK_HOME/tmp: `rpack prune` (run by other tests) removes what it finds there.
    let scratch = tempfile::Builder::new()
        .prefix("rpack-benchmarks-")
        .tempdir()?;
    let logs = scratch.path().join("logs");
    fs::create_dir_all(&logs)?;
    let mut ctx = Ctx {
        root: root.clone(),
        target_dir,
        rpack_home,
        rpack,
        scratch,
        logs,
        pack: None,
        verbose: args.verbose,
    };
    let started = Instant::now();
    let load_start = load();
    let mut body = String::new();
    let mut notes = Vec::new();
    let section = |title: &str,
                   body: &mut String,
                   result: Res<String>,
                   took: f64,
                   load_before: &str| {
        let _ = writeln!(body, "\n## {title}\n");
        match result {
            Ok(md) => body.push_str(&md),
            Err(e) => {
                let _ = writeln!(body, "**Failed**: {e}");
            }
        }
        let _ = writeln!(
            body,
            "\n_Section took {took:.0} s; load average (1, 5, 15 min) before: {load_before}, after: {}._",
            load()
        );
    };
    for s in [
        Section::Sdk,
        Section::Packaging,
        Section::Builds,
        Section::Scaling,
    ] {
        if !args.only.contains(&s) {
            continue;
        }
        eprintln!("== {s:?} (load {})", load());
        let t = Instant::now();
        let l = load();
        let (title, result) = match s {
            Section::Sdk => (
                "SDK: libbuildpack against libcnb 0.30.x (examples/hello)",
                sdk::run(&ctx, args.sdk_reps),
            ),
            Section::Packaging => {
                match packaging::ensure_pack(&ctx, args.pack.as_deref()) {
                    Ok(p) => ctx.pack = Some(p),
                    Err(e) => notes.push(format!("pack is blocked: {e}")),
                }
                (
                    "Packaging: rpack against pack",
                    packaging::run(&ctx, args.package_reps),
                )
            }
            Section::Builds => {
                let apps = if args.app.is_empty() {
                    // The sample apps, where they now live or where the buildpacks' tests kept them.
                    [
                        ("examples/apps/flask", "buildpacks/pip/tests/fixtures/flask"),
                        (
                            "examples/apps/fastapi",
                            "buildpacks/uv/tests/fixtures/fastapi",
                        ),
                        // The ML app: scikit-learn, numpy and scipy, a venv of about 150 MB.
                        (
                            "buildpacks/ml/tests/fixtures/sklearn",
                            "buildpacks/ml/tests/fixtures/sklearn",
                        ),
                    ]
                    .iter()
                    .map(|(new, old)| {
                        let new = root.join(new);
                        if new.is_dir() { new } else { root.join(old) }
                    })
                    .collect()
                } else {
                    args.app.clone()
                };
                (
                    "Builds: the builder against a best-practice Dockerfile",
                    builds::run(&ctx, args.build_reps, &apps, &args.dep_sizes_mb),
                )
            }
            Section::Scaling => (
                "Scaling: rpack's OCI writing against layer size",
                scaling::run(&ctx, args.scaling_reps, &args.sizes_mb),
            ),
        };
        if let Err(e) = &result {
            eprintln!("  failed: {e}");
        }
        section(title, &mut body, result, t.elapsed().as_secs_f64(), &l);
    }

    let mut doc = String::new();
    let cmdline: Vec<String> = std::env::args().skip(1).collect();
    let _ = writeln!(
        doc,
        "# Benchmarks\n\nGenerated by `source scripts/env && cargo build --release -p rpack && cargo run --release -p \
         benchmarks --{}{}` ([`benchmarks/`](../benchmarks)); do not edit by hand. Times are wall-clock medians \
         with (min–max); a ratio is the median (min–max) of the ratios of samples taken side by side in the same \
         run, so load that changes during the run hits both sides alike.\n",
        if cmdline.is_empty() { "" } else { " " },
        cmdline.join(" ")
    );
    let _ = writeln!(
        doc,
        "- Machine: {}; {}; podman {}; {}; {}.\n- Load average (1, 5, 15 min) at the start: {load_start}; at the end: \
         {}. The machine is shared with other engineers' builds and tests, so absolute times are noisy; the \
         ratios are the numbers to read.\n- Whole run: {:.0} s. Repetitions: SDK {}, packaging {}, builds {}, \
         scaling {} (the defaults keep a run near 15 minutes; `--sdk-reps`, `--package-reps`, `--build-reps`, \
         `--scaling-reps` and `--sizes-mb 10,100,1000` for more).",
        machine(),
        version("uname", &["-sr"]),
        version("podman", &["--version"]).trim_start_matches("podman version "),
        version(&ctx.rpack.to_string_lossy(), &["--version"]),
        ctx.pack.as_ref().map_or("pack: none".into(), |p| format!(
            "pack {}",
            version(&p.to_string_lossy(), &["version"])
        )),
        load(),
        started.elapsed().as_secs_f64(),
        args.sdk_reps,
        args.package_reps,
        args.build_reps,
        args.scaling_reps,
    );
    for n in &notes {
        let _ = writeln!(doc, "- {n}");
    }
    doc.push_str(&body);
    let notes_path = root.join("benchmarks/NOTES.md");
    if let Ok(text) = fs::read_to_string(&notes_path) {
        let _ = writeln!(doc, "\n{text}");
    }
    let out = if args.out.is_absolute() {
        args.out.clone()
    } else {
        root.join(&args.out)
    };
    fs::write(&out, doc)?;
    eprintln!("wrote {}", out.display());
    // Keep the commands' logs of the last run for a look at what took the time.
    let kept = ctx
        .target_dir
        .parent()
        .unwrap_or(&ctx.target_dir)
        .join("benchmarks-logs");
    let _ = fs::remove_dir_all(&kept);
    if fs::rename(&ctx.logs, &kept).is_ok() {
        eprintln!("the commands' logs: {}", kept.display());
    }
    Ok(())
}
