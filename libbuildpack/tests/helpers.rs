//! The helpers authors always rewrite: checksum-verified downloads against a loopback HTTP server (never
//! the internet). Archive extraction has its own tests in `archive.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libbuildpack::Output;
use libbuildpack::download::{Download, DownloadError};

/// A loopback HTTP/1.1 server answering each request with the next response in `script`.
/// Returns its base URL and a request counter.
fn server(script: Vec<(u16, Vec<u8>)>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    std::thread::spawn(move || {
        for (status, body) in script {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
        }
    });
    (url, count)
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write as _;
    sha2::Sha256::digest(data)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);
impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[test]
fn download_verifies_the_checksum_and_writes_atomically() {
    let body = b"tool contents".to_vec();
    let (url, _) = server(vec![(200, body.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/tool.bin");
    let log = Log::default();
    let hex = Download::new(format!("{url}/tool.bin"))
        .sha256(sha256_hex(&body).to_uppercase())
        .to_file(&path, &Output::to_writer(log.clone()))
        .unwrap();
    assert_eq!(hex, sha256_hex(&body));
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert_eq!(
        std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
        1,
        "no temp file left"
    );
    assert!(
        log.text().contains("Downloading http://127.0.0.1"),
        "{}",
        log.text()
    );
}

#[test]
fn checksum_mismatch_fails_without_retry_and_leaves_no_file() {
    let (url, count) = server(vec![(200, b"tampered".to_vec()), (200, b"x".to_vec())]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tool.bin");
    let err = Download::new(&url)
        .sha256("0".repeat(64))
        .retry_delay(Duration::from_millis(10))
        .to_file(&path, &Output::to_writer(Log::default()))
        .unwrap_err();
    assert!(
        matches!(err, DownloadError::ChecksumMismatch { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("expected 0000"), "{err}");
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn server_errors_are_retried_then_succeed() {
    let (url, count) = server(vec![
        (503, b"busy".to_vec()),
        (500, b"oops".to_vec()),
        (200, b"ok".to_vec()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let log = Log::default();
    Download::new(&url)
        .attempts(3)
        .retry_delay(Duration::from_millis(10))
        .to_file(dir.path().join("f"), &Output::to_writer(log.clone()))
        .unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(
        log.text().contains("attempt 1 of 3 failed"),
        "{}",
        log.text()
    );
}

#[test]
fn not_found_is_not_retried() {
    let (url, count) = server(vec![(404, Vec::new()), (200, Vec::new())]);
    let dir = tempfile::tempdir().unwrap();
    let err = Download::new(&url)
        .retry_delay(Duration::from_millis(10))
        .to_file(dir.path().join("f"), &Output::to_writer(Log::default()))
        .unwrap_err();
    assert!(
        matches!(err, DownloadError::Status { status: 404, .. }),
        "{err}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn connection_refused_names_the_url_and_what_to_check() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let err = Download::new(&url)
        .attempts(2)
        .retry_delay(Duration::from_millis(10))
        .connect_timeout(Duration::from_secs(2))
        .to_file(dir.path().join("f"), &Output::to_writer(Log::default()))
        .unwrap_err();
    assert!(err.to_string().contains(&url), "{err}");
    assert!(err.to_string().contains("proxy"), "{err}");
}

#[test]
fn timeout_applies_to_a_stalled_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        drop(stream);
    });
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let err = Download::new(&url)
        .attempts(1)
        .timeout(Duration::from_millis(300))
        .to_file(dir.path().join("f"), &Output::to_writer(Log::default()))
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2), "{err}");
}
