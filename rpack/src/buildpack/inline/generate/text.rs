//! Rust literals, names and comment text made from the script's words.

use std::fmt::Write as _;

/// A Rust string literal of `text`: raw when that reads better.
pub(super) fn lit(text: &str) -> String {
    if (text.contains('"') || text.contains('\\') || text.contains('\n'))
        && !text.contains('\r')
        && !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        let mut hashes = String::from("#");
        while text.contains(&format!("\"{hashes}")) {
            hashes.push('#');
        }
        format!("r{hashes}\"{text}\"{hashes}")
    } else {
        format!("{text:?}")
    }
}

/// `text` in lowercase with every character but letters and digits as `_`.
pub(super) fn snake(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `venv-2` → `venv_2`, `node_modules` → `node_modules`; Rust keywords and names the code uses get a suffix.
pub(super) fn ident(name: &str) -> String {
    let mut out = snake(name);
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if matches!(
        out.as_str(),
        "uv" | "ctx"
            | "env"
            | "self"
            | "super"
            | "crate"
            | "type"
            | "mod"
            | "use"
            | "fn"
            | "let"
            | "match"
            | "build"
            | "layer"
            | "key"
            | "in"
            | "ref"
            | "move"
            | "static"
            | "const"
            | "loop"
            | "box"
            | "inputs"
    ) {
        out.push_str("_layer");
    }
    out
}

/// `node_modules` → `NodeModules`: the scaffold's rule, so a generated crate's types are named as a new one's.
pub(super) use crate::buildpack::scaffold::camel;

/// A command as errors name it: its first line, up to 60 characters.
pub(super) fn label(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    if first.chars().count() > 60 || text.lines().count() > 1 {
        format!(
            "{} …",
            first.chars().take(60).collect::<String>().trim_end()
        )
    } else {
        first.to_owned()
    }
}

/// The first line of a command, shortened, for a comment.
pub(super) fn short(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    let more = text.lines().count() > 1;
    let mut out: String = first.chars().take(96).collect();
    if first.chars().count() > 96 {
        out.push('…');
    }
    if more {
        out.push_str(" …");
    }
    out
}

/// Each item on a line of its own.
pub(super) fn lines<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().fold(String::new(), |mut out, item| {
        let _ = writeln!(out, "{item}");
        out
    })
}

pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `template` with each `@NAME@` that `values` names replaced by its value, in one pass (a value is never read
/// for names); any other `@` stays as it is.
pub(super) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let named = values.iter().find(|(name, _)| {
            after
                .strip_prefix(name)
                .is_some_and(|tail| tail.starts_with('@'))
        });
        if let Some((name, value)) = named {
            out.push_str(value);
            rest = &after[name.len() + 1..];
        } else {
            out.push('@');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The first line of a command in a Markdown table cell between backquotes.
pub(super) fn table_cell(text: &str) -> String {
    short(text).replace('|', "\\|").replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn a_template_gets_each_named_value_once_and_keeps_other_ats() {
        let filled = fill(
            "uv @VERSION@ for @ARCH@; mail me@example.com; @UNKNOWN@",
            &[("VERSION", "\"@ARCH@\""), ("ARCH", "amd64")],
        );
        // A value is never read for names, and what names nothing stays as it is.
        assert_eq!(
            filled,
            "uv \"@ARCH@\" for amd64; mail me@example.com; @UNKNOWN@"
        );
    }
}
