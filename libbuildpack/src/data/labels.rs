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
/// The mixins a stack image provides or an app image needs (JSON, [`StackMixins`]; Platform APIs before 0.12).
pub const STACK_MIXINS: &str = "io.buildpacks.stack.mixins";
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

/// `io.buildpacks.lifecycle.metadata`, the parts a platform reads and writes: the run image (rebase rewrites it),
/// the SBOM layer and the buildpacks' layers. Every other field the lifecycle writes is kept in `rest`, so a
/// label read and written again (rebase) keeps them.
///
/// ```
/// use libbuildpack::data::labels::{LifecycleMetadata, PlatformLabel};
/// let text = r#"{"runImage":{"image":"run","reference":"r@sha256:1","topLayer":"sha256:2"},"sbom":{"sha":"sha256:3"}}"#;
/// let metadata = LifecycleMetadata::from_label(text)?;
/// assert_eq!(metadata.run_image_name(), Some("run"));
/// assert_eq!(metadata.sbom_diff_id(), Some("sha256:3"));
/// assert_eq!(metadata.to_label()?, text);
/// # Ok::<(), libbuildpack::data::labels::LabelError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LifecycleMetadata {
    /// The run image the app was built or rebased on.
    #[serde(rename = "runImage", default, skip_serializing_if = "Option::is_none")]
    pub run_image: Option<LifecycleRunImage>,
    /// The run image as older lifecycles (and rebases) record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<LifecycleStack>,
    /// The layer holding the SBOM files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<LayerRef>,
    /// Other fields (`app`, `buildpacks`, `config`, `launcher`...), kept as they are: a rebase writes the label
    /// again byte for byte but for the run image. [`LifecycleMetadata::buildpacks`] reads `buildpacks`.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

impl PlatformLabel for LifecycleMetadata {
    const NAME: &'static str = LIFECYCLE_METADATA;
}

impl LifecycleMetadata {
    /// The run image's name: `runImage.image`, else the older `stack.runImage.image`; `None` when neither names
    /// one (or names the empty string).
    #[must_use]
    pub fn run_image_name(&self) -> Option<&str> {
        let current = self.run_image.as_ref().and_then(|r| r.image.as_deref());
        let older = self
            .stack
            .as_ref()
            .and_then(|s| s.run_image.image.as_deref());
        [current, older]
            .into_iter()
            .flatten()
            .find(|name| !name.is_empty())
    }

    /// The diff id of the layer holding the SBOM files, when the label names one.
    #[must_use]
    pub fn sbom_diff_id(&self) -> Option<&str> {
        self.sbom
            .as_ref()
            .map(|sbom| sbom.sha.as_str())
            .filter(|sha| !sha.is_empty())
    }

    /// The layers of each buildpack that took part (`buildpacks`), in the order they ran; none when the label
    /// has no `buildpacks`.
    ///
    /// # Errors
    /// [`LabelError::Read`], naming the label, when `buildpacks` is not a list of them.
    pub fn buildpacks(&self) -> Result<Vec<ExportedBuildpack>, LabelError> {
        let Some(buildpacks) = self.rest.get("buildpacks") else {
            return Ok(Vec::new());
        };
        Option::<Vec<ExportedBuildpack>>::deserialize(buildpacks)
            .map(Option::unwrap_or_default)
            .map_err(|source| LabelError::Read {
                label: Self::NAME,
                source,
            })
    }
}

/// `runImage` of [`LifecycleMetadata`]: the run image's top layer and reference (what rebase replaces), and
/// its name and mirrors. A field the label leaves out stays out when written again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LifecycleRunImage {
    /// The diff id of the run image's top layer: the layers up to it are the run image's.
    #[serde(rename = "topLayer", default, skip_serializing_if = "Option::is_none")]
    pub top_layer: Option<String>,
    /// The run image as the exporter found it (a digest reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The run image's name, as the builder or `--run-image` gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Mirrors of the same image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirrors: Option<Vec<String>>,
    /// Other fields, kept as they are.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

/// `stack` of [`LifecycleMetadata`]: the run image as Platform APIs before 0.12 record it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LifecycleStack {
    /// The run image (`image` and `mirrors`).
    #[serde(rename = "runImage", default)]
    pub run_image: LifecycleRunImage,
    /// Other fields, kept as they are.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

/// One buildpack of [`LifecycleMetadata::buildpacks`]: its id (`key`) and the layers it exported. Read only:
/// the label keeps `buildpacks` as the lifecycle wrote it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ExportedBuildpack {
    /// The buildpack's id.
    pub key: String,
    /// Its version.
    #[serde(default, deserialize_with = "null_as_default")]
    pub version: String,
    /// Its layers by name (`null` when it exported none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub layers: BTreeMap<String, ExportedLayer>,
}

