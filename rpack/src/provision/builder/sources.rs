//! Recognising an up-to-date builder without running cargo.
//!
//! [`super::create`] makes sure a builder matches its inputs by building every crate buildpack with cargo and
//! hashing the result. Cargo answers in a few hundred milliseconds per crate even when nothing changed, which
//! adds up to more than a second on every `rpack build --builder builder.toml`. This module hashes what those
//! builds read instead: builder.toml, the stack images, the lifecycle, and each buildpack's files, with the
//! sources of a crate buildpack's local path dependencies, its workspace manifest and its lock file. When that
//! digest is the one recorded for the builder the last time it was checked, the builder is up to date.
//!
//! What it does not see (a new Rust toolchain, a registry crate replaced under the same version) can only give a
//! binary with the same behaviour, so a builder recognised this way still builds the same apps the same way.
//! `rpack builder create` always runs the full check.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::store::Store;

/// Environment that changes what cargo builds.
const BUILD_ENV: [&str; 4] = [
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTUP_TOOLCHAIN",
];

/// A length-prefixed SHA-256 of everything fed to it: the digest of a builder's sources here, and of its
/// prepared inputs in [`super::fingerprint`].
pub(super) struct Feed(Sha256);

impl Feed {
    pub(super) fn new() -> Self {
        Self(Sha256::new())
    }

    pub(super) fn bytes(&mut self, bytes: &[u8]) {
        // The length keeps ("ab", "c") and ("a", "bc") apart.
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// Feeds the digest of the file's contents, streamed.
    fn file(&mut self, path: &Path) -> io::Result<()> {
        let mut hasher = crate::oci::HashingWriter::new(io::sink());
        io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
        self.bytes(hasher.finish().1.as_str().as_bytes());
        Ok(())
    }

    /// The digest, as hex.
    pub(super) fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// The digest of a builder's sources, or `None` when one of them can only be found by asking cargo
/// (`cargo:<package name>`) or cannot be read: the caller then runs the full check.
pub(super) fn fingerprint(
    store: &Store,
    config: &Path,
    platform: &crate::oci::Platform,
) -> Option<String> {
    let toml = libbuildpack::data::BuilderToml::read(config).ok()?;
    let base = config.parent().unwrap_or_else(|| Path::new("."));
    let mut feed = Feed::new();
    feed.bytes(env!("CARGO_PKG_VERSION").as_bytes());
    feed.bytes(platform.to_string().as_bytes());
    feed.file(config).ok()?;
    for key in BUILD_ENV {
        feed.bytes(key.as_bytes());
        feed.bytes(std::env::var_os(key).unwrap_or_default().as_encoded_bytes());
    }
    let lifecycle = super::find_lifecycle(store, &toml, base, &platform.arch).ok()?;
    // The lifecycle dir is written once by rpack and never changed in place: its files' sizes and times
    // identify it without reading tens of megabytes on every build.
    tree(&mut feed, lifecycle.root(), Hash::Metadata).ok()?;
    for image in [toml.build_image().unwrap_or_default()]
        .into_iter()
        .chain(toml.run_images().iter().map(|r| r.image.as_str()).take(1))
    {
        feed.bytes(image.as_bytes());
        let reference: crate::oci::reference::ImageRef = image.parse().ok()?;
        feed.file(&store.image_layout(&reference).root().join("index.json"))
            .ok()?;
    }
    for entry in &toml.buildpacks {
        let uri = entry.uri.as_deref().unwrap_or_default();
        feed.bytes(uri.as_bytes());
        buildpack(&mut feed, base, uri)?;
    }
    Some(feed.finish())
}

/// Feeds one `[[buildpacks]] uri`.
fn buildpack(feed: &mut Feed, base: &Path, uri: &str) -> Option<()> {
    let path = if let Some(name) = uri.strip_prefix("cargo:") {
        let dir = base.join(name);
        // A package name, not a dir: only cargo knows where it is.
        dir.join("Cargo.toml").is_file().then_some(dir)?
    } else if uri.contains("://") && !uri.starts_with("file://") {
        return None;
    } else {
        base.join(uri.strip_prefix("file://").unwrap_or(uri))
    };
    if path.is_file() {
        return feed.file(&path).ok();
    }
    if path.join("Cargo.toml").is_file() && !path.join("bin/build").is_file() {
        return crate_sources(feed, &path);
    }
    tree(feed, &path, Hash::Contents).ok()
}

/// Feeds a crate's files, its workspace manifest and lock file, and every local path dependency's files.
fn crate_sources(feed: &mut Feed, dir: &Path) -> Option<()> {
    let workspace = workspace_root(dir);
    if let Some(root) = &workspace {
        feed.file(&root.join("Cargo.toml")).ok()?;
    }
    let lock_dir = workspace.clone().unwrap_or_else(|| dir.to_owned());
    // A crate without a lock file yet gets one from cargo: hashing its absence is enough.
    let _ = feed.file(&lock_dir.join("Cargo.lock"));
    let mut done: Vec<PathBuf> = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(next) = todo.pop() {
        let canonical = std::fs::canonicalize(&next).ok()?;
        if done.contains(&canonical) {
            continue;
        }
        feed.bytes(canonical.as_os_str().as_encoded_bytes());
        tree(feed, &canonical, Hash::Contents).ok()?;
        todo.extend(path_dependencies(&canonical, workspace.as_deref())?);
        done.push(canonical);
    }
    Some(())
}

/// The nearest dir above `dir` (or `dir` itself) whose Cargo.toml has a `[workspace]` table.
fn workspace_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .ok()
                .and_then(|text| text.parse::<toml::Table>().ok())
                .is_some_and(|t| t.contains_key("workspace"))
        })
        .map(Path::to_owned)
}

