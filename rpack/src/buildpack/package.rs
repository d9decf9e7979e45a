//! Packaging buildpacks.
//!
//! [`prepare`] turns a buildpack source into a buildpack dir the lifecycle can run: a dir that already has
//! `bin/build` is used as it is; a Rust crate with a `buildpack.toml` is compiled as a static musl binary and
//! laid out as `buildpack.toml`, `bin/build` and `bin/detect` (a link to the same binary: libbuildpack
//! dispatches on argv0), plus the extra binaries and files the crate declares in `[package.metadata.rpack]`:
//!
//! ```toml
//! [package.metadata.rpack]
//! extra-binaries = ["helper"]     # bin targets copied to bin/<name>
//! include = ["resources"]         # files or dirs copied at the same relative path
//! ```
//!
//! [`package`] writes a buildpack, or a composite buildpack with the dependencies of its `package.toml`, as a
//! reproducible `.cnb` file (see [`cnb`]) or as an assembled dir.

mod cargo;
pub mod cnb;
pub(crate) mod cross;
mod multi;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use libbuildpack::data::{BuildpackDescriptor, PackageToml, TomlFileError};
use libbuildpack::toolbox::file::FileError;

pub(crate) use self::cargo::{MUSL_C_COMPILERS, find_musl_c_compiler, target_installed};
use crate::buildpack::Error;
use crate::oci::extract::{AbsolutePaths, ArchiveError, TreeError, entry_path};
use crate::toolbox::output::OutputKind;
use crate::toolbox::ui::Ui;

/// The target buildpack binaries are built for: static, so they run on any Linux base image.
pub(crate) const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// A buildpack dir ready to be put into an image.
#[derive(Clone, Debug)]
pub struct BuildpackDir {
    /// The dir with `buildpack.toml` and `bin/`.
    pub dir: PathBuf,
    /// Its parsed `buildpack.toml`.
    pub descriptor: BuildpackDescriptor,
}

