//! Base images (a "stack"): a build image and a run image made from Debian with mmdebstrap, written as OCI
//! layouts into the store with the CNB labels, env and users, and cached by a key of the recipe, the resolved
//! package list and the CA bundle.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use libbuildpack::toolbox::file::FileError;
use sha2::{Digest as _, Sha256};

use crate::oci::reference::ImageRef;
use crate::oci::{Image, ImageError, LayerWriter, Layout, LayoutError, write_atomic};
use crate::store::Store;
use crate::toolbox::ui::Ui;

mod confine;
mod extend;
mod run_status;

pub(crate) use run_status::{RUN_IMAGE_DPKG_STATUS, is_current};

/// The host CA bundle that goes into every stack, so builds can reach package indexes through TLS-inspecting
/// proxies.
pub const DEFAULT_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A named recipe for a pair of base images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackRecipe {
    /// The recipe name (`python`).
    pub name: &'static str,
    /// The stack id label (kept for pack's builder metadata; targets are what the lifecycle matches on).
    pub stack_id: &'static str,
    /// Debian suite.
    pub suite: &'static str,
    /// Distro name and version as `/etc/os-release` has them (`ID`, `VERSION_ID`).
    pub distro: (&'static str, &'static str),
    /// mmdebstrap variant.
    pub variant: &'static str,
    /// Packages of the run image (the build image has them too).
    pub run_packages: &'static [&'static str],
    /// Packages only the build image has (compilers, headers, venv support).
    pub build_packages: &'static [&'static str],
    /// Build user and group (`CNB_USER_ID`/`CNB_GROUP_ID`).
    pub build_user: (u32, u32),
    /// Run user and group; differs from the build user so an app cannot rewrite its own code.
    pub run_user: (u32, u32),
    /// What an app built on the run image depends on beyond its ABI: `rpack rebase` refuses a run image on
    /// which one of these labels has another value than the app (which carries its run image's labels) has.
    pub rebase_keeps: &'static [RebaseKeep],
}

/// A run-image label whose value an app depends on, so a rebase must keep it (see
/// [`StackRecipe::rebase_keeps`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RebaseKeep {
    /// The label.
    pub label: &'static str,
    /// What its value is, for messages (`Python`).
    pub what: &'static str,
    /// Why an app breaks when it changes.
    pub why: &'static str,
}

/// Every label a rebase must keep, over all recipes, each once.
#[must_use]
pub(crate) fn rebase_keeps() -> Vec<&'static RebaseKeep> {
    let mut keeps: Vec<&'static RebaseKeep> = Vec::new();
    for keep in RECIPES.iter().flat_map(|r| r.rebase_keeps) {
        if !keeps.iter().any(|k| k.label == keep.label) {
            keeps.push(keep);
        }
    }
    keeps
}

/// The recipes rpack knows: `tiny` for SDK and harness tests (no Python: small and quick to make), `python` for
/// the shipped Python buildpacks.
pub(crate) const RECIPES: &[StackRecipe] = &[
    StackRecipe {
        name: "tiny",
        stack_id: "io.rpack.stacks.bookworm.tiny",
        suite: "bookworm",
        distro: ("debian", "12"),
        variant: "minbase",
        run_packages: &["ca-certificates"],
        build_packages: &[],
        build_user: (1000, 1000),
        run_user: (1001, 1001),
        rebase_keeps: &[],
    },
    StackRecipe {
        name: "python",
        stack_id: "io.rpack.stacks.bookworm.python",
        suite: "bookworm",
        distro: ("debian", "12"),
        variant: "minbase",
        run_packages: &[
            "python3",
            "ca-certificates",
            "libgomp1",
            "libstdc++6",
            "tzdata",
        ],
        build_packages: &[
            "python3-venv",
            "python3-pip",
            "python3-dev",
            "build-essential",
            "git",
        ],
        build_user: (1000, 1000),
        run_user: (1001, 1001),
        rebase_keeps: &[RebaseKeep {
            label: crate::oci::labels::PYTHON_VERSION,
            what: "Python",
            why: "its virtual environment links against that interpreter and would break",
        }],
    },
];

/// The images a stack is made of.
#[derive(Clone, Debug)]
pub struct Stack {
    /// The recipe.
    pub recipe: StackRecipe,
    /// Build image reference in the store.
    pub build_image: ImageRef,
    /// Run image reference in the store.
    pub run_image: ImageRef,
    /// The cache key the images were made for.
    pub key: String,
}

