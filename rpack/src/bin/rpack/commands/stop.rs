//! `rpack stop`.

use clap::Args;
use rpack::Error;
use rpack::store::Store;

/// `rpack stop`.
#[derive(Args)]
pub struct StopArgs {
    /// Their names (as `rpack run --detach` printed them).
    #[arg(required_unless_present = "all")]
    names: Vec<String>,
    /// Every container `rpack run --detach` started.
    #[arg(long, conflicts_with = "names")]
    all: bool,
}

pub fn run(args: &StopArgs) -> Result<(), Error> {
    let store = Store::from_env()?;
    // No names means every container `rpack run --detach` started.
    let names: &[String] = if args.all { &[] } else { &args.names };
    for name in rpack::build::run::stop(&store, names)? {
        println!("removed {name}");
    }
    Ok(())
}
