use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::toolbox::scratch::ScratchFile;
use flate2::Compression;
use flate2::write::GzEncoder;

use super::digest::{Digest, HashingWriter};
use super::layout::{Layout, LayoutError};

/// The mtime of every entry in the layers rpack writes: 1980-01-01T00:00:01Z, as the lifecycle and pack use.
pub const NORMALIZED_MTIME: u64 = 315_532_801;

/// A layer blob written into a layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// Digest of the gzipped blob.
    pub digest: Digest,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: Digest,
    /// Size of the gzipped blob in bytes.
    pub size: u64,
}

type Sink = HashingWriter<GzEncoder<HashingWriter<ScratchFile>>>;

/// Writes one reproducible layer: entries get fixed mtimes, empty user names and the given owner, and the
/// tar is gzipped and hashed as it is written, into a temp file in the layout that is renamed to its digest.
///
/// Callers add entries in the order they want them; [`LayerWriter::tree`] adds a directory sorted by name.
pub struct LayerWriter {
    tar: tar::Builder<Sink>,
    blobs: PathBuf,
    uid: u64,
    gid: u64,
    mtime: u64,
}

impl LayerWriter {
    /// Starts a layer in `layout`, with entries owned by `uid:gid` until [`LayerWriter::owner`] changes it.
    ///
    /// # Errors
    /// When the temp file cannot be created in the layout's blob dir.
    pub fn new(layout: &Layout) -> Result<Self, LayoutError> {
        let blobs = layout.blobs_dir();
        let temp = layout.temp_blob()?;
        let gz = GzEncoder::new(HashingWriter::new(temp), Compression::new(6));
        let mut tar = tar::Builder::new(HashingWriter::new(gz));
        tar.mode(tar::HeaderMode::Deterministic);
        Ok(Self {
            tar,
            blobs,
            uid: 0,
            gid: 0,
            mtime: NORMALIZED_MTIME,
        })
    }

    /// Sets the owner of entries added from now on.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn owner(mut self, uid: u64, gid: u64) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }

    /// Sets the owner of entries added from now on, without consuming the writer.
    pub(crate) fn set_owner(&mut self, uid: u64, gid: u64) {
        self.uid = uid;
        self.gid = gid;
    }

    /// Sets the mtime of entries added from now on (default [`NORMALIZED_MTIME`]; packaging honours
    /// `SOURCE_DATE_EPOCH`).
    pub(crate) fn set_mtime(&mut self, mtime: u64) {
        self.mtime = mtime;
    }

    fn header(&self, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(self.mtime);
        header.set_uid(self.uid);
        header.set_gid(self.gid);
        header
    }

    /// Adds a directory entry.
    ///
    /// # Errors
    /// On write errors.
    pub fn dir(&mut self, path: &str, mode: u32) -> io::Result<()> {
        let mut header = self.header(tar::EntryType::Directory, mode, 0);
        self.tar.append_data(
            &mut header,
            format!("{}/", path.trim_end_matches('/')),
            io::empty(),
        )
    }

    /// Adds a regular file with `content`.
    ///
    /// # Errors
    /// On write errors.
    pub fn file(&mut self, path: &str, mode: u32, content: &[u8]) -> io::Result<()> {
        let mut header = self.header(tar::EntryType::Regular, mode, content.len() as u64);
        self.tar.append_data(&mut header, path, content)
    }

    /// Adds a regular file streamed from `src`; mode is 0755 when `src` has any exec bit, else 0644.
    ///
    /// # Errors
    /// When `src` cannot be read, or on write errors.
    pub(crate) fn file_from(&mut self, path: &str, src: &Path) -> io::Result<()> {
        let file = fs_err::File::open(src)?;
        let meta = file.metadata()?;
        let mode = if meta.permissions().mode() & 0o111 == 0 {
            0o644
        } else {
            0o755
        };
        let mut header = self.header(tar::EntryType::Regular, mode, meta.len());
        self.tar.append_data(&mut header, path, file)
    }

    /// Adds a symlink.
    ///
    /// # Errors
    /// On write errors.
    pub fn symlink(&mut self, path: &str, target: &str) -> io::Result<()> {
        self.symlink_with_mode(path, target, 0o777)
    }

    /// Adds a symlink whose header carries `mode` (pack writes 0755 for every entry of a buildpack).
    ///
    /// # Errors
    /// On write errors.
    pub(crate) fn symlink_with_mode(
        &mut self,
        path: &str,
        target: &str,
        mode: u32,
    ) -> io::Result<()> {
        let mut header = self.header(tar::EntryType::Symlink, mode, 0);
        self.tar.append_link(&mut header, path, target)
    }

