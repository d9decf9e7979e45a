//! `rpack run`.

use clap::Args;
use rpack::Error;
use rpack::build::podman::PodmanError;
use rpack::build::run::{self, RunOptions};
use rpack::oci::reference::ImageRef;
use rpack::store::Store;
use rpack::toolbox::ui::Ui;

use crate::args::{ImageRefParser, parse_env};

/// `rpack run`.
#[derive(Args)]
pub struct RunArgs {
    /// The image.
    #[arg(value_parser = ImageRefParser)]
    image: ImageRef,
    /// Env for the app, `KEY=VALUE` (repeatable).
    #[arg(long, short, value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Run this process type instead of the default one.
    #[arg(long)]
    process: Option<String>,
    /// Run in the background: print the container's name and return. `rpack stop NAME` (or
    /// `podman rm --force NAME`) stops and removes it; `podman logs NAME` shows its output.
    #[arg(long, short)]
    detach: bool,
    /// Of an image with several platforms, run this one (like linux/arm64; another architecture than this
    /// machine's runs under qemu emulation). Default: this machine's, or the image's only one.
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<rpack::oci::Platform>,
    /// Arguments that replace the process's default arguments.
    #[arg(last = true)]
    args: Vec<String>,
}

pub fn run(args: RunArgs, ui: &Ui) -> Result<(), Error> {
    let store = Store::from_env()?;
    let options = RunOptions {
        env: args.env,
        process: args.process,
        args: args.args,
        platform: args.platform,
    };
    if args.detach {
        let started = run::detach(&store, &args.image, &options, ui)?;
        let short = &started.id[..12.min(started.id.len())];
        ui.step(&format!(
            "Started {} (id {short}): `{} logs {0}` shows its output, `rpack stop {0}` removes it",
            started.name,
            rpack::build::engine::selected().program()
        ));
        println!("{}", started.name);
        return Ok(());
    }
    let mut podman = run::foreground_command(&store, &args.image, &options, ui)?;
    // Become podman, so Ctrl-C and SIGTERM stop the container rather than only rpack. `exec` returns only when it
    // could not start podman.
    let error = std::os::unix::process::CommandExt::exec(&mut podman);
    Err(PodmanError::spawn(rpack::build::engine::selected(), error).into())
}
