//! `rpack buildpack package` against `pack buildpack package` on the same prebuilt buildpack dir, cold and warm,
//! rpack's builder create, and `pack builder create --publish` against `rpack builder create` + `rpack push` to a
//! loopback registry.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use libbuildpack_test::Registry;

use crate::stats::{Samples, bytes, ratio};
use crate::util::{Ctx, Res, builder_toml, buildpack_dir, show};

/// Finds or builds pack with `scripts/pack --which` (pack v0.40.6 from its Go module source, cached under
/// `~/.cache/libbuildpack`); returns its path.
pub fn ensure_pack(ctx: &Ctx, given: Option<&Path>) -> Res<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_owned());
    }
    let path = ctx.output(
        Command::new("bash")
            .arg(ctx.root.join("scripts/pack"))
            .arg("--which")
            .env(
                "PACK_BIN",
                ctx.target_dir
                    .parent()
                    .unwrap_or(&ctx.target_dir)
                    .join("pack-v0.40.6/pack"),
            ),
    )?;
    Ok(PathBuf::from(path.trim()))
}

fn rpack_package(ctx: &Ctx, home: &Path, bp: &Path, out: &Path) -> Command {
    let mut cmd = Command::new(&ctx.rpack);
    cmd.env("RPACK_HOME", home)
        .args(["buildpack", "package", "--path"])
        .arg(bp)
        .arg("-o")
        .arg(out);
    cmd
}

fn pack_package(pack: &Path, home: &Path, bp: &Path, out: &Path) -> Command {
    let mut cmd = Command::new(pack);
    cmd.env("PACK_HOME", home)
        .args(["buildpack", "package"])
        .arg(out)
        .args(["--format", "file", "--path"])
        .arg(bp);
    cmd
}

/// Runs the section; returns its markdown.
#[allow(clippy::too_many_lines, reason = "one table after another")]
pub fn run(ctx: &Ctx, reps: usize) -> Res<String> {
    let hello = crate::util::build_hello(ctx)?;
    let base = ctx.dir("packaging")?;
    let bp = base.join("hello-bp");
    buildpack_dir(
        &bp,
        &fs::read_to_string(ctx.root.join("examples/hello/buildpack.toml"))?,
        &hello,
    )?;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "The buildpack dir: examples/hello's `buildpack.toml` and its static binary as `bin/detect` and \
         `bin/build` ({} in all). **Cold**: a new, empty `RPACK_HOME` / `PACK_HOME` and no output file; **warm**: \
         the same home again, overwriting the output. {reps} repetitions, rpack and pack alternating which goes \
         first.\n",
        bytes(crate::util::tree_size(&bp))
    );

    let pack = ctx.pack.clone();
    let (mut rc, mut rw, mut pc, mut pw) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    let mut sizes = (0, 0);
    for rep in 0..reps {
        let dir = ctx.dir(&format!("packaging/{rep}"))?;
        let (rhome, phome) = (dir.join("rpack-home"), dir.join("pack-home"));
        fs::create_dir_all(&rhome)?;
        fs::create_dir_all(&phome)?;
        let (rout, pout) = (dir.join("rpack.cnb"), dir.join("pack.cnb"));
        let mut ours = |cold: bool| -> Res<()> {
            let t = ctx.run(&mut rpack_package(ctx, &rhome, &bp, &rout))?;
            if cold {
                rc.push(t);
            } else {
                rw.push(t);
            }
            Ok(())
        };
        let mut theirs = |cold: bool| -> Res<()> {
            if let Some(pack) = &pack {
                let t = ctx.run(&mut pack_package(pack, &phome, &bp, &pout))?;
                if cold { pc.push(t) } else { pw.push(t) }
            }
            Ok(())
        };
        for cold in [true, false] {
            if rep % 2 == 0 {
                ours(cold)?;
                theirs(cold)?;
            } else {
                theirs(cold)?;
                ours(cold)?;
            }
        }
        sizes = (
            fs::metadata(&rout)?.len(),
            fs::metadata(&pout).map_or(0, |m| m.len()),
        );
    }
    let _ = writeln!(
        md,
        "Commands: `{}` and `{}`.\n",
        show(&rpack_package(
            ctx,
            Path::new("$RPACK_HOME"),
            Path::new("DIR"),
            Path::new("out.cnb")
        )),
        show(&pack_package(
            Path::new("pack"),
            Path::new("$PACK_HOME"),
            Path::new("DIR"),
            Path::new("out.cnb")
        ))
    );
    md.push_str("| | rpack | pack | rpack / pack (pair by pair) |\n|---|---|---|---|\n");
    if pack.is_some() {
        let _ = writeln!(
            md,
            "| cold | {} | {} | {} |",
            rc.time(),
            pc.time(),
            ratio(&rc, &pc)
        );
        let _ = writeln!(
            md,
            "| warm | {} | {} | {} |",
            rw.time(),
            pw.time(),
            ratio(&rw, &pw)
        );
        let _ = writeln!(
            md,
            "| .cnb size | {} | {} | |",
            bytes(sizes.0),
            bytes(sizes.1)
        );
    } else {
        let _ = writeln!(md, "| cold | {} | blocked | |", rc.time());
        let _ = writeln!(md, "| warm | {} | blocked | |", rw.time());
    }

    // Builder create: a builder of the prebuilt hello dir (OCI writing only) and the repo's builder.toml (five
    // buildpacks built from their crates by cargo, fresh: cargo only checks them).
    let one = base.join("one-builder.toml");
    fs::write(
        &one,
        builder_toml("python", &bp, "examples/hello", "0.1.0")?,
    )?;
    let repo_builder = ctx.root.join("builder/builder.toml");
    let image = "localhost/bench/builder:latest";
    let host = rpack::oci::Platform::host().to_string();
    let create = |config: &Path| {
        let mut cmd = ctx.rpack();
        cmd.args(["builder", "create", image, "--config"])
            .arg(config)
            // builder/builder.toml also targets arm64: only this machine's platform is timed.
            .args(["--platform", &host]);
        cmd
    };
    let (mut one_t, mut repo_t) = (Samples::default(), Samples::default());
    // A first, untimed create of each: the store then holds the stack's layers and cargo's builds are fresh.
    ctx.run(&mut create(&one))?;
    ctx.run(&mut create(&repo_builder))?;
    for _ in 0..reps {
        one_t.push(ctx.run(&mut create(&one))?);
        repo_t.push(ctx.run(&mut create(&repo_builder))?);
    }
    let _ = ctx.run(ctx.rpack().args(["image", "rm", image]));
    let _ = writeln!(
        md,
        "\n`rpack builder create` into the store ({reps} repetitions after one untimed run, so these are rebuilds of an \
         existing builder whose inputs are unchanged, which rpack recognises by its `io.rpack.builder.inputs` label):\n\n| builder.toml | time |\n|---|---|\n| one prebuilt buildpack dir (hello), python stack: `{}` | {} |\n\
         | builder/builder.toml (6 buildpacks from their Rust crates; cargo finds them fresh): `{}` | {} |",
        show(&create(Path::new("one-builder.toml"))),
        one_t.time(),
        show(&create(Path::new("builder/builder.toml"))),
        repo_t.time()
    );
    if let Some(pack) = &pack {
        md.push_str(&builder_vs_pack(ctx, pack, &base, &bp, reps)?);
    }
    Ok(md)
}