/// What failed while preparing or packaging a buildpack.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// `buildpack.toml` or `package.toml` is missing or invalid.
    #[error(transparent)]
    Descriptor(#[from] TomlFileError),
    /// The source is neither a buildpack dir nor a crate.
    #[error("{path} has a buildpack.toml but neither bin/build nor a Cargo.toml to build one from")]
    NothingToRun {
        /// The source dir.
        path: PathBuf,
    },
    /// cargo could not be started.
    #[error("could not run cargo")]
    Spawn(#[source] io::Error),
    /// `cargo metadata` gave nothing usable.
    #[error("could not find the binary of the crate at {manifest}: {why}")]
    Metadata {
        /// The crate's Cargo.toml.
        manifest: PathBuf,
        /// What was wrong.
        why: String,
    },
    /// The Rust standard library for the target is not installed.
    #[error("the Rust target {target} is not installed")]
    MissingTarget {
        /// The target triple.
        target: String,
    },
    /// The target triple has no OCI platform rpack knows.
    #[error("cannot tell the OCI os/architecture of the target {target}")]
    UnknownTarget {
        /// The target triple.
        target: String,
    },
    /// A `[[targets]]` platform has no musl Rust target rpack knows.
    #[error("no Rust musl target is known for the [[targets]] platform {platform}")]
    UnknownPlatform {
        /// `os/arch[/variant]`.
        platform: String,
    },
    /// `cargo metadata` could not read the workspace.
    #[error("could not read the cargo workspace at {dir}: {why}")]
    Workspace {
        /// Where the workspace was looked for.
        dir: PathBuf,
        /// What cargo said.
        why: String,
    },
    /// `--workspace` found no member crate with a `buildpack.toml`.
    #[error("no member of the cargo workspace at {dir} has a buildpack.toml")]
    NoWorkspaceBuildpacks {
        /// Where the workspace was looked for.
        dir: PathBuf,
    },
    /// The build failed.
    #[error("cargo build of {manifest} failed{output}")]
    Build {
        /// The crate's Cargo.toml.
        manifest: PathBuf,
        /// The tail of cargo's output.
        output: String,
        /// Whether the musl target is missing.
        missing_target: bool,
        /// The C compiler a build script could not find (`x86_64-linux-musl-gcc`), if that is why.
        missing_c_compiler: Option<String>,
    },
    /// A `cargo:<name>` uri names no crate of the workspace.
    #[error("cannot find the crate {name:?} in the cargo workspace at {dir}: {why}")]
    UnknownCrate {
        /// The crate name.
        name: String,
        /// Where the workspace was looked for.
        dir: PathBuf,
        /// Why.
        why: String,
    },
    /// An archive is unsafe or broken.
    #[error("could not read {path}")]
    Archive {
        /// The archive.
        path: PathBuf,
        /// Why.
        #[source]
        source: ArchiveError,
    },
    /// A buildpack dir or file in an extracted `.cnb` leads out of it through a symlink.
    #[error("could not read a buildpack from {path}")]
    Tree {
        /// The `.cnb` file.
        path: PathBuf,
        /// Why.
        #[source]
        source: TreeError,
    },
    /// A file is not a buildpackage.
    #[error("{path} is not a buildpackage: {why}")]
    NotABuildpackage {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A buildpackage's label is malformed.
    #[error("{path} is not a readable buildpackage")]
    Label {
        /// The file.
        path: PathBuf,
        /// Which label, and what is wrong with it.
        #[source]
        source: libbuildpack::data::labels::LabelError,
    },
    /// A uri rpack cannot package from.
    #[error("{config}: `{field}` = {uri:?} is not supported: {why}")]
    UnsupportedUri {
        /// The file naming it.
        config: PathBuf,
        /// The field, like `dependencies[1].uri`.
        field: String,
        /// The uri.
        uri: String,
        /// Why.
        why: String,
    },
    /// A composite buildpack's order names a buildpack that is not packaged with it.
    #[error(
        "{config}: `order[{group}].group[{entry}]` wants {id} {version}, which none of the packaged buildpacks provides"
    )]
    MissingDependency {
        /// The composite's buildpack.toml.
        config: PathBuf,
        /// The order group.
        group: usize,
        /// The entry in the group.
        entry: usize,
        /// The wanted id.
        id: String,
        /// The wanted version.
        version: String,
    },
    /// The buildpack's targets do not include the one packaged for.
    #[error("{config}: none of the [[targets]] is {os}/{arch}, the platform of --target {target}")]
    TargetMismatch {
        /// The buildpack.toml.
        config: PathBuf,
        /// The OCI os.
        os: String,
        /// The OCI architecture.
        arch: String,
        /// The Rust target.
        target: String,
    },
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl PackageError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Build {
                missing_target: true,
                ..
            } => Some(format!(
                "add the target buildpacks are built for: rustup target add {MUSL_TARGET}"
            )),
            Self::Build {
                missing_c_compiler: Some(compiler),
                ..
            } => Some(if compiler.contains("musl") && !compiler.starts_with(std::env::consts::ARCH) && compiler != "musl-gcc" {
                format!(
                    "a dependency compiles C for another architecture and `{compiler}` is missing: {} \
                     (`rpack doctor` checks every tool builds need)",
                    cross::c_compiler_fix(&format!("{}-unknown-linux-musl", compiler.split('-').next().unwrap_or_default()))
                )
            } else if compiler.contains("musl") {
                format!(
                    "a dependency compiles C for the musl target and `{compiler}` is missing: apt-get install \
                     musl-tools (it provides musl-gcc; `rpack doctor` checks every tool builds need)"
                )
            } else {
                format!(
                    "a dependency compiles C and the C compiler `{compiler}` is missing: install it (`rpack doctor` \
                     checks every tool builds need)"
                )
            }),
            Self::MissingTarget { target } => {
                Some(format!("add it with: rustup target add {target}"))
            }
            Self::UnknownTarget { .. } => Some(format!(
                "give a Linux target like {MUSL_TARGET} or aarch64-unknown-linux-musl"
            )),
            Self::UnknownPlatform { .. } => Some(
                "package for one platform with --target TRIPLE, or list linux amd64/arm64 targets".to_owned(),
            ),
            Self::NoWorkspaceBuildpacks { .. } => Some(
                "run it in (or give --path to) a workspace whose buildpack crates have a buildpack.toml next to their Cargo.toml"
                    .to_owned(),
            ),
            Self::NothingToRun { .. } => Some(
                "point at a buildpack dir with bin/build, or at the Rust crate that builds it"
                    .to_owned(),
            ),
            Self::MissingDependency { .. } => Some(
                "add the buildpack to [[dependencies]] in package.toml (a dir, a .cnb file or cargo:<crate>), at exactly that version"
                    .to_owned(),
            ),
            Self::UnsupportedUri { .. } => Some(
                "give a buildpack dir, a Rust crate dir, a .cnb file, or cargo:<crate name or dir>; for an image in rpack's store, `rpack image export` it first"
                    .to_owned(),
            ),
            Self::TargetMismatch { .. } => {
                Some("package for one of the buildpack's targets with --target, or add the target to buildpack.toml".to_owned())
            }
            Self::Archive {
                source: ArchiveError::TooLarge { .. },
                ..
            } => None,
            Self::Archive { .. } | Self::Tree { .. } => Some(
                "rpack only reads archives whose entries stay inside them; get the file from a trusted source or repackage it"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

crate::toolbox::file_error::io_err!(pub(crate) PackageError);

/// Prepares the buildpack at `src` for [`MUSL_TARGET`]; crates are built and assembled under `work`.
///
/// # Errors
/// When `buildpack.toml` is invalid, the crate does not build, or files cannot be written.
pub(crate) fn prepare(src: &Path, work: &Path, ui: &Ui) -> Result<BuildpackDir, PackageError> {
    prepare_for(src, work, MUSL_TARGET, ui)
}

/// Prepares the buildpack at `src` for the Rust target `target`; crates are built and assembled under
/// `work`.
///
/// # Errors
/// When `buildpack.toml` is invalid, the target is missing, the crate does not build, or files cannot be
/// written.
pub(crate) fn prepare_for(
    src: &Path,
    work: &Path,
    target: &str,
    ui: &Ui,
) -> Result<BuildpackDir, PackageError> {
    let descriptor = BuildpackDescriptor::read(src.join("buildpack.toml"))?;
    if src.join("bin/build").is_file() || descriptor.is_composite() {
        return Ok(BuildpackDir {
            dir: src.to_owned(),
            descriptor,
        });
    }
    let manifest = src.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(PackageError::NothingToRun {
            path: src.to_owned(),
        });
    }
    let started = Instant::now();
    let info = cargo::crate_info(&manifest)?;
    let built = cargo::build(&info, target, ui)?;
    let dir = work.join(descriptor.buildpack.id.escaped());
    if dir.exists() {
        fs_err::remove_dir_all(&dir).map_err(io_err("clean", &dir))?;
    }
    let bin = dir.join("bin");
    fs_err::create_dir_all(&bin).map_err(io_err("create", &bin))?;
    fs_err::copy(src.join("buildpack.toml"), dir.join("buildpack.toml"))
        .map_err(io_err("copy", src))?;
    let binary = built.join(&info.binary);
    fs_err::copy(&binary, bin.join("build")).map_err(io_err("copy", &binary))?;
    std::os::unix::fs::symlink("build", bin.join("detect")).map_err(io_err("link", &bin))?;
    for extra in &info.extra_binaries {
        let from = built.join(extra);
        fs_err::copy(&from, bin.join(extra)).map_err(io_err("copy", &from))?;
    }
    for include in &info.include {
        let rel = entry_path(Path::new(include), AbsolutePaths::Refuse).map_err(|source| {
            PackageError::Archive {
                path: manifest.clone(),
                source,
            }
        })?;
        let from = src.join(&rel);
        copy_tree(&from, &dir.join(&rel)).map_err(io_err("copy", &from))?;
    }
    ui.done(
        &format!(
            "Built {} {} ({target})",
            descriptor.buildpack.id.as_str(),
            descriptor.buildpack.version
        ),
        started.elapsed(),
    );
    Ok(BuildpackDir { dir, descriptor })
}

/// The buildpacks a uri stands for: a buildpack dir or crate dir, a `.cnb` file (every buildpack in it, the
/// main one first), or `cargo:<crate dir or workspace package name>`. Relative paths are from `base`.
/// `field` names the uri in errors (`dependencies[0].uri`).
///
/// # Errors
/// When the uri is remote or unsupported, or preparing what it names fails.
pub(crate) fn resolve_uri(
    config: &Path,
    field: &str,
    uri: &str,
    base: &Path,
    work: &Path,
    target: &str,
    ui: &Ui,
) -> Result<Vec<BuildpackDir>, Error> {
    let unsupported = |why: &str| PackageError::UnsupportedUri {
        config: config.to_owned(),
        field: field.to_owned(),
        uri: uri.to_owned(),
        why: why.to_owned(),
    };
    fs_err::create_dir_all(work).map_err(io_err("create", work))?;
    if let Some(name) = uri.strip_prefix("cargo:") {
        let as_dir = base.join(name);
        let dir = if as_dir.join("Cargo.toml").is_file() {
            as_dir
        } else {
            cargo::workspace_crate(base, name)?
        };
        return Ok(vec![prepare_for(&dir, work, target, ui)?]);
    }
    if uri.contains("://") && !uri.starts_with("file://") {
        return Err(unsupported("rpack packages from local files only").into());
    }
    let path = base.join(uri.strip_prefix("file://").unwrap_or(uri));
    if path.is_dir() {
        return Ok(vec![prepare_for(&path, work, target, ui)?]);
    }
    if path.is_file() {
        let (os, arch, _) = cnb::platform_of(target)?;
        return cnb::unpack_for(&path, work, Some(&crate::oci::Platform::new(&os, &arch)));
    }
    if uri.is_empty() {
        return Err(unsupported("it is empty").into());
    }
    Err(unsupported(&format!("{} does not exist", path.display())).into())
}

/// What `rpack buildpack package` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// A `.cnb` file.
    #[default]
    File,
    /// The assembled buildpack dir (for a composite, a `<escaped id>/<version>/` tree of every buildpack).
    Dir,
}

