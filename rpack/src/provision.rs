//! What a build needs before it can start: the lifecycle, stacks (build and run images) and builders.

pub mod builder;
pub mod emulation;
pub mod lifecycle;
pub mod stack;

crate::toolbox::folder_error::folder_error! {
    /// What failed in the provision folder: the lifecycle, a stack or a builder, or the store, images, buildpacks and
    /// registries they use. The facade ([`crate::Error`]) takes it with `#[from]`.
    pub enum Error {
        /// Finding or installing the lifecycle.
        Lifecycle(from lifecycle::LifecycleError) hint,
        /// Making a stack.
        Stack(from stack::StackError) hint,
        /// Making or reading a builder.
        Builder(from builder::BuilderError) hint,
        /// The store.
        Store(from crate::store::StoreError),
        /// The store's images or a registry.
        StoreImages(from crate::store::Error) hint,
        /// Reading or writing an image.
        Image(from crate::oci::ImageError),
        /// Reading or writing a layout.
        Layout(from crate::oci::LayoutError),
        /// An image reference.
        ImageRef(from crate::oci::reference::InvalidImageRef),
        /// Preparing a buildpack.
        Buildpack(from crate::buildpack::Error) hint,
    }
    via {
        crate::buildpack::package::PackageError => Buildpack,
    }
}
