//! Building and running apps: the lifecycle's creator in podman, project.toml, and app containers.

pub mod engine;
pub mod platform;
pub mod podman;
pub(crate) mod project;
pub mod run;

crate::toolbox::folder_error::folder_error! {
    /// What failed in the build folder: a build, podman, project.toml or an app container, or the builder, store,
    /// images and buildpacks a build uses. The facade ([`crate::Error`]) takes it with `#[from]`.
    pub enum Error {
        /// A build.
        Build(from platform::BuildError) hint,
        /// podman.
        Podman(from podman::PodmanError) hint,
        /// The app's project.toml.
        Project(boxed project::ProjectError),
        /// Managing app containers.
        Run(from run::RunError) hint,
        /// The builder, lifecycle or stack a build uses.
        Provision(from crate::provision::Error) hint,
        /// Reading a builder.
        Builder(from crate::provision::builder::BuilderError) hint,
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
        /// Preparing an inline or project.toml buildpack.
        Buildpack(from crate::buildpack::Error) hint,
    }
    via {
        crate::buildpack::package::PackageError => Buildpack,
    }
}
