//! `rpack pull`.

use clap::Args;
use rpack::Error;
use rpack::oci::reference::ImageRef;
use rpack::store::Store;
use rpack::store::registry::{self, Access};
use rpack::toolbox::ui::Ui;

use crate::args::ImageRefParser;

/// `rpack pull`.
#[derive(Args)]
pub struct PullArgs {
    /// The image in the registry, like `127.0.0.1:5000/builder:latest`.
    #[arg(value_parser = ImageRefParser)]
    reference: ImageRef,
    /// The name to store it as (default: the same reference).
    #[arg(value_parser = ImageRefParser, long = "as")]
    as_image: Option<ImageRef>,
    /// Skip TLS verification (TLS is never required for registries on loopback).
    #[arg(long)]
    insecure: bool,
}

pub fn run(args: &PullArgs, ui: &Ui) -> Result<(), Error> {
    let store = Store::from_env()?;
    let access = Access {
        insecure: args.insecure,
    };
    let pulled = registry::pull(&store, &args.reference, args.as_image.as_ref(), access, ui)?;
    println!("{}@{}", pulled.image, pulled.digest);
    Ok(())
}
