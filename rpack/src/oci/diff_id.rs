//! Checking a layer against the diff id its image's config lists for it (`rootfs.diff_ids`): the digest of the
//! layer's uncompressed tar. The manifest's digest covers only the compressed blob; a layer swapped for another
//! valid one, with the manifest updated and the config not, passes that check but not this one.
//!
//! The check streams: [`LayerTar`] decompresses a layer blob as the reader before it (usually a
//! [`BlobReader`](super::BlobReader), which checks the compressed digest) hands it over, hashes the tar as it
//! goes by, and fails the read that reaches the end when the tar is not the one the config lists. Where rpack
//! unpacks a layer anyway (a `.cnb`'s buildpacks), the extractor reads through it; elsewhere
//! ([`verify_layers`]) the blob is read once, with the decompression in the same pass.

use std::collections::HashSet;
use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;
use oci_spec::image::Descriptor;
use sha2::{Digest as _, Sha256};

use super::blob::BlobProblem;
use super::digest::Digest;
use super::image::{Image, ImageError};
use super::layout::Layout;

/// The first bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The first bytes of a zstd frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The most bytes one layer may unpack to when rpack checks it outside an extraction: the cap of an OCI
/// archive (see [`super::extract::Kind::OciArchive`]), or `RPACK_MAX_ARCHIVE_BYTES` when set.
#[must_use]
pub(crate) fn max_layer_bytes() -> u64 {
    std::env::var(super::extract::MAX_BYTES_VAR)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(super::extract::Kind::OciArchive.max_bytes())
}

/// The uncompressed tar of a layer blob read from `R`, hashed as it streams. Gzip blobs (all gzip members, as
/// container engines read them) are decompressed and anything else is read as a plain tar, by the blob's first
/// bytes rather than its media type, so a layer cannot escape the check by claiming another type. zstd blobs are
/// refused: rpack cannot unpack them.
///
/// The read that reaches the end of the tar fails (with an [`io::ErrorKind::InvalidData`] error holding a
/// [`BlobProblem::DiffId`]) when the tar does not hash to the diff id listed for the layer; a reader that stops
/// early (a tar reader stops at the end-of-archive blocks) is checked by [`LayerTar::finish`].
pub(crate) struct LayerTar<R: Read> {
    inner: Source<R>,
    hasher: Sha256,
    read: u64,
    max: u64,
    listed: String,
    layer: usize,
    /// The outcome of the check at the end, once made: a failed layer keeps failing.
    verdict: Option<Result<(), BlobProblem>>,
}

enum Source<R: Read> {
    Gzip(Box<MultiGzDecoder<BufReader<R>>>),
    Plain(BufReader<R>),
}

impl<R: Read> LayerTar<R> {
    /// The tar of `blob`, the layer numbered `layer` (from 1, base first) whose config lists the diff id
    /// `listed`; unpacking to more than `max` bytes fails.
    ///
    /// # Errors
    /// When the blob cannot be read, or is zstd.
    pub(crate) fn new(blob: R, listed: &str, layer: usize, max: u64) -> io::Result<Self> {
        let mut buffered = BufReader::new(blob);
        let head = buffered.fill_buf()?;
        let inner = if head.starts_with(&GZIP_MAGIC) {
            Source::Gzip(Box::new(MultiGzDecoder::new(buffered)))
        } else if head.starts_with(&ZSTD_MAGIC) {
            return Err(problem(BlobProblem::Compression {
                layer,
                name: "zstd",
            }));
        } else {
            Source::Plain(buffered)
        };
        Ok(Self {
            inner,
            hasher: Sha256::new(),
            read: 0,
            max,
            listed: listed.to_owned(),
            layer,
            verdict: None,
        })
    }

    fn check(&mut self) -> io::Result<()> {
        let verdict = self.verdict.get_or_insert_with(|| {
            let actual = Digest::from_sha256(self.hasher.clone().finalize().as_slice());
            if actual.as_str() == self.listed {
                Ok(())
            } else {
                Err(BlobProblem::DiffId {
                    layer: self.layer,
                    actual,
                    listed: self.listed.clone().into(),
                })
            }
        });
        verdict.clone().map_err(problem)
    }

