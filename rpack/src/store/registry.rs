//! Moving images between rpack's store and an OCI distribution registry with skopeo: `rpack push`, `rpack pull`
//! and `rpack build --publish`.
//!
//! Pushes use Docker media types (`--format v2s2`), as the lifecycle and pack publish images; layer digests do
//! not change. skopeo asks the registry for every blob before uploading it, so a push uploads only the blobs the registry
//! does not have yet (and mounts blobs the same registry holds in another repository). TLS verification is
//! turned off only for registries on the loopback interface, or when the caller asks for it (`--insecure`).

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use libbuildpack::toolbox::file::FileError;

mod index;

pub use index::pull_all;

use crate::store::Error;
use crate::store::images::{ImagesError, existing_layout};
use oci_spec::image::MediaType;

use crate::oci::reference::ImageRef;
use crate::oci::{Digest, Image, ImageError, Layout, canonical_json};
use crate::store::Store;
use crate::toolbox::ui::Ui;

/// What failed while talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// skopeo is not installed or cannot start.
    #[error("could not run skopeo")]
    SpawnSkopeo(#[source] io::Error),
    /// skopeo could not copy the image.
    #[error("could not {action} {image}: {stderr}")]
    Copy {
        /// `push` or `pull`.
        action: &'static str,
        /// The remote reference.
        image: String,
        /// What skopeo printed.
        stderr: String,
    },
    /// The pulled image is not one rpack can store (no single image for this platform, say).
    #[error("{image} was pulled but rpack cannot read it")]
    Unreadable {
        /// The remote reference.
        image: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl RegistryError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::SpawnSkopeo(_) => Some("install skopeo: apt-get install skopeo".to_owned()),
            Self::Copy { stderr, .. }
                if stderr.contains("server gave HTTP response to HTTPS client")
                    || stderr.contains("certificate") =>
            {
                Some(
                    "the registry does not speak TLS (or its certificate is not trusted): pass --insecure if you \
                     trust the network to it"
                        .to_owned(),
                )
            }
            Self::Copy { stderr, .. }
                if stderr.contains("unauthorized") || stderr.contains("authentication required") =>
            {
                Some("log in first: skopeo login <registry> (rpack uses skopeo's and docker's credentials)".to_owned())
            }
            Self::Copy { stderr, .. }
                if stderr.contains("manifest unknown") || stderr.contains("not found") =>
            {
                Some("check the reference: the registry has no image with that name and tag".to_owned())
            }
            Self::Copy { stderr, .. } if stderr.contains("connection refused") => {
                Some("nothing listens at that registry address; is the registry running?".to_owned())
            }
            Self::Copy { action, stderr, .. } if is_broken_connection(stderr) => Some(format!(
                "the connection to the registry broke during the {action}; nothing changed: the registry's tag \
                 moves only when a push completes, and a pull replaces the stored image only when it is whole. \
                 Run the same command again; blobs that already made it are not sent again"
            )),
            _ => None,
        }
    }
}

/// Whether skopeo's message says the connection dropped mid-transfer.
fn is_broken_connection(stderr: &str) -> bool {
    [
        "connection reset",
        "broken pipe",
        "use of closed network connection",
        "unexpected EOF",
        ": EOF",
    ]
    .iter()
    .any(|marker| stderr.contains(marker))
}

crate::toolbox::file_error::io_err!(RegistryError);

/// Whether `registry` (`host` or `host:port`) is on the loopback interface, where TLS is not expected.
#[must_use]
pub(crate) fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, _)| h)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How to reach a registry.
#[derive(Clone, Copy, Debug, Default)]
pub struct Access {
    /// Skip TLS verification (and allow plain HTTP) even for registries not on loopback.
    pub insecure: bool,
}

impl Access {
    fn tls_verify(self, image: &ImageRef) -> bool {
        !(self.insecure || is_loopback(image.registry()))
    }
}

/// A finished push.
#[derive(Clone, Debug)]
pub struct Pushed {
    /// Where it went.
    pub remote: ImageRef,
    /// The manifest digest the registry now serves for it.
    pub digest: Digest,
    /// How long it took.
    pub elapsed: Duration,
}

