//! The reference lifecycle: finding an installed one, and installing one from its Go module source.
//!
//! An installed lifecycle has the layout of the release tarball: `lifecycle.toml` (its supported APIs) and
//! `lifecycle/` with the `lifecycle` multi-call binary, its phase symlinks and `launcher`.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use libbuildpack::toolbox::file::FileError;

use crate::store::Store;
use crate::toolbox::ui::Ui;

pub use crate::toolbox::lifecycle_pin::{DEFAULT_BUILDPACK_APIS, DEFAULT_VERSION};

/// The Go module the lifecycle is built from.
const MODULE: &str = "github.com/buildpacks/lifecycle";

/// The phases the `lifecycle` binary dispatches on by argv0, as the release tarball links them.
const PHASES: [&str; 8] = [
    "detector", "analyzer", "restorer", "builder", "exporter", "rebaser", "creator", "extender",
];

/// Env var naming an installed lifecycle dir to use instead of the store's.
pub(crate) const LIFECYCLE_ENV: &str = "RPACK_LIFECYCLE";

/// An installed lifecycle.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    root: PathBuf,
    version: String,
}

/// What failed while finding or installing the lifecycle.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// No lifecycle of that version is installed.
    #[error("lifecycle {version} is not installed in {dir}")]
    NotInstalled {
        /// The version asked for.
        version: String,
        /// Where it was looked for.
        dir: PathBuf,
    },
    /// `RPACK_LIFECYCLE` or a builder's `[lifecycle] uri` points at something that is not an installed lifecycle.
    #[error("{dir} is not a lifecycle dir (expected lifecycle.toml and lifecycle/lifecycle in it)")]
    BadOverride {
        /// The dir given.
        dir: PathBuf,
    },
    /// The version is not of the `X.Y.Z` form.
    #[error("`{0}` is not a lifecycle version (expected X.Y.Z, like {DEFAULT_VERSION})")]
    BadVersion(String),
    /// A tool could not be started.
    #[error("could not run `{tool}`")]
    Spawn {
        /// The tool.
        tool: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `go mod download` failed.
    #[error("could not download the lifecycle module {MODULE}@v{version}{output}")]
    Download {
        /// The version.
        version: String,
        /// What go printed.
        output: String,
    },
    /// `go build` failed.
    #[error("building the lifecycle failed{output}")]
    Build {
        /// What go printed (its tail).
        output: String,
    },
    /// The module source does not have the file we read the supported APIs from.
    #[error("could not read the supported APIs from {path}: {why}")]
    ReadApis {
        /// The file.
        path: PathBuf,
        /// What was missing.
        why: String,
    },
    /// The store could not be locked.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl LifecycleError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotInstalled { version, dir } => {
                // Another architecture's lifecycle is kept at `<version>-<arch>`.
                let arch = dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_prefix(&format!("{version}-")))
                    .map(|arch| format!(" --arch {arch}"))
                    .unwrap_or_default();
                Some(format!(
                    "install it with `rpack lifecycle install --from-source v{version}{arch}` (needs Go; takes about a \
                     minute), or point {LIFECYCLE_ENV} at an unpacked lifecycle release"
                ))
            }
            Self::Spawn { tool, .. } if tool == "go" => Some(
                "install Go 1.21 or newer (Debian's golang-go 1.19 is too old); rpack sets GOTOOLCHAIN=auto so an \
                 older Go fetches the toolchain the lifecycle needs"
                    .to_owned(),
            ),
            Self::Download { .. } => {
                Some("check that the Go module proxy is reachable (go env GOPROXY) and the version exists".to_owned())
            }
            _ => None,
        }
    }
}

crate::toolbox::file_error::io_err!(LifecycleError);

impl Lifecycle {
    /// The lifecycle named by `RPACK_LIFECYCLE`, else version `version` installed in the store.
    ///
    /// # Errors
    /// When neither is an installed lifecycle.
    pub fn locate(store: &Store, version: &str) -> Result<Self, LifecycleError> {
        Self::locate_for(store, version, crate::provision::emulation::host_arch())
    }

    /// [`Lifecycle::locate`] for the OCI architecture `arch`: `RPACK_LIFECYCLE` names the host's only; other
    /// architectures come from the store (see [`Lifecycle::install_from_source_for`]).
    ///
    /// # Errors
    /// When it is not installed.
    pub(crate) fn locate_for(
        store: &Store,
        version: &str,
        arch: &str,
    ) -> Result<Self, LifecycleError> {
        let host = arch == crate::provision::emulation::host_arch();
        if host && let Some(dir) = std::env::var_os(LIFECYCLE_ENV).filter(|v| !v.is_empty()) {
            return Self::at(Path::new(&dir));
        }
        let version = normalize_version(version)?;
        let lifecycle = Self {
            root: arch_dir(store, &version, arch),
            version,
        };
        if lifecycle.is_complete() {
            Ok(lifecycle)
        } else {
            Err(LifecycleError::NotInstalled {
                version: lifecycle.version,
                dir: lifecycle.root,
            })
        }
    }