/// Options of [`package`].
#[derive(Clone, Debug)]
pub struct PackageOptions {
    /// The buildpack dir or crate, or a dir with `package.toml`.
    pub path: PathBuf,
    /// Where to write; defaults to `<escaped id>_<version>.cnb` (or without `.cnb` for a dir).
    pub output: Option<PathBuf>,
    /// File or dir.
    pub format: Format,
    /// The Rust target of the binaries (and so the image's os/architecture). `None`: every `[[targets]]`
    /// entry of `package.toml` (else of `buildpack.toml`), each built for the musl triple of its platform:
    /// when there are several, one multi-platform `.cnb` (an image index with one image per platform, as pack
    /// writes them) or one dir per platform named with an `-<os>-<arch>` suffix; [`MUSL_TARGET`] when there
    /// are none.
    pub target: Option<String>,
}

/// What [`package`] wrote.
#[derive(Clone, Debug)]
pub struct Packaged {
    /// The file or dir written.
    pub output: PathBuf,
    /// The main buildpack.
    pub descriptor: BuildpackDescriptor,
    /// Every buildpack packaged (the main one included), in the order they were prepared.
    pub buildpacks: Vec<BuildpackDir>,
}

/// What is packaged: read from `package.toml` (or `buildpack.toml`) before anything is built.
struct Plan {
    /// The file naming the dependencies (`package.toml`, else `buildpack.toml`).
    config: PathBuf,
    /// The main buildpack's source.
    main_src: PathBuf,
    /// `[[dependencies]]` of `package.toml`.
    deps: Vec<libbuildpack::data::PackageDependency>,
    /// The main buildpack's descriptor.
    main_descriptor: BuildpackDescriptor,
    /// `[[targets]]` of `package.toml`, else of the main `buildpack.toml`.
    targets: Vec<libbuildpack::data::Target>,
}

