//! Taking care of the image store: listing and removing images, pruning what no image uses, and moving
//! images in and out as OCI archives.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use libbuildpack::toolbox::file::FileError;
use oci_spec::image::{Descriptor, MediaType};
use serde::Serialize;

use crate::oci::extract::{self, ArchiveError, Kind};
use crate::oci::labels::ImageKind;
use crate::oci::reference::ImageRef;
use crate::oci::{Image, Layout, LayoutError, Platform};
use crate::store::Error;
use crate::store::Store;
use crate::toolbox::output::OutputKind;

/// Temp dirs and files older than this are taken as left behind by an interrupted command.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// What failed while taking care of the store.
#[derive(Debug, thiserror::Error)]
pub enum ImagesError {
    /// The image is not in the store.
    #[error("{image} is not in rpack's store ({path})")]
    NotFound {
        /// The image.
        image: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// An archive to import is unsafe or broken.
    #[error("could not import {path}")]
    Archive {
        /// The archive.
        path: PathBuf,
        /// Why.
        #[source]
        source: ArchiveError,
    },
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl ImagesError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotFound { .. } => {
                Some("list the images rpack has with `rpack images`".to_owned())
            }
            _ => None,
        }
    }
}

crate::toolbox::file_error::io_err!(ImagesError);

/// One image of the store.
#[derive(Clone, Debug, Serialize)]
pub struct ImageEntry {
    /// Its reference.
    pub reference: String,
    /// Its config digest (the image id).
    pub id: String,
    /// What it is (`builder`, `buildpackage`, `app`, `image`).
    pub kind: String,
    /// The sum of its layer blob sizes.
    pub size: u64,
}

/// Every layout dir (a dir with `index.json`) under `dir`, with its path relative to `dir`.
fn layout_dirs(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("index.json").is_file() {
        out.push(rel.to_owned());
        return;
    }
    let Ok(entries) = fs_err::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(fs_err::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        if entry.file_type().is_ok_and(|t| t.is_dir()) && !name.to_string_lossy().starts_with('.') {
            layout_dirs(&entry.path(), &rel.join(&name), out);
        }
    }
}

/// The images in the store, sorted by reference.
#[must_use]
pub fn list(store: &Store) -> Vec<ImageEntry> {
    let mut dirs = Vec::new();
    layout_dirs(&store.images_dir(), Path::new(""), &mut dirs);
    dirs.iter()
        .filter_map(|rel| {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let [registry, repo @ .., tag] = parts.as_slice() else {
                return None;
            };
            if repo.is_empty() {
                return None;
            }
            let reference = format!("{registry}/{}:{tag}", repo.join("/"));
            let image = Image::load(Layout::open(store.images_dir().join(rel))).ok()?;
            let kind = ImageKind::of(&image).name().to_owned();
            Some(ImageEntry {
                id: image
                    .config_digest()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                size: image.layers().iter().map(Descriptor::size).sum(),
                kind,
                reference,
            })
        })
        .collect()
}

/// The layout of `image`, which must be in the store.
///
/// # Errors
/// [`ImagesError::NotFound`] when it is not.
pub(crate) fn existing_layout(store: &Store, image: &ImageRef) -> Result<Layout, ImagesError> {
    let layout = store.image_layout(image);
    if layout.exists() {
        Ok(layout)
    } else {
        Err(ImagesError::NotFound {
            image: image.to_string(),
            path: layout.root().to_owned(),
        })
    }
}

