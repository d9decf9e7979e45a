//! Reading a `Procfile`: one `type: command` per line.

use libbuildpack::prelude::*;

/// One Procfile entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The process type (`web`, `worker`, ...).
    pub kind: ProcessType,
    /// The command line, run by `bash -c`.
    pub command: String,
}

/// A Procfile line could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProcfileError {
    /// A line has no `:` between type and command.
    #[error("Procfile line {line}: expected `<type>: <command>`, e.g. `web: gunicorn app:app`")]
    MissingColon {
        /// 1-based line number.
        line: usize,
    },
    /// The type is not a valid process type.
    #[error(
        "Procfile line {line}: {kind:?} is not a valid process type (use letters, digits, '.', '_' or '-')"
    )]
    InvalidType {
        /// 1-based line number.
        line: usize,
        /// The rejected type.
        kind: String,
    },
    /// The command is empty.
    #[error("Procfile line {line}: the {kind} process has no command")]
    EmptyCommand {
        /// 1-based line number.
        line: usize,
        /// The process type.
        kind: String,
    },
    /// A type appears twice.
    #[error("Procfile line {line}: the {kind} process is declared twice; keep one")]
    Duplicate {
        /// 1-based line number.
        line: usize,
        /// The process type.
        kind: String,
    },
}

/// Parses a Procfile. Blank lines and `#` comments are skipped.
///
/// # Errors
///
/// [`ProcfileError`] naming the first line that is not `<type>: <command>`.
pub fn parse(text: &str) -> Result<Vec<Entry>, ProcfileError> {
    let mut entries: Vec<Entry> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (kind, command) = trimmed
            .split_once(':')
            .ok_or(ProcfileError::MissingColon { line })?;
        let kind = kind.trim();
        let command = command.trim();
        let process_type = ProcessType::new(kind).map_err(|_| ProcfileError::InvalidType {
            line,
            kind: kind.to_string(),
        })?;
        if command.is_empty() {
            return Err(ProcfileError::EmptyCommand {
                line,
                kind: kind.to_string(),
            });
        }
        if entries.iter().any(|e| e.kind == process_type) {
            return Err(ProcfileError::Duplicate {
                line,
                kind: kind.to_string(),
            });
        }
        entries.push(Entry {
            kind: process_type,
            command: command.to_string(),
        });
    }
    Ok(entries)
}

/// The launch processes for `entries`: each runs as `bash -c "<command>"` so the shell expands
/// `${PORT:-8080}` (the launcher does not). `web` is the default; with no `web`, a single entry is.
#[must_use]
pub fn processes(entries: &[Entry]) -> Vec<Process> {
    let has_web = entries.iter().any(|e| e.kind.as_str() == "web");
    entries
        .iter()
        .map(|entry| {
            let default = if has_web {
                entry.kind.as_str() == "web"
            } else {
                entries.len() == 1
            };
            Process::new(
                entry.kind.clone(),
                ["bash".to_string(), "-c".to_string(), entry.command.clone()],
            )
            .default(default)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_skipping_comments_and_blanks() {
        let entries = parse(
            "# the app\nweb: gunicorn --bind 0.0.0.0:${PORT:-8080} app:app\n\nworker:python worker.py --url=http://x:1\n",
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].kind.as_str(), "web");
        assert_eq!(
            entries[0].command,
            "gunicorn --bind 0.0.0.0:${PORT:-8080} app:app"
        );
        // Only the first ':' separates type and command.
        assert_eq!(entries[1].command, "python worker.py --url=http://x:1");
    }

    #[test]
    fn rejects_bad_lines() {
        assert_eq!(
            parse("web gunicorn app:app"),
            Err(ProcfileError::InvalidType {
                line: 1,
                kind: "web gunicorn app".into()
            })
        );
        assert_eq!(
            parse("just words"),
            Err(ProcfileError::MissingColon { line: 1 })
        );
        assert_eq!(
            parse("web:\n"),
            Err(ProcfileError::EmptyCommand {
                line: 1,
                kind: "web".into()
            })
        );
        assert_eq!(
            parse("web: a\nweb: b"),
            Err(ProcfileError::Duplicate {
                line: 2,
                kind: "web".into()
            })
        );
    }

    #[test]
    fn web_is_default_else_a_single_entry() {
        let entries = parse("worker: w\nweb: a").unwrap();
        let defaults: Vec<bool> = processes(&entries)
            .into_iter()
            .map(|p| libbuildpack::data::LaunchProcess::from(p).default)
            .collect();
        assert_eq!(defaults, [false, true]);

        let single = processes(&parse("worker: w").unwrap());
        assert!(libbuildpack::data::LaunchProcess::from(single[0].clone()).default);
        let two = processes(&parse("a: x\nb: y").unwrap());
        assert!(
            two.into_iter()
                .all(|p| !libbuildpack::data::LaunchProcess::from(p).default)
        );
    }
}
