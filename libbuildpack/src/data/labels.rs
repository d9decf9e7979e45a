//! The labels CNB platforms put on images, as JSON types (feature `labels`): a builder's, a buildpackage's, which
//! layer holds each buildpack, and the lifecycle's on app images; and the names of rpack's `io.rpack.*` labels.
//!
//! Reading is a `Result`: a label that is not its format is an error that names the label, never a silent
//! default. Writing goes through [`serde_json::Value`], so keys come out sorted (as the `json!` writes before
//! these types did, and as pack writes them), whatever the fields' order here.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{OrderGroup, Stack, Target};

/// A builder's buildpacks, run images, stack and lifecycle (JSON, [`BuilderMetadata`]).
pub const BUILDER_METADATA: &str = "io.buildpacks.builder.metadata";
/// A buildpackage's main buildpack (JSON, [`BuildpackageMetadata`]).
pub const BUILDPACKAGE_METADATA: &str = "io.buildpacks.buildpackage.metadata";
/// Which layer holds each buildpack of a buildpackage or builder (JSON, [`BuildpackLayers`]).
pub const BUILDPACK_LAYERS: &str = "io.buildpacks.buildpack.layers";
/// A builder's detection order (JSON, a list of [`OrderGroup`]).
pub const BUILDPACK_ORDER: &str = "io.buildpacks.buildpack.order";
/// An app image's buildpacks and processes (JSON written by the lifecycle's exporter, [`BuildMetadata`]).
pub const BUILD_METADATA: &str = "io.buildpacks.build.metadata";
/// An app image's run image, layers and SBOM (JSON written by the lifecycle's exporter, [`LifecycleMetadata`]).
pub const LIFECYCLE_METADATA: &str = "io.buildpacks.lifecycle.metadata";
/// The Python version of an rpack stack image (plain text, e.g. `3.11`); rebase refuses to move an app to a run
/// image with another one.
pub const PYTHON_VERSION: &str = "io.rpack.python.version";
/// Where a build image of rpack's stacks has its run image's dpkg status (plain text: a path in the image), for
/// buildpacks that install Debian packages the run image lacks.
pub const RUN_IMAGE_DPKG_STATUS: &str = "io.rpack.run-image.dpkg-status";

