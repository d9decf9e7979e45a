//! `.cnb` buildpackages as pack writes them: an uncompressed tar of an OCI image layout (`/oci-layout`,
//! `/index.json`, `/blobs/sha256/<hex>`) holding one image with one layer per buildpack at
//! `/cnb/buildpacks/<escaped id>/<version>/` and the `io.buildpacks.buildpackage.metadata` and
//! `io.buildpacks.buildpack.layers` labels.
//!
//! Unlike pack, layers are in a fixed order (sorted by id and version), so packaging is byte-for-byte
//! reproducible. The manifest is OCI rather than Docker v2s2; pack reads both.

use std::io;
use std::path::{Path, PathBuf};

use libbuildpack::data::labels::{
    BuildpackLayer, BuildpackLayers, BuildpackageMetadata, PlatformLabel,
};
use libbuildpack::data::{BuildpackDescriptor, Stack};

use super::{BuildpackDir, PackageError, io_err};
use crate::buildpack::Error;
use crate::oci::extract::{self, Kind};
use crate::oci::labels::{BUILDPACK_LAYERS, BUILDPACKAGE_METADATA};
use crate::oci::{Image, LayerTar, LayerWriter, Layout, Platform};

/// The OCI os/architecture (and variant) of a Rust target triple.
///
/// # Errors
/// When the triple's arch or OS has no OCI name rpack knows.
pub(crate) fn platform_of(triple: &str) -> Result<(String, String, Option<String>), PackageError> {
    let unknown = || PackageError::UnknownTarget {
        target: triple.to_owned(),
    };
    let arch = triple.split('-').next().unwrap_or_default();
    let (arch, variant) = match arch {
        "x86_64" => ("amd64", None),
        "aarch64" => ("arm64", None),
        "i686" | "i586" => ("386", None),
        "armv7" => ("arm", Some("v7")),
        "arm" => ("arm", Some("v6")),
        "riscv64gc" => ("riscv64", None),
        "powerpc64le" => ("ppc64le", None),
        "s390x" => ("s390x", None),
        _ => return Err(unknown()),
    };
    let os = if triple.contains("-linux") {
        "linux"
    } else if triple.contains("-windows") {
        "windows"
    } else {
        return Err(unknown());
    };
    Ok((os.to_owned(), arch.to_owned(), variant.map(str::to_owned)))
}

/// The Rust musl target triple that builds binaries for an OCI os/architecture (and variant).
///
/// # Errors
/// When rpack knows no musl target for the platform.
pub(crate) fn triple_of(
    os: &str,
    arch: &str,
    variant: Option<&str>,
) -> Result<String, PackageError> {
    let triple = match (os, arch, variant) {
        ("linux", "amd64", _) => "x86_64-unknown-linux-musl",
        ("linux", "arm64", _) => "aarch64-unknown-linux-musl",
        ("linux", "386", _) => "i686-unknown-linux-musl",
        ("linux", "arm", Some("v7") | None) => "armv7-unknown-linux-musleabihf",
        ("linux", "arm", Some("v6")) => "arm-unknown-linux-musleabihf",
        ("linux", "riscv64", _) => "riscv64gc-unknown-linux-musl",
        ("linux", "ppc64le", _) => "powerpc64le-unknown-linux-musl",
        ("linux", "s390x", _) => "s390x-unknown-linux-musl",
        _ => {
            return Err(PackageError::UnknownPlatform {
                platform: [Some(os), Some(arch), variant]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("/"),
            });
        }
    };
    Ok(triple.to_owned())
}

/// Writes the image of a buildpackage into `layout`: `main` is the buildpack the package is named for,
/// `all` every buildpack in it (main included), each in its own layer.
///
/// # Errors
/// When a buildpack dir cannot be read or the layout cannot be written.
pub(crate) fn write_image(
    layout: &Layout,
    main: &BuildpackDescriptor,
    all: &[BuildpackDir],
    platform: (&str, &str),
) -> Result<Image, Error> {
    let mut image = Image::scratch(layout.clone(), platform.0, platform.1)?;
    let mut layers = BuildpackLayers::default();
    let when = crate::oci::archive::mtime();
    for bp in sorted_unique(all) {
        let info = &bp.descriptor.buildpack;
        layers
            .0
            .entry(info.id.as_str().to_owned())
            .or_default()
            .insert(
                info.version.to_string(),
                add_buildpack_layer(&mut image, layout, bp, when)?,
            );
    }
    let label_error = |source| PackageError::Label {
        path: layout.root().to_owned(),
        source,
    };
    image.set_label(
        BUILDPACKAGE_METADATA,
        &package_metadata(main).to_label().map_err(label_error)?,
    );
    image.set_label(BUILDPACK_LAYERS, &layers.to_label().map_err(label_error)?);
    image.save(main.buildpack.version.as_ref())?;
    Ok(image)
}