/// Removes `image` from the store (waiting for commands that hold its lock), and the dirs it leaves empty.
///
/// # Errors
/// When it is not in the store or cannot be removed.
pub fn remove(store: &Store, image: &ImageRef) -> Result<(), Error> {
    let _lock = store.lock(&image.to_string())?;
    let layout = existing_layout(store, image)?;
    // Move it aside first so the image disappears at once, then delete (a command killed meanwhile leaves it
    // to the next one's sweep of the tmp dir).
    let scratch = store.scratch_dir("rm-")?;
    let aside = scratch.path().join("image");
    fs_err::rename(layout.root(), &aside).map_err(io_err("remove", layout.root()))?;
    fs_err::remove_dir_all(&aside).map_err(io_err("remove", &aside))?;
    let images = store.images_dir();
    let mut dir = layout.root().parent();
    while let Some(d) = dir.filter(|d| d.starts_with(&images) && *d != images) {
        if fs_err::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// The blobs (hex digests) the index of `layout` reaches: manifests, nested indexes, configs and layers. The
/// JSON documents on the way are read bounded and checked against their descriptors.
fn referenced_blobs(layout: &Layout) -> Result<BTreeSet<String>, LayoutError> {
    let index = layout.read_index()?;
    let mut seen = BTreeSet::new();
    let mut todo: Vec<Descriptor> = index.manifests().clone();
    while let Some(desc) = todo.pop() {
        let digest = layout.digest_of(&desc)?;
        if !seen.insert(digest.hex().to_owned()) {
            continue;
        }
        let is_index = matches!(desc.media_type(), MediaType::ImageIndex)
            || desc.media_type().to_string().contains("manifest.list");
        let is_manifest = matches!(desc.media_type(), MediaType::ImageManifest)
            || desc
                .media_type()
                .to_string()
                .contains("distribution.manifest.v2");
        if is_index {
            let bytes = layout.read_blob(&digest, desc.size())?;
            let nested: oci_spec::image::ImageIndex =
                serde_json::from_slice(&bytes).map_err(|source| LayoutError::InvalidBlob {
                    layout: layout.shown().to_owned(),
                    digest: digest.clone(),
                    kind: "image index",
                    source,
                })?;
            todo.extend(nested.manifests().iter().cloned());
        } else if is_manifest {
            let manifest = layout.read_manifest(&digest, desc.size())?;
            todo.push(manifest.config().clone());
            todo.extend(manifest.layers().iter().cloned());
        }
    }
    Ok(seen)
}

/// What [`prune`] removed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Pruned {
    /// Blobs no image references.
    pub blobs: usize,
    /// Stale temp dirs and files.
    pub temp: usize,
    /// Builders made on demand for a `builder.toml` that no longer exists (see `made_for`).
    pub builders: usize,
    /// Bytes freed.
    pub bytes: u64,
}

fn is_stale(path: &Path) -> bool {
    fs_err::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age > STALE_AFTER)
}

/// Removes the builders `rpack build --builder builder.toml` made for files that are gone, blobs that no image
/// references, scratch dirs in the store's tmp dir that no live command holds (see [`Store::sweep_tmp`]), and
/// other temp entries, `.old-*` dirs and `.tmp-*` blobs older than [`STALE_AFTER`]. Each image is locked while
/// its blobs are pruned.
///
/// # Errors
/// When a lock cannot be taken.
pub fn prune(store: &Store) -> Result<Pruned, Error> {
    let mut pruned = Pruned::default();
    prune_orphan_builders(store, &mut pruned);
    prune_blobs(store, &mut pruned)?;
    // Scratch dirs no live command holds, other stale temp entries, and `.old-*` dirs an interrupted replace
    // left next to images.
    let (swept, bytes) = store.sweep_tmp();
    pruned.temp += swept;
    pruned.bytes += bytes;
    // What background removals of disposed trees left (see `store::trash`).
    let (swept, bytes) = store.sweep_trash();
    pruned.temp += swept;
    pruned.bytes += bytes;
    prune_stale_temp(store, &mut pruned);
    prune_old_dirs(store, &mut pruned)?;
    Ok(pruned)
}

impl Pruned {
    /// Removes `path` and counts it, with its size, as a blob or (`blob` false) a temp entry.
    fn remove(&mut self, path: &Path, blob: bool) {
        let bytes = crate::store::disk_usage(path);
        if crate::toolbox::scratch::remove_path(path).is_ok() {
            self.bytes += bytes;
            if blob {
                self.blobs += 1;
            } else {
                self.temp += 1;
            }
        }
    }
}

/// Removes the builders made for a `builder.toml` that is gone, and their records.
fn prune_orphan_builders(store: &Store, pruned: &mut Pruned) {
    for orphan in crate::store::made_for::orphans(store) {
        let layout = store.image_layout(&orphan.name);
        // One removed by hand leaves only its record.
        if layout.exists() {
            let bytes = crate::store::disk_usage(layout.root());
            if remove(store, &orphan.name).is_err() {
                continue;
            }
            pruned.builders += 1;
            pruned.bytes += bytes;
        }
        let _ = fs_err::remove_file(&orphan.record);
    }
}

