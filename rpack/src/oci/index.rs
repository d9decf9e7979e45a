//! Multi-platform image layouts: an `index.json` that lists one image manifest per platform (os/arch), as
//! multi-arch buildpackages, builders and app images are written.
//!
//! A [`Layout`] reads one image. When its index lists several, the one for the layout's [`Platform`] is read
//! ([`Layout::for_platform`]; the host's by default); an index that points at a nested image index (as
//! `skopeo copy --all` writes) is followed one level. [`write_multi`] assembles such a layout from
//! single-platform ones.

use std::fmt;
use std::str::FromStr;

use oci_spec::image::{Descriptor, ImageIndex, MediaType};

use super::digest::Digest;
use super::json::canonical_json;
use super::layout::{Layout, LayoutError, write_atomic};

/// The OCI architecture of this machine (`amd64`, `arm64`, or Rust's name for others).
#[must_use]
pub(crate) fn host_arch() -> &'static str {
    oci_arch(std::env::consts::ARCH)
}

/// The OCI (and Debian) name of a Rust architecture: `amd64` for `x86_64`, `arm64` for `aarch64`; others as
/// they are.
#[must_use]
pub(crate) fn oci_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// An OCI platform: `os/arch[/variant]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`.
    pub arch: String,
    /// `v8`, when given.
    pub variant: Option<String>,
}

/// A platform that is not `os/arch[/variant]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a platform: give os/arch, like linux/amd64 or linux/arm64")]
pub struct InvalidPlatform {
    /// What was given.
    pub given: String,
}

impl Platform {
    /// `os`/`arch`.
    #[must_use]
    pub fn new(os: &str, arch: &str) -> Self {
        Self {
            os: os.to_owned(),
            arch: arch.to_owned(),
            variant: None,
        }
    }

    /// The platform of this machine (`linux/amd64` on an x86-64 Linux host).
    #[must_use]
    pub(crate) fn host() -> Self {
        Self::new(std::env::consts::OS, host_arch())
    }

    /// Whether a descriptor's platform is this one (a variant counts only when both name one).
    #[must_use]
    pub(crate) fn matches(&self, descriptor: &Descriptor) -> bool {
        descriptor.platform().as_ref().is_some_and(|p| {
            p.os().to_string() == self.os
                && p.architecture().to_string() == self.arch
                && match (p.variant(), &self.variant) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        })
    }

    /// The platform a descriptor declares, if it declares one.
    #[must_use]
    pub(crate) fn of(descriptor: &Descriptor) -> Option<Self> {
        descriptor.platform().as_ref().map(|p| Self {
            os: p.os().to_string(),
            arch: p.architecture().to_string(),
            variant: p.variant().clone(),
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = InvalidPlatform;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidPlatform {
            given: s.to_owned(),
        };
        let parts: Vec<&str> = s.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(invalid());
        }
        match parts.as_slice() {
            [os, arch] => Ok(Self::new(os, arch)),
            [os, arch, variant] => Ok(Self {
                variant: Some((*variant).to_owned()),
                ..Self::new(os, arch)
            }),
            _ => Err(invalid()),
        }
    }
}

fn is_index(descriptor: &Descriptor) -> bool {
    matches!(descriptor.media_type(), MediaType::ImageIndex)
        || descriptor.media_type().to_string()
            == "application/vnd.docker.distribution.manifest.list.v2+json"
}

impl Layout {
    /// The image manifests the layout lists: those of `index.json`, or of the one nested index it points at.
    ///
    /// # Errors
    /// When `index.json` or a nested index is unreadable.
    pub(crate) fn manifests(&self) -> Result<Vec<Descriptor>, LayoutError> {
        let index = self.read_index()?;
        if let [one] = index.manifests().as_slice()
            && is_index(one)
        {
            let digest = self.digest_of(one)?;
            let bytes = self.read_blob(&digest, one.size())?;
            let nested: ImageIndex =
                serde_json::from_slice(&bytes).map_err(|source| LayoutError::InvalidBlob {
                    layout: self.shown().to_owned(),
                    digest,
                    kind: "image index",
                    source,
                })?;
            return Ok(nested.manifests().clone());
        }
        Ok(index.manifests().clone())
    }

