//! What a build needs before it can start: the lifecycle, stacks (build and run images) and builders.

pub mod builder;
pub mod lifecycle;
pub mod stack;

/// What failed in the provision folder: the lifecycle, a stack or a builder, or the store, images, buildpacks and
/// registries they use. The facade ([`crate::Error`]) takes it with `#[from]`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Finding or installing the lifecycle.
    #[error(transparent)]
    Lifecycle(#[from] lifecycle::LifecycleError),
    /// Making a stack.
    #[error(transparent)]
    Stack(#[from] stack::StackError),
    /// Making or reading a builder.
    #[error(transparent)]
    Builder(#[from] builder::BuilderError),
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
    /// Preparing a buildpack.
    #[error(transparent)]
    Buildpack(#[from] crate::buildpack::Error),
}

impl Error {
    /// What the user can do about it, when there is something to say.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Lifecycle(e) => e.hint(),
            Self::Stack(e) => e.hint(),
            Self::Builder(e) => e.hint(),
            Self::StoreImages(e) => e.hint(),
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
