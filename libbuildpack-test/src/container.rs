//! A running app container, and talking to it over loopback.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rpack::build::run::Container;

use crate::error::TestError;

/// How to start an app image.
#[derive(Clone, Debug)]
pub struct ContainerConfig {
    pub(crate) env: Vec<(String, String)>,
    pub(crate) process: Option<String>,
    pub(crate) args: Vec<String>,
    pub(crate) web: bool,
    pub(crate) port: Option<u16>,
    pub(crate) startup_timeout: Duration,
}

impl ContainerConfig {
    /// The default process, as a web app: it gets a free port in `PORT` and [`TestBuild::start`] waits until it
    /// listens there.
    ///
    /// [`TestBuild::start`]: crate::TestBuild::start
    #[must_use]
    pub fn web() -> Self {
        Self {
            web: true,
            ..Self::process_default()
        }
    }

    /// The default process, not waited on.
    #[must_use]
    pub fn process_default() -> Self {
        Self {
            env: Vec::new(),
            process: None,
            args: Vec::new(),
            web: false,
            port: None,
            startup_timeout: Duration::from_secs(30),
        }
    }

    /// Sets an env var for the app.
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs another process type.
    #[must_use]
    pub fn process(mut self, process: impl Into<String>) -> Self {
        self.process = Some(process.into());
        self
    }

    /// Replaces the process's default args.
    #[must_use]
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Uses this port instead of a free one.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// How long a web app may take to listen (default 30s).
    #[must_use]
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }
}

/// An HTTP response from the app.
///
/// ```no_run
/// # fn main() -> Result<(), libbuildpack_test::TestError> {
/// # let app: libbuildpack_test::TestContainer = unimplemented!();
/// let page = app.http_get("/hello.txt")?;
/// assert_eq!(page.text(), "hello\n");
/// let model = app.http_get("/models/resnet.onnx")?;
/// assert_eq!(model.bytes, std::fs::read("tests/fixtures/resnet.onnx").unwrap());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body as text: invalid UTF-8 (in a binary body) is replaced by `U+FFFD`; compare
    /// [`bytes`](Self::bytes) for such bodies.
    pub body: String,
    /// The body as it was sent.
    pub bytes: Vec<u8>,
}

impl HttpResponse {
    /// The body as text, as [`body`](Self::body).
    #[must_use]
    pub fn text(&self) -> &str {
        &self.body
    }
}

/// `GET url`; any status is returned, not turned into an error.
pub(crate) fn http_get(url: &str) -> Result<HttpResponse, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent.get(url).call()?;
    let status = response.status().as_u16();
    // No size limit: a test may fetch a model file of gigabytes.
    let bytes = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()?;
    Ok(HttpResponse {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    })
}

/// A running app; stopped and removed when dropped.
#[derive(Debug)]
pub struct TestContainer {
    container: Container,
    port: Option<u16>,
}

impl TestContainer {
    pub(crate) fn new(container: Container, port: Option<u16>) -> Self {
        Self { container, port }
    }

    /// The port the app was given.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Everything the app printed so far.
    #[must_use]
    pub fn logs(&self) -> String {
        self.container
            .logs()
            .unwrap_or_else(|e| format!("(no logs: {e})"))
    }

    /// Waits until the app accepts connections on its port.
    ///
    /// # Errors
    /// When it does not within `timeout`, or the container exits first; the error holds the app's logs.
    pub fn wait_for_port(&self, timeout: Duration) -> Result<(), TestError> {
        let Some(port) = self.port else { return Ok(()) };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            let exited = !self.container.is_running();
            if exited || started.elapsed() > timeout {
                return Err(TestError::PortTimeout {
                    port,
                    seconds: timeout.as_secs(),
                    exited,
                    logs: self.logs(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `GET http://127.0.0.1:<port><path>`; any status is returned, not turned into an error.
    ///
    /// # Errors
    /// When the request fails (connection refused, timeout ...).
    pub fn http_get(&self, path: &str) -> Result<HttpResponse, TestError> {
        let url = format!("http://127.0.0.1:{}{path}", self.port.unwrap_or(8080));
        http_get(&url).map_err(|source| TestError::Http {
            url: url.clone(),
            source: Box::new(source),
            logs: self.logs(),
        })
    }

    /// Waits for the app to exit (for processes that do a job and end) and returns its exit code and logs.
    ///
    /// # Errors
    /// When podman fails.
    pub fn wait_for_exit(&self) -> Result<(i32, String), TestError> {
        let code = self
            .container
            .wait()
            .map_err(|e| TestError::rpack(e, self.logs()))?;
        Ok((code, self.logs()))
    }

    /// Runs a command in the container with the app's env (through the launcher) and returns its stdout.
    ///
    /// # Errors
    /// When the command fails.
    pub fn exec(&self, command: &[&str]) -> Result<String, TestError> {
        self.container
            .exec(command)
            .map_err(|e| TestError::rpack(e, self.logs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_bodies_arrive_byte_for_byte() {
        let bytes: Vec<u8> = (0..=255).cycle().take(12_000_000).collect();
        let server = crate::FileServer::files([("model.bin", bytes.clone())]).unwrap();
        let response = http_get(&server.url("model.bin")).unwrap();
        assert_eq!(response.status, 200);
        assert!(
            response.bytes == bytes,
            "the body differs from what was served"
        );
        let missing = http_get(&server.url("nothing")).unwrap();
        assert_eq!((missing.status, missing.text()), (404, "not found\n"));
    }
}
