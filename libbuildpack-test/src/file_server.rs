//! A loopback HTTP file server for tests of buildpacks that download things, and a SHA-256 helper.
//!
//! Builds run with the host network, so a buildpack in a real build reaches the server at the same
//! `http://127.0.0.1:<port>/...` URL as an in-process test does.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::TestError;

/// The SHA-256 of `bytes` as lowercase hex, the form `buildpack.toml`, `model.toml` and
/// `libbuildpack::download::Download::sha256` use.
///
/// ```
/// assert_eq!(
///     libbuildpack_test::sha256("hello\n"),
///     "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
/// );
/// ```
#[must_use]
pub fn sha256(bytes: impl AsRef<[u8]>) -> String {
    libbuildpack::toolbox::hash::sha256_hex(bytes)
}

enum Source {
    Dir(PathBuf),
    Files(BTreeMap<String, Vec<u8>>),
}

impl Source {
    /// The body for a request path (`/models/a.onnx?x=1`), if there is such a file.
    fn body(&self, path: &str) -> Option<Vec<u8>> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let relative = path.trim_start_matches('/');
        match self {
            Self::Files(files) => files.get(relative).cloned(),
            Self::Dir(root) => {
                let relative = Path::new(relative);
                // Nothing outside the dir: only plain names, no `..`.
                if !relative
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)))
                {
                    return None;
                }
                let file = root.join(relative);
                file.is_file().then(|| std::fs::read(file).ok()).flatten()
            }
        }
    }
}

/// An HTTP server on `127.0.0.1` (a free port) that serves a dir or files held in memory to `GET` and `HEAD`:
/// `200` with the file, `404` for anything else. It runs until it is dropped.
///
/// ```
/// use libbuildpack_test::{FileServer, sha256};
///
/// # fn main() -> Result<(), libbuildpack_test::TestError> {
/// let model = b"weights".to_vec();
/// let server = FileServer::files([("models/resnet.onnx", model.clone())])?;
/// let url = server.url("/models/resnet.onnx"); // http://127.0.0.1:<port>/models/resnet.onnx
/// // Write `url` and `sha256(&model)` into the fixture app's model.toml, build, then:
/// assert!(server.requests().is_empty());
/// # let _ = (url, sha256(&model));
/// # Ok(())
/// # }
/// ```
///
/// [`FileServer::requests`] lists the paths asked for, so a test can check that a rebuild reused its cache
/// instead of downloading again.
pub struct FileServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FileServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FileServer {
    /// Serves the files under `dir` (`/a/b.txt` is `dir/a/b.txt`), read when asked for.
    ///
    /// # Errors
    /// When no loopback port can be opened.
    pub fn dir(dir: impl Into<PathBuf>) -> Result<Self, TestError> {
        Self::start(Source::Dir(dir.into()))
    }

    /// Serves these files: (path without the leading `/`, contents).
    ///
    /// # Errors
    /// When no loopback port can be opened.
    pub fn files<P, B>(files: impl IntoIterator<Item = (P, B)>) -> Result<Self, TestError>
    where
        P: Into<String>,
        B: Into<Vec<u8>>,
    {
        let files = files
            .into_iter()
            .map(|(path, body)| (path.into().trim_start_matches('/').to_owned(), body.into()))
            .collect();
        Self::start(Source::Files(files))
    }

    fn start(source: Source) -> Result<Self, TestError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|source| TestError::FileServerPort { source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| TestError::FileServerPort { source })?;
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let source = Arc::new(source);
        let thread = {
            let (stop, requests) = (Arc::clone(&stop), Arc::clone(&requests));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (source, requests) = (Arc::clone(&source), Arc::clone(&requests));
                    std::thread::spawn(move || {
                        let _ = serve(stream, &source, &requests);
                    });
                }
            })
        };
        Ok(Self {
            addr,
            stop,
            requests,
            thread: Some(thread),
        })
    }

    /// The address it listens on (`127.0.0.1:<port>`).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` (with or without a leading `/`): `http://127.0.0.1:<port>/<path>`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// The paths of the requests so far (`/models/resnet.onnx`), in the order they came, `HEAD` ones included.
    #[must_use]
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request and closes the connection.
fn serve(stream: TcpStream, source: &Source, requests: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // The headers: read and ignored.
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(path.to_owned());
    let mut stream = stream;
    let (status, body) = match (method, source.body(path)) {
        ("GET" | "HEAD", Some(body)) => ("200 OK", body),
        ("GET" | "HEAD", None) => ("404 Not Found", b"not found\n".to_vec()),
        _ => ("405 Method Not Allowed", Vec::new()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> (u16, Vec<u8>) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.get(url).call().unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_vec().unwrap())
    }

    #[test]
    fn serves_binary_files_from_memory_and_404s_the_rest() {
        let bytes: Vec<u8> = (0..=255).collect();
        let server = FileServer::files([("models/a.bin", bytes.clone())]).unwrap();
        assert_eq!(get(&server.url("/models/a.bin")), (200, bytes));
        assert_eq!(get(&server.url("models/b.bin")).0, 404);
        assert_eq!(server.requests(), ["/models/a.bin", "/models/b.bin"]);
    }

    #[test]
    fn serves_a_dir_and_nothing_outside_it() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("site")).unwrap();
        std::fs::write(root.path().join("site/hello.txt"), "hello\n").unwrap();
        std::fs::write(root.path().join("secret.txt"), "no").unwrap();
        let server = FileServer::dir(root.path().join("site")).unwrap();
        assert_eq!(
            get(&server.url("hello.txt?v=1")),
            (200, b"hello\n".to_vec())
        );
        // Raw, as an HTTP client would normalise the `..` away.
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        stream
            .write_all(b"GET /../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 404 "), "{answer}");
    }

    #[test]
    fn stops_listening_when_dropped() {
        let server = FileServer::files([("a", "a")]).unwrap();
        let addr = server.addr();
        drop(server);
        assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err());
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
