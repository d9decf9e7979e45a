//! The `rpack` command line: a thin shell over the `rpack` library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rpack::build::platform::{self, BuildOptions, BuilderSource};
use rpack::build::run::RunOptions;
use rpack::oci::reference::ImageRef;
use rpack::provision::lifecycle::{self, Lifecycle};
use rpack::provision::stack::{self, StackRecipe};
use rpack::store::Store;
use rpack::store::registry::Access;
use rpack::toolbox::ui::Ui;

mod errors;
mod from_inline;

use rpack::Error;

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
    Lifecycle(LifecycleCmd),
    /// Manage base images (build and run images).
    #[command(subcommand)]
    Stack(StackCmd),
    /// Manage builder images.
    #[command(subcommand)]
    Builder(BuilderCmd),
    /// Build an app into an image with a builder.
    Build {
        /// The image to write, like `localhost/my-app:latest`.
        #[arg(value_parser = ImageRefParser)]
        image: ImageRef,
        /// The app source dir.
        #[arg(long, short, default_value = ".")]
        path: PathBuf,
        /// A builder image in the store, or a builder.toml to make the builder from. Defaults to project.toml's
        /// `[io.buildpacks] builder`.
        #[arg(long, short = 'B')]
        builder: Option<String>,
        /// Env for the buildpacks, `KEY=VALUE` (repeatable).
        #[arg(long, short, value_parser = parse_env)]
        env: Vec<(String, String)>,
        /// Build without the cache of earlier builds.
        #[arg(long)]
        clear_cache: bool,
        /// After a successful build, push the image to the registry its reference names.
        #[arg(long)]
        publish: bool,
        /// With --publish: skip TLS verification for a registry not on loopback.
        #[arg(long, requires = "publish")]
        insecure: bool,
    },
    /// Put an app image on another or newer run image, keeping its app layers (no rebuild).
    Rebase {
        /// The app image in the store; rewritten in place.
        #[arg(value_parser = ImageRefParser)]
        image: ImageRef,
        /// The run image in the store (default: the one the image was built on).
        #[arg(value_parser = ImageRefParser, long)]
        run_image: Option<ImageRef>,
        /// Rebase even when the image is not rebasable, the targets differ or the run image is another one.
        #[arg(long)]
        force: bool,
    },
    /// Push an image from the store to a registry (only blobs the registry lacks are uploaded).
    Push {
        /// The image in the store.
        #[arg(value_parser = ImageRefParser)]
        image: ImageRef,
        /// Where to push it (default: the image's own reference).
        #[arg(value_parser = ImageRefParser, long)]
        to: Option<ImageRef>,
        /// Skip TLS verification (TLS is never required for registries on loopback).
        #[arg(long)]
        insecure: bool,
    },
    /// Pull an image (an app, a builder or a run image) from a registry into the store.
    Pull {
        /// The image in the registry, like `127.0.0.1:5000/builder:latest`.
        #[arg(value_parser = ImageRefParser)]
        reference: ImageRef,
        /// The name to store it as (default: the same reference).
        #[arg(value_parser = ImageRefParser, long = "as")]
        as_image: Option<ImageRef>,
        /// Skip TLS verification (TLS is never required for registries on loopback).
        #[arg(long)]
        insecure: bool,
    },
    /// Software bills of materials of app images.
    #[command(subcommand)]
    Sbom(SbomCmd),
    /// Package buildpacks and scaffold new ones.
    #[command(subcommand)]
    Buildpack(BuildpackCmd),
    /// Show what a .cnb file, builder or app image holds: buildpacks, order, lifecycle, processes, layers.
    Inspect {
        /// A .cnb (or OCI archive) file, or an image in rpack's store.
        target: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the images in rpack's store.
    Images {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Manage one image of rpack's store.
    #[command(subcommand)]
    Image(ImageCmd),
    /// Remove blobs no image references and temp files interrupted commands left behind.
    Prune,
    /// Check every tool a build can need (podman, runc, uidmap, skopeo, mmdebstrap, cargo, the musl target and C
    /// compiler, go, the lifecycle, the stacks, free disk) and print the command that fixes each missing one.
    Doctor,
    /// Run an app image from the store with podman (host network).
    Run {
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
        /// Arguments that replace the process's default arguments.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Stop and remove containers `rpack run --detach` started.
    Stop {
        /// Their names (as `rpack run --detach` printed them).
        #[arg(required_unless_present = "all")]
        names: Vec<String>,
        /// Every container `rpack run --detach` started.
        #[arg(long, conflicts_with = "names")]
        all: bool,
    },
}

#[derive(Subcommand)]
enum SbomCmd {
    /// Write an app image's SBOM files into a dir, laid out as pack does (`DIR/layers/sbom/launch/...`).
    Download {
        /// The app image in the store.
        #[arg(value_parser = ImageRefParser)]
        image: ImageRef,
        /// Where to write them.
        #[arg(long, short = 'o', default_value = ".")]
        output_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum BuilderCmd {
    /// Make a builder image from a builder.toml.
    Create {
        /// The builder image to write, like `localhost/my-builder:latest`.
        #[arg(value_parser = ImageRefParser)]
        image: ImageRef,
        /// The builder.toml.
        #[arg(long, short)]
        config: PathBuf,
        /// Push the builder to the registry its name gives, after pushing the stack images only rpack's store
        /// has next to it; the builder then names the pushed run image, so other platforms find it.
        #[arg(long)]
        publish: bool,
        /// With --publish: skip TLS verification for a registry not on loopback.
        #[arg(long, requires = "publish")]
        insecure: bool,
    },
    /// List the builders rpack knows (ours and well-known public ones) with what their buildpacks detect.
    Suggest,
}

#[derive(Subcommand)]
enum BuildpackCmd {
    /// Build a buildpack (or a composite from package.toml) into a reproducible .cnb file or a dir.
    Package {
        /// The buildpack dir, its Rust crate, or a dir with package.toml.
        #[arg(long, short, default_value = ".")]
        path: PathBuf,
        /// Where to write (default: `<escaped id>_<version>.cnb`, or without `.cnb` for `--format dir`);
        /// with several targets each name gets an `-<os>-<arch>` suffix.
        #[arg(long, short, conflicts_with = "workspace")]
        output: Option<PathBuf>,
        /// `file` for a .cnb, `dir` for the assembled buildpack dir.
        #[arg(long, value_enum, default_value = "file")]
        format: PackageFormat,
        /// The Rust target the binaries are built for; also sets the image's os/architecture (default: one
        /// package per `[[targets]]` of package.toml or buildpack.toml, else x86_64-unknown-linux-musl).
        #[arg(long)]
        target: Option<String>,
        /// Package every member crate of the cargo workspace at `--path` that has a buildpack.toml
        /// (dependencies of composites first), one output each.
        #[arg(long)]
        workspace: bool,
        /// Where `--workspace` writes (default: the current dir).
        #[arg(long, requires = "workspace", default_value = ".")]
        output_dir: PathBuf,
    },
    /// Scaffold a buildpack crate with a unit test, an integration test and a fixture app; with --from-inline,
    /// one converted from a project.toml inline script.
    New {
        /// The crate (and dir) name.
        name: String,
        /// The buildpack id (default `example/<name>`).
        #[arg(long)]
        id: Option<String>,
        /// Where libbuildpack comes from: a path, a git URL, or a version (default: the checkout rpack was
        /// built from).
        #[arg(long)]
        sdk: Option<String>,
        #[command(flatten)]
        from_inline: from_inline::FromInlineArgs,
    },
}

#[derive(Subcommand)]
enum ImageCmd {
    /// Remove an image from the store.
    Rm {
        /// The image.
        #[arg(value_parser = ImageRefParser)]
        image: ImageRef,
    },
    /// Write an image as an OCI archive (a tar of its image layout).
    Export {
        /// The image.
        #[arg(value_parser = ImageRefParser)]
        image: ImageRef,
        /// The archive to write.
        file: PathBuf,
    },
    /// Read an OCI archive (or .cnb) into the store.
    Import {
        /// The archive.
        file: PathBuf,
        /// The name to store it as.
        #[arg(value_parser = ImageRefParser)]
        image: ImageRef,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PackageFormat {
    File,
    Dir,
}

/// `rpack buildpack package`: one buildpack (one output per target) or a whole workspace.
fn buildpack_package(cmd: BuildpackCmd, ui: &Ui) -> Result<(), Error> {
    let BuildpackCmd::Package {
        path,
        output,
        format,
        target,
        workspace,
        output_dir,
    } = cmd
    else {
        return Ok(());
    };

    let format = match format {
        PackageFormat::File => rpack::buildpack::package::Format::File,
        PackageFormat::Dir => rpack::buildpack::package::Format::Dir,
    };
    let packaged = if workspace {
        rpack::buildpack::package::package_workspace(
            &path,
            &output_dir,
            format,
            target.as_deref(),
            ui,
        )?
    } else {
        let options = rpack::buildpack::package::PackageOptions {
            path,
            output,
            format,
            target,
        };
        rpack::buildpack::package::package(&options, ui)?
    };
    for written in packaged {
        println!("{}", written.output.display());
    }
    Ok(())
}

/// `rpack buildpack new`: the scaffold, or a crate converted from an inline script.
fn buildpack_new(store: &Store, cmd: BuildpackCmd, ui: &Ui) -> Result<(), Error> {
    let BuildpackCmd::New {
        name,
        id,
        sdk,
        from_inline,
    } = cmd
    else {
        return Ok(());
    };
    if from_inline.project.is_some() {
        return from_inline::run(store, &name, id, sdk.as_deref(), from_inline, ui);
    }
    let sdk = rpack::buildpack::scaffold::Sdk::parse(sdk.as_deref());
    let dir =
        rpack::buildpack::scaffold::create(std::path::Path::new("."), &name, id.as_deref(), &sdk)?;
    println!("{}", dir.display());
    Ok(())
}

/// `--builder`, else project.toml's builder: a path to a file (builder.toml, relative to the app dir when it
/// comes from project.toml) or else an image reference.
pub(crate) fn builder_source(
    given: Option<String>,
    app: &std::path::Path,
) -> Result<BuilderSource, Error> {
    let (text, base) = if let Some(text) = given {
        (text, PathBuf::new())
    } else {
        let project = rpack::build::project::Project::find(app)?;
        let text = project
            .as_ref()
            .and_then(|p| p.builder())
            .map(str::to_owned);
        (
            text.ok_or(rpack::build::platform::BuildError::NoBuilder)?,
            app.to_owned(),
        )
    };
    let path = base.join(&text);
    if path.is_file() {
        Ok(BuilderSource::Config(path))
    } else {
        Ok(BuilderSource::Image(text.parse()?))
    }
}

/// Parses image references for clap with rpack's own message, which shows the value with control characters
/// escaped; clap's would echo it raw to the terminal.
#[derive(Clone)]
struct ImageRefParser;

impl clap::builder::TypedValueParser for ImageRefParser {
    type Value = ImageRef;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<ImageRef, clap::Error> {
        value.to_string_lossy().parse().map_err(|err| {
            let name = arg.map_or_else(String::new, |a| format!(" for <{}>", a.get_id()));
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value{name}: {err}\n"),
            )
            .with_cmd(cmd)
        })
    }
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

#[derive(Subcommand)]
enum LifecycleCmd {
    /// Install a lifecycle into rpack's store.
    Install {
        /// Build it from its Go module source with `go build` (needs Go and the Go module proxy).
        #[arg(long, value_name = "VERSION", default_value = lifecycle::DEFAULT_VERSION)]
        from_source: String,
    },
}

#[derive(Subcommand)]
enum StackCmd {
    /// Make (or reuse) a stack's build and run images with mmdebstrap.
    Create {
        /// The recipe.
        #[arg(long, default_value = "python")]
        name: String,
        /// PEM bundle of the CAs builds must trust; copied into both images.
        #[arg(long, default_value = stack::DEFAULT_CA_BUNDLE)]
        ca_bundle: PathBuf,
    },
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
    match run(cli, &ui) {
        Ok(code) => code,
        Err(err) => {
            errors::report(&err, &ui);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, ui: &Ui) -> Result<ExitCode, Error> {
    let store = Store::from_env()?;
    match cli.command {
        Cmd::Lifecycle(LifecycleCmd::Install { from_source }) => {
            Lifecycle::install_from_source(&store, &from_source, ui)?;
        }
        Cmd::Stack(StackCmd::Create { name, ca_bundle }) => {
            let recipe = StackRecipe::named(&name)?;
            stack::create(&store, recipe, &ca_bundle, ui)?;
        }
        Cmd::Builder(cmd) => builder_cmd(&store, cmd, ui)?,
        Cmd::Build {
            image,
            path,
            builder,
            env,
            clear_cache,
            publish,
            insecure,
        } => {
            let builder = builder_source(builder, &path)?;
            let options = BuildOptions {
                image,
                app_dir: path,
                builder,
                env,
                clear_cache,
                timeout: None,
            };
            let built = platform::build(&store, &options, ui)?;
            if publish {
                platform::publish(&store, &built, Access { insecure }, ui)?;
            }
        }
        cmd @ (Cmd::Rebase { .. } | Cmd::Push { .. } | Cmd::Pull { .. } | Cmd::Sbom(_)) => {
            distribution(&store, cmd, ui)?;
        }
        Cmd::Buildpack(cmd @ BuildpackCmd::Package { .. }) => buildpack_package(cmd, ui)?,
        Cmd::Buildpack(cmd @ BuildpackCmd::New { .. }) => buildpack_new(&store, cmd, ui)?,
        Cmd::Inspect { target, json } => {
            let report = rpack::ops::inspect::inspect(&store, &target)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print!("{}", report.to_text());
            }
        }
        Cmd::Images { json } => list_images(&store, json),
        Cmd::Image(cmd) => image_cmd(&store, cmd)?,
        Cmd::Prune => prune(&store)?,
        Cmd::Doctor => return Ok(doctor(&store)),
        Cmd::Run {
            image,
            env,
            process,
            detach: true,
            args,
        } => {
            let options = RunOptions { env, process, args };
            let started = rpack::build::run::detach(&store, &image, &options, ui)?;
            let short = &started.id[..12.min(started.id.len())];
            ui.step(&format!(
                "Started {} (id {short}): `{} logs {0}` shows its output, `rpack stop {0}` removes it",
                started.name,
                rpack::build::engine::selected().program()
            ));
            println!("{}", started.name);
        }
        Cmd::Stop { names, all: _ } => {
            for name in rpack::build::run::stop(&store, &names)? {
                println!("removed {name}");
            }
        }
        Cmd::Run {
            image,
            env,
            process,
            detach: false,
            args,
        } => {
            let options = RunOptions { env, process, args };
            let mut podman = rpack::build::run::foreground_command(&store, &image, &options, ui)?;
            // Become podman, so Ctrl-C and SIGTERM stop the container rather than only rpack. `exec` returns only
            // when it could not start podman.
            let error = std::os::unix::process::CommandExt::exec(&mut podman);
            return Err(rpack::build::podman::PodmanError::Spawn(error).into());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `rpack builder create` and `rpack builder suggest`.
fn builder_cmd(store: &Store, cmd: BuilderCmd, ui: &Ui) -> Result<(), Error> {
    match cmd {
        BuilderCmd::Suggest => print!("{}", rpack::provision::builder::suggest::to_text()),
        BuilderCmd::Create {
            image,
            config,
            publish: false,
            ..
        } => {
            rpack::provision::builder::create(store, &config, &image, ui)?;
        }
        BuilderCmd::Create {
            image,
            config,
            publish: true,
            insecure,
        } => {
            let published = rpack::provision::builder::publish::create_and_publish(
                store,
                &config,
                &image,
                Access { insecure },
                ui,
            )?;
            println!("{}@{}", published.pushed.remote, published.pushed.digest);
        }
    }
    Ok(())
}

/// `rebase`, `push`, `pull` and `sbom download`.
fn distribution(store: &Store, cmd: Cmd, ui: &Ui) -> Result<(), Error> {
    match cmd {
        Cmd::Rebase {
            image,
            run_image,
            force,
        } => {
            let options = rpack::ops::rebase::RebaseOptions {
                image,
                run_image,
                force,
            };
            let rebased = rpack::ops::rebase::rebase(store, &options, ui)?;
            println!("{}@{}", rebased.image, rebased.digest);
        }
        Cmd::Push {
            image,
            to,
            insecure,
        } => {
            let pushed =
                rpack::store::registry::push(store, &image, to.as_ref(), Access { insecure }, ui)?;
            println!("{}@{}", pushed.remote, pushed.digest);
        }
        Cmd::Pull {
            reference,
            as_image,
            insecure,
        } => {
            let pulled = rpack::store::registry::pull(
                store,
                &reference,
                as_image.as_ref(),
                Access { insecure },
                ui,
            )?;
            println!("{}@{}", pulled.image, pulled.digest);
        }
        Cmd::Sbom(SbomCmd::Download { image, output_dir }) => {
            for file in rpack::ops::sbom::download(store, &image, &output_dir)? {
                println!("{}", output_dir.join(file).display());
            }
        }
        _ => {}
    }
    Ok(())
}

fn list_images(store: &Store, json: bool) {
    let images = rpack::store::images::list(store);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&images).unwrap_or_default()
        );
    } else {
        println!("{:<60} {:<13} {:<12} {:>9}", "IMAGE", "KIND", "ID", "SIZE");
        for image in images {
            let id = image.id.trim_start_matches("sha256:");
            println!(
                "{:<60} {:<13} {:<12} {:>9}",
                image.reference,
                image.kind,
                &id[..12.min(id.len())],
                rpack::toolbox::format::human_size(image.size)
            );
        }
    }
}

fn image_cmd(store: &Store, cmd: ImageCmd) -> Result<(), Error> {
    match cmd {
        ImageCmd::Rm { image } => {
            rpack::store::images::remove(store, &image)?;
            println!("removed {image}");
        }
        ImageCmd::Export { image, file } => {
            rpack::store::images::export(store, &image, &file)?;
            println!("{}", file.display());
        }
        ImageCmd::Import { file, image } => {
            rpack::store::images::import(store, &file, &image)?;
            println!("{image}");
        }
    }
    Ok(())
}

fn prune(store: &Store) -> Result<(), Error> {
    let pruned = rpack::store::images::prune(store)?;
    println!(
        "removed {} unreferenced blobs and {} stale temp entries, {} freed",
        pruned.blobs,
        pruned.temp,
        rpack::toolbox::format::human_size(pruned.bytes)
    );
    Ok(())
}

fn doctor(store: &Store) -> ExitCode {
    let checks = rpack::ops::doctor::run(store);
    for check in &checks {
        let status = match (check.ok, check.optional) {
            (true, _) => "ok  ",
            (false, true) => "todo",
            (false, false) => "FAIL",
        };
        println!("{status} {:<16} {}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            println!("     {:<16} fix: {fix}", "");
        }
    }
    if checks.iter().any(rpack::ops::doctor::Check::blocks) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
