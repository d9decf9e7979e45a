//! Reading and writing TOML files with errors that point at the field, line and column.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{TomlFileError, line_column};

/// Parses `text` as `T`. `path` is used only to name the file in errors.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, TomlFileError> {
    let deserializer =
        toml::Deserializer::parse(text).map_err(|e| parse_error(text, path, None, &e))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = e.path().to_string();
        let field = (field != "." && !field.is_empty()).then_some(field);
        parse_error(text, path, field, e.inner())
    })
}

fn parse_error(
    text: &str,
    path: &Path,
    field: Option<String>,
    error: &toml::de::Error,
) -> TomlFileError {
    let (line, column) = match error.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            (Some(line), Some(column))
        }
        None => (None, None),
    };
    TomlFileError::Parse {
        path: path.to_path_buf(),
        field,
        line,
        column,
        message: error.message().trim_end().to_string(),
    }
}

/// Reads and parses the file at `path`.
pub(crate) fn read<T: DeserializeOwned>(path: &Path) -> Result<T, TomlFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| TomlFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Serializes `value` as a TOML document. `path` only names the file in errors.
///
/// The text is parsed back before it is returned: the writer accepts values the reader refuses (tables or
/// arrays nested deeper than the parser's recursion limit), and a file that cannot be read back would fail
/// the next build rather than this one.
pub(crate) fn to_string<T: Serialize>(value: &T, path: &Path) -> Result<String, TomlFileError> {
    let text = toml::to_string(value).map_err(|source| TomlFileError::Serialize {
        path: path.to_path_buf(),
        source,
    })?;
    if let Err(error) = toml::from_str::<toml::Table>(&text) {
        return Err(TomlFileError::Unreadable {
            path: path.to_path_buf(),
            message: error.message().trim_end().to_owned(),
        });
    }
    Ok(text)
}

/// Writes `contents` to `path` atomically: to a temporary file in the same directory, then
/// renamed over the target.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), TomlFileError> {
    let write_err = |source| TomlFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| write_err(std::io::Error::other("the path has no file name")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp: PathBuf = path.with_file_name(tmp_name);
    std::fs::write(&tmp, contents).map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write_err(e)
    })
}

/// Serializes `value` and writes it to `path` atomically.
pub(crate) fn write<T: Serialize>(value: &T, path: &Path) -> Result<(), TomlFileError> {
    let text = to_string(value, path)?;
    write_atomic(path, text.as_bytes())
}

/// Implements the standard `read` / `from_toml_str` / `to_toml_string` / `write` functions for a
/// file format type that needs no extra validation.
macro_rules! toml_file_impl {
    ($ty:ty, $file:literal) => {
        impl $ty {
            #[doc = concat!("Reads and parses a `", $file, "` file.")]
            ///
            /// # Errors
            ///
            /// [`TomlFileError`](crate::data::TomlFileError) when the file cannot be read, is
            /// not valid TOML, or a field has an invalid value.
            pub fn read(path: impl AsRef<std::path::Path>) -> Result<Self, $crate::data::TomlFileError> {
                $crate::data::toml_file::read(path.as_ref())
            }

            #[doc = concat!("Parses the text of a `", $file, "` file; `path` only names the file in errors.")]
            ///
            /// # Errors
            ///
            /// [`TomlFileError::Parse`](crate::data::TomlFileError::Parse) when the text is not
            /// valid TOML or a field has an invalid value.
            pub fn from_toml_str(
                text: &str,
                path: impl AsRef<std::path::Path>,
            ) -> Result<Self, $crate::data::TomlFileError> {
                $crate::data::toml_file::parse(text, path.as_ref())
            }

            #[doc = concat!("Writes this value as the text of a `", $file, "` file.")]
            ///
            /// # Errors
            ///
            /// [`TomlFileError::Serialize`](crate::data::TomlFileError::Serialize) when a value
            /// cannot be represented in TOML.
            pub fn to_toml_string(&self) -> Result<String, $crate::data::TomlFileError> {
                $crate::data::toml_file::to_string(self, std::path::Path::new($file))
            }

            #[doc = concat!("Writes this value to `path` as a `", $file, "` file, atomically.")]
            ///
            /// # Errors
            ///
            /// [`TomlFileError`](crate::data::TomlFileError) when the value cannot be
            /// serialized or the file cannot be written.
            pub fn write(&self, path: impl AsRef<std::path::Path>) -> Result<(), $crate::data::TomlFileError> {
                $crate::data::toml_file::write(self, path.as_ref())
            }
        }
    };
}

pub(crate) use toml_file_impl;
