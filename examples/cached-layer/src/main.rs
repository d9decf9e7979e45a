//! Example buildpack: installs `deps.lock` into a cached build layer, reused while the file
//! is unchanged.
//!
//! Teaches one thing: a cache key from a hash of an input file, and a migration from the
//! key an older version of the buildpack stored (`{ checksum = "<hex>" }`, version 0.1) to
//! the current one (`{ lock_sha256 = "<hex>", layout = 2 }`), so upgrading the buildpack
//! does not throw away the cache.

use libbuildpack::layer::{HashError, sha256_file};
use libbuildpack::prelude::*;
use libbuildpack::toolbox::file::FileError;

/// The buildpack.
pub struct CachedLayer;

/// The layer's key since version 0.2.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct DepsKey {
    /// SHA-256 of `deps.lock`.
    pub lock_sha256: String,
    /// The layer's directory layout.
    pub layout: u32,
}

/// The key version 0.1 stored.
#[derive(Debug, Deserialize)]
pub struct DepsKeyV1 {
    /// SHA-256 of `deps.lock`.
    pub checksum: String,
}

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum CachedLayerError {
    /// The layer could not be made.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// `deps.lock` could not be hashed for the key.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] FileError),
}

impl Buildpack for CachedLayer {
    type Metadata = NoMetadata;
    type Error = CachedLayerError;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, CachedLayerError> {
        if ctx.app_dir().join("deps.lock").is_file() {
            Ok(Detect::pass())
        } else {
            Ok(Detect::fail("no deps.lock in the app"))
        }
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, CachedLayerError> {
        ctx.output().section("Dependencies");
        let lock = ctx.app_dir().join("deps.lock");
        let key = DepsKey {
            lock_sha256: sha256_file(&lock)?,
            layout: 2,
        };
        let deps = ctx
            .layer("deps")
            .build()
            .cache()
            .migrate(|old: DepsKeyV1| {
                Some(DepsKey {
                    lock_sha256: old.checksum,
                    layout: 2,
                })
            })
            .keyed_by(&key)?;
        if deps.is_new() {
            ctx.output().step("Installing dependencies from deps.lock");
            let target = deps.path().join("installed.lock");
            std::fs::copy(&lock, &target).map_err(FileError::on("write", &target))?;
        }
        deps.build_env().set("DEPS_HOME", deps.path())?;
        Ok(Build::new())
    }
}

buildpack_main!(CachedLayer);

#[cfg(test)]
mod tests {
    use super::*;
    use libbuildpack::testing::{TestContext, assert_contains, assert_not_contains};

    fn context(lock: &str) -> TestContext {
        let ctx = TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap();
        ctx.app_file("deps.lock", lock).unwrap();
        ctx
    }

    #[test]
    fn detects_deps_lock() {
        assert!(context("a").detect(&CachedLayer).unwrap().passed());
        let empty = TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap();
        assert_eq!(empty.detect(&CachedLayer).unwrap().exit_code, 100);
    }

    #[test]
    fn first_build_installs_then_reuses_while_unchanged() {
        let ctx = context("flask==3.0.3\n");
        let run = ctx.build(&CachedLayer).unwrap();
        assert!(run.succeeded(), "{}", run.output);
        assert_contains!(run.output, "Creating deps");
        let types = run.layer("deps").unwrap().types.unwrap();
        assert!(types.build && types.cache && !types.launch);

        ctx.restore_for_next_build().unwrap();
        let run = ctx.build(&CachedLayer).unwrap();
        assert_contains!(run.output, "Reusing deps (layout 2, lock_sha256 unchanged)");
        assert_not_contains!(run.output, "Installing");
    }

    #[test]
    fn changed_lock_file_rebuilds() {
        let ctx = context("flask==3.0.3\n");
        assert!(ctx.build(&CachedLayer).unwrap().succeeded());
        ctx.restore_for_next_build().unwrap();
        ctx.app_file("deps.lock", "flask==3.1.0\n").unwrap();
        let run = ctx.build(&CachedLayer).unwrap();
        assert_contains!(run.output, "Rebuilding deps (lock_sha256 changed)");
        assert_contains!(run.output, "Installing");
    }

    #[test]
    fn cache_from_version_0_1_is_migrated_not_rebuilt() {
        let ctx = context("flask==3.0.3\n");
        let hash = sha256_file(&ctx.app_dir().join("deps.lock")).unwrap();
        let layers = ctx.layers_dir();
        std::fs::create_dir_all(layers.join("deps")).unwrap();
        std::fs::write(layers.join("deps/installed.lock"), "flask==3.0.3\n").unwrap();
        std::fs::write(
            layers.join("deps.toml"),
            format!("[metadata]\nchecksum = \"{hash}\"\n"),
        )
        .unwrap();
        let run = ctx.build(&CachedLayer).unwrap();
        assert!(run.succeeded(), "{}", run.output);
        assert_contains!(run.output, "Migrating deps");
        assert_not_contains!(run.output, "Installing");
        let metadata = run.layer("deps").unwrap().metadata.clone().unwrap();
        assert_eq!(metadata["lock_sha256"].as_str(), Some(hash.as_str()));
        assert_eq!(metadata["layout"].as_integer(), Some(2));
    }
}
