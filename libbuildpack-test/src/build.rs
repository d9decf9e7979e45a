//! A finished test build: its output, its image, and what a test can do next (rebuild, start).

use std::fmt;

use libbuildpack::data::labels::{LifecycleMetadata, PlatformLabel};
use rpack::build::platform::{BuildOptions, Built};
use rpack::build::run::{self, RunOptions};
use rpack::oci::reference::ImageRef;
use rpack::oci::{Digest, Image};
use rpack::toolbox::ui::Ui;

use crate::container::{ContainerConfig, TestContainer};
use crate::error::TestError;
use crate::runner::{BuildConfig, Outcome, TestRunner};

/// The result of [`TestRunner::build`].
pub struct TestBuild {
    runner: &'static TestRunner,
    config: BuildConfig,
    options: BuildOptions,
    built: Option<Built>,
    /// The image as this build wrote it: a later rebuild replaces the image in the store, and a test comparing
    /// the two builds must see each one's own.
    image: Option<Image>,
    output: String,
}

impl fmt::Debug for TestBuild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestBuild")
            .field("image", &self.options.image)
            .field("passed", &self.passed())
            .finish_non_exhaustive()
    }
}

impl TestBuild {
    pub(crate) fn new(
        runner: &'static TestRunner,
        config: BuildConfig,
        options: BuildOptions,
        built: Option<Built>,
        output: String,
    ) -> Self {
        let image = built
            .as_ref()
            .and_then(|b| Image::load(b.layout.clone()).ok());
        Self {
            runner,
            config,
            options,
            built,
            image,
            output,
        }
    }

    /// Everything the build printed: rpack's steps, the lifecycle and the buildpacks (and the error, for a build
    /// that failed as expected).
    #[must_use]
    pub fn stdout(&self) -> &str {
        &self.output
    }

    /// The lifecycle's part of the output (from rpack's "Building" section on) with volatile parts redacted
    /// ([`crate::redact`]): what snapshot tests compare.
    #[must_use]
    pub fn build_log(&self) -> String {
        let start = self.output.find("## Building").unwrap_or(0);
        crate::redact(&self.output[start..])
    }

    /// The buildpacks of the group that passed detection, as `(id, version)`, from the list the lifecycle
    /// prints after `===> DETECTING` (its columns are padded to the longest id).
    #[must_use]
    pub fn participating(&self) -> Vec<(String, String)> {
        participating(&self.output)
    }

    /// Whether the buildpack `id` was in the group that passed detection (any version).
    #[must_use]
    pub fn participated(&self, id: &str) -> bool {
        self.participating().iter().any(|(found, _)| found == id)
    }

    /// The app image's name in rpack's store (`rpack images` lists it): the one given to
    /// [`BuildConfig::image`], or one named after the test.
    #[must_use]
    pub fn image_ref(&self) -> &ImageRef {
        &self.options.image
    }

