//! `rpack rebase`: put an app image on another (or a newer) run image without building it again, the way the
//! lifecycle's rebaser does it (`phase/rebaser.go`, imgutil's `Rebase` and go-containerregistry's
//! `mutate.Rebase`), on images in rpack's store:
//!
//! - the app image must not be labelled `io.buildpacks.rebasable=false`, and its os/arch (and variant and
//!   distro, when the run image names them) must match the new run image's, unless `--force`;
//! - the new run image must be the one the image was built on (or a mirror of it), unless `--force`, which then
//!   records the new one as the image's run image;
//! - rpack's own rule: a run image whose `io.rpack.python.version` differs from the one the app was built on is
//!   refused, `--force` or not: the app's venv links against that interpreter;
//! - a warning names the layers built for another distro version than the new run image's (the apt buildpack's
//!   system libraries record the target they were built for), whatever the image's own labels say;
//! - the layers up to the old run image's top layer (`runImage.topLayer` in `io.buildpacks.lifecycle.metadata`)
//!   are replaced by the new run image's layers; app layers are kept byte for byte; the config is the app's,
//!   with os, architecture and os version from the new run image, its `io.buildpacks.stack.*` and
//!   `io.buildpacks.base.*` labels, and `runImage.topLayer`/`reference` pointing at it.
//!
//! The result is written into a staging layout and renamed into place under the image's store lock.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use libbuildpack::data::labels::{
    LabelError, LifecycleMetadata, LifecycleRunImage, LifecycleStack, PlatformLabel, StackMixins,
};
use libbuildpack::toolbox::file::FileError;
use oci_spec::image::{Descriptor, History, ImageConfiguration, ImageManifestBuilder, MediaType};

use crate::oci::labels::LIFECYCLE_METADATA;
use crate::oci::reference::ImageRef;
use crate::oci::{Digest, Image, ImageError, Layout, canonical_json};
use crate::ops::Error;
use crate::store::Store;
use crate::toolbox::ui::Ui;

mod distro_layers;

/// The label an image carries when it must not be rebased (`"false"`).
pub(crate) const REBASABLE_LABEL: &str = "io.buildpacks.rebasable";

const STACK_ID_LABEL: &str = "io.buildpacks.stack.id";
const DISTRO_NAME_LABEL: &str = "io.buildpacks.base.distro.name";
const DISTRO_VERSION_LABEL: &str = "io.buildpacks.base.distro.version";

