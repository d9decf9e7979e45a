//! OCI archives: an image layout written as one tar, as pack writes `.cnb` files and `rpack image export`
//! writes images.

use std::io::{self, Write};
use std::path::Path;

/// The mtime of every entry: `SOURCE_DATE_EPOCH` when set, else 1980-01-01T00:00:01Z.
#[must_use]
pub(crate) fn mtime() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(super::NORMALIZED_MTIME)
}

/// Writes the layout at `root` as a `.cnb` tar to `out`, as pack does: names with a leading `/`, no root
/// entry, dirs first in walk order, uid/gid 0, mode 0755, fixed mtime. Temp files in the layout are skipped.
///
/// # Errors
/// On read or write errors.
pub fn write_archive(root: &Path, out: impl Write) -> io::Result<()> {
    write_archive_of(root, |_| true, out)
}

/// [`write_archive`] with only the blobs whose hex digest `keep` accepts.
///
/// # Errors
/// On read or write errors.
pub(crate) fn write_archive_of(
    root: &Path,
    keep: impl Fn(&str) -> bool,
    out: impl Write,
) -> io::Result<()> {
    let mut tar = tar::Builder::new(out);
    let when = mtime();
    let mut append = |name: &str, kind: tar::EntryType, src: Option<&Path>| -> io::Result<()> {
        let mut header = tar::Header::new_gnu();
        let bytes = name.as_bytes();
        if bytes.len() >= 100 {
            return Err(io::Error::other(format!(
                "{name} is too long for a tar name"
            )));
        }
        header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        header.set_entry_type(kind);
        header.set_mode(0o755);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(when);
        if let Some(path) = src {
            // Not through a symlink, and exactly the size the header says even if the file changes.
            let (file, len) = super::open_regular(path).map_err(|e| {
                let err = io::Error::from(e);
                io::Error::new(err.kind(), format!("{}: {err}", path.display()))
            })?;
            header.set_size(len);
            header.set_cksum();
            tar.append(&header, io::Read::take(file, len))
        } else {
            header.set_size(0);
            header.set_cksum();
            tar.append(&header, io::empty())
        }
    };
    append("/blobs", tar::EntryType::Directory, None)?;
    append("/blobs/sha256", tar::EntryType::Directory, None)?;
    let blobs = root.join("blobs/sha256");
    let mut names: Vec<String> = fs_err::read_dir(&blobs)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && keep(n))
        .collect();
    names.sort();
    for name in names {
        append(
            &format!("/blobs/sha256/{name}"),
            tar::EntryType::Regular,
            Some(&blobs.join(&name)),
        )?;
    }
    append(
        "/index.json",
        tar::EntryType::Regular,
        Some(&root.join("index.json")),
    )?;
    append(
        "/oci-layout",
        tar::EntryType::Regular,
        Some(&root.join("oci-layout")),
    )?;
    tar.into_inner()?.flush()
}
