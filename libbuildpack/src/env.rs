//! An environment as the lifecycle computes it: apply layers' root dirs and env files to a
//! base env, in the spec's order.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// A set of environment variables that layers' env files and root dirs can be applied to.
///
/// [`BuildContext::build_env`](crate::BuildContext::build_env) gives the env that later steps
/// of the same build see; commands run with [`BuildContext::run`](crate::BuildContext::run)
/// get it.
///
/// ```
/// use libbuildpack::env::Env;
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir_all(dir.path().join("env"))?;
/// std::fs::write(dir.path().join("env/GREETING.default"), "hello")?;
/// std::fs::write(dir.path().join("env/PATH.prepend"), "/opt/x/bin")?;
/// std::fs::write(dir.path().join("env/PATH.delim"), ":")?;
/// let mut env = Env::from_iter([("PATH", "/usr/bin")]);
/// env.apply_env_dir(&dir.path().join("env"))?;
/// assert_eq!(env.get("PATH").unwrap(), "/opt/x/bin:/usr/bin");
/// assert_eq!(env.get("GREETING").unwrap(), "hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<OsString, OsString>,
}

/// An env dir could not be read.
#[derive(Debug, thiserror::Error)]
#[error("could not read the env files in {}", path.display())]
pub struct ReadEnvError {
    /// The directory or file.
    pub path: PathBuf,
    /// Why reading failed.
    pub source: std::io::Error,
}

#[cfg(unix)]
const PATH_SEPARATOR: &str = ":";
#[cfg(not(unix))]
const PATH_SEPARATOR: &str = ";";

impl Env {
    /// The current process's environment.
    #[must_use]
    pub fn from_process() -> Self {
        std::env::vars_os().collect()
    }

    /// The value of `name`.
    #[must_use]
    pub fn get(&self, name: impl AsRef<OsStr>) -> Option<&OsStr> {
        self.vars.get(name.as_ref()).map(OsString::as_os_str)
    }

    /// Sets `name` to `value`.
    pub fn insert(&mut self, name: impl Into<OsString>, value: impl Into<OsString>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: impl AsRef<OsStr>) {
        self.vars.remove(name.as_ref());
    }

    /// All variables, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// Prepends `value` to `name` with `delim`; with no current (or an empty) value, sets it.
    pub fn prepend(&mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>, delim: &OsStr) {
        let name = name.as_ref();
        let joined = match self.vars.get(name).filter(|v| !v.is_empty()) {
            Some(old) => join(value.as_ref(), delim, old),
            None => value.as_ref().to_os_string(),
        };
        self.vars.insert(name.to_os_string(), joined);
    }

    /// Appends `value` to `name` with `delim`; with no current (or an empty) value, sets it.
    pub fn append(&mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>, delim: &OsStr) {
        let name = name.as_ref();
        let joined = match self.vars.get(name).filter(|v| !v.is_empty()) {
            Some(old) => join(old, delim, value.as_ref()),
            None => value.as_ref().to_os_string(),
        };
        self.vars.insert(name.to_os_string(), joined);
    }

    /// Applies a layer's root dirs as a build does: `bin` → `PATH`; `lib` →
    /// `LD_LIBRARY_PATH` and `LIBRARY_PATH`; `include` → `CPATH`; `pkgconfig` →
    /// `PKG_CONFIG_PATH`; each prepended with the OS path separator when the dir exists.
    pub fn apply_build_root_dirs(&mut self, layer_dir: &Path) {
        let sep = OsStr::new(PATH_SEPARATOR);
        for (dir, vars) in [
            ("bin", &["PATH"][..]),
            ("lib", &["LD_LIBRARY_PATH", "LIBRARY_PATH"][..]),
            ("include", &["CPATH"][..]),
            ("pkgconfig", &["PKG_CONFIG_PATH"][..]),
        ] {
            let path = layer_dir.join(dir);
            if path.is_dir() {
                for var in vars {
                    self.prepend(var, &path, sep);
                }
            }
        }
    }

