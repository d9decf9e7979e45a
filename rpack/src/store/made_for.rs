//! Which `builder.toml` each builder made on demand was made for, so `rpack prune` can remove the builders of
//! files that are gone.
//!
//! `rpack build --builder path/builder.toml` (and the test harness) make a builder named after the file's path
//! (`localhost/rpack/builder-<hash>`). A builder.toml in a temp dir leaves such an image behind for good: its
//! name cannot be traced back to the file. Each one made this way is recorded here (one small file per builder
//! under `$RPACK_HOME/builder-configs`: its name and the canonical path of its builder.toml); a builder made
//! with `rpack builder create NAME` is the user's own and never recorded.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::oci::reference::ImageRef;
use crate::store::Store;

/// The dir of the records, in the store.
fn dir(store: &Store) -> PathBuf {
    store.home().join("builder-configs")
}

/// Records that the builder `name` was made for the builder.toml at `config`. A record that cannot be written
/// only leaves the builder to `rpack image rm`.
pub(crate) fn remember(store: &Store, name: &ImageRef, config: &Path) {
    let config = fs_err::canonicalize(config).unwrap_or_else(|_| config.to_owned());
    let text = format!("{name}\n{}\n", config.display());
    let key = hex::encode(Sha256::digest(name.to_string().as_bytes()));
    let path = dir(store).join(&key[..32]);
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return;
    }
    if fs_err::create_dir_all(dir(store)).is_ok() {
        let _ = crate::oci::write_atomic(&path, text.as_bytes());
    }
}

/// A builder whose builder.toml is gone, and its record.
pub(crate) struct Orphan {
    /// The builder image.
    pub(crate) name: ImageRef,
    /// Its record, to remove with it.
    pub(crate) record: PathBuf,
}

/// The recorded builders whose builder.toml no longer exists. Unreadable records are left alone.
pub(crate) fn orphans(store: &Store) -> Vec<Orphan> {
    let Ok(entries) = fs_err::read_dir(dir(store)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let mut lines = text.lines();
        let (Some(name), Some(config)) = (lines.next(), lines.next()) else {
            continue;
        };
        let Ok(name) = name.parse::<ImageRef>() else {
            continue;
        };
        // Only a file that is certainly gone counts: a path that cannot be checked keeps its builder.
        if matches!(fs_err::symlink_metadata(config), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
        {
            found.push(Orphan {
                name,
                record: entry.path(),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_is_an_orphan_once_its_builder_toml_is_gone() {
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::at(home.path()).unwrap_or_else(|e| panic!("{e}"));
        let configs = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let kept = configs.path().join("kept.toml");
        let gone = configs.path().join("gone.toml");
        for file in [&kept, &gone] {
            std::fs::write(file, "").unwrap_or_else(|e| panic!("{e}"));
        }
        let name = |n: &str| -> ImageRef { n.parse().unwrap_or_else(|e| panic!("{e}")) };
        remember(&store, &name("localhost/rpack/builder-kept:latest"), &kept);
        remember(&store, &name("localhost/rpack/builder-gone:latest"), &gone);
        assert!(orphans(&store).is_empty());
        std::fs::remove_file(&gone).unwrap_or_else(|e| panic!("{e}"));
        let orphans = orphans(&store);
        assert_eq!(orphans.len(), 1);
        assert_eq!(
            orphans[0].name.to_string(),
            "localhost/rpack/builder-gone:latest"
        );
    }
}