/// What failed in a rebase.
#[derive(Debug, thiserror::Error)]
pub enum RebaseError {
    /// The app image is not in the store.
    #[error("{image} is not in rpack's store ({path})")]
    NoImage {
        /// The image.
        image: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The run image is not in the store.
    #[error("run image {image} is not in rpack's store ({path})")]
    NoRunImage {
        /// The image.
        image: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The image has no lifecycle metadata: it was not built by a CNB lifecycle.
    #[error(
        "{image} has no {LIFECYCLE_METADATA} label, so it is not an app image a lifecycle built"
    )]
    NotAnAppImage {
        /// The image.
        image: String,
    },
    /// A platform label of the app image or the run image (its lifecycle metadata, its mixins) is malformed.
    #[error("could not read the labels of {image}")]
    Label {
        /// The image.
        image: String,
        /// Which label, and what is wrong with it.
        #[source]
        source: LabelError,
    },
    /// No run image was given and the image's metadata names none.
    #[error("{image} does not say which run image it was built on; pass --run-image")]
    RunImageRequired {
        /// The image.
        image: String,
    },
    /// A run image reference in the metadata cannot be parsed.
    #[error("{image}: the run image {value:?} in its metadata is not a valid reference")]
    BadRunImageRef {
        /// The image.
        image: String,
        /// The value.
        value: String,
    },
    /// The image is labelled `io.buildpacks.rebasable=false`.
    #[error("{image} is not marked as rebasable ({REBASABLE_LABEL}=false)")]
    NotRebasable {
        /// The image.
        image: String,
    },
    /// os/arch/variant/distro of the image and the new run image differ.
    #[error(
        "{image} cannot run on {run_image}: the run image's target is {run_target}, the app image's is {app_target}"
    )]
    TargetMismatch {
        /// The image.
        image: String,
        /// The new run image.
        run_image: String,
        /// The run image's os/arch/variant/distro.
        run_target: String,
        /// The app image's os/arch/variant/distro.
        app_target: String,
    },
    /// Stack ids differ (images from Platform API < 0.12).
    #[error("incompatible stack: {run_image} has stack {run_stack:?}, {image} has {app_stack:?}")]
    StackMismatch {
        /// The image.
        image: String,
        /// The new run image.
        run_image: String,
        /// Its stack id.
        run_stack: String,
        /// The app image's stack id.
        app_stack: String,
    },
    /// Mixins the app needs are missing from the new run image (Platform API < 0.12).
    #[error("{run_image} lacks mixins {image} needs: {missing}")]
    MissingMixins {
        /// The image.
        image: String,
        /// The new run image.
        run_image: String,
        /// The missing mixins.
        missing: String,
    },
    /// The new run image is not the image's run image (nor one of its mirrors).
    #[error("{run_image} is not the run image {image} was built on ({existing})")]
    OtherRunImage {
        /// The image.
        image: String,
        /// The new run image.
        run_image: String,
        /// The run image the metadata names.
        existing: String,
    },
    /// The new run image has another value of a label the app depends on (its Python, say: see
    /// [`crate::provision::stack::StackRecipe::rebase_keeps`]) than the one it was built against.
    #[error(
        "{run_image} has {} {run_value}, but {image} was built against {} {app_value}: {}",
        keep.what,
        keep.what,
        keep.why
    )]
    KeptLabelChanged {
        /// The image.
        image: String,
        /// The new run image.
        run_image: String,
        /// The label, what its value is (`Python`) and why the app breaks.
        keep: &'static crate::provision::stack::RebaseKeep,
        /// The run image's value (`none` when it has no such label).
        run_value: String,
        /// The value the app was built against.
        app_value: String,
    },
    /// The metadata's run image top layer is not a layer of the image.
    #[error("{image} does not contain its run image's top layer {top_layer}; it cannot be rebased")]
    TopLayerNotFound {
        /// The image.
        image: String,
        /// The diff id.
        top_layer: String,
    },
    /// The new run image has no layers.
    #[error("run image {image} has no layers")]
    EmptyRunImage {
        /// The run image.
        image: String,
    },
    /// The rebased image could not be assembled.
    #[error("could not assemble the rebased image")]
    Assemble(#[source] oci_spec::OciSpecError),
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl RebaseError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        Some(
            match self {
                Self::NoImage { .. } => "list the images rpack has with `rpack images`, or build it with `rpack build`",
                Self::NoRunImage { .. } => {
                    "make it with `rpack stack create`, pull it with `rpack pull`, or import it with `rpack image import`"
                }
                Self::NotAnAppImage { .. } | Self::Label { .. } => {
                    "only images built by `rpack build` (or pack) can be rebased; rebuild the app"
                }
                Self::NotRebasable { .. } => {
                    "an image extension changed the run image's file system; rebuild the app, or pass --force if you know the change survives a rebase"
                }
                Self::TargetMismatch { .. } | Self::StackMismatch { .. } | Self::MissingMixins { .. } => {
                    "rebase onto a run image of the same stack, os and architecture, or rebuild the app for the new one (--force overrides this check)"
                }
                Self::OtherRunImage { .. } => {
                    "pass --force to switch the image to this run image (its metadata then names the new one)"
                }
                Self::KeptLabelChanged { keep, .. } => {
                    let what = keep.what;
                    return Some(format!(
                        "rebuild the app with `rpack build` on a builder whose run image has this {what}; rebase only swaps OS packages of the same {what}"
                    ));
                }
                Self::RunImageRequired { .. } => "name the run image with --run-image",
                _ => return None,
            }
            .to_owned(),
        )
    }
}

