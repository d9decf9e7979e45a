//! Reading blobs and `index.json` from a layout that may come from an untrusted archive: files are opened
//! without following symlinks and must be regular files, reads stop at the size the descriptor declares, and
//! the content is checked against its digest as it streams by.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::digest::Digest;

/// The most rpack reads of a JSON document (`index.json`, a manifest, a config). Real ones are a few kB; a
/// builder config with every label is well under 1 MiB.
pub(crate) const MAX_JSON_SIZE: u64 = 16 * 1024 * 1024;

/// What is wrong with a blob or `index.json` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobProblem {
    /// It is a symlink, which rpack does not follow out of a layout.
    Symlink,
    /// It is not a regular file.
    NotRegular(&'static str),
    /// Its size differs from its descriptor's.
    Size {
        /// The size on disk.
        actual: u64,
        /// The size the descriptor declares.
        declared: u64,
    },
    /// It grew past its descriptor's size while being read.
    Longer {
        /// The size the descriptor declares.
        declared: u64,
    },
    /// It is bigger than rpack reads for its kind.
    TooBig {
        /// The size on disk or declared.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// Its content does not hash to its digest.
    Digest {
        /// What the content hashes to.
        actual: Digest,
    },
    /// It is a layer whose uncompressed tar does not hash to the diff id the image config lists for it.
    DiffId {
        /// Which layer, from 1, base first.
        layer: usize,
        /// What the tar hashes to.
        actual: Digest,
        /// The diff id the config lists (boxed: it keeps every error that carries a blob problem small).
        listed: Box<str>,
    },
    /// It is a layer compressed in a way rpack cannot unpack.
    Compression {
        /// Which layer, from 1, base first.
        layer: usize,
        /// The compression.
        name: &'static str,
    },
    /// It is a layer that unpacks to more than rpack reads of one.
    Unpacked {
        /// Which layer, from 1, base first.
        layer: usize,
        /// The cap in bytes.
        max: u64,
    },
}

impl fmt::Display for BlobProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Symlink => {
                f.write_str("is a symlink; rpack follows no symlinks in an image layout")
            }
            Self::NotRegular(what) => write!(f, "is {what}, not a regular file"),
            Self::Size { actual, declared } => write!(
                f,
                "has {actual} bytes but its descriptor declares {declared}"
            ),
            Self::Longer { declared } => write!(
                f,
                "has more bytes than the {declared} its descriptor declares"
            ),
            Self::TooBig { size, max } => write!(
                f,
                "has {size} bytes, more than the {max} rpack reads for a JSON document"
            ),
            Self::Digest { actual } => write!(
                f,
                "does not match its digest (its content hashes to {actual})"
            ),
            Self::DiffId {
                layer,
                actual,
                listed,
            } => write!(
                f,
                "(layer {layer}) unpacks to {actual}, not to {listed}, the diff id the image config lists for it"
            ),
            Self::Compression { layer, name } => write!(
                f,
                "(layer {layer}) is compressed with {name}, which rpack cannot unpack to check it against its diff id"
            ),
            Self::Unpacked { layer, max } => write!(
                f,
                "(layer {layer}) unpacks to more than {max} bytes, the cap on one layer; if you trust the image, set \
                 {} to a larger number of bytes",
                super::extract::MAX_BYTES_VAR
            ),
        }
    }
}

impl std::error::Error for BlobProblem {}

impl From<BlobProblem> for io::Error {
    /// An [`io::ErrorKind::InvalidData`] error holding the problem (see [`problem_of`]).
    fn from(problem: BlobProblem) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, problem)
    }
}

/// Why a file could not be opened as a regular file.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The file is unusable.
    Problem(BlobProblem),
    /// The open or stat failed.
    Io(io::Error),
}

impl From<OpenError> for io::Error {
    fn from(err: OpenError) -> Self {
        match err {
            OpenError::Problem(problem) => io::Error::new(io::ErrorKind::InvalidData, problem),
            OpenError::Io(err) => err,
        }
    }
}

/// Opens `path` for reading without following a symlink at its last component and without blocking on a
/// fifo, and checks that it is a regular file. Returns it with its size.
pub(crate) fn open_regular(path: &Path) -> Result<(File, u64), OpenError> {
    open_checked(path, libc::O_NOFOLLOW)
}

/// Opens a file the user named (symlinks followed, as for any path given on the command line) and checks
/// that it is a regular file, without blocking on a fifo. Returns it with its size.
pub(crate) fn open_user_file(path: &Path) -> io::Result<(File, u64)> {
    open_checked(path, 0).map_err(|err| match err {
        OpenError::Problem(BlobProblem::NotRegular(what)) => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file"),
        ),
        other => other.into(),
    })
}

fn open_checked(path: &Path, flags: i32) -> Result<(File, u64), OpenError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|err| {
            if err.raw_os_error() == Some(libc::ELOOP) && flags & libc::O_NOFOLLOW != 0 {
                OpenError::Problem(BlobProblem::Symlink)
            } else {
                OpenError::Io(err)
            }
        })?;
    let meta = file.metadata().map_err(OpenError::Io)?;
    if !meta.is_file() {
        return Err(OpenError::Problem(BlobProblem::NotRegular(
            crate::toolbox::format::describe_file_type(meta.file_type()),
        )));
    }
    Ok((file, meta.len()))
}

