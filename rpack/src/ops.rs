//! What is done to built images: rebase, SBOM download, inspect, and the doctor that checks the tools; and
//! `measure`, which times an app's builds two ways.

pub mod doctor;
pub mod inspect;
pub mod measure;
pub mod rebase;
pub mod sbom;

crate::toolbox::folder_error::folder_error! {
    /// What failed in the ops folder: rebase, SBOM download or inspect, or the store, image, layout or buildpackage
    /// they read. The facade ([`crate::Error`]) takes it with `#[from]`.
    pub enum Error {
        /// Rebasing an app image.
        Rebase(from rebase::RebaseError) hint,
        /// Downloading an image's SBOM.
        Sbom(from sbom::SbomError) hint,
        /// Nothing to inspect.
        Inspect(from inspect::InspectError) hint,
        /// The store.
        Store(from crate::store::StoreError),
        /// Reading or writing an image.
        Image(from crate::oci::ImageError),
        /// Reading or writing a layout.
        Layout(from crate::oci::LayoutError),
        /// An image reference.
        ImageRef(from crate::oci::reference::InvalidImageRef),
        /// Reading a buildpackage.
        Buildpack(from crate::buildpack::Error) hint,
        /// Preparing an app to measure its builds.
        Measure(from measure::MeasureError),
        /// A build that was measured (boxed: `rpack::Error` holds this error whole).
        Build(boxed crate::build::Error) hint,
        /// The builder of a measurement (boxed, as `Build`).
        Provision(boxed crate::provision::Error) hint,
    }
    via {
        crate::buildpack::package::PackageError => Buildpack,
    }
}