/// What to rebase onto what.
#[derive(Clone, Debug)]
pub struct RebaseOptions {
    /// The app image in the store; rewritten in place.
    pub image: ImageRef,
    /// The new run image in the store (default: the run image the metadata names, as the lifecycle does).
    pub run_image: Option<ImageRef>,
    /// Rebase even when the image is not rebasable, targets differ or the run image is another one.
    pub force: bool,
    /// Of an app image with several platforms, the one to rebase (onto the run image's image of the same
    /// platform); the others are kept as they are. `None`: the host's, or the image's only one.
    pub platform: Option<crate::oci::Platform>,
}

/// A finished rebase.
#[derive(Clone, Debug)]
pub struct Rebased {
    /// The app image.
    pub image: ImageRef,
    /// The run image it is now on.
    pub run_image: ImageRef,
    /// Its new manifest digest.
    pub digest: Digest,
    /// How many run image layers were replaced.
    pub old_run_layers: usize,
    /// How many run image layers it has now.
    pub new_run_layers: usize,
    /// How many app layers were kept.
    pub app_layers: usize,
    /// Checks `--force` overrode, and layers built for another distro version than the new run image's, as
    /// warnings.
    pub warnings: Vec<String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Rebases `options.image` onto `options.run_image`, in place in the store.
///
/// # Errors
/// When either image is missing, a check fails (see the module docs), or the store cannot be written.
pub fn rebase(store: &Store, options: &RebaseOptions, ui: &Ui) -> Result<Rebased, Error> {
    let started = Instant::now();
    let name = options.image.to_string();
    let _lock = store.lock(&name)?;
    let app = load_app(store, options)?;
    let mut metadata = lifecycle_metadata(&name, &app)?;
    let run_ref = match &options.run_image {
        Some(r) => r.clone(),
        None => run_image_from_metadata(&name, &metadata)?,
    };
    let run = load_run(store, &run_ref, &app)?;
    ui.section(&format!("Rebasing {name} onto {run_ref}"));

    let mut warnings = run_checks(&name, &app, &run_ref, &run, options.force)?;
    let old_base = old_run_layer_count(&name, &app, &metadata)?;
    let (new_top, run_digest) = run_top_and_digest(&run_ref, &run)?;
    let run_target = RunTarget {
        image: &run_ref,
        digest: &run_digest,
        top_layer: new_top,
    };
    if let Some(warning) = update_metadata(&mut metadata, &name, &run_target, options.force)? {
        warnings.push(warning);
    }
    for warning in &warnings {
        ui.warn(&format!("{warning} (--force)"));
    }
    let buildpacks = metadata.buildpacks().map_err(|source| RebaseError::Label {
        image: name.clone(),
        source,
    })?;
    warnings.extend(distro_layers::warn(&name, &run_ref, &buildpacks, &run, ui));

    let config = rebased_config(&app, &run, old_base, &metadata)?;
    let layers: Vec<Descriptor> = run
        .layers()
        .iter()
        .chain(&app.layers()[old_base..])
        .cloned()
        .collect();
    let digest = write_rebased(store, &options.image, &app, &run, &config, &layers)?;
    let rebased = Rebased {
        image: options.image.clone(),
        run_image: run_ref,
        digest,
        old_run_layers: old_base,
        new_run_layers: run.layers().len(),
        app_layers: app.layers().len() - old_base,
        warnings,
        elapsed: started.elapsed(),
    };
    ui.done(
        &format!(
            "Rebased {name} onto {} ({}): {} run image layers replaced by {}, {} app layers kept",
            rebased.run_image,
            rebased.digest.short(),
            rebased.old_run_layers,
            rebased.new_run_layers,
            rebased.app_layers
        ),
        rebased.elapsed,
    );
    Ok(rebased)
}

/// The app image to rebase, of the platform `options` names (or its only one, or the host's).
fn load_app(store: &Store, options: &RebaseOptions) -> Result<Image, Error> {
    let layout = store.image_layout(&options.image);
    if !layout.exists() {
        return Err(RebaseError::NoImage {
            image: options.image.to_string(),
            path: layout.root().to_owned(),
        }
        .into());
    }
    Ok(Image::load(layout.scoped(options.platform.as_ref()))?)
}

/// The new run image, of the app's platform when it has several.
fn load_run(store: &Store, run_ref: &ImageRef, app: &Image) -> Result<Image, Error> {
    let run_layout = store.image_layout(run_ref);
    if !run_layout.exists() {
        return Err(RebaseError::NoRunImage {
            image: run_ref.to_string(),
            path: run_layout.root().to_owned(),
        }
        .into());
    }
    Ok(Image::load(run_layout_for(run_layout, app))?)
}

/// How many of the app image's layers are the old run image's: those up to its `runImage.topLayer`.
fn old_run_layer_count(
    name: &str,
    app: &Image,
    metadata: &LifecycleMetadata,
) -> Result<usize, RebaseError> {
    let top_layer = metadata
        .run_image
        .as_ref()
        .and_then(|r| r.top_layer.clone())
        .unwrap_or_default();
    app.diff_ids()
        .iter()
        .position(|d| *d == top_layer)
        .map(|i| i + 1)
        .ok_or_else(|| RebaseError::TopLayerNotFound {
            image: name.to_owned(),
            top_layer,
        })
}

/// The new run image's top layer (diff id) and manifest digest, which the rebased metadata records.
fn run_top_and_digest(run_ref: &ImageRef, run: &Image) -> Result<(String, Digest), RebaseError> {
    let empty = || RebaseError::EmptyRunImage {
        image: run_ref.to_string(),
    };
    let top = run.diff_ids().last().cloned().ok_or_else(empty)?;
    let digest = run.manifest_digest().cloned().ok_or_else(empty)?;
    Ok((top, digest))
}

/// The checks the lifecycle makes (overridable with `--force`, which turns them into the returned warnings),
/// and rpack's Python check (not overridable).
fn run_checks(
    name: &str,
    app: &Image,
    run_ref: &ImageRef,
    run: &Image,
    force: bool,
) -> Result<Vec<String>, RebaseError> {
    let mut warnings = Vec::new();
    let mut check = |result: Result<(), RebaseError>| -> Result<(), RebaseError> {
        match result {
            Err(e) if force => {
                warnings.push(e.to_string());
                Ok(())
            }
            other => other,
        }
    };
    let app_platform_api = app.env_var("CNB_PLATFORM_API").unwrap_or_default();
    if api_at_least(&app_platform_api, (0, 12)) {
        check(check_rebasable(name, app))?;
        check(check_target(name, app, run_ref, run))?;
    } else {
        check(check_stack(name, app, run_ref, run))?;
        check(check_mixins(name, app, run_ref, run))?;
    }
    check_kept_labels(name, app, run_ref, run)?;
    Ok(warnings)
}

/// The new run image, as the metadata records it.
struct RunTarget<'a> {
    image: &'a ImageRef,
    digest: &'a Digest,
    top_layer: String,
}

