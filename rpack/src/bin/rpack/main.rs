//! The `rpack` command line: a thin shell over the `rpack` library. Each command lives in its own module under
//! `commands/`, with its args struct; commands open the store only when they need it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rpack::Error;
use rpack::toolbox::ui::Ui;

mod args;
mod commands;
mod errors;

use commands::{
    build, builder, buildpack, doctor, image, images, inspect, lifecycle, prune, pull, push,
    rebase, run, sbom, stack, stop,
};

/// Package, build, run and inspect Cloud Native Buildpacks with the reference lifecycle and podman.
#[derive(Parser)]
#[command(name = "rpack", version, about)]
struct Cli {
    /// The container engine for builds and apps: `podman`, or `docker` (the docker CLI, at `DOCKER_HOST`).
    /// Default: `RPACK_ENGINE`, else docker when `DOCKER_HOST` is set and the docker CLI is installed, else
    /// podman.
    #[arg(long, global = true, value_enum)]
    engine: Option<EngineArg>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum EngineArg {
    Podman,
    Docker,
}

#[derive(Subcommand)]
enum Cmd {
    /// Manage the reference lifecycle.
    #[command(subcommand)]
    Lifecycle(lifecycle::LifecycleCmd),
    /// Manage base images (build and run images).
    #[command(subcommand)]
    Stack(stack::StackCmd),
    /// Manage builder images.
    #[command(subcommand)]
    Builder(builder::BuilderCmd),
    /// Build an app into an image with a builder.
    Build(build::BuildArgs),
    /// Put an app image on another or newer run image, keeping its app layers (no rebuild).
    Rebase(rebase::RebaseArgs),
    /// Push an image from the store to a registry (only blobs the registry lacks are uploaded).
    Push(push::PushArgs),
    /// Pull an image (an app, a builder or a run image) from a registry into the store.
    Pull(pull::PullArgs),
    /// Software bills of materials of app images.
    #[command(subcommand)]
    Sbom(sbom::SbomCmd),
    /// Package buildpacks and scaffold new ones.
    #[command(subcommand)]
    Buildpack(buildpack::BuildpackCmd),
    /// Show what a .cnb file, builder or app image holds: buildpacks, order, lifecycle, processes, layers.
    Inspect(inspect::InspectArgs),
    /// List the images in rpack's store.
    Images(images::ImagesArgs),
    /// Manage one image of rpack's store.
    #[command(subcommand)]
    Image(image::ImageCmd),
    /// Remove blobs no image references and temp files interrupted commands left behind.
    Prune,
    /// Check every tool a build can need (podman, runc, uidmap, skopeo, mmdebstrap, cargo, the musl target and C
    /// compiler, go, the lifecycle, the stacks, free disk) and print the command that fixes each missing one.
    Doctor,
    /// Run an app image from the store with podman (host network).
    Run(run::RunArgs),
    /// Stop and remove containers `rpack run --detach` started.
    Stop(stop::StopArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::stderr();
    if let Some(engine) = cli.engine {
        rpack::build::engine::select(match engine {
            EngineArg::Podman => rpack::build::engine::Engine::Podman,
            EngineArg::Docker => rpack::build::engine::Engine::Docker,
        });
    }
    // Ctrl-C, SIGTERM and SIGHUP remove the temp files and dirs of the command before it ends.
    if let Err(err) = rpack::toolbox::scratch::install_handlers() {
        ui.warn(&format!(
            "could not install signal handlers ({err}); an interrupted command leaves its temp files for `rpack prune`"
        ));
    }
    match dispatch(cli.command, &ui) {
        Ok(code) => code,
        Err(err) => {
            errors::report(&err, &ui);
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Cmd, ui: &Ui) -> Result<ExitCode, Error> {
    match command {
        Cmd::Lifecycle(cmd) => lifecycle::run(cmd, ui)?,
        Cmd::Stack(cmd) => stack::run(cmd, ui)?,
        Cmd::Builder(cmd) => builder::run(&cmd, ui)?,
        Cmd::Build(args) => build::run(args, ui)?,
        Cmd::Rebase(args) => rebase::run(args, ui)?,
        Cmd::Push(args) => push::run(&args, ui)?,
        Cmd::Pull(args) => pull::run(&args, ui)?,
        Cmd::Sbom(cmd) => sbom::run(cmd)?,
        Cmd::Buildpack(cmd) => buildpack::run(cmd, ui)?,
        Cmd::Inspect(args) => inspect::run(&args)?,
        Cmd::Images(args) => images::run(&args)?,
        Cmd::Image(cmd) => image::run(&cmd)?,
        Cmd::Prune => prune::run()?,
        Cmd::Doctor => return doctor::run(),
        Cmd::Run(args) => run::run(args, ui)?,
        Cmd::Stop(args) => stop::run(&args)?,
    }
    Ok(ExitCode::SUCCESS)
}