/// `skopeo` with the policy the machine has, or accepting anything when the machine has none (skopeo refuses
/// to run without one).
fn skopeo() -> Command {
    let mut cmd = Command::new("skopeo");
    let user_policy = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".config/containers/policy.json"))
        .is_some_and(|p| p.is_file());
    if !user_policy && !Path::new("/etc/containers/policy.json").is_file() {
        cmd.arg("--insecure-policy");
    }
    cmd
}

fn run_copy(mut cmd: Command, action: &'static str, image: &ImageRef) -> Result<(), RegistryError> {
    let output = cmd.output().map_err(RegistryError::SpawnSkopeo)?;
    if output.status.success() {
        Ok(())
    } else {
        Err(RegistryError::Copy {
            action,
            image: image.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// Pushes `image` from the store to `remote` (default: the same reference). Only blobs the registry lacks are
/// uploaded. The image is locked while it is read, so a build cannot replace it halfway through.
///
/// # Errors
/// When the image is not in the store, skopeo is missing, or the registry refuses the image.
pub fn push(
    store: &Store,
    image: &ImageRef,
    remote: Option<&ImageRef>,
    access: Access,
    ui: &Ui,
) -> Result<Pushed, Error> {
    let remote = remote.unwrap_or(image);
    let _lock = store.lock(&image.to_string())?;
    let layout = existing_layout(store, image)?;
    if layout.is_multi_platform() {
        return index::push_index(store, image, &layout, remote, access, ui);
    }
    push_layout(store, image, &layout, remote, access, ui)
}

/// [`push`] of the one image of `platform`, even when the store holds the name for several platforms: a
/// single-platform builder's run image, published with Docker media types as pack and the lifecycle expect
/// (an index goes out with OCI types, and a later `pack rebase` would mix them into one manifest).
///
/// # Errors
/// As [`push`].
pub(crate) fn push_platform(
    store: &Store,
    image: &ImageRef,
    platform: &crate::oci::Platform,
    remote: &ImageRef,
    access: Access,
    ui: &Ui,
) -> Result<Pushed, Error> {
    let _lock = store.lock(&image.to_string())?;
    let layout = existing_layout(store, image)?.for_platform(platform.clone());
    push_layout(store, image, &layout, remote, access, ui)
}

fn push_layout(
    store: &Store,
    image: &ImageRef,
    layout: &Layout,
    remote: &ImageRef,
    access: Access,
    ui: &Ui,
) -> Result<Pushed, Error> {
    let started = Instant::now();
    ui.section(&format!("Pushing {image} to {remote}"));
    let work = store.scratch_dir("push-")?;
    let digest_file = work.path().join("digest");
    let normalized = with_uniform_media_types(layout, image.tag(), &work.path().join("layout"))?;
    // Docker media types throughout, as the lifecycle and pack publish: a registry copy that a lifecycle later
    // rewrites (rebase) would otherwise mix OCI layer types into a Docker manifest, which skopeo cannot read.
    // Layers are not recompressed, so their digests stay the same.
    let digest = copy_to_registry(
        &normalized,
        remote,
        access,
        &["--format", "v2s2"],
        &digest_file,
    )?;
    Ok(pushed(remote, digest, "", started, ui))
}

/// Copies the layout `staged` to `remote` with skopeo, with the `media_types` options (the types to send), and
/// returns the manifest digest of what was pushed (which skopeo writes to `digest_file`).
fn copy_to_registry(
    staged: &Layout,
    remote: &ImageRef,
    access: Access,
    media_types: &[&str],
    digest_file: &Path,
) -> Result<Digest, Error> {
    let mut cmd = skopeo();
    cmd.args(["copy", "--quiet"])
        .args(media_types)
        .arg("--digestfile")
        .arg(digest_file)
        .arg(format!("--dest-tls-verify={}", access.tls_verify(remote)))
        .arg(format!("oci:{}", staged.root().display()))
        .arg(format!("docker://{remote}"));
    run_copy(cmd, "push", remote)?;
    pushed_digest(digest_file, remote)
}

/// Says that `remote` was pushed as `digest` (with a `detail` such as how many platforms), and the push.
fn pushed(remote: &ImageRef, digest: Digest, detail: &str, started: Instant, ui: &Ui) -> Pushed {
    ui.done(
        &format!("Pushed {remote}@{digest}{detail}"),
        started.elapsed(),
    );
    Pushed {
        remote: remote.clone(),
        digest,
        elapsed: started.elapsed(),
    }
}

/// The manifest digest skopeo wrote to `digest_file` after pushing `remote`.
fn pushed_digest(digest_file: &Path, remote: &ImageRef) -> Result<Digest, Error> {
    let text = fs_err::read_to_string(digest_file).map_err(io_err("read", digest_file))?;
    Ok(text.trim().parse().map_err(|e| RegistryError::Copy {
        action: "push",
        image: remote.to_string(),
        stderr: format!("skopeo wrote no manifest digest ({e})"),
    })?)
}

/// The manifest digest of the image skopeo pulled from `remote`.
fn pulled_digest(loaded: &Image, remote: &ImageRef) -> Result<Digest, RegistryError> {
    loaded
        .manifest_digest()
        .cloned()
        .ok_or_else(|| RegistryError::Copy {
            action: "pull",
            image: remote.to_string(),
            stderr: "no manifest was written".to_owned(),
        })
}

/// Puts the pulled layout `staged` in the store as `image`, replacing what was there (under the image's lock).
fn install_pulled(store: &Store, image: &ImageRef, staged: &Path) -> Result<(), Error> {
    let _lock = store.lock(&image.to_string())?;
    let current = store.image_layout(image);
    crate::store::replace_dir(staged, current.root())
        .map_err(io_err("move into place", current.root()))?;
    Ok(())
}

/// `linux/amd64, linux/arm64`, for messages.
fn platform_list(platforms: &[crate::oci::Platform]) -> String {
    platforms
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A copy of the image in `layout` (blobs linked, not copied) whose manifest uses OCI media types only.
///
/// The lifecycle writes Docker layer types into the OCI manifest of a layout export, next to the run image's
/// layers, which may be OCI types. skopeo cannot convert such a mixed manifest to Docker types, and a lifecycle
/// that rewrites the pushed image (rebase) would write a Docker manifest with OCI layer types no skopeo can
/// read. Media type names are all that change: blobs, and so layer digests, stay the same.
pub(crate) fn with_uniform_media_types(
    layout: &Layout,
    tag: &str,
    dest: &Path,
) -> Result<Layout, Error> {
    let image = Image::load(layout.clone())?;
    let manifest_digest =
        image
            .manifest_digest()
            .cloned()
            .ok_or_else(|| ImagesError::NotFound {
                image: tag.to_owned(),
                path: layout.root().to_owned(),
            })?;
    let manifest_size = layout.image_descriptor()?.size();
    let mut manifest = layout.read_manifest(&manifest_digest, manifest_size)?;
    let staged = Layout::create(dest)?;
    let mut layers = manifest.layers().clone();
    for layer in &mut layers {
        let digest = crate::oci::to_digest(layout, layer.digest())?;
        staged.import_blob(layout, &digest)?;
        let oci = match layer.media_type().to_string().as_str() {
            "application/vnd.docker.image.rootfs.diff.tar.gzip" => Some(MediaType::ImageLayerGzip),
            "application/vnd.docker.image.rootfs.diff.tar" => Some(MediaType::ImageLayer),
            _ => None,
        };
        if let Some(oci) = oci {
            layer.set_media_type(oci);
        }
    }
    manifest.set_layers(layers);
    let config_digest = image.config_digest()?;
    staged.import_blob(layout, &config_digest)?;
    let mut config = manifest.config().clone();
    config.set_media_type(MediaType::ImageConfig);
    manifest.set_config(config);
    manifest.set_media_type(Some(MediaType::ImageManifest));
    let bytes = canonical_json(&manifest).map_err(ImageError::Serialize)?;
    let mut descriptor = staged.write_blob(MediaType::ImageManifest, &bytes)?;
    descriptor.set_annotations(Some(std::collections::HashMap::from([(
        "org.opencontainers.image.ref.name".to_owned(),
        tag.to_owned(),
    )])));
    staged.write_index(&descriptor)?;
    Ok(staged)
}

/// A finished pull.
#[derive(Clone, Debug)]
pub struct Pulled {
    /// The name it has in the store.
    pub image: ImageRef,
    /// Its manifest digest.
    pub digest: Digest,
    /// How long it took.
    pub elapsed: Duration,
}

/// Pulls `remote` into the store as `image` (default: the same reference). Blobs the store already has for
/// that image are not downloaded again. The pull goes into a staging layout that replaces the image only when
/// it is complete and readable; for a multi-platform image, the host's platform is taken.
///
/// # Errors
/// When skopeo is missing, the registry does not have the image, or it is not an image rpack can read.
pub fn pull(
    store: &Store,
    remote: &ImageRef,
    image: Option<&ImageRef>,
    access: Access,
    ui: &Ui,
) -> Result<Pulled, Error> {
    let image = image.unwrap_or(remote);
    let staging = PullStaging::start(store, &format!("Pulling {remote} as {image}"), ui)?;
    let staged = staging.layout.root().to_owned();
    // Blobs the current image has are linked in, and skopeo does not fetch them again.
    let current = store.image_layout(image);
    if let Ok(entries) = fs_err::read_dir(current.blobs_dir()) {
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            if !name.to_string_lossy().starts_with('.') {
                let _ = std::fs::hard_link(entry.path(), staging.layout.blobs_dir().join(&name));
            }
        }
    }
    staging.copy_from(remote, image, access, false)?;
    // Errors name the image pulled, not the staging dir.
    let shown = std::path::PathBuf::from(remote.to_string());
    let loaded = Image::load(Layout::of_archive(&staged, &shown)).map_err(|e| {
        RegistryError::Unreadable {
            image: remote.to_string(),
            source: Box::new(e.into()),
        }
    })?;
    // skopeo checked each blob against its digest; the config's diff ids are checked here, for the layers the
    // image in the store did not already have with the same diff id.
    let known = crate::oci::known_layers(&current);
    crate::oci::verify_layers(&loaded, |layer, diff_id| {
        known.contains(&(layer.digest().to_string(), diff_id.to_owned()))
    })
    .map_err(|e| RegistryError::Unreadable {
        image: remote.to_string(),
        source: Box::new(e.into()),
    })?;
    let digest = pulled_digest(&loaded, remote)?;
    let what = digest.short().to_owned();
    staging.finish(store, (remote, image), digest, &what, ui)
}

/// A pull under way: when it started, and the staging layout skopeo copies into (in a scratch dir removed
/// when the pull ends).
struct PullStaging {
    started: Instant,
    layout: Layout,
    _work: crate::store::ScratchDir,
}

impl PullStaging {
    /// Starts a pull: says `what` it pulls and makes the staging layout.
    fn start(store: &Store, what: &str, ui: &Ui) -> Result<Self, Error> {
        let started = Instant::now();
        ui.section(what);
        let work = store.scratch_dir("pull-")?;
        let layout = Layout::create(work.path().join("layout"))?;
        Ok(Self {
            started,
            layout,
            _work: work,
        })
    }

    /// Copies `remote` into the staging layout under `image`'s tag, as the registry serves it (no conversion to
    /// OCI types), so the stored image has the registry's manifest and config digests: of an index, with
    /// `all_platforms` every platform's image, else the host's.
    fn copy_from(
        &self,
        remote: &ImageRef,
        image: &ImageRef,
        access: Access,
        all_platforms: bool,
    ) -> Result<(), RegistryError> {
        let mut cmd = skopeo();
        cmd.args(["copy", "--quiet"]);
        if all_platforms {
            cmd.args(["--multi-arch", "all"]);
        }
        cmd.arg("--preserve-digests")
            .arg(format!("--src-tls-verify={}", access.tls_verify(remote)))
            .arg(format!("docker://{remote}"))
            .arg(format!(
                "oci:{}:{}",
                self.layout.root().display(),
                image.tag()
            ));
        run_copy(cmd, "pull", remote)
    }

    /// Puts the pulled layout in the store as `image` and says so, with `what` it holds (its digest, its
    /// platforms).
    fn finish(
        self,
        store: &Store,
        (remote, image): (&ImageRef, &ImageRef),
        digest: Digest,
        what: &str,
        ui: &Ui,
    ) -> Result<Pulled, Error> {
        install_pulled(store, image, self.layout.root())?;
        ui.done(
            &format!("Pulled {remote} as {image} ({what})"),
            self.started.elapsed(),
        );
        Ok(Pulled {
            image: image.clone(),
            digest,
            elapsed: self.started.elapsed(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_recognised() {
        for host in [
            "127.0.0.1:5000",
            "localhost",
            "localhost:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "index.docker.io",
            "10.0.0.1:5000",
            "ghcr.io",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
