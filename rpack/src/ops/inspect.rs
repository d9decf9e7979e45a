//! `rpack inspect`: what a buildpackage (`.cnb`), builder or app image holds: buildpacks, order, lifecycle and
//! its APIs, processes, labels, and each layer with its size and where it came from.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use libbuildpack::data::labels::{
    BuildMetadata, BuilderMetadata, BuildpackLayers, BuildpackOrder, BuildpackageMetadata,
    LabelError, LifecycleMetadata, PlatformLabel,
};
use serde::Serialize;
use serde_json::Value;

use crate::buildpack::package::cnb;
use crate::oci::labels::ImageKind;
use crate::oci::reference::{ImageRef, InvalidImageRef, Shown};
use crate::oci::{Image, Layout, Platform};
use crate::ops::Error;
use crate::store::Store;

/// One buildpack in the image.
#[derive(Clone, Debug, Serialize)]
pub struct BuildpackSummary {
    /// Its id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// Its Buildpack API, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// Its homepage, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
}

/// One layer.
#[derive(Clone, Debug, Serialize)]
pub struct LayerSummary {
    /// The blob digest.
    pub digest: String,
    /// The uncompressed diff id.
    pub diff_id: String,
    /// The blob size in bytes.
    pub size: u64,
    /// `created_by` of its history entry.
    pub created_by: String,
}

/// Everything `rpack inspect` shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The image reference or file inspected.
    pub source: String,
    /// What it is.
    pub kind: ImageKind,
    /// `os` of the config.
    pub os: String,
    /// `architecture` of the config.
    pub architecture: String,
    /// The config digest (the image id).
    pub id: String,
    /// The buildpacks it holds or was built with.
    pub buildpacks: Vec<BuildpackSummary>,
    /// The detection order (builders) or the composite order (buildpackages).
    pub order: Value,
    /// The lifecycle and its APIs (builders).
    pub lifecycle: Value,
    /// The processes (app images).
    pub processes: Value,
    /// The run image (builders and app images).
    pub run_image: Value,
    /// Every label.
    pub labels: BTreeMap<String, String>,
    /// The layers, base first.
    pub layers: Vec<LayerSummary>,
    /// Every platform of a multi-platform image index, as `os/arch`; the rest of the report is about the
    /// image of the platform asked for, else the host's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
}

/// Why there is nothing to inspect.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The target is a path to something other than a file.
    #[error(
        "{path} is {what}; rpack inspect reads a .cnb or OCI archive file, or an image in rpack's store"
    )]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// No file and no stored image has that name.
    #[error("there is no file {target} and no image {image} in rpack's store")]
    NotFound {
        /// The target as given.
        target: Shown,
        /// The image reference it stands for.
        image: String,
    },
    /// One of the image's platform labels is malformed.
    #[error("{image} is not a readable image")]
    Label {
        /// The image or file.
        image: String,
        /// Which label, and what is wrong with it.
        #[source]
        source: LabelError,
    },
    /// No file has that name, and it is not an image reference either.
    #[error("there is no file {target}, and it is not an image reference either")]
    NoSuchFile {
        /// The target as given.
        target: Shown,
        /// Why it is no reference.
        #[source]
        source: InvalidImageRef,
    },
}

impl InspectError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotAFile { .. } => {
                Some("give the path of a .cnb file (rpack buildpack package writes one)".to_owned())
            }
            Self::Label { .. } => None,
            Self::NotFound { .. } | Self::NoSuchFile { .. } => Some(
                "check the file's path, or list the images rpack has with `rpack images`"
                    .to_owned(),
            ),
        }
    }
}

/// Inspects `target`: a `.cnb` or OCI archive file when such a file exists, else an image in the store.
/// A file's layers are checked against their digests; a stored image's are not read.
///
/// # Errors
/// When the file or image cannot be read, or neither exists.
pub fn inspect(store: &Store, target: &str) -> Result<Report, Error> {
    inspect_for(store, target, None)
}

