//! `rpack images`.

use clap::Args;
use libbuildpack::toolbox::style::format_size;
use rpack::Error;
use rpack::store::Store;

/// `rpack images`.
#[derive(Args)]
pub struct ImagesArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ImagesArgs) -> Result<(), Error> {
    let store = Store::from_env()?;
    let images = rpack::store::images::list(&store);
    if args.json {
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
                format_size(image.size)
            );
        }
    }
    Ok(())
}
