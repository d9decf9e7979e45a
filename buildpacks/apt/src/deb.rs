//! Unpacking `.deb` files into a layer with `dpkg-deb` (no dpkg database, no root), reading what each one is,
//! and making the unpacked tree work from where it is: pkg-config files and absolute symlinks pointed into the
//! layer, documentation dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use libbuildpack::toolbox::file::FileError;

/// Maintainer-script commands whose work a layer does not need: the dynamic loader cache
/// (`LD_LIBRARY_PATH` replaces it), services (apps do not start them), byte-compiling, conffile moves,
/// documentation indexes and triggers.
const HARMLESS: [&str; 14] = [
    "ldconfig",
    "deb-systemd-helper",
    "deb-systemd-invoke",
    "systemctl",
    "invoke-rc.d",
    "update-rc.d",
    "dpkg-maintscript-helper",
    "py3compile",
    "py3clean",
    "pypy3compile",
    "install-info",
    "update-menus",
    "dpkg-trigger",
    "dh_installdeb",
];

/// Maintainer-script commands that set up something the package needs and that is missing when the script
/// does not run: alternatives links, users, caches, certificates, compiled schemas.
const MATTERS: [&str; 22] = [
    "update-alternatives",
    "adduser",
    "addgroup",
    "useradd",
    "groupadd",
    "dpkg-statoverride",
    "chown",
    "setcap",
    "fc-cache",
    "update-mime-database",
    "gdk-pixbuf-query-loaders",
    "glib-compile-schemas",
    "gio-querymodules",
    "gtk-update-icon-cache",
    "update-icon-caches",
    "update-ca-certificates",
    "mkfontdir",
    "mkfontscale",
    "update-fonts-dir",
    "locale-gen",
    "ucf",
    "update-java-alternatives",
];

/// What a `.deb` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// `Package`.
    pub package: String,
    /// `Version`.
    pub version: String,
    /// `Architecture`.
    pub arch: String,
    /// `Maintainer`.
    pub maintainer: Option<String>,
    /// The first line of `Description`.
    pub summary: Option<String>,
    /// The SHA-256 of the `.deb` file.
    pub sha256: String,
    /// Maintainer scripts that would have set something up, with the commands that do it:
    /// `("postinst", ["update-alternatives"])`.
    pub scripts: Vec<(String, Vec<String>)>,
}

/// Unpacking or reading a `.deb` failed.
#[derive(Debug, thiserror::Error)]
pub enum DebError {
    /// dpkg-deb could not be started.
    #[error("could not run dpkg-deb")]
    Spawn(#[source] std::io::Error),
    /// dpkg-deb failed.
    #[error("dpkg-deb could not {action} {}: {stderr}", deb.display())]
    DpkgDeb {
        /// `unpack`, `read the control files of`.
        action: &'static str,
        /// The file.
        deb: PathBuf,
        /// What it printed.
        stderr: String,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] FileError),
}