impl Plan {
    fn read(path: &Path) -> Result<Self, PackageError> {
        let package_toml = path.join("package.toml");
        let (config, main_src, deps, targets) = if package_toml.is_file() {
            let config = PackageToml::read(&package_toml)?;
            let main = path.join(config.buildpack_uri());
            (package_toml, main, config.dependencies, config.targets)
        } else {
            (
                path.join("buildpack.toml"),
                path.to_owned(),
                Vec::new(),
                Vec::new(),
            )
        };
        // Read the main descriptor first: a malformed one fails before anything is built.
        let main_descriptor = BuildpackDescriptor::read(main_src.join("buildpack.toml"))?;
        let targets = if targets.is_empty() {
            main_descriptor.targets.clone()
        } else {
            targets
        };
        Ok(Self {
            config,
            main_src,
            deps,
            main_descriptor,
            targets,
        })
    }

    /// The Rust targets to package for, each with the output suffix it gets (none when there is one).
    fn platforms(
        &self,
        given: Option<&str>,
    ) -> Result<Vec<(String, Option<String>)>, PackageError> {
        if let Some(target) = given {
            return Ok(vec![(target.to_owned(), None)]);
        }
        let mut triples: Vec<(String, String)> = Vec::new();
        for t in &self.targets {
            let os = t.os.as_deref().filter(|o| !o.is_empty()).unwrap_or("linux");
            let Some(arch) = t.arch.as_deref().filter(|a| !a.is_empty()) else {
                continue;
            };
            let variant = t.variant.as_deref().filter(|v| !v.is_empty());
            let triple = cnb::triple_of(os, arch, variant)?;
            let suffix = [Some(os), Some(arch), variant]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("-");
            if !triples.iter().any(|(t, _)| *t == triple) {
                triples.push((triple, suffix));
            }
        }
        Ok(match triples.len() {
            0 => vec![(MUSL_TARGET.to_owned(), None)],
            1 => triples.into_iter().map(|(t, _)| (t, None)).collect(),
            _ => triples.into_iter().map(|(t, s)| (t, Some(s))).collect(),
        })
    }
}

