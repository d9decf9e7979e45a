//! Where unpacked packages keep what the app and later buildpacks need, and the env that points there.
//!
//! At launch and during the build (`env/`): `LD_LIBRARY_PATH` (the Debian multiarch dirs and `lib` dirs with
//! libraries), `PATH` (`usr/bin`, `bin`), and the variables a few libraries read to find their data outside
//! `/usr` ([`DATA_VARS`]). During the build only (`env.build/`): `LIBRARY_PATH`, `CPATH` and
//! `PKG_CONFIG_PATH`, so pip can compile extensions against the headers and libraries.

use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;

/// Libraries that look for their data at a path compiled in, and the variable that moves it: set when the
/// layer has the path (the first match of a pattern, `*` being one path component).
pub const DATA_VARS: [(&str, &str); 6] = [
    // libmagic (python-magic): its database.
    ("MAGIC", "usr/lib/file/magic.mgc"),
    // fontconfig: its configuration.
    ("FONTCONFIG_PATH", "etc/fonts"),
    // Mesa (libgl1-mesa-dri): the DRI drivers.
    ("LIBGL_DRIVERS_PATH", "usr/lib/*-linux-gnu/dri"),
    // Tesseract OCR: the language data.
    ("TESSDATA_PREFIX", "usr/share/tesseract-ocr/*/tessdata"),
    // GDAL and PROJ: their data files.
    ("GDAL_DATA", "usr/share/gdal"),
    ("PROJ_DATA", "usr/share/proj"),
];

/// The dirs of an unpacked tree that go into the env.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Paths {
    /// Dirs with shared libraries.
    pub lib: Vec<PathBuf>,
    /// Dirs with programs.
    pub bin: Vec<PathBuf>,
    /// Dirs with C headers.
    pub include: Vec<PathBuf>,
    /// Dirs with pkg-config files.
    pub pkg_config: Vec<PathBuf>,
    /// [`DATA_VARS`] the tree has.
    pub data: Vec<(&'static str, PathBuf)>,
}

impl Paths {
    /// Finds them under `root`.
    #[must_use]
    pub fn of(root: &Path) -> Self {
        let mut paths = Self::default();
        for base in ["usr/lib", "lib"] {
            for multiarch in children(&root.join(base), |name| name.contains("-linux-gnu")) {
                paths.lib.push(multiarch);
            }
            let dir = root.join(base);
            if has_libraries(&dir) {
                paths.lib.push(dir);
            }
        }
        paths.bin = ["usr/bin", "bin"]
            .iter()
            .map(|d| root.join(d))
            .filter(|d| d.is_dir())
            .collect();
        let include = root.join("usr/include");
        if include.is_dir() {
            paths.include.push(include.clone());
            paths
                .include
                .extend(children(&include, |name| name.contains("-linux-gnu")));
        }
        for lib in &paths.lib {
            let dir = lib.join("pkgconfig");
            if dir.is_dir() {
                paths.pkg_config.push(dir);
            }
        }
        let shared = root.join("usr/share/pkgconfig");
        if shared.is_dir() {
            paths.pkg_config.push(shared);
        }
        for (name, pattern) in DATA_VARS {
            if let Some(found) = glob(root, pattern) {
                paths.data.push((name, found));
            }
        }
        paths
    }

    /// Writes the env files into `layer`.
    ///
    /// # Errors
    ///
    /// [`LayerError`] when a file cannot be written.
    pub fn write_env(&self, layer: &Layer) -> Result<(), LayerError> {
        let joined = |dirs: &[PathBuf]| {
            std::env::join_paths(dirs)
                .unwrap_or_else(|_| dirs.first().cloned().unwrap_or_default().into_os_string())
        };
        let both = layer.env();
        if !self.lib.is_empty() {
            both.prepend("LD_LIBRARY_PATH", joined(&self.lib), ":")?;
        }
        if !self.bin.is_empty() {
            both.prepend("PATH", joined(&self.bin), ":")?;
        }
        for (name, path) in &self.data {
            both.set_default(name, path)?;
        }
        let build = layer.build_env();
        if !self.lib.is_empty() {
            build.prepend("LIBRARY_PATH", joined(&self.lib), ":")?;
        }
        if !self.include.is_empty() {
            build.prepend("CPATH", joined(&self.include), ":")?;
        }
        if !self.pkg_config.is_empty() {
            build.prepend("PKG_CONFIG_PATH", joined(&self.pkg_config), ":")?;
        }
        Ok(())
    }
}

fn children(dir: &Path, wanted: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.path().is_dir() && wanted(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// Whether `dir` itself holds a shared library (`*.so`, `*.so.*`).
fn has_libraries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            Path::new(&name).extension().is_some_and(|e| e == "so") || name.contains(".so.")
        })
    })
}

/// The first path under `root` matching `pattern` (`*` matches one whole component).
fn glob(root: &Path, pattern: &str) -> Option<PathBuf> {
    let mut candidates = vec![root.to_path_buf()];
    for part in pattern.split('/') {
        candidates = candidates
            .into_iter()
            .flat_map(|dir| {
                if part.contains('*') {
                    let (before, after) = part.split_once('*').unwrap_or((part, ""));
                    children(&dir, |name| {
                        name.len() >= before.len() + after.len()
                            && name.starts_with(before)
                            && name.ends_with(after)
                    })
                } else {
                    let path = dir.join(part);
                    if std::fs::symlink_metadata(&path).is_ok() {
                        vec![path]
                    } else {
                        Vec::new()
                    }
                }
            })
            .collect();
    }
    candidates.into_iter().next()
}
