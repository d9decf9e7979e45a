//! Building and running apps: the lifecycle's creator in podman, project.toml, and app containers.

pub mod engine;
pub mod platform;
pub mod podman;
pub(crate) mod project;
pub mod run;

/// What failed in the build folder: a build, podman, project.toml or an app container, or the builder, store,
/// images and buildpacks a build uses. The facade ([`crate::Error`]) takes it with `#[from]`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A build.
    #[error(transparent)]
    Build(#[from] platform::BuildError),
    /// podman.
    #[error(transparent)]
    Podman(#[from] podman::PodmanError),
    /// The app's project.toml.
    #[error(transparent)]
    Project(Box<project::ProjectError>),
    /// Managing app containers.
    #[error(transparent)]
    Run(#[from] run::RunError),
    /// The builder, lifecycle or stack a build uses.
    #[error(transparent)]
    Provision(#[from] crate::provision::Error),
    /// Reading a builder.
    #[error(transparent)]
    Builder(#[from] crate::provision::builder::BuilderError),
    /// The store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The store's images or a registry.
    #[error(transparent)]
    StoreImages(#[from] crate::store::Error),
    /// Reading or writing an image.
    #[error(transparent)]
    Image(#[from] crate::oci::ImageError),
    /// Reading or writing a layout.
    #[error(transparent)]
    Layout(#[from] crate::oci::LayoutError),
    /// An image reference.
    #[error(transparent)]
    ImageRef(#[from] crate::oci::reference::InvalidImageRef),
    /// Preparing an inline or project.toml buildpack.
    #[error(transparent)]
    Buildpack(#[from] crate::buildpack::Error),
}

impl Error {
    /// What the user can do about it, when there is something to say.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Build(e) => e.hint(),
            Self::Podman(e) => e.hint(),
            Self::Run(e) => e.hint(),
            Self::Provision(e) => e.hint(),
            Self::Builder(e) => e.hint(),
            Self::StoreImages(e) => e.hint(),
            Self::Buildpack(e) => e.hint(),
            Self::Project(_)
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

impl From<project::ProjectError> for Error {
    // Boxed: its messages carry a path and several names, and every rpack result would grow by their size.
    fn from(err: project::ProjectError) -> Self {
        Self::Project(Box::new(err))
    }
}
