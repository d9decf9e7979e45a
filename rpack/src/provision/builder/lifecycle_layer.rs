//! The builder's `/cnb/lifecycle` layer, gzipped once per installed lifecycle and linked into every builder
//! after that: compressing the lifecycle's 25 MB was most of the time of a builder with few buildpacks.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::oci::{Image, Layer, LayerWriter, Layout};
use crate::provision::Error;
use crate::provision::lifecycle::Lifecycle;
use crate::store::Store;

/// The record of the cached layer, next to its blob: which lifecycle files it was made from.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Record {
    key: String,
    digest: String,
    diff_id: String,
    size: u64,
}

/// Adds `/cnb/lifecycle` (the lifecycle binary, its phase links and the launcher) to `image` in `staging`.
///
/// The layer is kept in the store (`lifecycle-layers/<version>`, outside the lifecycle's dir, whose files are a
/// builder input), keyed by rpack's version and every lifecycle file's name, size, mode, mtime and link target.
pub(super) fn add(
    store: &Store,
    image: &mut Image,
    staging: &Layout,
    lifecycle: &Lifecycle,
) -> Result<(), Error> {
    let history = format!("rpack: lifecycle {}", lifecycle.version());
    let dir = store
        .home()
        .join("lifecycle-layers")
        .join(lifecycle.version());
    let layer = cached(&dir, staging, lifecycle)?;
    image.add_layer(&layer, &history)?;
    Ok(())
}

fn write(layout: &Layout, lifecycle: &Lifecycle) -> Result<Layer, Error> {
    let mut layer = LayerWriter::new(layout)?;
    layer
        .dir("cnb", 0o755)
        .map_err(super::io_err("write", layout.root()))?;
    let bin = lifecycle.binaries_dir();
    layer
        .tree("cnb/lifecycle", &bin)
        .map_err(super::io_err("add", &bin))?;
    Ok(layer.finish()?)
}

fn cached(dir: &Path, staging: &Layout, lifecycle: &Lifecycle) -> Result<Layer, Error> {
    let record_path = dir.join("layer.json");
    let key = key(&lifecycle.binaries_dir());
    let cache = Layout::create(dir)?;
    if let Some(layer) = key.as_deref().and_then(|key| read(&record_path, key))
        && cache.has_blob(&layer.digest)
    {
        staging.import_blob(&cache, &layer.digest)?;
        return Ok(layer);
    }
    let layer = write(&cache, lifecycle)?;
    if let Some(key) = key {
        let record = Record {
            key,
            digest: layer.digest.to_string(),
            diff_id: layer.diff_id.to_string(),
            size: layer.size,
        };
        // A record that cannot be written only costs the next builder the compression again.
        if let Ok(json) = serde_json::to_vec(&record) {
            let _ = crate::oci::write_atomic(&record_path, &json);
        }
    }
    staging.import_blob(&cache, &layer.digest)?;
    Ok(layer)
}

fn read(path: &Path, key: &str) -> Option<Layer> {
    let bytes = std::fs::read(path).ok()?;
    let record: Record = serde_json::from_slice(&bytes).ok()?;
    if record.key != key {
        return None;
    }
    Some(Layer {
        digest: record.digest.parse().ok()?,
        diff_id: record.diff_id.parse().ok()?,
        size: record.size,
    })
}

/// rpack's version and each file's relative path, size, mode, mtime and link target, hashed; `None` when the
/// dir cannot be listed (then nothing is cached).
fn key(bin: &Path) -> Option<String> {
    let mut files = Vec::new();
    list(bin, &mut files).ok()?;
    files.sort();
    let mut feed = super::sources::Feed::new();
    feed.bytes(env!("CARGO_PKG_VERSION").as_bytes());
    for path in files {
        let meta = std::fs::symlink_metadata(&path).ok()?;
        let link = std::fs::read_link(&path).unwrap_or_default();
        feed.bytes(path.strip_prefix(bin).ok()?.as_os_str().as_encoded_bytes());
        feed.bytes(&meta.len().to_le_bytes());
        feed.bytes(&meta.mode().to_le_bytes());
        feed.bytes(&meta.mtime().to_le_bytes());
        feed.bytes(link.as_os_str().as_encoded_bytes());
    }
    Some(feed.finish())
}

fn list(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        out.push(entry.path());
        if entry.file_type()?.is_dir() {
            list(&entry.path(), out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifecycle(dir: &Path, binary: &str) -> Lifecycle {
        let bin = dir.join("lifecycle");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(
            dir.join("lifecycle.toml"),
            "[lifecycle]\nversion = \"0.21.17\"\n",
        )
        .unwrap();
        std::fs::write(bin.join("lifecycle"), binary).unwrap();
        std::fs::write(bin.join("launcher"), "launcher").unwrap();
        Lifecycle::at(dir).unwrap()
    }

    #[test]
    fn the_layer_is_made_once_and_again_when_a_lifecycle_file_changes() {
        let temp = tempfile::tempdir().unwrap();
        let cache = temp.path().join("cache");
        let staging = Layout::create(temp.path().join("staging")).unwrap();
        let first = cached(&cache, &staging, &lifecycle(&temp.path().join("lc"), "v1")).unwrap();
        assert!(staging.has_blob(&first.digest));
        let blob = Layout::create(&cache).unwrap().blob_path(&first.digest);
        let made = std::fs::metadata(&blob).unwrap().modified().unwrap();

        let other = Layout::create(temp.path().join("other")).unwrap();
        let again = cached(&cache, &other, &lifecycle(&temp.path().join("lc"), "v1")).unwrap();
        assert_eq!(again, first);
        assert!(other.has_blob(&first.digest));
        assert_eq!(std::fs::metadata(&blob).unwrap().modified().unwrap(), made);

        let changed = cached(
            &cache,
            &other,
            &lifecycle(&temp.path().join("lc"), "v2 is longer"),
        )
        .unwrap();
        assert_ne!(changed.diff_id, first.diff_id);
        assert!(other.has_blob(&changed.digest));
    }
}