/// Packages a buildpack (with the dependencies of its `package.toml` when there is one), once per platform
/// (see [`PackageOptions::target`]). Dependencies are prepared first, in the order `package.toml` lists
/// them, then the buildpack itself. Each output appears only when complete (written to a temp path and
/// renamed).
///
/// # Errors
/// When a descriptor or `package.toml` is invalid, a target's Rust standard library is missing, a
/// dependency is missing or cannot be prepared, or an output cannot be written.
pub fn package(options: &PackageOptions, ui: &Ui) -> Result<Vec<Packaged>, Error> {
    let plan = Plan::read(&options.path)?;
    let platforms = plan.platforms(options.target.as_deref())?;
    // A crate is built per target: refuse a missing target before building any of them.
    let is_crate = !plan.main_src.join("bin/build").is_file()
        && !plan.main_descriptor.is_composite()
        && plan.main_src.join("Cargo.toml").is_file();
    if is_crate
        && platforms.len() > 1
        && let Some((target, _)) = platforms.iter().find(|(t, _)| !target_installed(t))
    {
        return Err(PackageError::MissingTarget {
            target: target.clone(),
        }
        .into());
    }
    if options.format == Format::File && platforms.len() > 1 {
        let targets: Vec<&str> = platforms.iter().map(|(t, _)| t.as_str()).collect();
        return Ok(vec![multi::package_index(
            options,
            &plan,
            (targets[0], &targets[1..]),
            ui,
        )?]);
    }
    platforms
        .iter()
        .map(|(target, suffix)| package_for(options, &plan, target, suffix.as_deref(), ui))
        .collect()
}

