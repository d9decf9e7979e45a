//! The run image's package list, handed to builds: buildpacks that add Debian packages (the apt buildpack)
//! must know what the app image will already have, and a build runs on the build image, which has more.
//!
//! The build image gets one more layer with a single file, [`RUN_IMAGE_DPKG_STATUS`]: the run image's
//! `/var/lib/dpkg/status`, byte for byte. apt resolves against it with `-o Dir::State::status=<that file>` and
//! so downloads exactly the packages (and dependencies) the run image lacks. The build image's label
//! [`labels::RUN_IMAGE_DPKG_STATUS`] names the file; a build image without it predates this layer, and
//! [`is_current`] tells rpack to make the stack again.

use std::io::{self, Read};
use std::path::Path;

use libbuildpack::toolbox::file::FileError;

use crate::oci::labels;
use crate::oci::reference::ImageRef;
use crate::oci::{Image, Layer, LayerWriter, Layout};
use crate::store::Store;

use super::{StackError, StackRecipe};

/// Where the build image has the run image's dpkg status (a path in the image).
pub(crate) const RUN_IMAGE_DPKG_STATUS: &str = "/usr/share/rpack/run-image/dpkg-status";

/// What goes into the stack's key besides its recipe and packages: bumped when the images rpack writes
/// change shape, so stacks made by an older rpack are made again (3: the build image is made from the run
/// image's root file system, see `extend`; same files, but `/var/lib/dpkg/status-old`).
pub(super) const FORMAT: &str = "3: the build image is the run image plus the build packages";

/// The dpkg status file of the root file system in the (uncompressed) tar at `rootfs`.
pub(super) fn read_status(rootfs: &Path) -> Result<Vec<u8>, StackError> {
    let io_err = |source| {
        StackError::Io(FileError {
            action: "read the dpkg status from",
            path: rootfs.to_owned(),
            source,
        })
    };
    let file = fs_err::File::open(rootfs).map_err(io_err)?;
    let mut archive = tar::Archive::new(io::BufReader::with_capacity(1 << 20, file));
    for entry in archive.entries().map_err(io_err)? {
        let mut entry = entry.map_err(io_err)?;
        let path = entry.path().map_err(io_err)?;
        if path.strip_prefix(".").unwrap_or(&path) == Path::new("var/lib/dpkg/status")
            && entry.header().entry_type().is_file()
        {
            let mut status = Vec::new();
            entry.read_to_end(&mut status).map_err(io_err)?;
            return Ok(status);
        }
    }
    Err(io_err(io::Error::new(
        io::ErrorKind::NotFound,
        "the root file system has no var/lib/dpkg/status",
    )))
}

/// Writes the layer with `status` at [`RUN_IMAGE_DPKG_STATUS`] (root-owned, world-readable) into `layout`.
pub(super) fn layer(layout: &Layout, status: &[u8]) -> Result<Layer, StackError> {
    let io_err = |source| {
        StackError::Io(FileError {
            action: "write the run image's package list into",
            path: layout.root().to_owned(),
            source,
        })
    };
    let mut writer = LayerWriter::new(layout)?;
    let path = RUN_IMAGE_DPKG_STATUS.trim_start_matches('/');
    let mut dir = String::new();
    for part in Path::new(path).parent().into_iter().flat_map(Path::iter) {
        if !dir.is_empty() {
            dir.push('/');
        }
        dir.push_str(&part.to_string_lossy());
        writer.dir(&dir, 0o755).map_err(io_err)?;
    }
    writer.file(path, 0o644, status).map_err(io_err)?;
    Ok(writer.finish()?)
}

/// Whether `image`, when it is the build image of one of rpack's stacks, has the run image's package list (its
/// image for `platform`, of a stack made for several); always true for other images (rpack does not make
/// them).
#[must_use]
pub(crate) fn is_current(store: &Store, image: &ImageRef, platform: &crate::oci::Platform) -> bool {
    let Some(recipe) = StackRecipe::for_image(image) else {
        return true;
    };
    if &recipe.build_image() != image {
        return true;
    }
    Image::load(store.image_layout(image).for_platform(platform.clone()))
        .is_ok_and(|image| image.label(labels::RUN_IMAGE_DPKG_STATUS).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs_tar(dir: &Path, status: Option<&[u8]>) -> std::path::PathBuf {
        let path = dir.join("rootfs.tar");
        let mut tar = tar::Builder::new(fs_err::File::create(&path).unwrap());
        let mut add = |name: &str, data: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            tar.append_data(&mut header, name, data).unwrap();
        };
        add("./etc/os-release", b"ID=debian\n");
        if let Some(status) = status {
            add("./var/lib/dpkg/status", status);
        }
        add("./var/lib/dpkg/status-old", b"old\n");
        tar.finish().unwrap();
        path
    }

    #[test]
    fn the_build_image_gets_the_run_image_status_in_a_layer_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let status = b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n";
        let read = read_status(&rootfs_tar(dir.path(), Some(status))).unwrap();
        assert_eq!(read, status);

        let layout = Layout::create(dir.path().join("layout")).unwrap();
        let layer = layer(&layout, &read).unwrap();
        let mut image = Image::scratch(layout.clone(), "linux", "amd64").unwrap();
        image.add_layer(&layer, "status").unwrap();
        image.save("latest").unwrap();
        let image = Image::load(layout).unwrap();
        assert_eq!(
            image.read_file(RUN_IMAGE_DPKG_STATUS).unwrap().as_deref(),
            Some(&status[..])
        );
    }

    #[test]
    fn a_root_file_system_without_dpkg_status_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let tar = rootfs_tar(dir.path(), None);
        let err = read_status(&tar).unwrap_err();
        assert!(
            format!("{err}: {:?}", std::error::Error::source(&err)).contains("rootfs.tar"),
            "{err}"
        );
    }

    #[test]
    fn build_images_without_the_label_are_outdated_other_images_never() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path()).unwrap();
        let python = StackRecipe::named("python").unwrap();
        let write = |image: &ImageRef, label: bool| {
            let layout = store.image_layout(image);
            let layout = Layout::create(layout.root()).unwrap();
            let mut made = Image::scratch(layout, "linux", "amd64").unwrap();
            if label {
                made.set_label(labels::RUN_IMAGE_DPKG_STATUS, RUN_IMAGE_DPKG_STATUS);
            }
            made.save(image.tag()).unwrap();
        };
        write(&python.build_image(), false);
        write(&python.run_image(), false);
        assert!(!is_current(
            &store,
            &python.build_image(),
            &crate::oci::Platform::host()
        ));
        assert!(is_current(
            &store,
            &python.run_image(),
            &crate::oci::Platform::host()
        ));
        write(&python.build_image(), true);
        assert!(is_current(
            &store,
            &python.build_image(),
            &crate::oci::Platform::host()
        ));
        let other: ImageRef = "localhost/someone/else:latest".parse().unwrap();
        assert!(is_current(&store, &other, &crate::oci::Platform::host()));
    }
}
