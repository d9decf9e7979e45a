//! Directories kept in the build cache volume between builds, keyed like layers.
//!
//! A launch-only layer is never restored, so a buildpack that updates a big directory in place (a
//! venv, a `node_modules`) keeps a copy of it in the build cache volume
//! ([`BuildContext::cache_volume`](crate::BuildContext::cache_volume)) and works on that. A
//! [`KeptDir`] is such a copy with its key recorded next to it (`<name>.toml`), decided by the same
//! [`decide`] as layers. The record is removed when the dir is handed out and written again by
//! [`KeptDir::commit`] once the buildpack has brought the dir up to date, so an interrupted or failed
//! build leaves no dir that claims to match its key.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::decide::{Decision, Policy, Restored, decide};
use super::{InPlace, LayerState};

/// Declares a directory kept in the build cache volume. Made by
/// [`BuildContext::kept_dir`](crate::BuildContext::kept_dir).
#[must_use = "a kept dir is only made by `keyed_by`"]
pub struct KeptDirBuilder<'a> {
    volume: PathBuf,
    name: String,
    in_place: Option<InPlace<'a>>,
}

impl std::fmt::Debug for KeptDirBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptDirBuilder")
            .field("volume", &self.volume)
            .field("name", &self.name)
            .field("update_in_place", &self.in_place.is_some())
            .finish()
    }
}

impl<'a> KeptDirBuilder<'a> {
    pub(crate) fn new(volume: PathBuf, name: &str) -> Self {
        Self {
            volume,
            name: name.to_owned(),
            in_place: None,
        }
    }

    /// Keeps the dir when its recorded key differs from the wanted one but
    /// `compatible(previous, wanted)` holds: the dir is then [`LayerState::Stale`]. See
    /// [`LayerBuilder::update_in_place`](super::LayerBuilder::update_in_place).
    pub fn update_in_place<K, F>(mut self, compatible: F) -> Self
    where
        K: DeserializeOwned,
        F: Fn(&K, &K) -> bool + 'a,
    {
        self.in_place = Some(super::in_place_over_tables(compatible));
        self
    }

    /// Makes the dir: keeps it when its recorded key equals `key` ([`LayerState::Reused`]) or
    /// is compatible with it ([`LayerState::Stale`]), else empties it ([`LayerState::Created`],
    /// [`LayerState::Rebuilt`]). The record is removed either way; [`KeptDir::commit`] writes
    /// `key` once the dir holds what it names.
    ///
    /// ```no_run
    /// # use libbuildpack::prelude::*;
    /// # fn f(ctx: &BuildContext) -> Result<(), libbuildpack::layer::KeptDirError> {
    /// #[derive(Serialize, Deserialize, PartialEq)]
    /// struct Key { python: String, requirements: String }
    /// let key = Key { python: "3.12".into(), requirements: "flask\n".into() };
    /// if let Some(venv) = ctx.kept_dir("venv") {
    ///     let venv = venv
    ///         .update_in_place(|previous: &Key, wanted: &Key| previous.python == wanted.python)
    ///         .keyed_by(&key)?;
    ///     match venv.previous_key::<Key>() {
    ///         Some(previous) => { /* update venv.path() from previous.requirements */ }
    ///         None => { /* make a venv in the empty venv.path() */ }
    ///     }
    ///     venv.commit()?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`KeptDirError`] when the key does not serialize to a TOML table, or the record or the
    /// dir cannot be read, removed or made.
    pub fn keyed_by<K>(self, key: &K) -> Result<KeptDir, KeptDirError>
    where
        K: Serialize + DeserializeOwned + PartialEq,
    {
        let dir = self.volume.join(&self.name);
        let record = self.volume.join(format!("{}.toml", self.name));
        let wanted = match toml::Value::try_from(key) {
            Ok(toml::Value::Table(table)) => table,
            Ok(_) => return Err(KeptDirError::KeyNotATable { dir }),
            Err(source) => return Err(KeptDirError::SerializeKey { dir, source }),
        };
        let restored = read_record(&record, &dir)?;
        let in_place = self.in_place.as_ref().map(|compatible| {
            move |old: &K, new: &K| super::compatible_as_tables(compatible, old, new)
        });
        let policy = Policy {
            update_in_place: in_place.as_ref().map(|f| f as &dyn Fn(&K, &K) -> bool),
            ..Policy::default()
        };
        let decision = decide(&restored, key, &policy);
        remove_if_there(&record).map_err(|source| KeptDirError::RemoveRecord {
            path: record.clone(),
            source,
        })?;
        let kept = |state| {
            let previous = match restored {
                Restored::Key { key, .. } => Some(key),
                _ => None,
            };
            (state, previous)
        };
        let (state, previous) = match decision {
            Decision::Create => (reset(&dir, LayerState::Created)?, None),
            Decision::Recreate { reason } => (reset(&dir, LayerState::Rebuilt { reason })?, None),
            Decision::Reuse { contents, .. } | Decision::Migrate { contents, .. } => {
                kept(LayerState::Reused { contents })
            }
            Decision::KeepStale { reason, .. } => kept(LayerState::Stale { reason }),
        };
        Ok(KeptDir {
            dir,
            record,
            key: wanted,
            state,
            previous,
        })
    }
}

/// A directory in the build cache volume, made by [`KeptDirBuilder::keyed_by`].
#[derive(Debug, Clone)]
pub struct KeptDir {
    dir: PathBuf,
    record: PathBuf,
    key: toml::Table,
    state: LayerState,
    previous: Option<toml::Table>,
}

impl KeptDir {
    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// What happened to it: [`Created`](LayerState::Created) or
    /// [`Rebuilt`](LayerState::Rebuilt) (empty), [`Reused`](LayerState::Reused) or
    /// [`Stale`](LayerState::Stale) (kept).
    #[must_use]
    pub fn state(&self) -> &LayerState {
        &self.state
    }

