//! Layers: declare what a layer depends on, and the SDK decides whether to keep, update or rebuild
//! it. [`decide`] is the rule, [`LayerBuilder::keyed_by`] applies it; [`sha256_file`] and
//! [`sha256_dir`] make keys of files; [`KeptDirBuilder`] keys a directory in the build cache volume
//! the same way.

mod decide;
mod describe;
mod env;
mod hash;
mod kept_dir;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::data::{InvalidName, LayerName, LayerToml, LayerTypes, TomlFileError};
use crate::output::Output;
use describe::whole_floats_as_integers;

pub use decide::{Compatible, Decision, Migration, Policy, Restored, decide};
pub use env::LayerEnv;
pub use hash::{HashError, sha256_dir, sha256_file};
pub use kept_dir::{KeptDir, KeptDirBuilder, KeptDirError};

/// Declares a layer: its types, then what it depends on. Made by
/// [`BuildContext::layer`](crate::BuildContext::layer).
///
/// ```no_run
/// # use libbuildpack::prelude::*;
/// # fn f(ctx: &BuildContext) -> Result<(), LayerError> {
/// #[derive(Serialize, Deserialize, PartialEq)]
/// struct Key { python: String }
/// let venv = ctx.layer("venv").launch().cache().keyed_by(&Key { python: "3.12".into() })?;
/// if venv.is_new() {
///     // install into venv.path()
/// }
/// # Ok(()) }
/// ```
#[must_use = "a layer is only made by `keyed_by` or `fresh`"]
pub struct LayerBuilder<'a> {
    layers_dir: &'a Path,
    output: &'a Output,
    name: String,
    types: LayerTypes,
    migrations: Vec<Migration<'a>>,
    in_place: Option<InPlace<'a>>,
}

type InPlace<'a> = Box<dyn Fn(&toml::Table, &toml::Table) -> bool + 'a>;

/// `compatible` over keys of type `K`, as a test of their stored tables.
fn in_place_over_tables<'a, K, F>(compatible: F) -> InPlace<'a>
where
    K: DeserializeOwned,
    F: Fn(&K, &K) -> bool + 'a,
{
    Box::new(move |old: &toml::Table, new: &toml::Table| {
        let read = |t: &toml::Table| {
            K::deserialize(toml::Value::Table(whole_floats_as_integers(t.clone()))).ok()
        };
        match (read(old), read(new)) {
            (Some(old), Some(new)) => compatible(&old, &new),
            _ => false,
        }
    })
}

/// Applies a test made by [`in_place_over_tables`] to two keys.
fn compatible_as_tables<K: Serialize>(compatible: &InPlace<'_>, old: &K, new: &K) -> bool {
    match (toml::Table::try_from(old), toml::Table::try_from(new)) {
        (Ok(old), Ok(new)) => compatible(&old, &new),
        _ => false,
    }
}