/// Removes, image by image under its lock, the blobs its index does not reference and its stale `.tmp-*`
/// blobs.
fn prune_blobs(store: &Store, pruned: &mut Pruned) -> Result<(), Error> {
    let mut dirs = Vec::new();
    layout_dirs(&store.images_dir(), Path::new(""), &mut dirs);
    for rel in dirs {
        let layout = Layout::open(store.images_dir().join(&rel));
        let name = rel.to_string_lossy().into_owned();
        let _lock = store.lock(&name)?;
        let Ok(keep) = referenced_blobs(&layout) else {
            continue; // unreadable index: leave it alone rather than delete what it may use
        };
        let Ok(entries) = fs_err::read_dir(layout.blobs_dir()) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(".tmp-") {
                if is_stale(&entry.path()) {
                    pruned.remove(&entry.path(), false);
                }
            } else if !keep.contains(&file) {
                pruned.remove(&entry.path(), true);
            }
        }
    }
    Ok(())
}

/// Removes the stale entries of the store's tmp dir that are not scratch dirs.
fn prune_stale_temp(store: &Store, pruned: &mut Pruned) {
    let Ok(entries) = fs_err::read_dir(store.tmp_dir()) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let scratch = entry
            .file_name()
            .to_string_lossy()
            .ends_with(crate::store::SCRATCH_SUFFIX);
        if !scratch && is_stale(&entry.path()) {
            pruned.remove(&entry.path(), false);
        }
    }
}

/// Puts back images a killed replace left moved aside, and removes the stale `.old-*` dirs of the others.
fn prune_old_dirs(store: &Store, pruned: &mut Pruned) -> Result<(), Error> {
    let mut olds = Vec::new();
    find_old_dirs(&store.images_dir(), &mut olds);
    for old in olds {
        // `<image>.old-<pid>` with no `<image>` is the image itself, moved aside by a replace killed between its
        // two renames: it goes back, under the image's lock (no replace is under way then).
        let name = old.file_name().map(|n| n.to_string_lossy().into_owned());
        let image = name
            .as_deref()
            .and_then(|n| n.split_once(".old-"))
            .map(|(image, _)| old.with_file_name(image));
        if let Some(image) = image.filter(|i| !i.exists()) {
            let rel = image.strip_prefix(store.images_dir()).unwrap_or(&image);
            let _lock = store.lock(&rel.to_string_lossy())?;
            if crate::store::restore_replaced(&image).is_ok_and(|restored| restored) {
                continue;
            }
        }
        if is_stale(&old) {
            pruned.remove(&old, false);
        }
    }
    Ok(())
}

fn find_old_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains(".old-") {
            out.push(entry.path());
        } else if name != "blobs" {
            find_old_dirs(&entry.path(), out);
        }
    }
}

/// Writes `image` as an OCI archive (an uncompressed tar of its layout, only the blobs it references) to
/// `file`, through a temp file and a rename; `file` must be new or a regular file. With `platform`, only that
/// platform's image of a multi-platform image goes into the archive (its index lists that one manifest).
///
/// # Errors
/// When the image is not in the store or has no image for `platform`, or the file cannot be written.
pub fn export(
    store: &Store,
    image: &ImageRef,
    file: &Path,
    platform: Option<&Platform>,
) -> Result<(), Error> {
    crate::toolbox::output::check(file, OutputKind::File)?;
    let _lock = store.lock(&image.to_string())?;
    let layout = existing_layout(store, image)?;
    let mut staging = None;
    let layout = match platform {
        None => layout,
        Some(platform) => {
            // Errors name the image rather than its dir in the store.
            let named = Layout::of_archive(layout.root(), Path::new(&image.to_string()));
            crate::store::platforms::load(named.clone(), Some(platform))?;
            let work = store.scratch_dir("export-")?;
            let staged = Layout::create(work.path().join("layout"))?;
            crate::oci::index::write_multi(
                &staged,
                &[named.for_platform(platform.clone())],
                image.tag(),
            )?;
            staging = Some(work);
            staged
        }
    };
    let keep = referenced_blobs(&layout)?;
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let mut temp =
        crate::toolbox::scratch::file_in(parent, ".tmp-").map_err(io_err("write into", parent))?;
    crate::oci::archive::write_archive_of(
        layout.root(),
        |hex| keep.contains(hex),
        io::BufWriter::new(temp.as_file_mut()),
    )
    .map_err(io_err("write", file))?;
    temp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .map_err(io_err("write", file))?;
    // Checked again: the path may have changed while the archive was written.
    crate::toolbox::output::check(file, OutputKind::File)?;
    temp.persist(file)
        .map_err(|e| io_err("write", file)(e.error))?;
    drop(staging);
    Ok(())
}

