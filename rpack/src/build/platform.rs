//! Running a build: the lifecycle's `creator` in a podman container made from the builder image, as pack does,
//! exporting with `-layout` into a staging copy of the app's image layout that replaces the image only when the
//! build succeeds. A failed or interrupted build leaves the previous image as it was.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use libbuildpack::toolbox::file::FileError;

use crate::build::Error;
use crate::build::podman::Podman;
use crate::build::project::{FileFilter, GroupOverride, Project};
use crate::oci::reference::ImageRef;
use crate::oci::{Digest, Image, Layout};
use crate::provision::builder::{self, Builder};
use crate::store::{LAYOUT_MOUNT, Store};
use crate::toolbox::ui::Ui;

mod arch;
mod sparse;

/// The Platform API rpack speaks to the lifecycle.
pub(crate) const PLATFORM_API: &str = "0.15";

/// Where a project.toml group's order is mounted in the build container.
const PROJECT_ORDER: &str = "/cnb/project-order.toml";

/// Where the app image's build cache volume is mounted in the build container; buildpacks find it through
/// the platform env var [`libbuildpack::data::CACHE_VOLUME_ENV`].
const CACHE_VOLUME_MOUNT: &str = "/cache-volume";

/// Which builder to build with.
#[derive(Clone, Debug)]
pub enum BuilderSource {
    /// A builder image in the store.
    Image(ImageRef),
    /// A `builder.toml`: the builder is (re)made from it first; unchanged parts are reused.
    Config(PathBuf),
}

impl BuilderSource {
    /// The builder to build `app_dir` with: `given` (a `--builder` flag) when there is one, else `project.toml`'s
    /// `[io.buildpacks] builder`. Either is a path to a `builder.toml` when such a file exists (relative to the
    /// app dir when it comes from `project.toml`), else an image reference.
    ///
    /// # Errors
    /// When `project.toml` is invalid, neither names a builder, or the name is no valid image reference.
    pub fn resolve(given: Option<&str>, app_dir: &Path) -> Result<Self, Error> {
        let (text, base) = if let Some(text) = given {
            (text.to_owned(), PathBuf::new())
        } else {
            let project = Project::find(app_dir)?;
            let text = project
                .as_ref()
                .and_then(|p| p.builder())
                .map(str::to_owned);
            (text.ok_or(BuildError::NoBuilder)?, app_dir.to_owned())
        };
        let path = base.join(&text);
        if path.is_file() {
            Ok(Self::Config(path))
        } else {
            Ok(Self::Image(text.parse()?))
        }
    }
}

/// What to build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The app image to write.
    pub image: ImageRef,
    /// The app source dir.
    pub app_dir: PathBuf,
    /// The builder.
    pub builder: BuilderSource,
    /// User env for buildpacks (`/platform/env/<NAME>`).
    pub env: Vec<(String, String)>,
    /// Start without the build cache.
    pub clear_cache: bool,
    /// Stop the build when it takes longer than this.
    pub timeout: Option<Duration>,
    /// The platform to build for (`linux/arm64` runs the build under emulation on an amd64 host); `None`: the
    /// host's. The app image joins the stored image under its name, beside its other platforms.
    pub platform: Option<crate::oci::Platform>,
}

/// A finished build.
#[derive(Clone, Debug)]
pub struct Built {
    /// The image written.
    pub image: ImageRef,
    /// Its layout dir in the store.
    pub layout: Layout,
    /// Its manifest digest.
    pub digest: Digest,
    /// How long the whole build took.
    pub elapsed: Duration,
}