/// One exported layer: its diff id and the `[metadata]` of its `layer.toml` (`data`, the buildpack's own).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ExportedLayer {
    /// The layer's diff id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub sha: String,
    /// The layer's metadata, as the buildpack wrote it (any JSON; `null` when it wrote none).
    #[serde(default)]
    pub data: serde_json::Value,
}

/// A layer by its diff id (`{"sha": "sha256:..."}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRef {
    /// The layer's diff id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub sha: String,
}

/// `io.buildpacks.build.metadata`, the parts a platform reads: the buildpacks that took part and the processes.
/// Every other field is kept in `rest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildMetadata {
    /// The buildpacks that took part in the build.
    #[serde(default, deserialize_with = "null_as_default")]
    pub buildpacks: Vec<BuilderMetadataBuildpack>,
    /// The processes the image can run; absent (not `[]`) when the label has none, so it is written again as
    /// it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<Vec<LaunchProcess>>,
    /// Other fields (launcher, bom...), kept as they are.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

impl PlatformLabel for BuildMetadata {
    const NAME: &'static str = BUILD_METADATA;
}

/// One process of [`BuildMetadata`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchProcess {
    /// The process type, e.g. `web`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The command: a list (Platform API 0.10 and later) or one string.
    pub command: ProcessCommand,
    /// Its arguments (`null` when it has none, as the lifecycle writes it).
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Other fields (`direct`, `default`, `buildpackID`, `working-dir`...), kept as they are.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

/// A process's command: one string (older Platform APIs) or the command and its first arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProcessCommand {
    /// One string.
    One(String),
    /// A list.
    List(Vec<String>),
}

impl ProcessCommand {
    /// The command's words.
    #[must_use]
    pub fn words(&self) -> Vec<&str> {
        match self {
            Self::One(command) => vec![command.as_str()],
            Self::List(words) => words.iter().map(String::as_str).collect(),
        }
    }
}

/// `io.buildpacks.buildpack.order`: a builder's detection order, as `order.toml`'s `[[order]]` in JSON.
///
/// ```
/// use libbuildpack::data::labels::{BuildpackOrder, PlatformLabel};
/// let text = r#"[{"group":[{"id":"a/b","optional":true,"version":"1.0.0"}]}]"#;
/// let order = BuildpackOrder::from_label(text)?;
/// assert!(order.0[0].group[0].optional);
/// assert_eq!(order.to_label()?, text);
/// # Ok::<(), libbuildpack::data::labels::LabelError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BuildpackOrder(#[serde(deserialize_with = "null_as_default")] pub Vec<OrderGroup>);

impl PlatformLabel for BuildpackOrder {
    const NAME: &'static str = BUILDPACK_ORDER;
}

/// `io.buildpacks.stack.mixins`: package names, each maybe prefixed `build:` or `run:` (the stage it is for).
///
/// ```
/// use libbuildpack::data::labels::{PlatformLabel, StackMixins};
/// let mixins = StackMixins::from_label(r#"["curl","run:libxml2"]"#)?;
/// assert_eq!(mixins.names().collect::<Vec<_>>(), ["curl", "libxml2"]);
/// # Ok::<(), libbuildpack::data::labels::LabelError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StackMixins(#[serde(deserialize_with = "null_as_default")] pub Vec<String>);

impl PlatformLabel for StackMixins {
    const NAME: &'static str = STACK_MIXINS;
}

impl StackMixins {
    /// The mixins without their `build:` or `run:` stage prefix.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|mixin| {
            mixin
                .strip_prefix("run:")
                .or_else(|| mixin.strip_prefix("build:"))
                .unwrap_or(mixin)
        })
    }
}

/// `io.buildpacks.buildpack.layers` as rpack writes it on builders: like [`BuildpackLayers`] (which reads it),
/// but every key is written, `null` or `[]` when empty, as rpack's builders have always carried it (their
/// digests depend on these bytes).
///
/// ```
/// use libbuildpack::data::labels::{BuilderBuildpackLayer, BuilderBuildpackLayers, BuildpackLayers, PlatformLabel};
/// let mut layers = BuilderBuildpackLayers::default();
/// layers.0.entry("a/b".into()).or_default().insert(
///     "0.1.0".into(),
///     BuilderBuildpackLayer { api: "0.10".into(), layer_diff_id: "sha256:00".into(), ..Default::default() },
/// );
/// let text = layers.to_label()?;
/// assert_eq!(
///     text,
///     r#"{"a/b":{"0.1.0":{"api":"0.10","homepage":null,"layerDiffID":"sha256:00","name":null,"order":[],"targets":[]}}}"#
/// );
/// assert_eq!(BuildpackLayers::from_label(&text)?.0["a/b"]["0.1.0"].api, "0.10");
/// # Ok::<(), libbuildpack::data::labels::LabelError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BuilderBuildpackLayers(pub BTreeMap<String, BTreeMap<String, BuilderBuildpackLayer>>);