/// Reads at most `max` bytes of the regular file at `path` (not through a symlink).
pub(crate) fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, OpenError> {
    let (file, len) = open_regular(path)?;
    if len > max {
        return Err(OpenError::Problem(BlobProblem::TooBig { size: len, max }));
    }
    let mut bytes = Vec::new();
    // The file may grow after the stat: the cap holds whatever it does.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(OpenError::Io)?;
    if bytes.len() as u64 > max {
        return Err(OpenError::Problem(BlobProblem::TooBig {
            size: bytes.len() as u64,
            max,
        }));
    }
    Ok(bytes)
}

/// A blob opened for streaming: reads end at the declared size, and reaching the end checks the byte count
/// and the digest, failing the read (with an [`io::ErrorKind::InvalidData`] error holding a [`BlobProblem`])
/// when either is wrong. Call [`BlobReader::finish`] to check a blob whose reader stopped early.
pub(crate) struct BlobReader {
    file: File,
    hasher: Sha256,
    read: u64,
    size: u64,
    digest: Digest,
    /// The outcome of the check at the end, once made: a failed blob keeps failing.
    verdict: Option<Result<(), BlobProblem>>,
}

impl BlobReader {
    /// Opens the blob file at `path` that the descriptor (`digest`, `size`) names.
    pub(crate) fn open(path: &Path, digest: &Digest, size: u64) -> Result<Self, OpenError> {
        let (file, len) = open_regular(path)?;
        if len != size {
            return Err(OpenError::Problem(BlobProblem::Size {
                actual: len,
                declared: size,
            }));
        }
        Ok(Self {
            file,
            hasher: Sha256::new(),
            read: 0,
            size,
            digest: digest.clone(),
            verdict: None,
        })
    }

    fn check(&mut self) -> io::Result<()> {
        let verdict = self.verdict.get_or_insert_with(|| {
            if self.read != self.size {
                return Err(BlobProblem::Size {
                    actual: self.read,
                    declared: self.size,
                });
            }
            let actual = Digest::from_sha256(self.hasher.clone().finalize().as_slice());
            if actual == self.digest {
                Ok(())
            } else {
                Err(BlobProblem::Digest { actual })
            }
        });
        verdict
            .clone()
            .map_err(|problem| io::Error::new(io::ErrorKind::InvalidData, problem))
    }

    /// Reads the rest of the blob and checks its size and digest.
    ///
    /// # Errors
    /// On read errors, or an [`io::ErrorKind::InvalidData`] error holding the [`BlobProblem`].
    pub(crate) fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self, &mut io::sink())?;
        self.check()
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.size - self.read;
        if left == 0 {
            // One byte more than declared means the file grew: refuse rather than read on.
            let mut probe = [0_u8; 1];
            if self.verdict.is_none() && self.file.read(&mut probe)? > 0 {
                self.verdict = Some(Err(BlobProblem::Longer {
                    declared: self.size,
                }));
            }
            self.check()?;
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            self.check()?;
            return Ok(0);
        }
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

/// The [`BlobProblem`] inside an error from a [`BlobReader`], if that is what it is.
#[must_use]
pub(crate) fn problem_of(err: &io::Error) -> Option<&BlobProblem> {
    err.get_ref().and_then(|inner| inner.downcast_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(dir: &Path, bytes: &[u8]) -> (std::path::PathBuf, Digest) {
        let digest = Digest::of(bytes);
        let path = dir.join(digest.hex());
        std::fs::write(&path, bytes).unwrap();
        (path, digest)
    }

    #[test]
    fn a_good_blob_reads_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (path, digest) = blob(dir.path(), b"hello");
        let mut reader = BlobReader::open(&path, &digest, 5).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello");
        reader.finish().unwrap();
    }

    #[test]
    fn a_tampered_blob_fails_at_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let (path, digest) = blob(dir.path(), b"hello");
        std::fs::write(&path, b"jello").unwrap();
        let mut reader = BlobReader::open(&path, &digest, 5).unwrap();
        let mut out = Vec::new();
        let err = reader.read_to_end(&mut out).unwrap_err();
        assert!(
            matches!(problem_of(&err), Some(BlobProblem::Digest { .. })),
            "{err}"
        );
        // A reader that stopped early is checked by finish.
        let mut reader = BlobReader::open(&path, &digest, 5).unwrap();
        reader.read_exact(&mut [0; 2]).unwrap();
        let err = reader.finish().unwrap_err();
        assert!(
            matches!(problem_of(&err), Some(BlobProblem::Digest { .. })),
            "{err}"
        );
    }

    #[test]
    fn a_size_other_than_declared_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let (path, digest) = blob(dir.path(), b"hello");
        let Err(OpenError::Problem(problem)) = BlobReader::open(&path, &digest, 4) else {
            panic!("a 5-byte blob declared as 4 bytes was opened");
        };
        assert_eq!(
            problem.to_string(),
            "has 5 bytes but its descriptor declares 4"
        );
    }

    #[test]
    fn symlinks_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(matches!(
            open_regular(&link),
            Err(OpenError::Problem(BlobProblem::Symlink))
        ));
        assert!(matches!(
            open_regular(Path::new("/dev/zero")),
            Err(OpenError::Problem(BlobProblem::NotRegular(
                "a character device"
            )))
        ));
    }

    #[test]
    fn capped_reads_refuse_big_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.json");
        std::fs::write(&path, vec![b' '; 100]).unwrap();
        assert_eq!(read_capped(&path, 100).unwrap().len(), 100);
        assert!(matches!(
            read_capped(&path, 99),
            Err(OpenError::Problem(BlobProblem::TooBig {
                size: 100,
                max: 99
            }))
        ));
    }
}