/// What failed in a build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// No builder was given and project.toml names none.
    #[error(
        "no builder: pass --builder (an image or a builder.toml), or set [io.buildpacks] builder in project.toml"
    )]
    NoBuilder,
    /// The app dir is missing.
    #[error("the app dir {0} does not exist")]
    NoApp(PathBuf),
    /// The lifecycle exited non-zero.
    #[error("the build failed in the {phase} phase (lifecycle exit code {code}){tail}")]
    Lifecycle {
        /// The last phase the lifecycle announced.
        phase: String,
        /// Its exit code.
        code: i32,
        /// The last lines of output.
        tail: String,
    },
    /// The build took longer than allowed and was stopped.
    #[error("the build was stopped after {seconds}s in the {phase} phase (its time limit){tail}")]
    TimedOut {
        /// The phase it hung in.
        phase: String,
        /// The limit.
        seconds: u64,
        /// The last lines of output.
        tail: String,
    },
    /// The image the lifecycle exported lacks a part rpack cannot supply.
    #[error("the image at {} is incomplete: it lacks {what}", layout.display())]
    IncompleteImage {
        /// The layout.
        layout: PathBuf,
        /// What is missing.
        what: String,
    },
    /// The lifecycle metadata of the previous image (or the run image) is malformed.
    #[error("could not read the image at {}", layout.display())]
    ImageLabel {
        /// The image's layout.
        layout: PathBuf,
        /// Which label, and what is wrong with it.
        #[source]
        source: libbuildpack::data::labels::LabelError,
    },
    /// The container could not be started or was killed.
    #[error("the build container ended without an exit code (killed?)")]
    Killed,
    /// The build container was killed with SIGKILL (`podman kill`, `podman rm --force`, the kernel's OOM
    /// killer) while the lifecycle ran.
    #[error("the build container was killed in the {phase} phase; the image was not changed{tail}")]
    ContainerKilled {
        /// The last phase the lifecycle announced.
        phase: String,
        /// The last lines of output.
        tail: String,
    },
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl BuildError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        if let Self::ImageLabel { .. } = self {
            return Some(
                "a lifecycle did not write this label: remove the image (`rpack image rm`) or build under \
                 another name"
                    .to_owned(),
            );
        }
        if let Self::ContainerKilled { .. } = self {
            return Some(
                "something outside the build stopped it (podman kill or rm, or the kernel when memory ran out: \
                 see `dmesg`); build again"
                    .to_owned(),
            );
        }
        let Self::Lifecycle { code, tail, .. } = self else {
            return None;
        };
        if tail.contains("no space left on device") {
            return Some(
                "the disk that holds rpack's store (RPACK_HOME) is full; the previous image and the build cache \
                 are as they were. Free space (`rpack prune` removes blobs no image uses) and build again"
                    .to_owned(),
            );
        }
        Some(
            match code {
                20 => "no buildpack group passed detection: check that the app has what the builder's buildpacks look for",
                21 => "a buildpack errored during detection: its output above says why",
                51 => "a buildpack failed: its output above says why",
                11 | 12 => "the lifecycle does not support an API the builder or a buildpack declares",
                _ => "the lifecycle output above says what went wrong; rerun with the same command to retry",
            }
            .to_owned(),
        )
    }
}

crate::toolbox::file_error::io_err!(BuildError);

/// The builder ref rpack uses for a `builder.toml`: stable for the file's path.
#[must_use]
pub fn builder_ref_for_config(config: &Path) -> ImageRef {
    let canonical = fs_err::canonicalize(config).unwrap_or_else(|_| config.to_owned());
    let digest = Digest::of(canonical.as_os_str().as_encoded_bytes());
    let text = format!("localhost/rpack/builder-{}:latest", &digest.hex()[..12]);
    match text.parse() {
        Ok(r) => r,
        Err(e) => unreachable!("hex digests always form valid references: {e}"),
    }
}