/// The buildpacks sorted by id and version, each once: the fixed order that makes packaging reproducible.
fn sorted_unique(all: &[BuildpackDir]) -> Vec<&BuildpackDir> {
    let mut sorted: Vec<&BuildpackDir> = all.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |bp: &BuildpackDir| {
            (
                bp.descriptor.buildpack.id.as_str().to_owned(),
                bp.descriptor.buildpack.version.to_string(),
            )
        };
        key(a).cmp(&key(b))
    });
    sorted.dedup_by(|a, b| {
        a.descriptor.buildpack.id == b.descriptor.buildpack.id
            && a.descriptor.buildpack.version == b.descriptor.buildpack.version
    });
    sorted
}

/// Adds the buildpack `bp` to `image` as a layer of its own (files dated `when`), and returns its entry in the
/// layers label.
fn add_buildpack_layer(
    image: &mut Image,
    layout: &Layout,
    bp: &BuildpackDir,
    when: u64,
) -> Result<BuildpackLayer, Error> {
    let info = &bp.descriptor.buildpack;
    let mut layer = LayerWriter::new(layout)?;
    layer.set_mtime(when);
    let base = format!("cnb/buildpacks/{}/{}", info.id.escaped(), info.version);
    let write = io_err("package", &bp.dir);
    write_tree(&mut layer, &base, &bp.dir).map_err(write)?;
    let written = layer.finish()?;
    image.add_layer(
        &written,
        &format!(
            "rpack buildpack package: {} {}",
            info.id.as_str(),
            info.version
        ),
    )?;
    Ok(BuildpackLayer {
        api: bp.descriptor.api.to_string(),
        stacks: bp.descriptor.stacks.clone(),
        targets: bp.descriptor.targets.clone(),
        order: bp.descriptor.order.clone(),
        layer_diff_id: written.diff_id.to_string(),
        homepage: info.homepage.clone(),
        name: info.name.clone(),
    })
}

/// The buildpackage metadata label of a package named for `main`: its stacks, or any stack (`*`).
fn package_metadata(main: &BuildpackDescriptor) -> BuildpackageMetadata {
    BuildpackageMetadata {
        id: main.buildpack.id.as_str().to_owned(),
        version: main.buildpack.version.to_string(),
        homepage: main.buildpack.homepage.clone(),
        name: main.buildpack.name.clone(),
        stacks: if main.stacks.is_empty() {
            vec![Stack {
                id: "*".to_owned(),
                mixins: Vec::new(),
            }]
        } else {
            main.stacks.clone()
        },
    }
}

/// Adds the buildpack dir `src` at `base` with pack's normalisation: dir entries for `base` and its parents,
/// entries sorted by name, mode 0755 for dirs, executables and links, 0644 for other files.
fn write_tree(layer: &mut LayerWriter, base: &str, src: &Path) -> io::Result<()> {
    if let Some((parents, _)) = base.rsplit_once('/') {
        let mut parent = String::new();
        for part in parents.split('/') {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(part);
            layer.dir(&parent, 0o755)?;
        }
    }
    layer.tree_with_link_mode(base, src, 0o755)
}

/// Opens the `.cnb` (or any OCI archive of one image) at `file` by extracting it, safely, under `work`. The
/// manifest and config are checked against their descriptors; layers are not read (see
/// [`Image::verify_layers`]). Of a multi-platform `.cnb`, reads the image for `platform` (else the host's).
///
/// # Errors
/// When the file cannot be read, is unsafe, holds no single image, or (multi-platform) has no image for the
/// platform.
pub(crate) fn open_for(
    file: &Path,
    work: &Path,
    platform: Option<&Platform>,
) -> Result<Image, Error> {
    let (reader, _) = crate::oci::open_user_file(file).map_err(io_err("open", file))?;
    let dir = work.join("layout");
    extract::extractor(&dir, Kind::Buildpackage)
        .tar(io::BufReader::new(reader))
        .map_err(|source| PackageError::Archive {
            path: file.to_owned(),
            source,
        })?;
    let layout = Layout::of_archive(dir, file);
    Ok(Image::load(match platform {
        Some(platform) => layout.for_platform(platform.clone()),
        None => layout,
    })?)
}

/// The buildpacks in a `.cnb` file: its layers are extracted (safely) under `work` and each buildpack
/// the layers label lists is read from `/cnb/buildpacks/<escaped id>/<version>`. The main buildpack comes
/// first.
///
/// # Errors
/// When the file is not a buildpackage, a layer is unsafe, or a buildpack.toml is invalid.
pub fn unpack(file: &Path, work: &Path) -> Result<Vec<BuildpackDir>, Error> {
    unpack_for(file, work, None)
}