/// What failed while making a stack.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// No recipe of that name.
    #[error("there is no stack recipe named `{0}`")]
    UnknownRecipe(String),
    /// A tool could not be started.
    #[error("could not run `{tool}`")]
    Spawn {
        /// The tool.
        tool: &'static str,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// mmdebstrap failed.
    #[error("mmdebstrap failed while {doing}{output}")]
    Mmdebstrap {
        /// What it was doing.
        doing: &'static str,
        /// The tail of its output.
        output: String,
    },
    /// The CA bundle could not be read.
    #[error("could not read the CA bundle {path}")]
    CaBundle {
        /// The bundle.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The store could not be locked.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
    /// Writing an image failed.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// Writing a layout failed.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Binaries of the stack's architecture cannot run here.
    #[error(transparent)]
    Emulation(crate::provision::emulation::EmulationError),
}

impl StackError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::UnknownRecipe(_) => {
                Some(format!("known recipes: {}", RECIPES.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")))
            }
            Self::Spawn { tool: "mmdebstrap", .. } => Some("install it: apt-get install mmdebstrap".to_owned()),
            Self::Mmdebstrap { .. } => Some(
                "mmdebstrap needs root (or unprivileged user namespaces) and a reachable Debian mirror; \
                 run `mmdebstrap --simulate --variant=minbase bookworm /dev/null` to check"
                    .to_owned(),
            ),
            Self::CaBundle { .. } => Some("pass --ca-bundle with a PEM bundle of the CAs builds must trust".to_owned()),
            Self::Emulation(e) => e.hint(),
            _ => None,
        }
    }
}

crate::toolbox::file_error::io_err!(StackError);

impl StackRecipe {
    /// The recipe called `name`.
    ///
    /// # Errors
    /// When there is none.
    pub fn named(name: &str) -> Result<&'static Self, StackError> {
        RECIPES
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| StackError::UnknownRecipe(name.to_owned()))
    }

    /// The recipe whose build or run image is `image`, if any: lets commands make a missing stack on demand.
    #[must_use]
    pub(crate) fn for_image(image: &ImageRef) -> Option<&'static Self> {
        RECIPES
            .iter()
            .find(|r| &r.build_image() == image || &r.run_image() == image)
    }

    /// `localhost/rpack/<name>-build:latest`.
    #[must_use]
    pub(crate) fn build_image(&self) -> ImageRef {
        image_ref(&format!("localhost/rpack/{}-build:latest", self.name))
    }

    /// `localhost/rpack/<name>-run:latest`.
    #[must_use]
    pub(crate) fn run_image(&self) -> ImageRef {
        image_ref(&format!("localhost/rpack/{}-run:latest", self.name))
    }

    fn describe(&self) -> String {
        /// The fields that make the images, printed as the derived `Debug` printed the recipe before
        /// `rebase_keeps` (which only rebase reads) existed: stores keep their stacks.
        struct Images<'a>(&'a StackRecipe);
        impl std::fmt::Debug for Images<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let r = self.0;
                f.debug_struct("StackRecipe")
                    .field("name", &r.name)
                    .field("stack_id", &r.stack_id)
                    .field("suite", &r.suite)
                    .field("distro", &r.distro)
                    .field("variant", &r.variant)
                    .field("run_packages", &r.run_packages)
                    .field("build_packages", &r.build_packages)
                    .field("build_user", &r.build_user)
                    .field("run_user", &r.run_user)
                    .finish()
            }
        }
        format!("{:?}", Images(self))
    }

    /// The packages of the build image (`Build`) or run image (`Run`).
    fn packages(&self, role: Role) -> Vec<&'static str> {
        let mut packages = self.run_packages.to_vec();
        if role == Role::Build {
            packages.extend_from_slice(self.build_packages);
        }
        packages
    }

    fn mmdebstrap(&self, role: Role, arch: &str) -> Command {
        self.mmdebstrap_as(Command::new("mmdebstrap"), role, arch)
    }

    /// The mmdebstrap arguments of the recipe, added to `cmd` (mmdebstrap, or a command that runs it).
    ///
    /// /usr is merged as debootstrap merges it (mmdebstrap's `merged-usr` hooks: the symlinks first, then the
    /// `usr-is-merged` package), not by the `usrmerge` package, which apt otherwise picks for
    /// `init-system-helpers` and which brings perl's modules and three more perl packages: fewer files to
    /// unpack under emulation, and a smaller run image.
    fn mmdebstrap_as(&self, cmd: Command, role: Role, arch: &str) -> Command {
        let mut packages = self.packages(role);
        packages.push("usr-is-merged");
        let mut cmd = mmdebstrap_args(cmd, arch, self.variant, &packages);
        cmd.arg(format!("--hook-dir={MERGED_USR_HOOKS}"));
        cmd
    }
}

