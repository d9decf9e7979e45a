//! A venv as two launch layers, shared by the pip and uv buildpacks: `venv`, the big one, reused from
//! the previous image while only packages are added, and `venv-delta`, the files added since.
//!
//! Adding one package to a 300 MB venv used to re-export the whole venv: the lifecycle archived,
//! hashed and compressed it again, and podman unpacked it again. Now the install runs in the copy of
//! the venv kept in the build cache volume ([`seed`]), made visible at the layer's path through a
//! symlink (so scripts and bytecode name the path the venv has at run time). Its files are then listed
//! and compared with the listing of the base layer ([`plan`]): when the install only added files
//! under `bin/` and site-packages, the base layer keeps its key (the lifecycle reuses it without
//! touching it) and the added files are copied into `venv-delta`. Anything else (a removal, an
//! upgrade, files elsewhere, a delta over a quarter of the base, no listing) folds everything into one
//! fresh `venv` layer, made from the copy.
//!
//! At run time the delta's site-packages is found through a `.pth` file every base layer has
//! (`_libbuildpack_venv_delta.pth`, a `site.addsitedir` of the delta's site-packages when it exists,
//! so its own `.pth` files work too); its `bin/` comes first on `PATH`, and its scripts run the base
//! venv's Python.

pub mod plan;
pub mod seed;
pub mod split;

use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;
use libbuildpack::sbom::SbomOwner;
use libbuildpack::tree::{Manifest, TreeError};
use serde::de::DeserializeOwned;

use plan::{Fold, Plan};
use seed::{Seed, SeedError};

use crate::ListPackagesError;

/// The base layer.
pub const LAYER: &str = "venv";
/// The layer of packages added since the base layer was made.
pub const DELTA_LAYER: &str = "venv-delta";
/// The file in the base layer's site-packages that adds the delta's.
pub const HOOK: &str = "_libbuildpack_venv_delta.pth";
/// The second part of a big new venv (see [`split`]): reused and replaced together with the base layer.
pub const SPLIT_LAYER: &str = "venv-part2";

/// The base layer's key: what was installed, and the fingerprint of its files (which names the
/// listing in the build cache volume that describes it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaseKey<K> {
    /// The buildpack's key of what is installed.
    pub installed: K,
    /// [`Manifest::fingerprint`] of the layer's files; empty when no listing was kept.
    pub files: String,
}

/// The delta layer's key: what the venv holds with it, and the base it was made over.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeltaKey<K> {
    /// The buildpack's key of what is installed, base and delta together.
    pub installed: K,
    /// The base layer's [`BaseKey::files`].
    pub base_files: String,
}

/// What the previous image holds, from the restored layer metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Previous<K> {
    /// The base layer's key.
    pub base: Option<BaseKey<K>>,
    /// The delta layer's key.
    pub delta: Option<DeltaKey<K>>,
}

impl<K: PartialEq> Previous<K> {
    /// The delta layer, when it was made over this base.
    #[must_use]
    pub fn delta(&self) -> Option<&DeltaKey<K>> {
        let base = self.base.as_ref()?;
        self.delta
            .as_ref()
            .filter(|delta| delta.base_files == base.files)
    }

    /// What the image's venv holds: the delta's key over its base, else the base's.
    #[must_use]
    pub fn installed(&self) -> Option<&K> {
        self.delta()
            .map(|delta| &delta.installed)
            .or(self.base.as_ref().map(|base| &base.installed))
    }
}

/// What the buildpack asks for.
pub struct Spec<'a, K, S> {
    /// What the venv must hold (requirements or lock hashes, Python, target): the layers' keys.
    pub wanted: K,
    /// The key of the copy in the build cache volume: what it holds once the install is done.
    pub seed_key: S,
    /// Whether a copy made for the first key can be installed into to get the second (say, the
    /// same Python): then the install updates it, told what it was made for
    /// ([`InstallInto::previous`]); else the copy is made again from scratch.
    pub seed_compatible: &'a dyn Fn(&S, &S) -> bool,
    /// The stack's Python, to list the delta's packages for its SBOM.
    pub python: &'a Path,
    /// The buildpack's own records inside the venv (relative paths): never compared, always in the
    /// newest layer.
    pub state: &'a [&'a str],
}

