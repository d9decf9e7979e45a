//! Running an app image from the store with podman (host network), in the foreground or as a container that
//! tests can talk to and that is removed when dropped.

use std::process::Command;

use crate::build::Error;
use crate::build::podman::Podman;
use crate::oci::reference::ImageRef;
use crate::store::Store;
use crate::toolbox::ui::Ui;

/// How to run an image.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Env vars for the app.
    pub env: Vec<(String, String)>,
    /// A process type other than the default (`/cnb/process/<type>`).
    pub process: Option<String>,
    /// Arguments replacing the process's default args.
    pub args: Vec<String>,
    /// Of an image with several platforms, the one to run (another architecture than the host's runs under
    /// emulation); `None`: the host's, or the image's only one.
    pub platform: Option<crate::oci::Platform>,
}

/// The layout of `image` in the store, for the platform `options` name.
fn scoped(store: &Store, image: &ImageRef, options: &RunOptions) -> crate::oci::Layout {
    store.image_layout(image).scoped(options.platform.as_ref())
}

/// A running app container; stopped and removed on drop.
#[derive(Debug)]
pub struct Container {
    podman: Podman,
    name: String,
}

fn podman_args(image_id: &str, name: &str, options: &RunOptions) -> Vec<String> {
    // --init: a small init (catatonit) is PID 1 and passes signals on, so SIGTERM stops the app; an app running
    // as PID 1 itself would ignore it.
    let mut args: Vec<String> = [
        "--name",
        name,
        "--init",
        "--network",
        "host",
        "--security-opt",
        "label=disable",
    ]
    .map(str::to_owned)
    .to_vec();
    for (key, value) in &options.env {
        args.push("--env".to_owned());
        args.push(format!("{key}={value}"));
    }
    if let Some(process) = &options.process {
        args.push("--entrypoint".to_owned());
        args.push(format!("/cnb/process/{process}"));
    }
    args.push(image_id.to_owned());
    args.extend(options.args.iter().cloned());
    args
}

/// The `podman run --rm` command that runs `image` in the foreground, after importing the image into podman
/// when podman does not have it. The CLI replaces itself with this command, so Ctrl-C and SIGTERM reach podman
/// (and stop the container) instead of stopping only rpack.
///
/// # Errors
/// When the image is not in the store or cannot be imported.
pub fn foreground_command(
    store: &Store,
    image: &ImageRef,
    options: &RunOptions,
    ui: &Ui,
) -> Result<Command, Error> {
    let podman = Podman::new(store)?;
    let id = podman.ensure_image(&scoped(store, image, options), image, ui)?;
    let name = format!("rpack-run-{}", std::process::id());
    ui.section(&format!("Running {image}"));
    let mut command = podman.command();
    command
        .args(["run", "--rm", "--interactive=false"])
        .args(podman_args(&id, &name, options));
    Ok(command)
}

/// Starts `image` in the background as container `name`.
///
/// # Errors
/// When the image is not in the store or podman fails to start it.
pub fn start(
    store: &Store,
    image: &ImageRef,
    name: &str,
    options: &RunOptions,
    ui: &Ui,
) -> Result<Container, Error> {
    let podman = Podman::new(store)?;
    let id = podman.ensure_image(&scoped(store, image, options), image, ui)?;
    // A container left by an earlier, killed run would block the name.
    let _ = podman.output(&["rm", "--force", "--ignore", name]);
    let mut args = vec!["run".to_owned(), "--detach".to_owned()];
    args.extend(podman_args(&id, name, options));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    podman.output(&args)?;
    Ok(Container {
        podman,
        name: name.to_owned(),
    })
}

/// What failed while managing the containers `rpack run --detach` started.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `rpack stop` was given a name `rpack run --detach` did not start.
    #[error("{name} is not a container `rpack run --detach` started")]
    NotDetached {
        /// The name given.
        name: String,
        /// The containers it did start.
        detached: Vec<String>,
    },
}

impl RunError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotDetached { detached, .. } if detached.is_empty() => {
                Some("no container of `rpack run --detach` exists".to_owned())
            }
            Self::NotDetached { detached, .. } => Some(format!(
                "give one of: {} (or --all for every one)",
                detached.join(", ")
            )),
        }
    }
}

/// The label on the containers [`detach`] starts, by which [`detached`] and [`stop`] find them.
pub(crate) const DETACHED_LABEL: &str = "io.rpack.run.detached";

