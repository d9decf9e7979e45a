//! Building for another platform than the host's (`rpack build --platform linux/arm64`): the builder's,
//! run image's and previous app image's images of that platform are used, the build container runs under
//! emulation, and the app image joins its other platforms under its name.

use std::path::Path;

use crate::build::Error;
use crate::oci::reference::ImageRef;
use crate::oci::{Layout, Platform};
use crate::provision::builder::{self, Builder};
use crate::store::Store;
use crate::toolbox::ui::Ui;

/// `layout`, reading the image of `platform` when one is given.
pub(super) fn scoped(layout: Layout, platform: Option<&Platform>) -> Layout {
    layout.scoped(platform)
}

/// Checks that the platform's binaries run here and makes sure the builder's run image has the platform.
pub(super) fn ensure_run_image(
    store: &Store,
    builder: &Builder,
    platform: Option<&Platform>,
    ui: &Ui,
) -> Result<(), Error> {
    let Some(p) = platform else {
        return Ok(builder::ensure_stack_image(
            store,
            "run",
            &builder.run_image,
            ui,
        )?);
    };
    if p.arch != crate::provision::emulation::host_arch() {
        crate::provision::emulation::check(&p.arch).map_err(|e| {
            crate::provision::Error::from(crate::provision::stack::StackError::Emulation(e))
        })?;
    }
    Ok(builder::ensure_stack_image_for(
        store,
        "run",
        &builder.run_image,
        p,
        ui,
    )?)
}

/// Moves the exported image at `output` into the store as `image`: replacing it (no platform given, as
/// before rpack built for other platforms), or beside its other platforms.
pub(super) fn store_output(
    store: &Store,
    image: &ImageRef,
    output: &Path,
    platform: Option<&Platform>,
) -> Result<(), Error> {
    if platform.is_some() {
        crate::store::platforms::put(store, image, &Layout::open(output))?;
        return Ok(());
    }
    let dest = store.image_layout(image);
    crate::store::replace_dir(output, dest.root())
        .map_err(super::io_err("move into place", dest.root()))?;
    Ok(())
}