    /// The lifecycle installed at `dir` (a dir with `lifecycle.toml` and `lifecycle/`, like an unpacked
    /// release).
    ///
    /// # Errors
    /// When `dir` is not an installed lifecycle.
    pub(crate) fn at(dir: &Path) -> Result<Self, LifecycleError> {
        let lifecycle = Self {
            version: read_version(dir).unwrap_or_else(|| DEFAULT_VERSION.to_owned()),
            root: dir.to_owned(),
        };
        if lifecycle.is_complete() {
            Ok(lifecycle)
        } else {
            Err(LifecycleError::BadOverride {
                dir: dir.to_owned(),
            })
        }
    }

    /// Builds lifecycle `version` from its Go module with `CGO_ENABLED=0` (static binaries, as the release
    /// does) into the store, unless it is there already.
    ///
    /// # Errors
    /// When Go is missing, the module cannot be downloaded or the build fails.
    pub fn install_from_source(
        store: &Store,
        version: &str,
        ui: &Ui,
    ) -> Result<Self, LifecycleError> {
        Self::install_from_source_for(store, version, crate::provision::emulation::host_arch(), ui)
    }

    /// [`Lifecycle::install_from_source`] for the OCI architecture `arch` (Go cross-builds it with
    /// `GOARCH`); each architecture is kept in the store beside the others.
    ///
    /// # Errors
    /// As [`Lifecycle::install_from_source`].
    pub fn install_from_source_for(
        store: &Store,
        version: &str,
        arch: &str,
        ui: &Ui,
    ) -> Result<Self, LifecycleError> {
        let version = normalize_version(version)?;
        let lifecycle = Self {
            root: arch_dir(store, &version, arch),
            version: version.clone(),
        };
        let _lock = store.lock(&format!("lifecycle-{version}-{arch}"))?;
        if lifecycle.is_complete() {
            lifecycle.add_missing_sboms()?;
            ui.step(&format!(
                "lifecycle {version} is already installed at {}",
                lifecycle.root.display()
            ));
            return Ok(lifecycle);
        }
        let started = Instant::now();
        ui.section(&format!(
            "Installing lifecycle {version} (linux/{arch}) from source"
        ));
        let source = download_module(&version)?;
        let staging = store
            .lifecycles_dir()
            .join(format!(".staging-{version}-{arch}-{}", std::process::id()));
        if staging.exists() {
            fs_err::remove_dir_all(&staging).map_err(io_err("clean up", &staging))?;
        }
        let out = build_release_dir(&source, &staging, &version, arch, ui)?;
        if lifecycle.root.exists() {
            fs_err::remove_dir_all(&lifecycle.root).map_err(io_err("replace", &lifecycle.root))?;
        }
        fs_err::rename(&out, &lifecycle.root)
            .map_err(io_err("move into place", &lifecycle.root))?;
        fs_err::remove_dir_all(&staging).map_err(io_err("clean up", &staging))?;
        ui.done(
            &format!(
                "Installed lifecycle {version} at {}",
                lifecycle.root.display()
            ),
            started.elapsed(),
        );
        Ok(lifecycle)
    }

    /// Writes the SBOMs of the lifecycle's binaries where they are missing: installs made before rpack wrote
    /// SBOMs get them now.
    fn add_missing_sboms(&self) -> Result<(), LifecycleError> {
        for binary in ["lifecycle", "launcher"] {
            let cdx = self.binaries_dir().join(format!("{binary}.sbom.cdx.json"));
            if !cdx.exists() {
                write_sboms(&self.binaries_dir(), binary, &self.version)?;
            }
        }
        Ok(())
    }

    fn is_complete(&self) -> bool {
        self.root.join("lifecycle.toml").is_file()
            && self.binaries_dir().join("lifecycle").is_file()
            && self.binaries_dir().join("launcher").is_file()
    }

    /// The version, `X.Y.Z`.
    #[must_use]
    pub(crate) fn version(&self) -> &str {
        &self.version
    }

    /// The dir holding `lifecycle.toml` and `lifecycle/`.
    #[must_use]
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The dir that becomes `/cnb/lifecycle` in a builder.
    #[must_use]
    pub fn binaries_dir(&self) -> PathBuf {
        self.root.join("lifecycle")
    }

