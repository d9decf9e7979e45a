//! Reading the guide's Markdown: fenced code blocks with the marker comment before each, links, and the
//! anchors GitHub gives headings.
//!
//! A marker is an HTML comment on the last non-blank line before a fence; it says how the block is checked
//! (`docs/guide/README.md`, "How this guide is checked"):
//!
//! - `<!-- sh: run -->`: `rpack/tests/guide.rs` runs the block.
//! - `<!-- sh: PATH#NAME -->`: the test at `PATH` runs the block, finding it by `NAME`.
//! - `<!-- sh: like PATH -->`: too long to run twice; the test or script at `PATH` does the same thing.
//! - `<!-- excerpt: PATH -->`: the block's lines appear, in order and contiguous, in the file at `PATH`.
//! - `<!-- checked-by: PATH#NAME -->`: the test at `PATH` reads the block by `NAME` and checks it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A fenced code block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The 1-based line of the opening fence.
    pub line: usize,
    /// The info string after the fence (`rust`, `sh`, `rust,ignore`, ...), empty when there is none.
    pub info: String,
    /// The text of the marker comment before the block (`sh: run`), if there is one.
    pub marker: Option<String>,
    /// The block's lines, without the fence's indentation, each ending in `\n`.
    pub text: String,
}

impl Block {
    /// The language: the info string up to the first `,` or space.
    #[must_use]
    pub fn lang(&self) -> &str {
        self.info.split([',', ' ']).next().unwrap_or_default()
    }

    /// Whether the block is shell commands.
    #[must_use]
    pub fn is_shell(&self) -> bool {
        matches!(self.lang(), "sh" | "bash" | "shell" | "console" | "zsh")
    }

    /// Whether rustdoc compiles the block as a doctest (Rust and not `ignore`).
    #[must_use]
    pub fn is_compiled_rust(&self) -> bool {
        self.lang() == "rust" && !self.info.split([',', ' ']).any(|a| a == "ignore")
    }
}

/// The fenced code blocks of `markdown`, in order.
#[must_use]
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut last_text_line: Option<&str> = None;
    let mut lines = markdown.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let trimmed = line.trim_start();
        let Some(fence) = fence(trimmed) else {
            if !trimmed.is_empty() {
                last_text_line = Some(trimmed);
            }
            continue;
        };
        let indent = line.len() - trimmed.len();
        let info = trimmed[fence.len()..].trim().to_owned();
        let marker = last_text_line
            .and_then(|l| l.strip_prefix("<!--"))
            .and_then(|l| l.strip_suffix("-->"))
            .map(|m| m.trim().to_owned());
        let mut text = String::new();
        for (_, body) in lines.by_ref() {
            if body.trim_start().starts_with(fence) && body.trim() == fence {
                break;
            }
            let cut = body
                .char_indices()
                .take_while(|&(i, c)| i < indent && c == ' ')
                .count();
            text.push_str(&body[cut..]);
            text.push('\n');
        }
        out.push(Block {
            line: index + 1,
            info,
            marker,
            text,
        });
        last_text_line = None;
    }
    out
}

/// The fence a line opens (three or more backticks or tildes), if it opens one.
fn fence(trimmed: &str) -> Option<&str> {
    for c in ['`', '~'] {
        let n = trimmed.chars().take_while(|&x| x == c).count();
        if n >= 3 {
            return Some(&trimmed[..n]);
        }
    }
    None
}

/// `markdown` with code blocks and code spans blanked out (lines kept), so links and headings are found only
/// in prose.
fn prose(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = &in_fence {
            if trimmed.starts_with(open.as_str()) && trimmed.trim() == open {
                in_fence = None;
            }
            out.push(String::new());
            continue;
        }
        if let Some(f) = fence(trimmed) {
            in_fence = Some(f.to_owned());
            out.push(String::new());
            continue;
        }
        // Code spans: drop what is between backtick runs of equal length.
        let mut kept = String::new();
        let mut rest = line;
        while let Some(start) = rest.find('`') {
            kept.push_str(&rest[..start]);
            let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
            let after = &rest[start + ticks..];
            let closing = "`".repeat(ticks);
            if let Some(end) = after.find(&closing) {
                kept.push_str("`code`");
                rest = &after[end + ticks..];
            } else {
                kept.push_str(&rest[start..start + ticks]);
                rest = after;
            }
        }
        kept.push_str(rest);
        out.push(kept);
    }
    out
}

