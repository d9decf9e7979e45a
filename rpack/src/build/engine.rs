//! Which container engine rpack runs build and app containers with: podman (the default, no daemon), or a
//! Docker Engine through the `docker` CLI (a real Docker daemon, or podman's Docker-compatible service).
//!
//! The engine is chosen by `rpack --engine` ([`select`]), else `RPACK_ENGINE` (`podman` or `docker`), else
//! Docker when `DOCKER_HOST` is set and the `docker` CLI is installed, else podman.

use std::sync::OnceLock;

/// The env var that names the engine.
pub(crate) const ENGINE_ENV: &str = "RPACK_ENGINE";

/// A container engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// podman, with rpack's settings (see [`crate::build::podman`]).
    Podman,
    /// A Docker Engine API (`DOCKER_HOST`, or Docker's default socket) through the `docker` CLI.
    Docker,
}

impl Engine {
    /// The CLI that talks to it.
    #[must_use]
    pub fn program(self) -> &'static str {
        match self {
            Self::Podman => "podman",
            Self::Docker => "docker",
        }
    }

    /// `podman` or `docker`, as `RPACK_ENGINE` and `--engine` spell them.
    #[must_use]
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "podman" => Some(Self::Podman),
            "docker" => Some(Self::Docker),
            _ => None,
        }
    }
}

impl std::fmt::Display for Engine {
    /// The engine's CLI name: `podman` or `docker`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.program())
    }
}

static SELECTED: OnceLock<Engine> = OnceLock::new();

/// Makes `engine` the one every later container of this process runs on (the CLI's `--engine`). The first
/// call wins.
pub fn select(engine: Engine) {
    let _ = SELECTED.set(engine);
}

/// The engine for this process: the one [`select`]ed, else the one the environment names (see the module
/// docs).
#[must_use]
pub fn selected() -> Engine {
    if let Some(engine) = SELECTED.get() {
        return *engine;
    }
    from_env(
        std::env::var(ENGINE_ENV).ok().as_deref(),
        std::env::var_os("DOCKER_HOST").is_some_and(|h| !h.is_empty()),
        docker_cli_installed,
    )
}

fn from_env(named: Option<&str>, docker_host: bool, docker_cli: impl Fn() -> bool) -> Engine {
    if let Some(engine) = named.and_then(Engine::parse) {
        return engine;
    }
    if docker_host && docker_cli() {
        Engine::Docker
    } else {
        Engine::Podman
    }
}

fn docker_cli_installed() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("docker").is_file()))
}

/// `args` of a podman command as the docker CLI takes them: docker's `rm` has no `--time` (it stops with
/// SIGKILL at once) and no `--ignore` (callers ignore its result where podman was told to).
#[must_use]
pub(crate) fn docker_args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    if args.first() != Some(&"rm") {
        return args.to_vec();
    }
    let mut out = Vec::with_capacity(args.len());
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--time" => {
                rest.next();
            }
            "--ignore" => {}
            _ if arg.starts_with("--time=") => {}
            _ => out.push(*arg),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_comes_from_its_name_else_from_docker_host_with_the_cli() {
        assert_eq!(from_env(Some("docker"), false, || false), Engine::Docker);
        assert_eq!(from_env(Some("Podman"), true, || true), Engine::Podman);
        assert_eq!(from_env(None, true, || true), Engine::Docker);
        assert_eq!(from_env(None, true, || false), Engine::Podman);
        assert_eq!(from_env(None, false, || true), Engine::Podman);
        assert_eq!(from_env(Some("lxc"), false, || true), Engine::Podman);
    }

    #[test]
    fn podman_only_flags_of_rm_are_dropped_for_docker() {
        assert_eq!(
            docker_args(&["rm", "--force", "--time", "0", "abc"]),
            ["rm", "--force", "abc"]
        );
        assert_eq!(
            docker_args(&["rm", "--force", "--ignore", "name"]),
            ["rm", "--force", "name"]
        );
        assert_eq!(docker_args(&["ps", "--time", "1"]), ["ps", "--time", "1"]);
    }
}