    /// What the check found wrong, when it failed already (at the end of the tar, or past the cap).
    #[must_use]
    pub(crate) fn problem(&self) -> Option<BlobProblem> {
        self.verdict.clone()?.err()
    }

    /// Reads the rest of the tar, checks it against the listed diff id, and returns the blob reader (to check
    /// the compressed blob's own end, e.g. with [`BlobReader::finish`](super::BlobReader::finish)).
    ///
    /// # Errors
    /// On read errors (the blob's own problems included), or an [`io::ErrorKind::InvalidData`] error holding
    /// the [`BlobProblem`].
    pub(crate) fn finish(mut self) -> io::Result<R> {
        io::copy(&mut self, &mut io::sink())?;
        self.check()?;
        Ok(match self.inner {
            Source::Gzip(decoder) => decoder.into_inner().into_inner(),
            Source::Plain(reader) => reader.into_inner(),
        })
    }
}

impl<R: Read> Read for LayerTar<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(Err(problem)) = &self.verdict {
            return Err(self::problem(problem.clone()));
        }
        let n = match &mut self.inner {
            Source::Gzip(decoder) => decoder.read(buf)?,
            Source::Plain(reader) => reader.read(buf)?,
        };
        if n == 0 {
            self.check()?;
            return Ok(0);
        }
        self.read += n as u64;
        if self.read > self.max {
            let too_big = BlobProblem::Unpacked {
                layer: self.layer,
                max: self.max,
            };
            self.verdict = Some(Err(too_big.clone()));
            return Err(problem(too_big));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn problem(problem: BlobProblem) -> io::Error {
    problem.into()
}

/// Reads every layer of `image` whose blob digest and diff id `known` does not vouch for, checking the blob
/// against its descriptor (size and digest) and its tar against the diff id the config lists, in one pass.
///
/// # Errors
/// When a layer is missing, a symlink or special file, not what the manifest says, unpacks to more than
/// [`max_layer_bytes`], or unpacks to another tar than its diff id says.
pub(crate) fn verify_layers(
    image: &Image,
    known: impl Fn(&Descriptor, &str) -> bool,
) -> Result<(), ImageError> {
    let layout = image.layout();
    let max = max_layer_bytes();
    for (i, (layer, listed)) in image.layers().iter().zip(image.diff_ids()).enumerate() {
        if known(layer, listed) {
            continue;
        }
        let digest = layout.digest_of(layer)?;
        let error = |e| ImageError::from(layout.blob_error(&digest, e));
        let mut blob = layout.open_blob(&digest, layer.size())?;
        let checked =
            LayerTar::new(&mut blob, listed, i + 1, max).and_then(|tar| tar.finish().map(drop));
        // A blob that is not what its descriptor says is reported as that, not as the gzip or diff id error
        // it caused.
        blob.finish().map_err(error)?;
        checked.map_err(error)?;
    }
    Ok(())
}

/// The (blob digest, diff id) pairs of the image in `layout`, when it has one rpack can read: layers rpack
/// already holds with that diff id need no check again.
#[must_use]
pub(crate) fn known_layers(layout: &Layout) -> HashSet<(String, String)> {
    let Ok(image) = Image::load(layout.clone()) else {
        return HashSet::new();
    };
    image
        .layers()
        .iter()
        .zip(image.diff_ids())
        .map(|(layer, diff_id)| (layer.digest().to_string(), diff_id.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::LayerWriter;

    /// An image with two layers, saved in a layout under `dir`.
    fn image(dir: &std::path::Path) -> Image {
        let layout = Layout::create(dir.join("img")).unwrap();
        let mut image = Image::scratch(layout.clone(), "linux", "amd64").unwrap();
        for text in ["one", "two"] {
            let mut layer = LayerWriter::new(&layout).unwrap();
            layer.file(text, 0o644, text.as_bytes()).unwrap();
            image.add_layer(&layer.finish().unwrap(), "test").unwrap();
        }
        image.save("latest").unwrap();
        Image::load(layout).unwrap()
    }

    fn tar_gz(name: &str, text: &str) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, text.as_bytes()).unwrap();
        let tar = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn layers_that_match_their_diff_ids_pass() {
        let dir = tempfile::tempdir().unwrap();
        verify_layers(&image(dir.path()), |_, _| false).unwrap();
    }

    #[test]
    fn a_layer_swapped_in_the_manifest_but_not_in_the_config_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let image = image(dir.path());
        let layout = image.layout().clone();
        // Layer 2 replaced by another valid tar.gz: a blob and manifest that agree, a config that does not.
        let other = tar_gz("two", "evil");
        let desc = layout
            .write_blob(oci_spec::image::MediaType::ImageLayerGzip, &other)
            .unwrap();
        let mut layers = image.layers().to_vec();
        layers[1] = desc.clone();
        let manifest = oci_spec::image::ImageManifestBuilder::default()
            .schema_version(2_u32)
            .media_type(oci_spec::image::MediaType::ImageManifest)
            .config(
                layout
                    .write_blob(
                        oci_spec::image::MediaType::ImageConfig,
                        &crate::oci::canonical_json(image.config()).unwrap(),
                    )
                    .unwrap(),
            )
            .layers(layers)
            .build()
            .unwrap();
        let bytes = crate::oci::canonical_json(&manifest).unwrap();
        let manifest_desc = layout
            .write_blob(oci_spec::image::MediaType::ImageManifest, &bytes)
            .unwrap();
        layout.write_index(&manifest_desc).unwrap();
        let swapped = Image::load(layout.clone()).unwrap();

        let err = verify_layers(&swapped, |_, _| false)
            .unwrap_err()
            .to_string();
        let digest = layout.digest_of(&desc).unwrap();
        let listed = &image.diff_ids()[1];
        assert!(
            err.starts_with(&format!("blob {digest} in ")),
            "the error names the layer's blob: {err}"
        );
        assert!(
            err.contains("(layer 2) unpacks to sha256:") && err.contains(listed.as_str()),
            "{err}"
        );
        // A layer vouched for is not read.
        verify_layers(&swapped, |d, _| *d == desc).unwrap();
    }

    #[test]
    fn a_plain_tar_layer_is_its_own_diff_id_and_zstd_is_refused() {
        let tar = b"not really a tar, but hashed all the same".to_vec();
        let listed = Digest::of(&tar).to_string();
        let mut layer = LayerTar::new(tar.as_slice(), &listed, 1, u64::MAX).unwrap();
        io::copy(&mut layer, &mut io::sink()).unwrap();
        layer.finish().unwrap();

        let zstd = [0x28, 0xb5, 0x2f, 0xfd, 0, 0];
        let Err(err) = LayerTar::new(&zstd[..], &listed, 3, u64::MAX) else {
            panic!("a zstd layer was accepted");
        };
        assert_eq!(
            err.to_string(),
            "(layer 3) is compressed with zstd, which rpack cannot unpack to check it against its diff id"
        );
    }

    #[test]
    fn every_gzip_member_counts_and_the_cap_holds() {
        let mut two = tar_gz("a", "first");
        two.extend(tar_gz("b", "second"));
        let mut whole = Vec::new();
        flate2::read::MultiGzDecoder::new(two.as_slice())
            .read_to_end(&mut whole)
            .unwrap();
        let listed = Digest::of(&whole).to_string();
        LayerTar::new(two.as_slice(), &listed, 1, u64::MAX)
            .unwrap()
            .finish()
            .unwrap();
        let Err(err) = LayerTar::new(two.as_slice(), &listed, 1, 1000)
            .unwrap()
            .finish()
        else {
            panic!("the cap did not hold");
        };
        assert!(
            err.to_string().contains("unpacks to more than 1000 bytes"),
            "{err}"
        );
    }
}
