//! Buildpacks as files: packaging them into `.cnb` files or dirs, and scaffolding new ones (from scratch or from a
//! project.toml inline script).

pub mod inline;
pub mod package;
pub mod scaffold;

crate::toolbox::folder_error::folder_error! {
    /// What failed in the buildpack folder: packaging or scaffolding, or the image, layout or output path they wrote.
    /// The facade ([`crate::Error`]) takes it with `#[from]`.
    pub enum Error {
        /// Preparing a buildpack.
        Package(from package::PackageError) hint,
        /// Scaffolding a new buildpack.
        Scaffold(from scaffold::ScaffoldError) hint,
        /// Converting a project.toml inline script into a buildpack crate.
        Inline(from inline::InlineError) hint,
        /// Reading or writing an image.
        Image(from crate::oci::ImageError),
        /// Reading or writing a layout.
        Layout(from crate::oci::LayoutError),
        /// An output path rpack may not write over.
        Output(from crate::toolbox::output::OutputError) hint,
    }
}
