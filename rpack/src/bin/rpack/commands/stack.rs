//! `rpack stack create`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rpack::Error;
use rpack::provision::stack::{self, StackRecipe};
use rpack::store::Store;
use rpack::toolbox::ui::Ui;

/// `rpack stack ...`.
#[derive(Subcommand)]
pub enum StackCmd {
    /// Make (or reuse) a stack's build and run images with mmdebstrap.
    Create(CreateArgs),
}

/// `rpack stack create`.
#[derive(Args)]
pub struct CreateArgs {
    /// The recipe.
    #[arg(long, default_value = "python")]
    name: String,
    /// PEM bundle of the CAs builds must trust; copied into both images.
    #[arg(long, default_value = stack::DEFAULT_CA_BUNDLE)]
    ca_bundle: PathBuf,
}

pub fn run(cmd: StackCmd, ui: &Ui) -> Result<(), Error> {
    match cmd {
        StackCmd::Create(args) => {
            let store = Store::from_env()?;
            let recipe = StackRecipe::named(&args.name)?;
            stack::create(&store, recipe, &args.ca_bundle, ui)?;
        }
    }
    Ok(())
}
