//! Real Cloud Native Buildpacks builds from `cargo test`.
//!
//! `libbuildpack-test` builds an app with the reference lifecycle in a podman container (through rpack's library:
//! no Docker daemon, no registry), starts the image, and lets the test talk to it:
//!
//! ```no_run
//! use libbuildpack_test::{BuildConfig, ContainerConfig, TestRunner, assert_contains};
//!
//! # fn main() -> Result<(), libbuildpack_test::TestError> {
//! let build = TestRunner::shared()?.build(BuildConfig::new("tests/fixtures/hello").builder_toml("builder.toml"))?;
//! assert_contains!(build.stdout(), "===> BUILDING");
//! let app = build.start(ContainerConfig::web())?;
//! assert_eq!(app.http_get("/hello.txt")?.body, "hello\n");
//! # Ok(())
//! # }
//! ```
//!
//! Everything that can fail returns a [`TestError`] whose message includes the build log, so a failing test
//! shows why. Nothing is skipped: a missing podman or lifecycle is an error that says what to run.
//!
//! The first run makes what the builds need: the stack's base images (unless `rpack stack create` made them)
//! and the builder, compiling the buildpack crates. That takes minutes, so rpack's progress lines of those
//! steps go to stderr as they happen, prefixed `[libbuildpack-test]`, whether or not `cargo test` captures
//! output (a builder that is up to date stays quiet).
//!
//! A buildpack that downloads files can be tested against a [`FileServer`] on loopback (builds share the host
//! network, so the build reaches it at [`FileServer::url`]); [`sha256`] gives the checksums to expect. Tests that
//! push and pull images get a real distribution [`Registry`] on loopback.

mod app_dir;
mod build;
mod container;
mod error;
mod file_server;
mod naming;
mod progress;
mod redact;
mod registry;
mod runner;
mod stack_builder;
pub mod uv;

pub use app_dir::copy_app;
pub use build::TestBuild;
pub use container::{ContainerConfig, HttpResponse, TestContainer};
pub use error::TestError;
pub use file_server::{FileServer, sha256};
pub use redact::redact;
pub use registry::Registry;
/// The image reference [`BuildConfig::image`] and [`BuildConfig::builder_image`] take (rpack's).
pub use rpack::oci::reference::ImageRef;
pub use runner::{BuildConfig, Outcome, TestRunner};

/// Assertions on a build's output that show the whole output when they fail (the SDK's, so in-process and
/// real-lifecycle tests read alike).
pub use libbuildpack::{assert_contains, assert_not_contains};