impl<K: std::fmt::Debug, S: std::fmt::Debug> std::fmt::Debug for Spec<'_, K, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("wanted", &self.wanted)
            .field("seed_key", &self.seed_key)
            .field("python", &self.python)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Where the buildpack installs.
#[derive(Debug)]
pub struct InstallInto<S> {
    /// The venv, at the layer's path (the path it has at run time).
    pub path: PathBuf,
    /// An empty dir: make the venv first. Else it is the last venv.
    pub fresh: bool,
    /// For the last venv: the seed key it was made for.
    pub previous: Option<S>,
}

/// How the venv was made.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// What was wanted is what the image has: both layers reused.
    Unchanged,
    /// The base layer reused, the added files in the delta layer.
    Delta {
        /// Entries copied into the delta layer.
        entries: usize,
        /// Their size in bytes.
        bytes: u64,
    },
    /// The install left only what the base layer has: it is reused, with no delta.
    BackToBase,
    /// One fresh venv layer, for this reason.
    Folded(Fold),
}

/// The layers made.
#[derive(Debug)]
pub struct Venv {
    /// The base layer (`venv`).
    pub layer: Layer,
    /// The delta layer, when there is one.
    pub delta: Option<Layer>,
    /// The second part of the base layer, when the venv was split (see [`split`]).
    pub part2: Option<Layer>,
    /// How it was made.
    pub outcome: Outcome,
}

