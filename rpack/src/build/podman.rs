//! podman, configured the way rpack needs it on any machine: runc with cgroupfs and no default ulimits, from a
//! `containers.conf` rpack owns (set through `CONTAINERS_CONF`, so the machine's own config is not changed).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::build::engine::{self, Engine};
use crate::oci::reference::ImageRef;
use crate::oci::{Image, Layout, write_atomic};
use crate::store::Store;
use crate::toolbox::ui::Ui;

/// rpack's podman settings, and why each is there:
/// - `runtime = "runc"`: crun is not on every machine, and the VMs we run on have runc;
/// - `cgroup_manager = "cgroupfs"`: there is no systemd to ask for cgroups on CI machines and in containers;
/// - `events_logger = "file"`: no journald either;
/// - `default_ulimits = []`: podman's default `nofile` limit is higher than some hosts allow, and runc then
///   fails with "setrlimit ... operation not permitted"; containers inherit the caller's limits instead.
const CONTAINERS_CONF: &str = r#"# Written by rpack; see rpack/src/podman.rs for why each setting is here.
[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"#;

/// A podman that uses rpack's settings; or, when [`engine::selected`] says so, the `docker` CLI.
#[derive(Clone, Debug)]
pub struct Podman {
    conf: PathBuf,
    engine: Engine,
    /// The store's temp dir (for the copies of images a Docker daemon is handed).
    tmp: PathBuf,
}

/// What failed while talking to the container engine (podman, or the `docker` CLI).
#[derive(Debug, thiserror::Error)]
pub enum PodmanError {
    /// The engine's CLI is not installed or cannot start.
    #[error("could not run {engine}")]
    Spawn {
        /// The engine whose CLI was run.
        engine: Engine,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// skopeo is not installed or cannot start.
    #[error("could not run skopeo")]
    SpawnSkopeo(#[source] io::Error),
    /// rpack's containers.conf could not be written.
    #[error("could not write {path}")]
    WriteConf {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The colon-free link to a layout could not be made.
    #[error("could not link the image layout to a path without ':' for skopeo")]
    LinkLayout(#[source] io::Error),
    /// A command (the engine's CLI, or skopeo) failed.
    #[error("`{program} {args}` failed: {stderr}")]
    Failed {
        /// The program: `podman`, `docker` or `skopeo`.
        program: &'static str,
        /// The arguments.
        args: String,
        /// What it printed.
        stderr: String,
    },
}

impl PodmanError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Spawn {
                engine: Engine::Podman,
                ..
            } => Some("install podman and runc: apt-get install podman runc".to_owned()),
            Self::Spawn {
                engine: Engine::Docker,
                ..
            } => Some(
                "install the docker CLI, or run containers with podman: `rpack --engine podman` or RPACK_ENGINE=podman"
                    .to_owned(),
            ),
            Self::SpawnSkopeo(_) => Some("install skopeo: apt-get install skopeo".to_owned()),
            Self::Failed {
                program: "podman",
                stderr,
                ..
            } if stderr.contains("setrlimit") => Some(
                "the host does not allow podman's default ulimits; rpack's containers.conf clears them, so check \
                 that CONTAINERS_CONF is not overridden"
                    .to_owned(),
            ),
            Self::Failed {
                program: "podman",
                stderr,
                ..
            } if stderr.contains("runc") || stderr.contains("OCI runtime") => {
                Some("rpack runs containers with runc and cgroupfs: apt-get install runc".to_owned())
            }
            _ => None,
        }
    }
}

impl PodmanError {
    /// [`PodmanError::Spawn`] of `engine`.
    #[must_use]
    pub fn spawn(engine: Engine, source: io::Error) -> Self {
        Self::Spawn { engine, source }
    }
}

impl Podman {
    /// Writes rpack's `containers.conf` into the store (when it changed) and returns a podman that uses it.
    ///
    /// # Errors
    /// When the config cannot be written.
    pub fn new(store: &Store) -> Result<Self, PodmanError> {
        let conf = store.home().join("podman").join("containers.conf");
        if fs_err::read_to_string(&conf).ok().as_deref() != Some(CONTAINERS_CONF) {
            let write_err = |source| PodmanError::WriteConf {
                path: conf.clone(),
                source,
            };
            if let Some(dir) = conf.parent() {
                fs_err::create_dir_all(dir).map_err(write_err)?;
            }
            write_atomic(&conf, CONTAINERS_CONF.as_bytes()).map_err(write_err)?;
        }
        Ok(Self {
            conf,
            engine: engine::selected(),
            tmp: store.tmp_dir(),
        })
    }

    /// The engine this runs containers with.
    #[must_use]
    pub(crate) fn engine(&self) -> Engine {
        self.engine
    }

    /// The path of rpack's containers.conf.
    #[must_use]
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// A `podman` command with rpack's settings.
    #[must_use]
    pub fn command(&self) -> Command {
        if self.engine == Engine::Docker {
            return Command::new("docker");
        }
        let mut cmd = Command::new("podman");
        cmd.env("CONTAINERS_CONF", &self.conf).args([
            "--runtime",
            "runc",
            "--cgroup-manager",
            "cgroupfs",
        ]);
        cmd
    }

    /// Runs the engine's CLI with `args` (podman's spelling), capturing its output.
    ///
    /// # Errors
    /// When podman cannot start or exits non-zero.
    pub(crate) fn output(&self, args: &[&str]) -> Result<Output, PodmanError> {
        let translated;
        let args = if self.engine == Engine::Docker {
            translated = engine::docker_args(args);
            &translated[..]
        } else {
            args
        };
        let output = self
            .command()
            .args(args)
            .output()
            .map_err(|source| PodmanError::spawn(self.engine, source))?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(PodmanError::Failed {
                program: self.engine.program(),
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    /// Whether podman's storage has an image with this id (config digest hex).
    #[must_use]
    pub(crate) fn has_image(&self, id: &str) -> bool {
        if self.engine == Engine::Docker {
            return self.docker_image_id(id).is_some();
        }
        self.command()
            .args(["image", "exists", id])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Makes the image of `layout` available to podman as `name`, importing it only when podman does not have
    /// this exact image yet (same config digest). Returns podman's image id.
    ///
    /// # Errors
    /// When the layout is unreadable or podman fails.
    pub fn ensure_image(
        &self,
        layout: &Layout,
        name: &ImageRef,
        ui: &Ui,
    ) -> Result<String, crate::build::Error> {
        let image = Image::load(layout.clone())?;
        let id = image.config_digest()?.hex().to_owned();
        if self.engine == Engine::Docker {
            return self.ensure_docker_image(layout, name, &id, ui);
        }
        if self.has_image(&id) {
            self.output(&["tag", &id, &name.to_string()])?;
        } else {
            let started = Instant::now();
            // skopeo names the destination itself; `podman pull oci:<path>` derives a name from the path, which
            // fails for paths like ~/.local (a component starting with a dot is not a valid reference).
            // skopeo's `oci:` transport splits its argument at the first colon, so a layout under a registry
            // name with a port (`127.0.0.1:5000/app`) is handed over through a link whose path has none.
            // Of a multi-platform image, skopeo is shown the one image of the platform wanted.
            let view = if layout.is_multi_platform() {
                let dir = self.temp_dir("platform-")?;
                let single = crate::oci::index::single_view(layout, &dir.path().join("oci"))?;
                Some((dir, single))
            } else {
                None
            };
            let layout = view.as_ref().map_or(layout, |(_, single)| single);
            let link = colon_free(layout.root()).map_err(PodmanError::LinkLayout)?;
            let path = link
                .as_ref()
                .map_or(layout.root(), |(_, path)| path.as_path());
            let source = format!("oci:{}", path.display());
            let dest = format!("containers-storage:{name}");
            skopeo_copy(&[], &source, &dest)?;
            ui.done(&format!("Imported {name} into podman"), started.elapsed());
        }
        Ok(id)
    }
}

impl Podman {
    /// A new temp dir named `prefix…` in rpack's temp dir (made when missing), removed when dropped.
    fn temp_dir(&self, prefix: &str) -> Result<tempfile::TempDir, PodmanError> {
        fs_err::create_dir_all(&self.tmp).map_err(PodmanError::LinkLayout)?;
        tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&self.tmp)
            .map_err(PodmanError::LinkLayout)
    }

    /// The id (config digest hex) a Docker daemon has for `image` (a name or id), if it has it.
    fn docker_image_id(&self, image: &str) -> Option<String> {
        let output = self
            .output(&["image", "inspect", "--format", "{{.Id}}", image])
            .ok()?;
        let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        Some(id.trim_start_matches("sha256:").to_owned()).filter(|id| !id.is_empty())
    }

    /// [`Self::ensure_image`] for a Docker daemon: skopeo loads the image (`docker-daemon:` transport, at
    /// `DOCKER_HOST` when set) unless the daemon has it under `name` already. Returns the daemon's image id.
    fn ensure_docker_image(
        &self,
        layout: &Layout,
        name: &ImageRef,
        id: &str,
        ui: &Ui,
    ) -> Result<String, crate::build::Error> {
        let tag = name.to_string();
        if self.docker_image_id(&tag).as_deref() == Some(id) {
            return Ok(id.to_owned());
        }
        let started = Instant::now();
        // skopeo converts to Docker's archive format only manifests whose layers are all of one family; the
        // lifecycle's layout export mixes them. The copy links the blobs and changes media type names only.
        let work = self.temp_dir("docker-load-")?;
        let uniform = crate::store::registry::with_uniform_media_types(
            layout,
            name.tag(),
            &work.path().join("oci"),
        )?;
        let source = format!("oci:{}", uniform.root().display());
        let dest = format!("docker-daemon:{tag}");
        let options = match std::env::var_os("DOCKER_HOST").filter(|h| !h.is_empty()) {
            Some(host) => vec!["--dest-daemon-host".into(), host],
            None => Vec::new(),
        };
        skopeo_copy(&options, &source, &dest)?;
        ui.done(&format!("Loaded {name} into Docker"), started.elapsed());
        // The daemon's id, which is what containers are started from.
        Ok(self.docker_image_id(&tag).unwrap_or_else(|| id.to_owned()))
    }
}

/// Copies the image at `source` to `dest` (skopeo transports) with `skopeo copy`, given `options` before the two.
fn skopeo_copy(options: &[OsString], source: &str, dest: &str) -> Result<(), PodmanError> {
    let output = Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .args(options)
        .args([source, dest])
        .output()
        .map_err(PodmanError::SpawnSkopeo)?;
    if !output.status.success() {
        return Err(PodmanError::Failed {
            program: "skopeo",
            args: format!("copy {source} {dest}"),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// A path to `dir` without `:` (a symlink in a new temp dir) when `dir`'s path has one; `None` when it has none.
/// The link lives as long as the returned temp dir.
fn colon_free(dir: &Path) -> io::Result<Option<(tempfile::TempDir, PathBuf)>> {
    if !dir.as_os_str().as_encoded_bytes().contains(&b':') {
        return Ok(None);
    }
    let tmp = tempfile::Builder::new().prefix("rpack-oci-").tempdir()?;
    let link = tmp.path().join("layout");
    if link.as_os_str().as_encoded_bytes().contains(&b':') {
        return Err(io::Error::other(format!(
            "the temp dir {} has ':' in its path too",
            tmp.path().display()
        )));
    }
    std::os::unix::fs::symlink(dir, &link)?;
    Ok(Some((tmp, link)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_engine_in_use() {
        let docker = Podman {
            conf: PathBuf::from("/nonexistent/containers.conf"),
            engine: Engine::Docker,
            tmp: std::env::temp_dir(),
        };
        // Whether or not a docker CLI is installed here, the failure is docker's.
        let error = docker
            .output(&["no-such-command-of-rpack"])
            .err()
            .unwrap_or_else(|| panic!("a made-up command must fail"));
        let message = error.to_string();
        assert!(
            message == "could not run docker"
                || message.starts_with("`docker no-such-command-of-rpack` failed"),
            "{message}"
        );
        assert!(!message.contains("podman"), "{message}");

        let missing = || io::Error::from(io::ErrorKind::NotFound);
        let spawn = PodmanError::spawn(Engine::Docker, missing());
        assert_eq!(spawn.to_string(), "could not run docker");
        assert!(spawn.hint().unwrap_or_default().contains("docker CLI"));
        let spawn = PodmanError::spawn(Engine::Podman, missing());
        assert_eq!(spawn.to_string(), "could not run podman");
        assert!(
            spawn
                .hint()
                .unwrap_or_default()
                .contains("apt-get install podman")
        );
    }

    #[test]
    fn a_layout_path_with_a_colon_is_reached_through_a_link_without_one() {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let plain = root.path().join("localhost/app/latest");
        assert!(
            colon_free(&plain)
                .unwrap_or_else(|e| panic!("{e}"))
                .is_none()
        );
        let with_port = root.path().join("127.0.0.1:5000/app/latest");
        std::fs::create_dir_all(&with_port).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(with_port.join("index.json"), "{}").unwrap_or_else(|e| panic!("{e}"));
        let (_tmp, link) = colon_free(&with_port)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("a link is needed"));
        assert!(!link.display().to_string().contains(':'));
        assert_eq!(
            std::fs::read_to_string(link.join("index.json")).unwrap_or_default(),
            "{}"
        );
    }
}
