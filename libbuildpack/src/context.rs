//! What detect and build see: the app, the buildpack, the platform and the target.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::data::{BuildpackDescriptor, BuildpackPlan, CACHE_VOLUME_ENV, StoreToml, TomlFileError};
use crate::env::{Env, ReadEnvError};
use crate::layer::{KeptDirBuilder, LayerBuilder};
use crate::output::{CommandError, Output};
use crate::platform::{PlatformEnv, Target};

/// The inputs both phases share.
#[derive(Debug)]
pub(crate) struct Common<M> {
    pub(crate) app_dir: PathBuf,
    pub(crate) buildpack_dir: PathBuf,
    pub(crate) platform_dir: PathBuf,
    pub(crate) platform_env: PlatformEnv,
    pub(crate) base_env: Env,
    pub(crate) descriptor: BuildpackDescriptor<M>,
    pub(crate) metadata: M,
    pub(crate) target: Target,
    pub(crate) exec_env: String,
    pub(crate) output: Output,
}

macro_rules! common_accessors {
    () => {
        /// The app directory (the working directory the lifecycle starts the phase in).
        #[must_use]
        pub fn app_dir(&self) -> &Path {
            &self.common.app_dir
        }

        /// The buildpack's root directory (`CNB_BUILDPACK_DIR`), where `buildpack.toml` is.
        #[must_use]
        pub fn buildpack_dir(&self) -> &Path {
            &self.common.buildpack_dir
        }

        /// The platform directory (`CNB_PLATFORM_DIR`).
        #[must_use]
        pub fn platform_dir(&self) -> &Path {
            &self.common.platform_dir
        }

        /// The user's env from `<platform>/env/`.
        #[must_use]
        pub fn platform_env(&self) -> &PlatformEnv {
            &self.common.platform_env
        }

        /// The buildpack's `buildpack.toml`. Its `metadata` has been moved to
        /// [`metadata`](Self::metadata).
        #[must_use]
        pub fn buildpack(&self) -> &BuildpackDescriptor<M> {
            &self.common.descriptor
        }

        /// The buildpack's typed `[metadata]`.
        #[must_use]
        pub fn metadata(&self) -> &M {
            &self.common.metadata
        }

        /// The platform the app is built for.
        #[must_use]
        pub fn target(&self) -> &Target {
            &self.common.target
        }

        /// The execution environment (`CNB_EXEC_ENV`), `production` when unset.
        #[must_use]
        pub fn exec_env(&self) -> &str {
            &self.common.exec_env
        }

        /// Build output: sections, steps, warnings and commands.
        #[must_use]
        pub fn output(&self) -> &Output {
            &self.common.output
        }
    };
}

/// What detection sees.
#[derive(Debug)]
pub struct DetectContext<M = crate::data::NoMetadata> {
    pub(crate) common: Common<M>,
}

impl<M> DetectContext<M> {
    common_accessors!();
}

/// What a build sees, and where it makes layers.
#[derive(Debug)]
pub struct BuildContext<M = crate::data::NoMetadata> {
    pub(crate) common: Common<M>,
    pub(crate) layers_dir: PathBuf,
    pub(crate) plan: BuildpackPlan,
}

impl<M> BuildContext<M> {
    common_accessors!();

    /// This buildpack's layers directory (`CNB_LAYERS_DIR`).
    #[must_use]
    pub fn layers_dir(&self) -> &Path {
        &self.layers_dir
    }

    /// The buildpack plan: the requirements this buildpack is asked to meet, duplicates kept.
    #[must_use]
    pub fn plan(&self) -> &BuildpackPlan {
        &self.plan
    }

