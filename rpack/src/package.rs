//! Turning a buildpack source into a buildpack dir the lifecycle can run: a dir that already has `bin/build`
//! is used as it is; a Rust crate with a `buildpack.toml` is compiled as a static musl binary and laid out as
//! `buildpack.toml`, `bin/build` and `bin/detect` (a link to the same binary: libbuildpack dispatches on argv0).

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use libbuildpack::data::{BuildpackDescriptor, TomlFileError};

use crate::ui::Ui;

/// The target buildpack binaries are built for: static, so they run on any Linux base image.
pub const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// A buildpack dir ready to be put into an image.
#[derive(Clone, Debug)]
pub struct BuildpackDir {
    /// The dir with `buildpack.toml` and `bin/`.
    pub dir: PathBuf,
    /// Its parsed `buildpack.toml`.
    pub descriptor: BuildpackDescriptor,
}

/// What failed while preparing a buildpack.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// `buildpack.toml` is missing or invalid.
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
    /// The build failed.
    #[error("cargo build of {manifest} failed:\n{output}")]
    Build {
        /// The crate's Cargo.toml.
        manifest: PathBuf,
        /// The tail of cargo's output.
        output: String,
        /// Whether the musl target is missing.
        missing_target: bool,
    },
    /// A file operation failed.
    #[error("could not {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
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
            Self::NothingToRun { .. } => Some(
                "point at a buildpack dir with bin/build, or at the Rust crate that builds it"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> PackageError + 'a {
    move |source| PackageError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Prepares the buildpack at `src`; crates are built and assembled under `work`.
///
/// # Errors
/// When `buildpack.toml` is invalid, the crate does not build, or files cannot be written.
pub fn prepare(src: &Path, work: &Path, ui: &Ui) -> Result<BuildpackDir, PackageError> {
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
    let binary = build_crate(&manifest, ui)?;
    let dir = work.join(descriptor.buildpack.id.escaped());
    if dir.exists() {
        fs_err::remove_dir_all(&dir).map_err(io_err("clean", &dir))?;
    }
    let bin = dir.join("bin");
    fs_err::create_dir_all(&bin).map_err(io_err("create", &bin))?;
    fs_err::copy(src.join("buildpack.toml"), dir.join("buildpack.toml"))
        .map_err(io_err("copy", src))?;
    fs_err::copy(&binary, bin.join("build")).map_err(io_err("copy", &binary))?;
    std::os::unix::fs::symlink("build", bin.join("detect")).map_err(io_err("link", &bin))?;
    ui.done(
        &format!(
            "Built {} {} ({MUSL_TARGET})",
            descriptor.buildpack.id.as_str(),
            descriptor.buildpack.version
        ),
        started.elapsed(),
    );
    Ok(BuildpackDir { dir, descriptor })
}

/// `cargo build --release --target x86_64-unknown-linux-musl` of the crate's one binary; returns its path.
fn build_crate(manifest: &Path, ui: &Ui) -> Result<PathBuf, PackageError> {
    let (name, target_dir) = crate_binary(manifest)?;
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args([
        "build",
        "--release",
        "--quiet",
        "--target",
        MUSL_TARGET,
        "--bin",
        &name,
        "--manifest-path",
    ])
    .arg(manifest);
    let finished = ui.run_streamed(&mut cmd).map_err(PackageError::Spawn)?;
    if !finished.status.success() {
        let output = finished.tail_text();
        let missing_target = output.contains("target may not be installed")
            || output.contains("can't find crate for `core`");
        return Err(PackageError::Build {
            manifest: manifest.to_owned(),
            output,
            missing_target,
        });
    }
    Ok(target_dir.join(MUSL_TARGET).join("release").join(name))
}

/// The crate's binary name and the target dir cargo uses for it.
fn crate_binary(manifest: &Path) -> Result<(String, PathBuf), PackageError> {
    let metadata_err = |why: String| PackageError::Metadata {
        manifest: manifest.to_owned(),
        why,
    };
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .map_err(PackageError::Spawn)?;
    if !output.status.success() {
        return Err(metadata_err(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| metadata_err(format!("unreadable output: {e}")))?;
    let wanted = fs_err::canonicalize(manifest).map_err(io_err("resolve", manifest))?;
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| Path::new(m) == wanted)
        })
        .ok_or_else(|| metadata_err("cargo metadata does not list it".to_owned()))?;
    let bins: Vec<&str> = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str())
        .collect();
    let [name] = bins.as_slice() else {
        return Err(metadata_err(format!(
            "expected exactly one binary target, found {}",
            bins.len()
        )));
    };
    let target_dir = metadata["target_directory"]
        .as_str()
        .ok_or_else(|| metadata_err("no target_directory".to_owned()))?;
    Ok(((*name).to_owned(), PathBuf::from(target_dir)))
}
