//! The error any rpack operation can end with, and the hint that goes with it.

/// What failed, by the folder of rpack that failed. Each folder's error aggregates its modules' errors; a
/// module's own error converts into this one through its folder's (see the `From` impls below).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Opening or locking the store, its images, or a registry.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// Packaging or scaffolding a buildpack.
    #[error(transparent)]
    Buildpack(#[from] crate::buildpack::Error),
    /// The lifecycle, a stack or a builder.
    #[error(transparent)]
    Provision(#[from] crate::provision::Error),
    /// Building or running an app.
    #[error(transparent)]
    Build(#[from] crate::build::Error),
    /// Rebasing, SBOM download or inspect.
    #[error(transparent)]
    Ops(#[from] crate::ops::Error),
}

/// `From` a module's error, through the error of the folder that owns it.
macro_rules! through {
    ($($leaf:ty => $folder:ty),* $(,)?) => {
        $(impl From<$leaf> for Error {
            fn from(err: $leaf) -> Self {
                <$folder>::from(err).into()
            }
        })*
    };
}

through! {
    crate::store::StoreError => crate::store::Error,
    crate::oci::ImageError => crate::store::Error,
    crate::oci::LayoutError => crate::store::Error,
    crate::toolbox::output::OutputError => crate::store::Error,
    crate::buildpack::package::PackageError => crate::buildpack::Error,
    crate::buildpack::scaffold::ScaffoldError => crate::buildpack::Error,
    crate::buildpack::inline::InlineError => crate::buildpack::Error,
    crate::provision::lifecycle::LifecycleError => crate::provision::Error,
    crate::provision::stack::StackError => crate::provision::Error,
    crate::provision::builder::BuilderError => crate::provision::Error,
    crate::oci::reference::InvalidImageRef => crate::build::Error,
    crate::build::platform::BuildError => crate::build::Error,
    crate::build::podman::PodmanError => crate::build::Error,
    crate::build::project::ProjectError => crate::build::Error,
    crate::build::run::RunError => crate::build::Error,
}

impl Error {
    /// What the user can do about it, when there is something to say.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Store(e) => e.hint(),
            Self::Buildpack(e) => e.hint(),
            Self::Provision(e) => e.hint(),
            Self::Build(e) => e.hint(),
            Self::Ops(e) => e.hint(),
        }
    }
}