    /// Adds `src` and everything below it at `dest`, sorted by name, with normalized modes (0755 for dirs and
    /// executables, 0644 otherwise). Symlinks are kept as links.
    ///
    /// # Errors
    /// When a file cannot be read, or on write errors.
    pub fn tree(&mut self, dest: &str, src: &Path) -> io::Result<()> {
        self.tree_with_link_mode(dest, src, 0o777)
    }

    /// Like [`Self::tree`], but symlink headers carry `link_mode` (pack writes 0755 for every entry of a
    /// buildpack).
    ///
    /// # Errors
    /// When a file cannot be read, or on write errors.
    pub(crate) fn tree_with_link_mode(
        &mut self,
        dest: &str,
        src: &Path,
        link_mode: u32,
    ) -> io::Result<()> {
        self.dir(dest, 0o755)?;
        let mut entries = fs_err::read_dir(src)?.collect::<io::Result<Vec<_>>>()?;
        entries.sort_by_key(fs_err::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not UTF-8", entry.path().display()),
                )
            })?;
            let target = format!("{}/{name}", dest.trim_end_matches('/'));
            let kind = entry.file_type()?;
            if kind.is_symlink() {
                let link = fs_err::read_link(entry.path())?;
                self.symlink_with_mode(&target, &link.to_string_lossy(), link_mode)?;
            } else if kind.is_dir() {
                self.tree_with_link_mode(&target, &entry.path(), link_mode)?;
            } else if kind.is_file() {
                self.file_from(&target, &entry.path())?;
            } else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is not a file, directory or symlink",
                        entry.path().display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Finishes the tar and gzip streams and moves the blob into place under its digest.
    ///
    /// # Errors
    /// On write or rename errors.
    pub fn finish(self) -> Result<Layer, LayoutError> {
        let sink = self.tar.into_inner().map_err(LayoutError::WriteBlob)?;
        finish_sink(sink, &self.blobs)
    }

    /// Writes an existing uncompressed tar stream (for example a root filesystem) as a layer, unchanged.
    ///
    /// # Errors
    /// When `tar` cannot be read, or on write errors.
    pub(crate) fn from_tar_stream(
        layout: &Layout,
        mut tar: impl Read,
    ) -> Result<Layer, LayoutError> {
        let temp = layout.temp_blob()?;
        let gz = GzEncoder::new(HashingWriter::new(temp), Compression::new(6));
        let mut sink = HashingWriter::new(gz);
        io::copy(&mut tar, &mut sink).map_err(LayoutError::WriteBlob)?;
        finish_sink(sink, &layout.blobs_dir())
    }
}

fn finish_sink(sink: Sink, blobs: &Path) -> Result<Layer, LayoutError> {
    let (gz, diff_id, _) = sink.finish();
    let compressed = gz.finish().map_err(LayoutError::WriteBlob)?;
    let (mut temp, digest, size) = compressed.finish();
    temp.flush().map_err(LayoutError::WriteBlob)?;
    super::layout::make_readable(temp.as_file()).map_err(LayoutError::WriteBlob)?;
    let dest = blobs.join(digest.hex());
    temp.persist(&dest)
        .map_err(|e| LayoutError::WriteBlob(e.error))?;
    Ok(Layer {
        digest,
        diff_id,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_sample(layout: &Layout) -> Layer {
        let mut w = LayerWriter::new(layout).unwrap().owner(1000, 1000);
        w.dir("workspace", 0o755).unwrap();
        w.file("workspace/a.txt", 0o644, b"a").unwrap();
        w.symlink("workspace/b", "a.txt").unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn same_entries_give_the_same_digests() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path().join("img")).unwrap();
        let a = write_sample(&layout);
        let b = write_sample(&layout);
        assert_eq!(a, b);
        assert!(layout.blobs_dir().join(a.digest.hex()).is_file());
    }

    #[test]
    fn entries_have_fixed_mtime_and_owner() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path().join("img")).unwrap();
        let layer = write_sample(&layout);
        let blob = fs_err::File::open(layout.blobs_dir().join(layer.digest.hex())).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(blob));
        let headers: Vec<_> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mtime().unwrap(),
                    e.header().uid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            headers,
            vec![
                ("workspace/".to_owned(), NORMALIZED_MTIME, 1000),
                ("workspace/a.txt".to_owned(), NORMALIZED_MTIME, 1000),
                ("workspace/b".to_owned(), NORMALIZED_MTIME, 1000),
            ]
        );
    }
}