/// A container [`detach`] started: it runs until [`stop`] (`rpack stop NAME`) or
/// `podman rm --force NAME` removes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detached {
    /// The container name, `rpack-<image name>-<n>`.
    pub name: String,
    /// podman's container id.
    pub id: String,
}

/// `rpack-<last part of the image's repository>-<suffix>`.
fn detached_name(image: &ImageRef) -> String {
    let repo = image.to_string();
    let repo = repo.rsplit_once(':').map_or(repo.as_str(), |(r, _)| r);
    let base: String = repo
        .rsplit('/')
        .next()
        .unwrap_or("app")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "rpack-{}-{:x}{:05x}",
        base.trim_matches('-'),
        std::process::id(),
        nanos & 0xf_ffff
    )
}

/// Starts `image` in the background (`rpack run --detach`) and returns its name and id. Unlike [`start`]'s
/// [`Container`], it keeps running when rpack exits.
///
/// # Errors
/// When the image is not in the store or podman fails to start it.
pub fn detach(
    store: &Store,
    image: &ImageRef,
    options: &RunOptions,
    ui: &Ui,
) -> Result<Detached, Error> {
    let podman = Podman::new(store)?;
    let id = podman.ensure_image(&scoped(store, image, options), image, ui)?;
    let name = detached_name(image);
    let label = format!("{DETACHED_LABEL}={image}");
    let mut args = vec![
        "run".to_owned(),
        "--detach".to_owned(),
        "--label".to_owned(),
        label,
    ];
    args.extend(podman_args(&id, &name, options));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = podman.output(&args)?;
    Ok(Detached {
        id: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        name,
    })
}

/// The names of the containers [`detach`] started that still exist (running or exited).
///
/// # Errors
/// When podman fails.
pub fn detached(store: &Store) -> Result<Vec<String>, Error> {
    let podman = Podman::new(store)?;
    let filter = format!("label={DETACHED_LABEL}");
    let output = podman.output(&["ps", "--all", "--filter", &filter, "--format", "{{.Names}}"])?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Stops and removes containers [`detach`] started: `names`, or every one when `names` is empty. Returns the
/// names removed.
///
/// # Errors
/// When podman fails, or a name is not a container `rpack run --detach` started.
pub fn stop(store: &Store, names: &[String]) -> Result<Vec<String>, Error> {
    let ours = detached(store)?;
    let podman = Podman::new(store)?;
    let wanted: Vec<String> = if names.is_empty() {
        ours
    } else {
        if let Some(name) = names.iter().find(|name| !ours.contains(name)) {
            return Err(RunError::NotDetached {
                name: name.clone(),
                detached: ours,
            }
            .into());
        }
        names.to_vec()
    };
    for name in &wanted {
        podman.output(&["rm", "--force", "--time", "2", name])?;
    }
    Ok(wanted)
}

impl Container {
    /// Everything the app has printed so far (stdout and stderr).
    ///
    /// # Errors
    /// When podman fails.
    pub fn logs(&self) -> Result<String, Error> {
        let output = self.podman.output(&["logs", &self.name])?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr))
    }

    /// Whether the container is still running.
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.podman
            .output(&["inspect", "--format", "{{.State.Running}}", &self.name])
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
    }

    /// Waits for the container to exit and returns its exit code.
    ///
    /// # Errors
    /// When podman fails.
    pub fn wait(&self) -> Result<i32, Error> {
        let output = self.podman.output(&["wait", &self.name])?;
        Ok(String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap_or(-1))
    }

    /// Runs a command in the container (through the launcher, so the app's env is set) and returns its output.
    ///
    /// # Errors
    /// When podman fails or the command exits non-zero.
    pub fn exec(&self, command: &[&str]) -> Result<String, Error> {
        let mut args = vec!["exec", &self.name, "/cnb/lifecycle/launcher", "--"];
        args.extend_from_slice(command);
        let output = self.podman.output(&args)?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self
            .podman
            .output(&["rm", "--force", "--time", "2", &self.name]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_names_say_rpack_and_the_image() {
        let image: ImageRef = "localhost/firsthour-test/models:latest".parse().unwrap();
        let name = detached_name(&image);
        assert!(name.starts_with("rpack-models-"), "{name}");
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{name}"
        );
    }
}