    /// The `lifecycle.toml` descriptor.
    #[must_use]
    pub(crate) fn descriptor_path(&self) -> PathBuf {
        self.root.join("lifecycle.toml")
    }
}

fn normalize_version(version: &str) -> Result<String, LifecycleError> {
    let v = version.trim_start_matches('v');
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        Ok(v.to_owned())
    } else {
        Err(LifecycleError::BadVersion(version.to_owned()))
    }
}

fn read_version(root: &Path) -> Option<String> {
    let text = fs_err::read_to_string(root.join("lifecycle.toml")).ok()?;
    let table: toml::Table = text.parse().ok()?;
    table
        .get("lifecycle")?
        .get("version")?
        .as_str()
        .map(str::to_owned)
}

fn go() -> Command {
    let mut cmd = Command::new("go");
    // An older local Go fetches the toolchain the module asks for through the module proxy.
    cmd.env("GOTOOLCHAIN", "auto")
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=readonly");
    cmd
}

fn download_module(version: &str) -> Result<PathBuf, LifecycleError> {
    let output = go()
        .args(["mod", "download", "-json", &format!("{MODULE}@v{version}")])
        .output()
        .map_err(|source| LifecycleError::Spawn {
            tool: "go".to_owned(),
            source,
        })?;
    let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    match parsed.get("Dir").and_then(serde_json::Value::as_str) {
        Some(dir) if output.status.success() => Ok(PathBuf::from(dir)),
        _ => Err(LifecycleError::Download {
            version: version.to_owned(),
            output: libbuildpack::toolbox::style::tail_of(&format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )),
        }),
    }
}

/// Where the lifecycle `version` for `arch` is installed: `<version>` for the host's architecture (as before
/// rpack knew others), `<version>-<arch>` for others.
fn arch_dir(store: &Store, version: &str, arch: &str) -> PathBuf {
    if arch == crate::provision::emulation::host_arch() {
        store.lifecycles_dir().join(version)
    } else {
        store.lifecycles_dir().join(format!("{version}-{arch}"))
    }
}

/// Builds the lifecycle's module `source` (a writable copy of it under `staging`) into `staging/out`, laid out
/// like an unpacked release: `lifecycle.toml`, and `lifecycle/` with the binaries, their SBOMs and a link per
/// phase. Returns `staging/out`.
fn build_release_dir(
    source: &Path,
    staging: &Path,
    version: &str,
    arch: &str,
    ui: &Ui,
) -> Result<PathBuf, LifecycleError> {
    let work = staging.join("src");
    copy_tree_writable(source, &work)?;
    let out = staging.join("out");
    let bin = out.join("lifecycle");
    fs_err::create_dir_all(&bin).map_err(io_err("create", &bin))?;
    ui.step(&format!(
        "go build ./cmd/lifecycle ./cmd/launcher (CGO_ENABLED=0 GOARCH={arch})"
    ));
    if let Err(first) = go_build(&work, &bin, version, arch, ui) {
        if !mentions_unavailable_kaniko(&first) {
            return Err(first);
        }
        ui.warn(
            "the Go module proxy does not serve kaniko, which only the lifecycle's `extender` phase (image \
             extensions) uses; building without it. Every other phase is unchanged, and rpack does not run \
             extensions",
        );
        disable_extender(&work)?;
        go_build(&work, &bin, version, arch, ui)?;
    }
    for phase in PHASES {
        let link = bin.join(phase);
        std::os::unix::fs::symlink("lifecycle", &link).map_err(io_err("link", &link))?;
    }
    for binary in ["lifecycle", "launcher"] {
        write_sboms(&bin, binary, version)?;
    }
    let descriptor = lifecycle_toml(&work, version)?;
    let descriptor_path = out.join("lifecycle.toml");
    fs_err::write(&descriptor_path, descriptor).map_err(io_err("write", &descriptor_path))?;
    Ok(out)
}

fn go_build(
    src: &Path,
    bin: &Path,
    version: &str,
    arch: &str,
    ui: &Ui,
) -> Result<(), LifecycleError> {
    let ldflags =
        format!("-s -w -X {MODULE}/cmd.Version={version} -X {MODULE}/cmd.SCMRepository={MODULE}");
    let mut cmd = go();
    cmd.env("GOOS", "linux").env("GOARCH", arch);
    cmd.current_dir(src)
        .args(["build", "-trimpath", "-ldflags", &ldflags, "-o"])
        .arg(bin)
        .args(["./cmd/lifecycle", "./cmd/launcher"]);
    let finished = ui
        .run_streamed(&mut cmd)
        .map_err(|source| LifecycleError::Spawn {
            tool: "go".to_owned(),
            source,
        })?;
    if finished.status.success() {
        Ok(())
    } else {
        Err(LifecycleError::Build {
            output: finished.tail_text(),
        })
    }
}