impl std::fmt::Debug for LayerBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerBuilder")
            .field("layers_dir", &self.layers_dir)
            .field("name", &self.name)
            .field("types", &self.types)
            .field("migrations", &self.migrations.len())
            .field("update_in_place", &self.in_place.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> LayerBuilder<'a> {
    pub(crate) fn new(layers_dir: &'a Path, output: &'a Output, name: &str) -> Self {
        Self {
            layers_dir,
            output,
            name: name.to_string(),
            types: LayerTypes::default(),
            migrations: Vec::new(),
            in_place: None,
        }
    }

    /// Declares how metadata stored by an older version of the buildpack (key type `Old`)
    /// becomes the current key. When the restored metadata is not the wanted key but reads
    /// as `Old`, `migrate` turns it into a key; if that equals the wanted key the layer is
    /// kept ([`LayerState::Migrated`], logged as `Migrating <layer> (...)`), otherwise it is
    /// rebuilt. Return `None` when an old key cannot be migrated. Several migrations are
    /// tried in the order declared.
    ///
    /// ```no_run
    /// # use libbuildpack::prelude::*;
    /// # fn f(ctx: &BuildContext) -> Result<(), LayerError> {
    /// #[derive(Serialize, Deserialize, PartialEq)]
    /// struct OldKey { lock_md5: String, python: String }
    /// #[derive(Serialize, Deserialize, PartialEq)]
    /// struct Key { lock: String, python: String }
    /// let key = Key { lock: "sha256:…".into(), python: "3.12".into() };
    /// let venv = ctx
    ///     .layer("venv")
    ///     .cache()
    ///     // The old key hashed the lock file with md5: that cannot be compared, so only the
    ///     // python version carries over when the hash is recomputed the same way.
    ///     .migrate(|old: OldKey| Some(Key { lock: old.lock_md5, python: old.python }))
    ///     .keyed_by(&key)?;
    /// # Ok(()) }
    /// ```
    pub fn migrate<Old, K, F>(mut self, migrate: F) -> Self
    where
        Old: DeserializeOwned,
        K: Serialize,
        F: Fn(Old) -> Option<K> + 'a,
    {
        self.migrations.push(Box::new(move |old: &toml::Table| {
            let old = Old::deserialize(toml::Value::Table(old.clone())).ok()?;
            match toml::Value::try_from(migrate(old)?) {
                Ok(toml::Value::Table(table)) => Some(table),
                _ => None,
            }
        }));
        self
    }

    /// The layer goes into the app image.
    pub fn launch(mut self) -> Self {
        self.types.launch = true;
        self
    }

    /// The layer is visible to later buildpacks in this build.
    pub fn build(mut self) -> Self {
        self.types.build = true;
        self
    }

    /// The layer is saved to the cache and restored on the next build.
    pub fn cache(mut self) -> Self {
        self.types.cache = true;
        self
    }

    /// The key the layer was stored with, as restored from the cache or the previous image's
    /// metadata, when there is one and it reads as `K`. Nothing is changed on disk.
    ///
    /// For a buildpack whose layers depend on each other: it reads what the previous build left
    /// before deciding which key to pass to [`keyed_by`](Self::keyed_by) (passing the restored
    /// key back reuses the layer as it is).
    ///
    /// ```no_run
    /// # use libbuildpack::prelude::*;
    /// # fn f(ctx: &BuildContext) -> Result<(), LayerError> {
    /// #[derive(Clone, Serialize, Deserialize, PartialEq)]
    /// struct Key { python: String, files: String }
    /// let previous: Option<Key> = ctx.layer("venv").restored_key();
    /// if let Some(key) = previous.filter(|k| k.python == "3.12") {
    ///     let venv = ctx.layer("venv").launch().keyed_by(&key)?;
    ///     assert!(!venv.is_new());
    /// }
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn restored_key<K: DeserializeOwned>(&self) -> Option<K> {
        let name = LayerName::new(self.name.as_str()).ok()?;
        match LayerPaths::new(self.layers_dir, &name).read_restored() {
            Ok(Restored::Key { key: table, .. }) => {
                K::deserialize(toml::Value::Table(whole_floats_as_integers(table))).ok()
            }
            _ => None,
        }
    }

    /// Declares the layer as updated in place: when the stored key differs from the wanted one
    /// and `compatible(previous, wanted)` holds (say, the same Python), the restored files are
    /// kept instead of deleted, the layer is [`LayerState::Stale`], and
    /// [`Layer::previous_key`] says what they were made for, so the buildpack brings them up to
    /// date (installs what was added, removes what was dropped). `Updating <layer> (<why>)` is
    /// printed. Keys that are not compatible rebuild the layer as usual.
    ///
    /// ```no_run
    /// # use libbuildpack::prelude::*;
    /// # fn f(ctx: &BuildContext) -> Result<(), LayerError> {
    /// #[derive(Serialize, Deserialize, PartialEq)]
    /// struct Key { python: String, packages: Vec<String> }
    /// let key = Key { python: "3.12".into(), packages: vec!["flask".into()] };
    /// let venv = ctx
    ///     .layer("venv")
    ///     .cache()
    ///     .update_in_place(|previous: &Key, wanted: &Key| previous.python == wanted.python)
    ///     .keyed_by(&key)?;
    /// if let Some(previous) = venv.previous_key::<Key>() {
    ///     // uninstall what is in previous.packages but not in key.packages, install the rest
    /// }
    /// # Ok(()) }
    /// ```
    pub fn update_in_place<K, F>(mut self, compatible: F) -> Self
    where
        K: DeserializeOwned,
        F: Fn(&K, &K) -> bool + 'a,
    {
        self.in_place = Some(in_place_over_tables(compatible));
        self
    }

    /// Makes the layer, keeping what was restored when its stored key equals `key`.
    ///
    /// - No restored `<layer>.toml` (or no `[metadata]`): the layer is created empty.
    /// - Restored with an equal key: it is reused, and `Reusing <layer> (<why>)` is printed.
    ///   A launch-only layer restored from the previous image has no files here; it stays
    ///   that way and the lifecycle reuses the previous image's layer.
    /// - Restored with a different key: the old files are deleted and the layer is created
    ///   empty; the fields that changed are printed. A layer declared
    ///   [`update_in_place`](Self::update_in_place) keeps its files instead when the keys are
    ///   compatible ([`LayerState::Stale`]).
    ///
    /// What to do is decided by [`decide`] (a pure function); this applies it. `key` is written
    /// as the layer's `[metadata]`, and the types inside `[types]`.
    ///
    /// # Errors
    ///
    /// [`LayerError`] when the name is invalid, the key does not serialize to a TOML table, or
    /// the layer's files cannot be removed, created or written.
    pub fn keyed_by<K>(self, key: &K) -> Result<Layer, LayerError>
    where
        K: Serialize + DeserializeOwned + PartialEq,
    {
        let name = LayerName::new(self.name.as_str())?;
        let metadata = key_table(&name, key)?;
        let paths = LayerPaths::new(self.layers_dir, &name);
        let restored = paths.read_restored()?;
        let in_place = self
            .in_place
            .as_ref()
            .map(|compatible| move |old: &K, new: &K| compatible_as_tables(compatible, old, new));
        let policy = Policy {
            launch_only: self.types.launch && !self.types.build && !self.types.cache,
            migrations: &self.migrations,
            update_in_place: in_place.as_ref().map(|f| f as &dyn Fn(&K, &K) -> bool),
        };
        let mut previous = None;
        let state = match decide(&restored, key, &policy) {
            Decision::Create => {
                self.output.detail(format!("Creating {name}"));
                paths.reset()?;
                LayerState::Created
            }
            Decision::Recreate { reason } => {
                self.output.detail(format!("Rebuilding {name} ({reason})"));
                paths.reset()?;
                LayerState::Rebuilt { reason }
            }
            Decision::Reuse { reason, contents } => {
                self.output.detail(format!("Reusing {name} ({reason})"));
                if let Restored::Key { key, .. } = restored {
                    previous = Some(key);
                }
                LayerState::Reused { contents }
            }
            Decision::Migrate { reason, contents } => {
                self.output.detail(format!("Migrating {name} ({reason})"));
                LayerState::Migrated { contents }
            }
            Decision::KeepStale {
                reason,
                previous: old,
            } => {
                self.output.detail(format!("Updating {name} ({reason})"));
                previous = Some(old);
                LayerState::Stale { reason }
            }
        };
        paths.write_toml(self.types, Some(metadata))?;
        Ok(Layer {
            name,
            path: paths.dir,
            types: self.types,
            state,
            previous,
        })
    }

    /// Makes the layer empty, whatever was restored, with no `[metadata]`.
    ///
    /// # Errors
    ///
    /// [`LayerError`] when the name is invalid or the layer's files cannot be removed, created
    /// or written.
    pub fn fresh(self) -> Result<Layer, LayerError> {
        let name = LayerName::new(self.name.as_str())?;
        let paths = LayerPaths::new(self.layers_dir, &name);
        paths.reset()?;
        paths.write_toml(self.types, None)?;
        Ok(Layer {
            name,
            path: paths.dir,
            types: self.types,
            state: LayerState::Created,
            previous: None,
        })
    }
}

