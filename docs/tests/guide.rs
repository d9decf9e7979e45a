//! The guide is checked: links and anchors resolve, every code block says what it is, every shell block is run
//! by a test (or names the one that does the same), excerpts match their files, and the error messages the
//! troubleshooting page lists are ones the code prints.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use libbuildpack_guide::COMPILED_PAGES;
use libbuildpack_guide::markdown::{self, Block, anchors, blocks, links, repo_root};

type Failures = Vec<String>;

fn pages() -> Vec<(PathBuf, String)> {
    match markdown::pages() {
        Ok(pages) => pages,
        Err(e) => panic!("cannot read docs/guide: {e}"),
    }
}

fn rel(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn report(failures: &Failures) {
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

#[test]
fn every_page_has_its_rust_blocks_compiled() {
    let pages: BTreeSet<String> = pages()
        .iter()
        .filter_map(|(p, _)| Some(p.file_name()?.to_string_lossy().into_owned()))
        .collect();
    let compiled: BTreeSet<String> = COMPILED_PAGES.iter().map(|p| (*p).to_owned()).collect();
    assert_eq!(
        pages, compiled,
        "docs/src/lib.rs must include every page of docs/guide (and no other) in `pages!`"
    );
}

/// The Markdown files whose links are checked: the guide, the other docs and the README.
fn linked_files() -> Vec<(PathBuf, String)> {
    let root = repo_root();
    let mut files = pages();
    let mut others: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    others.push(root.join("README.md"));
    others.sort();
    for path in others {
        if let Ok(text) = std::fs::read_to_string(&path) {
            files.push((path, text));
        }
    }
    files
}

#[test]
fn relative_links_and_anchors_resolve() {
    let mut failures = Failures::new();
    for (page, text) in linked_files() {
        let dir = page.parent().unwrap_or(Path::new("."));
        for link in links(&text) {
            let target = link.target.as_str();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target, None),
            };
            let path = if file.is_empty() {
                page.clone()
            } else {
                dir.join(file)
            };
            let at = format!("{}:{}: `{target}`", rel(&page), link.line);
            if !path.exists() {
                failures.push(format!("{at}: {} does not exist", rel(&path)));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            if path.extension().is_none_or(|e| e != "md") {
                failures.push(format!(
                    "{at}: anchors work only into Markdown files (line anchors go stale)"
                ));
                continue;
            }
            let Ok(linked) = std::fs::read_to_string(&path) else {
                failures.push(format!("{at}: cannot read {}", rel(&path)));
                continue;
            };
            if !anchors(&linked).contains(anchor) {
                failures.push(format!(
                    "{at}: {} has no heading with the anchor #{anchor}",
                    rel(&path)
                ));
            }
        }
    }
    report(&failures);
}

/// What a block's marker says, checked against the repository.
fn check_block(page: &Path, block: &Block, failures: &mut Failures) {
    let at = format!("{}:{}", rel(page), block.line);
    if block.info.is_empty() {
        failures.push(format!(
            "{at}: a code block needs a language (`rust`, `sh`, `toml`, `text`, ...): rustdoc compiles an \
             unlabelled one as Rust"
        ));
        return;
    }
    let marker = block.marker.as_deref().unwrap_or_default();
    if let Some(path) = marker.strip_prefix("excerpt:")
        && let Err(why) = check_excerpt(block, path.trim())
    {
        failures.push(format!("{at}: {why}"));
    }
    if let Some(how) = marker.strip_prefix("checked-by:") {
        check_named(how.trim(), &at, failures);
    }
    if block.is_shell() {
        let Some(how) = marker.strip_prefix("sh:").map(str::trim) else {
            failures.push(format!(
                "{at}: a shell block needs a marker saying what runs it: `<!-- sh: run -->`, \
                 `<!-- sh: PATH#NAME -->` or `<!-- sh: like PATH -->`"
            ));
            return;
        };
        if how == "run" {
            return;
        }
        if let Some(path) = how.strip_prefix("like ") {
            if !repo_root().join(path.trim()).exists() {
                failures.push(format!("{at}: {path} does not exist"));
            }
            return;
        }
        check_named(how, &at, failures);
    } else if block.lang() == "rust" && !block.is_compiled_rust() && !marker.starts_with("excerpt:")
    {
        failures.push(format!(
            "{at}: an `ignore` Rust block must be an excerpt of a compiled file (`<!-- excerpt: PATH -->`)"
        ));
    }
}

/// A `PATH#NAME` marker: the test at `PATH` must ask for the block by its name.
fn check_named(how: &str, at: &str, failures: &mut Failures) {
    let Some((path, name)) = how.split_once('#') else {
        failures.push(format!("{at}: unknown marker `{how}` (expected PATH#NAME)"));
        return;
    };
    match std::fs::read_to_string(repo_root().join(path)) {
        Ok(test) if test.contains(&format!("{name:?}")) => {}
        Ok(_) => failures.push(format!(
            "{at}: {path} does not use the block `{name}` (it never says \"{name}\")"
        )),
        Err(e) => failures.push(format!("{at}: {path}: {e}")),
    }
}

#[test]
fn every_code_block_says_what_it_is_and_what_checks_it() {
    let mut failures = Failures::new();
    for (page, text) in pages() {
        for block in blocks(&text) {
            check_block(&page, &block, &mut failures);
        }
    }
    report(&failures);
}

/// Whether the block's lines are lines of the file at `path`: contiguous, with one indentation added to all,
/// where a line `// ...` (or `# ...`) stands for any number of lines.
fn check_excerpt(block: &Block, path: &str) -> Result<(), String> {
    let file = std::fs::read_to_string(repo_root().join(path))
        .map_err(|e| format!("excerpt of {path}: {e}"))?;
    let file: Vec<&str> = file.lines().map(str::trim_end).collect();
    let excerpt: Vec<&str> = block.text.lines().map(str::trim_end).collect();
    let first = excerpt
        .first()
        .filter(|l| !l.is_empty() && !is_elision(l))
        .ok_or_else(|| format!("an excerpt of {path} must start with a line of it"))?;
    for (start, line) in file.iter().enumerate() {
        if let Some(indent) = line.strip_suffix(first)
            && indent.chars().all(|c| c == ' ')
            && matches_at(&excerpt, &file[start..], indent)
        {
            return Ok(());
        }
    }
    Err(format!(
        "the excerpt starting `{}` is not in {path} as shown (re-copy it from the file)",
        first.trim()
    ))
}

fn is_elision(line: &str) -> bool {
    matches!(line.trim(), "// ..." | "# ...")
}

fn matches_at(excerpt: &[&str], file: &[&str], indent: &str) -> bool {
    let Some((line, rest)) = excerpt.split_first() else {
        return true;
    };
    if is_elision(line) {
        return (0..=file.len()).any(|skip| matches_at(rest, &file[skip..], indent));
    }
    let Some((have, file_rest)) = file.split_first() else {
        return false;
    };
    let same = if line.is_empty() {
        have.is_empty()
    } else {
        have.strip_prefix(indent) == Some(line)
    };
    same && matches_at(rest, file_rest, indent)
}

/// The Rust sources messages come from, with string continuations (`\` at a line's end) joined.
fn rust_sources() -> String {
    let mut text = String::new();
    let mut todo: Vec<PathBuf> = [
        "libbuildpack",
        "libbuildpack-test",
        "rpack",
        "buildpacks",
        "examples",
    ]
    .iter()
    .map(|d| repo_root().join(d))
    .collect();
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    todo.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs")
                && let Ok(source) = std::fs::read_to_string(&path)
            {
                let mut lines = source.lines().peekable();
                while let Some(line) = lines.next() {
                    if let Some(joined) = line.strip_suffix('\\') {
                        text.push_str(joined);
                        if let Some(next) = lines.peek_mut() {
                            *next = next.trim_start();
                        }
                    } else {
                        text.push_str(line);
                        text.push('\n');
                    }
                }
            }
        }
    }
    // As printed: escaped quotes and format braces unescaped.
    text.replace("\\\"", "\"")
        .replace("{{", "{")
        .replace("}}", "}")
}

#[test]
fn troubleshooting_lists_messages_the_code_prints() {
    let page = repo_root().join("docs/guide/troubleshooting.md");
    let text = std::fs::read_to_string(&page).unwrap_or_default();
    let sources = rust_sources();
    let mut failures = Failures::new();
    let mut checked = 0;
    for (index, line) in text.lines().enumerate() {
        let Some(heading) = line.strip_prefix("### `") else {
            continue;
        };
        let message = heading.strip_suffix('`').unwrap_or(heading);
        checked += 1;
        // `…` stands for what the message fills in at run time.
        for piece in message.split('…').map(str::trim).filter(|p| p.len() >= 6) {
            if !sources.contains(piece) {
                failures.push(format!(
                    "{}:{}: `{piece}` is not in the Rust sources: copy messages as the code prints them, `…` \
                     for the parts it fills in",
                    rel(&page),
                    index + 1
                ));
            }
        }
    }
    assert!(
        checked >= 10,
        "the troubleshooting page lists {checked} messages"
    );
    report(&failures);
}
