//! `rpack inspect`.

use clap::Args;
use rpack::Error;
use rpack::store::Store;

/// `rpack inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// A .cnb (or OCI archive) file, or an image in rpack's store.
    target: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Of a file or image with several platforms, show this one (like linux/arm64). Default: this machine's,
    /// or the only one.
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<rpack::oci::Platform>,
}

pub fn run(args: &InspectArgs) -> Result<(), Error> {
    let store = Store::from_env()?;
    let report = rpack::ops::inspect::inspect_for(&store, &args.target, args.platform.as_ref())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}
