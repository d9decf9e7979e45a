//! The harness's error: what failed, with the build log or container logs that show why.

/// What failed in a test build or a test container.
///
/// Its `Debug` form is the readable message (with the hint and the build output) followed by the causes, one per
/// line: `cargo test` shows an error returned from a test with `Debug`, and the derived form would be one escaped
/// line thousands of characters long.
#[derive(thiserror::Error)]
pub enum TestError {
    /// rpack failed (the store, the lifecycle, podman, a build ...).
    #[error("{source}{}\n--- output ---\n{log}", hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
    Rpack {
        /// The error.
        #[source]
        source: Box<rpack::Error>,
        /// What to do about it.
        hint: Option<String>,
        /// The output so far.
        log: String,
    },
    /// The build passed where the test expected it to fail.
    #[error("the build passed, but the test expected it to fail\n--- output ---\n{log}")]
    UnexpectedPass {
        /// The build output.
        log: String,
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
    #[error("GET {url} failed: {source}\n--- app logs ---\n{logs}")]
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
    #[error("could not read the labels of {image}: {source}")]
    Label {
        /// The image.
        image: String,
        /// Which label, and what is wrong with it.
        #[source]
        source: libbuildpack::data::labels::LabelError,
    },
    /// A file operation of the harness failed.
    #[error("could not {action}: {source}")]
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

impl std::fmt::Debug for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        // Every message above already shows its direct cause; the rest of the chain follows.
        let mut cause = std::error::Error::source(self).and_then(std::error::Error::source);
        while let Some(error) = cause {
            write!(f, "\ncaused by: {error}")?;
            cause = error.source();
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
    fn debug_shows_the_causes_below_the_direct_one() {
        let inner = std::io::Error::other("disk full");
        let error = TestError::Io {
            action: "write the app".to_owned(),
            source: std::io::Error::other(Wrapped(inner)),
        };
        let debug = format!("{error:?}");
        assert!(
            debug.starts_with("could not write the app: wrapped"),
            "{debug}"
        );
        assert!(debug.ends_with("\ncaused by: disk full"), "{debug}");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("wrapped")]
    struct Wrapped(#[source] std::io::Error);
}
