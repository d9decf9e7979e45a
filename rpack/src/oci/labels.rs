//! The labels CNB images carry: their names (from `libbuildpack::data::labels`, which has their types, so the
//! folder that writes a label and the folders that read it agree on its name and format), and the kind of image
//! they make.

use serde::Serialize;

use super::Image;

pub use libbuildpack::data::labels::{
    BUILD_METADATA, BUILDER_METADATA, BUILDPACK_LAYERS, BUILDPACK_ORDER, BUILDPACKAGE_METADATA,
    LIFECYCLE_METADATA, PYTHON_VERSION, RUN_IMAGE_DPKG_STATUS,
};

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
    pub(crate) fn of(image: &Image) -> Self {
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
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Buildpackage => "buildpackage",
            Self::Builder => "builder",
            Self::App => "app",
            Self::Image => "image",
        }
    }
}
