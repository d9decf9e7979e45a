//! `rpack build`.

use std::path::PathBuf;

use clap::Args;
use rpack::Error;
use rpack::build::platform::{self, BuildOptions, BuilderSource};
use rpack::oci::reference::ImageRef;
use rpack::store::Store;
use rpack::store::registry::Access;
use rpack::toolbox::ui::Ui;

use crate::args::{ImageRefParser, parse_env};

/// `rpack build`.
#[derive(Args)]
pub struct BuildArgs {
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
}

pub fn run(args: BuildArgs, ui: &Ui) -> Result<(), Error> {
    let store = Store::from_env()?;
    let builder = BuilderSource::resolve(args.builder.as_deref(), &args.path)?;
    let options = BuildOptions {
        image: args.image,
        app_dir: args.path,
        builder,
        env: args.env,
        clear_cache: args.clear_cache,
        timeout: None,
    };
    let built = platform::build(&store, &options, ui)?;
    if args.publish {
        let access = Access {
            insecure: args.insecure,
        };
        platform::publish(&store, &built, access, ui)?;
    }
    Ok(())
}
