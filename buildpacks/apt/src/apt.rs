//! apt as the build user: its own state, lists and archive dirs, the stack's sources and keys, and the run
//! image's dpkg status, so it resolves (and downloads) exactly what the run image lacks. Nothing runs as root
//! and nothing is installed into the build image: apt only simulates and downloads; [`crate::deb`] unpacks.
//!
//! Every setting is in an `apt.conf` of our own given through `APT_CONFIG` (read before the stack's
//! `apt.conf.d`), so the command lines in the build log stay short.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use libbuildpack::prelude::*;
use libbuildpack::toolbox::style::indent;

/// Where apt reads its configuration, sources and keys, and which package list it resolves against.
#[derive(Debug, Clone)]
pub struct System {
    /// apt's configuration dir (`Dir::Etc`): `sources.list`, `sources.list.d/`, `trusted.gpg.d/`,
    /// `apt.conf.d/`. The stack's `/etc/apt`, as mmdebstrap wrote it.
    pub etc_apt: PathBuf,
    /// The run image's dpkg status, as the stack put it into the build image.
    pub run_status: PathBuf,
    /// The build image's own dpkg status: the fallback for stacks that do not provide the run image's.
    pub build_status: PathBuf,
    /// The build image's `os-release`, for the distro when the platform does not name it.
    pub os_release: PathBuf,
}

impl System {
    /// The paths of rpack's stacks (and of any Debian build image; see `docs/apt.md`).
    #[must_use]
    pub fn stack() -> Self {
        Self {
            etc_apt: PathBuf::from("/etc/apt"),
            // rpack::stack::RUN_IMAGE_DPKG_STATUS; the buildpack does not depend on rpack.
            run_status: PathBuf::from("/usr/share/rpack/run-image/dpkg-status"),
            build_status: PathBuf::from("/var/lib/dpkg/status"),
            os_release: PathBuf::from("/etc/os-release"),
        }
    }
}

/// A package apt chose to install: one of the request or a dependency the run image lacks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Planned {
    /// The package name.
    pub name: String,
    /// The version apt chose.
    pub version: String,
    /// The package's architecture (`amd64`, `all`).
    pub arch: String,
    /// The version the run image has, when apt would upgrade it.
    pub replaces: Option<String>,
}

impl Planned {
    /// The file name apt gives the downloaded `.deb` (`:` of an epoch as `%3a`).
    #[must_use]
    pub fn deb_file_name(&self) -> String {
        format!(
            "{}_{}_{}.deb",
            self.name,
            self.version.replace(':', "%3a"),
            self.arch
        )
    }
}

/// What apt would do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Packages to install, sorted by name.
    pub install: Vec<Planned>,
    /// Requested packages the run image already has.
    pub already_there: Vec<String>,
}

/// Running apt failed.
#[derive(Debug, thiserror::Error)]
pub enum AptError {
    /// apt's work dirs or config could not be written.
    #[error("could not prepare apt's work dir {}", path.display())]
    Prepare {
        /// The dir or file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `apt-get update` failed.
    #[error(
        "apt could not download the package index from the stack's sources ({} and {}/sources.list.d).\n\
         Check that the build can reach them (a proxy needs the usual http_proxy/https_proxy build env), \
         then build again.",
        etc_apt.join("sources.list").display(), etc_apt.display()
    )]
    Update {
        /// The stack's apt dir.
        etc_apt: PathBuf,
        /// apt's error.
        #[source]
        source: CommandError,
    },
    /// apt-get could not be started.
    #[error("could not run {program}")]
    Spawn {
        /// apt-get or apt-cache.
        program: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Packages the request names are in none of the sources.
    #[error("{}", unknown_message(names, suggestions, distro))]
    UnknownPackages {
        /// The names apt could not find.
        names: Vec<String>,
        /// Names in the index that start like them.
        suggestions: Vec<String>,
        /// `debian 12 (amd64)`.
        distro: String,
    },
    /// apt could not find a way to install the request (no candidate, a version that does not exist,
    /// conflicts with the run image).
    #[error(
        "apt cannot install the requested packages:\n{}\nFix the Aptfile as apt says, then build again.",
        indent(lines)
    )]
    Unresolvable {
        /// apt's explanation.
        lines: Vec<String>,
    },
    /// Downloading the packages failed.
    #[error("apt could not download the packages")]
    Download(#[source] CommandError),
}

