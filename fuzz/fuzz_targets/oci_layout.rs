//! OCI image layouts: the fuzz input becomes one file of a layout that is otherwise valid, and
//! `rpack::oci::Image::load` reads it. The first byte picks the file: 0 `index.json`, 1 the
//! manifest blob, 2 the config blob, 3 the layer blob. In JSON, `@manifest`, `@config` and
//! `@layer` stand for the digests of the valid blobs, so inputs can point at them.
//!
//! A loaded image must answer every question (`inspect`, `read_file`, its digest) without a
//! panic, and save then load as the same image.
#![no_main]

use std::io::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rpack::oci::{Digest, Image, Layout};

/// The valid layer (a buildpack.toml in a tar.gz), config and manifest the inputs are put beside.
struct Base {
    layer: Vec<u8>,
    config: String,
    manifest: String,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut tar = tar::Builder::new(Vec::new());
        let toml = b"api = \"0.10\"\n[buildpack]\nid = \"a/b\"\nversion = \"0.1.0\"\n";
        let mut header = tar::Header::new_ustar();
        header.set_size(toml.len() as u64);
        header.set_mode(0o644);
        tar.append_data(
            &mut header,
            "cnb/buildpacks/a_b/0.1.0/buildpack.toml",
            &toml[..],
        )
        .unwrap();
        let tar = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let layer = gz.finish().unwrap();
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{"Labels":{{"io.buildpacks.buildpack.layers":"{{\"a/b\":{{\"0.1.0\":{{\"api\":\"0.10\"}}}}}}"}}}},"rootfs":{{"type":"layers","diff_ids":["{}"]}},"history":[{{"created_by":"fuzz"}}]}}"#,
            Digest::of(&tar)
        );
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}}"#,
            Digest::of(config.as_bytes()),
            config.len(),
            Digest::of(&layer),
            layer.len()
        );
        Base {
            layer,
            config,
            manifest,
        }
    })
}

fn index_of(manifest: &[u8]) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{}}}]}}"#,
        Digest::of(manifest),
        manifest.len()
    )
}

fn put_blob(root: &Path, bytes: &[u8]) {
    let digest = Digest::of(bytes);
    std::fs::write(root.join("blobs/sha256").join(digest.hex()), bytes).unwrap();
}

/// Replaces the `@name` placeholders by the digests of the valid blobs.
fn fill(input: &[u8], base: &Base) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(input) else {
        return input.to_vec();
    };
    text.replace("@manifest", Digest::of(base.manifest.as_bytes()).as_str())
        .replace("@config", Digest::of(base.config.as_bytes()).as_str())
        .replace("@layer", Digest::of(&base.layer).as_str())
        .into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, input)) = data.split_first() else {
        return;
    };
    let base = base();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("layout");
    Layout::create(&root).unwrap();
    for blob in [
        &base.layer[..],
        base.config.as_bytes(),
        base.manifest.as_bytes(),
    ] {
        put_blob(&root, blob);
    }
    let index = match which % 4 {
        0 => fill(input, base),
        1 => {
            let manifest = fill(input, base);
            put_blob(&root, &manifest);
            index_of(&manifest).into_bytes()
        }
        2 => {
            let config = fill(input, base);
            put_blob(&root, &config);
            let manifest = base.manifest.replace(
                &Digest::of(base.config.as_bytes()).to_string(),
                Digest::of(&config).as_str(),
            );
            put_blob(&root, manifest.as_bytes());
            index_of(manifest.as_bytes()).into_bytes()
        }
        _ => {
            put_blob(&root, input);
            let manifest = base.manifest.replace(
                &Digest::of(&base.layer).to_string(),
                Digest::of(input).as_str(),
            );
            put_blob(&root, manifest.as_bytes());
            index_of(manifest.as_bytes()).into_bytes()
        }
    };
    std::fs::write(root.join("index.json"), &index).unwrap();
    let Ok(mut image) = Image::load(Layout::open(&root)) else {
        return;
    };
    let _ = (image.os(), image.arch(), image.labels(), image.env());
    let _ = image.env_var("PATH");
    let _ = image.read_file("/cnb/buildpacks/a_b/0.1.0/buildpack.toml");
    if let Ok(report) = rpack::ops::inspect::report("fuzz", &image) {
        let _ = report.to_text();
    }
    let _ = image.config_digest();
    let (config, layers) = (image.config().clone(), image.layers().to_vec());
    // Saving rewrites config and manifest as rpack's canonical JSON: the image must stay the same,
    // and its blobs must be stored under their digests.
    image
        .save("fuzz")
        .expect("a loaded image can be saved again");
    let again = Image::load(Layout::open(&root)).expect("a saved image loads");
    assert_eq!(again.config(), &config);
    assert_eq!(again.layers(), &layers[..]);
    let digest = again.config_digest().unwrap();
    assert_eq!(
        Digest::of(&std::fs::read(again.layout().blob_path(&digest)).unwrap()),
        digest
    );
});