fn mentions_unavailable_kaniko(err: &LifecycleError) -> bool {
    matches!(err, LifecycleError::Build { output } if output.contains("kaniko"))
}

/// Replaces the two files of the lifecycle that import kaniko with ones that make the `extender` phase fail
/// with a clear message. Only image extensions use it; detect, analyze, restore, build, export, create, rebase
/// and the launcher do not.
fn disable_extender(src: &Path) -> Result<(), LifecycleError> {
    let dir = src.join("internal/extend/kaniko");
    let applier = r#"package kaniko

import (
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var errNoKaniko = errors.New("image extensions are not available: this lifecycle was built by rpack without kaniko")

type DockerfileApplier struct{}

func NewDockerfileApplier() (*DockerfileApplier, error) { return nil, errNoKaniko }

func (a *DockerfileApplier) ImageFor(reference string) (v1.Image, error) { return nil, errNoKaniko }

func (a *DockerfileApplier) Cleanup() error { return nil }
"#;
    let applier_linux = r#"//go:build linux

package kaniko

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/buildpacks/lifecycle/internal/extend"
	"github.com/buildpacks/lifecycle/log"
)

func (a *DockerfileApplier) Apply(dockerfile extend.Dockerfile, toBaseImage v1.Image, withBuildOptions extend.Options, logger log.Logger) (v1.Image, error) {
	return nil, errNoKaniko
}
"#;
    for (name, text) in [
        ("dockerfile_applier.go", applier),
        ("dockerfile_applier_linux.go", applier_linux),
    ] {
        let path = dir.join(name);
        fs_err::write(&path, text).map_err(io_err("write", &path))?;
    }
    Ok(())
}

/// Writes `<binary>.sbom.cdx.json` and `.spdx.json` next to the binary from the Go modules it was built from
/// (`go version -m`), as the release tarball has them: the exporter adds them to every app image's SBOM layer.
fn write_sboms(bin: &Path, binary: &str, version: &str) -> Result<(), LifecycleError> {
    use libbuildpack::data::SbomFormat;

    let path = bin.join(binary);
    let output = go()
        .args(["version", "-m"])
        .arg(&path)
        .output()
        .map_err(|source| LifecycleError::Spawn {
            tool: "go".to_owned(),
            source,
        })?;
    let sbom = sbom_from_go_version(&String::from_utf8_lossy(&output.stdout), version);
    for format in [SbomFormat::CycloneDxJson, SbomFormat::SpdxJson] {
        let bytes = sbom.to_json(format, binary).map_err(|e| {
            LifecycleError::Io(FileError {
                action: "describe",
                path: path.clone(),
                source: io::Error::other(e),
            })
        })?;
        let file = bin.join(format.file_name(binary));
        fs_err::write(&file, bytes).map_err(io_err("write", &file))?;
    }
    Ok(())
}

/// The main module and its dependencies from `go version -m` output, as SBOM packages with golang purls.
fn sbom_from_go_version(text: &str, version: &str) -> libbuildpack::sbom::Sbom {
    use libbuildpack::sbom::{Package, Sbom};

    let mut sbom = Sbom::new();
    for line in text.lines() {
        let fields: Vec<&str> = line
            .split('\t')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        match fields.as_slice() {
            ["mod", module, ..] => {
                let package = Package::new(*module)
                    .version(version)
                    .purl(format!("pkg:golang/{module}@v{version}"));
                sbom = sbom.package(package.application());
            }
            ["dep", module, module_version, ..] => {
                let purl = format!("pkg:golang/{module}@{module_version}");
                sbom = sbom.package(Package::new(*module).version(*module_version).purl(purl));
            }
            _ => {}
        }
    }
    sbom
}

/// Copies the module source out of the read-only module cache so it can be built (and, if needed, patched).
fn copy_tree_writable(src: &Path, dest: &Path) -> Result<(), LifecycleError> {
    libbuildpack::toolbox::copy::TreeCopy::new()
        .file_mode(0o644)
        .run(src, dest)
        .map_err(|e| io_err("copy", src)(e.into()))
}