/// The app image's `io.buildpacks.lifecycle.metadata`.
fn lifecycle_metadata(name: &str, app: &Image) -> Result<LifecycleMetadata, RebaseError> {
    let text = app
        .label(LIFECYCLE_METADATA)
        .ok_or_else(|| RebaseError::NotAnAppImage {
            image: name.to_owned(),
        })?;
    LifecycleMetadata::from_label(&text).map_err(|source| RebaseError::Label {
        image: name.to_owned(),
        source,
    })
}

/// Updates `runImage` as the lifecycle does: the new top layer and reference, and with `--force` the new run
/// image's name when the metadata named another one (returned as a warning).
fn update_metadata(
    metadata: &mut LifecycleMetadata,
    name: &str,
    run: &RunTarget<'_>,
    force: bool,
) -> Result<Option<String>, RebaseError> {
    let run_image = metadata.run_image.get_or_insert_default();
    run_image.top_layer = Some(run.top_layer.clone());
    run_image.reference = Some(format!(
        "{}/{}@{}",
        crate::store::LAYOUT_MOUNT,
        run.image.layout_path().display(),
        run.digest
    ));
    if names_run_image(metadata, run.image) {
        return Ok(None);
    }
    let err = RebaseError::OtherRunImage {
        image: name.to_owned(),
        run_image: run.image.to_string(),
        existing: existing_run_image(metadata),
    };
    if !force {
        return Err(err);
    }
    let image = run.image.to_string();
    let run_image = metadata.run_image.get_or_insert_default();
    run_image.image = Some(image.clone());
    run_image.mirrors = None;
    metadata.stack = Some(LifecycleStack {
        run_image: LifecycleRunImage {
            image: Some(image),
            ..LifecycleRunImage::default()
        },
        rest: serde_json::Map::new(),
    });
    Ok(Some(err.to_string()))
}

