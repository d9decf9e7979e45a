//! The loopback file server with the SDK's `download` feature, as the tests of a buildpack that downloads
//! files use them.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::sync::{Arc, Mutex};
use std::time::Duration;

use libbuildpack::Output;
use libbuildpack::download::{Download, DownloadError};
use libbuildpack_test::{FileServer, sha256};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn model() -> Vec<u8> {
    (0..50_000u32).flat_map(u32::to_le_bytes).collect()
}

#[test]
fn the_sdk_downloads_a_served_file_and_checks_its_sha256() {
    let model = model();
    let server = FileServer::files([("models/resnet.onnx", model.clone())]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = Buf::default();
    let path = dir.path().join("resnet.onnx");
    let hex = Download::new(server.url("/models/resnet.onnx"))
        .sha256(sha256(&model))
        .to_file(&path, &Output::to_writer(log.clone()))
        .unwrap();
    assert_eq!(hex, sha256(&model));
    assert_eq!(std::fs::read(&path).unwrap(), model);
    assert_eq!(server.requests(), ["/models/resnet.onnx"]);
    // 200 kB: shown in kB, not as "0.2 MB of 0.2 MB".
    assert!(
        log.text().contains("200.0 kB of 200.0 kB in "),
        "{}",
        log.text()
    );
}

#[test]
fn a_missing_file_fails_at_once_without_retrying() {
    let server = FileServer::files([("models/resnet.onnx", model())]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let error = Download::new(server.url("models/bert.onnx"))
        .retry_delay(Duration::from_millis(10))
        .to_file(
            dir.path().join("bert.onnx"),
            &Output::to_writer(Buf::default()),
        )
        .unwrap_err();
    assert!(
        matches!(error, DownloadError::Status { status: 404, .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "could not download {}: the server answered HTTP 404",
            server.url("models/bert.onnx")
        )
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_wrong_checksum_names_both_and_leaves_no_file() {
    let server = FileServer::files([("models/resnet.onnx", model())]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resnet.onnx");
    let error = Download::new(server.url("models/resnet.onnx"))
        .sha256(sha256("something else"))
        .to_file(&path, &Output::to_writer(Buf::default()))
        .unwrap_err();
    let DownloadError::ChecksumMismatch {
        expected, actual, ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(
        (expected.as_str(), actual.as_str()),
        (sha256("something else").as_str(), sha256(model()).as_str())
    );
    assert!(!path.exists());
    assert_eq!(
        server.requests().len(),
        1,
        "a checksum mismatch is not retried"
    );
}

/// A real build on the python stack reaches the server at the URL the test gives it (builds share the host
/// network): the fixture's shell buildpack fetches the model and checks its SHA-256, as a model buildpack would.
#[test]
fn a_real_build_downloads_from_the_file_server() -> Result<(), libbuildpack_test::TestError> {
    use libbuildpack_test::{BuildConfig, TestRunner, assert_contains};

    let model = model();
    let server = FileServer::files([("models/resnet.onnx", model.clone())])?;
    let built = TestRunner::shared()?.build(
        BuildConfig::new("tests/fixtures/download/app")
            .builder_toml("tests/fixtures/download/builder.toml")
            .env("MODEL_URL", server.url("models/resnet.onnx"))
            .env("MODEL_SHA256", sha256(&model)),
    )?;
    assert_contains!(
        built.stdout(),
        format!("model downloaded: 200000 bytes, sha256 {}", sha256(&model))
    );
    assert_eq!(server.requests(), ["/models/resnet.onnx"]);
    Ok(())
}