/// Builds `options.app_dir` into `options.image` in the store.
///
/// # Errors
/// When the builder cannot be made or loaded, podman fails, or the lifecycle fails (the error names the phase).
pub fn build(store: &Store, options: &BuildOptions, ui: &Ui) -> Result<Built, Error> {
    let started = Instant::now();
    if !options.app_dir.is_dir() {
        return Err(BuildError::NoApp(options.app_dir.clone()).into());
    }
    let builder = match &options.builder {
        BuilderSource::Image(name) => Builder::load(store, name)?,
        BuilderSource::Config(path) => builder::ensure_for(
            store,
            path,
            &builder_ref_for_config(path),
            options.platform.as_ref(),
            ui,
        )?,
    };
    let platform = options.platform.as_ref();
    arch::ensure_run_image(store, &builder, platform, ui)?;
    let podman = Podman::new(store)?;
    let builder_id = podman.ensure_image(
        &arch::scoped(store.image_layout(&builder.image), platform),
        &builder.image,
        ui,
    )?;

    let _lock = store.lock(&options.image.to_string())?;
    restore_interrupted(store, &options.image, ui)?;
    remove_stale_containers(&podman, &options.image, ui);
    ui.section(&format!(
        "Building {} from {}",
        options.image,
        options.app_dir.display()
    ));
    let work = store.scratch_dir("build-")?;
    let settings = ProjectSettings::read(options, &builder, work.path(), ui)?;
    let dirs = BuildDirs::prepare(
        work.path(),
        store,
        options,
        builder.user,
        &settings.filter,
        &settings.env,
        &builder.run_image,
    )?;
    mask_project_passwords(&dirs.app, &settings.env, ui)?;

    let name = format!("rpack-build-{}-{}", std::process::id(), unique_suffix());
    let container = Container {
        podman: &podman,
        name: &name,
        builder: &builder,
        builder_id: &builder_id,
    };
    let mut cmd = creator_command(&container, &dirs, options, settings.group.as_ref());
    run_creator(&mut cmd, &podman, &name, options.timeout, ui)?;
    let (layout, digest) = store_output(store, options, &builder, &dirs.output)?;
    // The work dir holds the layers the exporter read (a fresh venv, say): removed in the background.
    work.dispose(store);
    ui.done(
        &format!("Built {} ({})", options.image, digest.short()),
        started.elapsed(),
    );
    Ok(Built {
        image: options.image.clone(),
        layout,
        digest,
        elapsed: started.elapsed(),
    })
}

/// Puts back the app image an interrupted command had moved aside to replace it, saying so.
fn restore_interrupted(store: &Store, image: &ImageRef, ui: &Ui) -> Result<(), Error> {
    let previous = store.image_layout(image);
    if crate::store::restore_replaced(previous.root())
        .map_err(io_err("restore", previous.root()))?
    {
        ui.warn(&format!(
            "restored {image} from where an interrupted command had moved it"
        ));
    }
    Ok(())
}

/// What the app's `project.toml` (when it has one) asks of the build.
struct ProjectSettings {
    /// The buildpack group it names, with the mounts of its inline buildpacks.
    group: Option<GroupOverride>,
    /// Which of the app's files the build sees.
    filter: FileFilter,
    /// The build env: project.toml's, then `--env`'s, so the command line wins.
    env: Vec<(String, String)>,
}

impl ProjectSettings {
    fn read(
        options: &BuildOptions,
        builder: &Builder,
        work: &Path,
        ui: &Ui,
    ) -> Result<Self, Error> {
        let project = Project::find(&options.app_dir).map_err(Error::from)?;
        let group = match &project {
            Some(project) => project.group(builder, work, ui)?,
            None => None,
        };
        let filter = project
            .as_ref()
            .map(Project::file_filter)
            .transpose()?
            .unwrap_or(FileFilter::All);
        let mut env = project.as_ref().map(Project::env).unwrap_or_default();
        env.extend(options.env.iter().cloned());
        Ok(Self { group, filter, env })
    }
}

/// Completes the exported layout with what a sparse export left out, stores it as the app image (beside its
/// other platforms) and returns the stored image's layout and manifest digest.
fn store_output(
    store: &Store,
    options: &BuildOptions,
    builder: &Builder,
    output: &Path,
) -> Result<(Layout, Digest), Error> {
    let platform = options.platform.as_ref();
    let dest = store.image_layout(&options.image);
    sparse::complete(
        &Layout::open(output),
        &[
            arch::scoped(store.image_layout(&builder.run_image), platform),
            arch::scoped(dest.clone(), platform),
        ],
    )?;
    arch::store_output(store, &options.image, output, platform)?;
    let dest = arch::scoped(dest, platform);
    let image = Image::load(dest.clone())?;
    let digest = image.manifest_digest().cloned().ok_or(BuildError::Killed)?;
    Ok((dest, digest))
}