/// Making the venv's layers failed.
#[derive(Debug, thiserror::Error)]
pub enum VenvError {
    /// A layer could not be made.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The copy in the build cache volume could not be used or updated.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// The venv's files could not be listed or copied.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The venv's path could not be pointed at the copy in the build cache volume.
    #[error("could not link {} to the venv in the build cache volume", path.display())]
    Link {
        /// The layer's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The venv has no `lib/python*/site-packages`.
    #[error("{} has no lib/python*/site-packages: the install did not make a venv", venv.display())]
    NoSitePackages {
        /// The venv.
        venv: PathBuf,
    },
    /// The `.pth` file that finds the delta layer could not be written.
    #[error("could not write {}", path.display())]
    WriteHook {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The venv's packages could not be listed for its SBOM.
    #[error(transparent)]
    ListPackages(#[from] ListPackagesError),
    /// Packages could not be moved into the second part of a split venv.
    #[error("could not move packages from {} into the venv-part2 layer", site.display())]
    Split {
        /// The venv's site-packages.
        site: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The venv's SBOM could not be written.
    #[error("could not write the venv's SBOM")]
    WriteSbom(#[from] libbuildpack::sbom::SbomError),
}

/// Makes the venv's layers: reuses them when the image holds what is wanted; else calls `install`
/// and keeps the base layer with a delta when the install only added packages, or makes one fresh
/// layer. Writes the SBOM of each new layer; the delta's `bin/` goes on `PATH` at launch. The
/// buildpack sets the base layer's env.
///
/// A new venv (no usable copy in the build cache volume, or no volume) is made straight in its
/// layer, then copied into the volume. The last venv is updated in the volume, seen at the layer's
/// path through a symlink.
///
/// # Errors
///
/// The install's errors, and [`VenvError`] when the layers, the copy in the build cache volume or
/// the SBOMs cannot be made.
pub fn build<M, K, S, E>(
    ctx: &BuildContext<M>,
    spec: &Spec<'_, K, S>,
    install: impl FnOnce(&InstallInto<S>) -> Result<(), E>,
) -> Result<Venv, E>
where
    K: Serialize + DeserializeOwned + PartialEq + Clone,
    S: Serialize + DeserializeOwned + PartialEq,
    E: From<VenvError>,
{
    let previous = Previous {
        base: ctx.layer(LAYER).restored_key(),
        delta: ctx.layer(DELTA_LAYER).restored_key(),
    };
    if previous.installed() == Some(&spec.wanted)
        && let Some(base) = &previous.base
    {
        let layer = ctx
            .layer(LAYER)
            .launch()
            .keyed_by(base)
            .map_err(VenvError::from)?;
        let delta = previous
            .delta()
            .map(|key| ctx.layer(DELTA_LAYER).launch().keyed_by(key))
            .transpose()
            .map_err(VenvError::from)?;
        return Ok(Venv {
            layer,
            delta,
            part2: keep_part2(ctx, base)?,
            outcome: Outcome::Unchanged,
        });
    }

    // The copy is kept when made for a compatible key, else emptied; its key record is written
    // back once the install succeeded.
    let seed = match ctx.kept_dir(LAYER) {
        Some(dir) => Some(Seed::new(
            dir.update_in_place(spec.seed_compatible)
                .keyed_by(&spec.seed_key)
                .map_err(|e| VenvError::from(SeedError::from(e)))?,
        )),
        None => None,
    };
    let venv = match &seed {
        Some(seed) if !seed.kept().is_new() => update(ctx, spec, &previous, seed, install)?,
        seed => fresh(ctx, spec, seed.as_ref(), install)?,
    };
    if let Some(seed) = &seed {
        seed.commit().map_err(VenvError::from)?;
    }
    Ok(venv)
}

/// A new venv in its layer, copied into the (empty) `seed` when there is one, with the listing of
/// its files.
fn fresh<M, K, S, E>(
    ctx: &BuildContext<M>,
    spec: &Spec<'_, K, S>,
    seed: Option<&Seed>,
    install: impl FnOnce(&InstallInto<S>) -> Result<(), E>,
) -> Result<Venv, E>
where
    K: Serialize + DeserializeOwned + PartialEq + Clone,
    E: From<VenvError>,
{
    let mut key = BaseKey {
        installed: spec.wanted.clone(),
        files: String::new(),
    };
    let layer = ctx
        .layer(LAYER)
        .launch()
        .keyed_by(&key)
        .map_err(VenvError::from)?;
    install(&InstallInto {
        path: layer.path().to_owned(),
        fresh: true,
        previous: None,
    })?;
    write_hook(ctx, layer.path())?;
    if let Some(seed) = seed {
        let files = Manifest::scan(layer.path()).map_err(VenvError::from)?;
        key.files = files.fingerprint();
        layer.set_key(&key).map_err(VenvError::from)?;
        files.write(seed.base_files()).map_err(VenvError::from)?;
        seed.copy_from(layer.path()).map_err(VenvError::from)?;
    }
    Ok(new_base(ctx, layer, &key, Fold::Fresh)?)
}

/// Installs into the last venv, in the build cache volume, then keeps the base layer with a delta or
/// makes one fresh layer from it.
fn update<M, K, S, E>(
    ctx: &BuildContext<M>,
    spec: &Spec<'_, K, S>,
    previous: &Previous<K>,
    seed: &Seed,
    install: impl FnOnce(&InstallInto<S>) -> Result<(), E>,
) -> Result<Venv, E>
where
    K: Serialize + DeserializeOwned + PartialEq + Clone,
    S: DeserializeOwned,
    E: From<VenvError>,
{
    {
        let path = ctx.layers_dir().join(LAYER);
        let _link = Link::place(seed.dir(), &path)?;
        install(&InstallInto {
            path,
            fresh: false,
            previous: seed.kept().previous_key(),
        })?;
    }
    Ok(after_update(ctx, spec, previous, seed)?)
}

/// Decides from the listings what the updated venv in the volume becomes, and makes its layers.
fn after_update<M, K, S>(
    ctx: &BuildContext<M>,
    spec: &Spec<'_, K, S>,
    previous: &Previous<K>,
    seed: &Seed,
) -> Result<Venv, VenvError>
where
    K: Serialize + DeserializeOwned + PartialEq + Clone,
{
    write_hook(ctx, seed.dir())?;
    let after = Manifest::scan(seed.dir())?;
    let site = site_packages(seed.dir())?;
    let state: Vec<&Path> = spec.state.iter().map(Path::new).collect();
    let decision = match &previous.base {
        Some(base) => match Manifest::read(seed.base_files()) {
            Ok(listing) if !base.files.is_empty() && listing.fingerprint() == base.files => {
                plan::plan(&listing, &after, &site, &state)
            }
            _ => Plan::Fold(Fold::NoBase),
        },
        None => Plan::Fold(Fold::NoBase),
    };
    let venv = match (decision, &previous.base) {
        (Plan::Delta(_), Some(base)) if base.installed == spec.wanted => {
            // Back to what the base holds (the added packages were removed again): no delta.
            Venv {
                layer: ctx.layer(LAYER).launch().keyed_by(base)?,
                delta: None,
                part2: keep_part2(ctx, base)?,
                outcome: Outcome::BackToBase,
            }
        }
        (Plan::Delta(entries), Some(base)) => {
            delta(ctx, spec, base, seed, &after, &site, &entries)?
        }
        (Plan::Fold(reason), _) => fold(ctx, spec, seed, &after, reason)?,
        (Plan::Delta(_), None) => fold(ctx, spec, seed, &after, Fold::NoBase)?,
    };
    report(ctx, &venv.outcome);
    Ok(venv)
}

/// Keeps the base layer and copies the added `entries` from the venv in the volume into a new delta
/// layer, with their SBOM; the delta's `bin/` goes first on `PATH` at launch.
fn delta<M, K, S>(
    ctx: &BuildContext<M>,
    spec: &Spec<'_, K, S>,
    base: &BaseKey<K>,
    seed: &Seed,
    after: &Manifest,
    site: &Path,
    entries: &[PathBuf],
) -> Result<Venv, VenvError>
where
    K: Serialize + DeserializeOwned + PartialEq + Clone,
{
    let layer = ctx.layer(LAYER).launch().keyed_by(base)?;
    let delta = ctx.layer(DELTA_LAYER).launch().keyed_by(&DeltaKey {
        installed: spec.wanted.clone(),
        base_files: base.files.clone(),
    })?;
    libbuildpack::tree::copy_entries(
        seed.dir(),
        delta.path(),
        entries.iter().map(PathBuf::as_path),
    )?;
    let bytes = entries
        .iter()
        .filter_map(|p| after.get(p))
        .filter(|e| e.kind == libbuildpack::tree::EntryKind::File)
        .map(|e| e.size)
        .sum();
    let sbom = crate::site_sbom(spec.python, &delta.path().join(site))?;
    ctx.write_sbom(SbomOwner::Layer(&delta), &sbom)?;
    delta
        .launch_env()
        .prepend_path("PATH", delta.path().join("bin"))?;
    Ok(Venv {
        layer,
        delta: Some(delta),
        part2: keep_part2(ctx, base)?,
        outcome: Outcome::Delta {
            entries: entries.len(),
            bytes,
        },
    })
}

/// One new venv layer, copied from the venv in the volume, whose listing becomes the base's.
fn fold<M, K, S>(
    ctx: &BuildContext<M>,
    spec: &Spec<'_, K, S>,
    seed: &Seed,
    after: &Manifest,
    reason: Fold,
) -> Result<Venv, VenvError>
where
    K: Serialize + DeserializeOwned + PartialEq + Clone,
{
    let key = BaseKey {
        installed: spec.wanted.clone(),
        files: after.fingerprint(),
    };
    let layer = ctx.layer(LAYER).launch().keyed_by(&key)?;
    seed.copy_to(layer.path())?;
    after.write(seed.base_files())?;
    new_base(ctx, layer, &key, reason)
}

/// The last steps of a new base layer, made fresh or folded for `reason`: the SBOM of the whole venv,
/// then a big one split in two (see [`split`]).
fn new_base<M, K>(
    ctx: &BuildContext<M>,
    layer: Layer,
    key: &BaseKey<K>,
    reason: Fold,
) -> Result<Venv, VenvError>
where
    K: Serialize + DeserializeOwned + PartialEq,
{
    write_full_sbom(ctx, &layer)?;
    let part2 = split_off(ctx, &layer, key)?;
    Ok(Venv {
        layer,
        delta: None,
        part2,
        outcome: Outcome::Folded(reason),
    })
}

/// The second part of the kept base layer, when the previous image has one made with it.
fn keep_part2<M, K>(ctx: &BuildContext<M>, base: &BaseKey<K>) -> Result<Option<Layer>, VenvError>
where
    K: Serialize + DeserializeOwned + PartialEq,
{
    let part = ctx.layer(SPLIT_LAYER);
    if part.restored_key::<BaseKey<K>>().as_ref() != Some(base) {
        return Ok(None);
    }
    Ok(Some(ctx.layer(SPLIT_LAYER).launch().keyed_by(base)?))
}

/// Moves about half of a big new venv, whole distributions, into the [`SPLIT_LAYER`] (keyed like
/// the base layer), found through a `.pth` file in the venv. Small venvs stay one layer.
fn split_off<M, K>(
    ctx: &BuildContext<M>,
    layer: &Layer,
    key: &BaseKey<K>,
) -> Result<Option<Layer>, VenvError>
where
    K: Serialize + DeserializeOwned + PartialEq,
{
    let total = split::total_bytes(layer.path());
    if total < split::MIN_VENV_BYTES {
        return Ok(None);
    }
    let relative = site_packages(layer.path())?;
    let site = layer.path().join(&relative);
    let err = |source| VenvError::Split {
        site: site.clone(),
        source,
    };
    let found = split::distributions(&site).map_err(err)?;
    let chosen = split::choose(&found, total);
    if chosen.is_empty() {
        return Ok(None);
    }
    let part = ctx.layer(SPLIT_LAYER).launch().keyed_by(key)?;
    let entries: Vec<&str> = chosen
        .iter()
        .flat_map(|d| d.entries.iter().map(String::as_str))
        .collect();
    let moved = split::move_entries(&site, &part.path().join(&relative), &entries).map_err(err)?;
    let hook = site.join(split::HOOK);
    let line = hook_line(&ctx.layers_dir().join(SPLIT_LAYER).join(&relative));
    std::fs::write(&hook, line).map_err(|source| VenvError::WriteHook { path: hook, source })?;
    ctx.output().step(format!(
        "Splitting the venv ({}) into two layers of similar size, exported and imported at once: {} of \
         {} packages ({}) go into the {SPLIT_LAYER} layer",
        plan::megabytes(total),
        chosen.len(),
        found.len(),
        plan::megabytes(moved)
    ));
    Ok(Some(part))
}

/// Says what became of the venv after an install into the last one.
fn report<M>(ctx: &BuildContext<M>, outcome: &Outcome) {
    match outcome {
        Outcome::BackToBase => ctx
            .output()
            .step("Back to the packages of the venv layer: it is kept, with no delta"),
        Outcome::Delta { entries, bytes } => ctx.output().step(format!(
            "Only packages were added: the venv layer is kept, and the {entries} new files and directories ({}) \
             go into the {DELTA_LAYER} layer",
            plan::megabytes(*bytes)
        )),
        Outcome::Folded(reason) => ctx
            .output()
            .step(format!("Making the venv one layer again: {reason}")),
        Outcome::Unchanged => {}
    }
}

fn write_full_sbom<M>(ctx: &BuildContext<M>, layer: &Layer) -> Result<(), VenvError> {
    let sbom = crate::venv_sbom(layer.path())?;
    ctx.write_sbom(SbomOwner::Layer(layer), &sbom)?;
    Ok(())
}

/// The venv's `lib/pythonX.Y/site-packages`, relative to it.
fn site_packages(venv: &Path) -> Result<PathBuf, VenvError> {
    let missing = || VenvError::NoSitePackages {
        venv: venv.to_owned(),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(venv.join("lib"))
        .map_err(|_| missing())?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
        .map(|e| Path::new("lib").join(e.file_name()).join("site-packages"))
        .filter(|p| venv.join(p).is_dir())
        .collect();
    found.sort();
    found.pop().ok_or_else(missing)
}

/// The line of the `.pth` file: adds the delta layer's site-packages when that layer exists.
fn hook_line(delta_site: &Path) -> String {
    let path = format!("{:?}", delta_site.to_string_lossy());
    format!("import os, site; os.path.isdir({path}) and site.addsitedir({path})\n")
}

/// Writes the `.pth` file into the venv at `venv` (left alone when it is already right, so its
/// time, and with it the listing, stays the same).
fn write_hook<M>(ctx: &BuildContext<M>, venv: &Path) -> Result<(), VenvError> {
    let site = site_packages(venv)?;
    let line = hook_line(&ctx.layers_dir().join(DELTA_LAYER).join(&site));
    let path = venv.join(&site).join(HOOK);
    if std::fs::read_to_string(&path).is_ok_and(|text| text == line) {
        return Ok(());
    }
    std::fs::write(&path, line).map_err(|source| VenvError::WriteHook { path, source })
}

/// A symlink from the layer's path to the copy in the build cache volume, removed when dropped: the
/// install sees the venv at the path it has at run time.
struct Link {
    path: PathBuf,
}

impl Link {
    fn place(target: &Path, path: &Path) -> Result<Self, VenvError> {
        let err = |source| VenvError::Link {
            path: path.to_owned(),
            source,
        };
        // A launch-only layer is never restored, but a dir left by an older buildpack might be.
        Self::clear(path).map_err(err)?;
        std::os::unix::fs::symlink(target, path).map_err(err)?;
        Ok(Self {
            path: path.to_owned(),
        })
    }

    /// Removes what is at `path`: a link, a file or a dir.
    fn clear(path: &Path) -> std::io::Result<()> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
            Err(_) => Ok(()),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(files: &str) -> BaseKey<String> {
        BaseKey {
            installed: "flask".into(),
            files: files.into(),
        }
    }

    #[test]
    fn the_image_holds_the_delta_only_over_its_own_base() {
        let delta = DeltaKey {
            installed: "flask six".to_string(),
            base_files: "sha256:a".into(),
        };
        let previous = Previous {
            base: Some(base("sha256:a")),
            delta: Some(delta.clone()),
        };
        assert_eq!(previous.installed().map(String::as_str), Some("flask six"));
        // A delta left from an older base (the base was rebuilt since) does not count.
        let stale = Previous {
            base: Some(base("sha256:b")),
            delta: Some(delta.clone()),
        };
        assert_eq!(stale.installed().map(String::as_str), Some("flask"));
        assert_eq!(stale.delta(), None);
        let orphan = Previous {
            base: None,
            delta: Some(delta),
        };
        assert_eq!(orphan.installed(), None);
    }

    #[test]
    fn the_hook_adds_the_delta_site_dir_only_when_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let line = hook_line(&dir.path().join("venv-delta/lib/python3.11/site-packages"));
        assert!(
            line.starts_with("import "),
            "a .pth line runs only when it starts with `import `"
        );
        assert_eq!(line.lines().count(), 1);
        let script = |site_exists: bool| {
            let site = dir.path().join("venv-delta/lib/python3.11/site-packages");
            if site_exists {
                std::fs::create_dir_all(&site).unwrap();
            }
            let output = std::process::Command::new("python3")
                .args(["-I", "-c"])
                .arg(format!(
                    "{line}\nimport sys; print({:?} in sys.path)",
                    site.to_string_lossy()
                ))
                .output();
            output
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        let Some(without) = script(false) else {
            eprintln!("skipped: no python3 here");
            return;
        };
        assert_eq!(without, "False");
        assert_eq!(script(true).unwrap(), "True");
    }

    #[test]
    fn finds_the_site_packages_of_a_venv() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            site_packages(dir.path()),
            Err(VenvError::NoSitePackages { .. })
        ));
        std::fs::create_dir_all(dir.path().join("lib/python3.11/site-packages")).unwrap();
        assert_eq!(
            site_packages(dir.path()).unwrap(),
            Path::new("lib/python3.11/site-packages")
        );
    }
}