/// `key` as the TOML table stored in `[metadata]`.
fn key_table<K: Serialize>(layer: &LayerName, key: &K) -> Result<toml::Table, LayerError> {
    match toml::Value::try_from(key) {
        Ok(toml::Value::Table(table)) => Ok(table),
        Ok(_) => Err(LayerError::KeyNotATable {
            layer: layer.clone(),
        }),
        Err(source) => Err(LayerError::SerializeKey {
            layer: layer.clone(),
            source,
        }),
    }
}

struct LayerPaths {
    dir: PathBuf,
    toml: PathBuf,
    layers_dir: PathBuf,
    name: LayerName,
}

impl LayerPaths {
    fn new(layers_dir: &Path, name: &LayerName) -> Self {
        Self {
            dir: layers_dir.join(name.as_str()),
            toml: layers_dir.join(format!("{name}.toml")),
            layers_dir: layers_dir.to_path_buf(),
            name: name.clone(),
        }
    }

    fn read_restored(&self) -> Result<Restored, LayerError> {
        let text = match std::fs::read_to_string(&self.toml) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Restored::Nothing),
            Err(source) => {
                return Err(LayerError::ReadLayerToml(TomlFileError::Read {
                    path: self.toml.clone(),
                    source,
                }));
            }
        };
        Ok(
            match LayerToml::<toml::Table>::from_toml_str(&text, &self.toml) {
                Ok(LayerToml {
                    metadata: Some(metadata),
                    ..
                }) => Restored::Key {
                    key: metadata,
                    files: self.dir.is_dir(),
                },
                Ok(_) => Restored::Nothing,
                Err(e) => Restored::Unreadable(format!("its metadata could not be read: {e}")),
            },
        )
    }

    /// Deletes the layer's files and SBOMs and makes an empty dir.
    fn reset(&self) -> Result<(), LayerError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LayerError::ResetLayer { path, source }
        };
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&self.dir)(e)),
        }
        let sbom_prefix = format!("{}.sbom.", self.name);
        if let Ok(entries) = std::fs::read_dir(&self.layers_dir) {
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(&sbom_prefix)
                {
                    std::fs::remove_file(entry.path()).map_err(io(&entry.path()))?;
                }
            }
        }
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))
    }

    fn write_toml(
        &self,
        types: LayerTypes,
        metadata: Option<toml::Table>,
    ) -> Result<(), LayerError> {
        LayerToml {
            types: Some(types),
            metadata,
        }
        .write(&self.toml)
        .map_err(LayerError::WriteLayerToml)
    }
}