    /// Whether the build passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.built.is_some()
    }

    /// The app image's manifest digest.
    #[must_use]
    pub fn digest(&self) -> Option<&Digest> {
        self.built.as_ref().map(|b| &b.digest)
    }

    fn built(&self) -> Result<&Built, TestError> {
        self.built.as_ref().ok_or_else(|| TestError::NoImage {
            log: self.output.clone(),
        })
    }

    /// The app image as written.
    ///
    /// # Errors
    /// When the build failed or the image cannot be read.
    pub fn image(&self) -> Result<Image, TestError> {
        self.built()?;
        self.image
            .clone()
            .ok_or_else(|| TestError::UnreadableImage {
                log: self.output.clone(),
            })
    }

    /// The digest of a buildpack's layer in the image, from the lifecycle's metadata label
    /// (`io.buildpacks.lifecycle.metadata`): `layer_digest("examples/hello", "hello")`.
    ///
    /// # Errors
    /// When the image cannot be read; `Ok(None)` when it has no such layer.
    pub fn layer_digest(&self, buildpack: &str, layer: &str) -> Result<Option<String>, TestError> {
        let Some(text) = self.image()?.label(LifecycleMetadata::NAME) else {
            return Ok(None);
        };
        let buildpacks = LifecycleMetadata::from_label(&text)
            .and_then(|metadata| metadata.buildpacks())
            .map_err(|source| TestError::Label {
                image: self.options.image.to_string(),
                source,
            })?;
        Ok(buildpacks
            .into_iter()
            .find(|bp| bp.key == buildpack)
            .and_then(|mut bp| bp.layers.remove(layer))
            .map(|layer| layer.sha)
            .filter(|sha| !sha.is_empty()))
    }

    /// The SBOM of a buildpack's launch layer in the image, as the lifecycle placed it
    /// (`/layers/sbom/launch/<escaped id>/<layer>/sbom.<ext>.json`); `ext` is `cdx`, `spdx` or `syft`.
    ///
    /// # Errors
    /// When the image cannot be read or has no such SBOM.
    pub fn layer_sbom(&self, buildpack: &str, layer: &str, ext: &str) -> Result<String, TestError> {
        let path = format!(
            "/layers/sbom/launch/{}/{layer}/sbom.{ext}.json",
            buildpack.replace('/', "_")
        );
        let bytes = self
            .image()?
            .read_file(&path)
            .map_err(|e| TestError::rpack(e, self.output.clone()))?;
        let bytes = bytes.ok_or_else(|| TestError::NotInImage {
            path: path.clone(),
            log: self.output.clone(),
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Builds the same app again with the same cache and this image as the previous image.
    ///
    /// # Errors
    /// As [`TestRunner::build`].
    pub fn rebuild(&self) -> Result<Self, TestError> {
        self.rebuild_expecting(Outcome::Pass)
    }

    /// Builds the same app again, as [`rebuild`](Self::rebuild), expecting `outcome`: a change to the app that
    /// must fail the build keeps the image and cache of the builds before it.
    ///
    /// # Errors
    /// As [`TestRunner::build`].
    pub fn rebuild_expecting(&self, outcome: Outcome) -> Result<Self, TestError> {
        let mut config = self
            .config
            .clone()
            .image(self.options.image.clone())
            .expect(outcome);
        config.fresh = false;
        self.runner.build(config)
    }

    /// Starts the image; for a web process, on a free port given in `PORT`.
    ///
    /// # Errors
    /// When the build failed, or podman cannot start the container.
    pub fn start(&self, config: ContainerConfig) -> Result<TestContainer, TestError> {
        let built = self.built()?;
        let ui = Ui::to_writer(std::io::sink());
        let port = config.port.or_else(|| config.web.then(free_port).flatten());
        let mut env = config.env;
        if let Some(port) = port {
            env.push(("PORT".to_owned(), port.to_string()));
        }
        let options = RunOptions {
            env,
            process: config.process.clone(),
            args: config.args.clone(),
            platform: None,
        };
        let name = format!(
            "libbuildpack-test-{}-{}",
            std::process::id(),
            NEXT_CONTAINER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let container = run::start(self.runner.store(), &built.image, &name, &options, &ui)
            .map_err(|e| TestError::rpack(e, self.output.clone()))?;
        let container = TestContainer::new(container, port);
        if config.web {
            container.wait_for_port(config.startup_timeout)?;
        }
        Ok(container)
    }
}

static NEXT_CONTAINER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A port nothing listens on right now (containers share the host network, so each app gets its own).
fn free_port() -> Option<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()
        .map(|a| a.port())
}

/// See [`TestBuild::participating`]: the `id version` lines the lifecycle prints after `===> DETECTING` (after
/// `N of M buildpacks participating` when some optional ones did not pass), up to the next phase.
fn participating(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .skip_while(|l| l.trim() != "===> DETECTING")
        .skip(1)
        .take_while(|l| !l.starts_with("===>"))
        .filter_map(
            |l| match l.split_whitespace().collect::<Vec<_>>().as_slice() {
                [id, version] if version.starts_with(|c: char| c.is_ascii_digit()) => {
                    Some(((*id).to_owned(), (*version).to_owned()))
                }
                _ => None,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn participating_buildpacks_are_read_from_the_padded_detect_list() {
        let output = "===> DETECTING\n2 of 3 buildpacks participating\nlibbuildpack/uv        0.1.0\n\
                      libbuildpack/processes 0.1.0\n===> RESTORING\n";
        assert_eq!(
            super::participating(output),
            [
                ("libbuildpack/uv".to_owned(), "0.1.0".to_owned()),
                ("libbuildpack/processes".to_owned(), "0.1.0".to_owned())
            ]
        );
        assert!(super::participating("no detect output").is_empty());
        // When every buildpack of the group passes, the lifecycle prints no count.
        let all = "===> DETECTING\nlibbuildpack/pip 0.1.0\n===> RESTORING\nother 1.0\n";
        assert_eq!(
            super::participating(all),
            [("libbuildpack/pip".to_owned(), "0.1.0".to_owned())]
        );
    }
}
