use std::collections::HashMap;

use oci_spec::image::{
    Arch, Config, Descriptor, HistoryBuilder, ImageConfiguration, ImageConfigurationBuilder,
    ImageManifestBuilder, MediaType, Os, RootFsBuilder,
};

use super::digest::Digest;
use super::json::canonical_json;
use super::layer::Layer;
use super::layout::{Layout, LayoutError, descriptor};

/// The creation time written into configs and history: the same fixed instant as layer mtimes.
const NORMALIZED_CREATED: &str = "1980-01-01T00:00:01Z";

/// One image in a [`Layout`]: its config and layer list, editable and saved back as a new manifest.
#[derive(Clone, Debug)]
pub struct Image {
    layout: Layout,
    config: ImageConfiguration,
    layers: Vec<Descriptor>,
    manifest_digest: Option<Digest>,
    /// The config digest as stored, while the image is unchanged since it was loaded or saved.
    stored_config: Option<Digest>,
}

/// What failed while reading, editing or saving an image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The layout could not be read or written.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A digest in the manifest is not sha256.
    #[error("image in {layout} uses a digest rpack cannot read: {digest}")]
    UnsupportedDigest {
        /// The layout dir.
        layout: String,
        /// The digest as written.
        digest: String,
    },
    /// The config blob is not an image config.
    #[error("config of the image in {layout} is invalid")]
    InvalidConfig {
        /// The layout dir.
        layout: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A new config or manifest could not be built.
    #[error("could not assemble the image")]
    Assemble(#[source] oci_spec::OciSpecError),
    /// A new config or manifest could not be serialized.
    #[error("could not serialize the image")]
    Serialize(#[source] serde_json::Error),
    /// The number of layers and diff ids differ.
    #[error("image in {layout} lists {layers} layers but {diff_ids} diff ids")]
    LayerCountMismatch {
        /// The layout dir.
        layout: String,
        /// Manifest layers.
        layers: usize,
        /// Config diff ids.
        diff_ids: usize,
    },
}

impl Image {
    /// An empty image for `os`/`arch` whose blobs will live in `layout`.
    ///
    /// # Errors
    /// Never in practice; the builder API of oci-spec is fallible.
    pub fn scratch(layout: Layout, os: &str, arch: &str) -> Result<Self, ImageError> {
        let config = ImageConfigurationBuilder::default()
            .os(Os::from(os))
            .architecture(Arch::from(arch))
            .created(NORMALIZED_CREATED)
            .rootfs(
                RootFsBuilder::default()
                    .typ("layers")
                    .diff_ids(Vec::<String>::new())
                    .build()
                    .map_err(ImageError::Assemble)?,
            )
            .config(Config::default())
            .history(Vec::new())
            .build()
            .map_err(ImageError::Assemble)?;
        Ok(Self {
            layout,
            config,
            layers: Vec::new(),
            manifest_digest: None,
            stored_config: None,
        })
    }

    /// Loads the one image of `layout`. The manifest and config are checked against their descriptors (size
    /// and digest); layers are not read (see [`Image::verify_layers`]).
    ///
    /// # Errors
    /// When the layout, manifest or config cannot be read or parsed.
    pub fn load(layout: Layout) -> Result<Self, ImageError> {
        let manifest_desc = layout.image_descriptor()?;
        let manifest_digest = to_digest(&layout, manifest_desc.digest())?;
        let manifest = layout.read_manifest(&manifest_digest, manifest_desc.size())?;
        let config_digest = to_digest(&layout, manifest.config().digest())?;
        let config_bytes = layout.read_blob(&config_digest, manifest.config().size())?;
        let config: ImageConfiguration =
            serde_json::from_slice(&config_bytes).map_err(|source| ImageError::InvalidConfig {
                layout: layout.shown().display().to_string(),
                source,
            })?;
        let image = Self {
            layers: manifest.layers().clone(),
            layout,
            config,
            manifest_digest: Some(manifest_digest),
            stored_config: Some(config_digest),
        };
        let diff_ids = image.config.rootfs().diff_ids().len();
        if diff_ids != image.layers.len() {
            return Err(ImageError::LayerCountMismatch {
                layout: image.layout.shown().display().to_string(),
                layers: image.layers.len(),
                diff_ids,
            });
        }
        Ok(image)
    }

    /// Reads every layer blob to its end and checks its size and digest against the manifest, and its
    /// uncompressed tar against the config's diff id, in one pass (see [`super::verify_layers`]). For images
    /// from outside (`.cnb` files, archives); images rpack or the lifecycle wrote into the store are trusted.
    ///
    /// # Errors
    /// When a layer is missing, a symlink or special file, or not what the manifest and config say.
    pub(crate) fn verify_layers(&self) -> Result<(), ImageError> {
        super::verify_layers(self, |_, _| false)
    }

    /// The layout the image's blobs are read from and saved to.
    #[must_use]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The manifest digest of the image as loaded or last saved.
    #[must_use]
    pub fn manifest_digest(&self) -> Option<&Digest> {
        self.manifest_digest.as_ref()
    }

    /// Moves the image to `target`: its blobs are linked or copied there and later saves go there.
    ///
    /// # Errors
    /// When a blob cannot be imported.
    pub fn move_to(mut self, target: Layout) -> Result<Self, ImageError> {
        for layer in &self.layers {
            let digest = to_digest(&self.layout, layer.digest())?;
            target.import_blob(&self.layout, &digest)?;
        }
        self.layout = target;
        self.manifest_digest = None;
        self.stored_config = None;
        Ok(self)
    }

    /// The config as parsed.
    #[must_use]
    pub fn config(&self) -> &ImageConfiguration {
        &self.config
    }

    /// The manifest's layer descriptors, base first.
    #[must_use]
    pub fn layers(&self) -> &[Descriptor] {
        &self.layers
    }

    /// The config's diff ids, base first.
    #[must_use]
    pub fn diff_ids(&self) -> &[String] {
        self.config.rootfs().diff_ids()
    }

    /// `os` from the config.
    #[must_use]
    pub fn os(&self) -> String {
        self.config.os().to_string()
    }

    /// `architecture` from the config.
    #[must_use]
    pub fn arch(&self) -> String {
        self.config.architecture().to_string()
    }

    /// Appends a layer written into this image's layout.
    ///
    /// # Errors
    /// Never in practice; building the history entry is fallible in oci-spec.
    pub fn add_layer(&mut self, layer: &Layer, created_by: &str) -> Result<(), ImageError> {
        self.layers.push(descriptor(
            MediaType::ImageLayerGzip,
            layer.size,
            &layer.digest,
        )?);
        self.config
            .rootfs_mut()
            .diff_ids_mut()
            .push(layer.diff_id.to_string());
        let entry = HistoryBuilder::default()
            .created(NORMALIZED_CREATED)
            .created_by(created_by)
            .build()
            .map_err(ImageError::Assemble)?;
        self.config
            .history_mut()
            .get_or_insert_with(Vec::new)
            .push(entry);
        self.manifest_digest = None;
        self.stored_config = None;
        Ok(())
    }

    /// The image labels.
    #[must_use]
    pub fn labels(&self) -> HashMap<String, String> {
        self.config
            .config()
            .as_ref()
            .and_then(|c| c.labels().clone())
            .unwrap_or_default()
    }

    /// One label's value.
    #[must_use]
    pub fn label(&self, key: &str) -> Option<String> {
        self.labels().get(key).cloned()
    }

    /// The environment as `KEY=value` entries.
    #[must_use]
    pub fn env(&self) -> Vec<String> {
        self.config
            .config()
            .as_ref()
            .and_then(|c| c.env().clone())
            .unwrap_or_default()
    }

    /// One env var's value.
    #[must_use]
    pub fn env_var(&self, key: &str) -> Option<String> {
        self.env().iter().find_map(|e| {
            e.strip_prefix(key)
                .and_then(|r| r.strip_prefix('='))
                .map(str::to_owned)
        })
    }

    /// Edits the runtime config (user, env, labels, entrypoint ...).
    pub fn edit_config(&mut self, edit: impl FnOnce(&mut Config)) {
        let mut config = self.config.config().clone().unwrap_or_default();
        edit(&mut config);
        self.config.set_config(Some(config));
        self.manifest_digest = None;
        self.stored_config = None;
    }

    /// Sets a label.
    pub fn set_label(&mut self, key: &str, value: &str) {
        self.edit_config(|c| {
            let mut labels = c.labels().clone().unwrap_or_default();
            labels.insert(key.to_owned(), value.to_owned());
            c.set_labels(Some(labels));
        });
    }

    /// Sets an env var, replacing an earlier value.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.edit_config(|c| {
            let mut env = c.env().clone().unwrap_or_default();
            let prefix = format!("{key}=");
            env.retain(|e| !e.starts_with(&prefix));
            env.push(format!("{key}={value}"));
            c.set_env(Some(env));
        });
    }

    /// Writes the config and manifest blobs and points `index.json` at the manifest, annotated with `ref_name`
    /// (the tag, as the lifecycle writes it). Returns the manifest digest.
    ///
    /// # Errors
    /// On serialization or write errors.
    pub fn save(&mut self, ref_name: &str) -> Result<Digest, ImageError> {
        let config_bytes = canonical_json(&self.config).map_err(ImageError::Serialize)?;
        let config_desc = self
            .layout
            .write_blob(MediaType::ImageConfig, &config_bytes)?;
        let config_digest = Digest::of(&config_bytes);
        let manifest = ImageManifestBuilder::default()
            .schema_version(2_u32)
            .media_type(MediaType::ImageManifest)
            .config(config_desc)
            .layers(self.layers.clone())
            .build()
            .map_err(ImageError::Assemble)?;
        let manifest_bytes = canonical_json(&manifest).map_err(ImageError::Serialize)?;
        let mut manifest_desc = self
            .layout
            .write_blob(MediaType::ImageManifest, &manifest_bytes)?;
        manifest_desc.set_annotations(Some(HashMap::from([(
            "org.opencontainers.image.ref.name".to_owned(),
            ref_name.to_owned(),
        )])));
        manifest_desc.set_platform(Some(
            oci_spec::image::PlatformBuilder::default()
                .os(self.config.os().clone())
                .architecture(self.config.architecture().clone())
                .build()
                .map_err(ImageError::Assemble)?,
        ));
        self.layout.write_index(&manifest_desc)?;
        let digest = Digest::of(&manifest_bytes);
        self.manifest_digest = Some(digest.clone());
        self.stored_config = Some(config_digest);
        Ok(digest)
    }

    /// The contents of the file at `path` as the image's file system has it (the topmost layer holding it wins),
    /// or `None` when no layer has it. Follows no links; whiteouts are not interpreted.
    ///
    /// # Errors
    /// When a layer cannot be read.
    pub fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>, ImageError> {
        let wanted = path.trim_start_matches('/');
        for layer in self.layers.iter().rev() {
            let digest = to_digest(&self.layout, layer.digest())?;
            let read_err = |source| self.layout.blob_error(&digest, source);
            // Bounded by the declared size; not checked against the digest, as the search stops early.
            let blob = self.layout.open_blob(&digest, layer.size())?;
            let mut archive =
                tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(blob)));
            for entry in archive.entries().map_err(read_err)? {
                let mut entry = entry.map_err(read_err)?;
                let name = entry
                    .path()
                    .map_err(read_err)?
                    .to_string_lossy()
                    .into_owned();
                if name.trim_start_matches("./").trim_start_matches('/') == wanted
                    && entry.header().entry_type().is_file()
                {
                    let mut bytes = Vec::new();
                    std::io::Read::read_to_end(&mut entry, &mut bytes).map_err(read_err)?;
                    return Ok(Some(bytes));
                }
            }
        }
        Ok(None)
    }

    /// The digest of the config (the image id podman shows): as stored when the image is unchanged since it
    /// was loaded or saved, else as rpack would save it now.
    ///
    /// # Errors
    /// On serialization errors.
    pub fn config_digest(&self) -> Result<Digest, ImageError> {
        if let Some(stored) = &self.stored_config {
            return Ok(stored.clone());
        }
        Ok(Digest::of(
            &canonical_json(&self.config).map_err(ImageError::Serialize)?,
        ))
    }
}