/// mmdebstrap's arguments for a root file system of `arch` (another than the host's is configured under
/// emulation: `binfmt_misc` and qemu-user-static), of the `variant` with the packages `include`.
fn mmdebstrap_args(mut cmd: Command, arch: &str, variant: &str, include: &[&str]) -> Command {
    if arch != crate::provision::emulation::host_arch() {
        cmd.arg(format!("--arch={arch}"));
    }
    cmd.arg(format!("--variant={variant}"))
        .arg(format!("--include={}", include.join(",")));
    // Clamp file times so the same packages give the same tar.
    cmd.env("SOURCE_DATE_EPOCH", "315532801");
    cmd
}

/// mmdebstrap's hooks that set up a merged /usr without the `usrmerge` package (Debian's mmdebstrap package).
const MERGED_USR_HOOKS: &str = "/usr/share/mmdebstrap/hooks/merged-usr";

fn image_ref(s: &str) -> ImageRef {
    match s.parse() {
        Ok(r) => r,
        // The recipe names are fixed above and always form valid references.
        Err(e) => unreachable!("invalid built-in image reference {s}: {e}"),
    }
}

/// The image of a stack a root file system is made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Build,
    Run,
}

/// Makes the stack `recipe` in `store`, or reuses it when its key (recipe, resolved packages, CA bundle) is
/// unchanged.
///
/// # Errors
/// When mmdebstrap is missing or fails, the CA bundle is unreadable, or the images cannot be written.
pub fn create(
    store: &Store,
    recipe: &StackRecipe,
    ca_bundle: &Path,
    ui: &Ui,
) -> Result<Stack, StackError> {
    create_for(
        store,
        recipe,
        ca_bundle,
        crate::provision::emulation::host_arch(),
        ui,
    )
}

/// [`create`] for the OCI architecture `arch`: another architecture than the host's is made under emulation
/// (`mmdebstrap --arch`), and its images join the host's under the same names, as an image index with one
/// image per platform.
///
/// # Errors
/// As [`create`], and when binaries of `arch` cannot run here (see [`crate::provision::emulation`]).
pub fn create_for(
    store: &Store,
    recipe: &StackRecipe,
    ca_bundle: &Path,
    arch: &str,
    ui: &Ui,
) -> Result<Stack, StackError> {
    let started = Instant::now();
    let host = arch == crate::provision::emulation::host_arch();
    if !host {
        crate::provision::emulation::check(arch).map_err(StackError::Emulation)?;
    }
    let stem = if host {
        recipe.name.to_owned()
    } else {
        format!("{}-{arch}", recipe.name)
    };
    let _lock = store.lock(&format!("stack-{stem}"))?;
    ui.section(&format!(
        "Stack `{}` (Debian {} {}, linux/{arch})",
        recipe.name, recipe.suite, recipe.variant
    ));
    let ca = fs_err::read(ca_bundle).map_err(|source| StackError::CaBundle {
        path: ca_bundle.to_owned(),
        source,
    })?;
    let packages = resolve_both(recipe, arch)?;
    ui.done(
        &format!(
            "Resolved {} build and {} run packages",
            packages.0.len(),
            packages.1.len()
        ),
        started.elapsed(),
    );
    let mut key = stack_key(recipe, &packages.0, &packages.1, &ca);
    if !host {
        // The host's key is as it was before rpack made other architectures: its stacks stay valid.
        key = hex::encode(Sha256::digest(format!("{key} linux/{arch}")));
    }
    let stack = Stack {
        recipe: recipe.clone(),
        build_image: recipe.build_image(),
        run_image: recipe.run_image(),
        key,
    };
    let record = store.stacks_dir().join(format!("{stem}.key"));
    if is_up_to_date(store, &stack, &record, arch) {
        let reason = format!(
            "Reusing stack `{}` (recipe, packages and CA bundle unchanged)",
            recipe.name
        );
        ui.done(&reason, started.elapsed());
        return Ok(stack);
    }
    make_images(store, &stack, ca_bundle, arch, &packages, &record, ui)?;
    Ok(stack)
}

