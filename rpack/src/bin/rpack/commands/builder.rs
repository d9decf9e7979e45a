//! `rpack builder create` and `rpack builder suggest`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rpack::Error;
use rpack::oci::reference::ImageRef;
use rpack::store::Store;
use rpack::store::registry::Access;
use rpack::toolbox::ui::Ui;

use crate::args::ImageRefParser;

/// `rpack builder ...`.
#[derive(Subcommand)]
pub enum BuilderCmd {
    /// Make a builder image from a builder.toml.
    Create(CreateArgs),
    /// List the builders rpack knows (ours and well-known public ones) with what their buildpacks detect.
    Suggest,
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
    /// Push the builder to the registry its name gives, after pushing the stack images only rpack's store
    /// has next to it; the builder then names the pushed run image, so other platforms find it.
    #[arg(long)]
    publish: bool,
    /// With --publish: skip TLS verification for a registry not on loopback.
    #[arg(long, requires = "publish")]
    insecure: bool,
    /// Make only this platform's image (like linux/arm64; repeat for several) of the ones builder.toml's
    /// [[targets]] name; the builder's other platforms stay as they are. Default: every target.
    #[arg(long, value_name = "OS/ARCH", conflicts_with = "publish")]
    platform: Vec<rpack::oci::Platform>,
}

pub fn run(cmd: &BuilderCmd, ui: &Ui) -> Result<(), Error> {
    match cmd {
        BuilderCmd::Suggest => print!("{}", rpack::provision::builder::suggest::to_text()),
        BuilderCmd::Create(args) => create(args, ui)?,
    }
    Ok(())
}

fn create(args: &CreateArgs, ui: &Ui) -> Result<(), Error> {
    let store = Store::from_env()?;
    if !args.publish {
        rpack::provision::builder::create_for(
            &store,
            &args.config,
            &args.image,
            &args.platform,
            ui,
        )?;
        return Ok(());
    }
    let access = Access {
        insecure: args.insecure,
    };
    let published = rpack::provision::builder::publish::create_and_publish(
        &store,
        &args.config,
        &args.image,
        access,
        ui,
    )?;
    println!("{}@{}", published.pushed.remote, published.pushed.digest);
    Ok(())
}
