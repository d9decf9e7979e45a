//! `rpack lifecycle install` and `rpack stack create`, for this machine's architecture or the ones given.

use std::path::Path;

use rpack::Error;
use rpack::provision::lifecycle::Lifecycle;
use rpack::provision::stack::{self, StackRecipe};
use rpack::store::Store;
use rpack::toolbox::ui::Ui;

/// Installs lifecycle `version` for each of `archs` (this machine's when empty).
pub fn lifecycle_install(
    store: &Store,
    version: &str,
    archs: &[String],
    ui: &Ui,
) -> Result<(), Error> {
    if archs.is_empty() {
        Lifecycle::install_from_source(store, version, ui)?;
    }
    for arch in archs {
        Lifecycle::install_from_source_for(store, version, arch, ui)?;
    }
    Ok(())
}

/// Makes (or reuses) the stack `name` for each of `archs` (this machine's when empty).
pub fn stack_create(
    store: &Store,
    name: &str,
    ca_bundle: &Path,
    archs: &[String],
    ui: &Ui,
) -> Result<(), Error> {
    let recipe = StackRecipe::named(name)?;
    if archs.is_empty() {
        stack::create(store, recipe, ca_bundle, ui)?;
    }
    for arch in archs {
        stack::create_for(store, recipe, ca_bundle, arch, ui)?;
    }
    Ok(())
}
