//! Builder images from `builder.toml`: the build image plus the lifecycle at `/cnb/lifecycle`, the buildpacks at
//! `/cnb/buildpacks/<id>/<version>`, `/cnb/order.toml`, `/cnb/run.toml`, `/cnb/build-config/env`, and the labels
//! pack writes.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use libbuildpack::data::labels::{
    BuilderBuildpackLayer, BuilderBuildpackLayers, BuilderMetadata, BuilderMetadataBuildpack,
    BuilderMetadataLifecycle, BuilderMetadataStack, BuildpackOrder, CreatedBy, PlatformLabel,
    RunImageEntry,
};
use libbuildpack::data::{BuilderToml, GroupEntry, OrderGroup, OrderToml, RunToml, TomlFileError};
use libbuildpack::toolbox::file::FileError;

use crate::buildpack::package::{self, BuildpackDir};
use crate::oci::labels::{BUILDER_METADATA, BUILDPACK_LAYERS, BUILDPACK_ORDER};
use crate::oci::reference::ImageRef;
use crate::oci::{Image, LayerWriter, Layout, Platform};
use crate::provision::Error;
use crate::provision::lifecycle::{self, Lifecycle};
use crate::provision::stack::{self, StackRecipe};
use crate::store::Store;
use crate::toolbox::ui::Ui;

mod lifecycle_layer;
mod multi;
pub mod publish;
mod sources;
pub mod suggest;

/// A builder image in the store, and what a build needs to know about it.
#[derive(Clone, Debug)]
pub struct Builder {
    /// The builder image.
    pub image: ImageRef,
    /// The default run image.
    pub run_image: ImageRef,
    /// `CNB_USER_ID` and `CNB_GROUP_ID` of the build image.
    pub user: (u32, u32),
    /// The buildpacks in the builder, as (id, version).
    pub buildpacks: Vec<(String, String)>,
}

/// What failed while making a builder.
#[derive(Debug, thiserror::Error)]
pub enum BuilderError {
    /// builder.toml is missing or invalid.
    #[error(transparent)]
    Config(#[from] TomlFileError),
    /// An image the builder needs is not in the store and rpack cannot make it.
    #[error("{role} image {image} is not in rpack's store ({path})")]
    MissingImage {
        /// `build` or `run`.
        role: &'static str,
        /// The image.
        image: String,
        /// Where it was expected.
        path: PathBuf,
    },
    /// An image reference in builder.toml is invalid.
    #[error("{path}: {field} = {value:?} is not a valid image reference: {why}")]
    BadImageRef {
        /// builder.toml.
        path: PathBuf,
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
        /// Why.
        why: String,
    },
    /// A `[[buildpacks]]` entry is not a local dir.
    #[error(
        "{path}: buildpacks[{index}] uri {uri:?} is not supported yet; give a directory (a buildpack dir or its Rust crate)"
    )]
    UnsupportedUri {
        /// builder.toml.
        path: PathBuf,
        /// The entry.
        index: usize,
        /// The uri.
        uri: String,
    },
    /// An order entry names a buildpack the builder does not have.
    #[error(
        "{path}: order[{group}] wants {id}{version}, which none of the [[buildpacks]] provides"
    )]
    UnknownBuildpack {
        /// builder.toml.
        path: PathBuf,
        /// The group.
        group: usize,
        /// The id.
        id: String,
        /// ` 1.2.3` or empty.
        version: String,
    },
    /// `--publish` was given a name only rpack's store knows.
    #[error(
        "{image} names no registry (`localhost/...` lives only in rpack's store): give the builder's name in the registry to publish to, like 127.0.0.1:5000/my/builder:latest"
    )]
    NotPublishable {
        /// The image.
        image: String,
    },
    /// A build or `--platform` asks for a platform builder.toml's `[[targets]]` do not name.
    #[error("{path} makes no builder for {platform} (its [[targets]]: {available})")]
    NoTarget {
        /// builder.toml.
        path: PathBuf,
        /// The platform asked for.
        platform: String,
        /// The platforms its targets name (this machine's when it has none).
        available: String,
    },
    /// The image is not a builder.
    #[error("{image} is not a builder image (no {BUILDER_METADATA} label)")]
    NotABuilder {
        /// The image.
        image: String,
    },
    /// The builder's label is malformed.
    #[error("{image} is not a readable builder image")]
    Label {
        /// The image.
        image: String,
        /// Which label, and what is wrong with it.
        #[source]
        source: libbuildpack::data::labels::LabelError,
    },
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl BuilderError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::MissingImage { .. } => Some(format!(
                "rpack makes the images of its own stacks on demand ({}); other images have to be in the store",
                stack::RECIPES
                    .iter()
                    .map(|r| r.build_image().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Self::NoTarget { platform, .. } => {
                let (os, arch) = platform.split_once('/').unwrap_or(("linux", platform));
                Some(format!(
                    "to build for it, add a [[targets]] entry with os = \"{os}\" and arch = \"{arch}\" to builder.toml"
                ))
            }
            _ => None,
        }
    }
}