/// A label that could not be read or written as its format.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The label's text is not JSON of the label's format.
    #[error("the image's {label} label is malformed")]
    Read {
        /// The label's name.
        label: &'static str,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// The value could not be written as JSON.
    #[error("could not write the {label} label")]
    Write {
        /// The label's name.
        label: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// A JSON label with a fixed name.
pub trait PlatformLabel: Serialize + DeserializeOwned {
    /// The label's name, e.g. [`BUILDER_METADATA`].
    const NAME: &'static str;

    /// Reads the label's text.
    ///
    /// # Errors
    /// [`LabelError::Read`], naming the label, when `text` is not JSON of this format.
    fn from_label(text: &str) -> Result<Self, LabelError> {
        serde_json::from_str(text).map_err(|source| LabelError::Read {
            label: Self::NAME,
            source,
        })
    }

    /// The label's text: compact JSON with sorted keys.
    ///
    /// # Errors
    /// [`LabelError::Write`] when the value has no JSON form (a map with keys that are not strings).
    fn to_label(&self) -> Result<String, LabelError> {
        serde_json::to_value(self)
            .map(|value| value.to_string())
            .map_err(|source| LabelError::Write {
                label: Self::NAME,
                source,
            })
    }
}

/// Reads `null` as the default: pack (Go) writes an empty list as `null`.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `io.buildpacks.buildpack.layers`: buildpack id → version → the layer that holds it.
///
/// ```
/// use libbuildpack::data::labels::{BuildpackLayers, PlatformLabel};
/// let text = r#"{"a/b":{"0.1.0":{"api":"0.10","layerDiffID":"sha256:00"}}}"#;
/// let layers = BuildpackLayers::from_label(text)?;
/// assert_eq!(layers.0["a/b"]["0.1.0"].layer_diff_id, "sha256:00");
/// assert_eq!(layers.to_label()?, text);
/// # Ok::<(), libbuildpack::data::labels::LabelError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BuildpackLayers(pub BTreeMap<String, BTreeMap<String, BuildpackLayer>>);

impl PlatformLabel for BuildpackLayers {
    const NAME: &'static str = BUILDPACK_LAYERS;
}

/// One buildpack of [`BuildpackLayers`]: its API, what its `buildpack.toml` declares, and its layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildpackLayer {
    /// The Buildpack API it implements.
    pub api: String,
    /// Deprecated `[[stacks]]`, when it has any.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub stacks: Vec<Stack>,
    /// `[[targets]]`, when it has any.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub targets: Vec<Target>,
    /// `[[order]]`, for a composite buildpack.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub order: Vec<OrderGroup>,
    /// The diff id of the layer that holds it.
    #[serde(rename = "layerDiffID")]
    pub layer_diff_id: String,
    /// Its homepage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// Its human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `io.buildpacks.buildpackage.metadata`: a buildpackage's main buildpack.
///
/// ```
/// use libbuildpack::data::labels::{BuildpackageMetadata, PlatformLabel};
/// let main = BuildpackageMetadata::from_label(r#"{"id":"a/b","version":"0.1.0","stacks":[{"id":"*"}]}"#)?;
/// assert_eq!((main.id.as_str(), main.stacks[0].id.as_str()), ("a/b", "*"));
/// # Ok::<(), libbuildpack::data::labels::LabelError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildpackageMetadata {
    /// The main buildpack's id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// Its homepage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// Its human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The stacks it supports (`[{"id": "*"}]` for any).
    #[serde(default, deserialize_with = "null_as_default")]
    pub stacks: Vec<Stack>,
}

impl PlatformLabel for BuildpackageMetadata {
    const NAME: &'static str = BUILDPACKAGE_METADATA;
}

/// `io.buildpacks.builder.metadata`: what `pack builder inspect` and a platform read of a builder.
///
/// Fields that pack writes and rpack does not use are kept in `rest`, so a label read and written again keeps
/// them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuilderMetadata {
    /// What builder.toml's `description` says.
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    /// Its buildpacks.
    #[serde(default, deserialize_with = "null_as_default")]
    pub buildpacks: Vec<BuilderMetadataBuildpack>,
    /// The run image as older pack (and rpack) write it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<BuilderMetadataStack>,
    /// The run images (builder.toml's `[[run.images]]`); the first is the default.
    #[serde(default, deserialize_with = "null_as_default")]
    pub images: Vec<RunImageEntry>,
    /// The lifecycle in the builder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<BuilderMetadataLifecycle>,
    /// The tool that made the builder.
    #[serde(rename = "createdBy", default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<CreatedBy>,
    /// Other fields, kept as they are.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

impl PlatformLabel for BuilderMetadata {
    const NAME: &'static str = BUILDER_METADATA;
}

impl BuilderMetadata {
    /// The default run image: the first of `images` (what current pack writes) when it names one, else
    /// `stack.runImage.image` (older pack and rpack); empty when neither does.
    #[must_use]
    pub fn run_image(&self) -> &str {
        self.images
            .first()
            .map(|first| first.image.as_str())
            .filter(|image| !image.is_empty())
            .or_else(|| {
                self.stack
                    .as_ref()
                    .map(|stack| stack.run_image.image.as_str())
            })
            .unwrap_or_default()
    }
}

/// One buildpack of [`BuilderMetadata`]. `homepage` and `name` are written as `null` when absent, as pack does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderMetadataBuildpack {
    /// Its id.
    pub id: String,
    /// Its version.
    #[serde(default, deserialize_with = "null_as_default")]
    pub version: String,
    /// Its homepage.
    #[serde(default)]
    pub homepage: Option<String>,
    /// Its human-readable name (`pack builder inspect` shows it).
    #[serde(default)]
    pub name: Option<String>,
}

/// `stack` of [`BuilderMetadata`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderMetadataStack {
    /// The default run image.
    #[serde(rename = "runImage", default, deserialize_with = "null_as_default")]
    pub run_image: RunImageEntry,
}

/// A run image and its mirrors, as builder metadata lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunImageEntry {
    /// The image reference.
    #[serde(default, deserialize_with = "null_as_default")]
    pub image: String,
    /// Mirrors of the same image.
    #[serde(default, deserialize_with = "null_as_default")]
    pub mirrors: Vec<String>,
}

/// `lifecycle` of [`BuilderMetadata`]: its version and the APIs its `lifecycle.toml` declares (as they are
/// there, `null` when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuilderMetadataLifecycle {
    /// The lifecycle's version.
    #[serde(default, deserialize_with = "null_as_default")]
    pub version: String,
    /// The deprecated single `api` table.
    #[serde(default)]
    pub api: Option<serde_json::Value>,
    /// The `apis` table: supported and deprecated Buildpack and Platform APIs.
    #[serde(default)]
    pub apis: Option<serde_json::Value>,
}

/// `createdBy` of [`BuilderMetadata`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedBy {
    /// The tool's name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// `io.buildpacks.lifecycle.metadata`, the parts a platform reads: the run image and the SBOM layer. Every other
/// field the lifecycle writes is kept in `rest`, so a label read and written again (rebase) keeps them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LifecycleMetadata {
    /// The run image the app was built or rebased on.
    #[serde(rename = "runImage", default, skip_serializing_if = "Option::is_none")]
    pub run_image: Option<serde_json::Value>,
    /// The layer holding the SBOM files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<LayerRef>,
    /// Other fields, kept as they are.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

