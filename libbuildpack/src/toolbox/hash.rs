//! SHA-256 as lowercase hex, of bytes or of a file read in chunks (a big file is never held in memory).
//!
//! ```
//! use libbuildpack::toolbox::hash::{sha256_file, sha256_hex};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("uv.lock"), "abc")?;
//! let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
//! assert_eq!(sha256_file(&dir.path().join("uv.lock"))?, hex);
//! assert_eq!(sha256_hex(b"abc"), hex);
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// A file could not be read to hash it.
#[derive(Debug, thiserror::Error)]
#[error("could not read {} to hash it", path.display())]
pub struct HashError {
    /// The file.
    pub path: PathBuf,
    /// Why it could not be read.
    pub source: std::io::Error,
}

/// The SHA-256 of `bytes`, as lowercase hex.
#[must_use]
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex(&Sha256::digest(bytes.as_ref()))
}

/// The SHA-256 of the file at `path`, streamed, as lowercase hex.
///
/// # Errors
/// [`HashError`] naming the file when it cannot be opened or read.
pub fn sha256_file(path: &Path) -> Result<String, HashError> {
    let err = |source| HashError {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(err(e)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// `bytes` as lowercase hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named() {
        let err = sha256_file(Path::new("/nonexistent/uv.lock")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not read /nonexistent/uv.lock to hash it"
        );
    }

    #[test]
    fn files_bigger_than_the_buffer_hash_as_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("big"), &bytes).unwrap();
        assert_eq!(
            sha256_file(&dir.path().join("big")).unwrap(),
            sha256_hex(&bytes)
        );
    }
}
