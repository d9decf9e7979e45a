//! rpack's OCI writing against layer size: package, builder create, image export (a build whose app layer
//! holds the files), rebase and push, against `tar | gzip | sha256sum` on the same files as the practical limit.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use libbuildpack_test::Registry;
use rpack::oci::reference::ImageRef;
use rpack::oci::{Image, LayerWriter, Layout};
use rpack::store::Store;

use crate::stats::{Samples, bytes, ratio, secs};
use crate::util::{Ctx, NOOP_BUILDPACK_TOML, Res, builder_toml, buildpack_dir, tree_size};

const MB: u64 = 1_000_000;
const TINY_RUN: &str = "localhost/rpack/tiny-run:latest";
const PATCHED_RUN: &str = "localhost/bench/tiny-run-patched:latest";
const TINY_BUILDER: &str = "localhost/bench/scale-tiny-builder:latest";

/// A patched copy of the tiny run image, made with rpack's OCI API as rpack/tests/rebase.rs does: the run
/// image plus one layer holding `/etc/rpack-patch`, saved in the store as [`PATCHED_RUN`].
fn patched_run_image(ctx: &Ctx) -> Res<()> {
    let store = Store::at(&ctx.rpack_home)?;
    let base: ImageRef = TINY_RUN.parse()?;
    let name: ImageRef = PATCHED_RUN.parse()?;
    let target = Layout::create(store.image_layout(&name).root())?;
    let mut image = Image::load(store.image_layout(&base))?.move_to(target.clone())?;
    let mut layer = LayerWriter::new(&target)?;
    layer.dir("etc", 0o755)?;
    layer.file("etc/rpack-patch", 0o644, b"patched by the benchmarks\n")?;
    image.add_layer(&layer.finish()?, "benchmark patch")?;
    image.save(name.tag())?;
    Ok(())
}

/// `mb` MB of files under `dir`: half random (incompressible), half generated text (compressible about 4x).
fn make_data(dir: &Path, mb: u64) -> Res<()> {
    fs::create_dir_all(dir)?;
    let total = mb * MB;
    let file_size = (total / 10).clamp(MB / 10, 8 * MB);
    let mut urandom = File::open("/dev/urandom")?;
    let mut written = 0;
    let mut i = 0;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let words = [
        "layer", "build", "cache", "python", "wheel", "import", "module", "package", "request",
        "server", "config", "value", "return", "self", "none", "true", "error", "debug",
    ];
    while written < total {
        let size = file_size.min(total - written);
        let mut buf = vec![0u8; usize::try_from(size)?];
        if i % 2 == 0 {
            urandom.read_exact(&mut buf)?;
        } else {
            let mut pos = 0;
            while pos < buf.len() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let word = words[usize::try_from(state % words.len() as u64)?];
                let sep = if state.is_multiple_of(11) {
                    b'\n'
                } else {
                    b' '
                };
                for &b in word.as_bytes().iter().chain(std::iter::once(&sep)) {
                    if pos < buf.len() {
                        buf[pos] = b;
                        pos += 1;
                    }
                }
            }
        }
        File::create(dir.join(format!(
            "f{i:04}.{}",
            if i % 2 == 0 { "bin" } else { "txt" }
        )))?
        .write_all(&buf)?;
        written += size;
        i += 1;
    }
    Ok(())
}