impl PlatformLabel for LifecycleMetadata {
    const NAME: &'static str = LIFECYCLE_METADATA;
}

/// A layer by its diff id (`{"sha": "sha256:..."}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRef {
    /// The layer's diff id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub sha: String,
}

/// `io.buildpacks.build.metadata`, the parts a platform reads: the buildpacks that took part. Every other field
/// is kept in `rest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildMetadata {
    /// The buildpacks that took part in the build.
    #[serde(default, deserialize_with = "null_as_default")]
    pub buildpacks: Vec<BuilderMetadataBuildpack>,
    /// Other fields (processes, launcher, bom...), kept as they are.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

impl PlatformLabel for BuildMetadata {
    const NAME: &'static str = BUILD_METADATA;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_shaped_builder_metadata_round_trips_byte_for_byte() {
        let text = r#"{"buildpacks":[{"homepage":null,"id":"a/b","name":"B","version":"0.1.0"}],"createdBy":{"name":"rpack","version":"0.1.0"},"description":"","images":[{"image":"run","mirrors":["m"]}],"lifecycle":{"api":null,"apis":{"buildpack":{"supported":["0.10"]}},"version":"0.21.17"},"stack":{"runImage":{"image":"run","mirrors":["m"]}}}"#;
        let metadata = BuilderMetadata::from_label(text).unwrap();
        assert_eq!(metadata.run_image(), "run");
        assert_eq!(metadata.buildpacks[0].name.as_deref(), Some("B"));
        assert_eq!(metadata.to_label().unwrap(), text);
    }

    #[test]
    fn builder_run_image_falls_back_to_the_stack_then_nothing() {
        let older = BuilderMetadata::from_label(
            r#"{"images":[{"image":""}],"stack":{"runImage":{"image":"localhost/run:v1"}}}"#,
        )
        .unwrap();
        assert_eq!(older.run_image(), "localhost/run:v1");
        assert_eq!(BuilderMetadata::from_label("{}").unwrap().run_image(), "");
        // pack writes empty lists as null.
        let pack = BuilderMetadata::from_label(
            r#"{"buildpacks":null,"images":null,"stack":{"runImage":{"image":"r","mirrors":null}}}"#,
        )
        .unwrap();
        assert_eq!(pack.run_image(), "r");
    }

    #[test]
    fn buildpack_layers_and_buildpackage_round_trip() {
        let layers = r#"{"a/b":{"0.1.0":{"api":"0.10","homepage":"h","layerDiffID":"sha256:00","stacks":[{"id":"*"}],"targets":[{"arch":"amd64","os":"linux"}]}}}"#;
        assert_eq!(
            BuildpackLayers::from_label(layers)
                .unwrap()
                .to_label()
                .unwrap(),
            layers
        );
        let main = r#"{"id":"a/b","name":"B","stacks":[{"id":"*"}],"version":"0.1.0"}"#;
        assert_eq!(
            BuildpackageMetadata::from_label(main)
                .unwrap()
                .to_label()
                .unwrap(),
            main
        );
    }

    #[test]
    fn lifecycle_and_build_metadata_keep_fields_they_do_not_name() {
        let text = r#"{"app":[{"sha":"sha256:aa"}],"runImage":{"reference":"r","topLayer":"t"},"sbom":{"sha":"sha256:bb"}}"#;
        let metadata = LifecycleMetadata::from_label(text).unwrap();
        assert_eq!(metadata.sbom.as_ref().unwrap().sha, "sha256:bb");
        assert_eq!(metadata.to_label().unwrap(), text);
        let build = r#"{"buildpacks":[{"homepage":null,"id":"a/b","name":null,"version":"1"}],"launcher":{"version":"0.21"},"processes":[]}"#;
        let metadata = BuildMetadata::from_label(build).unwrap();
        assert_eq!(metadata.buildpacks[0].id, "a/b");
        assert_eq!(metadata.to_label().unwrap(), build);
    }

    #[test]
    fn a_malformed_label_is_an_error_naming_it() {
        for (error, label) in [
            (
                BuilderMetadata::from_label("{").unwrap_err(),
                BUILDER_METADATA,
            ),
            (
                BuildpackLayers::from_label(r#"{"a/b":{"1":{"api":1}}}"#).unwrap_err(),
                BUILDPACK_LAYERS,
            ),
            (
                BuildpackageMetadata::from_label(r#"{"version":"1"}"#).unwrap_err(),
                BUILDPACKAGE_METADATA,
            ),
            (
                LifecycleMetadata::from_label("[]").unwrap_err(),
                LIFECYCLE_METADATA,
            ),
            (
                BuildMetadata::from_label(r#"{"buildpacks":3}"#).unwrap_err(),
                BUILD_METADATA,
            ),
        ] {
            assert_eq!(
                error.to_string(),
                format!("the image's {label} label is malformed")
            );
            assert!(std::error::Error::source(&error).is_some());
        }
    }
}
