//! The labels CNB images carry: names from the platform and buildpack specs and rpack's own `io.rpack.*`, in one
//! place so the folder that writes a label and the folders that read it agree on its name, and the kind of image
//! they make.

use serde::Serialize;

use super::Image;

/// A builder's buildpacks, order, stack and lifecycle (JSON).
pub const BUILDER_METADATA: &str = "io.buildpacks.builder.metadata";
/// A buildpackage's main buildpack (JSON).
pub const BUILDPACKAGE_METADATA: &str = "io.buildpacks.buildpackage.metadata";
/// Which layer holds each buildpack of a buildpackage or builder (JSON).
pub const BUILDPACK_LAYERS: &str = "io.buildpacks.buildpack.layers";
/// A builder's detection order (JSON).
pub const BUILDPACK_ORDER: &str = "io.buildpacks.buildpack.order";
/// An app image's buildpacks and processes (JSON, written by the lifecycle's exporter).
pub const BUILD_METADATA: &str = "io.buildpacks.build.metadata";
/// An app image's run image, layers and SBOM (JSON, written by the lifecycle's exporter).
pub const LIFECYCLE_METADATA: &str = "io.buildpacks.lifecycle.metadata";
/// The Python version of a stack image; rebase refuses to move an app to a run image with another one.
pub const PYTHON_VERSION: &str = "io.rpack.python.version";
/// Where a build image of rpack's stacks has its run image's dpkg status (a path in the image), for buildpacks
/// that install Debian packages the run image lacks.
pub const RUN_IMAGE_DPKG_STATUS: &str = "io.rpack.run-image.dpkg-status";

/// What kind of image it is, by its labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    /// A buildpackage (`io.buildpacks.buildpackage.metadata`).
    Buildpackage,
    /// A builder (`io.buildpacks.builder.metadata`).
    Builder,
    /// An app image built by the lifecycle (`io.buildpacks.build.metadata`).
    App,
    /// Anything else (a stack image, say).
    Image,
}

impl ImageKind {
    /// The kind of `image`: the first of builder, buildpackage and app whose label holds JSON, else `Image`.
    #[must_use]
    pub fn of(image: &Image) -> Self {
        let has = |key: &str| {
            image
                .label(key)
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .is_some_and(|value| !value.is_null())
        };
        if has(BUILDER_METADATA) {
            Self::Builder
        } else if has(BUILDPACKAGE_METADATA) {
            Self::Buildpackage
        } else if has(BUILD_METADATA) {
            Self::App
        } else {
            Self::Image
        }
    }

    /// Its name, as `rpack images` and `rpack inspect --json` show it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Buildpackage => "buildpackage",
            Self::Builder => "builder",
            Self::App => "app",
            Self::Image => "image",
        }
    }
}