    /// Whether the dir is empty and must be filled from scratch.
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.state.is_new()
    }

    /// The key the kept files were made for (reused or stale), when it reads as `K`.
    #[must_use]
    pub fn previous_key<K: DeserializeOwned>(&self) -> Option<K> {
        super::describe::key_from(self.previous.as_ref())
    }

    /// Records that the dir now holds what the key passed to
    /// [`keyed_by`](KeptDirBuilder::keyed_by) names (written atomically).
    ///
    /// # Errors
    ///
    /// [`KeptDirError::WriteRecord`] when the record cannot be written.
    pub fn commit(&self) -> Result<(), KeptDirError> {
        let err = |source| KeptDirError::WriteRecord {
            path: self.record.clone(),
            source,
        };
        let text = toml::to_string(&self.key).map_err(|e| err(std::io::Error::other(e)))?;
        let tmp = self.record.with_extension("toml.new");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.record))
            .map_err(err)
    }
}

/// Making a [`KeptDir`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeptDirError {
    /// The key could not be serialized to TOML.
    #[error("could not store the key of {} as TOML", dir.display())]
    SerializeKey {
        /// The dir.
        dir: PathBuf,
        /// Why.
        #[source]
        source: toml::ser::Error,
    },
    /// The key serialized to something other than a table.
    #[error("the key of {} must serialize to a TOML table (use a struct or a map)", dir.display())]
    KeyNotATable {
        /// The dir.
        dir: PathBuf,
    },
    /// The record could not be read.
    #[error("could not read the key record {}", path.display())]
    ReadRecord {
        /// The record.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The record could not be removed before the dir was handed out.
    #[error("could not remove the key record {}", path.display())]
    RemoveRecord {
        /// The record.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The record could not be written.
    #[error("could not write the key record {}", path.display())]
    WriteRecord {
        /// The record.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The dir could not be emptied or made.
    #[error("could not empty the kept directory {}", path.display())]
    Reset {
        /// The dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn read_record(record: &Path, dir: &Path) -> Result<Restored, KeptDirError> {
    let text = match std::fs::read_to_string(record) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Restored::Nothing),
        Err(source) => {
            return Err(KeptDirError::ReadRecord {
                path: record.to_owned(),
                source,
            });
        }
    };
    Ok(match text.parse::<toml::Table>() {
        Ok(key) => Restored::Key {
            key,
            files: dir.is_dir(),
        },
        Err(e) => Restored::Unreadable(format!("its key record could not be read: {e}")),
    })
}

fn remove_if_there(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn reset(dir: &Path, state: LayerState) -> Result<LayerState, KeptDirError> {
    let err = |source| KeptDirError::Reset {
        path: dir.to_owned(),
        source,
    };
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(e)),
        _ => {}
    }
    std::fs::create_dir_all(dir).map_err(err)?;
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
    struct Key {
        python: String,
        installed: String,
    }

    fn key(python: &str, installed: &str) -> Key {
        Key {
            python: python.into(),
            installed: installed.into(),
        }
    }

    fn make(volume: &Path, wanted: &Key) -> KeptDir {
        KeptDirBuilder::new(volume.to_owned(), "venv")
            .update_in_place(|old: &Key, new: &Key| old.python == new.python)
            .keyed_by(wanted)
            .unwrap()
    }

    #[test]
    fn a_committed_dir_is_kept_stale_for_a_compatible_key_and_emptied_for_another() {
        let volume = tempfile::tempdir().unwrap();
        let first = make(volume.path(), &key("3.12", "flask"));
        assert_eq!(first.state(), &LayerState::Created);
        std::fs::write(first.path().join("pyvenv.cfg"), "home\n").unwrap();
        first.commit().unwrap();

        let same = make(volume.path(), &key("3.12", "flask"));
        assert!(matches!(
            same.state(),
            LayerState::Reused { contents: true }
        ));
        assert_eq!(same.previous_key(), Some(key("3.12", "flask")));
        // Handed out: no record until committed again.
        assert!(!volume.path().join("venv.toml").exists());
        same.commit().unwrap();

        let stale = make(volume.path(), &key("3.12", "flask six"));
        assert_eq!(
            stale.state(),
            &LayerState::Stale {
                reason: "installed changed (flask → flask six)".into()
            }
        );
        assert_eq!(stale.previous_key(), Some(key("3.12", "flask")));
        assert!(stale.path().join("pyvenv.cfg").is_file());
        stale.commit().unwrap();

        let other = make(volume.path(), &key("3.13", "flask six"));
        assert!(matches!(other.state(), LayerState::Rebuilt { .. }));
        assert_eq!(other.previous_key::<Key>(), None);
        assert!(!other.path().join("pyvenv.cfg").exists());
    }

    #[test]
    fn an_uncommitted_dir_is_not_trusted() {
        let volume = tempfile::tempdir().unwrap();
        let first = make(volume.path(), &key("3.12", "flask"));
        std::fs::write(first.path().join("half"), "").unwrap();
        // No commit: the build failed half-way.
        let next = make(volume.path(), &key("3.12", "flask"));
        assert_eq!(next.state(), &LayerState::Created);
        assert!(!next.path().join("half").exists());
    }

    #[test]
    fn an_unreadable_record_empties_the_dir() {
        let volume = tempfile::tempdir().unwrap();
        std::fs::create_dir(volume.path().join("venv")).unwrap();
        std::fs::write(volume.path().join("venv.toml"), "python = ").unwrap();
        let dir = make(volume.path(), &key("3.12", "flask"));
        assert!(matches!(dir.state(), LayerState::Rebuilt { .. }));
    }
}
