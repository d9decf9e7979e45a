//! A real OCI distribution registry (Debian's `docker-registry`, distribution 2.8) on loopback, for tests and
//! benchmarks that push and pull images.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::error::TestError;

/// Where Debian's `docker-registry` package installs the registry.
const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// How long [`Registry::start`] waits for `/v2/` to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A distribution registry serving from a temp dir on a free `127.0.0.1` port, with deletes enabled and its
/// access log kept. It is stopped, and its storage removed, when it is dropped.
///
/// ```no_run
/// use libbuildpack_test::Registry;
///
/// # fn main() -> Result<(), libbuildpack_test::TestError> {
/// let registry = Registry::start()?;
/// let image = format!("{}/my-tests/app:latest", registry.host()); // 127.0.0.1:<port>/my-tests/app:latest
/// // `rpack push ... --to <image>`, then:
/// assert_eq!(registry.blob_uploads("my-tests/app"), 0);
/// # let _ = image;
/// # Ok(())
/// # }
/// ```
pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("host", &self.host())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Starts a registry with its storage in a new temp dir and waits (up to 10 s) until `/v2/` answers.
    ///
    /// # Errors
    /// [`TestError::RegistryMissing`] without `docker-registry`; [`TestError::Io`] when the temp dir, config or
    /// process cannot be made; [`TestError::RegistryStart`] when it exits or does not answer in time.
    pub fn start() -> Result<Self, TestError> {
        Self::start_in(&std::env::temp_dir())
    }

    /// [`Registry::start`] with the storage in a new dir under `parent` (a benchmark keeps the pushed blobs on
    /// the disk it measures).
    ///
    /// # Errors
    /// As [`Registry::start`].
    pub fn start_in(parent: &Path) -> Result<Self, TestError> {
        if !Path::new(REGISTRY_BIN).is_file() {
            return Err(TestError::RegistryMissing {
                path: PathBuf::from(REGISTRY_BIN),
            });
        }
        let io = |action: &str| {
            let action = action.to_owned();
            move |source| TestError::Io { action, source }
        };
        let dir = tempfile::Builder::new()
            .prefix("registry-")
            .tempdir_in(parent)
            .map_err(io("create the registry's dir"))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(io("find a free loopback port for the registry"))?
            .port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
                 delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .map_err(io("write the registry's config"))?;
        let log = std::fs::File::create(dir.path().join("registry.log"))
            .map_err(io("create the registry's log"))?;
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io("open the registry's log"))?)
            .stderr(log)
            .spawn()
            .map_err(io("start docker-registry"))?;
        let mut registry = Self { child, dir, port };
        let started = std::time::Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if registry.answers() {
                return Ok(registry);
            }
            if let Ok(Some(status)) = registry.child.try_wait() {
                return Err(TestError::RegistryStart {
                    problem: format!("docker-registry exited with {status}"),
                    log: registry.log(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(TestError::RegistryStart {
            problem: format!(
                "docker-registry did not answer within {}s",
                START_TIMEOUT.as_secs()
            ),
            log: registry.log(),
        })
    }

    /// Whether `GET /v2/` answers 200.
    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if stream
            .write_all(b"GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
    }

    /// `127.0.0.1:<port>`, the host part of the registry's image references.
    #[must_use]
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's log, access log included.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// How many blob uploads (the final `PUT .../blobs/uploads/...` of each) the registry has completed for
    /// `repo` so far, from its access log: what a test of "the second push sends nothing new" counts.
    #[must_use]
    pub fn blob_uploads(&self, repo: &str) -> usize {
        let needle = format!("\"PUT /v2/{repo}/blobs/uploads/");
        self.log().lines().filter(|l| l.contains(&needle)).count()
    }

    /// The registry's storage dir (`docker/registry/v2/...` below it).
    #[must_use]
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