impl PlatformLabel for BuilderBuildpackLayers {
    const NAME: &'static str = BUILDPACK_LAYERS;
}

/// One buildpack of [`BuilderBuildpackLayers`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuilderBuildpackLayer {
    /// The Buildpack API it implements.
    pub api: String,
    /// `[[targets]]` (`[]` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub targets: Vec<Target>,
    /// `[[order]]` of a composite buildpack (`[]` for a component).
    #[serde(default, deserialize_with = "null_as_default")]
    pub order: Vec<OrderGroup>,
    /// The diff id of the layer that holds it.
    #[serde(rename = "layerDiffID")]
    pub layer_diff_id: String,
    /// Its homepage (`null` when none).
    #[serde(default)]
    pub homepage: Option<String>,
    /// Its human-readable name (`null` when none).
    #[serde(default)]
    pub name: Option<String>,
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
    fn lifecycle_metadata_reads_the_run_image_and_layers_and_writes_them_back_as_they_were() {
        // What lifecycle 0.21 writes (trimmed), with fields rpack does not name at every level, and the nulls it
        // writes (a layer without metadata, a buildpack without layers).
        let text = r#"{"app":[{"sha":"sha256:aa"}],"buildpacks":[{"key":"acme/apt","layers":{"libs":{"data":{"target":{"distro-name":"debian","distro-version":"12"}},"launch":true,"sha":"sha256:cc"},"plain":{"build":false,"cache":false,"data":null,"launch":true,"sha":"sha256:c1"}},"store":null,"version":"1.0.0"},{"key":"acme/none","layers":null,"version":"1"}],"config":{"sha":"sha256:dd"},"launcher":{"sha":"sha256:ee"},"process-types":{"sha":"sha256:ff"},"runImage":{"image":"localhost/run:1","mirrors":["127.0.0.1:5000/run:1"],"reference":"r@sha256:11","topLayer":"sha256:22"},"sbom":{"sha":"sha256:bb"},"stack":{"runImage":{"image":"localhost/run:1"}}}"#;
        let metadata = LifecycleMetadata::from_label(text).unwrap();
        assert_eq!(metadata.run_image_name(), Some("localhost/run:1"));
        assert_eq!(metadata.sbom_diff_id(), Some("sha256:bb"));
        let buildpacks = metadata.buildpacks().unwrap();
        let layer = &buildpacks[0].layers["libs"];
        assert_eq!(layer.sha, "sha256:cc");
        assert_eq!(layer.data["target"]["distro-version"], "12");
        assert!(buildpacks[0].layers["plain"].data.is_null());
        assert_eq!(
            (buildpacks[1].key.as_str(), buildpacks[1].layers.len()),
            ("acme/none", 0)
        );
        assert_eq!(metadata.to_label().unwrap(), text);
        // The older `stack.runImage` names the run image when `runImage` does not.
        let older = LifecycleMetadata::from_label(
            r#"{"runImage":{"image":""},"stack":{"runImage":{"image":"run"}}}"#,
        )
        .unwrap();
        assert_eq!(older.run_image_name(), Some("run"));
        assert_eq!(
            LifecycleMetadata::from_label("{}")
                .unwrap()
                .run_image_name(),
            None
        );
        assert_eq!(
            LifecycleMetadata::from_label(r#"{"sbom":{"sha":""}}"#)
                .unwrap()
                .sbom_diff_id(),
            None
        );
    }

    #[test]
    fn build_metadata_reads_processes_of_either_command_form() {
        let text = r#"{"buildpacks":[],"processes":[{"args":null,"buildpackID":"a/b","command":["python","app.py"],"direct":true,"type":"web"},{"args":["-c"],"command":"bash","type":"shell"}]}"#;
        let metadata = BuildMetadata::from_label(text).unwrap();
        let processes = metadata.processes.as_deref().unwrap();
        assert_eq!(processes[0].command.words(), ["python", "app.py"]);
        assert_eq!(
            (processes[1].kind.as_str(), processes[1].command.words()),
            ("shell", vec!["bash"])
        );
        assert_eq!(metadata.to_label().unwrap(), text);
        assert_eq!(
            BuildMetadata::from_label("{}").unwrap().to_label().unwrap(),
            r#"{"buildpacks":[]}"#
        );
    }

    #[test]
    fn stack_mixins_round_trip_and_drop_their_stage() {
        let text = r#"["build:gcc","curl","run:libxml2"]"#;
        let mixins = StackMixins::from_label(text).unwrap();
        assert_eq!(
            mixins.names().collect::<Vec<_>>(),
            ["gcc", "curl", "libxml2"]
        );
        assert_eq!(mixins.to_label().unwrap(), text);
        assert!(StackMixins::from_label("null").unwrap().0.is_empty());
    }

    #[test]
    fn buildpack_order_round_trips_and_reads_packs_null_as_empty() {
        let text = r#"[{"group":[{"id":"a/b","version":"0.1.0"},{"id":"c/d","optional":true}]},{"group":[{"id":"e/f","version":"1.0.0"}]}]"#;
        let order = BuildpackOrder::from_label(text).unwrap();
        assert_eq!(order.0.len(), 2);
        assert_eq!(order.0[0].group[1].id.as_str(), "c/d");
        assert_eq!(order.to_label().unwrap(), text);
        assert!(BuildpackOrder::from_label("null").unwrap().0.is_empty());
    }

    /// rpack's builders carry `io.buildpacks.buildpack.layers` and `io.buildpacks.buildpack.order` as they
    /// were written with `json!` before these types: the typed writers must produce the same bytes, or every
    /// builder's digest would change.
    #[test]
    fn builder_layers_and_order_labels_are_written_as_before_the_types() {
        type Case<'a> = (
            Vec<Target>,
            Vec<OrderGroup>,
            Option<&'a str>,
            Option<&'a str>,
        );
        use crate::data::{BuildpackId, BuildpackVersion, GroupEntry};
        let targets = vec![Target::new("linux", "amd64")];
        let order = vec![OrderGroup::new([GroupEntry::new(
            "a/b".parse::<BuildpackId>().unwrap(),
            "0.1.0".parse::<BuildpackVersion>().unwrap(),
        )
        .optional()])];
        let cases: [Case<'_>; 3] = [
            (Vec::new(), Vec::new(), None, None),
            (
                targets.clone(),
                Vec::new(),
                Some("https://example.com"),
                Some("B"),
            ),
            (Vec::new(), order.clone(), None, Some("Meta")),
        ];
        for (targets, order, homepage, name) in cases {
            let before = serde_json::json!({ "x/y": { "1.0.0": serde_json::json!({
                "api": "0.10",
                "targets": targets,
                "order": order,
                "layerDiffID": "sha256:00",
                "homepage": homepage,
                "name": name,
            })}})
            .to_string();
            let mut typed = BuilderBuildpackLayers::default();
            typed.0.entry("x/y".to_owned()).or_default().insert(
                "1.0.0".to_owned(),
                BuilderBuildpackLayer {
                    api: "0.10".to_owned(),
                    targets: targets.clone(),
                    order: order.clone(),
                    layer_diff_id: "sha256:00".to_owned(),
                    homepage: homepage.map(str::to_owned),
                    name: name.map(str::to_owned),
                },
            );
            assert_eq!(typed.to_label().unwrap(), before);
            assert_eq!(BuilderBuildpackLayers::from_label(&before).unwrap(), typed);
            // What reads a builder's label (pack's and rpack's alike) reads it too.
            let read = BuildpackLayers::from_label(&before).unwrap();
            assert_eq!(read.0["x/y"]["1.0.0"].targets, targets);
            assert_eq!(read.0["x/y"]["1.0.0"].name.as_deref(), name);
        }
        for order in [Vec::new(), order] {
            assert_eq!(
                BuildpackOrder(order.clone()).to_label().unwrap(),
                serde_json::json!(order).to_string()
            );
        }
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
            (
                BuildMetadata::from_label(r#"{"processes":[{"type":"web"}]}"#).unwrap_err(),
                BUILD_METADATA,
            ),
            (
                LifecycleMetadata::from_label(r#"{"runImage":{"topLayer":7}}"#).unwrap_err(),
                LIFECYCLE_METADATA,
            ),
            (
                LifecycleMetadata::from_label(r#"{"buildpacks":[{"key":"a","layers":[]}]}"#)
                    .unwrap()
                    .buildpacks()
                    .unwrap_err(),
                LIFECYCLE_METADATA,
            ),
            (
                StackMixins::from_label(r#"{"curl":true}"#).unwrap_err(),
                STACK_MIXINS,
            ),
            (
                BuildpackOrder::from_label(r#"[{"group":[{"id":"not an id"}]}]"#).unwrap_err(),
                BUILDPACK_ORDER,
            ),
            (
                BuilderBuildpackLayers::from_label(r#"{"a/b":{"1":{"api":"0.10"}}}"#).unwrap_err(),
                BUILDPACK_LAYERS,
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