/// The run image the metadata names (`runImage.image`, else the older `stack.runImage.image`).
fn run_image_from_metadata(
    image: &str,
    metadata: &LifecycleMetadata,
) -> Result<ImageRef, RebaseError> {
    let value = metadata
        .run_image_name()
        .ok_or_else(|| RebaseError::RunImageRequired {
            image: image.to_owned(),
        })?;
    value.parse().map_err(|_| RebaseError::BadRunImageRef {
        image: image.to_owned(),
        value: value.to_owned(),
    })
}

/// `runImage` and `stack.runImage` of the metadata, those it has.
fn run_image_sections(metadata: &LifecycleMetadata) -> impl Iterator<Item = &LifecycleRunImage> {
    let older = metadata.stack.as_ref().map(|stack| &stack.run_image);
    metadata.run_image.iter().chain(older)
}

/// Whether the metadata names `run` as the run image or a mirror (tags count, digests do not).
fn names_run_image(metadata: &LifecycleMetadata, run: &ImageRef) -> bool {
    let same = |v: &str| {
        let name = v.split('@').next().unwrap_or(v);
        name.parse::<ImageRef>().is_ok_and(|r| r == *run)
    };
    run_image_sections(metadata).any(|section| {
        section.image.as_deref().is_some_and(same)
            || section.mirrors.iter().flatten().any(|mirror| same(mirror))
    })
}

fn existing_run_image(metadata: &LifecycleMetadata) -> String {
    run_image_sections(metadata)
        .find(|section| section.image.as_deref().is_some_and(|s| !s.is_empty()))
        .and_then(|section| serde_json::to_value(section).ok())
        .map_or_else(|| "none recorded".to_owned(), |section| section.to_string())
}

/// `major.minor` at least `want`; an empty or unparsable version is taken as older.
fn api_at_least(version: &str, want: (u32, u32)) -> bool {
    let mut parts = version.split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= want,
        _ => false,
    }
}

fn check_rebasable(name: &str, app: &Image) -> Result<(), RebaseError> {
    if app.label(REBASABLE_LABEL).as_deref() == Some("false") {
        return Err(RebaseError::NotRebasable {
            image: name.to_owned(),
        });
    }
    Ok(())
}

/// os, arch, variant and distro of an image, as the lifecycle reads a target from an image.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    os: String,
    arch: String,
    variant: String,
    distro: Option<(String, String)>,
}

impl Target {
    fn of(image: &Image) -> Self {
        let labels = image.labels();
        let name = labels.get(DISTRO_NAME_LABEL);
        let version = labels.get(DISTRO_VERSION_LABEL);
        Self {
            os: image.os(),
            arch: image.arch(),
            variant: image.config().variant().clone().unwrap_or_default(),
            distro: (name.is_some() || version.is_some()).then(|| {
                (
                    name.cloned().unwrap_or_default(),
                    version.cloned().unwrap_or_default(),
                )
            }),
        }
    }

    /// The lifecycle's `TargetSatisfiedForRebase(new run image, app image)`.
    fn satisfies(&self, app: &Self) -> bool {
        let matches = |a: &str, b: &str| a.is_empty() || b.is_empty() || a == b;
        if self.os != app.os || self.arch != app.arch || !matches(&self.variant, &app.variant) {
            return false;
        }
        match (&self.distro, &app.distro) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some((name, version)), Some((app_name, app_version))) => {
                (name.is_empty() || name == app_name)
                    && (version.is_empty() || version == app_version)
            }
        }
    }

    fn describe(&self) -> String {
        let mut text = format!("{}/{}", self.os, self.arch);
        if !self.variant.is_empty() {
            text.push('/');
            text.push_str(&self.variant);
        }
        if let Some((name, version)) = &self.distro {
            let _ = write!(text, " ({name} {version})");
        }
        text
    }
}

