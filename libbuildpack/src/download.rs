//! Checksum-verified downloads with retries, timeouts and progress.
//!
//! # Retries
//!
//! [`Download::to_file`] tries up to [`Download::attempts`] times (3 by default), waiting
//! [`Download::retry_delay`] (1 s) before the first retry and twice as long before each next one, and warns
//! on the build output before each retry (`download attempt 1 of 3 failed: ...; retrying in 1.0s`).
//!
//! | failure | retried | error |
//! |---|---|---|
//! | DNS, connection, TLS or timeout | yes | [`DownloadError::Request`]: `could not download <url> (check the network, proxy settings and CA certificates in SSL_CERT_FILE)` |
//! | the body stops arriving | yes | [`DownloadError::Read`]: `could not download <url>: reading the body failed` |
//! | HTTP 5xx, 408 or 429 | yes | [`DownloadError::Status`]: `could not download <url>: the server answered HTTP 503` |
//! | any other HTTP 4xx (404, 403 ...) | no | [`DownloadError::Status`]: as above |
//! | the SHA-256 differs | no | [`DownloadError::ChecksumMismatch`]: `the download of <url> has SHA-256 <actual>, expected <expected>: ...` |
//! | the file cannot be written | no | [`DownloadError::Write`]: `could not write the download to <path>` |
//!
//! Where there is a lower-level cause (the network error, the I/O error) it is the error's
//! [`source`](std::error::Error::source), which [`Output::error`](crate::Output::error) prints as
//! `caused by: ...` below the message; the retry warnings show it on their line. The error returned is the
//! last attempt's. Nothing is left at the destination after a failure: the body
//! goes to a temp file next to it, renamed into place only when the checksum matches.
//!
//! # Progress
//!
//! Each attempt prints `Downloading <url>`, then every 5 s how much arrived (`12.3 MB of 140.0 MB`), and at
//! the end the size and time (`512 B of 512 B in 0.0s`; sizes in B, kB, MB or GB).
//!
//! # TLS and proxies
//!
//! TLS uses rustls with the system's CA store (`rustls-native-certs`, which honours
//! `SSL_CERT_FILE` and `SSL_CERT_DIR`, so a corporate proxy's CA added there is trusted), and
//! the bundled Mozilla roots only when the system has none. `HTTPS_PROXY`/`HTTP_PROXY`/
//! `ALL_PROXY` and `NO_PROXY` (either case) are honoured.
//!
//! ```no_run
//! use libbuildpack::download::Download;
//! use libbuildpack::Output;
//! let output = Output::stdout();
//! Download::new("https://example.org/tool-1.2.3.tar.gz")
//!     .sha256("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
//!     .to_file("/layers/acme_tool/tool/tool.tar.gz", &output)?;
//! # Ok::<(), libbuildpack::download::DownloadError>(())
//! ```

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::output::Output;
use crate::toolbox::hash::hex;
use crate::toolbox::style::format_size;

/// A download: URL, expected checksum, retry and timeout settings.
#[derive(Debug, Clone)]
#[must_use]
pub struct Download {
    url: String,
    sha256: Option<String>,
    attempts: u32,
    retry_delay: Duration,
    connect_timeout: Duration,
    timeout: Duration,
}