/// Packages `plan` for the Rust target `target`; `suffix` goes into the output's name.
fn package_for(
    options: &PackageOptions,
    plan: &Plan,
    target: &str,
    suffix: Option<&str>,
    ui: &Ui,
) -> Result<Packaged, Error> {
    let started = Instant::now();
    // Refused before anything is built: a device, fifo or symlink would be replaced by the rename.
    let output = output_path(options, &plan.main_descriptor, suffix);
    crate::toolbox::output::check(&output, output_kind(options.format))?;
    let prepared = prepare_platform(options, plan, target, ui)?;
    let Prepared {
        main,
        buildpacks,
        os,
        arch,
        work,
    } = prepared;
    let output = write_output(
        options,
        &main,
        &buildpacks,
        work.path(),
        (&os, &arch),
        output,
    )?;
    ui.done(
        &format!(
            "Wrote {} ({} buildpack{}, {os}/{arch})",
            output.display(),
            buildpacks.len(),
            if buildpacks.len() == 1 { "" } else { "s" }
        ),
        started.elapsed(),
    );
    Ok(Packaged {
        output,
        descriptor: main.descriptor,
        buildpacks,
    })
}

/// The buildpacks of `plan`, prepared for one platform: built and checked, not yet written.
pub(crate) struct Prepared {
    /// The main buildpack.
    pub(crate) main: BuildpackDir,
    /// Every buildpack (the main one last).
    pub(crate) buildpacks: Vec<BuildpackDir>,
    /// The OCI os.
    pub(crate) os: String,
    /// The OCI architecture.
    pub(crate) arch: String,
    /// Where they were assembled (removed when dropped).
    pub(crate) work: crate::toolbox::scratch::ScratchDir,
}

/// Prepares the dependencies and the main buildpack of `plan` for the Rust target `target` and checks them.
fn prepare_platform(
    options: &PackageOptions,
    plan: &Plan,
    target: &str,
    ui: &Ui,
) -> Result<Prepared, Error> {
    let (os, arch, _variant) = cnb::platform_of(target)?;
    let work =
        crate::toolbox::scratch::dir().map_err(io_err("create a temp dir for", &options.path))?;
    let Plan {
        config,
        main_src,
        deps,
        main_descriptor,
        ..
    } = plan;
    ui.section(&format!(
        "Packaging {} {} ({os}/{arch})",
        main_descriptor.buildpack.id.as_str(),
        main_descriptor.buildpack.version
    ));
    let mut buildpacks = Vec::new();
    for (index, dep) in deps.iter().enumerate() {
        let field = format!("dependencies[{index}]");
        let Some(uri) = dep.uri.as_deref() else {
            return Err(PackageError::UnsupportedUri {
                config: config.clone(),
                field: format!("{field}.image"),
                uri: dep.image.clone().unwrap_or_default(),
                why: "image dependencies need a registry".to_owned(),
            }
            .into());
        };
        let base = options.path.as_path();
        let dir = work.path().join(format!("dep-{index}"));
        buildpacks.extend(resolve_uri(
            config,
            &format!("{field}.uri"),
            uri,
            base,
            &dir,
            target,
            ui,
        )?);
    }
    let main = prepare_for(main_src, &work.path().join("main"), target, ui)?;
    check_targets(&main, &os, &arch, target)?;
    buildpacks.push(main.clone());
    check_dependencies(&buildpacks)?;
    for bp in &buildpacks {
        if let Some(warning) = unsupported_api_warning(bp) {
            ui.warn(&warning);
        }
    }
    Ok(Prepared {
        main,
        buildpacks,
        os,
        arch,
        work,
    })
}

/// Packages every member crate of the cargo workspace at `dir` that has a `buildpack.toml` (see
/// [`package`]), buildpacks a composite's order names before the composite; outputs go to `output_dir` under
/// their default names. Returns what was written, in that order.
///
/// # Errors
/// When cargo cannot read the workspace, no member is a buildpack, or packaging one fails (the ones before
/// it stay written).
pub fn package_workspace(
    dir: &Path,
    output_dir: &Path,
    format: Format,
    target: Option<&str>,
    ui: &Ui,
) -> Result<Vec<Packaged>, Error> {
    let mut members = Vec::new();
    for member in cargo::workspace_members(dir)? {
        if member.join("buildpack.toml").is_file() {
            let plan = Plan::read(&member)?;
            members.push((member, plan.main_descriptor));
        }
    }
    if members.is_empty() {
        return Err(PackageError::NoWorkspaceBuildpacks {
            dir: dir.to_owned(),
        }
        .into());
    }
    let mut packaged = Vec::new();
    for member in dependency_order(members) {
        let options = PackageOptions {
            path: member,
            output: None,
            format,
            target: target.map(str::to_owned),
        };
        let written = package(
            &PackageOptions {
                output: Some(output_dir.join(default_name(&options)?)),
                ..options
            },
            ui,
        )?;
        packaged.extend(written);
    }
    Ok(packaged)
}