/// What happened to a layer when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerState {
    /// Nothing usable was restored; the layer is new and empty.
    Created,
    /// Something was restored but did not match; it was deleted and the layer is new and empty.
    Rebuilt {
        /// Why, in words ("python changed (3.11 → 3.12)").
        reason: String,
    },
    /// The restored layer matched and is kept.
    Reused {
        /// Whether its files are here. `false` for a launch-only layer restored from the
        /// previous image: the lifecycle reuses that image's layer.
        contents: bool,
    },
    /// The restored metadata had an older shape, was migrated by a
    /// [`migrate`](LayerBuilder::migrate) function to the wanted key, and the layer is kept
    /// with the new metadata.
    Migrated {
        /// Whether its files are here (see [`Reused`](Self::Reused)).
        contents: bool,
    },
    /// The key changed, but the layer is declared
    /// [`update_in_place`](LayerBuilder::update_in_place) and the restored files are kept: they
    /// were made for [`Layer::previous_key`], and the buildpack brings them up to date.
    Stale {
        /// What changed, in words ("requirements changed").
        reason: String,
    },
}

impl LayerState {
    /// Whether the layer (or kept dir) is new and empty, so the buildpack must fill it.
    #[must_use]
    pub fn is_new(&self) -> bool {
        matches!(self, Self::Created | Self::Rebuilt { .. })
    }
}

/// A layer made by [`LayerBuilder`].
#[derive(Debug, Clone)]
pub struct Layer {
    name: LayerName,
    path: PathBuf,
    types: LayerTypes,
    state: LayerState,
    previous: Option<toml::Table>,
}

impl Layer {
    /// The layer's name.
    #[must_use]
    pub fn name(&self) -> &LayerName {
        &self.name
    }

    /// The layer's directory (absent for a reused launch-only layer).
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The layer's types.
    #[must_use]
    pub fn types(&self) -> LayerTypes {
        self.types
    }

    /// What happened to the layer.
    #[must_use]
    pub fn state(&self) -> &LayerState {
        &self.state
    }