impl Download {
    /// Downloads `url`: 3 attempts, 1 s apart (doubling), 30 s connect timeout, 30 min in
    /// total per attempt.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            sha256: None,
            attempts: 3,
            retry_delay: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(30 * 60),
        }
    }

    /// The SHA-256 (hex) the body must have; a mismatch is an error
    /// ([`DownloadError::ChecksumMismatch`]) and is not retried.
    pub fn sha256(mut self, hex: impl Into<String>) -> Self {
        self.sha256 = Some(hex.into().trim().to_ascii_lowercase());
        self
    }

    /// How many times to try (at least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry; it doubles after each.
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// Connection timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Total time allowed for one attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Downloads to `path` (atomically: a temp file next to it, renamed when the checksum
    /// matches), printing progress to `output`. Returns the body's SHA-256 (hex).
    ///
    /// # Errors
    ///
    /// [`DownloadError`] naming the URL: HTTP or network failure after all attempts, a
    /// checksum mismatch, or a file that cannot be written. Which failures are retried, and what
    /// each error says, is in the [module docs](self#retries).
    pub fn to_file(
        &self,
        path: impl AsRef<Path>,
        output: &Output,
    ) -> Result<String, DownloadError> {
        let path = path.as_ref();
        let agent = self.agent();
        let mut delay = self.retry_delay;
        let mut attempt = 1;
        loop {
            output.detail(format!("Downloading {}", self.url));
            match self.attempt(&agent, path, output) {
                Ok(hex) => return Ok(hex),
                Err(error) if error.is_retryable() && attempt < self.attempts => {
                    output.warn(format!(
                        "download attempt {attempt} of {} failed: {}; retrying in {}",
                        self.attempts,
                        with_causes(&error),
                        crate::output::format_duration(delay)
                    ));
                    std::thread::sleep(delay);
                    delay *= 2;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn agent(&self) -> ureq::Agent {
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(root_certs())
            .build();
        ureq::Agent::config_builder()
            .tls_config(tls)
            .proxy(ureq::Proxy::try_from_env())
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn attempt(
        &self,
        agent: &ureq::Agent,
        path: &Path,
        output: &Output,
    ) -> Result<String, DownloadError> {
        let (mut reader, total) = self.request(agent)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write_error(path))?;
        }
        let tmp = temp_path(path);
        let start = Instant::now();
        let received = self.receive(&mut reader, &tmp, path, total, output);
        let (hex, size) = received.inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        self.keep(&tmp, path, hex.clone())?;
        output.detail(format!(
            "{} in {}",
            progress(size, total),
            crate::output::format_duration(start.elapsed())
        ));
        Ok(hex)
    }

    /// Sends the request: the body and its length when the server gives one, or the error for a failed
    /// request or an HTTP error status.
    fn request(
        &self,
        agent: &ureq::Agent,
    ) -> Result<(ureq::BodyReader<'static>, Option<u64>), DownloadError> {
        let response = agent
            .get(&self.url)
            .call()
            .map_err(|e| DownloadError::Request {
                url: self.url.clone(),
                source: Box::new(e),
            })?;
        let status = response.status().as_u16();
        if status >= 400 {
            return Err(DownloadError::Status {
                url: self.url.clone(),
                status,
            });
        }
        let total = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        Ok((response.into_body().into_reader(), total))
    }

    /// Streams the body into `tmp` (synced to disk), hashing it and printing how much arrived every 5 s;
    /// returns its SHA-256 (hex) and size. Write errors name `path`, the download's destination.
    fn receive(
        &self,
        reader: &mut impl Read,
        tmp: &Path,
        path: &Path,
        total: Option<u64>,
        output: &Output,
    ) -> Result<(String, u64), DownloadError> {
        let mut file = std::fs::File::create(tmp).map_err(write_error(path))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut received: u64 = 0;
        let mut last_report = Instant::now();
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(source) => {
                    return Err(DownloadError::Read {
                        url: self.url.clone(),
                        source,
                    });
                }
            };
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).map_err(write_error(path))?;
            received += n as u64;
            if last_report.elapsed() >= Duration::from_secs(5) {
                last_report = Instant::now();
                output.detail(progress(received, total));
            }
        }
        file.sync_all().map_err(write_error(path))?;
        Ok((hex(&hasher.finalize()), received))
    }

    /// Renames the body at `tmp` into place at `path` when its SHA-256 `hex` is the one expected; removes it
    /// otherwise.
    fn keep(&self, tmp: &Path, path: &Path, hex: String) -> Result<(), DownloadError> {
        if let Some(expected) = &self.sha256
            && *expected != hex
        {
            let _ = std::fs::remove_file(tmp);
            return Err(DownloadError::ChecksumMismatch {
                url: self.url.clone(),
                expected: expected.clone(),
                actual: hex,
            });
        }
        std::fs::rename(tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(tmp);
            write_error(path)(e)
        })
    }
}