/// The dirs of a crate's local path dependencies (normal and build; dev-dependencies do not reach the binary),
/// including those it takes from `[workspace.dependencies]`.
fn path_dependencies(dir: &Path, workspace: Option<&Path>) -> Option<Vec<PathBuf>> {
    let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()?
        .parse()
        .ok()?;
    let workspace_deps: Option<toml::Table> = workspace.and_then(|root| {
        let text = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
        let table: toml::Table = text.parse().ok()?;
        table
            .get("workspace")?
            .get("dependencies")?
            .as_table()
            .cloned()
    });
    let mut tables: Vec<&toml::Table> = ["dependencies", "build-dependencies"]
        .iter()
        .filter_map(|k| manifest.get(*k)?.as_table())
        .collect();
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for target in targets.values() {
            tables.extend(
                ["dependencies", "build-dependencies"]
                    .iter()
                    .filter_map(|k| target.get(*k)?.as_table()),
            );
        }
    }
    let mut out = Vec::new();
    for (name, spec) in tables.into_iter().flatten() {
        if let Some(path) = spec.get("path").and_then(toml::Value::as_str) {
            out.push(dir.join(path));
        } else if spec.get("workspace").and_then(toml::Value::as_bool) == Some(true)
            && let (Some(root), Some(deps)) = (workspace, &workspace_deps)
            && let Some(path) = deps
                .get(name)
                .and_then(|d| d.get("path"))
                .and_then(toml::Value::as_str)
        {
            out.push(root.join(path));
        }
    }
    Some(out)
}

/// How a file is identified.
#[derive(Clone, Copy)]
enum Hash {
    /// By a digest of its bytes.
    Contents,
    /// By its size and modification time (for trees rpack writes once and never changes).
    Metadata,
}

/// Feeds every entry below `root` in path order: its relative path, its kind, and its contents, link target or
/// metadata. Build output (`target/`) and hidden entries (`.git`, editor files) are not sources.
fn tree(feed: &mut Feed, root: &Path, hash: Hash) -> io::Result<()> {
    let mut stack = vec![root.to_owned()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let skip =
                name.as_encoded_bytes().starts_with(b".") || (dir == root && name == "target");
            if skip {
                continue;
            }
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(path.clone());
            }
            files.push((path, kind));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in files {
        let rel = path.strip_prefix(root).unwrap_or(&path);
        feed.bytes(rel.as_os_str().as_encoded_bytes());
        if kind.is_dir() {
            feed.bytes(b"d");
        } else if kind.is_symlink() {
            feed.bytes(b"l");
            feed.bytes(std::fs::read_link(&path)?.as_os_str().as_encoded_bytes());
        } else {
            let meta = std::fs::metadata(&path)?;
            let exec = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0;
            feed.bytes(if exec { b"x" } else { b"f" });
            match hash {
                Hash::Contents => feed.file(&path)?,
                Hash::Metadata => {
                    use std::os::unix::fs::MetadataExt as _;
                    feed.bytes(&meta.len().to_le_bytes());
                    feed.bytes(&meta.mtime().to_le_bytes());
                    feed.bytes(&meta.mtime_nsec().to_le_bytes());
                    feed.bytes(&meta.ino().to_le_bytes());
                }
            }
        }
    }
    Ok(())
}

