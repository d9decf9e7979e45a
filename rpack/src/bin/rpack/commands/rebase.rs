//! `rpack rebase`.

use clap::Args;
use rpack::Error;
use rpack::oci::reference::ImageRef;
use rpack::ops::rebase::{self, RebaseOptions};
use rpack::store::Store;
use rpack::toolbox::ui::Ui;

use crate::args::ImageRefParser;

/// `rpack rebase`.
#[derive(Args)]
pub struct RebaseArgs {
    /// The app image in the store; rewritten in place.
    #[arg(value_parser = ImageRefParser)]
    image: ImageRef,
    /// The run image in the store (default: the one the image was built on).
    #[arg(value_parser = ImageRefParser, long)]
    run_image: Option<ImageRef>,
    /// Rebase even when the image is not rebasable, the targets differ or the run image is another one.
    #[arg(long)]
    force: bool,
}

pub fn run(args: RebaseArgs, ui: &Ui) -> Result<(), Error> {
    let store = Store::from_env()?;
    let options = RebaseOptions {
        image: args.image,
        run_image: args.run_image,
        force: args.force,
    };
    let rebased = rebase::rebase(&store, &options, ui)?;
    println!("{}@{}", rebased.image, rebased.digest);
    Ok(())
}