fn unknown_message(names: &[String], suggestions: &[String], distro: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let mut text = format!(
        "no Debian package named {} is in the stack's sources ({distro}).",
        quoted.join(", ")
    );
    if suggestions.is_empty() {
        text.push_str(
            "\nCheck the spelling: Debian names libraries with their soname version (libmagic1, not \
             libmagic), and headers as -dev packages. `apt-cache search <word>` in the build image lists \
             candidates.",
        );
    } else {
        let _ = write!(
            text,
            "\nPackages with similar names: {}.\nDebian names libraries with their soname version (libmagic1, not \
             libmagic), and headers as -dev packages.",
            suggestions.join(", ")
        );
    }
    text.push_str(" Fix the Aptfile, then build again.");
    text
}

/// apt with private dirs under `work` (state, package caches, logs), lists and downloaded `.deb`s in `cache`
/// (kept between builds when it is in the build cache volume).
#[derive(Debug)]
pub struct Apt {
    config: PathBuf,
    archives: PathBuf,
}

impl Apt {
    /// Writes the apt.conf and makes the dirs.
    ///
    /// # Errors
    ///
    /// [`AptError::Prepare`] when a dir or the config cannot be written.
    pub fn new(
        system: &System,
        status: &Path,
        work: &Path,
        cache: &Path,
        install_recommends: bool,
    ) -> Result<Self, AptError> {
        let lists = cache.join("lists");
        let archives = cache.join("archives");
        for dir in [
            lists.join("partial"),
            archives.join("partial"),
            work.join("state"),
            work.join("cache"),
            work.join("log"),
        ] {
            std::fs::create_dir_all(&dir).map_err(|source| AptError::Prepare {
                path: dir.clone(),
                source,
            })?;
        }
        let dir = |p: &Path| format!("{}/", p.display());
        let mut settings = vec![
            ("Dir::Etc", dir(&system.etc_apt)),
            ("Dir::State", dir(&work.join("state"))),
            ("Dir::State::Lists", dir(&lists)),
            ("Dir::State::status", status.display().to_string()),
            ("Dir::Cache", dir(&work.join("cache"))),
            ("Dir::Cache::Archives", dir(&archives)),
            ("Dir::Log", dir(&work.join("log"))),
            // No lock files: the dirs are ours alone, and the system's locks need root.
            ("Debug::NoLocking", "true".into()),
            // Indexes stay compressed (a third of the size in the cache volume); no translations.
            ("Acquire::GzipIndexes", "true".into()),
            ("Acquire::Languages", "none".into()),
            ("Acquire::Retries", "3".into()),
            ("APT::Install-Recommends", install_recommends.to_string()),
            ("APT::Install-Suggests", "false".into()),
            ("APT::Get::Assume-Yes", "true".into()),
            ("quiet", "1".into()),
        ];
        if is_root() {
            // Only in tests on a host: as root apt would drop to `_apt`, which cannot read a temp dir.
            settings.push(("APT::Sandbox::User", "root".into()));
        }
        let text = settings
            .iter()
            .fold(String::new(), |mut text, (key, value)| {
                let _ = writeln!(text, "{key} \"{value}\";");
                text
            });
        let config = work.join("apt.conf");
        std::fs::write(&config, text).map_err(|source| AptError::Prepare {
            path: config.clone(),
            source,
        })?;
        Ok(Self { config, archives })
    }

    /// Where the downloaded `.deb`s are.
    #[must_use]
    pub fn archives(&self) -> &Path {
        &self.archives
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("APT_CONFIG", &self.config).env("LC_ALL", "C");
        command
    }

    /// `apt-get update`: fetches the index of the stack's sources (unchanged lists are not downloaded again).
    ///
    /// # Errors
    ///
    /// [`AptError::Update`] when apt fails.
    pub fn update<M>(&self, ctx: &BuildContext<M>, system: &System) -> Result<(), AptError> {
        ctx.run(self.command("apt-get").arg("update"))
            .map_err(|source| AptError::Update {
                etc_apt: system.etc_apt.clone(),
                source,
            })
    }

