//! Layers built for one distro version: the system libraries the apt buildpack unpacks (and any other layer
//! whose metadata records the target it was built for, as libbuildpack's layer keys do with `target`) link
//! against the run image they were built on. A rebase cannot change them, so rebasing onto a run image of
//! another distro version deserves a warning even when the image's own labels (which a forced rebase already
//! rewrote) say it matches.

use libbuildpack::data::labels::{ExportedBuildpack, ExportedLayer};
use serde::Deserialize;

use crate::oci::Image;
use crate::oci::reference::ImageRef;
use crate::toolbox::ui::Ui;

use super::{DISTRO_NAME_LABEL, DISTRO_VERSION_LABEL};

/// Prints and returns the [`warning`], when there is one.
pub(super) fn warn(
    image: &str,
    run_image: &ImageRef,
    buildpacks: &[ExportedBuildpack],
    run: &Image,
    ui: &Ui,
) -> Option<String> {
    let warning = warning(image, &run_image.to_string(), buildpacks, run)?;
    ui.warn(&warning);
    Some(warning)
}

/// The warning for the layers of `buildpacks` (the lifecycle metadata's) built for another distro than `run`'s, or `None`
/// when there are none (or `run` does not name its distro).
pub(super) fn warning(
    image: &str,
    run_image: &str,
    buildpacks: &[ExportedBuildpack],
    run: &Image,
) -> Option<String> {
    let name = run.label(DISTRO_NAME_LABEL)?;
    let version = run.label(DISTRO_VERSION_LABEL)?;
    let mut found = Vec::new();
    for buildpack in buildpacks {
        for (layer, exported) in &buildpack.layers {
            let Some((built_name, built_version)) = built_for(exported) else {
                continue;
            };
            if built_name != name || built_version != version {
                let id = &buildpack.key;
                found.push(format!("{id}:{layer} ({built_name} {built_version})"));
            }
        }
    }
    if found.is_empty() {
        return None;
    }
    Some(format!(
        "{image} has layers built for another distro than {run_image} ({name} {version}): {}. The system libraries \
         in them (apt-installed packages, compiled extensions) may not load on it; rebuild the app to get them for \
         {name} {version}",
        found.join(", ")
    ))
}

/// The `target` a layer's metadata records (libbuildpack's layer keys and the apt buildpack write one).
#[derive(Deserialize)]
struct Keyed {
    target: BuiltFor,
}

#[derive(Deserialize)]
struct BuiltFor {
    #[serde(rename = "distro-name")]
    name: String,
    #[serde(rename = "distro-version")]
    version: String,
}

/// The distro name and version `layer` was built for, when its metadata (the buildpack's own, any JSON)
/// records them; a layer whose metadata has no such `target` has none.
fn built_for(layer: &ExportedLayer) -> Option<(String, String)> {
    let keyed = Keyed::deserialize(&layer.data).ok()?;
    Some((keyed.target.name, keyed.target.version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::Layout;

    fn run_image(dir: &std::path::Path, version: Option<&str>) -> Image {
        let mut image = Image::scratch(Layout::create(dir).unwrap(), "linux", "amd64").unwrap();
        image.set_label(DISTRO_NAME_LABEL, "debian");
        if let Some(version) = version {
            image.set_label(DISTRO_VERSION_LABEL, version);
        }
        image
    }

    fn metadata() -> Vec<ExportedBuildpack> {
        let metadata: libbuildpack::data::labels::LifecycleMetadata = serde_json::from_value(serde_json::json!({
            "buildpacks": [
                { "key": "libbuildpack/apt", "layers": { "packages": { "data": {
                    "packages": ["libmagic1"],
                    "target": { "os": "linux", "arch": "amd64", "distro-name": "debian", "distro-version": "12" },
                }, "launch": true } } },
                { "key": "examples/hello", "layers": { "hello": { "data": { "greeting": "hi" } } } },
            ]
        }))
        .unwrap();
        metadata.buildpacks().unwrap()
    }

    #[test]
    fn layers_built_for_another_distro_version_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let thirteen = run_image(&dir.path().join("13"), Some("13"));
        let text = warning("app", "run:13", &metadata(), &thirteen).unwrap();
        assert!(
            text.starts_with(
                "app has layers built for another distro than run:13 (debian 13): libbuildpack/apt:packages (debian 12)."
            ),
            "{text}"
        );
        let twelve = run_image(&dir.path().join("12"), Some("12"));
        assert_eq!(warning("app", "run:12", &metadata(), &twelve), None);
        let unnamed = run_image(&dir.path().join("none"), None);
        assert_eq!(warning("app", "run", &metadata(), &unnamed), None);
        assert_eq!(warning("app", "run:13", &[], &thirteen), None);
    }
}
