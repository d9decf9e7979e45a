//! The helpers authors always rewrite: safe archive extraction against crafted archives, and
//! checksum-verified downloads against a loopback HTTP server (never the internet).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libbuildpack::Output;
use libbuildpack::archive::{ArchiveError, extract_tar, extract_tar_gz};
use libbuildpack::download::{Download, DownloadError};

/// A tar entry whose name is written raw, so `..` and absolute paths can be crafted.
fn entry(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    link: Option<&str>,
    data: &[u8],
) {
    let mut header = tar::Header::new_gnu();
    {
        let raw = header.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
    }
    header.set_entry_type(kind);
    header.set_size(data.len() as u64);
    header.set_mode(0o755);
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

fn archive(entries: &[(&str, tar::EntryType, Option<&str>, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, kind, link, data) in entries {
        entry(&mut builder, name, *kind, *link, data.as_bytes());
    }
    builder.into_inner().unwrap()
}

use tar::EntryType::{Block, Char, Directory, Fifo, Link, Regular, Symlink};

#[test]
fn extracts_files_dirs_links_and_modes() {
    let tar = archive(&[
        ("top/", Directory, None, ""),
        ("top/bin/", Directory, None, ""),
        ("top/bin/tool", Regular, None, "#!/bin/sh\n"),
        ("top/bin/alias", Symlink, Some("tool"), ""),
        ("top/bin/hard", Link, Some("top/bin/tool"), ""),
    ]);
    let dest = tempfile::tempdir().unwrap();
    extract_tar(tar.as_slice(), dest.path(), 1).unwrap();
    let tool = dest.path().join("bin/tool");
    assert_eq!(std::fs::read_to_string(&tool).unwrap(), "#!/bin/sh\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&tool).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }
    assert_eq!(
        std::fs::read_link(dest.path().join("bin/alias")).unwrap(),
        Path::new("tool")
    );
    assert_eq!(
        std::fs::read_to_string(dest.path().join("bin/hard")).unwrap(),
        "#!/bin/sh\n"
    );
}

#[test]
fn extracts_tar_gz() {
    let tar = archive(&[("a.txt", Regular, None, "hi")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let dest = tempfile::tempdir().unwrap();
    extract_tar_gz(gz.finish().unwrap().as_slice(), dest.path(), 0).unwrap();
    assert_eq!(
        std::fs::read_to_string(dest.path().join("a.txt")).unwrap(),
        "hi"
    );
}

fn refused(entries: &[(&str, tar::EntryType, Option<&str>, &str)], reason: &str) {
    let outer = tempfile::tempdir().unwrap();
    let dest = outer.path().join("dest");
    let err = extract_tar(archive(entries).as_slice(), &dest, 0).unwrap_err();
    assert!(matches!(err, ArchiveError::Unsafe { .. }), "{err}");
    assert!(err.to_string().contains(reason), "{err}");
    assert!(!outer.path().join("evil").exists());
}

#[test]
fn refuses_parent_dir_entries() {
    refused(&[("../evil", Regular, None, "x")], "'..'");
    refused(&[("a/../../evil", Regular, None, "x")], "'..'");
}

#[test]
fn refuses_absolute_paths() {
    refused(&[("/tmp/evil", Regular, None, "x")], "absolute path");
}

#[test]
fn refuses_symlinks_escaping_the_destination() {
    refused(
        &[("link", Symlink, Some("../evil"), "")],
        "outside the destination",
    );
    refused(&[("link", Symlink, Some("/etc"), "")], "absolute target");
    refused(
        &[("a/link", Symlink, Some("../../evil"), "")],
        "outside the destination",
    );
}

#[test]
fn refuses_writing_through_a_symlink() {
    refused(
        &[
            ("dir", Symlink, Some("."), ""),
            ("dir/file", Regular, None, "x"),
        ],
        "below a symlink",
    );
}

#[test]
fn refuses_hard_links_escaping_the_destination() {
    refused(
        &[("hard", Link, Some("../evil"), "")],
        "outside the destination",
    );
    refused(
        &[("hard", Link, Some("/etc/passwd"), "")],
        "outside the destination",
    );
}

#[test]
fn refuses_device_files_and_fifos() {
    refused(&[("dev", Char, None, "")], "device file");
    refused(&[("blk", Block, None, "")], "device file");
    refused(&[("fifo", Fifo, None, "")], "FIFO");
}

#[test]
fn corrupt_archive_is_a_read_error() {
    let dest = tempfile::tempdir().unwrap();
    let err = extract_tar_gz(&b"not gzip"[..], dest.path(), 0).unwrap_err();
    assert!(matches!(err, ArchiveError::Read(_)), "{err}");
}

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