fn check_target(
    name: &str,
    app: &Image,
    run_ref: &ImageRef,
    run: &Image,
) -> Result<(), RebaseError> {
    let app_target = Target::of(app);
    let run_target = Target::of(run);
    if run_target.satisfies(&app_target) {
        return Ok(());
    }
    Err(RebaseError::TargetMismatch {
        image: name.to_owned(),
        run_image: run_ref.to_string(),
        run_target: run_target.describe(),
        app_target: app_target.describe(),
    })
}

fn check_stack(
    name: &str,
    app: &Image,
    run_ref: &ImageRef,
    run: &Image,
) -> Result<(), RebaseError> {
    let app_stack = app.label(STACK_ID_LABEL).unwrap_or_default();
    let run_stack = run.label(STACK_ID_LABEL).unwrap_or_default();
    if app_stack.is_empty() || run_stack.is_empty() || app_stack != run_stack {
        return Err(RebaseError::StackMismatch {
            image: name.to_owned(),
            run_image: run_ref.to_string(),
            run_stack,
            app_stack,
        });
    }
    Ok(())
}

fn check_mixins(
    name: &str,
    app: &Image,
    run_ref: &ImageRef,
    run: &Image,
) -> Result<(), RebaseError> {
    let mixins = |image: &Image, image_name: &str| -> Result<StackMixins, RebaseError> {
        let Some(text) = image.label(StackMixins::NAME) else {
            return Ok(StackMixins::default());
        };
        StackMixins::from_label(&text).map_err(|source| RebaseError::Label {
            image: image_name.to_owned(),
            source,
        })
    };
    let run_mixins = mixins(run, &run_ref.to_string())?;
    let have: Vec<&str> = run_mixins.names().collect();
    let mut missing: Vec<String> = mixins(app, name)?
        .names()
        .filter(|m| !have.contains(m))
        .map(str::to_owned)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort();
    Err(RebaseError::MissingMixins {
        image: name.to_owned(),
        run_image: run_ref.to_string(),
        missing: missing.join(", "),
    })
}

/// The app carries its original run image's labels; what the stacks declare an app depends on (its
/// Python) must stay the same.
fn check_kept_labels(
    name: &str,
    app: &Image,
    run_ref: &ImageRef,
    run: &Image,
) -> Result<(), RebaseError> {
    for keep in crate::provision::stack::rebase_keeps() {
        let Some(app_value) = app.label(keep.label) else {
            continue;
        };
        let run_value = run.label(keep.label);
        if run_value.as_deref() != Some(app_value.as_str()) {
            return Err(RebaseError::KeptLabelChanged {
                image: name.to_owned(),
                run_image: run_ref.to_string(),
                keep,
                run_value: run_value.unwrap_or_else(|| "none".to_owned()),
                app_value,
            });
        }
    }
    Ok(())
}

/// The app's config on the new base: os/arch/os version and stack/base labels from the run image, the new
/// metadata, the run image's layers and history below the app's own.
fn rebased_config(
    app: &Image,
    run: &Image,
    old_base: usize,
    metadata: &LifecycleMetadata,
) -> Result<ImageConfiguration, Error> {
    let mut config = app.config().clone();
    config.set_os(run.config().os().clone());
    config.set_architecture(run.config().architecture().clone());
    config.set_os_version(run.config().os_version().clone());

    let mut diff_ids: Vec<String> = run.diff_ids().to_vec();
    diff_ids.extend_from_slice(&app.diff_ids()[old_base..]);
    config.rootfs_mut().set_diff_ids(diff_ids);

    // History: the run image's, then the app's entries above its old base (empty-layer entries are walked over
    // the way go-containerregistry does).
    let mut history: Vec<History> = run.config().history().clone().unwrap_or_default();
    let mut non_empty = 0;
    for entry in app.config().history().clone().unwrap_or_default() {
        if !entry.empty_layer().unwrap_or(false) {
            non_empty += 1;
        }
        if non_empty > old_base {
            history.push(entry);
        }
    }
    config.set_history(Some(history));

    let metadata_text = metadata.to_label().map_err(|source| RebaseError::Label {
        image: app.layout().root().display().to_string(),
        source,
    })?;
    let run_labels = run.labels();
    let mut runtime = config.config().clone().unwrap_or_default();
    let mut labels = runtime.labels().clone().unwrap_or_default();
    let synced = |key: &str| {
        key.starts_with("io.buildpacks.stack.") || key.starts_with("io.buildpacks.base.")
    };
    labels.retain(|key, _| !synced(key));
    for (key, value) in run_labels {
        if synced(&key) {
            labels.insert(key, value);
        }
    }
    labels.insert(LIFECYCLE_METADATA.to_owned(), metadata_text);
    runtime.set_labels(Some(labels));
    config.set_config(Some(runtime));
    Ok(config)
}

