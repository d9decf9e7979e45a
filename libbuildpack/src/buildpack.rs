//! The [`Buildpack`] trait.

use serde::de::DeserializeOwned;

use crate::build::Build;
use crate::context::{BuildContext, DetectContext};
use crate::detect::Detect;

/// A buildpack: detect whether it applies to an app, then build it.
///
/// ```no_run
/// use libbuildpack::prelude::*;
///
/// struct Hello;
///
/// #[derive(Debug, thiserror::Error)]
/// enum HelloError {
///     #[error(transparent)]
///     Layer(#[from] LayerError),
/// }
///
/// impl Buildpack for Hello {
///     type Metadata = NoMetadata;
///     type Error = HelloError;
///
///     fn detect(&self, ctx: &DetectContext) -> Result<Detect, HelloError> {
///         if ctx.app_dir().join("hello.txt").exists() {
///             Ok(Detect::pass())
///         } else {
///             Ok(Detect::fail("no hello.txt in the app"))
///         }
///     }
///
///     fn build(&self, ctx: &mut BuildContext) -> Result<Build, HelloError> {
///         Ok(Build::new().process(Process::web(["echo", "hello"])))
///     }
/// }
///
/// libbuildpack::buildpack_main!(Hello);
/// ```
pub trait Buildpack {
    /// The buildpack's typed `[metadata]` from `buildpack.toml`; use
    /// [`NoMetadata`](crate::data::NoMetadata) when there is none. When the table is absent it
    /// is read from an empty table, so a struct whose fields all have defaults works.
    type Metadata: DeserializeOwned;

    /// The buildpack's own error. It is printed with its cause chain and makes the phase exit
    /// with status 1.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Decides whether the buildpack applies to the app; writes nothing itself.
    ///
    /// # Errors
    ///
    /// Anything that stops detection from deciding (not "does not apply": that is
    /// [`Detect::fail`]).
    fn detect(&self, ctx: &DetectContext<Self::Metadata>) -> Result<Detect, Self::Error>;

    /// Builds the app: makes layers and declares processes.
    ///
    /// # Errors
    ///
    /// Anything that makes the build fail.
    fn build(&self, ctx: &mut BuildContext<Self::Metadata>) -> Result<Build, Self::Error>;

    /// What the user can do about `error` (from detect or build), when there is a clear step.
    /// It is printed once, after the error and its causes (`  hint: <text>`), so error messages
    /// say only what failed and why. `None` by default.
    ///
    /// ```
    /// # use libbuildpack::prelude::*;
    /// #[derive(Debug, thiserror::Error)]
    /// enum PipError {
    ///     #[error("pip could not install the requirements")]
    ///     Install { hint: String },
    /// }
    /// struct Pip;
    /// impl Buildpack for Pip {
    ///     type Metadata = NoMetadata;
    ///     type Error = PipError;
    /// #   fn detect(&self, _: &DetectContext) -> Result<Detect, PipError> { Ok(Detect::pass()) }
    /// #   fn build(&self, _: &mut BuildContext) -> Result<Build, PipError> { Ok(Build::new()) }
    ///     // detect and build as usual, then:
    ///     fn hint(&self, error: &PipError) -> Option<String> {
    ///         match error {
    ///             PipError::Install { hint } => Some(hint.clone()),
    ///         }
    ///     }
    /// }
    /// ```
    fn hint(&self, error: &Self::Error) -> Option<String> {
        let _ = error;
        None
    }
}
