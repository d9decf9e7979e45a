//! project.toml's group entry that holds the inline script, replaced by one that names the new crate: the rest
//! of the file stays as written (comments too), and the original is kept as `project.toml.bak`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use libbuildpack::data::ProjectToml;
use libbuildpack::toolbox::file::FileError;

/// What failed while rewriting project.toml.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// The entry is not written as a `[[io.buildpacks.group]]` table, so its text cannot be found.
    #[error(
        "{path}: io.buildpacks.group[{index}] is not written as a [[io.buildpacks.group]] table, so rpack cannot \
         replace it in place"
    )]
    NotATable {
        /// project.toml.
        path: PathBuf,
        /// The entry.
        index: usize,
    },
    /// The rewritten text did not read back as expected (a bug, or a file rpack misread): nothing was written.
    #[error(
        "{path}: the rewritten project.toml would not read back as the same project with the new group entry ({why})"
    )]
    Check {
        /// project.toml.
        path: PathBuf,
        /// What differed.
        why: String,
    },
    /// The backup exists already.
    #[error("{path} exists already: it may hold an earlier original")]
    BackupExists {
        /// The backup.
        path: PathBuf,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] FileError),
}

impl RewriteError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotATable { .. } | Self::Check { .. } => Some(
                "edit project.toml by hand: replace the entry with `[[io.buildpacks.group]]` and `uri = \"<the crate's dir>\"`"
                    .to_owned(),
            ),
            Self::BackupExists { .. } => Some("move the backup away, then run the command again".to_owned()),
            Self::Io(_) => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    MultiBasic,
    MultiLiteral,
}

/// Table headers of a TOML text outside strings: (byte offset of the line, is `[[...]]`, the dotted name without
/// spaces).
fn headers(text: &str) -> Vec<(usize, bool, String)> {
    let mut out = Vec::new();
    let mut state = State::Normal;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if state == State::Normal {
            let trimmed = line.trim_start();
            if trimmed.starts_with('[') {
                let array = trimmed.starts_with("[[");
                let inner = trimmed.trim_start_matches('[');
                if let Some(end) = inner.find(']') {
                    let name: String = inner[..end]
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    out.push((start, array, name.replace('"', "")));
                }
            }
        }
        state = scan_line(line, state);
    }
    out
}

/// The string state at the end of `line`, given the state at its start.
fn scan_line(line: &str, mut state: State) -> State {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match state {
            State::Normal => match bytes[i] {
                b'#' => return state,
                b'"' if line[i..].starts_with("\"\"\"") => {
                    state = State::MultiBasic;
                    i += 3;
                    continue;
                }
                b'\'' if line[i..].starts_with("'''") => {
                    state = State::MultiLiteral;
                    i += 3;
                    continue;
                }
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'\'' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'\'' {
                        i += 1;
                    }
                }
                _ => {}
            },
            State::MultiBasic => {
                if bytes[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if line[i..].starts_with("\"\"\"") {
                    i += 3;
                    // Up to two more quotes belong to the string.
                    while i < bytes.len() && bytes[i] == b'"' {
                        i += 1;
                    }
                    state = State::Normal;
                    continue;
                }
            }
            State::MultiLiteral => {
                if line[i..].starts_with("'''") {
                    i += 3;
                    while i < bytes.len() && bytes[i] == b'\'' {
                        i += 1;
                    }
                    state = State::Normal;
                    continue;
                }
            }
        }
        i += 1;
    }
    state
}

/// `text` with group entry `index` replaced by an entry with `uri` (and `comment` lines above it).
///
/// # Errors
/// [`RewriteError::NotATable`] when the entry has no `[[io.buildpacks.group]]` header, [`RewriteError::Check`]
/// when the result does not read back as the same project with that one entry changed.
pub fn rewritten(
    path: &Path,
    text: &str,
    index: usize,
    uri: &str,
    comment: &str,
) -> Result<String, RewriteError> {
    let headers = headers(text);
    let entries: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, (_, array, name))| *array && name == "io.buildpacks.group")
        .map(|(i, _)| i)
        .collect();
    let not_table = || RewriteError::NotATable {
        path: path.to_owned(),
        index,
    };
    let &header = entries.get(index).ok_or_else(not_table)?;
    let start = headers[header].0;
    let end = headers[header + 1..]
        .iter()
        // `[io.buildpacks.group.script]` and other tables under the entry belong to it; any other header,
        // the next `[[io.buildpacks.group]]` too, ends it.
        .find(|(_, _, name)| !name.starts_with("io.buildpacks.group."))
        .map_or(text.len(), |(at, _, _)| *at);
    // Comment and blank lines right before the next table belong to it.
    let region = &text[start..end];
    let mut keep_from = region.len();
    for line in region
        .split_inclusive('\n')
        .collect::<Vec<_>>()
        .iter()
        .rev()
    {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            keep_from -= line.len();
        } else {
            break;
        }
    }
    let mut replacement = String::new();
    for line in comment.lines() {
        replacement.push_str("# ");
        replacement.push_str(line);
        replacement.push('\n');
    }
    replacement.push_str("[[io.buildpacks.group]]\n");
    let _ = writeln!(replacement, "uri = {}", toml::Value::String(uri.to_owned()));
    let new = format!(
        "{}{replacement}{}",
        &text[..start],
        &text[start + keep_from..]
    );
    check(path, text, &new, index, uri)?;
    Ok(new)
}

