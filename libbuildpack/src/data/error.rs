//! The error type shared by every file format in [`crate::data`].

use std::fmt::Write as _;
use std::path::PathBuf;

/// What went wrong reading, checking or writing one of the CNB files.
///
/// Every variant names the file. Parse errors also name the field and the line and column,
/// and carry a message that says what a valid value looks like.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TomlFileError {
    /// The file could not be read from disk.
    #[error("could not read {}", path.display())]
    Read {
        /// The file that was read.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a value in it is not valid for its field.
    #[error("{}", describe_parse(path, field.as_deref(), *line, *column, message))]
    Parse {
        /// The file that was parsed.
        path: PathBuf,
        /// The dotted path of the field that failed (`buildpack.id`, `order[0].group[1].version`),
        /// when known.
        field: Option<String>,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// 1-based column (in characters) of the problem, when known.
        column: Option<usize>,
        /// What is wrong, and what a valid value looks like.
        message: String,
    },
    /// The file parsed, but its contents break a rule of the format.
    #[error("{} is not valid: {problem}", path.display())]
    Invalid {
        /// The file that was checked.
        path: PathBuf,
        /// The rule that was broken, in words.
        problem: String,
    },
    /// The value could not be written as TOML.
    #[error("could not write {} as TOML", path.display())]
    Serialize {
        /// The file the TOML was meant for.
        path: PathBuf,
        /// Why serializing failed.
        source: toml::ser::Error,
    },
    /// The value serializes to TOML that TOML readers refuse (nested deeper than they read), so it
    /// is not written.
    #[error(
        "refusing to write {}: the TOML would not read back ({message}); nest metadata less deeply",
        path.display()
    )]
    Unreadable {
        /// The file the TOML was meant for.
        path: PathBuf,
        /// What the reader says.
        message: String,
    },
    /// The file could not be written to disk.
    #[error("could not write {}", path.display())]
    Write {
        /// The file that was written.
        path: PathBuf,
        /// Why writing failed.
        source: std::io::Error,
    },
}

fn describe_parse(
    path: &std::path::Path,
    field: Option<&str>,
    line: Option<usize>,
    column: Option<usize>,
    message: &str,
) -> String {
    let mut out = path.display().to_string();
    if let Some(line) = line {
        let _ = write!(out, ":{line}");
        if let Some(column) = column {
            let _ = write!(out, ":{column}");
        }
    }
    match field {
        Some(field) if !field.is_empty() => {
            let _ = write!(out, ": invalid `{field}`: {message}");
        }
        _ => {
            let _ = write!(out, ": {message}");
        }
    }
    out
}

/// Converts a byte offset into a 1-based (line, column) pair, counting columns in characters.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(line_column(text, 9), (2, 3));
        assert_eq!(line_column(text, 1000), (3, 1));
        // Inside a multi-byte character: clamp back to its start.
        assert_eq!(line_column(text, 8), (2, 2));
    }

    #[test]
    fn parse_error_names_path_line_and_field() {
        let err = TomlFileError::Parse {
            path: "/bp/buildpack.toml".into(),
            field: Some("buildpack.id".into()),
            line: Some(3),
            column: Some(6),
            message: "bad".into(),
        };
        assert_eq!(
            err.to_string(),
            "/bp/buildpack.toml:3:6: invalid `buildpack.id`: bad"
        );
    }
}