/// The label on every build container of `image`: lets the next build find containers a killed rpack left.
fn build_label(image: &ImageRef) -> String {
    format!("io.rpack.build={image}")
}

/// Removes build containers of `image` that outlived the rpack that started them (killed with SIGKILL, say).
/// Holding the image's lock means no live build of it is running, and a leftover one must not write into the
/// build cache while the new build uses it.
fn remove_stale_containers(podman: &Podman, image: &ImageRef, ui: &Ui) {
    let filter = format!("label={}", build_label(image));
    let Ok(found) = podman.output(&["ps", "--all", "--quiet", "--filter", &filter]) else {
        return;
    };
    for id in String::from_utf8_lossy(&found.stdout).split_whitespace() {
        ui.warn(&format!(
            "removing build container {id} left by an interrupted build of {image}"
        ));
        let _ = podman.output(&["rm", "--force", "--time", "0", id]);
    }
}

/// The proxy settings of rpack's own environment, which the lifecycle passes on to buildpacks (it passes
/// almost nothing else): builds behind a corporate proxy reach package indexes the way the user's shell does.
fn proxy_env(vars: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    const PROXY_VARS: [&str; 6] = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
    ];
    vars.filter(|(key, _)| PROXY_VARS.contains(&key.as_str()))
        .collect()
}

/// A suffix that keeps container names of concurrent builds apart.
fn unique_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// The build container's identity: podman, its name, and the builder it runs.
struct Container<'a> {
    podman: &'a Podman,
    name: &'a str,
    builder: &'a Builder,
    builder_id: &'a str,
}

/// `podman run ... /cnb/lifecycle/creator`: the build container, as pack runs it (root in the container, the
/// lifecycle dropping to the build user), with the run image mounted read-only and the app image's staging
/// layout read-write at the paths the layout convention gives their references.
fn creator_command(
    container: &Container<'_>,
    dirs: &BuildDirs,
    options: &BuildOptions,
    group: Option<&GroupOverride>,
) -> std::process::Command {
    let Container {
        podman,
        name,
        builder,
        builder_id,
    } = *container;
    let mut cmd = podman.command();
    cmd.args([
        "run",
        "--rm",
        "--name",
        name,
        "--label",
        &build_label(&options.image),
        "--network",
        "host",
    ])
    .args(["--user", "0:0", "--security-opt", "label=disable"]);
    add_creator_env(&mut cmd, builder);
    add_creator_mounts(&mut cmd, dirs, &builder.run_image, &options.image, group);
    cmd.arg(builder_id).arg("/cnb/lifecycle/creator");
    if group.is_some() {
        cmd.args(["-order", PROJECT_ORDER]);
    }
    cmd.args([
        "-run-image",
        &builder.run_image.to_string(),
        "-cache-dir",
        "/cache",
    ]);
    if options.clear_cache {
        cmd.arg("-skip-restore");
    }
    cmd.arg(options.image.to_string());
    cmd
}

/// The lifecycle's platform env (layout export, the build user) and rpack's proxy settings.
fn add_creator_env(cmd: &mut std::process::Command, builder: &Builder) {
    for (key, value) in [
        ("CNB_PLATFORM_API", PLATFORM_API.to_owned()),
        ("CNB_USE_LAYOUT", "true".to_owned()),
        ("CNB_LAYOUT_DIR", LAYOUT_MOUNT.to_owned()),
        ("CNB_EXPERIMENTAL_MODE", "warn".to_owned()),
        ("CNB_USER_ID", builder.user.0.to_string()),
        ("CNB_GROUP_ID", builder.user.1.to_string()),
        ("CNB_NO_COLOR", "true".to_owned()),
    ] {
        cmd.arg("--env").arg(format!("{key}={value}"));
    }
    for (key, value) in proxy_env(std::env::vars()) {
        cmd.arg("--env").arg(format!("{key}={value}"));
    }
}