    /// This buildpack's directory in the build cache volume: a directory that outlives the build and is never
    /// part of the image, or `None` when the platform mounts no such volume.
    ///
    /// The platform names the volume with the platform env var [`CACHE_VOLUME_ENV`](crate::data::CACHE_VOLUME_ENV) (`<platform>/env/`):
    /// `rpack build` mounts one per app image (cleared by `--clear-cache`); with pack, `pack build --volume
    /// DIR:/cache-volume --env LIBBUILDPACK_CACHE_VOLUME=/cache-volume`. Unlike a cache layer, nothing in it
    /// is restored before the build or archived after it, so its size costs nothing on builds that do not
    /// read it: it suits download caches and copies of big layers kept to be updated in place.
    ///
    /// It is a speed-up, never a source of truth: it may be empty, from another builder, or missing on the
    /// next build; buildpacks check what they find there (a key file next to the data) before using it.
    /// The directory is created on first use; `None` too when it cannot be created or written.
    #[must_use]
    pub fn cache_volume(&self) -> Option<PathBuf> {
        let root = self.common.platform_env.get(CACHE_VOLUME_ENV)?;
        let dir = Path::new(root).join(self.common.descriptor.buildpack.id.escaped());
        let probe = dir.join(format!(".probe-{}", std::process::id()));
        let writable = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&probe, b""))
            .and_then(|()| std::fs::remove_file(&probe))
            .is_ok();
        writable.then_some(dir)
    }

    /// Starts declaring the directory `name` kept in the build cache volume
    /// ([`cache_volume`](Self::cache_volume)), keyed like a layer: see [`KeptDirBuilder`]. `None`
    /// when the platform mounts no volume.
    #[must_use]
    pub fn kept_dir(&self, name: impl AsRef<str>) -> Option<KeptDirBuilder<'_>> {
        Some(KeptDirBuilder::new(self.cache_volume()?, name.as_ref()))
    }

    /// Starts declaring the layer `name`; finish with
    /// [`keyed_by`](LayerBuilder::keyed_by) or [`fresh`](LayerBuilder::fresh). The name is
    /// checked there.
    pub fn layer(&self, name: impl AsRef<str>) -> LayerBuilder<'_> {
        LayerBuilder::new(&self.layers_dir, &self.common.output, name.as_ref())
    }

    /// The env later steps of this build see: the build's own env with every layer of this
    /// buildpack applied in ascending name order, as the lifecycle applies layers for later
    /// buildpacks: root dirs (`bin` → `PATH`, `lib` → `LD_LIBRARY_PATH`/`LIBRARY_PATH`,
    /// `include` → `CPATH`, `pkgconfig` → `PKG_CONFIG_PATH`), then `env/`, then `env.build/`.
    ///
    /// Unlike the lifecycle (which shows only `build = true` layers to *later* buildpacks),
    /// every layer made so far counts, so a tool installed into a launch layer can run in the
    /// next step.
    ///
    /// # Errors
    ///
    /// [`ReadEnvError`] when the layers dir or an env dir cannot be read.
    pub fn build_env(&self) -> Result<Env, ReadEnvError> {
        let mut env = self.common.base_env.clone();
        let mut layers = Vec::new();
        let entries = std::fs::read_dir(&self.layers_dir).map_err(|source| ReadEnvError {
            path: self.layers_dir.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(layer) = name.strip_suffix(".toml")
                && !matches!(layer, "launch" | "build" | "store")
                && self.layers_dir.join(layer).is_dir()
            {
                layers.push(layer.to_string());
            }
        }
        layers.sort();
        for layer in layers {
            env.apply_build_layer(&self.layers_dir.join(layer))?;
        }
        Ok(env)
    }

    /// Runs `command` in the app dir (unless it sets its own) with the env later steps see
    /// ([`build_env`](Self::build_env); variables set on `command` itself win), streaming
    /// its output and printing the time it took. See [`Output::run`].
    ///
    /// # Errors
    ///
    /// [`CommandError`] when the env cannot be computed, or the command cannot start or exits
    /// unsuccessfully.
    pub fn run(&self, command: &mut Command) -> Result<(), CommandError> {
        if command.get_current_dir().is_none() {
            command.current_dir(&self.common.app_dir);
        }
        let env = self.build_env().map_err(|e| CommandError::Env {
            program: command.get_program().to_string_lossy().into_owned(),
            source: e,
        })?;
        let own: Vec<std::ffi::OsString> =
            command.get_envs().map(|(k, _)| k.to_os_string()).collect();
        for (name, value) in env.iter() {
            if !own.iter().any(|k| k == name) {
                command.env(name, value);
            }
        }
        self.common.output.run(command)
    }

    /// Writes `sbom` for `owner` in every format the buildpack declares in `sbom-formats`
    /// that libbuildpack generates (`CycloneDX`, SPDX), e.g. `venv.sbom.cdx.json` and
    /// `venv.sbom.spdx.json`. Returns the files written.
    ///
    /// ```no_run
    /// # use libbuildpack::prelude::*;
    /// # use libbuildpack::sbom::{Package, Sbom, SbomOwner};
    /// # fn f(ctx: &BuildContext, venv: &Layer) -> Result<(), libbuildpack::sbom::SbomError> {
    /// let sbom = Sbom::new().package(Package::new("flask").version("3.0.3").purl("pkg:pypi/flask@3.0.3"));
    /// ctx.write_sbom(SbomOwner::Layer(venv), &sbom)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SbomError::NoWritableFormat`](crate::sbom::SbomError::NoWritableFormat) when
    /// `sbom-formats` lists neither `CycloneDX` nor SPDX, and the errors of
    /// [`write_sbom_as`](Self::write_sbom_as).
    #[cfg(feature = "sbom")]
    pub fn write_sbom(
        &self,
        owner: crate::sbom::SbomOwner<'_>,
        sbom: &crate::sbom::Sbom,
    ) -> Result<Vec<PathBuf>, crate::sbom::SbomError> {
        use crate::data::SbomFormat;
        let declared = self.declared_sbom_formats()?;
        let formats: Vec<SbomFormat> = [SbomFormat::CycloneDxJson, SbomFormat::SpdxJson]
            .into_iter()
            .filter(|f| declared.contains(f))
            .collect();
        if formats.is_empty() {
            return Err(crate::sbom::SbomError::NoWritableFormat);
        }
        formats
            .into_iter()
            .map(|f| self.write_sbom_as(owner, f, sbom))
            .collect()
    }

    /// Writes `sbom` for `owner` as `format`.
    ///
    /// # Errors
    ///
    /// [`SbomError::UndeclaredFormat`](crate::sbom::SbomError::UndeclaredFormat) when
    /// `buildpack.toml` does not list `format` in `sbom-formats` (the lifecycle would fail the
    /// build), and errors generating or writing the file.
    #[cfg(feature = "sbom")]
    pub fn write_sbom_as(
        &self,
        owner: crate::sbom::SbomOwner<'_>,
        format: crate::data::SbomFormat,
        sbom: &crate::sbom::Sbom,
    ) -> Result<PathBuf, crate::sbom::SbomError> {
        let declared = self.declared_sbom_formats()?;
        let subject = format!("{} {}", self.common.descriptor.buildpack.id, owner.prefix());
        crate::sbom::write_sbom_file(&self.layers_dir, &declared, owner, &subject, format, sbom)
    }

    #[cfg(feature = "sbom")]
    fn declared_sbom_formats(
        &self,
    ) -> Result<Vec<crate::data::SbomFormat>, crate::sbom::SbomError> {
        self.common
            .descriptor
            .buildpack
            .sbom_formats
            .iter()
            .map(|f| f.parse().map_err(crate::sbom::SbomError::from))
            .collect()
    }

    /// The data this buildpack stored in `store.toml` on the previous build (restored by
    /// the lifecycle from the previous image), as `T`. `None` when there is none.
    ///
    /// ```no_run
    /// # use libbuildpack::prelude::*;
    /// # fn f(ctx: &BuildContext) -> Result<(), libbuildpack::data::TomlFileError> {
    /// #[derive(Serialize, Deserialize, Default)]
    /// struct Stats { builds: u32 }
    /// let mut stats: Stats = ctx.store()?.unwrap_or_default();
    /// stats.builds += 1;
    /// ctx.set_store(&stats)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when `store.toml` exists but cannot be read or its `[metadata]` is
    /// not a `T`.
    pub fn store<T: DeserializeOwned>(&self) -> Result<Option<T>, TomlFileError> {
        let path = self.layers_dir.join("store.toml");
        if !path.exists() {
            return Ok(None);
        }
        let store = StoreToml::read(&path)?;
        let text = toml::to_string(&store.metadata).map_err(|source| TomlFileError::Serialize {
            path: path.clone(),
            source,
        })?;
        crate::data::toml_file::parse(&text, &path).map(Some)
    }

    /// Writes `value` as the `[metadata]` of `store.toml` (atomically), for the next build.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when `value` is not a TOML table or the file cannot be written.
    pub fn set_store<T: Serialize>(&self, value: &T) -> Result<(), TomlFileError> {
        let path = self.layers_dir.join("store.toml");
        let metadata = match toml::Value::try_from(value) {
            Ok(toml::Value::Table(table)) => table,
            Ok(_) => {
                return Err(TomlFileError::Write {
                    path,
                    source: std::io::Error::other(
                        "the store value must serialize to a TOML table (use a struct or a map)",
                    ),
                });
            }
            Err(source) => return Err(TomlFileError::Serialize { path, source }),
        };
        StoreToml { metadata }.write(&path)
    }
}
