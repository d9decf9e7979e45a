//! `rpack image rm|export|import`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rpack::Error;
use rpack::oci::reference::ImageRef;
use rpack::store::{Store, images};

use crate::args::ImageRefParser;

/// `rpack image ...`.
#[derive(Subcommand)]
pub enum ImageCmd {
    /// Remove an image from the store.
    Rm(RmArgs),
    /// Write an image as an OCI archive (a tar of its image layout).
    Export(ExportArgs),
    /// Read an OCI archive (or .cnb) into the store.
    Import(ImportArgs),
}

/// `rpack image rm`.
#[derive(Args)]
pub struct RmArgs {
    /// The image.
    #[arg(value_parser = ImageRefParser)]
    image: ImageRef,
}

/// `rpack image export`.
#[derive(Args)]
pub struct ExportArgs {
    /// The image.
    #[arg(value_parser = ImageRefParser)]
    image: ImageRef,
    /// The archive to write.
    file: PathBuf,
    /// Of an image with several platforms, write only this one (like linux/arm64). Default: every platform.
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<rpack::oci::Platform>,
}

/// `rpack image import`.
#[derive(Args)]
pub struct ImportArgs {
    /// The archive.
    file: PathBuf,
    /// The name to store it as.
    #[arg(value_parser = ImageRefParser)]
    image: ImageRef,
    /// Read the image of this platform (like linux/arm64) of an archive with several, and store it as that
    /// platform's image of the name: the name's other platforms stay. Default: every image of the archive
    /// (one per platform of a multi-platform archive), which replace the name.
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<rpack::oci::Platform>,
}

pub fn run(cmd: &ImageCmd) -> Result<(), Error> {
    let store = Store::from_env()?;
    match cmd {
        ImageCmd::Rm(args) => {
            images::remove(&store, &args.image)?;
            println!("removed {}", args.image);
        }
        ImageCmd::Export(args) => {
            images::export(&store, &args.image, &args.file, args.platform.as_ref())?;
            println!("{}", args.file.display());
        }
        ImageCmd::Import(args) => {
            images::import(&store, &args.file, &args.image, args.platform.as_ref())?;
            println!("{}", args.image);
        }
    }
    Ok(())
}