/// The build's dirs, the run image and the output layout mounted where the creator looks for them, and a
/// project.toml group's buildpacks and order.
fn add_creator_mounts(
    cmd: &mut std::process::Command,
    dirs: &BuildDirs,
    run_image: &ImageRef,
    image: &ImageRef,
    group: Option<&GroupOverride>,
) {
    let run_mount = format!("{LAYOUT_MOUNT}/{}", run_image.layout_path().display());
    let out_mount = format!("{LAYOUT_MOUNT}/{}", image.layout_path().display());
    for (host, container, read_only) in [
        (dirs.app.as_path(), "/workspace", false),
        (&dirs.layers, "/layers", false),
        (&dirs.platform, "/platform", true),
        (&dirs.cache, "/cache", false),
        (&dirs.volume, CACHE_VOLUME_MOUNT, false),
        (dirs.run_image.as_path(), &run_mount, true),
        (&dirs.output, &out_mount, false),
    ] {
        // `--mount`, not `--volume`: image paths hold a registry's `host:port`, and `--volume` splits on `:`.
        let mode = if read_only { ",ro=true" } else { "" };
        cmd.arg("--mount").arg(format!(
            "type=bind,source={},destination={container}{mode}",
            host.display()
        ));
    }
    if let Some(group) = group {
        for (dir, target) in &group.mounts {
            cmd.arg("--volume")
                .arg(format!("{}:{target}:ro", dir.display()));
        }
        cmd.arg("--volume")
            .arg(format!("{}:{PROJECT_ORDER}:ro", group.order.display()));
    }
}

/// Runs the creator, streaming its output and following its phases, so a failure can say where it failed.
fn run_creator(
    cmd: &mut std::process::Command,
    podman: &Podman,
    name: &str,
    timeout: Option<Duration>,
    ui: &Ui,
) -> Result<(), Error> {
    let phase = Arc::new(Mutex::new(String::from("starting")));
    let seen = Arc::clone(&phase);
    let watchdog = timeout.map(|limit| Watchdog::start(podman.clone(), name.to_owned(), limit));
    let finished = ui
        .run_observed(cmd, move |line| {
            if let Some(name) = line.strip_prefix("===> ") {
                *seen.lock().unwrap_or_else(PoisonError::into_inner) = name.trim().to_lowercase();
            }
        })
        .map_err(|source| crate::build::podman::PodmanError::spawn(podman.engine(), source))?;
    let phase = phase.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let tail = finished.tail_text();
    if let Some(limit) = watchdog.and_then(Watchdog::stop) {
        return Err(BuildError::TimedOut {
            phase,
            seconds: limit.as_secs(),
            tail,
        }
        .into());
    }
    match finished.status.code() {
        Some(0) => Ok(()),
        // podman's exit code for a container that SIGKILL ended (128 + 9); the lifecycle never exits with it.
        Some(137) => Err(BuildError::ContainerKilled { phase, tail }.into()),
        Some(code) => Err(BuildError::Lifecycle { phase, code, tail }.into()),
        None => Err(BuildError::Killed.into()),
    }
}

/// Removes the build container when the build runs over its time limit.
struct Watchdog {
    done: std::sync::mpsc::Sender<()>,
    fired: std::thread::JoinHandle<Option<Duration>>,
}

impl Watchdog {
    fn start(podman: Podman, name: String, limit: Duration) -> Self {
        let (done, wait) = std::sync::mpsc::channel();
        let fired = std::thread::spawn(move || match wait.recv_timeout(limit) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = podman.output(&["rm", "--force", "--time", "1", &name]);
                Some(limit)
            }
            _ => None,
        });
        Self { done, fired }
    }

    /// Stops watching; returns the limit when the watchdog had already stopped the build.
    fn stop(self) -> Option<Duration> {
        let _ = self.done.send(());
        self.fired.join().ok().flatten()
    }
}

