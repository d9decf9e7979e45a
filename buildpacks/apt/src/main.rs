//! The apt buildpack: installs the Debian packages an app's `Aptfile` lists, with the dependencies the run
//! image lacks, into a launch layer, without root and without a Dockerfile.
//!
//! apt runs as the build user with its own state and cache dirs ([`apt`]), the stack's sources and keys, and
//! the run image's dpkg status (which rpack's stacks put into the build image), so it downloads exactly what
//! the app image will miss. The `.deb`s are unpacked with `dpkg-deb` (no maintainer scripts run: the build
//! says which packages had scripts that matter) into the layer `packages`, and the env points there
//! ([`layout`]): `LD_LIBRARY_PATH` and `PATH` at launch and during the build, and `LIBRARY_PATH`, `CPATH` and
//! `PKG_CONFIG_PATH` during the build, so pip can compile against what apt brought.
//!
//! The layer is keyed by the packages asked for, the target (distro and arch) and the run image's package
//! list: while they are unchanged, apt does not run at all. Downloaded index files and `.deb`s stay in the
//! build cache volume, so a changed Aptfile downloads only what is new. Each new layer gets `CycloneDX` and
//! SPDX SBOMs with one entry per `.deb` (`pkg:deb/debian/<name>@<version>?arch=..&distro=debian-12`).

mod apt;
mod aptfile;
mod deb;
mod layout;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;
use libbuildpack::sbom::{Package, Sbom, SbomOwner};
use libbuildpack::toolbox::hash::sha256_hex;

use apt::{AptError, System};
use aptfile::{ReadRequestError, Request};

/// The buildpack, for the stack paths in `system`.
pub struct Apt {
    system: System,
}

impl Apt {
    /// For rpack's stacks (and other Debian-based ones: see docs/apt.md).
    #[must_use]
    pub fn stack() -> Self {
        Self {
            system: System::stack(),
        }
    }
}

