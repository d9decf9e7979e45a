//! `rpack lifecycle install`.

use clap::{Args, Subcommand};
use rpack::Error;
use rpack::provision::lifecycle::{self, Lifecycle};
use rpack::store::Store;
use rpack::toolbox::ui::Ui;

/// `rpack lifecycle ...`.
#[derive(Subcommand)]
pub enum LifecycleCmd {
    /// Install a lifecycle into rpack's store.
    Install(InstallArgs),
}

/// `rpack lifecycle install`.
#[derive(Args)]
pub struct InstallArgs {
    /// Build it from its Go module source with `go build` (needs Go and the Go module proxy).
    #[arg(long, value_name = "VERSION", default_value = lifecycle::DEFAULT_VERSION)]
    from_source: String,
}

pub fn run(cmd: LifecycleCmd, ui: &Ui) -> Result<(), Error> {
    match cmd {
        LifecycleCmd::Install(args) => {
            let store = Store::from_env()?;
            Lifecycle::install_from_source(&store, &args.from_source, ui)?;
        }
    }
    Ok(())
}
