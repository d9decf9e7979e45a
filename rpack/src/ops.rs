//! What is done to built images: rebase, SBOM download, inspect, and the doctor that checks the tools.

pub mod doctor;
pub mod inspect;
pub mod rebase;
pub mod sbom;

/// What failed in the ops folder: rebase, SBOM download or inspect, or the store, image, layout or buildpackage
/// they read. The facade ([`crate::Error`]) takes it with `#[from]`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Rebasing an app image.
    #[error(transparent)]
    Rebase(#[from] rebase::RebaseError),
    /// Downloading an image's SBOM.
    #[error(transparent)]
    Sbom(#[from] sbom::SbomError),
    /// Nothing to inspect.
    #[error(transparent)]
    Inspect(#[from] inspect::InspectError),
    /// The store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Reading or writing an image.
    #[error(transparent)]
    Image(#[from] crate::oci::ImageError),
    /// Reading or writing a layout.
    #[error(transparent)]
    Layout(#[from] crate::oci::LayoutError),
    /// An image reference.
    #[error(transparent)]
    ImageRef(#[from] crate::oci::reference::InvalidImageRef),
    /// Reading a buildpackage.
    #[error(transparent)]
    Buildpack(#[from] crate::buildpack::Error),
}

impl Error {
    /// What the user can do about it, when there is something to say.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Rebase(e) => e.hint(),
            Self::Sbom(e) => e.hint(),
            Self::Inspect(e) => e.hint(),
            Self::Buildpack(e) => e.hint(),
            Self::Store(_) | Self::Image(_) | Self::Layout(_) | Self::ImageRef(_) => None,
        }
    }
}

impl From<crate::buildpack::package::PackageError> for Error {
    fn from(err: crate::buildpack::package::PackageError) -> Self {
        Self::Buildpack(err.into())
    }
}
