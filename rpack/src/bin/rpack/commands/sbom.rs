//! `rpack sbom download`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rpack::Error;
use rpack::oci::reference::ImageRef;
use rpack::store::Store;

use crate::args::ImageRefParser;

/// `rpack sbom ...`.
#[derive(Subcommand)]
pub enum SbomCmd {
    /// Write an app image's SBOM files into a dir, laid out as pack does (`DIR/layers/sbom/launch/...`).
    Download(DownloadArgs),
}

/// `rpack sbom download`.
#[derive(Args)]
pub struct DownloadArgs {
    /// The app image in the store.
    #[arg(value_parser = ImageRefParser)]
    image: ImageRef,
    /// Where to write them.
    #[arg(long, short = 'o', default_value = ".")]
    output_dir: PathBuf,
}

pub fn run(cmd: SbomCmd) -> Result<(), Error> {
    match cmd {
        SbomCmd::Download(args) => {
            let store = Store::from_env()?;
            for file in rpack::ops::sbom::download(&store, &args.image, &args.output_dir)? {
                println!("{}", args.output_dir.join(file).display());
            }
        }
    }
    Ok(())
}
