//! The harness's error: what failed, with the build log or container logs that show why.

/// What failed in a test build or a test container.
#[derive(Debug, thiserror::Error)]
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
    pub(crate) fn rpack(source: rpack::Error, log: String) -> Self {
        Self::Rpack {
            hint: source.hint(),
            source: Box::new(source),
            log,
        }
    }
}
