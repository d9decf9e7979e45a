//! libbuildpack: a typed SDK for writing Cloud Native Buildpacks.
//!
//! - [`data`]: every CNB file format as serde types that read and write. Always available,
//!   also with `default-features = false`.
//! - The runtime (feature `runtime`, on by default): the `Buildpack` trait,
//!   `buildpack_main!`, detect and build contexts, layers with declared cache keys, env files,
//!   processes and build output. Start from [`prelude`].
//!   Also [`env`](mod@env) (the env later build steps see) and [`exec_d`] (programs that set env vars
//!   at launch).
//! - `sbom` (feature `sbom`): `CycloneDX` and SPDX files from one package list.
//! - `download` (feature `download`): checksum-verified downloads with retries.
//! - `archive` (feature `archive`, no runtime needed): safe `.tar`/`.tar.gz` extraction with size caps.
//! - `tree` (feature `tree`, no runtime needed): listings of file trees, their diffs and copies of chosen
//!   entries, for big layers that grow by additions.
//! - [`toolbox`]: what the SDK and rpack share: the build log's style, streamed commands, tree copies and
//!   (feature `hash`) streamed file hashes. Always available.
//! - `testing` (feature `testing`): run detect and build in-process against temp dirs laid
//!   out as the lifecycle would.
//!
//! # Features and these docs
//!
//! `sbom`, `download`, `archive`, `tree` and `testing` are off by default. A buildpack enables `testing` only
//! for its tests, in `[dev-dependencies]` (as `rpack buildpack new` does):
//!
//! ```toml
//! [dependencies]
//! libbuildpack = { version = "0.1", features = ["download", "sbom"] }
//!
//! [dev-dependencies]
//! libbuildpack = { version = "0.1", features = ["testing"] }
//! ```
//!
//! `cargo doc` documents a dependency with the features of `[dependencies]` only, so `testing` is
//! documented whether or not `testing` is on (a buildpack's own `cargo doc --open` lists it); code can use
//! it only with the feature. These docs, built with every feature, mark each module with the feature it
//! needs.
//!
//! ```no_run
//! use libbuildpack::prelude::*;
//!
//! struct Hello;
//!
//! #[derive(Serialize, Deserialize, PartialEq)]
//! struct Key { version: String }
//!
//! impl Buildpack for Hello {
//!     type Metadata = NoMetadata;
//!     type Error = LayerError;
//!
//!     fn detect(&self, ctx: &DetectContext) -> Result<Detect, LayerError> {
//!         if ctx.app_dir().join("hello.txt").exists() {
//!             Ok(Detect::pass())
//!         } else {
//!             Ok(Detect::fail("no hello.txt in the app"))
//!         }
//!     }
//!
//!     fn build(&self, ctx: &mut BuildContext) -> Result<Build, LayerError> {
//!         let key = Key { version: ctx.buildpack().buildpack.version.to_string() };
//!         let layer = ctx.layer("hello").launch().keyed_by(&key)?;
//!         layer.launch_env().set("HELLO_GREETING", "hello")?;
//!         Ok(Build::new().process(Process::web(["python3", "-m", "http.server"])))
//!     }
//! }
//!
//! buildpack_main!(Hello);
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod assert;
pub mod data;

/// The repository README's buildpack, compiled as a doctest so the README shows code that builds.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The serde version the formats use; derives in a buildpack that has no `serde` dependency can
/// point at it with `#[serde(crate = "libbuildpack::serde")]`.
pub use serde;
pub use toml;

#[cfg(feature = "archive")]
#[cfg_attr(docsrs, doc(cfg(feature = "archive")))]
pub mod archive;
#[cfg(feature = "runtime")]
mod build;
#[cfg(feature = "runtime")]
mod buildpack;
#[cfg(feature = "runtime")]
mod context;
#[cfg(feature = "runtime")]
mod detect;
#[cfg(feature = "download")]
#[cfg_attr(docsrs, doc(cfg(feature = "download")))]
pub mod download;
#[cfg(feature = "runtime")]
mod entry;
#[cfg(feature = "runtime")]
pub mod env;
#[cfg(feature = "runtime")]
pub mod exec_d;
#[cfg(feature = "runtime")]
pub mod layer;
#[cfg(feature = "runtime")]
pub mod output;
#[cfg(feature = "runtime")]
pub mod platform;
#[cfg(feature = "runtime")]
pub mod prelude;
pub mod redact;
#[cfg(feature = "sbom")]
#[cfg_attr(docsrs, doc(cfg(feature = "sbom")))]
pub mod sbom;
// Documented without the feature too (rustdoc reads only its signatures), so a buildpack's `cargo doc`, which
// leaves out dev-dependency features, still shows it.
#[cfg(any(feature = "testing", all(doc, feature = "runtime")))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod toolbox;
#[cfg(all(feature = "tree", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "tree", unix))))]
pub mod tree;

#[cfg(feature = "runtime")]
pub use build::{Build, Process};
#[cfg(feature = "runtime")]
pub use buildpack::Buildpack;
#[cfg(feature = "runtime")]
pub use context::{BuildContext, DetectContext};
#[cfg(feature = "runtime")]
pub use detect::Detect;
#[cfg(feature = "runtime")]
pub use entry::{DETECT_FAIL, DETECT_PASS, ERROR, Phase, RunError, SUPPORTED_APIS, run_buildpack};
#[cfg(feature = "runtime")]
pub use layer::{Layer, LayerBuilder, LayerEnv, LayerError, LayerState};
#[cfg(feature = "runtime")]
pub use output::{CommandError, Output};
#[cfg(feature = "runtime")]
pub use platform::{PlatformEnv, PlatformError, Target};