    /// Whether the layer is new and empty, so the buildpack must fill it.
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.state.is_new()
    }

    /// The key the kept files were made for, when it reads as `K`: for a
    /// [`Stale`](LayerState::Stale) layer, what to update from; for a reused one, its key. `None`
    /// for a new layer.
    #[must_use]
    pub fn previous_key<K: DeserializeOwned>(&self) -> Option<K> {
        describe::key_from(self.previous.as_ref())
    }

    /// Replaces the key stored for a layer this build made (created, rebuilt or updated), for keys that
    /// name something known only once the layer is filled, such as a digest of its files. The
    /// next build compares its key with this one.
    ///
    /// ```no_run
    /// # use libbuildpack::prelude::*;
    /// # fn f(ctx: &BuildContext) -> Result<(), LayerError> {
    /// #[derive(Serialize, Deserialize, PartialEq)]
    /// struct Key { lock: String, files: String }
    /// let venv = ctx.layer("venv").launch().keyed_by(&Key { lock: "sha256:…".into(), files: String::new() })?;
    /// // install into venv.path(), then name what was installed:
    /// venv.set_key(&Key { lock: "sha256:…".into(), files: "sha256:…".into() })?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`LayerError::SetKeyOfKeptLayer`] for a layer reused or migrated from an earlier build
    /// (its files were made for the key it has), and the errors of serializing the key and
    /// writing `<layer>.toml`.
    pub fn set_key<K: Serialize>(&self, key: &K) -> Result<(), LayerError> {
        if !self.is_new() && !matches!(self.state, LayerState::Stale { .. }) {
            return Err(LayerError::SetKeyOfKeptLayer {
                layer: self.name.clone(),
            });
        }
        let metadata = key_table(&self.name, key)?;
        let layers_dir = self.path.parent().unwrap_or(Path::new("."));
        LayerPaths::new(layers_dir, &self.name).write_toml(self.types, Some(metadata))
    }

    /// Whether the layer's files are here: `false` only for a launch-only layer reused from
    /// the previous image.
    #[must_use]
    pub fn has_contents(&self) -> bool {
        !matches!(
            self.state,
            LayerState::Reused { contents: false } | LayerState::Migrated { contents: false }
        )
    }

    /// Installs the executable `program` (e.g. `std::env::current_exe()`) as
    /// `exec.d/<name>`, run at launch before every process. Copied atomically, mode 0755.
    /// Skipped for a launch-only layer reused from the previous image, which has it already.
    ///
    /// # Errors
    ///
    /// [`LayerError::InstallExecD`] when it cannot be copied, or the name is not a plain file
    /// name.
    pub fn install_exec_d(&self, name: &str, program: &Path) -> Result<PathBuf, LayerError> {
        self.install_exec_d_in(Path::new("exec.d"), name, program)
    }

    /// Installs `program` as `exec.d/<process>/<name>`, run only when launching `process`.
    /// See [`install_exec_d`](Self::install_exec_d).
    ///
    /// # Errors
    ///
    /// See [`install_exec_d`](Self::install_exec_d).
    pub fn install_process_exec_d(
        &self,
        process: &crate::data::ProcessType,
        name: &str,
        program: &Path,
    ) -> Result<PathBuf, LayerError> {
        self.install_exec_d_in(&Path::new("exec.d").join(process.as_str()), name, program)
    }

    fn install_exec_d_in(
        &self,
        relative: &Path,
        name: &str,
        program: &Path,
    ) -> Result<PathBuf, LayerError> {
        let dir = self.path.join(relative);
        let target = dir.join(name);
        let err = |source| LayerError::InstallExecD {
            path: target.clone(),
            source,
        };
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(err(std::io::Error::other(
                "the exec.d program name must be a plain file name",
            )));
        }
        if !self.has_contents() {
            return Ok(target);
        }
        std::fs::create_dir_all(&dir).map_err(err)?;
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        std::fs::copy(program, &tmp).map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).map_err(err)?;
        }
        std::fs::rename(&tmp, &target).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            err(e)
        })?;
        Ok(target)
    }

    /// Env files in `env/`: applied at build (for later buildpacks, when `build`) and at
    /// launch (when `launch`).
    #[must_use]
    pub fn env(&self) -> LayerEnv<'_> {
        LayerEnv::new(self, PathBuf::from("env"))
    }

    /// Env files in `env.build/`: applied only at build, for later buildpacks.
    #[must_use]
    pub fn build_env(&self) -> LayerEnv<'_> {
        LayerEnv::new(self, PathBuf::from("env.build"))
    }

    /// Env files in `env.launch/`: applied only at launch.
    #[must_use]
    pub fn launch_env(&self) -> LayerEnv<'_> {
        LayerEnv::new(self, PathBuf::from("env.launch"))
    }

    /// Env files in `env.launch/<process>/`: applied only when launching that process.
    #[must_use]
    pub fn process_env(&self, process: &crate::data::ProcessType) -> LayerEnv<'_> {
        LayerEnv::new(self, Path::new("env.launch").join(process.as_str()))
    }
}

