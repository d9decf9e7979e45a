//! What is done to built images: rebase, SBOM download, inspect, and the doctor that checks the tools; and
//! `measure`, which times an app's builds two ways.

pub mod doctor;
pub mod inspect;
pub mod measure;
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
    /// Preparing an app to measure its builds.
    #[error(transparent)]
    Measure(#[from] measure::MeasureError),
    /// A build that was measured (boxed: `rpack::Error` holds this error whole).
    #[error(transparent)]
    Build(Box<crate::build::Error>),
    /// The builder of a measurement (boxed, as `Build`).
    #[error(transparent)]
    Provision(Box<crate::provision::Error>),
}

impl From<crate::build::Error> for Error {
    fn from(err: crate::build::Error) -> Self {
        Self::Build(Box::new(err))
    }
}

impl From<crate::provision::Error> for Error {
    fn from(err: crate::provision::Error) -> Self {
        Self::Provision(Box::new(err))
    }
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
            Self::Build(e) => e.hint(),
            Self::Provision(e) => e.hint(),
            Self::Measure(_)
            | Self::Store(_)
            | Self::Image(_)
            | Self::Layout(_)
            | Self::ImageRef(_) => None,
        }
    }
}

impl From<crate::buildpack::package::PackageError> for Error {
    fn from(err: crate::buildpack::package::PackageError) -> Self {
        Self::Buildpack(err.into())
    }
}