/// The record of the last full check of a builder: the sources digest it was made from and the inputs digest
/// (its `io.rpack.builder.inputs` label) it gave.
pub(super) struct Record {
    path: PathBuf,
}

impl Record {
    /// The record of the builder `name`'s image for `platform`.
    pub(super) fn of(
        store: &Store,
        name: &crate::oci::reference::ImageRef,
        platform: &crate::oci::Platform,
    ) -> Self {
        let key = hex::encode(Sha256::digest(format!("{name} {platform}").as_bytes()));
        Self {
            path: store.home().join("builder-sources").join(&key[..32]),
        }
    }

    /// Whether the builder was last checked with these sources and still has the inputs it had then.
    pub(super) fn matches(&self, sources: &str, inputs_label: Option<&str>) -> bool {
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return false;
        };
        let mut parts = text.split_whitespace();
        parts.next() == Some(sources) && inputs_label.is_some() && parts.next() == inputs_label
    }

    /// Records a full check; a failure only costs the next build a cargo run.
    pub(super) fn write(&self, sources: &str, inputs: &str) {
        if let Some(dir) = self.path.parent()
            && std::fs::create_dir_all(dir).is_ok()
        {
            let _ =
                crate::oci::write_atomic(&self.path, format!("{sources} {inputs}\n").as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    }

    fn digest(dir: &Path) -> String {
        let mut feed = Feed::new();
        crate_sources(&mut feed, dir).unwrap_or_else(|| panic!("no digest"));
        feed.finish()
    }

    /// A workspace with a buildpack crate that uses a library through `[workspace.dependencies]`.
    fn workspace() -> tempfile::TempDir {
        let ws = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = ws.path();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"bp\", \"lib\"]\n[workspace.dependencies]\nlib = { path = \"lib\" }\n",
        );
        write(
            &root.join("bp/Cargo.toml"),
            "[package]\nname = \"bp\"\n[dependencies]\nlib.workspace = true\n[dev-dependencies]\ntestonly = { path = \"../testonly\" }\n",
        );
        write(&root.join("bp/src/main.rs"), "fn main() {}\n");
        write(&root.join("lib/Cargo.toml"), "[package]\nname = \"lib\"\n");
        write(&root.join("lib/src/lib.rs"), "pub fn f() {}\n");
        write(&root.join("testonly/src/lib.rs"), "\n");
        ws
    }

    #[test]
    fn a_change_in_a_path_dependency_changes_the_digest() {
        let ws = workspace();
        let bp = ws.path().join("bp");
        let before = digest(&bp);
        assert_eq!(digest(&bp), before, "the digest is stable");
        write(&ws.path().join("lib/src/lib.rs"), "pub fn f() { }\n");
        assert_ne!(digest(&bp), before);
    }

    #[test]
    fn build_output_hidden_files_and_dev_dependencies_do_not_count() {
        let ws = workspace();
        let bp = ws.path().join("bp");
        let before = digest(&bp);
        write(&bp.join("target/release/bp"), "binary");
        write(&bp.join(".git/HEAD"), "ref");
        write(&ws.path().join("testonly/src/lib.rs"), "changed\n");
        assert_eq!(digest(&bp), before);
    }

    #[test]
    fn the_lock_file_and_workspace_manifest_count() {
        let ws = workspace();
        let bp = ws.path().join("bp");
        let before = digest(&bp);
        write(&ws.path().join("Cargo.lock"), "version = 4\n");
        let with_lock = digest(&bp);
        assert_ne!(with_lock, before);
        let manifest = ws.path().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap_or_default();
        write(
            &manifest,
            &format!("{text}[profile.release]\nopt-level = 3\n"),
        );
        assert_ne!(digest(&bp), with_lock);
    }
}