    /// Applies the env files of one directory (`env/`, `env.build/`, ...), as the lifecycle
    /// does: the variable is the file name up to the first `.`; no suffix and `.override`
    /// override, `.default` sets only an unset or empty variable, `.append`/`.prepend` join
    /// with the contents of `<NAME>.delim` in the same directory (nothing when absent).
    /// Unknown suffixes and subdirectories are ignored; contents are used byte for byte. A
    /// missing directory changes nothing.
    ///
    /// # Errors
    ///
    /// [`ReadEnvError`] when the directory or a file in it cannot be read.
    pub fn apply_env_dir(&mut self, dir: &Path) -> Result<(), ReadEnvError> {
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ReadEnvError { path, source }
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(err(dir)(e)),
        };
        let mut files = BTreeMap::new();
        for entry in entries {
            let entry = entry.map_err(err(dir))?;
            let path = entry.path();
            // Follows symlinks, as the lifecycle does.
            if std::fs::metadata(&path).map_err(err(&path))?.is_dir() {
                continue;
            }
            let value = std::fs::read(&path).map_err(err(&path))?;
            files.insert(entry.file_name(), bytes_to_os(value));
        }
        for (file, value) in &files {
            let file = file.to_string_lossy();
            let (name, action) = match file.split_once('.') {
                Some((name, action)) => (name, action),
                None => (file.as_ref(), "override"),
            };
            if name.is_empty() {
                continue;
            }
            let delim = files
                .get(OsStr::new(&format!("{name}.delim")))
                .cloned()
                .unwrap_or_default();
            match action {
                "override" => self.insert(name, value.clone()),
                "default" if self.get(name).is_none_or(OsStr::is_empty) => {
                    self.insert(name, value.clone());
                }
                "append" => self.append(name, value, &delim),
                "prepend" => self.prepend(name, value, &delim),
                _ => {}
            }
        }
        Ok(())
    }

    /// Applies one layer as later buildpacks of a build see it: root dirs, then `env/`, then
    /// `env.build/`.
    ///
    /// # Errors
    ///
    /// [`ReadEnvError`] when an env dir cannot be read.
    pub fn apply_build_layer(&mut self, layer_dir: &Path) -> Result<(), ReadEnvError> {
        self.apply_build_root_dirs(layer_dir);
        self.apply_env_dir(&layer_dir.join("env"))?;
        self.apply_env_dir(&layer_dir.join("env.build"))
    }

    /// Applies one layer as a launched process of type `process` sees it: `bin` → `PATH`,
    /// `lib` → `LD_LIBRARY_PATH`, then `env/`, `env.launch/` and `env.launch/<process>/`.
    ///
    /// # Errors
    ///
    /// [`ReadEnvError`] when an env dir cannot be read.
    pub fn apply_launch_layer(
        &mut self,
        layer_dir: &Path,
        process: Option<&str>,
    ) -> Result<(), ReadEnvError> {
        let sep = OsStr::new(PATH_SEPARATOR);
        for (dir, var) in [("bin", "PATH"), ("lib", "LD_LIBRARY_PATH")] {
            let path = layer_dir.join(dir);
            if path.is_dir() {
                self.prepend(var, &path, sep);
            }
        }
        self.apply_env_dir(&layer_dir.join("env"))?;
        self.apply_env_dir(&layer_dir.join("env.launch"))?;
        if let Some(process) = process {
            self.apply_env_dir(&layer_dir.join("env.launch").join(process))?;
        }
        Ok(())
    }
}

fn join(a: &OsStr, delim: &OsStr, b: &OsStr) -> OsString {
    let mut out = a.to_os_string();
    out.push(delim);
    out.push(b);
    out
}

#[cfg(unix)]
fn bytes_to_os(bytes: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes)
}

#[cfg(not(unix))]
fn bytes_to_os(bytes: Vec<u8>) -> OsString {
    String::from_utf8_lossy(&bytes).into_owned().into()
}