/// The new text reads as the old project with entry `index` now `uri = ...` and nothing else changed.
fn check(path: &Path, old: &str, new: &str, index: usize, uri: &str) -> Result<(), RewriteError> {
    let fail = |why: String| RewriteError::Check {
        path: path.to_owned(),
        why,
    };
    let old = ProjectToml::from_toml_str(old, path).map_err(|e| fail(e.to_string()))?;
    let new = ProjectToml::from_toml_str(new, path).map_err(|e| fail(e.to_string()))?;
    let mut expected = old;
    let io = expected
        .io_buildpacks
        .as_mut()
        .ok_or_else(|| fail("no [io.buildpacks]".to_owned()))?;
    let entry = io
        .group
        .get_mut(index)
        .ok_or_else(|| fail(format!("no group entry {index}")))?;
    *entry = libbuildpack::data::project_toml::ProjectBuildpack {
        uri: Some(uri.to_owned()),
        ..Default::default()
    };
    if new != expected {
        return Err(fail("another part of the file changed".to_owned()));
    }
    Ok(())
}

/// `to` relative to the dir `from` (both made absolute first), with `/` separators; `to` itself when the two
/// share nothing but `/`.
#[must_use]
pub(crate) fn relative(from: &Path, to: &Path) -> String {
    let absolute = |p: &Path| {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
        p.canonicalize().unwrap_or(p)
    };
    let from = absolute(from);
    let to = absolute(to);
    let from_parts: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let common = from_parts
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common <= 1 {
        return to.display().to_string();
    }
    let mut parts: Vec<String> = vec!["..".to_owned(); from_parts.len() - common];
    parts.extend(
        to_parts[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// Rewrites `project` (see [`rewritten`]), first copying it to `project.toml.bak`; the new file replaces the old
/// one in one rename. Returns the backup's path.
///
/// # Errors
/// As [`rewritten`]; [`RewriteError::BackupExists`] when there is a backup already; [`RewriteError::Io`].
pub fn rewrite(
    project: &Path,
    index: usize,
    uri: &str,
    comment: &str,
) -> Result<PathBuf, RewriteError> {
    let text = fs_err::read_to_string(project).map_err(FileError::on("read", project))?;
    let new = rewritten(project, &text, index, uri, comment)?;
    let backup = project.with_file_name(format!(
        "{}.bak",
        project.file_name().unwrap_or_default().to_string_lossy()
    ));
    if backup.exists() {
        return Err(RewriteError::BackupExists { path: backup });
    }
    fs_err::copy(project, &backup).map_err(FileError::on("write", &backup))?;
    let dir = project.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = crate::toolbox::scratch::file_in(dir, ".project.toml.")
        .map_err(FileError::on("write", project))?;
    temp.write_all(new.as_bytes())
        .map_err(FileError::on("write", project))?;
    temp.persist(project)
        .map_err(|e| FileError::on("write", project)(e.into()))?;
    Ok(backup)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# The project.
[_]
schema-version = "0.2"

[[io.buildpacks.group]]
id = "example/first"

[[io.buildpacks.group]]
id = "example/inline"
[io.buildpacks.group.script]
api = "0.10"
inline = """
cat > "$CNB_LAYERS_DIR/launch.toml" <<EOF
[[processes]]
type = "web"
EOF
"""

# The build env.
[[io.buildpacks.build.env]]
name = "A"
value = "1"
"#;

    #[test]
    fn only_the_inline_entry_changes_and_comments_stay() {
        let new = rewritten(Path::new("project.toml"), TEXT, 1, "../my-bp", "now Rust").unwrap();
        assert_eq!(
            new,
            TEXT.replace(
                "[[io.buildpacks.group]]\nid = \"example/inline\"\n[io.buildpacks.group.script]\napi = \"0.10\"\ninline = \"\"\"\ncat > \"$CNB_LAYERS_DIR/launch.toml\" <<EOF\n[[processes]]\ntype = \"web\"\nEOF\n\"\"\"\n",
                "# now Rust\n[[io.buildpacks.group]]\nuri = \"../my-bp\"\n"
            )
        );
    }

    #[test]
    fn a_group_written_inline_is_refused() {
        let text = "[io.buildpacks]\ngroup = [{ id = \"x/y\", script = { api = \"0.10\", inline = \"true\" } }]\n";
        assert!(matches!(
            rewritten(Path::new("project.toml"), text, 0, "bp", ""),
            Err(RewriteError::NotATable { .. })
        ));
    }

    #[test]
    fn writes_a_backup_once() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project.toml");
        std::fs::write(&project, TEXT).unwrap();
        let backup = rewrite(&project, 1, "bp", "").unwrap();
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), TEXT);
        assert!(
            std::fs::read_to_string(&project)
                .unwrap()
                .contains("uri = \"bp\"")
        );
        std::fs::write(&project, TEXT).unwrap();
        assert!(matches!(
            rewrite(&project, 1, "bp", ""),
            Err(RewriteError::BackupExists { .. })
        ));
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/a/b/app"), Path::new("/a/b/bp")),
            "../bp"
        );
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/b/bp")), "bp");
    }
}