fn dpkg_deb(action: &'static str, deb: &Path, args: &[&std::ffi::OsStr]) -> Result<(), DebError> {
    let output = Command::new("dpkg-deb")
        .args(args)
        .output()
        .map_err(DebError::Spawn)?;
    if output.status.success() {
        Ok(())
    } else {
        Err(DebError::DpkgDeb {
            action,
            deb: deb.to_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// Unpacks the files of `deb` into `dest` (`dpkg-deb -x`: no scripts run, no database written).
///
/// # Errors
///
/// [`DebError`] when dpkg-deb fails.
pub fn unpack(deb: &Path, dest: &Path) -> Result<(), DebError> {
    dpkg_deb(
        "unpack",
        deb,
        &["-x".as_ref(), deb.as_os_str(), dest.as_os_str()],
    )
}

/// Reads the control fields and maintainer scripts of `deb`, using `scratch` as a temp dir.
///
/// # Errors
///
/// [`DebError`] when dpkg-deb fails or a file cannot be read.
pub fn control(deb: &Path, scratch: &Path) -> Result<Control, DebError> {
    let dir = scratch.join("control");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(FileError::on("remove", &dir))?;
    }
    dpkg_deb(
        "read the control files of",
        deb,
        &["-e".as_ref(), deb.as_os_str(), dir.as_os_str()],
    )?;
    let control_file = dir.join("control");
    let text =
        std::fs::read_to_string(&control_file).map_err(FileError::on("read", &control_file))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    };
    let mut scripts = Vec::new();
    for script in ["preinst", "postinst"] {
        if let Ok(body) = std::fs::read_to_string(dir.join(script)) {
            let commands = commands_that_matter(&body);
            if !commands.is_empty() {
                scripts.push((script.to_string(), commands));
            }
        }
    }
    Ok(Control {
        package: field("Package").unwrap_or_default(),
        version: field("Version").unwrap_or_default(),
        arch: field("Architecture").unwrap_or_default(),
        maintainer: field("Maintainer"),
        summary: field("Description"),
        sha256: sha256(deb)?,
        scripts,
    })
}

/// The commands of a maintainer script that set up something a package needs (see [`MATTERS`]), in the order
/// they first appear; a script that runs a program this list does not know, other than shell builtins and
/// [`HARMLESS`] ones, counts as `(unknown commands)`.
#[must_use]
pub fn commands_that_matter(script: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut unknown = false;
    for line in script.lines() {
        let line = line.split_once('#').map_or(line, |(code, _)| code).trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || ";|&()`$\"'".contains(c))
            .filter(|w| !w.is_empty())
            .collect();
        let mut known = false;
        for word in &words {
            let base = word.rsplit('/').next().unwrap_or(word);
            if MATTERS.contains(&base) {
                known = true;
                if !found.iter().any(|f| f == base) {
                    found.push(base.to_string());
                }
            } else if HARMLESS.contains(&base) {
                known = true;
            }
        }
        if !known && !is_shell_scaffolding(line, &words) {
            unknown = true;
        }
    }
    if unknown && found.is_empty() {
        found.push("(unknown commands)".to_string());
    }
    found
}

/// Lines every generated maintainer script has: `set -e`, `case "$1" in`, `configure|abort-upgrade)`,
/// `exit 0`, tests, assignments, `echo`.
fn is_shell_scaffolding(line: &str, words: &[&str]) -> bool {
    const KEYWORDS: [&str; 24] = [
        "set", "case", "esac", "in", "if", "then", "else", "elif", "fi", "for", "do", "done",
        "while", "exit", "[", "]", "test", "echo", "true", "false", ":", "return", "shift",
        "local",
    ];
    let Some(first) = words.first() else {
        return true;
    };
    let case_pattern = line.ends_with(')') && !line.contains(char::is_whitespace);
    case_pattern
        || KEYWORDS.contains(first)
        || first.ends_with(')')
        || first.contains('=')
        || first.starts_with('*')
        || first.starts_with('[')
        || first.ends_with("()")
        || *first == "{"
        || *first == "}"
        || *first == "!"
}

/// The SHA-256 of a file, streamed.
///
/// # Errors
///
/// [`DebError::File`] when it cannot be read.
pub fn sha256(path: &Path) -> Result<String, DebError> {
    Ok(libbuildpack::toolbox::hash::sha256_file(path)
        .map_err(|e| FileError::on("read", path)(e.source))?)
}

/// Makes the unpacked tree at `root` work from there: drops documentation (keeping copyright files),
/// re-points absolute symlinks whose target the layer has into the layer, and rewrites pkg-config files'
/// `/usr` paths to the layer's.
///
/// # Errors
///
/// [`DebError::File`] when the tree cannot be read or a file rewritten.
pub fn settle(root: &Path) -> Result<(), DebError> {
    for dir in ["usr/share/man", "usr/share/info", "usr/share/lintian"] {
        let path = root.join(dir);
        if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(FileError::on("remove", &path))?;
        }
    }
    let doc = root.join("usr/share/doc");
    if doc.is_dir() {
        for package in std::fs::read_dir(&doc).map_err(FileError::on("read", &doc))? {
            let package = package.map_err(FileError::on("read", &doc))?.path();
            if package.is_symlink() || !package.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&package).map_err(FileError::on("read", &package))? {
                let path = entry.map_err(FileError::on("read", &package))?.path();
                if path.file_name().is_some_and(|n| n == "copyright") {
                    continue;
                }
                let removed = if path.is_dir() && !path.is_symlink() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.map_err(FileError::on("remove", &path))?;
            }
        }
    }
    walk(root, &mut |path| {
        if path.is_symlink() {
            relink(root, path)
        } else if path.extension().is_some_and(|e| e == "pc")
            && path
                .parent()
                .is_some_and(|p| p.file_name().is_some_and(|n| n == "pkgconfig"))
        {
            rewrite_pkg_config(root, path)
        } else {
            Ok(())
        }
    })
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path) -> Result<(), DebError>) -> Result<(), DebError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(FileError::on("read", dir))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(FileError::on("read", dir))?;
    entries.sort();
    for path in entries {
        visit(&path)?;
        if path.is_dir() && !path.is_symlink() {
            walk(&path, visit)?;
        }
    }
    Ok(())
}

/// `/usr/lib/x86_64-linux-gnu/libfoo.so -> /lib/x86_64-linux-gnu/libfoo.so.1` points into the run image;
/// when the layer has the target, it points into the layer instead.
fn relink(root: &Path, link: &Path) -> Result<(), DebError> {
    let target = std::fs::read_link(link).map_err(FileError::on("read", link))?;
    let Ok(inside) = target.strip_prefix("/") else {
        return Ok(());
    };
    let moved = root.join(inside);
    if std::fs::symlink_metadata(&moved).is_err() {
        return Ok(());
    }
    std::fs::remove_file(link).map_err(FileError::on("replace", link))?;
    Ok(std::os::unix::fs::symlink(&moved, link).map_err(FileError::on("replace", link))?)
}

/// `prefix=/usr` (and other variables set to a `/usr` or `/lib` path) become the layer's paths.
fn rewrite_pkg_config(root: &Path, path: &Path) -> Result<(), DebError> {
    let text = std::fs::read_to_string(path).map_err(FileError::on("read", path))?;
    let root = root.display().to_string();
    let mut changed = false;
    let rewritten: String = text
        .lines()
        .map(|line| {
            if let Some((name, value)) = line.split_once('=')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && (value == "/usr" || value.starts_with("/usr/") || value.starts_with("/lib/"))
            {
                changed = true;
                format!("{name}={root}{value}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    if changed {
        std::fs::write(path, rewritten).map_err(FileError::on("rewrite", path))?;
    }
    Ok(())
}
