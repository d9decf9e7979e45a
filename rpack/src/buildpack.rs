//! Buildpacks as files: packaging them into `.cnb` files or dirs, and scaffolding new ones (from scratch or from a
//! project.toml inline script).

pub mod inline;
pub mod package;
pub mod scaffold;

/// What failed in the buildpack folder: packaging or scaffolding, or the image, layout or output path they wrote.
/// The facade ([`crate::Error`]) takes it with `#[from]`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Preparing a buildpack.
    #[error(transparent)]
    Package(#[from] package::PackageError),
    /// Scaffolding a new buildpack.
    #[error(transparent)]
    Scaffold(#[from] scaffold::ScaffoldError),
    /// Converting a project.toml inline script into a buildpack crate.
    #[error(transparent)]
    Inline(#[from] inline::InlineError),
    /// Reading or writing an image.
    #[error(transparent)]
    Image(#[from] crate::oci::ImageError),
    /// Reading or writing a layout.
    #[error(transparent)]
    Layout(#[from] crate::oci::LayoutError),
    /// An output path rpack may not write over.
    #[error(transparent)]
    Output(#[from] crate::toolbox::output::OutputError),
}

impl Error {
    /// What the user can do about it, when there is something to say.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Package(e) => e.hint(),
            Self::Scaffold(e) => e.hint(),
            Self::Inline(e) => e.hint(),
            Self::Output(e) => e.hint(),
            Self::Image(_) | Self::Layout(_) => None,
        }
    }
}