/// Runs the section; returns its markdown.
#[allow(clippy::too_many_lines, reason = "one table")]
#[allow(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
pub fn run(ctx: &Ctx, reps: usize, sizes_mb: &[u64]) -> Res<String> {
    let sdk = crate::util::build_sdk_crates(ctx)?;
    let noop = sdk.join("noop");
    let base = ctx.dir("scaling")?;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Per size: a dir of that many MB, half random bytes (incompressible), half generated text (gzip: about 4x), \
         in files of a tenth of the size (0.1–8 MB each). **limit**: `tar -cf - -C DIR . | gzip -6 | sha256sum` \
         (one core, as rpack's gzip level 6 is). **package**: `rpack buildpack package` of a no-op buildpack dir \
         holding the files. **builder create**: `rpack builder create` of a builder with that buildpack over the \
         python stack (its stack layers are already in the store). **image export**: `rpack build` with that \
         builder of an app dir holding the files (the lifecycle's exporter writes the app layer into rpack's \
         staging layout), no previous image. {reps} repetition(s) per size; every row's steps in turn, so the \
         ratios are pair by pair. The 0 MB row is each command's fixed cost.\n"
    );
    // Rebase and push: an app image on the tiny stack whose app layer holds the files, and a patched run image.
    let tiny_bp = base.join("tiny-bp");
    buildpack_dir(&tiny_bp, NOOP_BUILDPACK_TOML, &noop)?;
    let tiny_toml = base.join("tiny-builder.toml");
    fs::write(
        &tiny_toml,
        builder_toml("tiny", &tiny_bp, "bench/noop", "0.0.1")?,
    )?;
    ctx.run(
        ctx.rpack()
            .args(["builder", "create", TINY_BUILDER, "--config"])
            .arg(&tiny_toml),
    )?;
    let _ = ctx.run(ctx.rpack().args(["image", "rm", PATCHED_RUN]));
    patched_run_image(ctx)?;
    let mut second = String::new();
    let mut second_push_uploads = Vec::new();
    md.push_str("| size | limit: tar \\| gzip \\| sha256sum | package | package / limit | builder create | builder create / limit | image export (rpack build) | export / limit | package MB/s over its 0 MB cost |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|\n");
    let mut fixed: Option<(f64, f64, f64)> = None;
    let mut sizes = vec![0];
    sizes.extend_from_slice(sizes_mb);
    for &mb in &sizes {
        let dir = base.join(format!("{mb}mb"));
        let bp = dir.join("bp");
        buildpack_dir(&bp, NOOP_BUILDPACK_TOML, &noop)?;
        let data = bp.join("data");
        make_data(&data, mb)?;
        let app = dir.join("app");
        make_data(&app.join("data"), mb)?;
        fs::write(app.join("hello.txt"), "hi\n")?;
        let builder = dir.join("builder.toml");
        fs::write(
            &builder,
            builder_toml("python", &bp, "bench/noop", "0.0.1")?,
        )?;
        let builder_image = format!("localhost/bench/scale-builder-{mb}:latest");
        let app_image = format!("localhost/bench/scale-app-{mb}:latest");
        let (mut lim, mut pkg, mut bld, mut exp) = (
            Samples::default(),
            Samples::default(),
            Samples::default(),
            Samples::default(),
        );
        let (mut reb, mut push1, mut push2) =
            (Samples::default(), Samples::default(), Samples::default());
        let rebase_image = format!("localhost/bench/scale-rebase-{mb}:latest");
        let _ = ctx.run(ctx.rpack().args(["image", "rm", &rebase_image]));
        ctx.run(
            ctx.rpack()
                .args(["build", &rebase_image, "--path"])
                .arg(&app)
                .args(["--builder", TINY_BUILDER]),
        )?;
        eprintln!("  scaling {mb} MB ({})", bytes(tree_size(&data)));
        for _ in 0..reps {
            lim.push(ctx.run(Command::new("sh").args([
                "-c",
                &format!("tar -cf - -C '{}' . | gzip -6 | sha256sum", data.display()),
            ]))?);
            pkg.push(
                ctx.run(
                    ctx.rpack()
                        .args(["buildpack", "package", "--path"])
                        .arg(&bp)
                        .arg("-o")
                        .arg(dir.join("out.cnb")),
                )?,
            );
            bld.push(
                ctx.run(
                    ctx.rpack()
                        .args(["builder", "create", &builder_image, "--config"])
                        .arg(&builder),
                )?,
            );
            let _ = ctx.run(ctx.rpack().args(["image", "rm", &app_image]));
            exp.push(
                ctx.run(
                    ctx.rpack()
                        .args(["build", &app_image, "--path"])
                        .arg(&app)
                        .arg("--builder")
                        .arg(&builder_image),
                )?,
            );
            reb.push(ctx.run(ctx.rpack().args([
                "rebase",
                &rebase_image,
                "--run-image",
                PATCHED_RUN,
                "--force",
            ]))?);
            // Back onto the original run image (untimed), so every repetition rebases the same image.
            ctx.run(ctx.rpack().args([
                "rebase",
                &rebase_image,
                "--run-image",
                TINY_RUN,
                "--force",
            ]))?;
            // A new, empty registry per repetition: the first push uploads every blob.
            let registry = Registry::start_in(&dir)?;
            let remote = format!("{}/bench/app:latest", registry.host());
            push1.push(ctx.run(ctx.rpack().args(["push", &rebase_image, "--to", &remote]))?);
            let uploads = registry.blob_uploads("bench/app");
            push2.push(ctx.run(ctx.rpack().args(["push", &rebase_image, "--to", &remote]))?);
            second_push_uploads.push(registry.blob_uploads("bench/app") - uploads);
        }
        let _ = ctx.run(ctx.rpack().args(["image", "rm", &rebase_image]));
        let _ = ctx.run(ctx.rpack().args(["image", "rm", &app_image]));
        let _ = ctx.run(ctx.rpack().args(["image", "rm", &builder_image]));
        let (p0, _, _) = *fixed.get_or_insert((pkg.median(), bld.median(), exp.median()));
        let rate = if mb == 0 {
            "—".into()
        } else {
            format!("{:.0}", mb as f64 / (pkg.median() - p0))
        };
        let limit_rate = if mb == 0 {
            String::new()
        } else {
            format!(" ({:.0} MB/s)", mb as f64 / lim.median())
        };
        let _ = writeln!(
            md,
            "| {mb} MB | {}{limit_rate} | {} | {} | {} | {} | {} | {} | {rate} |",
            lim.time(),
            pkg.time(),
            ratio(&pkg, &lim),
            bld.time(),
            ratio(&bld, &lim),
            exp.time(),
            ratio(&exp, &lim),
        );
        let _ = writeln!(
            second,
            "| {mb} MB | {}{limit_rate} | {} | {} | {} | {} | {} | {} |",
            lim.time(),
            reb.time(),
            ratio(&reb, &lim),
            push1.time(),
            ratio(&push1, &lim),
            push2.time(),
            ratio(&push2, &lim),
        );
        fs::remove_dir_all(&dir)?;
    }
    let _ = ctx.run(ctx.rpack().args(["image", "rm", PATCHED_RUN]));
    let _ = ctx.run(ctx.rpack().args(["image", "rm", TINY_BUILDER]));
    let _ = writeln!(
        md,
        "\nFixed costs (0 MB): package {}, builder create {}, image export {}.",
        fixed.map_or_else(String::new, |f| secs(f.0)),
        fixed.map_or_else(String::new, |f| secs(f.1)),
        fixed.map_or_else(String::new, |f| secs(f.2)),
    );
    let _ = writeln!(
        md,
        "\n**rebase** and **push**, on the same files and the same limit samples: an app image built (untimed) with \
         the no-op buildpack on the tiny stack (`{TINY_RUN}`) from the app dir holding the files, so its app layer \
         is the files. **rebase**: `rpack rebase IMAGE --run-image {PATCHED_RUN} --force`, onto a copy of the run \
         image with one more layer (made with rpack's OCI API, as rpack/tests/rebase.rs does); after each \
         repetition the image is rebased back (untimed). **push**: `rpack push IMAGE --to 127.0.0.1:PORT/bench/app:latest` \
         to Debian's `docker-registry` on a free loopback port, a new registry with empty storage for each \
         repetition (first push: every blob uploaded), then the same push again (blobs uploaded by the second \
         push, from the registry's log: {}).\n\n\
         | size | limit: tar \\| gzip \\| sha256sum | rebase | rebase / limit | push (first) | push / limit | push again (unchanged) | push again / limit |\n\
         |---|---|---|---|---|---|---|---|\n{second}",
        if second_push_uploads.iter().all(|&n| n == 0) {
            "none, in every repetition".to_owned()
        } else {
            format!("{second_push_uploads:?}")
        }
    );
    Ok(md)
}
