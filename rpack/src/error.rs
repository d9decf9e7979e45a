//! The error any rpack operation can end with, and the hint that goes with it.

use crate::build::platform::BuildError;
use crate::build::podman::PodmanError;
use crate::oci::{ImageError, LayoutError};
use crate::provision::builder::BuilderError;
use crate::provision::lifecycle::LifecycleError;
use crate::provision::stack::StackError;
use crate::store::StoreError;

/// What failed, by the part of rpack that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Finding or installing the lifecycle.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// Making a stack.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// Reading or writing an image.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// Reading or writing a layout.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// podman.
    #[error(transparent)]
    Podman(#[from] PodmanError),
    /// Packaging or scaffolding a buildpack.
    #[error(transparent)]
    Buildpack(#[from] crate::buildpack::Error),
    /// Making or reading a builder (and the lifecycle, stacks, buildpacks and registries it uses).
    #[error(transparent)]
    Provision(#[from] crate::provision::Error),
    /// Making or reading a builder.
    #[error(transparent)]
    Builder(#[from] BuilderError),
    /// A build.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The app's project.toml.
    #[error(transparent)]
    Project(#[from] crate::build::project::ProjectError),
    /// Taking care of the store's images, or a registry.
    #[error(transparent)]
    StoreImages(#[from] crate::store::Error),
    /// An image reference.
    #[error(transparent)]
    ImageRef(#[from] crate::oci::reference::InvalidImageRef),
    /// An output path rpack may not write over.
    #[error(transparent)]
    Output(#[from] crate::toolbox::output::OutputError),
    /// Rebasing, SBOM download or inspect.
    #[error(transparent)]
    Ops(#[from] crate::ops::Error),
    /// Building or running an app.
    #[error(transparent)]
    BuildRun(#[from] crate::build::Error),
    /// Managing detached app containers.
    #[error(transparent)]
    Run(#[from] crate::build::run::RunError),
}

impl From<crate::buildpack::package::PackageError> for Error {
    fn from(err: crate::buildpack::package::PackageError) -> Self {
        Self::Buildpack(err.into())
    }
}

impl Error {
    /// What the user can do about it, when there is something to say.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Lifecycle(e) => e.hint(),
            Self::Stack(e) => e.hint(),
            Self::Podman(e) => e.hint(),
            Self::Buildpack(e) => e.hint(),
            Self::Builder(e) => e.hint(),
            Self::Provision(e) => e.hint(),
            Self::Build(e) => e.hint(),
            Self::StoreImages(e) => e.hint(),
            Self::Ops(e) => e.hint(),
            Self::Output(e) => e.hint(),
            Self::Run(e) => e.hint(),
            Self::BuildRun(e) => e.hint(),
            Self::Project(_)
            | Self::Store(_)
            | Self::Image(_)
            | Self::Layout(_)
            | Self::ImageRef(_) => None,
        }
    }
}