/// Writes the rebased image into a staging layout (blobs linked from both images) and renames it over the app
/// image's layout. Returns the new manifest digest.
fn write_rebased(
    store: &Store,
    image: &ImageRef,
    app: &Image,
    run: &Image,
    config: &ImageConfiguration,
    layers: &[Descriptor],
) -> Result<Digest, Error> {
    let work = store.scratch_dir("rebase-")?;
    let staged = Layout::create(work.path().join("layout"))?;
    for layer in layers {
        let digest = crate::oci::to_digest(app.layout(), layer.digest())?;
        let source = if app.layout().has_blob(&digest) {
            app.layout()
        } else {
            run.layout()
        };
        staged.import_blob(source, &digest)?;
    }
    let config_bytes = canonical_json(config).map_err(ImageError::Serialize)?;
    let config_desc = staged.write_blob(MediaType::ImageConfig, &config_bytes)?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2_u32)
        .media_type(MediaType::ImageManifest)
        .config(config_desc)
        .layers(layers.to_vec())
        .build()
        .map_err(RebaseError::Assemble)?;
    let manifest_bytes = canonical_json(&manifest).map_err(ImageError::Serialize)?;
    let mut manifest_desc = staged.write_blob(MediaType::ImageManifest, &manifest_bytes)?;
    manifest_desc.set_annotations(Some(std::collections::HashMap::from([(
        "org.opencontainers.image.ref.name".to_owned(),
        image.tag().to_owned(),
    )])));
    manifest_desc.set_platform(Some(
        oci_spec::image::PlatformBuilder::default()
            .os(config.os().clone())
            .architecture(config.architecture().clone())
            .build()
            .map_err(RebaseError::Assemble)?,
    ));
    staged.write_index(&manifest_desc)?;
    let loaded = Image::load(staged.clone())?;
    let digest = loaded
        .manifest_digest()
        .cloned()
        .unwrap_or_else(|| Digest::of(&manifest_bytes));
    // Beside the image's other platforms, when it has several; else replacing it.
    crate::store::platforms::put(store, image, &staged)?;
    Ok(digest)
}