impl<K: Into<OsString>, V: Into<OsString>> FromIterator<(K, V)> for Env {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Self {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, value) in files {
            std::fs::write(dir.path().join(name), value).unwrap();
        }
        dir
    }

    fn applied(base: &[(&str, &str)], files: &[(&str, &str)]) -> Env {
        let dir = dir_with(files);
        let mut env: Env = base.iter().copied().collect();
        env.apply_env_dir(dir.path()).unwrap();
        env
    }

    fn get(env: &Env, name: &str) -> Option<String> {
        env.get(name).map(|v| v.to_string_lossy().into_owned())
    }

    #[test]
    fn override_with_and_without_suffix() {
        let env = applied(
            &[("A", "old"), ("B", "old")],
            &[("A", "new"), ("B.override", "new")],
        );
        assert_eq!(get(&env, "A").as_deref(), Some("new"));
        assert_eq!(get(&env, "B").as_deref(), Some("new"));
    }

    #[test]
    fn append_without_delim_concatenates() {
        let env = applied(&[("A", "old")], &[("A.append", "new")]);
        assert_eq!(get(&env, "A").as_deref(), Some("oldnew"));
    }

    #[test]
    fn append_with_delim() {
        let env = applied(&[("A", "old")], &[("A.append", "new"), ("A.delim", ":")]);
        assert_eq!(get(&env, "A").as_deref(), Some("old:new"));
    }

    #[test]
    fn prepend_with_delim_and_empty_old_value() {
        let env = applied(&[("A", "old")], &[("A.prepend", "new"), ("A.delim", ":")]);
        assert_eq!(get(&env, "A").as_deref(), Some("new:old"));
        let env = applied(&[("A", "")], &[("A.prepend", "new"), ("A.delim", ":")]);
        assert_eq!(get(&env, "A").as_deref(), Some("new"));
        let env = applied(&[], &[("A.prepend", "new"), ("A.delim", ":")]);
        assert_eq!(get(&env, "A").as_deref(), Some("new"));
    }

    #[test]
    fn default_only_when_unset_or_empty() {
        let env = applied(
            &[("SET", "x"), ("EMPTY", "")],
            &[
                ("SET.default", "d"),
                ("EMPTY.default", "d"),
                ("UNSET.default", "d"),
            ],
        );
        assert_eq!(get(&env, "SET").as_deref(), Some("x"));
        assert_eq!(get(&env, "EMPTY").as_deref(), Some("d"));
        assert_eq!(get(&env, "UNSET").as_deref(), Some("d"));
    }

    #[test]
    fn unknown_suffix_is_ignored() {
        let env = applied(&[], &[("FOO.bar", "x")]);
        assert_eq!(get(&env, "FOO"), None);
        assert_eq!(get(&env, "FOO.bar"), None);
    }

    #[test]
    fn name_is_everything_before_first_dot() {
        let env = applied(&[("JAVA_OPTS", "-Xa")], &[("JAVA_OPTS.append", " -Xb")]);
        assert_eq!(get(&env, "JAVA_OPTS").as_deref(), Some("-Xa -Xb"));
    }

    #[test]
    fn contents_are_byte_exact() {
        let env = applied(&[], &[("A", " spaced\n")]);
        assert_eq!(get(&env, "A").as_deref(), Some(" spaced\n"));
    }

    #[test]
    fn delim_from_other_dir_is_not_used() {
        let layer = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(layer.path().join("env")).unwrap();
        std::fs::create_dir_all(layer.path().join("env.launch")).unwrap();
        std::fs::write(layer.path().join("env/A.delim"), ":").unwrap();
        std::fs::write(layer.path().join("env.launch/A.append"), "new").unwrap();
        let mut env: Env = [("A", "old")].into_iter().collect();
        env.apply_launch_layer(layer.path(), None).unwrap();
        assert_eq!(get(&env, "A").as_deref(), Some("oldnew"));
    }

    #[test]
    fn build_layer_order_root_dirs_env_then_env_build() {
        let layer = tempfile::tempdir().unwrap();
        let l = layer.path();
        for d in [
            "bin",
            "lib",
            "include",
            "pkgconfig",
            "env",
            "env.build",
            "env.launch",
        ] {
            std::fs::create_dir_all(l.join(d)).unwrap();
        }
        std::fs::write(l.join("env/X"), "env").unwrap();
        std::fs::write(l.join("env.build/X"), "env.build").unwrap();
        std::fs::write(l.join("env.launch/L"), "launch").unwrap();
        let mut env: Env = [("PATH", "/usr/bin")].into_iter().collect();
        env.apply_build_layer(l).unwrap();
        let bin = l.join("bin").display().to_string();
        assert_eq!(get(&env, "PATH"), Some(format!("{bin}:/usr/bin")));
        assert_eq!(
            get(&env, "LD_LIBRARY_PATH"),
            Some(l.join("lib").display().to_string())
        );
        assert_eq!(
            get(&env, "LIBRARY_PATH"),
            Some(l.join("lib").display().to_string())
        );
        assert_eq!(
            get(&env, "CPATH"),
            Some(l.join("include").display().to_string())
        );
        assert_eq!(
            get(&env, "PKG_CONFIG_PATH"),
            Some(l.join("pkgconfig").display().to_string())
        );
        assert_eq!(get(&env, "X").as_deref(), Some("env.build"));
        assert_eq!(get(&env, "L"), None, "env.launch never applies at build");
    }

    #[test]
    fn env_build_never_applies_at_launch() {
        let layer = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(layer.path().join("env.build")).unwrap();
        std::fs::write(layer.path().join("env.build/ONLY_BUILD"), "x").unwrap();
        let mut env = Env::default();
        env.apply_launch_layer(layer.path(), Some("web")).unwrap();
        assert_eq!(get(&env, "ONLY_BUILD"), None);
    }

    #[test]
    fn process_env_overrides_launch_and_env() {
        let layer = tempfile::tempdir().unwrap();
        let l = layer.path();
        for d in ["env", "env.launch/web", "env.launch/worker"] {
            std::fs::create_dir_all(l.join(d)).unwrap();
        }
        std::fs::write(l.join("env/X"), "env").unwrap();
        std::fs::write(l.join("env.launch/X"), "launch").unwrap();
        std::fs::write(l.join("env.launch/web/X"), "web").unwrap();
        let mut web = Env::default();
        web.apply_launch_layer(l, Some("web")).unwrap();
        assert_eq!(get(&web, "X").as_deref(), Some("web"));
        let mut worker = Env::default();
        worker.apply_launch_layer(l, Some("worker")).unwrap();
        assert_eq!(get(&worker, "X").as_deref(), Some("launch"));
        let mut env_only = Env::default();
        env_only.apply_env_dir(&l.join("env")).unwrap();
        assert_eq!(get(&env_only, "X").as_deref(), Some("env"));
    }

    #[test]
    fn later_layer_wins_override_and_earlier_first_for_append() {
        let a = dir_with(&[("O", "a"), ("P.append", "a"), ("P.delim", ",")]);
        let b = dir_with(&[("O", "b"), ("P.append", "b"), ("P.delim", ",")]);
        let mut env = Env::default();
        env.apply_env_dir(a.path()).unwrap();
        env.apply_env_dir(b.path()).unwrap();
        assert_eq!(get(&env, "O").as_deref(), Some("b"));
        assert_eq!(get(&env, "P").as_deref(), Some("a,b"));
    }
}
