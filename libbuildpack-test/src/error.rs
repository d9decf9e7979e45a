//! The harness's error: what failed, with the build log or container logs that show why.

use std::path::PathBuf;
use std::sync::Arc;

/// What failed in a test build or a test container.
///
/// Each message says what failed and never repeats its cause: the cause is the [`source`](std::error::Error::source).
/// Its `Debug` form is the readable message's first line, then the causes, one per line, then the rest of the
/// message (the hint and the build output): `cargo test` shows an error returned from a test with `Debug`, and
/// the derived form would be one escaped line thousands of characters long.
#[derive(thiserror::Error)]
pub enum TestError {
    /// rpack failed (the store, the lifecycle, podman, a build ...).
    #[error("rpack failed{}\n--- output ---\n{log}", hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
    Rpack {
        /// The error.
        #[source]
        source: Box<rpack::Error>,
        /// What to do about it.
        hint: Option<String>,
        /// The output so far.
        log: String,
    },
    /// The shared runner could not be set up (the first test that tried got the same error).
    #[error("the shared test runner could not be set up")]
    RunnerSetup {
        /// Why.
        #[source]
        source: Arc<TestError>,
    },
    /// The build passed where the test expected it to fail.
    #[error("the build passed, but the test expected it to fail\n--- output ---\n{log}")]
    UnexpectedPass {
        /// The build output.
        log: String,
    },
    /// The test asked for the image of a build that failed.
    #[error("the build failed, so there is no image\n--- output ---\n{log}")]
    NoImage {
        /// The build output.
        log: String,
    },
    /// The image a build wrote could not be read back from the store.
    #[error("the image this build wrote could not be read\n--- output ---\n{log}")]
    UnreadableImage {
        /// The build output.
        log: String,
    },
    /// A file the test asked for is not in the image.
    #[error("the image has no {path}\n--- output ---\n{log}")]
    NotInImage {
        /// The path in the image.
        path: String,
        /// The build output.
        log: String,
    },
    /// A stack build had no buildpack to build with.
    #[error(
        "no buildpack to build with: the crate under test has no buildpack.toml; give .builder_toml(..), \
         .builder_image(..) or .buildpack(..)"
    )]
    NoBuildpack,
    /// A buildpack's `buildpack.toml` could not be read.
    #[error("could not read the buildpack at {}", path.display())]
    ReadBuildpack {
        /// The buildpack dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<libbuildpack::data::TomlFileError>,
    },
    /// The builder.toml of a stack build could not be written.
    #[error("could not write the test builder {}", path.display())]
    WriteBuilder {
        /// The builder.toml.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<libbuildpack::data::TomlFileError>,
    },
    /// The dir of a stack build's builder.toml could not be made.
    #[error("could not create the test builder dir {}", path.display())]
    CreateBuilderDir {
        /// The dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An app dir could not be copied.
    #[error("could not copy the app {} to {}", from.display(), to.display())]
    CopyApp {
        /// The app dir.
        from: PathBuf,
        /// Where it was copied to.
        to: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An app image's earlier state (image, cache) could not be removed before a fresh build.
    #[error("could not remove {}", path.display())]
    Forget {
        /// The dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file server could not open its loopback port.
    #[error("could not open a loopback port for the file server")]
    FileServerPort {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The app did not open its port in time.
    #[error("the app did not listen on 127.0.0.1:{port} within {seconds}s{}\n--- app logs ---\n{logs}", if *exited { " (the container exited)" } else { "" })]
    PortTimeout {
        /// The port.
        port: u16,
        /// How long it waited.
        seconds: u64,
        /// Whether the container had exited.
        exited: bool,
        /// The container's logs.
        logs: String,
    },
    /// An HTTP request to the app failed.
    #[error("GET {url} failed\n--- app logs ---\n{logs}")]
    Http {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: Box<ureq::Error>,
        /// The container's logs.
        logs: String,
    },
    /// A platform label of the image the build wrote is malformed.
    #[error("could not read the labels of {image}")]
    Label {
        /// The image.
        image: String,
        /// Which label, and what is wrong with it.
        #[source]
        source: libbuildpack::data::labels::LabelError,
    },
    /// `docker-registry` (Debian's distribution registry) is not installed.
    #[error("{} is missing: apt-get install docker-registry", path.display())]
    RegistryMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The loopback registry did not come up.
    #[error("{problem}\n--- registry log ---\n{log}")]
    RegistryStart {
        /// What went wrong: it exited, or did not answer in time.
        problem: String,
        /// What it logged.
        log: String,
    },
    /// A file operation of a test failed (the harness's own have their own variants).
    #[error("could not {action}")]
    Io {
        /// What was being done.
        action: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl TestError {
    pub(crate) fn rpack(source: impl Into<rpack::Error>, log: String) -> Self {
        let source = source.into();
        Self::Rpack {
            hint: source.hint(),
            source: Box::new(source),
            log,
        }
    }
}

impl From<rpack::Error> for TestError {
    /// rpack's error with no output (a test calling rpack's library itself).
    fn from(source: rpack::Error) -> Self {
        Self::rpack(source, String::new())
    }
}

impl std::fmt::Debug for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = self.to_string();
        let (headline, rest) = message.split_once('\n').unwrap_or((&message, ""));
        write!(f, "{headline}")?;
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            write!(f, "\ncaused by: {error}")?;
            cause = error.source();
        }
        if !rest.is_empty() {
            write!(f, "\n{rest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_the_readable_message_not_one_escaped_line() {
        let error = TestError::UnexpectedPass {
            log: "===> BUILDING\n\"quoted\" output".to_owned(),
        };
        let debug = format!("{error:?}");
        assert_eq!(debug, error.to_string());
        assert!(debug.contains("\n===> BUILDING\n\"quoted\""), "{debug}");
        assert!(!debug.contains("UnexpectedPass"), "{debug}");
    }

    #[test]
    fn debug_shows_every_cause_once_below_the_headline_and_above_the_log() {
        let inner = std::io::Error::other("disk full");
        let error = TestError::CopyApp {
            from: "tests/fixtures/app".into(),
            to: "/tmp/app".into(),
            source: std::io::Error::other(Wrapped(inner)),
        };
        assert_eq!(
            format!("{error:?}"),
            "could not copy the app tests/fixtures/app to /tmp/app\ncaused by: wrapped\ncaused by: disk full"
        );
        let setup = TestError::RunnerSetup {
            source: Arc::new(TestError::NotInImage {
                path: "/x".to_owned(),
                log: "the log".to_owned(),
            }),
        };
        let debug = format!("{setup:?}");
        assert_eq!(debug.matches("the image has no /x").count(), 1, "{debug}");
    }

    #[test]
    fn no_message_repeats_its_source() {
        let source = std::io::Error::other("the unique cause");
        let errors = [
            TestError::Io {
                action: "write the app".to_owned(),
                source: std::io::Error::other("the unique cause"),
            },
            TestError::FileServerPort { source },
        ];
        for error in errors {
            assert!(!error.to_string().contains("unique cause"), "{error}");
            assert_eq!(format!("{error:?}").matches("unique cause").count(), 1);
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("wrapped")]
    struct Wrapped(#[source] std::io::Error);
}