/// The output name [`package`] gives by default (`<escaped id>_<version>[.cnb]`).
fn default_name(options: &PackageOptions) -> Result<String, PackageError> {
    let info = Plan::read(&options.path)?.main_descriptor.buildpack;
    let name = format!("{}_{}", info.id.escaped(), info.version);
    Ok(match options.format {
        Format::File => format!("{name}.cnb"),
        Format::Dir => name,
    })
}

/// Sorts buildpacks so that each comes after every other one its `[[order]]` names (a cycle keeps the
/// remaining ones in their given order).
fn dependency_order(mut pending: Vec<(PathBuf, BuildpackDescriptor)>) -> Vec<PathBuf> {
    let mut sorted = Vec::new();
    while !pending.is_empty() {
        let waits = |d: &BuildpackDescriptor, pending: &[(PathBuf, BuildpackDescriptor)]| {
            d.order.iter().flat_map(|g| &g.group).any(|entry| {
                pending.iter().any(|(_, other)| {
                    other.buildpack.id == entry.id && other.buildpack.id != d.buildpack.id
                })
            })
        };
        let next = pending
            .iter()
            .position(|(_, d)| !waits(d, &pending))
            .unwrap_or(0);
        sorted.push(pending.remove(next).0);
    }
    sorted
}

/// `name.cnb` → `name-<suffix>.cnb`; other names get `-<suffix>` at the end.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let named = match name.strip_suffix(".cnb") {
        Some(stem) => format!("{stem}-{suffix}.cnb"),
        None => format!("{name}-{suffix}"),
    };
    path.with_file_name(named)
}

/// Where the output for `main` goes: `options.output`, else `<escaped id>_<version>[.cnb]`, with `-<suffix>`
/// when given.
fn output_path(
    options: &PackageOptions,
    main: &BuildpackDescriptor,
    suffix: Option<&str>,
) -> PathBuf {
    let output = options.output.clone().unwrap_or_else(|| {
        let name = format!("{}_{}", main.buildpack.id.escaped(), main.buildpack.version);
        PathBuf::from(match options.format {
            Format::File => format!("{name}.cnb"),
            Format::Dir => name,
        })
    });
    match suffix {
        Some(suffix) => with_suffix(&output, suffix),
        None => output,
    }
}

fn output_kind(format: Format) -> OutputKind {
    match format {
        Format::File => OutputKind::File,
        Format::Dir => OutputKind::Dir,
    }
}

/// Writes the `.cnb` or dir for `main` and `buildpacks` to `output`, through a temp path and a rename.
fn write_output(
    options: &PackageOptions,
    main: &BuildpackDir,
    buildpacks: &[BuildpackDir],
    work: &Path,
    (os, arch): (&str, &str),
    output: PathBuf,
) -> Result<PathBuf, Error> {
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .to_owned();
    fs_err::create_dir_all(&parent).map_err(io_err("create", &parent))?;
    match options.format {
        Format::File => {
            let layout = crate::oci::Layout::create(work.join("layout"))?;
            cnb::write_image(&layout, &main.descriptor, buildpacks, (os, arch))?;
            write_cnb(&layout, &output)?;
        }
        Format::Dir => {
            let temp = crate::toolbox::scratch::dir_in(&parent, ".tmp-")
                .map_err(io_err("write into", &parent))?;
            let staged = temp.path().join("out");
            if main.descriptor.is_composite() {
                for bp in buildpacks {
                    let info = &bp.descriptor.buildpack;
                    let dest = staged
                        .join(info.id.escaped())
                        .join(info.version.to_string());
                    copy_tree(&bp.dir, &dest).map_err(io_err("copy", &bp.dir))?;
                }
            } else {
                copy_tree(&main.dir, &staged).map_err(io_err("copy", &main.dir))?;
            }
            crate::toolbox::output::check(&output, OutputKind::Dir)?;
            crate::store::replace_dir(&staged, &output).map_err(io_err("write", &output))?;
        }
    }
    Ok(output)
}