/// Reads the OCI archive (or `.cnb`) `file` into the store as `image`: extracted safely into a temp dir, each
/// image's manifest, config and layers checked against their descriptors (size and digest; symlinks and
/// special files refused), then only those blobs linked into a fresh layout whose index points at the images
/// with `image`'s tag, which is renamed into place. With `platform`, only that platform's image of the archive
/// is read, and it joins the stored `image` as that platform's image (the other platforms stay, as with
/// `rpack build --platform`). Without, every image of the archive is read (one per platform of a
/// multi-platform archive) and they replace `image`.
///
/// # Errors
/// When the archive is unsafe or damaged, holds no image (for `platform`), or the store cannot be written.
pub fn import(
    store: &Store,
    file: &Path,
    image: &ImageRef,
    platform: Option<&Platform>,
) -> Result<(), Error> {
    let work = store.scratch_dir("import-")?;
    let extracted = work.path().join("archive");
    let (reader, _) = crate::oci::open_user_file(file).map_err(io_err("open", file))?;
    extract::extractor(&extracted, Kind::OciArchive)
        .tar(io::BufReader::new(reader))
        .map_err(|source| ImagesError::Archive {
            path: file.to_owned(),
            source,
        })?;
    let archive = Layout::of_archive(&extracted, file);
    let platforms = match platform {
        Some(platform) => vec![Some(platform.clone())],
        None => archive_platforms(&archive)?,
    };
    let mut parts = Vec::new();
    for (n, platform) in platforms.iter().enumerate() {
        let staged = Layout::create(work.path().join(format!("layout-{n}")))?;
        stage_checked(&archive, platform.as_ref(), &staged, image)?;
        parts.push(staged);
    }
    let staged = if let [one] = parts.as_slice() {
        one.clone()
    } else {
        let merged = Layout::create(work.path().join("layout"))?;
        crate::oci::index::write_multi(&merged, &parts, image.tag())?;
        merged
    };
    let _lock = store.lock(&image.to_string())?;
    if platform.is_some() {
        crate::store::platforms::put(store, image, &staged)?;
        return Ok(());
    }
    let dest = store.image_layout(image);
    crate::store::replace_dir(staged.root(), dest.root())
        .map_err(io_err("move into place", dest.root()))?;
    Ok(())
}

/// The platforms to import of an archive read without `--platform`: each platform its index lists when it
/// lists several (an image index), else `None`: its one image, or the host's of an index that names none.
fn archive_platforms(archive: &Layout) -> Result<Vec<Option<Platform>>, Error> {
    let mut listed = Vec::new();
    for platform in archive.platforms()? {
        if !listed.contains(&platform) {
            listed.push(platform);
        }
    }
    if listed.len() < 2 {
        return Ok(vec![None]);
    }
    Ok(listed.into_iter().map(Some).collect())
}

/// Checks the image of `platform` (else the host's, or the only one) in `archive` and links its manifest,
/// config and layers into `staged`, whose index then lists it with `image`'s tag.
fn stage_checked(
    archive: &Layout,
    platform: Option<&Platform>,
    staged: &Layout,
    image: &ImageRef,
) -> Result<(), Error> {
    let source = archive.clone().scoped(platform);
    let loaded = crate::store::platforms::load(source.clone(), platform)?;
    loaded.verify_layers()?;
    let mut descriptor = source.image_descriptor()?;
    // Only what was checked moves on: the blobs of this one image, into a layout rpack writes itself.
    let manifest_digest = source.digest_of(&descriptor)?;
    staged.import_blob(&source, &manifest_digest)?;
    staged.import_blob(&source, &loaded.config_digest()?)?;
    for layer in loaded.layers() {
        staged.import_blob(&source, &source.digest_of(layer)?)?;
    }
    let mut annotations = descriptor.annotations().clone().unwrap_or_default();
    annotations.insert(
        "org.opencontainers.image.ref.name".to_owned(),
        image.tag().to_owned(),
    );
    descriptor.set_annotations(Some(annotations));
    staged.write_index(&descriptor)?;
    crate::store::platforms::load(staged.clone(), platform)?;
    Ok(())
}