/// The run image's layout to read: of a run image with several platforms, the app's platform (a
/// single-platform run image of another platform is refused by the target check, or taken with `--force`).
fn run_layout_for(run_layout: Layout, app: &Image) -> Layout {
    if run_layout.is_multi_platform() {
        run_layout.for_platform(crate::oci::Platform::new(&app.os(), &app.arch()))
    } else {
        run_layout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_api_versions_compare_numerically() {
        assert!(api_at_least("0.15", (0, 12)));
        assert!(api_at_least("0.12", (0, 12)));
        assert!(!api_at_least("0.9", (0, 12)));
        assert!(!api_at_least("", (0, 12)));
        assert!(api_at_least("1.0", (0, 12)));
    }

    #[test]
    fn run_image_names_match_with_or_without_digest_and_mirrors() {
        let metadata = LifecycleMetadata::from_label(
            r#"{"runImage":{"image":"localhost/run:latest","mirrors":["127.0.0.1:5000/run:latest"]}}"#,
        )
        .unwrap();
        let named = |s: &str| names_run_image(&metadata, &s.parse().unwrap());
        assert!(named("localhost/run:latest"));
        assert!(named("127.0.0.1:5000/run"));
        assert!(!named("localhost/run:patched"));
        let stack_only =
            LifecycleMetadata::from_label(r#"{"stack":{"runImage":{"image":"run"}}}"#).unwrap();
        assert!(names_run_image(
            &stack_only,
            &"index.docker.io/library/run:latest".parse().unwrap()
        ));
    }

    /// The label a rebase writes is the one the `serde_json::Value` edits before the typed label wrote: the new
    /// top layer and reference, with `--force` the new name in `runImage` (without mirrors) and `stack`, and
    /// every other field byte for byte.
    #[test]
    fn the_rebased_label_is_written_as_before_the_types() {
        let text = r#"{"app":[{"sha":"sha256:aa"}],"buildpacks":[{"key":"a/b","layers":{"l":{"data":{"x":1},"launch":true,"sha":"sha256:cc"}},"store":null,"version":"1"}],"config":{"sha":"sha256:dd"},"launcher":{"sha":"sha256:ee"},"process-types":{"sha":"sha256:ff"},"runImage":{"image":"localhost/run:1","mirrors":["127.0.0.1:5000/run:1"],"reference":"old","topLayer":"sha256:01"},"sbom":{"sha":"sha256:bb"},"stack":{"runImage":{"image":"localhost/run:1"}}}"#;
        let digest: Digest = format!("sha256:{}", "2".repeat(64)).parse().unwrap();
        for (run, force) in [("localhost/run:1", false), ("localhost/other:2", true)] {
            let image: ImageRef = run.parse().unwrap();
            let target = RunTarget {
                image: &image,
                digest: &digest,
                top_layer: "sha256:03".to_owned(),
            };
            let mut typed = LifecycleMetadata::from_label(text).unwrap();
            let warned = update_metadata(&mut typed, "app", &target, force).unwrap();
            assert_eq!(warned.is_some(), force);

            let mut before: serde_json::Value = serde_json::from_str(text).unwrap();
            before["runImage"]["topLayer"] = "sha256:03".into();
            before["runImage"]["reference"] = format!(
                "{}/{}@{digest}",
                crate::store::LAYOUT_MOUNT,
                image.layout_path().display()
            )
            .into();
            if force {
                before["runImage"]["image"] = image.to_string().into();
                before["runImage"]
                    .as_object_mut()
                    .unwrap()
                    .remove("mirrors");
                before["stack"] = serde_json::json!({ "runImage": { "image": image.to_string() } });
            }
            assert_eq!(typed.to_label().unwrap(), before.to_string());
        }
    }

    #[test]
    fn a_malformed_lifecycle_label_names_the_label_and_the_image() {
        let dir = tempfile::tempdir().unwrap();
        let mut app =
            Image::scratch(Layout::create(dir.path()).unwrap(), "linux", "amd64").unwrap();
        let err = lifecycle_metadata("localhost/app:1", &app).unwrap_err();
        assert!(matches!(err, RebaseError::NotAnAppImage { .. }), "{err}");
        app.set_label(LIFECYCLE_METADATA, r#"{"runImage":{"topLayer":1}}"#);
        let err = lifecycle_metadata("localhost/app:1", &app).unwrap_err();
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert_eq!(
            (err.to_string(), source),
            (
                "could not read the labels of localhost/app:1".to_owned(),
                format!("the image's {LIFECYCLE_METADATA} label is malformed")
            )
        );
    }

    #[test]
    fn targets_follow_the_lifecycle_rules() {
        let t = |os: &str, arch: &str, distro: Option<(&str, &str)>| Target {
            os: os.to_owned(),
            arch: arch.to_owned(),
            variant: String::new(),
            distro: distro.map(|(n, v)| (n.to_owned(), v.to_owned())),
        };
        let app = t("linux", "amd64", Some(("debian", "12")));
        assert!(t("linux", "amd64", None).satisfies(&app));
        assert!(t("linux", "amd64", Some(("debian", "12"))).satisfies(&app));
        assert!(!t("linux", "arm64", None).satisfies(&app));
        assert!(!t("linux", "amd64", Some(("debian", "13"))).satisfies(&app));
        assert!(!t("linux", "amd64", Some(("debian", "12"))).satisfies(&t("linux", "amd64", None)));
    }
}