/// Whether the store has the stack's images for `arch`, made from its key (which `record` holds).
fn is_up_to_date(store: &Store, stack: &Stack, record: &Path, arch: &str) -> bool {
    let current = fs_err::read_to_string(record).ok();
    let platform = crate::oci::Platform::new("linux", arch);
    let has = |image: &ImageRef| {
        Image::load(store.image_layout(image).for_platform(platform.clone()))
            .is_ok_and(|i| i.arch() == arch)
    };
    current.as_deref() == Some(stack.key.as_str())
        && has(&stack.build_image)
        && has(&stack.run_image)
}

/// Bootstraps the build and run root file systems (with their resolved `packages`), writes them as the
/// stack's images and records the stack's key in `record`.
fn make_images(
    store: &Store,
    stack: &Stack,
    ca_bundle: &Path,
    arch: &str,
    (build_packages, run_packages): &(Vec<String>, Vec<String>),
    record: &Path,
    ui: &Ui,
) -> Result<(), StackError> {
    let work = store.scratch_dir("stack-")?;
    let step = Instant::now();
    let (build_tar, run_tar) = bootstrap_both(
        &stack.recipe,
        ca_bundle,
        work.path(),
        arch,
        [build_packages, run_packages],
        ui,
    )?;
    ui.done("Root file systems ready", step.elapsed());
    let step = Instant::now();
    write_images(
        store,
        stack,
        work.path(),
        arch,
        [(&build_tar, build_packages), (&run_tar, run_packages)],
    )?;
    if let Some(parent) = record.parent() {
        fs_err::create_dir_all(parent).map_err(io_err("create", parent))?;
    }
    write_atomic(record, stack.key.as_bytes()).map_err(io_err("write", record))?;
    ui.done(
        &format!("Wrote {} and {}", stack.build_image, stack.run_image),
        step.elapsed(),
    );
    Ok(())
}

/// The resolved packages of the build and the run image, resolved in parallel when they differ.
fn resolve_both(
    recipe: &StackRecipe,
    arch: &str,
) -> Result<(Vec<String>, Vec<String>), StackError> {
    if recipe.build_packages.is_empty() {
        // One image's packages are the other's: one resolution (an apt update and a solve) serves both.
        let packages = resolve_packages(recipe, Role::Run, arch)?;
        return Ok((packages.clone(), packages));
    }
    let (build_packages, run_packages) = std::thread::scope(|s| {
        let build = s.spawn(|| resolve_packages(recipe, Role::Build, arch));
        let run = resolve_packages(recipe, Role::Run, arch);
        (
            build.join().unwrap_or_else(|_| {
                Err(StackError::Mmdebstrap {
                    doing: "resolving packages",
                    output: String::new(),
                })
            }),
            run,
        )
    });
    Ok((build_packages?, run_packages?))
}

/// Makes the run root file system, then the build one on top of it, as tars under `work`.
///
/// The build image is the run image plus the build packages: mmdebstrap unpacks the run image's tar and installs
/// only what the build image adds. The run packages' maintainer scripts so run once, not once per image, which
/// under emulation is most of a stack's time (see docs/platforms.md).
fn bootstrap_both(
    recipe: &StackRecipe,
    ca_bundle: &Path,
    work: &Path,
    arch: &str,
    [build_packages, run_packages]: [&[String]; 2],
    ui: &Ui,
) -> Result<(PathBuf, PathBuf), StackError> {
    let run_tar = work.join("run.tar");
    ui.step(&format!(
        "mmdebstrap {}: {}",
        recipe.suite,
        recipe.packages(Role::Run).join(", ")
    ));
    bootstrap(recipe, Base::Debian, ca_bundle, &run_tar, arch, ui)?;
    if recipe.build_packages.is_empty() {
        return Ok((run_tar.clone(), run_tar));
    }
    let build_tar = work.join("build.tar");
    ui.step(&format!(
        "mmdebstrap {} on the run image: {}",
        recipe.suite,
        recipe.build_packages.join(", ")
    ));
    let auto = extend::auto_installed(recipe, build_packages, run_packages);
    bootstrap(
        recipe,
        Base::RunImage {
            tar: &run_tar,
            auto: &auto,
        },
        ca_bundle,
        &build_tar,
        arch,
        ui,
    )?;
    Ok((build_tar, run_tar))
}