/// The host dirs mounted into the build container.
struct BuildDirs {
    app: PathBuf,
    layers: PathBuf,
    platform: PathBuf,
    cache: PathBuf,
    /// The build cache volume (see [`CACHE_VOLUME_MOUNT`]).
    volume: PathBuf,
    output: PathBuf,
    /// The run image as the lifecycle sees it: without its layers' blobs (see `sparse`).
    run_image: PathBuf,
}

impl BuildDirs {
    fn prepare(
        work: &Path,
        store: &Store,
        options: &BuildOptions,
        user: (u32, u32),
        filter: &FileFilter,
        env: &[(String, String)],
        run_image: &ImageRef,
    ) -> Result<Self, Error> {
        let dirs = Self {
            app: work.join("workspace"),
            layers: work.join("layers"),
            platform: work.join("platform"),
            cache: store.build_cache_dir(&options.image),
            volume: store.cache_volume_dir(&options.image),
            output: work.join("output"),
            run_image: work.join("run-image"),
        };
        copy_tree(&options.app_dir, &dirs.app, filter)?;
        let env_dir = dirs.platform.join("env");
        fs_err::create_dir_all(&env_dir).map_err(io_err("create", &env_dir))?;
        let volume_env = (
            libbuildpack::data::CACHE_VOLUME_ENV.to_owned(),
            CACHE_VOLUME_MOUNT.to_owned(),
        );
        // The user's env comes last, so a user can point buildpacks elsewhere (or at nothing).
        for (key, value) in std::iter::once(&volume_env).chain(env) {
            let path = env_dir.join(key);
            fs_err::write(&path, value).map_err(io_err("write", &path))?;
        }
        for dir in [&dirs.layers, &dirs.cache, &dirs.volume, &dirs.output] {
            fs_err::create_dir_all(dir).map_err(io_err("create", dir))?;
        }
        if options.clear_cache {
            // Off the critical path: the volume can hold a copy of a venv of hundreds of MB.
            for dir in [&dirs.cache, &dirs.volume] {
                store.dispose(dir).map_err(io_err("clear", dir))?;
                fs_err::create_dir_all(dir).map_err(io_err("create", dir))?;
            }
        }
        // The previous image is the starting point of the new one: the exporter reuses its layers. Both it
        // and the run image are handed over sparse, so the lifecycle does not read their layers.
        let scoped = |layout: Layout| arch::scoped(layout, options.platform.as_ref());
        let previous = scoped(store.image_layout(&options.image));
        let has_platform = options.platform.as_ref().is_none_or(|p| {
            Image::load(previous.clone()).is_ok_and(|i| i.arch() == p.arch && i.os() == p.os)
        });
        if previous.exists() && has_platform {
            sparse::copy(&previous, &dirs.output)?;
        }
        sparse::copy(&scoped(store.image_layout(run_image)), &dirs.run_image)?;
        // The lifecycle drops to the build user; it must own what it writes.
        for dir in [&dirs.app, &dirs.layers, &dirs.cache, &dirs.output] {
            chown_tree(dir, user)?;
        }
        // Only the volume's root: what is inside was written by buildpacks as the build user, and walking a
        // volume that holds copies of big venvs would cost what the volume saves.
        std::os::unix::fs::lchown(&dirs.volume, Some(user.0), Some(user.1))
            .map_err(io_err("chown", &dirs.volume))?;
        // The build container reads the work dir through these parents; temp dirs are created 0700.
        set_mode(work, 0o755)?;
        Ok(dirs)
    }
}