/// The `lifecycle.toml` descriptor, with the API lists read from the source's `api/apis.go`.
fn lifecycle_toml(src: &Path, version: &str) -> Result<String, LifecycleError> {
    let path = src.join("api/apis.go");
    let text = fs_err::read_to_string(&path).map_err(io_err("read", &path))?;
    let lists = |name: &str| -> Result<(Vec<String>, Vec<String>), LifecycleError> {
        let needle = format!("{name} = newApisMustParse(");
        let start = text.find(&needle).ok_or_else(|| LifecycleError::ReadApis {
            path: path.clone(),
            why: format!("no `{needle}`"),
        })? + needle.len();
        let call = &text[start
            ..text[start..]
                .find(')')
                .map_or(text.len(), |end| start + end)];
        let mut groups = call.split("[]string").skip(1).map(|g| {
            g.split(['{', '}'])
                .nth(1)
                .unwrap_or("")
                .split(',')
                .map(|v| v.trim().trim_matches('"').to_owned())
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
        });
        let supported = groups.next().unwrap_or_default();
        let deprecated = groups.next().unwrap_or_default();
        if supported.is_empty() {
            return Err(LifecycleError::ReadApis {
                path: path.clone(),
                why: format!("no supported {name} APIs"),
            });
        }
        Ok((supported, deprecated))
    };
    let (bp_supported, bp_deprecated) = lists("Buildpack")?;
    let (pl_supported, pl_deprecated) = lists("Platform")?;
    let mut apis = toml::Table::new();
    for (key, supported, deprecated) in [
        ("buildpack", bp_supported, bp_deprecated),
        ("platform", pl_supported, pl_deprecated),
    ] {
        let mut t = toml::Table::new();
        t.insert("deprecated".into(), deprecated.into());
        t.insert("supported".into(), supported.into());
        apis.insert(key.into(), t.into());
    }
    let mut doc = toml::Table::new();
    doc.insert("apis".into(), apis.into());
    let mut api = toml::Table::new();
    api.insert("buildpack".into(), "0.7".into());
    api.insert("platform".into(), "0.7".into());
    doc.insert("api".into(), api.into());
    let mut lc = toml::Table::new();
    lc.insert("version".into(), version.into());
    doc.insert("lifecycle".into(), lc.into());
    Ok(toml::to_string(&doc).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sboms_list_the_main_module_and_every_dependency() {
        let text = "/x/launcher: go1.26.8\n\tpath\tgithub.com/buildpacks/lifecycle/cmd/launcher\n\
                    \tmod\tgithub.com/buildpacks/lifecycle\t(devel)\t\n\
                    \tdep\tgithub.com/BurntSushi/toml\tv1.6.0\th1:abc=\n";
        let sbom = sbom_from_go_version(text, "0.21.17");
        let names: Vec<&str> = sbom
            .packages()
            .iter()
            .map(libbuildpack::sbom::Package::name)
            .collect();
        assert_eq!(
            names,
            [
                "github.com/buildpacks/lifecycle",
                "github.com/BurntSushi/toml"
            ]
        );
        let json = sbom
            .to_json(libbuildpack::data::SbomFormat::CycloneDxJson, "launcher")
            .unwrap();
        let json = String::from_utf8(json).unwrap();
        assert!(
            json.contains("pkg:golang/github.com/buildpacks/lifecycle@v0.21.17"),
            "{json}"
        );
        assert!(
            json.contains("pkg:golang/github.com/BurntSushi/toml@v1.6.0"),
            "{json}"
        );
    }

    #[test]
    fn versions_accept_a_v_prefix_and_nothing_else() {
        assert_eq!(normalize_version("v0.21.17").unwrap(), "0.21.17");
        assert_eq!(normalize_version("0.21.17").unwrap(), "0.21.17");
        assert!(normalize_version("0.21").is_err());
        assert!(normalize_version("latest").is_err());
    }

    #[test]
    fn reads_api_lists_from_the_lifecycle_source() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("api")).unwrap();
        fs_err::write(
            dir.path().join("api/apis.go"),
            r#"var (
	Platform = newApisMustParse([]string{"0.7", "0.15"}, []string{})
	Buildpack = newApisMustParse([]string{"0.7", "0.12"}, []string{"0.7"})
)"#,
        )
        .unwrap();
        let text = lifecycle_toml(dir.path(), "0.21.17").unwrap();
        let doc: toml::Table = text.parse().unwrap();
        assert_eq!(
            doc["apis"]["platform"]["supported"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            doc["apis"]["buildpack"]["deprecated"][0].as_str(),
            Some("0.7")
        );
        assert_eq!(doc["lifecycle"]["version"].as_str(), Some("0.21.17"));
    }
}