    /// What `apt-get install` would install for `packages`, simulated (nothing is downloaded).
    ///
    /// # Errors
    ///
    /// [`AptError::UnknownPackages`] naming the packages apt cannot find (with similar names),
    /// [`AptError::Unresolvable`] with apt's explanation for other failures.
    pub fn plan(&self, packages: &BTreeSet<String>, distro: &str) -> Result<Plan, AptError> {
        let output = self
            .command("apt-get")
            .args(["install", "--simulate"])
            .args(packages)
            .output()
            .map_err(|source| AptError::Spawn {
                program: "apt-get",
                source,
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            return Ok(parse_plan(&stdout));
        }
        let unknown: Vec<String> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("E: Unable to locate package "))
            .map(|name| name.trim().to_string())
            .collect();
        if !unknown.is_empty() {
            let mut suggestions: Vec<String> = Vec::new();
            for similar in unknown.iter().flat_map(|name| self.similar(name)) {
                if !suggestions.contains(&similar) {
                    suggestions.push(similar);
                }
            }
            suggestions.truncate(8);
            return Err(AptError::UnknownPackages {
                names: unknown,
                suggestions,
                distro: distro.to_string(),
            });
        }
        Err(AptError::Unresolvable {
            lines: explanation(&stdout, &stderr),
        })
    }

    /// Names in the index starting like `name` (`libmagic` → `libmagic1`, `libmagic-dev`); empty when apt
    /// cannot say.
    fn similar(&self, name: &str) -> Vec<String> {
        let name = crate::aptfile::name_of(name);
        let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
        for prefix in [name, stem] {
            if prefix.len() < 3 {
                continue;
            }
            let Ok(output) = self
                .command("apt-cache")
                .args(["pkgnames", prefix])
                .output()
            else {
                return Vec::new();
            };
            let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(str::to_string)
                .collect();
            if !names.is_empty() {
                names.sort_by_key(|n| (n.len(), n.clone()));
                names.truncate(5);
                return names;
            }
        }
        Vec::new()
    }

    /// Downloads the packages of `plan` into [`archives`](Self::archives) (those already there, from an
    /// earlier build, are checked and kept).
    ///
    /// # Errors
    ///
    /// [`AptError::Download`] when apt fails.
    pub fn download<M>(
        &self,
        ctx: &BuildContext<M>,
        packages: &BTreeSet<String>,
    ) -> Result<(), AptError> {
        ctx.run(
            self.command("apt-get")
                .args(["install", "--download-only"])
                .args(packages),
        )
        .map_err(AptError::Download)
    }

    /// Removes downloaded `.deb`s that are not in `keep` (file names), so the cache does not grow with every
    /// change of the Aptfile.
    pub fn prune(&self, keep: &BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(&self.archives) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if Path::new(&name).extension().is_some_and(|e| e == "deb") && !keep.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Whether this process runs as root (`/proc/self` belongs to the effective user).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Reads `apt-get install --simulate` output: `Inst name (version suite [arch])` for new packages,
/// `Inst name [old] (version suite [arch])` for upgrades, `name is already the newest version (...)`.
#[must_use]
pub fn parse_plan(stdout: &str) -> Plan {
    let mut plan = Plan::default();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("Inst ") {
            let Some((name, rest)) = rest.split_once(' ') else {
                continue;
            };
            let (replaces, rest) = match rest.strip_prefix('[') {
                Some(upgrade) => match upgrade.split_once("] ") {
                    Some((old, rest)) => (Some(old.to_string()), rest),
                    None => continue,
                },
                None => (None, rest),
            };
            let Some(inner) = rest.strip_prefix('(') else {
                continue;
            };
            let version = inner.split_whitespace().next().unwrap_or_default();
            let arch = inner
                .rsplit_once('[')
                .and_then(|(_, a)| a.split_once(']'))
                .map(|(a, _)| a)
                .unwrap_or_default();
            if version.is_empty() || arch.is_empty() {
                continue;
            }
            plan.install.push(Planned {
                name: name.to_string(),
                version: version.to_string(),
                arch: arch.to_string(),
                replaces,
            });
        } else if let Some((name, _)) = line.split_once(" is already the newest version") {
            plan.already_there.push(name.trim().to_string());
        }
    }
    plan.install.sort();
    plan.already_there.sort();
    plan
}

/// The lines of apt's output that explain a failure: its `E:` lines and the dependency report before them.
fn explanation(stdout: &str, stderr: &str) -> Vec<String> {
    let noise = [
        "NOTE: This is only a simulation!",
        "apt-get needs root privileges",
        "Keep also in mind that locking",
        "so don't depend on the relevance",
        "Reading package lists",
        "Building dependency tree",
        "Reading state information",
    ];
    stdout
        .lines()
        .chain(stderr.lines())
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !noise.iter().any(|n| l.trim_start().starts_with(n)))
        .map(str::to_string)
        .collect()
}