/// project.toml goes into the app (and so into the image's app layer), as pack does. A password in a URL of
/// its build env (`PIP_INDEX_URL = "https://user:password@..."`) must not: the build's copy has each such
/// password replaced by `****`, as pip shows them. Buildpacks get the real value as env.
fn mask_project_passwords(app: &Path, env: &[(String, String)], ui: &Ui) -> Result<(), BuildError> {
    let path = app.join(crate::build::project::FILE_NAME);
    let Ok(text) = fs_err::read_to_string(&path) else {
        return Ok(());
    };
    let mut masked = text.clone();
    let mut names = Vec::new();
    for (name, value) in env {
        for password in libbuildpack::redact::url_passwords(value) {
            if masked.contains(password) {
                masked = masked.replace(password, libbuildpack::redact::MASK);
                names.push(name.as_str());
            }
        }
    }
    if names.is_empty() {
        return Ok(());
    }
    names.dedup();
    ui.warn(&format!(
        "project.toml has a password in the URL of {}: the image's copy of project.toml has it masked; pass \
         secrets with `rpack build --env` rather than in a file of the app",
        names.join(", ")
    ));
    fs_err::write(&path, masked).map_err(io_err("write", &path))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), BuildError> {
    let mut perms = fs_err::metadata(path)
        .map_err(io_err("read", path))?
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, mode);
    fs_err::set_permissions(path, perms).map_err(io_err("chmod", path))
}

/// Every path below `root`, parents before children.
fn walk(root: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<PathBuf> = fs_err::read_dir(&dir)
            .map_err(io_err("read", &dir))?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<_>>()
            .map_err(io_err("read", &dir))?;
        entries.sort();
        for path in entries {
            let is_dir = fs_err::symlink_metadata(&path)
                .map_err(io_err("read", &path))?
                .is_dir();
            out.push(path.clone());
            if is_dir {
                stack.push(path);
            }
        }
    }
    out.sort_by_key(|p| p.components().count());
    Ok(out)
}

/// Copies the app source, keeping symlinks as links and modes as they are, leaving out what `filter` refuses.
fn copy_tree(src: &Path, dest: &Path, filter: &FileFilter) -> Result<(), BuildError> {
    libbuildpack::toolbox::copy::TreeCopy::new()
        .filter(|path, meta| filter.keeps(path, meta.is_dir()))
        .run(src, dest)
        .map_err(|e| io_err("copy", src)(e.into()))
}

fn chown_tree(root: &Path, (uid, gid): (u32, u32)) -> Result<(), BuildError> {
    let chown = |path: &Path| -> Result<(), BuildError> {
        let meta = fs_err::symlink_metadata(path).map_err(io_err("read", path))?;
        if meta.uid() != uid || meta.gid() != gid {
            std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(io_err("chown", path))?;
        }
        Ok(())
    };
    chown(root)?;
    for path in walk(root)? {
        chown(&path)?;
    }
    Ok(())
}

/// `rpack build --publish`: pushes the image a successful build wrote to the registry its reference names.
/// Only the blobs the registry lacks are uploaded; TLS is not required for registries on loopback.
///
/// # Errors
/// When the push fails (see [`crate::store::registry::push`]).
pub fn publish(
    store: &Store,
    built: &Built,
    access: crate::store::registry::Access,
    ui: &Ui,
) -> Result<crate::store::registry::Pushed, Error> {
    Ok(crate::store::registry::push(
        store,
        &built.image,
        None,
        access,
        ui,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_toml_passwords_are_masked_in_the_builds_copy() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[[io.buildpacks.build.env]]\nname = \"PIP_INDEX_URL\"\nvalue = \"https://u:pw-123@h/simple/\"\n";
        fs_err::write(dir.path().join("project.toml"), text).unwrap();
        let env = [(
            "PIP_INDEX_URL".to_owned(),
            "https://u:pw-123@h/simple/".to_owned(),
        )];
        mask_project_passwords(dir.path(), &env, &Ui::to_writer(std::io::sink())).unwrap();
        let masked = fs_err::read_to_string(dir.path().join("project.toml")).unwrap();
        assert_eq!(masked, text.replace("pw-123", "****"));
    }

    #[test]
    fn proxy_settings_pass_through_and_nothing_else() {
        let vars = [
            ("HTTPS_PROXY", "http://127.0.0.1:3128"),
            ("no_proxy", "localhost"),
            ("SECRET", "x"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let passed: Vec<String> = proxy_env(vars.into_iter())
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(passed, ["HTTPS_PROXY", "no_proxy"]);
    }
}
