//! What becomes of a layer, decided from what the previous build left and the key wanted now.
//!
//! [`decide`] is a pure function: it reads no files and writes none, so every rule is tested
//! with plain values. [`LayerBuilder::keyed_by`](super::LayerBuilder::keyed_by) (and
//! [`KeptDirBuilder::keyed_by`](super::KeptDirBuilder::keyed_by)) find what was restored, call it,
//! and apply the [`Decision`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::describe::{describe_change, describe_unchanged, whole_floats_as_integers};

/// What the previous build left for a layer, as found before deciding.
#[derive(Debug, Clone, PartialEq)]
pub enum Restored {
    /// No stored key: no `<layer>.toml`, or one without `[metadata]`.
    Nothing,
    /// A stored key that could not be read, and why.
    Unreadable(String),
    /// The stored key, and whether the layer's files are here.
    Key {
        /// The stored `[metadata]`.
        key: toml::Table,
        /// Whether the layer's directory exists.
        files: bool,
    },
}

/// An older key shape turned into the current one (see
/// [`LayerBuilder::migrate`](super::LayerBuilder::migrate)).
pub type Migration<'a> = Box<dyn Fn(&toml::Table) -> Option<toml::Table> + 'a>;

/// Whether files made for the first key can be updated in place to the second (see
/// [`Policy::update_in_place`]).
pub type Compatible<'p, K> = &'p dyn Fn(&K, &K) -> bool;

/// How a layer is declared: what [`decide`] needs besides the two keys.
pub struct Policy<'p, K> {
    /// A launch-only layer: the lifecycle reuses the previous image's layer without restoring its
    /// files, so an equal key keeps the layer even with no files here.
    pub launch_only: bool,
    /// Migrations of older key shapes, tried in order.
    pub migrations: &'p [Migration<'p>],
    /// For a layer updated in place: whether the files made for the previous key (first argument)
    /// can be updated to the wanted one (second). When they can, a changed key keeps the files as
    /// [`Decision::KeepStale`] instead of deleting them.
    pub update_in_place: Option<Compatible<'p, K>>,
}

impl<K> Default for Policy<'_, K> {
    fn default() -> Self {
        Self {
            launch_only: false,
            migrations: &[],
            update_in_place: None,
        }
    }
}

impl<K> std::fmt::Debug for Policy<'_, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("launch_only", &self.launch_only)
            .field("migrations", &self.migrations.len())
            .field("update_in_place", &self.update_in_place.is_some())
            .finish()
    }
}

/// What to do with the layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing usable was left: make the layer empty.
    Create,
    /// The stored key is the wanted one: keep the layer.
    Reuse {
        /// Why, in words (`python 3.12 unchanged`).
        reason: String,
        /// Whether its files are here (`false` for a launch-only layer of the previous image).
        contents: bool,
    },
    /// An older key shape migrated to the wanted key: keep the layer with the new key.
    Migrate {
        /// Why, in words.
        reason: String,
        /// Whether its files are here.
        contents: bool,
    },
    /// The key changed, but the layer is updated in place: keep its files, which were made for
    /// `previous`, and let the buildpack bring them up to date.
    KeepStale {
        /// What changed, in words (`requirements changed`).
        reason: String,
        /// The stored key.
        previous: toml::Table,
    },
    /// Something was left but cannot be kept: delete it and make the layer empty.
    Recreate {
        /// Why, in words (`python changed (3.11 → 3.12)`).
        reason: String,
    },
}