    /// The platforms the layout has images for, in index order (none for an image that declares none).
    ///
    /// # Errors
    /// As [`Layout::manifests`].
    pub(crate) fn platforms(&self) -> Result<Vec<Platform>, LayoutError> {
        Ok(self.manifests()?.iter().filter_map(Platform::of).collect())
    }

    /// The layout for `platform` when one is given (see [`Layout::for_platform`]), else as it is.
    #[must_use]
    pub(crate) fn scoped(self, platform: Option<&Platform>) -> Self {
        match platform {
            Some(platform) => self.for_platform(platform.clone()),
            None => self,
        }
    }

    /// Whether the layout lists images for more than one platform.
    #[must_use]
    pub(crate) fn is_multi_platform(&self) -> bool {
        self.manifests().is_ok_and(|m| m.len() > 1)
    }
}

/// Picks the manifest for `wanted` (else the host's) out of `manifests`: the only one when there is one and
/// it declares no other platform.
pub(super) fn select(
    layout: &Layout,
    manifests: &[Descriptor],
    wanted: Option<&Platform>,
) -> Result<Descriptor, LayoutError> {
    let host = Platform::host();
    let platform = wanted.unwrap_or(&host);
    let not_found = |manifests: &[Descriptor]| LayoutError::NoImageForPlatform {
        layout: layout.shown().to_owned(),
        platform: platform.to_string(),
        available: manifests
            .iter()
            .map(|d| Platform::of(d).map_or_else(|| "unknown".to_owned(), |p| p.to_string()))
            .collect::<Vec<_>>()
            .join(", "),
    };
    match manifests {
        [] => Err(LayoutError::NotOneImage {
            path: layout.shown().join("index.json"),
            count: 0,
        }),
        [one] if wanted.is_none() || Platform::of(one).is_none() || platform.matches(one) => {
            Ok(one.clone())
        }
        many => many
            .iter()
            .find(|d| platform.matches(d))
            .cloned()
            .ok_or_else(|| not_found(many)),
    }
}

/// Writes into `target` an index of the images of `parts` (each a single-platform layout): their blobs are
/// linked or copied over and `index.json` lists their manifests, each with its platform, annotated with
/// `ref_name`. Returns the index's manifests.
///
/// # Errors
/// When a part has no single image or a blob cannot be read or written.
pub(crate) fn write_multi(
    target: &Layout,
    parts: &[Layout],
    ref_name: &str,
) -> Result<Vec<Descriptor>, LayoutError> {
    let mut manifests = Vec::new();
    for part in parts {
        let mut descriptor = part.image_descriptor()?;
        let digest = part.digest_of(&descriptor)?;
        let manifest = part.read_manifest(&digest, descriptor.size())?;
        if descriptor.platform().is_none() {
            // The lifecycle's layout export leaves it out: taken from the image config.
            let config = part.digest_of(manifest.config())?;
            let bytes = part.read_blob(&config, manifest.config().size())?;
            let parsed: oci_spec::image::ImageConfiguration = serde_json::from_slice(&bytes)
                .map_err(|source| LayoutError::InvalidBlob {
                    layout: part.shown().to_owned(),
                    digest: config.clone(),
                    kind: "image config",
                    source,
                })?;
            descriptor.set_platform(Some(
                oci_spec::image::PlatformBuilder::default()
                    .os(parsed.os().clone())
                    .architecture(parsed.architecture().clone())
                    .build()
                    .map_err(|e| LayoutError::WriteBlob(std::io::Error::other(e.to_string())))?,
            ));
        }
        let mut blobs: Vec<Digest> = vec![digest, part.digest_of(manifest.config())?];
        for layer in manifest.layers() {
            blobs.push(part.digest_of(layer)?);
        }
        for blob in &blobs {
            target.import_blob(part, blob)?;
        }
        descriptor.set_annotations(Some(std::collections::HashMap::from([(
            "org.opencontainers.image.ref.name".to_owned(),
            ref_name.to_owned(),
        )])));
        manifests.push(descriptor);
    }
    write_index_of(target, &manifests)?;
    Ok(manifests)
}

/// A layout at `dir` that shows only the image `layout` reads (its platform's, of a multi-platform index):
/// `index.json` lists that one manifest and `blobs` is a link to `layout`'s blobs. For tools that want one
/// image per layout (skopeo's `oci:` transport).
///
/// # Errors
/// When the image cannot be found or `dir` cannot be written.
pub(crate) fn single_view(layout: &Layout, dir: &std::path::Path) -> Result<Layout, LayoutError> {
    let descriptor = layout.image_descriptor()?;
    let view = Layout::open(dir);
    let create = |source| LayoutError::Create {
        path: dir.to_owned(),
        source,
    };
    fs_err::create_dir_all(dir).map_err(create)?;
    write_atomic(
        &dir.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .map_err(create)?;
    let blobs = fs_err::canonicalize(layout.root().join("blobs")).map_err(create)?;
    std::os::unix::fs::symlink(blobs, dir.join("blobs")).map_err(create)?;
    write_index_of(&view, &[descriptor])?;
    Ok(view)
}

/// Replaces `index.json` of `layout` atomically with one listing `manifests`.
///
/// # Errors
/// On write errors.
pub(crate) fn write_index_of(layout: &Layout, manifests: &[Descriptor]) -> Result<(), LayoutError> {
    let path = layout.root().join("index.json");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let bytes = canonical_json(&index).map_err(|e| LayoutError::WriteIndex {
        path: path.clone(),
        source: e.into(),
    })?;
    write_atomic(&path, &bytes).map_err(|source| LayoutError::WriteIndex { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::{Image, LayerWriter};

    fn image(dir: &std::path::Path, arch: &str, text: &str) -> Layout {
        let layout = Layout::create(dir.join(arch)).unwrap();
        let mut image = Image::scratch(layout.clone(), "linux", arch).unwrap();
        let mut layer = LayerWriter::new(&layout).unwrap();
        layer.file("arch", 0o644, text.as_bytes()).unwrap();
        image.add_layer(&layer.finish().unwrap(), "test").unwrap();
        image.save("1.0").unwrap();
        layout
    }

    #[test]
    fn an_index_of_two_platforms_reads_each_image_and_the_hosts_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let parts = [
            image(dir.path(), "amd64", "x86"),
            image(dir.path(), "arm64", "arm"),
        ];
        let multi = Layout::create(dir.path().join("multi")).unwrap();
        write_multi(&multi, &parts, "1.0").unwrap();
        assert!(multi.is_multi_platform());
        assert_eq!(
            multi.platforms().unwrap(),
            [
                Platform::new("linux", "amd64"),
                Platform::new("linux", "arm64")
            ]
        );
        for (arch, text) in [("amd64", "x86"), ("arm64", "arm")] {
            let one =
                Image::load(multi.clone().for_platform(Platform::new("linux", arch))).unwrap();
            assert_eq!(one.arch(), arch);
            assert_eq!(
                one.read_file("arch").unwrap().as_deref(),
                Some(text.as_bytes())
            );
        }
        assert_eq!(
            Image::load(multi.clone()).unwrap().arch(),
            Platform::host().arch
        );
        let err = Image::load(multi.for_platform("linux/s390x".parse().unwrap())).unwrap_err();
        assert!(err.to_string().contains("linux/s390x"), "{err}");
        assert!(
            err.to_string().contains("linux/amd64, linux/arm64"),
            "{err}"
        );
    }

    #[test]
    fn saving_a_platforms_image_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let parts = [
            image(dir.path(), "amd64", "x86"),
            image(dir.path(), "arm64", "arm"),
        ];
        let multi = Layout::create(dir.path().join("multi")).unwrap();
        write_multi(&multi, &parts, "1.0").unwrap();
        let arm = multi.clone().for_platform(Platform::new("linux", "arm64"));
        let mut image = Image::load(arm.clone()).unwrap();
        image.set_label("edited", "yes");
        image.save("1.0").unwrap();
        assert_eq!(multi.platforms().unwrap().len(), 2);
        assert_eq!(
            Image::load(arm).unwrap().label("edited").as_deref(),
            Some("yes")
        );
        let amd = Image::load(multi.for_platform(Platform::new("linux", "amd64"))).unwrap();
        assert_eq!(amd.label("edited"), None);
    }

    #[test]
    fn platforms_parse_and_print() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//x".parse::<Platform>().is_err());
    }
}
