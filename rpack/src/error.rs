//! The error any rpack operation can end with, and the hint that goes with it.

use crate::builder::BuilderError;
use crate::images::ImagesError;
use crate::lifecycle::LifecycleError;
use crate::oci::{ImageError, LayoutError};
use crate::package::PackageError;
use crate::platform::BuildError;
use crate::podman::PodmanError;
use crate::scaffold::ScaffoldError;
use crate::stack::StackError;
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
    /// Preparing a buildpack.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// Making or reading a builder.
    #[error(transparent)]
    Builder(#[from] BuilderError),
    /// A build.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The app's project.toml.
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    /// Taking care of the store's images.
    #[error(transparent)]
    Images(#[from] ImagesError),
    /// Scaffolding a new buildpack.
    #[error(transparent)]
    Scaffold(#[from] ScaffoldError),
    /// An image reference.
    #[error(transparent)]
    ImageRef(#[from] crate::reference::InvalidImageRef),
    /// Rebasing an app image.
    #[error(transparent)]
    Rebase(#[from] crate::rebase::RebaseError),
    /// Pushing to or pulling from a registry.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// An output path rpack may not write over.
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// Nothing to inspect.
    #[error(transparent)]
    Inspect(#[from] crate::inspect::InspectError),
    /// Downloading an image's SBOM.
    #[error(transparent)]
    Sbom(#[from] crate::sbom::SbomError),
    /// Managing detached app containers.
    #[error(transparent)]
    Run(#[from] crate::run::RunError),
}

impl Error {
    /// What the user can do about it, when there is something to say.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Lifecycle(e) => e.hint(),
            Self::Stack(e) => e.hint(),
            Self::Podman(e) => e.hint(),
            Self::Package(e) => e.hint(),
            Self::Builder(e) => e.hint(),
            Self::Build(e) => e.hint(),
            Self::Images(e) => e.hint(),
            Self::Scaffold(e) => e.hint(),
            Self::Rebase(e) => e.hint(),
            Self::Registry(e) => e.hint(),
            Self::Sbom(e) => e.hint(),
            Self::Output(e) => e.hint(),
            Self::Inspect(e) => e.hint(),
            Self::Run(e) => e.hint(),
            Self::Project(_)
            | Self::Store(_)
            | Self::Image(_)
            | Self::Layout(_)
            | Self::ImageRef(_) => None,
        }
    }
}
