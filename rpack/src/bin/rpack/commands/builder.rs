//! `rpack builder create`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rpack::Error;
use rpack::oci::reference::ImageRef;
use rpack::store::Store;
use rpack::toolbox::ui::Ui;

use crate::args::ImageRefParser;

/// `rpack builder ...`.
#[derive(Subcommand)]
pub enum BuilderCmd {
    /// Make a builder image from a builder.toml.
    Create(CreateArgs),
}

/// `rpack builder create`.
#[derive(Args)]
pub struct CreateArgs {
    /// The builder image to write, like `localhost/my-builder:latest`.
    #[arg(value_parser = ImageRefParser)]
    image: ImageRef,
    /// The builder.toml.
    #[arg(long, short)]
    config: PathBuf,
}

pub fn run(cmd: BuilderCmd, ui: &Ui) -> Result<(), Error> {
    match cmd {
        BuilderCmd::Create(args) => {
            let store = Store::from_env()?;
            rpack::provision::builder::create(&store, &args.config, &args.image, ui)?;
        }
    }
    Ok(())
}
