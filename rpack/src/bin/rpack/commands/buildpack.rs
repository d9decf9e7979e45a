//! `rpack buildpack package` and `rpack buildpack new`: neither needs the store (but `new --from-inline
//! --measure`, which builds the app).

mod from_inline;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rpack::buildpack::Error;
use rpack::buildpack::package::{self, Format, PackageOptions};
use rpack::buildpack::scaffold::{self, Sdk};
use rpack::toolbox::ui::Ui;

/// `rpack buildpack ...`.
#[derive(Subcommand)]
pub enum BuildpackCmd {
    /// Build a buildpack (or a composite from package.toml) into a reproducible .cnb file or a dir.
    Package(PackageArgs),
    /// Scaffold a buildpack crate with a unit test, an integration test and a fixture app; with --from-inline,
    /// one converted from a project.toml inline script.
    New(NewArgs),
}

/// `rpack buildpack package`.
#[derive(Args)]
pub struct PackageArgs {
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
}

/// `rpack buildpack new`.
#[derive(Args)]
pub struct NewArgs {
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
}

/// What `rpack buildpack package` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PackageFormat {
    /// A `.cnb` file.
    File,
    /// The assembled buildpack dir.
    Dir,
}

pub fn run(cmd: BuildpackCmd, ui: &Ui) -> Result<(), rpack::Error> {
    match cmd {
        BuildpackCmd::Package(args) => Ok(package(args, ui)?),
        BuildpackCmd::New(args) if args.from_inline.project.is_some() => from_inline::run(
            &args.name,
            args.id,
            args.sdk.as_deref(),
            args.from_inline,
            ui,
        ),
        BuildpackCmd::New(args) => Ok(new(&args)?),
    }
}

/// One buildpack (one output per target) or a whole workspace.
fn package(args: PackageArgs, ui: &Ui) -> Result<(), Error> {
    let format = match args.format {
        PackageFormat::File => Format::File,
        PackageFormat::Dir => Format::Dir,
    };
    let packaged = if args.workspace {
        package::package_workspace(
            &args.path,
            &args.output_dir,
            format,
            args.target.as_deref(),
            ui,
        )?
    } else {
        let options = PackageOptions {
            path: args.path,
            output: args.output,
            format,
            target: args.target,
        };
        package::package(&options, ui)?
    };
    for written in packaged {
        println!("{}", written.output.display());
    }
    Ok(())
}

fn new(args: &NewArgs) -> Result<(), Error> {
    let sdk = Sdk::parse(args.sdk.as_deref());
    let dir = scaffold::create(Path::new("."), &args.name, args.id.as_deref(), &sdk)?;
    println!("{}", dir.display());
    Ok(())
}