/// A link in prose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The 1-based line.
    pub line: usize,
    /// The target as written (`concepts.md#layers`, `#env`, `https://...`).
    pub target: String,
}

/// The inline links (`[text](target)`, images too) and reference definitions (`[name]: target`) of
/// `markdown`'s prose.
#[must_use]
pub fn links(markdown: &str) -> Vec<Link> {
    let mut out = Vec::new();
    for (index, line) in prose(markdown).iter().enumerate() {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            out.push(Link {
                line: index + 1,
                target: target.trim_matches(['<', '>']).to_owned(),
            });
            rest = &after[end..];
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some(close) = trimmed.find("]:")
        {
            let target = trimmed[close + 2..].split_whitespace().next();
            if let Some(target) = target {
                out.push(Link {
                    line: index + 1,
                    target: target.to_owned(),
                });
            }
        }
    }
    out
}

/// The anchors GitHub makes for `markdown`'s headings: lowercased, punctuation other than `-` and `_`
/// dropped, spaces as `-`, repeats numbered `-1`, `-2`, ...
#[must_use]
pub fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let source: Vec<&str> = markdown.lines().collect();
    for (index, line) in prose(markdown).iter().enumerate() {
        if !line.trim_start().starts_with('#') {
            continue;
        }
        // The heading's own text, with code spans (blanked in `prose`) put back.
        let heading = source[index].trim_start().trim_start_matches('#');
        if !heading.starts_with(' ') && !heading.is_empty() {
            continue;
        }
        let base = slug(heading.trim());
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// GitHub's anchor for a heading's text.
#[must_use]
pub fn slug(heading: &str) -> String {
    let mut text = heading.to_owned();
    // Link text only: `[a](b)` reads as `a`.
    while let (Some(open), Some(mid)) = (text.find('['), text.find("](")) {
        let Some(close) = text[mid..].find(')') else {
            break;
        };
        if open > mid {
            break;
        }
        text = format!(
            "{}{}{}",
            &text[..open],
            &text[open + 1..mid],
            &text[mid + close + 1..]
        );
    }
    text.to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The checkout's root (the parent of this crate's dir).
#[must_use]
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_owned)
}

/// The guide's pages (`docs/guide/*.md`), sorted, with their text.
///
/// # Errors
/// When the dir or a page cannot be read.
pub fn pages() -> std::io::Result<Vec<(PathBuf, String)>> {
    let dir = repo_root().join("docs/guide");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "md") {
            let text = std::fs::read_to_string(&path)?;
            out.push((path, text));
        }
    }
    out.sort();
    Ok(out)
}

/// The block of the guide page `page` (a file name in `docs/guide`) whose marker names it `NAME`
/// (`sh: PATH#NAME` or `checked-by: PATH#NAME`), for the test at `PATH` that runs or checks it.
///
/// # Errors
/// When the page cannot be read or has no such block.
pub fn named_block(page: &str, name: &str) -> Result<Block, String> {
    let path = repo_root().join("docs/guide").join(page);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let suffix = format!("#{name}");
    blocks(&text)
        .into_iter()
        .find(|b| b.marker.as_deref().is_some_and(|m| m.ends_with(&suffix)))
        .ok_or_else(|| format!("{} has no block marked `#{name}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_marker_and_lose_the_indent() {
        let md = "Text\n\n<!-- sh: run -->\n```sh\nrpack --help\n```\n\n- item\n\n  ```rust,ignore\n  fn x() {}\n  ```\n";
        let found = blocks(md);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].marker.as_deref(), Some("sh: run"));
        assert!(found[0].is_shell());
        assert_eq!(found[0].text, "rpack --help\n");
        assert_eq!(found[1].marker, None);
        assert_eq!(found[1].text, "fn x() {}\n");
        assert!(!found[1].is_compiled_rust());
    }

    #[test]
    fn links_skip_code_and_anchors_follow_github() {
        let md = "# Layers and `keyed_by`\n\nSee [env](concepts.md#env) and `[not](a link)`.\n\n```sh\n[x](y)\n```\n\n## exec.d\n## exec.d\n[r]: ../README.md\n";
        let targets: Vec<String> = links(md).into_iter().map(|l| l.target).collect();
        assert_eq!(targets, ["concepts.md#env", "../README.md"]);
        let anchors = anchors(md);
        assert!(anchors.contains("layers-and-keyed_by"), "{anchors:?}");
        assert!(anchors.contains("execd") && anchors.contains("execd-1"));
        assert_eq!(slug("Moving from [libcnb.rs](x)"), "moving-from-libcnbrs");
    }
}