/// What the layer of unpacked packages depends on.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct PackagesKey {
    /// The packages asked for, as written, sorted.
    packages: Vec<String>,
    /// Whether recommended packages were installed too.
    install_recommends: bool,
    /// What the packages were built for: os, arch, and the distro, which `rpack rebase` compares with the new
    /// run image's.
    target: Target,
    /// SHA-256 of the run image's dpkg status: another run image may have (or lack) some of the packages.
    run_image_sha256: String,
    /// Bumped when this buildpack lays out the layer differently (a string: see the pip buildpack).
    layout: String,
}

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum AptBuildError {
    /// The Aptfile or project.toml could not be read.
    #[error(transparent)]
    ReadRequest(#[from] ReadRequestError),
    /// The run image's package list could not be read.
    #[error("could not read the run image's package list {}", path.display())]
    ReadStatus {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The platform names no distro and the build image has no readable os-release.
    #[error(
        "the build does not say which distro it is for (no CNB_TARGET_DISTRO_NAME/VERSION and no readable {})",
        path.display()
    )]
    UnknownDistro {
        /// The os-release file.
        path: PathBuf,
    },
    /// A temp dir could not be made.
    #[error("could not create a temp dir")]
    TempDir(#[source] std::io::Error),
    /// A layer could not be made.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// apt failed.
    #[error(transparent)]
    Apt(#[from] AptError),
    /// A `.deb` apt downloaded is not where apt puts it.
    #[error("apt downloaded no {} into {}", file, dir.display())]
    MissingDeb {
        /// The file name.
        file: String,
        /// apt's archives dir.
        dir: PathBuf,
    },
    /// A `.deb` could not be read or unpacked.
    #[error(transparent)]
    Deb(#[from] deb::DebError),
    /// The layer's SBOM could not be written.
    #[error("could not write the packages' SBOM")]
    WriteSbom(#[source] libbuildpack::sbom::SbomError),
}

impl Buildpack for Apt {
    type Metadata = NoMetadata;
    type Error = AptBuildError;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, AptBuildError> {
        if Request::exists(ctx.app_dir()) {
            Ok(Detect::pass())
        } else {
            Ok(Detect::fail(
                "no Aptfile and no [com.libbuildpack.apt] in project.toml",
            ))
        }
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, AptBuildError> {
        ctx.output().section("Debian packages (apt)");
        let request = Request::load(ctx.app_dir())?;
        if request.packages.is_empty() {
            ctx.output().step(format!(
                "{} lists no packages: nothing to install",
                request.sources.join(" and ")
            ));
            return Ok(Build::new());
        }
        let status = self.run_image_status(ctx);
        let status_bytes = std::fs::read(&status).map_err(|source| AptBuildError::ReadStatus {
            path: status.clone(),
            source,
        })?;
        let target = self.target(ctx)?;
        let key = PackagesKey {
            packages: request.packages.iter().cloned().collect(),
            install_recommends: request.install_recommends,
            target,
            run_image_sha256: sha256_hex(&status_bytes),
            layout: "1".to_string(),
        };
        ctx.output().step(format!(
            "Packages from {}: {}",
            request.sources.join(" and "),
            key.packages.join(", ")
        ));
        let layer = ctx
            .layer(layer_name!("packages"))
            .launch()
            .build()
            .cache()
            .keyed_by(&key)?;
        if layer.is_new() {
            self.install(ctx, &layer, &request, &status, &key.target)?;
        } else {
            ctx.output()
                .step("Packages, target and run image unchanged: nothing to download");
        }
        Ok(Build::new())
    }
}

impl Apt {
    /// The run image's dpkg status, or (with a warning) the build image's, for stacks that do not provide it.
    fn run_image_status<M>(&self, ctx: &BuildContext<M>) -> PathBuf {
        if self.system.run_status.is_file() {
            return self.system.run_status.clone();
        }
        ctx.output().warn(format!(
            "The stack does not say which packages its run image has (no {}): resolving against the build \
             image's packages instead. Packages only the build image has will be missing at launch; see \
             docs/apt.md for what a stack provides.",
            self.system.run_status.display()
        ));
        self.system.build_status.clone()
    }

    /// The build's target, with the distro from os-release when the platform does not name it.
    fn target<M>(&self, ctx: &BuildContext<M>) -> Result<Target, AptBuildError> {
        let mut target = ctx.target().clone();
        if target.distro_name.is_none() || target.distro_version.is_none() {
            let unknown = || AptBuildError::UnknownDistro {
                path: self.system.os_release.clone(),
            };
            let text = std::fs::read_to_string(&self.system.os_release).map_err(|_| unknown())?;
            let field = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
            };
            target.distro_name = Some(field("ID").ok_or_else(unknown)?);
            target.distro_version = Some(field("VERSION_ID").ok_or_else(unknown)?);
        }
        Ok(target)
    }

    fn install<M>(
        &self,
        ctx: &BuildContext<M>,
        layer: &Layer,
        request: &Request,
        status: &Path,
        target: &Target,
    ) -> Result<(), AptBuildError> {
        let (distro_name, distro_version) = target_distro(target);
        let distro = format!("{distro_name} {distro_version}, {}", target.arch);
        let work = tempfile::Builder::new()
            .prefix("apt-buildpack-")
            .tempdir()
            .map_err(AptBuildError::TempDir)?;
        // Index files and .debs outlive the build in the cache volume: a changed Aptfile downloads only what
        // is new (apt checks every file against the signed index before using it).
        let cache = ctx
            .cache_volume()
            .unwrap_or_else(|| work.path().join("cache"));
        let apt = apt::Apt::new(
            &self.system,
            status,
            work.path(),
            &cache,
            request.install_recommends,
        )?;
        ctx.output().step(format!(
            "Reading the package index of the stack's sources ({distro})"
        ));
        apt.update(ctx, &self.system)?;
        let plan = apt.plan(&request.packages, &distro)?;
        if !plan.already_there.is_empty() {
            ctx.output().step(format!(
                "Already in the run image: {}",
                plan.already_there.join(", ")
            ));
        }
        let (upgrades, install): (Vec<_>, Vec<_>) =
            plan.install.into_iter().partition(|p| p.replaces.is_some());
        for p in &upgrades {
            ctx.output().warn(format!(
                "apt wants {} {} but the run image has {}: keeping the run image's (a library in the layer would \
                 shadow the system's). If the app fails to load it, make the stack again (`rpack stack create`) \
                 to update the run image.",
                p.name,
                p.version,
                p.replaces.as_deref().unwrap_or_default()
            ));
        }
        if install.is_empty() {
            ctx.output()
                .step("The run image has everything asked for: nothing to install");
            return Ok(());
        }
        ctx.output().step(format!(
            "Installing {} packages the run image lacks: {}",
            install.len(),
            install
                .iter()
                .map(|p| format!("{} {}", p.name, p.version))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        apt.download(ctx, &request.packages)?;
        ctx.output()
            .step("Unpacking into the layer (dpkg-deb -x: no maintainer scripts run)");
        let unpacked = unpack_all(
            &install,
            apt.archives(),
            layer.path(),
            work.path(),
            &target_distro(target),
        )?;
        deb::settle(layer.path())?;
        let paths = layout::Paths::of(layer.path());
        paths.write_env(layer)?;
        for (name, path) in &paths.data {
            ctx.output().detail(format!(
                "{name}={} (where the library finds its data)",
                path.display()
            ));
        }
        ctx.write_sbom(SbomOwner::Layer(layer), &unpacked.sbom)
            .map_err(AptBuildError::WriteSbom)?;
        if !unpacked.scripts.is_empty() {
            ctx.output().warn(format!(
                "These packages have maintainer scripts that were not run (the build has no root, and a layer \
                 has no package database): {}. What they set up (alternatives links, users, caches) is missing; \
                 check that the app works with them, or add what it needs to the stack.",
                unpacked.scripts.join("; ")
            ));
        }
        apt.prune(&unpacked.files);
        Ok(())
    }
}

/// What [`unpack_all`] unpacked.
struct Unpacked {
    /// One entry per `.deb`.
    sbom: Sbom,
    /// `name (postinst: update-alternatives)` for packages whose maintainer scripts set something up.
    scripts: Vec<String>,
    /// The `.deb` file names.
    files: BTreeSet<String>,
}

/// Unpacks the downloaded `.deb`s of `install` from `archives` into `dest`, and describes them.
fn unpack_all(
    install: &[apt::Planned],
    archives: &Path,
    dest: &Path,
    scratch: &Path,
    (distro_name, distro_version): &(String, String),
) -> Result<Unpacked, AptBuildError> {
    let mut unpacked = Unpacked {
        sbom: Sbom::new(),
        scripts: Vec::new(),
        files: BTreeSet::new(),
    };
    for planned in install {
        let file = planned.deb_file_name();
        let path = archives.join(&file);
        if !path.is_file() {
            return Err(AptBuildError::MissingDeb {
                file,
                dir: archives.to_owned(),
            });
        }
        let control = deb::control(&path, scratch)?;
        deb::unpack(&path, dest)?;
        let mut package = Package::new(&control.package)
            .version(&control.version)
            .purl(purl(&control, distro_name, distro_version))
            .sha256(&control.sha256);
        if let Some(summary) = &control.summary {
            package = package.description(summary);
        }
        unpacked.sbom = std::mem::take(&mut unpacked.sbom).package(package);
        for (script, commands) in &control.scripts {
            unpacked.scripts.push(format!(
                "{} ({script}: {})",
                control.package,
                commands.join(", ")
            ));
        }
        unpacked.files.insert(file);
    }
    Ok(unpacked)
}

/// The target's distro name and version (filled in by [`Apt::target`]).
fn target_distro(target: &Target) -> (String, String) {
    (
        target.distro_name.clone().unwrap_or_default(),
        target.distro_version.clone().unwrap_or_default(),
    )
}

/// `pkg:deb/debian/libmagic1@1:5.44-3?arch=amd64&distro=debian-12`, as syft and grype write them.
fn purl(control: &deb::Control, distro_name: &str, distro_version: &str) -> String {
    format!(
        "pkg:deb/{distro_name}/{}@{}?arch={}&distro={distro_name}-{distro_version}",
        control.package, control.version, control.arch
    )
}

buildpack_main!(Apt::stack());

#[cfg(test)]
mod tests;
