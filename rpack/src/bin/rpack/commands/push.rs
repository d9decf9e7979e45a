//! `rpack push`.

use clap::Args;
use rpack::Error;
use rpack::oci::reference::ImageRef;
use rpack::store::Store;
use rpack::store::registry::{self, Access};
use rpack::toolbox::ui::Ui;

use crate::args::ImageRefParser;

/// `rpack push`.
#[derive(Args)]
pub struct PushArgs {
    /// The image in the store.
    #[arg(value_parser = ImageRefParser)]
    image: ImageRef,
    /// Where to push it (default: the image's own reference).
    #[arg(value_parser = ImageRefParser, long)]
    to: Option<ImageRef>,
    /// Skip TLS verification (TLS is never required for registries on loopback).
    #[arg(long)]
    insecure: bool,
}

pub fn run(args: &PushArgs, ui: &Ui) -> Result<(), Error> {
    let store = Store::from_env()?;
    let access = Access {
        insecure: args.insecure,
    };
    let pushed = registry::push(&store, &args.image, args.to.as_ref(), access, ui)?;
    println!("{}@{}", pushed.remote, pushed.digest);
    Ok(())
}
