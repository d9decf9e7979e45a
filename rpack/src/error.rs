//! The error any rpack operation can end with, and the hint that goes with it.

use crate::build::platform::BuildError;
use crate::build::podman::PodmanError;
use crate::buildpack::package::PackageError;
use crate::buildpack::scaffold::ScaffoldError;
use crate::oci::{ImageError, LayoutError};
use crate::provision::builder::BuilderError;
use crate::provision::lifecycle::LifecycleError;
use crate::provision::stack::StackError;
use crate::store::StoreError;
use crate::store::images::ImagesError;

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
    Project(#[from] crate::build::project::ProjectError),
    /// Taking care of the store's images.
    #[error(transparent)]
    Images(#[from] ImagesError),
    /// Scaffolding a new buildpack.
    #[error(transparent)]
    Scaffold(#[from] ScaffoldError),
    /// Converting a project.toml inline script into a buildpack crate.
    #[error(transparent)]
    Inline(#[from] crate::buildpack::inline::InlineError),
    /// An image reference.
    #[error(transparent)]
    ImageRef(#[from] crate::oci::reference::InvalidImageRef),
    /// Rebasing an app image.
    #[error(transparent)]
    Rebase(#[from] crate::ops::rebase::RebaseError),
    /// Pushing to or pulling from a registry.
    #[error(transparent)]
    Registry(#[from] crate::store::registry::RegistryError),
    /// An output path rpack may not write over.
    #[error(transparent)]
    Output(#[from] crate::toolbox::output::OutputError),
    /// Nothing to inspect.
    #[error(transparent)]
    Inspect(#[from] crate::ops::inspect::InspectError),
    /// Downloading an image's SBOM.
    #[error(transparent)]
    Sbom(#[from] crate::ops::sbom::SbomError),
    /// Managing detached app containers.
    #[error(transparent)]
    Run(#[from] crate::build::run::RunError),
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
            Self::Inline(e) => e.hint(),
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