/// [`inspect`] of the image of `platform` (else the host's, or the only one) of a multi-platform file or
/// image.
///
/// # Errors
/// As [`inspect`], and when there is no image for `platform` (the error names the platforms there are).
pub fn inspect_for(
    store: &Store,
    target: &str,
    platform: Option<&Platform>,
) -> Result<Report, Error> {
    let path = Path::new(target);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {
            let work = crate::toolbox::scratch::dir().map_err(
                crate::buildpack::package::io_err("create a temp dir for", path),
            )?;
            let image = cnb::open_for(path, work.path(), platform)?;
            crate::store::platforms::check(&image, platform)?;
            image.verify_layers()?;
            return report(target, &image).map(|r| with_app_apis(r, &image));
        }
        Ok(meta) => {
            return Err(InspectError::NotAFile {
                path: path.to_owned(),
                what: crate::toolbox::format::describe_file_type(meta.file_type()),
            }
            .into());
        }
        Err(_) => {}
    }
    let reference: ImageRef = target.parse().map_err(|source| InspectError::NoSuchFile {
        target: Shown::new(target),
        source,
    })?;
    let layout = store.image_layout(&reference);
    if !layout.exists() {
        return Err(InspectError::NotFound {
            target: Shown::new(target),
            image: reference.to_string(),
        }
        .into());
    }
    // Errors name the image rather than its dir in the store.
    let layout = Layout::of_archive(layout.root(), Path::new(&reference.to_string()));
    let image = crate::store::platforms::load(layout, platform)?;
    report(&reference.to_string(), &image).map(|r| with_app_apis(r, &image))
}