crate::toolbox::file_error::io_err!(BuilderError);

/// The label recording a digest of everything a builder was made from: when it is unchanged, making the builder
/// again would give the same image, so rpack reuses it.
pub(crate) const INPUTS_LABEL: &str = "io.rpack.builder.inputs";

/// A digest of the builder's inputs: rpack's version, builder.toml, the lifecycle's files, the build image's
/// manifest, and every prepared buildpack dir (after building crates, so a changed binary changes it).
fn fingerprint(store: &Store, inputs: &Inputs) -> Result<String, Error> {
    let mut digest = sources::Feed::new();
    let mut feed = |bytes: &[u8]| digest.bytes(bytes);
    feed(env!("CARGO_PKG_VERSION").as_bytes());
    feed(&fs_err::read(&inputs.config).map_err(io_err("read", &inputs.config))?);
    let build = Image::load(
        store
            .image_layout(&inputs.build_image)
            .for_platform(inputs.platform.clone()),
    )?;
    feed(
        build
            .manifest_digest()
            .map(|d| d.as_str().to_owned())
            .unwrap_or_default()
            .as_bytes(),
    );
    feed(inputs.run_image.to_string().as_bytes());
    for run in &inputs.run_images {
        feed(run.image.as_bytes());
        feed(run.mirrors.join("\n").as_bytes());
    }
    let mut trees = vec![inputs.lifecycle.root().to_owned()];
    trees.extend(inputs.buildpacks.iter().map(|bp| bp.dir.clone()));
    for tree in trees {
        for (rel, kind, bytes) in tree_entries(&tree)? {
            feed(rel.as_bytes());
            feed(&[kind]);
            feed(&bytes);
        }
    }
    Ok(digest.finish())
}