/// `digest` (of a blob of the image in `layout`) as rpack's [`Digest`], which must be sha256.
///
/// # Errors
/// [`ImageError::UnsupportedDigest`] naming the layout for other algorithms.
pub(crate) fn to_digest(
    layout: &Layout,
    digest: &oci_spec::image::Digest,
) -> Result<Digest, ImageError> {
    digest
        .to_string()
        .parse()
        .map_err(|_| ImageError::UnsupportedDigest {
            layout: layout.shown().display().to_string(),
            digest: digest.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::LayerWriter;

    #[test]
    fn read_file_finds_the_topmost_copy() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path().join("img")).unwrap();
        let mut image = Image::scratch(layout.clone(), "linux", "amd64").unwrap();
        for text in ["old", "new"] {
            let mut layer = LayerWriter::new(&layout).unwrap();
            layer.dir("etc", 0o755).unwrap();
            layer.file("etc/motd", 0o644, text.as_bytes()).unwrap();
            image.add_layer(&layer.finish().unwrap(), "test").unwrap();
        }
        image.save("latest").unwrap();
        let loaded = Image::load(layout).unwrap();
        assert_eq!(
            loaded.read_file("/etc/motd").unwrap().as_deref(),
            Some(&b"new"[..])
        );
        assert_eq!(loaded.read_file("/etc/missing").unwrap(), None);
    }
}