/// Writes the build and run images from their root file system tars (one layer each) into the store.
fn write_images(
    store: &Store,
    stack: &Stack,
    work: &Path,
    arch: &str,
    [(build_tar, build_packages), (run_tar, run_packages)]: [(&PathBuf, &Vec<String>); 2],
) -> Result<(), StackError> {
    let recipe = &stack.recipe;
    let build_layout = Layout::create(work.join("build"))?;
    let run_layout = Layout::create(work.join("run"))?;
    let status_layer = run_status::layer(&build_layout, &run_status::read_status(run_tar)?)?;
    let (build_layer, run_layer) = if build_tar == run_tar {
        // Both images have the same root file system: compress it once and share the blob.
        let layer = compress(&build_layout, build_tar)?;
        run_layout.import_blob(&build_layout, &layer.digest)?;
        (layer.clone(), layer)
    } else {
        std::thread::scope(|s| {
            let run = s.spawn(|| compress(&run_layout, run_tar));
            let build = compress(&build_layout, build_tar);
            let crashed = || StackError::Mmdebstrap {
                doing: "compressing the run image",
                output: String::new(),
            };
            Ok::<_, StackError>((build?, run.join().map_err(|_| crashed())??))
        })?
    };
    for (role, layout, layer, user, dest, packages) in [
        (
            Role::Build,
            &build_layout,
            &build_layer,
            recipe.build_user,
            &stack.build_image,
            build_packages,
        ),
        (
            Role::Run,
            &run_layout,
            &run_layer,
            recipe.run_user,
            &stack.run_image,
            run_packages,
        ),
    ] {
        let mut image = Image::scratch(layout.clone(), "linux", arch)?;
        let include = recipe.packages(role).join(",");
        let created_by = format!(
            "mmdebstrap --variant={} --include={include} {}",
            recipe.variant, recipe.suite
        );
        image.add_layer(layer, &created_by)?;
        label_image(&mut image, recipe, user, packages);
        if role == Role::Build {
            image.set_env("CNB_USER_ID", &user.0.to_string());
            image.set_env("CNB_GROUP_ID", &user.1.to_string());
            image.add_layer(&status_layer, "rpack: the run image's dpkg status")?;
            image.set_label(
                crate::oci::labels::RUN_IMAGE_DPKG_STATUS,
                RUN_IMAGE_DPKG_STATUS,
            );
        }
        image.save(dest.tag())?;
    }
    for (layout, dest) in [
        (build_layout, &stack.build_image),
        (run_layout, &stack.run_image),
    ] {
        crate::store::platforms::put(store, dest, &layout)?;
    }
    Ok(())
}

/// Gzips a root file system tar into `layout` as one layer.
fn compress(layout: &Layout, tar: &Path) -> Result<crate::oci::Layer, StackError> {
    let file = fs_err::File::open(tar).map_err(io_err("open", tar))?;
    Ok(LayerWriter::from_tar_stream(
        layout,
        io::BufReader::with_capacity(1 << 20, file),
    )?)
}

fn label_image(image: &mut Image, recipe: &StackRecipe, user: (u32, u32), packages: &[String]) {
    image.edit_config(|c| {
        c.set_user(Some(format!("{}:{}", user.0, user.1)));
        c.set_env(Some(vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
        ]));
    });
    image.set_label("io.buildpacks.stack.id", recipe.stack_id);
    image.set_label("io.buildpacks.base.distro.name", recipe.distro.0);
    image.set_label("io.buildpacks.base.distro.version", recipe.distro.1);
    image.set_label("io.buildpacks.base.id", recipe.stack_id);
    if let Some(python) = packages.iter().find_map(|p| p.strip_prefix("python3 ")) {
        image.set_label(crate::oci::labels::PYTHON_VERSION, python);
    }
}

/// Resolves the recipe's package list without downloading anything: `mmdebstrap --simulate`.
fn resolve_packages(
    recipe: &StackRecipe,
    role: Role,
    arch: &str,
) -> Result<Vec<String>, StackError> {
    let output = recipe
        .mmdebstrap(role, arch)
        .args(["--simulate", "--verbose", recipe.suite, "/dev/null"])
        .output()
        .map_err(|source| StackError::Spawn {
            tool: "mmdebstrap",
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(StackError::Mmdebstrap {
            doing: "resolving packages",
            output: libbuildpack::toolbox::style::tail_of(&text),
        });
    }
    let mut packages: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Inst "))
        .filter_map(|l| {
            let (name, rest) = l.split_once(" (")?;
            Some(format!("{name} {}", rest.split_whitespace().next()?))
        })
        .collect();
    packages.sort();
    packages.dedup();
    Ok(packages)
}

fn stack_key(recipe: &StackRecipe, build: &[String], run: &[String], ca: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(run_status::FORMAT.as_bytes());
    hasher.update(recipe.describe().as_bytes());
    for p in build.iter().chain([&String::from("--")]).chain(run) {
        hasher.update(p.as_bytes());
        hasher.update(b"\n");
    }
    hasher.update(Sha256::digest(ca));
    hex::encode(hasher.finalize())
}

/// What a root file system starts from.
#[derive(Clone, Copy, Debug)]
enum Base<'a> {
    /// Debian's minimal base (mmdebstrap's variant) with the run packages, and the users.
    Debian,
    /// The run image's root file system (a tar), to which the build packages are added; `auto` are the
    /// packages they pull in, which apt marks as installed automatically.
    RunImage { tar: &'a Path, auto: &'a [String] },
}

