//! The error of a file operation that names what was done and to which file: the `Io` variant a buildpack's
//! error enum would otherwise declare for itself.

use std::path::{Path, PathBuf};

/// A file operation failed: `could not <action> <path>`, with the I/O error as its source (so the cause is
/// printed once, by whoever prints the chain).
///
/// ```
/// use std::path::Path;
/// use libbuildpack::toolbox::file::FileError;
///
/// #[derive(Debug, thiserror::Error)]
/// enum DepsError {
///     #[error(transparent)]
///     File(#[from] FileError),
/// }
///
/// fn read_lock(path: &Path) -> Result<String, DepsError> {
///     Ok(std::fs::read_to_string(path).map_err(FileError::on("read", path))?)
/// }
///
/// let error = read_lock(Path::new("/nonexistent/deps.lock")).unwrap_err();
/// assert_eq!(error.to_string(), "could not read /nonexistent/deps.lock");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("could not {action} {}", path.display())]
pub struct FileError {
    /// What was being done (`read`, `copy`, `remove`...).
    pub action: &'static str,
    /// The file or dir.
    pub path: PathBuf,
    /// Why it failed.
    #[source]
    pub source: std::io::Error,
}

impl FileError {
    /// A `map_err` adapter: the I/O error of `action` on `path`, as a [`FileError`].
    pub fn on(action: &'static str, path: impl AsRef<Path>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.as_ref().to_path_buf();
        move |source| Self {
            action,
            path,
            source,
        }
    }
}