/// The error for a download that cannot be written to `path`.
fn write_error(path: &Path) -> impl Fn(std::io::Error) -> DownloadError + '_ {
    |source| DownloadError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// The error and its causes on one line, for the retry warning.
fn with_causes(error: &DownloadError) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let _ = std::fmt::Write::write_fmt(&mut text, format_args!(": {inner}"));
        cause = inner.source();
    }
    text
}

fn root_certs() -> ureq::tls::RootCerts {
    let loaded = rustls_native_certs::load_native_certs();
    let certs: Vec<ureq::tls::Certificate<'static>> = loaded
        .certs
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if certs.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::Specific(Arc::new(certs))
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".part-{}", std::process::id()));
    path.with_file_name(name)
}

/// `1.2 MB of 3.4 MB`, `512 B of 2.0 kB`, or without a known total `1.2 MB`.
fn progress(received: u64, total: Option<u64>) -> String {
    match total {
        Some(total) => format!("{} of {}", format_size(received), format_size(total)),
        None => format_size(received),
    }
}

/// A download failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// The request failed (DNS, connection, TLS, timeout).
    #[error(
        "could not download {url} (check the network, proxy settings and CA certificates in SSL_CERT_FILE)"
    )]
    Request {
        /// The URL.
        url: String,
        /// Why.
        source: Box<ureq::Error>,
    },
    /// The server answered with an error status.
    #[error("could not download {url}: the server answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// Reading the body failed.
    #[error("could not download {url}: reading the body failed")]
    Read {
        /// The URL.
        url: String,
        /// Why.
        source: std::io::Error,
    },
    /// The body's SHA-256 is not the expected one.
    #[error(
        "the download of {url} has SHA-256 {actual}, expected {expected}: the file changed upstream or was tampered with; check the URL and the checksum"
    )]
    ChecksumMismatch {
        /// The URL.
        url: String,
        /// The expected checksum.
        expected: String,
        /// The checksum of what was received.
        actual: String,
    },
    /// The file could not be written.
    #[error("could not write the download to {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl DownloadError {
    fn is_retryable(&self) -> bool {
        match self {
            Self::Request { .. } | Self::Read { .. } => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Self::ChecksumMismatch { .. } | Self::Write { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_error_is_the_cause_not_part_of_the_message_and_retries_show_it() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/model.onnx");
        let dir = tempfile::tempdir().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let output = Output::to_writer(Log(log.clone()));
        let error = Download::new(&url)
            .attempts(2)
            .retry_delay(Duration::from_millis(1))
            .to_file(dir.path().join("model.onnx"), &output)
            .unwrap_err();
        assert!(matches!(error, DownloadError::Request { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "could not download {url} (check the network, proxy settings and CA certificates in SSL_CERT_FILE)"
            )
        );
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(!error.to_string().contains(&cause), "{error}");
        let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
        assert!(
            log.contains(&format!(
                "download attempt 1 of 2 failed: {error}: {cause}; retrying in"
            )),
            "{log}"
        );
    }

    #[derive(Clone)]
    struct Log(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Log {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn small_files_show_bytes_and_kilobytes() {
        assert_eq!(progress(0, Some(512)), "0 B of 512 B");
        assert_eq!(progress(12_345, Some(12_345)), "12.3 kB of 12.3 kB");
        assert_eq!(progress(1_500_000, Some(140_000_000)), "1.5 MB of 140.0 MB");
        assert_eq!(progress(2_000_000_000, None), "2.0 GB");
    }
}
