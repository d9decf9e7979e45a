//! A private copy of a fixture app, so a test can change it (or a build can write into it) without touching
//! the checked-in files.

use std::path::Path;

use crate::error::TestError;

/// Copies the app at `from` (relative paths are taken from the crate's dir, as `cargo test` runs there) into a
/// new temp dir named after it, leaving out every file or dir whose name is in `exclude` (at any depth: what
/// trying the app by hand leaves behind, such as `.venv` or a `uv.lock` the test makes itself). Dirs are
/// copied recursively, symlinks as symlinks. The temp dir is removed when the returned value is dropped.
///
/// ```no_run
/// use libbuildpack_test::{BuildConfig, TestRunner, copy_app};
///
/// # fn main() -> Result<(), libbuildpack_test::TestError> {
/// let app = copy_app("../../examples/apps/fastapi", &[".venv", "uv.lock"])?;
/// std::fs::write(app.path().join("extra.txt"), "changed by the test\n")
///     .map_err(|source| libbuildpack_test::TestError::Io { action: "write extra.txt".into(), source })?;
/// let build = TestRunner::shared()?.build(BuildConfig::new(app.path()))?;
/// # let _ = build;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`TestError::CopyApp`] when the temp dir cannot be made or a file cannot be read or written.
pub fn copy_app(from: impl AsRef<Path>, exclude: &[&str]) -> Result<tempfile::TempDir, TestError> {
    let from = from.as_ref();
    let name: String = from
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let error = |to: &Path| {
        let (from, to) = (from.to_owned(), to.to_owned());
        move |source| TestError::CopyApp { from, to, source }
    };
    let dir = tempfile::Builder::new()
        .prefix(&format!("{}-", name.trim_matches('-')))
        .tempdir()
        .map_err(error(&std::env::temp_dir()))?;
    libbuildpack::toolbox::copy::TreeCopy::new()
        .filter(|path, _| {
            path.file_name()
                .is_none_or(|name| !exclude.iter().any(|excluded| name == *excluded))
        })
        .run(from, dir.path())
        .map_err(|e| error(dir.path())(e.into()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_tree_without_the_excluded_names() {
        let app = tempfile::tempdir().unwrap();
        let root = app.path().join("my app");
        for (path, text) in [
            ("main.py", "print()\n"),
            ("pkg/mod.py", "x = 1\n"),
            (".venv/bin/python", "binary\n"),
            ("pkg/uv.lock", "stale\n"),
        ] {
            std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
            std::fs::write(root.join(path), text).unwrap();
        }
        std::os::unix::fs::symlink("main.py", root.join("link.py")).unwrap();

        let copy = copy_app(&root, &[".venv", "uv.lock"]).unwrap();

        assert!(
            copy.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("my-app-")
        );
        assert_eq!(
            std::fs::read_to_string(copy.path().join("pkg/mod.py")).unwrap(),
            "x = 1\n"
        );
        assert_eq!(
            std::fs::read_link(copy.path().join("link.py")).unwrap(),
            Path::new("main.py")
        );
        assert!(!copy.path().join(".venv").exists());
        assert!(!copy.path().join("pkg/uv.lock").exists());
    }

    #[test]
    fn a_missing_app_is_an_error_naming_it() {
        let error = copy_app("/nonexistent/app", &[]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("could not copy the app /nonexistent/app to "),
            "{error}"
        );
    }
}