/// Every entry below `root`, sorted by path: the relative path, a kind byte (`d`, `l`, `x` executable, `f`
/// file), and the link target or a digest of the file's contents.
fn tree_entries(root: &Path) -> Result<Vec<(String, u8, Vec<u8>)>, BuilderError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs_err::read_dir(&dir).map_err(io_err("read", &dir))? {
            let entry = entry.map_err(io_err("read", &dir))?;
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let meta = fs_err::symlink_metadata(&path).map_err(io_err("read", &path))?;
            if meta.is_dir() {
                out.push((rel, b'd', Vec::new()));
                stack.push(path);
            } else if meta.file_type().is_symlink() {
                let target = fs_err::read_link(&path).map_err(io_err("read", &path))?;
                out.push((
                    rel,
                    b'l',
                    target.to_string_lossy().into_owned().into_bytes(),
                ));
            } else {
                let mut file = fs_err::File::open(&path).map_err(io_err("read", &path))?;
                let mut hasher = crate::oci::HashingWriter::new(io::sink());
                io::copy(&mut file, &mut hasher).map_err(io_err("read", &path))?;
                let exec =
                    std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0;
                out.push((
                    rel,
                    if exec { b'x' } else { b'f' },
                    hasher.finish().1.as_str().as_bytes().to_vec(),
                ));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Everything a builder is made of, read and prepared before any layer is written.
struct Inputs {
    /// The platform the builder image is made for.
    platform: crate::oci::Platform,
    config: PathBuf,
    toml: BuilderToml,
    lifecycle: Lifecycle,
    build_image: ImageRef,
    run_image: ImageRef,
    /// builder.toml's run images, with the names they were published under (see [`publish`]).
    run_images: Vec<libbuildpack::data::RunImage>,
    buildpacks: Vec<BuildpackDir>,
    order: OrderToml,
}

/// Makes the builder `name` from the `builder.toml` at `config`.
///
/// # Errors
/// When builder.toml is invalid, an image or the lifecycle is missing, a buildpack does not build, or the image
/// cannot be written.
pub fn create(store: &Store, config: &Path, name: &ImageRef, ui: &Ui) -> Result<Builder, Error> {
    create_with(store, config, name, &publish::Renamed::new(), &[], ui)
}

/// [`create`] for the platforms in `only` of the ones builder.toml's `[[targets]]` name (all of them when
/// `only` is empty): the builder's images of its other platforms stay as they are in the store.
///
/// # Errors
/// As [`create`], and [`BuilderError::NoTarget`] when builder.toml has no target for a platform of `only`.
pub fn create_for(
    store: &Store,
    config: &Path,
    name: &ImageRef,
    only: &[Platform],
    ui: &Ui,
) -> Result<Builder, Error> {
    create_with(store, config, name, &publish::Renamed::new(), only, ui)
}

/// [`create_for`], with the run images in `renamed` named by their new references in the builder's metadata,
/// `run.toml` and `stack.toml`.
fn create_with(
    store: &Store,
    config: &Path,
    name: &ImageRef,
    renamed: &publish::Renamed,
    only: &[Platform],
    ui: &Ui,
) -> Result<Builder, Error> {
    let started = Instant::now();
    let _lock = store.lock(&name.to_string())?;
    let platforms = multi::platforms(config)?;
    for wanted in only {
        targeted(config, &platforms, wanted)?;
    }
    let host = [Platform::host()];
    if platforms != host {
        let make = if only.is_empty() { &platforms } else { only };
        return multi::create(store, config, name, renamed, &platforms, make, ui);
    }
    ui.section(&format!("Creating builder {name}"));
    let work = store.scratch_dir("builder-")?;
    // Hashed before cargo runs, so a source edited during the build is seen by the next one.
    let sources = sources::fingerprint(store, config, &host[0]);
    let inputs = gather_inputs(store, config, work.path(), renamed, &host[0], ui)?;
    let fingerprint = fingerprint(store, &inputs)?;
    let record = |sources: Option<&str>| {
        if let Some(sources) = sources {
            sources::Record::of(store, name, &host[0]).write(sources, &fingerprint);
        }
    };
    if let Ok(existing) = Image::load(store.image_layout(name))
        && existing.label(INPUTS_LABEL).as_deref() == Some(fingerprint.as_str())
    {
        record(sources.as_deref());
        ui.done(
            &format!("Builder {name} is up to date (its inputs are unchanged)"),
            started.elapsed(),
        );
        return Builder::load(store, name);
    }

    let step = Instant::now();
    let staging = Layout::create(work.path().join("image"))?;
    let user = assemble(store, &inputs, &fingerprint, &staging, name.tag())?;
    let dest = store.image_layout(name);
    crate::store::replace_dir(staging.root(), dest.root())
        .map_err(io_err("move into place", dest.root()))?;
    record(sources.as_deref());
    ui.done(
        &format!(
            "Builder {name} ready ({} buildpacks, lifecycle {})",
            inputs.buildpacks.len(),
            inputs.lifecycle.version()
        ),
        step.elapsed(),
    );
    ui.done("Done", started.elapsed());
    let buildpacks = inputs
        .buildpacks
        .iter()
        .map(|bp| {
            (
                bp.descriptor.buildpack.id.as_str().to_owned(),
                bp.descriptor.buildpack.version.to_string(),
            )
        })
        .collect();
    Ok(Builder {
        image: name.clone(),
        run_image: inputs.run_image,
        user,
        buildpacks,
    })
}

/// Writes the builder image for `inputs` into `staging` (tagged `tag`, labelled with `fingerprint`); returns
/// the build user and group.
fn assemble(
    store: &Store,
    inputs: &Inputs,
    fingerprint: &str,
    staging: &Layout,
    tag: &str,
) -> Result<(u32, u32), Error> {
    let build = Image::load(
        store
            .image_layout(&inputs.build_image)
            .for_platform(inputs.platform.clone()),
    )?;
    let user = (
        env_id(&build, "CNB_USER_ID"),
        env_id(&build, "CNB_GROUP_ID"),
    );
    let mut image = build.move_to(staging.clone())?;
    lifecycle_layer::add(store, &mut image, staging, &inputs.lifecycle)?;
    let layers_label = add_buildpack_layers(&mut image, staging, &inputs.buildpacks)?;
    add_config_layer(&mut image, staging, inputs, user)?;
    set_labels(&mut image, inputs, &layers_label)?;
    image.set_label(INPUTS_LABEL, fingerprint);
    image.save(tag)?;
    Ok(user)
}

/// The builder `name` from the `builder.toml` at `config`, as [`create`] makes it, but recognised as up to date
/// without building its crates when none of its sources changed since the last full check (see `sources`).
///
/// # Errors
/// As [`create`].
pub fn ensure(store: &Store, config: &Path, name: &ImageRef, ui: &Ui) -> Result<Builder, Error> {
    ensure_for(store, config, name, None, ui)
}

/// [`ensure`] for a build for `platform` (this machine's when `None`): only that platform's image of the
/// builder is made or checked, so building for one platform never makes another platform's stack. The builder
/// is recorded as made for `config`: `rpack prune` removes it once that file is gone.
///
/// # Errors
/// As [`create`], and [`BuilderError::NoTarget`] when builder.toml has no target for `platform`.
pub fn ensure_for(
    store: &Store,
    config: &Path,
    name: &ImageRef,
    platform: Option<&Platform>,
    ui: &Ui,
) -> Result<Builder, Error> {
    let started = Instant::now();
    let platform = platform.cloned().unwrap_or_else(Platform::host);
    crate::store::made_for::remember(store, name, config);
    if let Some(sources) = sources::fingerprint(store, config, &platform)
        && let Ok(existing) = Image::load(store.image_layout(name).for_platform(platform.clone()))
        && existing.arch() == platform.arch
        && sources::Record::of(store, name, &platform)
            .matches(&sources, existing.label(INPUTS_LABEL).as_deref())
    {
        ui.done(
            &format!("Builder {name} is up to date (its sources are unchanged)"),
            started.elapsed(),
        );
        return Builder::load(store, name);
    }
    create_for(store, config, name, &[platform], ui)
}

/// Checks that builder.toml at `config`, whose targets are `platforms`, makes a builder for `wanted`.
fn targeted(config: &Path, platforms: &[Platform], wanted: &Platform) -> Result<(), BuilderError> {
    if platforms.contains(wanted) {
        return Ok(());
    }
    Err(BuilderError::NoTarget {
        path: config.to_owned(),
        platform: wanted.to_string(),
        available: platforms
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Reads builder.toml, finds the lifecycle and the stack images (making rpack's own on demand) and prepares
/// every buildpack (building crates) under `work`.
fn gather_inputs(
    store: &Store,
    config: &Path,
    work: &Path,
    renamed: &publish::Renamed,
    platform: &crate::oci::Platform,
    ui: &Ui,
) -> Result<Inputs, Error> {
    let toml = BuilderToml::read(config).map_err(BuilderError::from)?;
    let base = config.parent().unwrap_or_else(|| Path::new("."));
    let lifecycle = find_lifecycle(store, &toml, base, &platform.arch)?;
    let build_image = parse_ref(
        config,
        "build.image",
        toml.build_image().unwrap_or_default(),
    )?;
    let run_images = publish::rename(toml.run_images(), renamed);
    let first_run = run_images.first().map_or("", |r| r.image.as_str());
    let run_image = parse_ref(config, "run.images[0].image", first_run)?;
    ensure_stack_image_for(store, "build", &build_image, platform, ui)?;
    ensure_stack_image_for(store, "run", &run_image, platform, ui)?;
    let target =
        package::cnb::triple_of(&platform.os, &platform.arch, platform.variant.as_deref())?;
    let mut buildpacks = Vec::new();
    for (index, entry) in toml.buildpacks.iter().enumerate() {
        let uri = entry.uri.as_deref().unwrap_or_default();
        buildpacks.extend(buildpacks_at_uri(config, index, uri, work, &target, ui)?);
    }
    let order = resolve_order(config, &toml.order, &buildpacks)?;
    Ok(Inputs {
        platform: platform.clone(),
        config: config.to_owned(),
        toml,
        lifecycle,
        build_image,
        run_image,
        run_images,
        buildpacks,
        order,
    })
}

/// The buildpacks of one `[[buildpacks]] uri`: a buildpack dir or crate, a `.cnb` file (every buildpack in
/// it, read with safe extraction), or `cargo:<crate dir or workspace package>`, packaged by rpack.
fn buildpacks_at_uri(
    config: &Path,
    index: usize,
    uri: &str,
    work: &Path,
    target: &str,
    ui: &Ui,
) -> Result<Vec<BuildpackDir>, Error> {
    let base = config.parent().unwrap_or_else(|| Path::new("."));
    Ok(package::resolve_uri(
        config,
        &format!("buildpacks[{index}].uri"),
        uri,
        base,
        &work.join("buildpacks").join(index.to_string()),
        target,
        ui,
    )?)
}

/// One layer per buildpack at `/cnb/buildpacks/<escaped id>/<version>`, as pack lays them out; returns the
/// `io.buildpacks.buildpack.layers` label.
fn add_buildpack_layers(
    image: &mut Image,
    staging: &Layout,
    buildpacks: &[BuildpackDir],
) -> Result<BuilderBuildpackLayers, Error> {
    let mut label = BuilderBuildpackLayers::default();
    for bp in buildpacks {
        let info = &bp.descriptor.buildpack;
        let escaped = info.id.escaped();
        let mut layer = LayerWriter::new(staging)?;
        for dir in [
            "cnb",
            "cnb/buildpacks",
            &format!("cnb/buildpacks/{escaped}"),
        ] {
            layer
                .dir(dir, 0o755)
                .map_err(io_err("write", staging.root()))?;
        }
        let dest = format!("cnb/buildpacks/{escaped}/{}", info.version);
        layer.tree(&dest, &bp.dir).map_err(io_err("add", &bp.dir))?;
        let written = layer.finish()?;
        image.add_layer(
            &written,
            &format!("rpack: buildpack {} {}", info.id.as_str(), info.version),
        )?;
        label
            .0
            .entry(info.id.as_str().to_owned())
            .or_default()
            .insert(
                info.version.to_string(),
                BuilderBuildpackLayer {
                    api: bp.descriptor.api.to_string(),
                    targets: bp.descriptor.targets.clone(),
                    order: bp.descriptor.order.clone(),
                    layer_diff_id: written.diff_id.to_string(),
                    homepage: info.homepage.clone(),
                    name: info.name.clone(),
                },
            );
    }
    Ok(label)
}

/// `/cnb/order.toml`, `/cnb/run.toml`, `/cnb/stack.toml`, `/cnb/build-config/env/*`, and the `/workspace`,
/// `/layers` and `/platform` dirs the lifecycle expects.
fn add_config_layer(
    image: &mut Image,
    staging: &Layout,
    inputs: &Inputs,
    user: (u32, u32),
) -> Result<(), Error> {
    let run_toml = RunToml {
        images: inputs.run_images.clone(),
    };
    let stack_toml = format!(
        "[run-image]\n  image = {:?}\n",
        inputs.run_image.to_string()
    );
    let mut files = vec![
        (
            "cnb/order.toml".to_owned(),
            toml_text(&inputs.config, &inputs.order)?,
        ),
        (
            "cnb/run.toml".to_owned(),
            toml_text(&inputs.config, &run_toml)?,
        ),
        ("cnb/stack.toml".to_owned(), stack_toml),
    ];
    let mut env_files: Vec<(String, String)> = Vec::new();
    for env in inputs.toml.build_env() {
        let suffix = env
            .suffix
            .map(|s| format!(".{}", suffix_name(s)))
            .unwrap_or_default();
        env_files.push((
            format!("cnb/build-config/env/{}{suffix}", env.name),
            env.value.clone(),
        ));
        if let Some(delim) = &env.delim {
            env_files.push((
                format!("cnb/build-config/env/{}.delim", env.name),
                delim.clone(),
            ));
        }
    }
    env_files.sort();
    files.extend(env_files);

    let mut layer = LayerWriter::new(staging)?;
    let write = |source| {
        BuilderError::Io(FileError {
            action: "write",
            path: staging.root().to_owned(),
            source,
        })
    };
    for dir in [
        "cnb",
        "cnb/build-config",
        "cnb/build-config/env",
        "platform",
        "platform/env",
    ] {
        layer.dir(dir, 0o755).map_err(write)?;
    }
    for (path, text) in &files {
        layer.file(path, 0o644, text.as_bytes()).map_err(write)?;
    }
    layer.set_owner(u64::from(user.0), u64::from(user.1));
    layer.dir("workspace", 0o755).map_err(write)?;
    layer.dir("layers", 0o755).map_err(write)?;
    image.add_layer(&layer.finish()?, "rpack: order, run images, build config")?;
    Ok(())
}

/// The labels pack writes on builders.
fn set_labels(
    image: &mut Image,
    inputs: &Inputs,
    layers_label: &BuilderBuildpackLayers,
) -> Result<(), Error> {
    let metadata = builder_metadata(inputs)?;
    let label_error = |source| BuilderError::Label {
        image: image.layout().root().display().to_string(),
        source,
    };
    let labels = [
        (BUILDER_METADATA, metadata.to_label().map_err(label_error)?),
        (
            BUILDPACK_LAYERS,
            layers_label.to_label().map_err(label_error)?,
        ),
        (
            BUILDPACK_ORDER,
            BuildpackOrder(inputs.order.order.clone())
                .to_label()
                .map_err(label_error)?,
        ),
    ];
    for (name, text) in labels {
        image.set_label(name, &text);
    }
    image.set_label(
        "io.buildpacks.lifecycle.version",
        inputs.lifecycle.version(),
    );
    Ok(())
}

/// The builder's `io.buildpacks.builder.metadata`: its description, buildpacks, run images, lifecycle and
/// maker.
fn builder_metadata(inputs: &Inputs) -> Result<BuilderMetadata, Error> {
    let run_images = &inputs.run_images;
    let buildpacks = inputs
        .buildpacks
        .iter()
        .map(|bp| {
            let info = &bp.descriptor.buildpack;
            // `name` too: `pack builder inspect` shows it in its buildpacks table (`-` when missing).
            BuilderMetadataBuildpack {
                id: info.id.as_str().to_owned(),
                version: info.version.to_string(),
                homepage: info.homepage.clone(),
                name: info.name.clone(),
            }
        })
        .collect();
    Ok(BuilderMetadata {
        description: inputs.toml.description.clone().unwrap_or_default(),
        buildpacks,
        stack: Some(BuilderMetadataStack {
            run_image: RunImageEntry {
                image: inputs.run_image.to_string(),
                mirrors: run_images
                    .first()
                    .map(|r| r.mirrors.clone())
                    .unwrap_or_default(),
            },
        }),
        images: run_images
            .iter()
            .map(|r| RunImageEntry {
                image: r.image.clone(),
                mirrors: r.mirrors.clone(),
            })
            .collect(),
        lifecycle: Some(lifecycle_metadata(inputs)?),
        created_by: Some(CreatedBy {
            name: "rpack".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }),
        rest: serde_json::Map::new(),
    })
}

/// The lifecycle's version and the APIs its descriptor (`lifecycle.toml`) declares.
fn lifecycle_metadata(inputs: &Inputs) -> Result<BuilderMetadataLifecycle, Error> {
    let descriptor_path = inputs.lifecycle.descriptor_path();
    let descriptor =
        fs_err::read_to_string(&descriptor_path).map_err(io_err("read", &descriptor_path))?;
    let descriptor: toml::Table = descriptor.parse().unwrap_or_default();
    let api = |key: &str| {
        descriptor
            .get(key)
            .and_then(|v| serde_json::to_value(v).ok())
    };
    Ok(BuilderMetadataLifecycle {
        version: inputs.lifecycle.version().to_owned(),
        api: api("api"),
        apis: api("apis"),
    })
}

impl Builder {
    /// Reads what a build needs from the builder image `name` in the store.
    ///
    /// # Errors
    /// When the image is missing or is not a builder.
    pub(crate) fn load(store: &Store, name: &ImageRef) -> Result<Self, Error> {
        let image = Image::load(store.image_layout(name))?;
        let metadata = image
            .label(BUILDER_METADATA)
            .ok_or_else(|| BuilderError::NotABuilder {
                image: name.to_string(),
            })?;
        let metadata =
            BuilderMetadata::from_label(&metadata).map_err(|source| BuilderError::Label {
                image: name.to_string(),
                source,
            })?;
        let run = metadata.run_image();
        let run_image = run
            .parse()
            .map_err(
                |e: crate::oci::reference::InvalidImageRef| BuilderError::BadImageRef {
                    path: store.image_layout(name).root().to_owned(),
                    field: "images[0].image (or stack.runImage.image)",
                    value: run.to_owned(),
                    why: e.to_string(),
                },
            )?;
        let buildpacks = metadata
            .buildpacks
            .iter()
            .map(|bp| (bp.id.clone(), bp.version.clone()))
            .collect();
        Ok(Self {
            image: name.clone(),
            run_image,
            buildpacks,
            user: (
                env_id(&image, "CNB_USER_ID"),
                env_id(&image, "CNB_GROUP_ID"),
            ),
        })
    }
}

fn suffix_name(action: libbuildpack::data::EnvAction) -> &'static str {
    use libbuildpack::data::EnvAction;
    match action {
        EnvAction::Override => "override",
        EnvAction::Default => "default",
        EnvAction::Append => "append",
        EnvAction::Prepend => "prepend",
    }
}

fn env_id(image: &Image, key: &str) -> u32 {
    image
        .env_var(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn toml_text<T: serde::Serialize>(config: &Path, value: &T) -> Result<String, BuilderError> {
    toml::to_string(value).map_err(|source| {
        TomlFileError::Serialize {
            path: config.to_owned(),
            source,
        }
        .into()
    })
}

fn parse_ref(config: &Path, field: &'static str, value: &str) -> Result<ImageRef, BuilderError> {
    value.parse().map_err(
        |e: crate::oci::reference::InvalidImageRef| BuilderError::BadImageRef {
            path: config.to_owned(),
            field,
            value: value.to_owned(),
            why: e.to_string(),
        },
    )
}

fn find_lifecycle(
    store: &Store,
    toml: &BuilderToml,
    base: &Path,
    arch: &str,
) -> Result<Lifecycle, Error> {
    let section = toml.lifecycle.clone().unwrap_or_default();
    if let Some(uri) = section
        .uri
        .as_deref()
        .filter(|u| !u.contains("://") || u.starts_with("file://"))
    {
        let dir = base.join(uri.strip_prefix("file://").unwrap_or(uri));
        return Ok(Lifecycle::at(&dir)?);
    }
    Ok(Lifecycle::locate_for(
        store,
        section
            .version
            .as_deref()
            .unwrap_or(lifecycle::DEFAULT_VERSION),
        arch,
    )?)
}

/// Makes sure `image` is in the store, making it when it belongs to one of rpack's stack recipes (also when it
/// was made by an older rpack, see [`stack::is_current`]) and pulling it when its name has a registry.
///
/// # Errors
/// When it is missing and rpack cannot make or pull it, or making it fails.
pub(crate) fn ensure_stack_image(
    store: &Store,
    role: &'static str,
    image: &ImageRef,
    ui: &Ui,
) -> Result<(), Error> {
    ensure_stack_image_for(store, role, image, &crate::oci::Platform::host(), ui)
}

/// [`ensure_stack_image`] for `platform`: an image that lacks it is made for it (rpack's stacks) or pulled.
///
/// # Errors
/// As [`ensure_stack_image`].
pub(crate) fn ensure_stack_image_for(
    store: &Store,
    role: &'static str,
    image: &ImageRef,
    platform: &crate::oci::Platform,
    ui: &Ui,
) -> Result<(), Error> {
    let layout = store.image_layout(image);
    let host = *platform == crate::oci::Platform::host();
    if layout.exists()
        && (host
            || Image::load(layout.for_platform(platform.clone()))
                .is_ok_and(|i| i.arch() == platform.arch))
    {
        if stack::is_current(store, image, platform) {
            return Ok(());
        }
        ui.step(&format!(
            "{image} was made by an older rpack (it lacks the run image's package list): making it again"
        ));
    }
    match StackRecipe::for_image(image) {
        Some(recipe) => {
            stack::create_for(
                store,
                recipe,
                Path::new(stack::DEFAULT_CA_BUNDLE),
                &platform.arch,
                ui,
            )?;
            Ok(())
        }
        // A name with a registry (a builder made by pack, or published by rpack): fetched as pack would.
        None if image.registry() != "localhost" => {
            crate::store::registry::pull(
                store,
                image,
                None,
                crate::store::registry::Access::default(),
                ui,
            )?;
            Ok(())
        }
        None => Err(BuilderError::MissingImage {
            role,
            image: image.to_string(),
            path: store.image_layout(image).root().to_owned(),
        }
        .into()),
    }
}

/// The order with every entry's version filled in from the buildpacks given, as the lifecycle needs it.
fn resolve_order(
    config: &Path,
    groups: &[OrderGroup],
    buildpacks: &[BuildpackDir],
) -> Result<OrderToml, BuilderError> {
    let mut order = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        let mut entries = Vec::new();
        for entry in &group.group {
            let found = buildpacks
                .iter()
                .map(|bp| &bp.descriptor.buildpack)
                .find(|info| {
                    info.id == entry.id && entry.version.as_ref().is_none_or(|v| v == &info.version)
                });
            let Some(info) = found else {
                return Err(BuilderError::UnknownBuildpack {
                    path: config.to_owned(),
                    group: index,
                    id: entry.id.as_str().to_owned(),
                    version: entry
                        .version
                        .as_ref()
                        .map(|v| format!(" {v}"))
                        .unwrap_or_default(),
                });
            };
            entries.push(GroupEntry {
                version: Some(info.version.clone()),
                ..entry.clone()
            });
        }
        order.push(OrderGroup::new(entries));
    }
    Ok(OrderToml {
        order,
        ..OrderToml::default()
    })
}
