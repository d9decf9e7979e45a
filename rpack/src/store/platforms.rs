//! Images with several platforms in the store: an image's layout lists one image per platform (an OCI image
//! index), so one name serves amd64 and arm64. [`put`] adds or replaces one platform's image and keeps the
//! others.

use crate::oci::reference::ImageRef;
use crate::oci::{Image, ImageError, Layout, LayoutError, Platform, index};
use crate::store::Store;

/// Loads the image of `platform` (else the host's, or the only one) from `layout`: of an index, that
/// platform's entry; a single image must be of that platform too (its config says which), so an amd64 image is
/// never shown or moved as the arm64 one asked for.
///
/// # Errors
/// [`LayoutError::NoImageForPlatform`] (naming the platforms there are) when there is no image for
/// `platform`, and when the image cannot be read.
pub fn load(layout: Layout, platform: Option<&Platform>) -> Result<Image, ImageError> {
    let image = Image::load(layout.scoped(platform))?;
    check(&image, platform)?;
    Ok(image)
}

/// Whether `image` (read from a layout with [`Layout::for_platform`], or from a single-image layout whose
/// index names no platform) is of `platform`, when one is asked for.
///
/// # Errors
/// [`LayoutError::NoImageForPlatform`] naming the image's platform when it is another.
pub fn check(image: &Image, platform: Option<&Platform>) -> Result<(), LayoutError> {
    match platform {
        Some(wanted) if wanted.os != image.os() || wanted.arch != image.arch() => {
            Err(LayoutError::NoImageForPlatform {
                layout: image.layout().shown().to_owned(),
                platform: wanted.to_string(),
                available: format!("{}/{}", image.os(), image.arch()),
            })
        }
        _ => Ok(()),
    }
}

/// Moves the single-platform image staged in `staged` into the store as `image`: the stored image's other
/// platforms stay; one of the same platform is replaced. The layout is replaced as a whole (atomically), so
/// readers see the old or the new index.
///
/// # Errors
/// When the staged image or a kept platform's image cannot be read, or the store cannot be written.
pub fn put(store: &Store, image: &ImageRef, staged: &Layout) -> Result<(), LayoutError> {
    let dest = store.image_layout(image);
    let descriptor = staged.image_descriptor()?;
    let platform = Platform::of(&descriptor).or_else(|| {
        crate::oci::Image::load(staged.clone())
            .ok()
            .map(|image| Platform::new(&image.os(), &image.arch()))
    });
    let kept: Vec<Platform> = stored_platforms(&dest)
        .into_iter()
        .filter(|p| Some(p) != platform.as_ref())
        .collect();
    let write_err = |source| LayoutError::WriteIndex {
        path: dest.root().to_owned(),
        source,
    };
    if kept.is_empty() || platform.is_none() {
        return crate::store::replace_dir(staged.root(), dest.root()).map_err(write_err);
    }
    let merged_dir = staged
        .root()
        .with_file_name(format!(".merged-{}", std::process::id()));
    let merged = Layout::create(&merged_dir)?;
    let mut parts: Vec<Layout> = kept
        .into_iter()
        .map(|p| dest.clone().for_platform(p))
        .collect();
    parts.push(staged.clone());
    parts.sort_by_key(|l| l.platform().cloned().or_else(|| platform.clone()));
    let tag = image.tag().to_owned();
    index::write_multi(&merged, &parts, &tag)?;
    crate::store::replace_dir(merged.root(), dest.root()).map_err(write_err)
}

/// The platforms of the stored image at `dest`: as its index names them, or (an image the lifecycle exported,
/// whose index entry names none) as its config says.
fn stored_platforms(dest: &Layout) -> Vec<Platform> {
    if !dest.exists() {
        return Vec::new();
    }
    let named = dest.platforms().unwrap_or_default();
    if !named.is_empty() {
        return named;
    }
    crate::oci::Image::load(dest.clone())
        .map(|image| vec![Platform::new(&image.os(), &image.arch())])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::{Image, LayerWriter};

    fn staged(dir: &std::path::Path, arch: &str, text: &str) -> Layout {
        let layout = Layout::create(dir.join(format!("{arch}-{text}"))).unwrap();
        let mut image = Image::scratch(layout.clone(), "linux", arch).unwrap();
        let mut layer = LayerWriter::new(&layout).unwrap();
        layer.file("which", 0o644, text.as_bytes()).unwrap();
        image.add_layer(&layer.finish().unwrap(), "test").unwrap();
        image.save("latest").unwrap();
        layout
    }

    #[test]
    fn each_platform_joins_the_stored_image_and_replaces_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("home")).unwrap();
        let name: ImageRef = "localhost/test/multi:latest".parse().unwrap();
        put(&store, &name, &staged(dir.path(), "amd64", "one")).unwrap();
        put(&store, &name, &staged(dir.path(), "arm64", "two")).unwrap();
        put(&store, &name, &staged(dir.path(), "amd64", "three")).unwrap();
        let layout = store.image_layout(&name);
        assert_eq!(
            layout.platforms().unwrap(),
            [
                Platform::new("linux", "amd64"),
                Platform::new("linux", "arm64")
            ]
        );
        for (arch, text) in [("amd64", "three"), ("arm64", "two")] {
            let image =
                Image::load(layout.clone().for_platform(Platform::new("linux", arch))).unwrap();
            assert_eq!(
                image.read_file("which").unwrap().as_deref(),
                Some(text.as_bytes())
            );
        }
    }
}
