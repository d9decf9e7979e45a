//! Running an app image from the store with podman (host network), in the foreground or as a container that
//! tests can talk to and that is removed when dropped.

use std::process::{Command, ExitStatus};

use crate::Error;
use crate::podman::{Podman, PodmanError};
use crate::reference::ImageRef;
use crate::store::Store;
use crate::ui::Ui;

/// How to run an image.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Env vars for the app.
    pub env: Vec<(String, String)>,
    /// A process type other than the default (`/cnb/process/<type>`).
    pub process: Option<String>,
    /// Arguments replacing the process's default args.
    pub args: Vec<String>,
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

/// Runs `image` in the foreground, its output going straight to the terminal, until it exits.
///
/// # Errors
/// When the image is not in the store or podman fails to start.
pub fn run(
    store: &Store,
    image: &ImageRef,
    options: &RunOptions,
    ui: &Ui,
) -> Result<ExitStatus, Error> {
    let status = foreground_command(store, image, options, ui)?
        .status()
        .map_err(PodmanError::Spawn)?;
    Ok(status)
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
    let id = podman.ensure_image(&store.image_layout(image), image, ui)?;
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
    let id = podman.ensure_image(&store.image_layout(image), image, ui)?;
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

impl Container {
    /// The container name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

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