/// An app image's labels name its buildpacks without their Buildpack API (the lifecycle leaves `api` out of
/// `io.buildpacks.build.metadata`); its `/layers/config/metadata.toml` has it. Reads that file (from the top
/// layers down) only when some API is unknown.
fn with_app_apis(mut report: Report, image: &Image) -> Report {
    if report.kind != ImageKind::App || report.buildpacks.iter().all(|bp| bp.api.is_some()) {
        return report;
    }
    let Ok(Some(bytes)) = image.read_file("/layers/config/metadata.toml") else {
        return report;
    };
    let Ok(metadata) = String::from_utf8_lossy(&bytes).parse::<toml::Table>() else {
        return report;
    };
    let listed = metadata
        .get("buildpacks")
        .and_then(toml::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for bp in report.buildpacks.iter_mut().filter(|bp| bp.api.is_none()) {
        bp.api = listed
            .iter()
            .find(|entry| {
                entry.get("id").and_then(toml::Value::as_str) == Some(bp.id.as_str())
                    && entry.get("version").and_then(toml::Value::as_str)
                        == Some(bp.version.as_str())
            })
            .and_then(|entry| entry.get("api").and_then(toml::Value::as_str))
            .map(str::to_owned);
    }
    report
}

/// The platform label `T` of the image, when it has it.
fn typed_label<T: PlatformLabel>(source: &str, image: &Image) -> Result<Option<T>, InspectError> {
    image
        .label(T::NAME)
        .map(|text| T::from_label(&text))
        .transpose()
        .map_err(|e| InspectError::Label {
            image: source.to_owned(),
            source: e,
        })
}

/// `value` as JSON, `null` when it is `None`.
fn json(value: Option<&impl Serialize>) -> Value {
    value
        .and_then(|v| serde_json::to_value(v).ok())
        .unwrap_or(Value::Null)
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// The image's platform labels, typed.
struct Labels {
    builder: Option<BuilderMetadata>,
    package: Option<BuildpackageMetadata>,
    build: Option<BuildMetadata>,
    layers: Option<BuildpackLayers>,
    order: Option<BuildpackOrder>,
    lifecycle: Option<LifecycleMetadata>,
}

impl Labels {
    fn read(source: &str, image: &Image) -> Result<Self, InspectError> {
        Ok(Self {
            builder: typed_label(source, image)?,
            package: typed_label(source, image)?,
            build: typed_label(source, image)?,
            layers: typed_label(source, image)?,
            order: typed_label(source, image)?,
            lifecycle: typed_label(source, image)?,
        })
    }

    /// The buildpacks: from the layers label (builders and buildpackages), else from the build metadata (app
    /// images). Of a buildpackage without an order label, its main buildpack's order too.
    fn buildpacks(&self, kind: ImageKind) -> (Vec<BuildpackSummary>, Value) {
        let mut buildpacks = Vec::new();
        let mut order = json(self.order.as_ref());
        if let Some(layers) = &self.layers {
            for (id, versions) in &layers.0 {
                for (version, info) in versions {
                    buildpacks.push(BuildpackSummary {
                        id: id.clone(),
                        version: version.clone(),
                        api: Some(info.api.clone()),
                        homepage: info.homepage.clone(),
                    });
                    let is_main = self
                        .package
                        .as_ref()
                        .is_some_and(|main| main.id == *id && main.version == *version);
                    if kind == ImageKind::Buildpackage
                        && is_main
                        && order.is_null()
                        && !info.order.is_empty()
                    {
                        order = json(Some(&info.order));
                    }
                }
            }
        } else if let Some(build) = &self.build {
            buildpacks.extend(build.buildpacks.iter().map(|bp| BuildpackSummary {
                id: bp.id.clone(),
                version: bp.version.clone(),
                api: None,
                homepage: bp.homepage.clone(),
            }));
        }
        (buildpacks, order)
    }
}

/// Builds the report of a loaded image.
///
/// # Errors
/// When the config digest cannot be computed, or a platform label is malformed.
pub fn report(source: &str, image: &Image) -> Result<Report, Error> {
    let labels: BTreeMap<String, String> = image.labels().into_iter().collect();
    let typed = Labels::read(source, image)?;
    let kind = ImageKind::of(image);
    let (buildpacks, order) = typed.buildpacks(kind);
    let run_image = if kind == ImageKind::App {
        json(
            typed
                .lifecycle
                .as_ref()
                .and_then(|metadata| metadata.run_image.as_ref()),
        )
    } else {
        json(
            typed
                .builder
                .as_ref()
                .and_then(|metadata| metadata.stack.as_ref())
                .map(|stack| &stack.run_image),
        )
    };
    let history: Vec<String> = image
        .config()
        .history()
        .iter()
        .flatten()
        .filter(|h| !h.empty_layer().unwrap_or(false))
        .map(|h| h.created_by().clone().unwrap_or_default())
        .collect();
    let layers = image
        .layers()
        .iter()
        .enumerate()
        .map(|(i, layer)| LayerSummary {
            digest: layer.digest().to_string(),
            diff_id: image.diff_ids().get(i).cloned().unwrap_or_default(),
            size: layer.size(),
            created_by: history.get(i).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(Report {
        source: source.to_owned(),
        kind,
        os: image.os(),
        architecture: image.arch(),
        id: image.config_digest()?.to_string(),
        buildpacks,
        order,
        lifecycle: json(typed.builder.as_ref().and_then(|b| b.lifecycle.as_ref())),
        processes: json(typed.build.as_ref().and_then(|b| b.processes.as_ref())),
        run_image,
        labels,
        layers,
        platforms: multi_platforms(image),
    })
}

/// The platforms of the image's layout, when it lists more than one.
fn multi_platforms(image: &Image) -> Vec<String> {
    let platforms = image.layout().platforms().unwrap_or_default();
    if platforms.len() < 2 {
        return Vec::new();
    }
    platforms.iter().map(ToString::to_string).collect()
}

/// The first lines: what it is, its platform and id, and every platform of a multi-platform index.
fn head_text(report: &Report, kind: &str, out: &mut String) {
    let _ = writeln!(
        out,
        "{} ({kind}, {}/{})\nid: {}",
        report.source, report.os, report.architecture, report.id
    );
    if !report.platforms.is_empty() {
        let _ = writeln!(out, "platforms: {}", report.platforms.join(", "));
    }
}

fn order_text(order: &Value, out: &mut String) {
    for (i, group) in order.as_array().into_iter().flatten().enumerate() {
        let entries: Vec<String> = group["group"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let mut s = text(&e["id"]).unwrap_or_default();
                if let Some(v) = text(&e["version"]) {
                    let _ = write!(s, "@{v}");
                }
                if e["optional"].as_bool() == Some(true) {
                    s.push_str(" (optional)");
                }
                s
            })
            .collect();
        let _ = writeln!(out, "  group {}: {}", i + 1, entries.join(", "));
    }
}

/// The buildpacks, one a line: id, version and Buildpack API.
fn buildpacks_text(buildpacks: &[BuildpackSummary], out: &mut String) {
    out.push_str("\nBuildpacks:\n");
    for bp in buildpacks {
        let _ = writeln!(
            out,
            "  {:<40} {:<10} api {}",
            bp.id,
            bp.version,
            bp.api.as_deref().unwrap_or("?")
        );
    }
}

/// A builder's lifecycle: its version and the Buildpack and Platform APIs it supports.
fn lifecycle_text(lifecycle: &Value, out: &mut String) {
    let apis = |kind: &str| {
        lifecycle["apis"][kind]["supported"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let _ = writeln!(
        out,
        "\nLifecycle: {}\n  buildpack APIs: {}\n  platform APIs: {}",
        text(&lifecycle["version"]).unwrap_or_default(),
        apis("buildpack"),
        apis("platform")
    );
}

/// An app's processes, one a line: type, command and arguments.
fn processes_text(processes: &[Value], out: &mut String) {
    out.push_str("\nProcesses:\n");
    for p in processes {
        let command: Vec<String> = match &p["command"] {
            Value::Array(items) => items.iter().filter_map(text).collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        };
        let args: Vec<String> = p["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(text)
            .collect();
        let _ = writeln!(
            out,
            "  {:<12} {} {}",
            text(&p["type"]).unwrap_or_default(),
            command.join(" "),
            args.join(" ")
        );
    }
}

/// The layers, one a line: size, short digest and the history entry that made it.
fn layers_text(layers: &[LayerSummary], out: &mut String) {
    out.push_str("\nLayers:\n");
    for layer in layers {
        let short = layer.digest.trim_start_matches("sha256:");
        let _ = writeln!(
            out,
            "  {:>9}  {}  {}",
            libbuildpack::toolbox::style::format_size(layer.size),
            &short[..12.min(short.len())],
            layer.created_by
        );
    }
}

/// The labels, one a line, each value cut at 100 characters.
fn labels_text(labels: &BTreeMap<String, String>, out: &mut String) {
    out.push_str("\nLabels:\n");
    for (key, value) in labels {
        let shown: String = value.chars().take(100).collect();
        let more = if value.chars().count() > 100 {
            "…"
        } else {
            ""
        };
        let _ = writeln!(out, "  {key} = {shown}{more}");
    }
}

impl Report {
    /// The human-readable summary.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let kind = serde_json::to_value(self.kind)
            .ok()
            .and_then(|v| text(&v))
            .unwrap_or_default();
        head_text(self, &kind, &mut out);
        if !self.buildpacks.is_empty() {
            buildpacks_text(&self.buildpacks, &mut out);
        }
        if self.order.as_array().is_some_and(|o| !o.is_empty()) {
            out.push_str("\nOrder:\n");
            order_text(&self.order, &mut out);
        }
        if !self.lifecycle.is_null() {
            lifecycle_text(&self.lifecycle, &mut out);
        }
        if let Some(run) = self.run_image["image"]
            .as_str()
            .or(self.run_image["reference"].as_str())
        {
            let _ = writeln!(out, "\nRun image: {run}");
        }
        if let Some(processes) = self.processes.as_array().filter(|p| !p.is_empty()) {
            processes_text(processes, &mut out);
        }
        layers_text(&self.layers, &mut out);
        if !self.labels.is_empty() {
            labels_text(&self.labels, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::labels;
    use crate::oci::{LayerWriter, Layout};

    #[test]
    fn a_malformed_platform_label_is_an_error_naming_the_label_and_the_image() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path().join("builder")).unwrap();
        let mut image = Image::scratch(layout, "linux", "amd64").unwrap();
        image.set_label(labels::BUILDER_METADATA, "{}");
        image.set_label(labels::BUILDPACK_ORDER, r#"[{"group":"a/b"}]"#);
        let Err(Error::Inspect(err)) = report("localhost/builder:1", &image) else {
            panic!("a malformed order label was read");
        };
        assert_eq!(
            err.to_string(),
            "localhost/builder:1 is not a readable image"
        );
        assert_eq!(
            std::error::Error::source(&err).unwrap().to_string(),
            format!("the image's {} label is malformed", labels::BUILDPACK_ORDER)
        );
    }

    #[test]
    fn app_images_show_each_buildpacks_api_from_the_lifecycle_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path().join("app")).unwrap();
        let mut image = Image::scratch(layout.clone(), "linux", "amd64").unwrap();
        let mut config = LayerWriter::new(&layout).unwrap();
        config
            .file(
                "layers/config/metadata.toml",
                0o644,
                b"[[buildpacks]]\n  id = \"acme/models\"\n  version = \"0.1.0\"\n  api = \"0.10\"\n\n\
                  [[buildpacks]]\n  id = \"acme/pip\"\n  version = \"1.0.0\"\n",
            )
            .unwrap();
        image
            .add_layer(&config.finish().unwrap(), "lifecycle config")
            .unwrap();
        image.set_label(
            "io.buildpacks.build.metadata",
            r#"{"buildpacks":[{"id":"acme/models","version":"0.1.0"},{"id":"acme/pip","version":"1.0.0"}]}"#,
        );
        let report = with_app_apis(report("app", &image).unwrap(), &image);
        assert_eq!(report.kind, ImageKind::App);
        let apis: Vec<_> = report
            .buildpacks
            .iter()
            .map(|bp| bp.api.as_deref())
            .collect();
        assert_eq!(apis, [Some("0.10"), None]);
        let text = report.to_text();
        assert!(text.contains("acme/models"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with("acme/models") && l.ends_with("api 0.10")),
            "{text}"
        );
    }
}