/// Decides what becomes of a layer that the previous build left as `restored`, when the buildpack
/// wants `wanted` under `policy`. Keys are compared as `K` (so fields with defaults and integers
/// stored as floats compare as the buildpack means them); the reasons name the fields that changed.
///
/// ```
/// use libbuildpack::layer::{Decision, Policy, Restored, decide};
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq)]
/// struct Key { python: String, lock: String }
/// let stored = |python: &str, lock: &str| Restored::Key {
///     key: toml::Table::try_from(Key { python: python.into(), lock: lock.into() }).unwrap(),
///     files: true,
/// };
/// let wanted = Key { python: "3.12".into(), lock: "b".into() };
/// // Kept or wiped:
/// assert!(matches!(decide(&stored("3.12", "b"), &wanted, &Policy::default()), Decision::Reuse { .. }));
/// assert!(matches!(decide(&stored("3.12", "a"), &wanted, &Policy::default()), Decision::Recreate { .. }));
/// // Updated in place while the Python stays:
/// let same_python = |old: &Key, new: &Key| old.python == new.python;
/// let policy = Policy { update_in_place: Some(&same_python), ..Policy::default() };
/// assert!(matches!(decide(&stored("3.12", "a"), &wanted, &policy), Decision::KeepStale { .. }));
/// assert!(matches!(decide(&stored("3.11", "a"), &wanted, &policy), Decision::Recreate { .. }));
/// ```
#[must_use]
pub fn decide<K>(restored: &Restored, wanted: &K, policy: &Policy<'_, K>) -> Decision
where
    K: Serialize + DeserializeOwned + PartialEq,
{
    let wanted_table = match toml::Value::try_from(wanted) {
        Ok(toml::Value::Table(table)) => table,
        _ => toml::Table::new(),
    };
    let (old, files) = match restored {
        Restored::Nothing => return Decision::Create,
        Restored::Unreadable(reason) => {
            return Decision::Recreate {
                reason: reason.clone(),
            };
        }
        Restored::Key { key, files } => (key, *files),
    };
    let keep = |reason: String, migrated: bool| {
        let contents = if files {
            true
        } else if policy.launch_only {
            false
        } else {
            return Decision::Recreate {
                reason: "its files were not restored".into(),
            };
        };
        if migrated {
            Decision::Migrate { reason, contents }
        } else {
            Decision::Reuse { reason, contents }
        }
    };
    let old_key = K::deserialize(toml::Value::Table(whole_floats_as_integers(old.clone())));
    match old_key {
        Ok(old_key) if old_key == *wanted => keep(describe_unchanged(&wanted_table), false),
        Ok(old_key) => {
            let reason = describe_change(old, &wanted_table);
            match policy.update_in_place {
                Some(compatible) if files && compatible(&old_key, wanted) => Decision::KeepStale {
                    reason,
                    previous: old.clone(),
                },
                _ => Decision::Recreate { reason },
            }
        }
        Err(_) => match policy.migrations.iter().find_map(|m| m(old)) {
            Some(table) => match K::deserialize(toml::Value::Table(table.clone())) {
                Ok(migrated) if migrated == *wanted => keep(
                    format!(
                        "older metadata migrated, {}",
                        describe_unchanged(&wanted_table)
                    ),
                    true,
                ),
                _ => Decision::Recreate {
                    reason: format!(
                        "older metadata migrated, then {}",
                        describe_change(&table, &wanted_table)
                    ),
                },
            },
            None => Decision::Recreate {
                reason: describe_change(old, &wanted_table),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Key {
        python: String,
        lock: String,
    }

    fn key(python: &str, lock: &str) -> Key {
        Key {
            python: python.into(),
            lock: lock.into(),
        }
    }

    fn stored(python: &str, lock: &str, files: bool) -> Restored {
        Restored::Key {
            key: toml::Table::try_from(key(python, lock)).unwrap(),
            files,
        }
    }

    fn same_python(old: &Key, new: &Key) -> bool {
        old.python == new.python
    }

    #[test]
    fn nothing_restored_creates() {
        assert_eq!(
            decide(&Restored::Nothing, &key("3.12", "a"), &Policy::default()),
            Decision::Create
        );
    }

    #[test]
    fn an_unreadable_key_recreates_saying_why() {
        assert_eq!(
            decide(
                &Restored::Unreadable("bad TOML".into()),
                &key("3.12", "a"),
                &Policy::default()
            ),
            Decision::Recreate {
                reason: "bad TOML".into()
            }
        );
    }

    #[test]
    fn an_equal_key_reuses_the_files_or_the_previous_image_layer() {
        let wanted = key("3.12", "a");
        assert_eq!(
            decide(&stored("3.12", "a", true), &wanted, &Policy::default()),
            Decision::Reuse {
                reason: "lock a, python 3.12 unchanged".into(),
                contents: true
            }
        );
        let launch_only = Policy {
            launch_only: true,
            ..Policy::default()
        };
        assert_eq!(
            decide(&stored("3.12", "a", false), &wanted, &launch_only),
            Decision::Reuse {
                reason: "lock a, python 3.12 unchanged".into(),
                contents: false
            }
        );
        assert_eq!(
            decide(&stored("3.12", "a", false), &wanted, &Policy::default()),
            Decision::Recreate {
                reason: "its files were not restored".into()
            }
        );
    }

    #[test]
    fn a_changed_key_recreates_unless_updated_in_place() {
        let wanted = key("3.12", "b");
        assert_eq!(
            decide(&stored("3.12", "a", true), &wanted, &Policy::default()),
            Decision::Recreate {
                reason: "lock changed (a → b)".into()
            }
        );
        let in_place = Policy {
            update_in_place: Some(&same_python),
            ..Policy::default()
        };
        assert_eq!(
            decide(&stored("3.12", "a", true), &wanted, &in_place),
            Decision::KeepStale {
                reason: "lock changed (a → b)".into(),
                previous: toml::Table::try_from(key("3.12", "a")).unwrap(),
            }
        );
        // Files made for another Python cannot be updated; files not here cannot be kept.
        assert_eq!(
            decide(&stored("3.11", "a", true), &wanted, &in_place),
            Decision::Recreate {
                reason: "lock changed (a → b), python changed (3.11 → 3.12)".into()
            }
        );
        assert!(matches!(
            decide(&stored("3.12", "a", false), &wanted, &in_place),
            Decision::Recreate { .. }
        ));
        // An equal key is still reused, not stale.
        assert!(matches!(
            decide(&stored("3.12", "b", true), &wanted, &in_place),
            Decision::Reuse { .. }
        ));
    }

    #[test]
    fn an_older_shape_is_migrated_or_recreated() {
        let mut old = toml::Table::new();
        old.insert("py".into(), "3.12".into());
        let restored = Restored::Key {
            key: old,
            files: true,
        };
        let migrations: Vec<Migration<'_>> = vec![Box::new(|t: &toml::Table| {
            let mut new = toml::Table::new();
            new.insert("python".into(), t.get("py")?.clone());
            new.insert("lock".into(), "a".into());
            Some(new)
        })];
        let policy = Policy {
            migrations: &migrations,
            ..Policy::default()
        };
        assert_eq!(
            decide(&restored, &key("3.12", "a"), &policy),
            Decision::Migrate {
                reason: "older metadata migrated, lock a, python 3.12 unchanged".into(),
                contents: true
            }
        );
        assert_eq!(
            decide(&restored, &key("3.12", "b"), &policy),
            Decision::Recreate {
                reason: "older metadata migrated, then lock changed (a → b)".into()
            }
        );
        assert_eq!(
            decide(&restored, &key("3.12", "b"), &Policy::default()),
            Decision::Recreate {
                reason: "lock was added, py was removed, python was added".into()
            }
        );
    }

    #[test]
    fn integers_stored_as_floats_compare_equal() {
        #[derive(Debug, Serialize, Deserialize, PartialEq)]
        struct Counted {
            layout: u32,
        }
        let mut stored = toml::Table::new();
        stored.insert("layout".into(), toml::Value::Float(2.0));
        assert!(matches!(
            decide(
                &Restored::Key {
                    key: stored,
                    files: true
                },
                &Counted { layout: 2 },
                &Policy::default()
            ),
            Decision::Reuse { .. }
        ));
    }
}