fn bootstrap(
    recipe: &StackRecipe,
    base: Base<'_>,
    ca_bundle: &Path,
    out: &Path,
    arch: &str,
    ui: &Ui,
) -> Result<(), StackError> {
    // Each root file system has its own dir for mmdebstrap's temp root.
    let work = out.with_extension("work");
    fs_err::create_dir_all(&work).map_err(io_err("create", &work))?;
    let cmd = confine::private_mounts(&work);
    let mut cmd = match base {
        Base::Debian => {
            let mut cmd = recipe.mmdebstrap_as(cmd, Role::Run, arch);
            cmd.arg(format!("--customize-hook={}", extend::users_hook(recipe)));
            cmd
        }
        Base::RunImage { tar, auto } => extend::on_run_image(recipe, cmd, arch, tar, auto),
    };
    cmd.arg("--mode=auto")
        .arg("--format=tar")
        .arg(format!(
            "--customize-hook=upload {} /etc/ssl/certs/ca-certificates.crt",
            ca_bundle.display()
        ))
        .arg(recipe.suite)
        .arg(out);
    let finished = ui
        .run_streamed(&mut cmd)
        .map_err(|source| StackError::Spawn {
            tool: "mmdebstrap",
            source,
        })?;
    if finished.status.success() {
        Ok(())
    } else {
        Err(StackError::Mmdebstrap {
            doing: "building the root file system",
            output: finished.tail_text(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_changes_with_packages_and_the_ca_bundle() {
        let recipe = StackRecipe::named("python").unwrap();
        let build = vec!["python3 3.11.2-1+b1".to_owned()];
        let run = vec!["python3 3.11.2-1+b1".to_owned()];
        let key = stack_key(recipe, &build, &run, b"ca");
        assert_eq!(key, stack_key(recipe, &build, &run, b"ca"));
        assert_ne!(key, stack_key(recipe, &build, &run, b"other ca"));
        assert_ne!(
            key,
            stack_key(recipe, &build, &["python3 3.11.4".to_owned()], b"ca")
        );
        assert_ne!(
            key,
            stack_key(StackRecipe::named("tiny").unwrap(), &build, &run, b"ca")
        );
    }

    #[test]
    fn build_images_have_the_run_packages_and_more() {
        let python = StackRecipe::named("python").unwrap();
        assert_eq!(
            python.rebase_keeps[0].label,
            crate::oci::labels::PYTHON_VERSION
        );
        assert_eq!(
            StackRecipe::named("tiny").unwrap().describe(),
            "StackRecipe { name: \"tiny\", stack_id: \"io.rpack.stacks.bookworm.tiny\", suite: \"bookworm\", \
             distro: (\"debian\", \"12\"), variant: \"minbase\", run_packages: [\"ca-certificates\"], \
             build_packages: [], build_user: (1000, 1000), run_user: (1001, 1001) }",
            "what the stack key hashes: a change makes every store make its stacks again"
        );
        let build = python.packages(Role::Build);
        assert!(python.packages(Role::Run).iter().all(|p| build.contains(p)));
        assert!(build.contains(&"python3-venv"));
        assert!(!python.packages(Role::Run).contains(&"build-essential"));
    }

    #[test]
    fn images_map_back_to_their_recipe() {
        let tiny = StackRecipe::named("tiny").unwrap();
        assert_eq!(StackRecipe::for_image(&tiny.run_image()), Some(tiny));
        assert_eq!(
            tiny.build_image().to_string(),
            "localhost/rpack/tiny-build:latest"
        );
        assert!(StackRecipe::named("alpine").is_err());
    }
}