/// [`unpack`], reading the image for `platform` (else the host's) of a multi-platform `.cnb`.
///
/// # Errors
/// As [`unpack`], and when a multi-platform file has no image for the platform.
pub(crate) fn unpack_for(
    file: &Path,
    work: &Path,
    platform: Option<&Platform>,
) -> Result<Vec<BuildpackDir>, Error> {
    let image = open_for(file, work, platform)?;
    let label_error = |source| PackageError::Label {
        path: file.to_owned(),
        source,
    };
    let layers = image
        .label(BUILDPACK_LAYERS)
        .ok_or_else(|| not_a_package(file, &format!("it has no {BUILDPACK_LAYERS} label")))?;
    let layers = BuildpackLayers::from_label(&layers).map_err(label_error)?;
    let main = image
        .label(BUILDPACKAGE_METADATA)
        .map(|text| BuildpackageMetadata::from_label(&text))
        .transpose()
        .map_err(label_error)?;
    let root = work.join("root");
    extract_layers(file, &image, &root)?;
    let mut out = Vec::new();
    for (id, versions) in &layers.0 {
        for version in versions.keys() {
            out.push(read_listed(file, &root, id, version)?);
        }
    }
    let is_main = |bp: &BuildpackDir| {
        main.as_ref().is_some_and(|main| {
            main.id == bp.descriptor.buildpack.id.as_str()
                && main.version == bp.descriptor.buildpack.version.to_string()
        })
    };
    out.sort_by_key(|bp| !is_main(bp));
    if out.is_empty() {
        return Err(not_a_package(file, "it lists no buildpacks").into());
    }
    Ok(out)
}

/// The error for a `file` that is not a buildpackage, and `why`.
fn not_a_package(file: &Path, why: &str) -> PackageError {
    PackageError::NotABuildpackage {
        path: file.to_owned(),
        why: why.to_owned(),
    }
}

/// Extracts every layer of the buildpackage `image` (read from `file`) into `root`, each checked as it
/// streams against its blob digest and its diff id.
fn extract_layers(file: &Path, image: &Image, root: &Path) -> Result<(), Error> {
    // One extractor for every layer: the caps apply to the buildpackage as a whole.
    let mut layers_extract = extract::extractor(root, Kind::Buildpackage);
    let max = crate::oci::max_layer_bytes();
    for (i, (layer, listed)) in image.layers().iter().zip(image.diff_ids()).enumerate() {
        let layout = image.layout();
        let digest = layout.digest_of(layer)?;
        let blob_error = |e| layout.blob_error(&digest, e);
        // Checked as it streams: a layer that is not what the manifest (its blob) and the config (its diff id)
        // say fails the unpack.
        let mut blob = layout.open_blob(&digest, layer.size())?;
        let mut extracted = Ok(());
        let checked = LayerTar::new(&mut blob, listed, i + 1, max).and_then(|mut tar| {
            extracted = layers_extract.tar(&mut tar);
            match (&extracted, tar.problem()) {
                (Ok(()), _) => tar.finish().map(drop),
                // The extractor read to the end, where the tar failed its check.
                (Err(_), Some(problem)) => Err(problem.into()),
                (Err(_), None) => Ok(()),
            }
        });
        // A blob that fails its own check says so, rather than the tar, gzip or diff id error it caused; a tar
        // that is not the one the config lists says so, rather than an extraction error it caused.
        blob.finish().map_err(blob_error)?;
        checked.map_err(blob_error)?;
        extracted.map_err(|source| PackageError::Archive {
            path: file.to_owned(),
            source,
        })?;
    }
    Ok(())
}

/// The buildpack `id` `version` that the layers label of `file` lists, read from its dir under the extracted
/// `root` (`cnb/buildpacks/<escaped id>/<version>`).
fn read_listed(file: &Path, root: &Path, id: &str, version: &str) -> Result<BuildpackDir, Error> {
    let escaped = id.replace('/', "_");
    let safe = |part: &str| !part.is_empty() && part != "." && part != ".." && !part.contains('/');
    if !safe(&escaped) || !safe(version) {
        return Err(not_a_package(
            file,
            &format!("{BUILDPACK_LAYERS} lists an unusable buildpack {id:?} {version:?}"),
        )
        .into());
    }
    // Links in the tree were checked on extraction; the dir and its buildpack.toml are resolved
    // once more so nothing copied into a package or builder can come from outside the tree.
    let in_tree = |path: PathBuf| {
        extract::inside(root, &path).map_err(|source| PackageError::Tree {
            path: file.to_owned(),
            source,
        })
    };
    let dir = in_tree(root.join("cnb/buildpacks").join(escaped).join(version))?;
    let descriptor: BuildpackDescriptor =
        BuildpackDescriptor::read(in_tree(dir.join("buildpack.toml"))?)
            .map_err(PackageError::from)?;
    Ok(BuildpackDir { dir, descriptor })
}