/// Making a layer or writing its files failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    /// The layer name is not valid.
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    /// The key could not be serialized to TOML.
    #[error("could not store the key of layer {layer} as TOML")]
    SerializeKey {
        /// The layer.
        layer: LayerName,
        /// Why serializing failed.
        source: toml::ser::Error,
    },
    /// The key serialized to something other than a table.
    #[error("the key of layer {layer} must serialize to a TOML table (use a struct or a map)")]
    KeyNotATable {
        /// The layer.
        layer: LayerName,
    },
    /// [`Layer::set_key`] was called on a layer kept from an earlier build.
    #[error("the key of layer {layer} cannot change: it was kept from an earlier build")]
    SetKeyOfKeptLayer {
        /// The layer.
        layer: LayerName,
    },
    /// The restored `<layer>.toml` could not be read.
    #[error("could not read the restored layer metadata")]
    ReadLayerToml(#[source] TomlFileError),
    /// The layer's files could not be deleted or its directory created.
    #[error("could not reset the layer at {}", path.display())]
    ResetLayer {
        /// The file or directory.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// `<layer>.toml` could not be written.
    #[error("could not write the layer metadata")]
    WriteLayerToml(#[source] TomlFileError),
    /// An env variable name cannot be a file name.
    #[error(
        "invalid env variable name {name:?}: it must be non-empty and contain no '.', '/', '=' or NUL"
    )]
    InvalidEnvName {
        /// The rejected name.
        name: String,
    },
    /// An exec.d program could not be installed.
    #[error("could not install the exec.d program {}", path.display())]
    InstallExecD {
        /// The target path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An env file could not be written.
    #[error("could not write the env file {}", path.display())]
    WriteEnvFile {
        /// The file.
        path: PathBuf,
        /// Why writing failed.
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::describe::diff_lists;
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Key {
        python: String,
        lock_sha256: String,
    }

    fn key(python: &str) -> Key {
        Key {
            python: python.into(),
            lock_sha256: "0123456789abcdef0123456789abcdef".into(),
        }
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        layers: PathBuf,
        output: Output,
        log: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    }

    #[derive(Clone)]
    struct Log(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Log {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let layers = dir.path().join("layers");
            std::fs::create_dir(&layers).unwrap();
            let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            Self {
                output: Output::to_writer(Log(log.clone())),
                _dir: dir,
                layers,
                log,
            }
        }
        fn builder(&self, name: &str) -> LayerBuilder<'_> {
            LayerBuilder::new(&self.layers, &self.output, name)
        }
        fn log(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.log.lock().unwrap())).unwrap()
        }
        fn toml(&self, name: &str) -> String {
            std::fs::read_to_string(self.layers.join(format!("{name}.toml"))).unwrap()
        }
        /// What the lifecycle leaves for the next build: metadata only.
        fn restore_metadata_only(&self, name: &str, keep_dir: bool) {
            let layer: LayerToml =
                LayerToml::read(self.layers.join(format!("{name}.toml"))).unwrap();
            LayerToml::<toml::Table> {
                types: None,
                metadata: layer.metadata,
            }
            .write(self.layers.join(format!("{name}.toml")))
            .unwrap();
            if !keep_dir {
                std::fs::remove_dir_all(self.layers.join(name)).unwrap();
            }
        }
    }

    #[test]
    fn creates_then_reuses_cached_layer() {
        let f = Fixture::new();
        let layer = f
            .builder("venv")
            .cache()
            .build()
            .keyed_by(&key("3.12"))
            .unwrap();
        assert_eq!(layer.state(), &LayerState::Created);
        assert!(layer.path().is_dir());
        std::fs::write(layer.path().join("file"), "x").unwrap();
        assert_eq!(f.log(), "  Creating venv\n");
        insta::assert_snapshot!(f.toml("venv"));

        f.restore_metadata_only("venv", true);
        let layer = f
            .builder("venv")
            .cache()
            .build()
            .keyed_by(&key("3.12"))
            .unwrap();
        assert_eq!(layer.state(), &LayerState::Reused { contents: true });
        assert!(!layer.is_new());
        assert!(layer.path().join("file").exists());
        assert_eq!(
            f.log(),
            "  Reusing venv (lock_sha256, python 3.12 unchanged)\n"
        );
        assert!(f.toml("venv").contains("[types]"));
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Counted {
        layout: u32,
        ratio: f64,
    }

    #[test]
    fn integer_keys_match_when_the_lifecycle_restores_them_as_floats() {
        let f = Fixture::new();
        let wanted = Counted {
            layout: 2,
            ratio: 1.0,
        };
        f.builder("venv").cache().keyed_by(&wanted).unwrap();
        // The lifecycle keeps metadata as JSON between builds: 2 comes back as 2.0.
        std::fs::write(
            f.layers.join("venv.toml"),
            "[metadata]\nlayout = 2.0\nratio = 1.0\n",
        )
        .unwrap();
        f.log();
        let layer = f.builder("venv").cache().keyed_by(&wanted).unwrap();
        assert_eq!(
            layer.state(),
            &LayerState::Reused { contents: true },
            "{}",
            f.log()
        );
    }

    #[test]
    fn rebuilds_when_key_changes() {
        let f = Fixture::new();
        let layer = f.builder("venv").cache().keyed_by(&key("3.11")).unwrap();
        std::fs::write(layer.path().join("file"), "x").unwrap();
        std::fs::write(f.layers.join("venv.sbom.cdx.json"), "{}").unwrap();
        f.restore_metadata_only("venv", true);
        f.log();

        let layer = f.builder("venv").cache().keyed_by(&key("3.12")).unwrap();
        assert_eq!(
            layer.state(),
            &LayerState::Rebuilt {
                reason: "python changed (3.11 → 3.12)".into()
            }
        );
        assert!(layer.is_new());
        assert!(layer.path().is_dir());
        assert!(!layer.path().join("file").exists());
        assert!(!f.layers.join("venv.sbom.cdx.json").exists());
        assert_eq!(
            f.log(),
            "  Rebuilding venv (python changed (3.11 → 3.12))\n"
        );
        assert!(f.toml("venv").contains("python = \"3.12\""));
    }

    #[test]
    fn a_changed_list_says_which_items_were_added_removed_or_changed() {
        #[derive(Serialize, Deserialize, PartialEq)]
        struct Model {
            name: String,
            sha256: String,
        }
        #[derive(Serialize, Deserialize, PartialEq)]
        struct Models {
            names: Vec<String>,
            models: Vec<Model>,
        }
        let model = |name: &str, sha256: &str| Model {
            name: name.into(),
            sha256: sha256.into(),
        };
        let f = Fixture::new();
        let old = Models {
            names: vec!["bert".into(), "gpt2".into()],
            models: vec![model("bert", "aa"), model("gpt2", "bb")],
        };
        f.builder("models").cache().keyed_by(&old).unwrap();
        f.restore_metadata_only("models", true);
        f.log();
        let new = Models {
            names: vec!["gpt2".into(), "resnet".into()],
            models: vec![model("gpt2", "cc"), model("resnet", "dd")],
        };
        let layer = f.builder("models").cache().keyed_by(&new).unwrap();
        assert_eq!(
            layer.state(),
            &LayerState::Rebuilt {
                reason: "models changed: ~ gpt2, + resnet, - bert, names changed: + resnet, - bert"
                    .into()
            }
        );
    }

    #[test]
    fn list_changes_name_items_by_position_and_see_reordering() {
        let int = toml::Value::Integer;
        let table = |k: &str| {
            let mut t = toml::Table::new();
            t.insert("weights".into(), toml::Value::Array(vec![int(1), int(2)]));
            t.insert("k".into(), toml::Value::String(k.repeat(30)));
            toml::Value::Table(t)
        };
        assert_eq!(diff_lists(&[table("a")], &[table("a"), table("b")]), "+ #1");
        assert_eq!(
            diff_lists(&[int(1), int(2)], &[int(2), int(1)]),
            "reordered"
        );
        let many: Vec<toml::Value> = (0..8).map(int).collect();
        assert_eq!(
            diff_lists(&[], &many),
            "+ 0, + 1, + 2, + 3, + 4, and 3 more"
        );
    }

    #[test]
    fn rebuilds_when_key_shape_changes() {
        let f = Fixture::new();
        std::fs::write(f.layers.join("venv.toml"), "[metadata]\nold = 1\n").unwrap();
        let layer = f.builder("venv").cache().keyed_by(&key("3.12")).unwrap();
        let LayerState::Rebuilt { reason } = layer.state() else {
            panic!()
        };
        assert_eq!(
            reason,
            "lock_sha256 was added, old was removed, python was added"
        );
    }

    #[test]
    fn unreadable_metadata_rebuilds() {
        let f = Fixture::new();
        std::fs::write(f.layers.join("venv.toml"), "[metadata\n").unwrap();
        let layer = f.builder("venv").cache().keyed_by(&key("3.12")).unwrap();
        assert!(matches!(layer.state(), LayerState::Rebuilt { .. }));
    }

    #[test]
    fn launch_only_layer_is_reused_without_files() {
        let f = Fixture::new();
        let layer = f.builder("hello").launch().keyed_by(&key("3.12")).unwrap();
        std::fs::write(layer.path().join("file"), "x").unwrap();
        f.restore_metadata_only("hello", false);

        let layer = f.builder("hello").launch().keyed_by(&key("3.12")).unwrap();
        assert_eq!(layer.state(), &LayerState::Reused { contents: false });
        assert!(!layer.path().exists());
        assert_eq!(
            f.toml("hello"),
            "[types]\nlaunch = true\nbuild = false\ncache = false\n\n[metadata]\nlock_sha256 = \"0123456789abcdef0123456789abcdef\"\npython = \"3.12\"\n"
        );
        // Env writes are skipped: they would create the dir and replace the image's layer.
        layer.launch_env().set("X", "1").unwrap();
        assert!(!layer.path().exists());
    }

    #[test]
    fn the_restored_key_is_read_without_touching_the_layer() {
        let f = Fixture::new();
        assert_eq!(f.builder("hello").restored_key::<Key>(), None);
        f.builder("hello").launch().keyed_by(&key("3.12")).unwrap();
        f.restore_metadata_only("hello", false);
        assert_eq!(f.builder("hello").restored_key::<Key>(), Some(key("3.12")));
        assert_eq!(f.builder("hello").restored_key::<Counted>(), None);
        assert!(!f.layers.join("hello").exists());
        assert!(!f.toml("hello").contains("[types]"));
    }

    #[test]
    fn a_new_layer_can_take_a_key_known_after_it_is_filled() {
        let f = Fixture::new();
        let layer = f.builder("venv").launch().keyed_by(&key("3.12")).unwrap();
        let mut filled = key("3.12");
        filled.lock_sha256 = "files of the layer".into();
        layer.set_key(&filled).unwrap();
        assert!(
            f.toml("venv")
                .contains("lock_sha256 = \"files of the layer\"")
        );
        assert!(f.toml("venv").contains("launch = true"));

        f.restore_metadata_only("venv", false);
        let kept = f.builder("venv").launch().keyed_by(&filled).unwrap();
        assert!(!kept.is_new());
        assert!(matches!(
            kept.set_key(&key("3.12")),
            Err(LayerError::SetKeyOfKeptLayer { .. })
        ));
    }

    #[test]
    fn a_layer_updated_in_place_keeps_its_files_and_says_what_they_were_made_for() {
        let f = Fixture::new();
        let declare = |f: &Fixture, python: &str| {
            let mut wanted = key(python);
            wanted.lock_sha256 = "new lock".into();
            f.builder("venv")
                .cache()
                .update_in_place(|old: &Key, new: &Key| old.python == new.python)
                .keyed_by(&wanted)
                .unwrap()
        };
        let layer = f.builder("venv").cache().keyed_by(&key("3.12")).unwrap();
        assert_eq!(layer.previous_key::<Key>(), None);
        std::fs::write(layer.path().join("file"), "x").unwrap();
        f.restore_metadata_only("venv", true);
        f.log();

        let layer = declare(&f, "3.12");
        assert_eq!(
            layer.state(),
            &LayerState::Stale {
                reason: "lock_sha256 changed".into()
            }
        );
        assert!(!layer.is_new() && layer.has_contents());
        assert!(layer.path().join("file").exists());
        assert_eq!(layer.previous_key::<Key>(), Some(key("3.12")));
        assert_eq!(f.log(), "  Updating venv (lock_sha256 changed)\n");
        assert!(f.toml("venv").contains("new lock"));
        layer.set_key(&key("3.12")).unwrap();

        // Another Python: the files cannot be updated, so the layer is rebuilt.
        f.restore_metadata_only("venv", true);
        let layer = declare(&f, "3.13");
        assert!(matches!(layer.state(), LayerState::Rebuilt { .. }));
        assert!(!layer.path().join("file").exists());
    }

    #[test]
    fn cache_layer_without_files_is_rebuilt() {
        let f = Fixture::new();
        f.builder("venv").cache().keyed_by(&key("3.12")).unwrap();
        f.restore_metadata_only("venv", false);
        let layer = f.builder("venv").cache().keyed_by(&key("3.12")).unwrap();
        assert_eq!(
            layer.state(),
            &LayerState::Rebuilt {
                reason: "its files were not restored".into()
            }
        );
        assert!(layer.path().is_dir());
    }

    #[test]
    fn restored_dir_without_metadata_is_cleared() {
        let f = Fixture::new();
        std::fs::create_dir(f.layers.join("venv")).unwrap();
        std::fs::write(f.layers.join("venv/stale"), "x").unwrap();
        let layer = f.builder("venv").keyed_by(&key("3.12")).unwrap();
        assert_eq!(layer.state(), &LayerState::Created);
        assert!(!layer.path().join("stale").exists());
    }

    #[test]
    fn invalid_names_and_keys() {
        let f = Fixture::new();
        assert!(matches!(
            f.builder("store").keyed_by(&key("x")),
            Err(LayerError::InvalidName(_))
        ));
        assert!(matches!(
            f.builder("a.b").fresh(),
            Err(LayerError::InvalidName(_))
        ));
        assert!(matches!(
            f.builder("venv").keyed_by(&"just a string".to_string()),
            Err(LayerError::KeyNotATable { .. })
        ));
    }

    #[test]
    fn fresh_always_empties() {
        let f = Fixture::new();
        let layer = f.builder("tmp").fresh().unwrap();
        std::fs::write(layer.path().join("x"), "1").unwrap();
        let layer = f.builder("tmp").build().fresh().unwrap();
        assert!(!layer.path().join("x").exists());
        assert_eq!(
            f.toml("tmp"),
            "[types]\nlaunch = false\nbuild = true\ncache = false\n"
        );
    }
}