/// Writes `layout` as the `.cnb` file `output`: a tar written to a temp file beside it, then renamed.
fn write_cnb(layout: &crate::oci::Layout, output: &Path) -> Result<(), Error> {
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .to_owned();
    fs_err::create_dir_all(&parent).map_err(io_err("create", &parent))?;
    let mut temp = crate::toolbox::scratch::file_in(&parent, ".tmp-")
        .map_err(io_err("write into", &parent))?;
    crate::oci::archive::write_archive(layout.root(), io::BufWriter::new(temp.as_file_mut()))
        .map_err(io_err("write", output))?;
    temp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .map_err(io_err("write", output))?;
    // Checked again: the path may have changed while the package was built.
    crate::toolbox::output::check(output, OutputKind::File)?;
    temp.persist(output)
        .map_err(|e| io_err("write", output)(e.error))?;
    Ok(())
}

/// K5: a buildpack that declares targets must have one matching the platform packaged for.
fn check_targets(
    bp: &BuildpackDir,
    os: &str,
    arch: &str,
    target: &str,
) -> Result<(), PackageError> {
    let targets = &bp.descriptor.targets;
    let matches = |t: &libbuildpack::data::Target| {
        t.os.as_deref().is_none_or(|o| o.is_empty() || o == os)
            && t.arch.as_deref().is_none_or(|a| a.is_empty() || a == arch)
    };
    if targets.is_empty() || targets.iter().any(matches) {
        return Ok(());
    }
    Err(PackageError::TargetMismatch {
        config: bp.dir.join("buildpack.toml"),
        os: os.to_owned(),
        arch: arch.to_owned(),
        target: target.to_owned(),
    })
}

/// The warning for a buildpack whose Buildpack API the default lifecycle does not run, if it is one.
fn unsupported_api_warning(bp: &BuildpackDir) -> Option<String> {
    use crate::toolbox::lifecycle_pin::{DEFAULT_BUILDPACK_APIS, DEFAULT_VERSION};
    let api = bp.descriptor.api.to_string();
    if DEFAULT_BUILDPACK_APIS.contains(&api.as_str()) {
        return None;
    }
    Some(format!(
        "buildpack {} {} declares api = \"{api}\" in its buildpack.toml, which lifecycle {DEFAULT_VERSION} does not support (it supports Buildpack APIs {}); builds with it will fail",
        bp.descriptor.buildpack.id.as_str(),
        bp.descriptor.buildpack.version,
        DEFAULT_BUILDPACK_APIS.join(", "),
    ))
}

/// K6: every `[[order.group]]` entry of every composite is packaged at its exact version.
fn check_dependencies(buildpacks: &[BuildpackDir]) -> Result<(), PackageError> {
    for bp in buildpacks {
        for (g, group) in bp.descriptor.order.iter().enumerate() {
            for (e, entry) in group.group.iter().enumerate() {
                let found = buildpacks.iter().any(|other| {
                    let info = &other.descriptor.buildpack;
                    info.id == entry.id && entry.version.as_ref().is_none_or(|v| v == &info.version)
                });
                if !found {
                    return Err(PackageError::MissingDependency {
                        config: bp.dir.join("buildpack.toml"),
                        group: g,
                        entry: e,
                        id: entry.id.as_str().to_owned(),
                        version: entry
                            .version
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Copies `src` (file or dir) to `dest`, keeping symlinks as links and file modes.
fn copy_tree(src: &Path, dest: &Path) -> io::Result<()> {
    Ok(libbuildpack::toolbox::copy::copy_tree(src, dest)?)
}