/// `pack builder create REG/..:latest --config builder.toml --publish` against `rpack builder create` + `rpack
/// push` of the same builder.toml (the hello buildpack dir, the tiny stack in a loopback registry, the lifecycle
/// dir of rpack's store), cold and warm, pair by pair.
#[allow(clippy::too_many_lines, reason = "one table")]
fn builder_vs_pack(ctx: &Ctx, pack: &Path, base: &Path, bp: &Path, reps: usize) -> Res<String> {
    let registry = Registry::start_in(base)?;
    let host = registry.host();
    let (build, run) = (
        format!("{host}/rpack/tiny-build:latest"),
        format!("{host}/rpack/tiny-run:latest"),
    );
    ctx.run(
        ctx.rpack()
            .args(["push", "localhost/rpack/tiny-build:latest", "--to", &build]),
    )?;
    ctx.run(
        ctx.rpack()
            .args(["push", "localhost/rpack/tiny-run:latest", "--to", &run]),
    )?;
    let lifecycle = ctx.rpack_home.join("lifecycle/0.21.17");
    if !lifecycle.join("lifecycle.toml").is_file() {
        return Err(format!(
            "{} is missing: run `rpack lifecycle` first",
            lifecycle.display()
        )
        .into());
    }
    let config = base.join("registry-builder.toml");
    fs::write(
        &config,
        format!(
            "description = \"benchmark builder\"\n\n[[buildpacks]]\nuri = \"{}\"\n\n[[order]]\n[[order.group]]\n\
             id = \"examples/hello\"\nversion = \"0.1.0\"\n\n[build]\nimage = \"{build}\"\n\n[[run.images]]\n\
             image = \"{run}\"\n\n[lifecycle]\nuri = \"{}\"\n",
            bp.display(),
            lifecycle.display()
        ),
    )?;
    let pack_create = |home: &Path, image: &str| {
        let mut cmd = Command::new(pack);
        cmd.env("PACK_HOME", home)
            .env("HOME", home)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .args(["builder", "create", image, "--config"])
            .arg(&config)
            .arg("--publish");
        cmd
    };
    let rpack_in = |home: &Path| {
        let mut cmd = Command::new(&ctx.rpack);
        cmd.env("RPACK_HOME", home);
        cmd
    };
    let (mut pc, mut pw) = (Samples::default(), Samples::default());
    let (mut rc, mut rw) = (Samples::default(), Samples::default());
    let (mut cold_pull, mut cold_create, mut cold_push) =
        (Samples::default(), Samples::default(), Samples::default());
    let (mut warm_create, mut warm_push) = (Samples::default(), Samples::default());
    for rep in 0..reps {
        let dir = ctx.dir(&format!("builder-vs-pack/{rep}"))?;
        let (rhome, phome) = (dir.join("rpack-home"), dir.join("pack-home"));
        fs::create_dir_all(&rhome)?;
        fs::create_dir_all(&phome)?;
        // A new repository per repetition: the cold runs push into one that is empty.
        let (pimage, rimage) = (
            format!("{host}/bench/pack-builder-{rep}:latest"),
            format!("{host}/bench/rpack-builder-{rep}:latest"),
        );
        let mut ours = |cold: bool| -> Res<()> {
            let mut pull = std::time::Duration::ZERO;
            if cold {
                // A new store: the stack comes from the registry, as pack's does.
                pull += ctx.run(rpack_in(&rhome).args(["pull", &build]))?;
                pull += ctx.run(rpack_in(&rhome).args(["pull", &run]))?;
            }
            let create = ctx.run(
                rpack_in(&rhome)
                    .args(["builder", "create", &rimage, "--config"])
                    .arg(&config),
            )?;
            let push = ctx.run(rpack_in(&rhome).args(["push", &rimage]))?;
            if cold {
                cold_pull.push(pull);
                cold_create.push(create);
                cold_push.push(push);
                rc.push(pull + create + push);
            } else {
                warm_create.push(create);
                warm_push.push(push);
                rw.push(create + push);
            }
            Ok(())
        };
        let mut theirs = |cold: bool| -> Res<()> {
            let t = ctx.run(&mut pack_create(&phome, &pimage))?;
            if cold {
                pc.push(t);
            } else {
                pw.push(t);
            }
            Ok(())
        };
        for cold in [true, false] {
            if rep % 2 == 0 {
                ours(cold)?;
                theirs(cold)?;
            } else {
                theirs(cold)?;
                ours(cold)?;
            }
        }
    }
    let mut md = String::new();
    let _ = writeln!(
        md,
        "\n### builder create: rpack against pack, both ending in a registry\n\n\
         One builder.toml for both: the hello buildpack dir above, the tiny stack (`localhost/rpack/tiny-build`, \
         `tiny-run`) pushed by rpack to Debian's `docker-registry` on a free loopback port (`REG`), and `[lifecycle] \
         uri` = the lifecycle 0.21.17 dir of rpack's store (so neither downloads it). No Docker daemon: pack \
         publishes straight to the registry. **Cold**: a new, empty `PACK_HOME` / `RPACK_HOME` and a new \
         repository; rpack's new store first pulls the two stack images from the registry (pack reads the \
         build image's manifest and config from the registry and leaves its layers there). **Warm**: the same \
         home and repository again. {reps} repetitions, alternating which goes first.\n\n\
         Commands: `{}` against `rpack pull REG/rpack/tiny-build:latest` + `rpack pull REG/rpack/tiny-run:latest` \
         (cold only) + `rpack builder create REG/bench/rpack-builder:latest --config builder.toml` + `rpack push \
         REG/bench/rpack-builder:latest`.\n\n\
         | | rpack (pull + create + push) | pack builder create --publish | rpack / pack (pair by pair) | rpack: pull | rpack: builder create | rpack: push |\n\
         |---|---|---|---|---|---|---|\n\
         | cold | {} | {} | {} | {} | {} | {} |\n\
         | warm | {} | {} | {} | — | {} | {} |",
        show(&pack_create(
            Path::new("$PACK_HOME"),
            "REG/bench/pack-builder:latest"
        ))
        .replace(&config.display().to_string(), "builder.toml"),
        rc.time(),
        pc.time(),
        ratio(&rc, &pc),
        cold_pull.time(),
        cold_create.time(),
        cold_push.time(),
        rw.time(),
        pw.time(),
        ratio(&rw, &pw),
        warm_create.time(),
        warm_push.time(),
    );
    Ok(md)
}
