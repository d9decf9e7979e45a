//! `rpack buildpack package` against `pack buildpack package` on the same prebuilt buildpack dir, cold and warm,
//! and rpack's builder create.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    fs::write(&one, builder_toml(&bp, "examples/hello", "0.1.0"))?;
    let repo_builder = ctx.root.join("builder/builder.toml");
    let image = "localhost/bench/builder:latest";
    let create = |config: &Path| {
        let mut cmd = ctx.rpack();
        cmd.args(["builder", "create", image, "--config"])
            .arg(config);
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
        "\n`rpack builder create` ({reps} repetitions after one untimed run; pack's `builder create` needs a Docker \
         daemon or a registry for the stack and lifecycle images, neither of which exists here, so it is not \
         compared):\n\n| builder.toml | time |\n|---|---|\n| one prebuilt buildpack dir (hello), python stack: `{}` | {} |\n\
         | builder/builder.toml (5 buildpacks from their Rust crates; cargo finds them fresh): `{}` | {} |",
        show(&create(Path::new("one-builder.toml"))),
        one_t.time(),
        show(&create(Path::new("builder/builder.toml"))),
        repo_t.time()
    );
    Ok(md)
}
