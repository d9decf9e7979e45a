//! The guide's cheap shell blocks (`<!-- sh: run -->`) run as written, and its CLI reference
//! (`docs/guide/cli.md`) is what `rpack --help` prints for every command: the reference is generated from the
//! built binary, so it follows the CLI wherever its source lives. `UPDATE_DOCS=1` rewrites the page.

#![allow(clippy::unwrap_used, clippy::panic, reason = "test helpers")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use libbuildpack_guide::markdown::{self, blocks, repo_root};

fn rpack() -> &'static str {
    env!("CARGO_BIN_EXE_rpack")
}

/// `PATH` with this build's `rpack` first, as the guide's commands expect `rpack` on `PATH`.
fn path_with_rpack() -> std::ffi::OsString {
    let dir = Path::new(rpack()).parent().unwrap().to_owned();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest))).unwrap()
}

#[test]
fn the_guides_runnable_shell_blocks_succeed() {
    let mut ran = 0;
    let mut failures = Vec::new();
    for (page, text) in markdown::pages().unwrap() {
        for block in blocks(&text) {
            if block.marker.as_deref() != Some("sh: run") {
                continue;
            }
            ran += 1;
            let dir = tempfile::tempdir().unwrap();
            let out = Command::new("bash")
                .args(["-euo", "pipefail", "-c", &block.text])
                .current_dir(dir.path())
                .env("PATH", path_with_rpack())
                .output()
                .unwrap();
            if !out.status.success() {
                failures.push(format!(
                    "{}:{}: the block failed ({}):\n{}\n{}{}",
                    page.display(),
                    block.line,
                    out.status,
                    block.text,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(
        ran > 0,
        "no block of docs/guide is marked `<!-- sh: run -->`"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn help(args: &[&str]) -> String {
    let out = Command::new(rpack())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rpack {} --help: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands a help text lists under `Commands:` (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   ")) // a wrapped description
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command path (`[]`, `["buildpack"]`, `["buildpack", "new"]`, ...), depth first, with its help.
fn commands(path: &[String], out: &mut Vec<(Vec<String>, String)>) {
    let args: Vec<&str> = path.iter().map(String::as_str).collect();
    let text = help(&args);
    let children = subcommands(&text);
    out.push((path.to_vec(), text));
    for child in children {
        let mut next = path.to_vec();
        next.push(child);
        commands(&next, out);
    }
}

fn reference() -> String {
    let mut all = Vec::new();
    commands(&[], &mut all);
    let title = |path: &[String]| {
        std::iter::once("rpack")
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut page = String::from(
        "# rpack command reference\n\n\
         Every command's `--help`, generated from the `rpack` binary by `rpack/tests/guide.rs`, which fails when \
         this page differs from what the binary prints; `UPDATE_DOCS=1 cargo test -p rpack --test guide` \
         rewrites it. The [guide](README.md) shows the commands in use.\n\n",
    );
    for (path, _) in all.iter().filter(|(path, _)| !path.is_empty()) {
        let indent = "  ".repeat(path.len() - 1);
        let name = title(path);
        let _ = writeln!(
            page,
            "{indent}- [`{name}`](#{})",
            libbuildpack_guide::markdown::slug(&name)
        );
    }
    for (path, text) in &all {
        let _ = write!(page, "\n## {}\n\n```text\n{}```\n", title(path), text);
    }
    page
}

#[test]
fn the_cli_reference_is_what_the_binary_prints() {
    let path: PathBuf = repo_root().join("docs/guide/cli.md");
    let want = reference();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let tmp = path.with_extension("md.tmp");
        std::fs::write(&tmp, &want).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        let line = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
        panic!(
            "docs/guide/cli.md is not what `rpack --help` prints (first difference at line {}: {:?} where the \
             binary gives {:?}); run `UPDATE_DOCS=1 cargo test -p rpack --test guide` and commit the page",
            line + 1,
            have.lines().nth(line).unwrap_or(""),
            want.lines().nth(line).unwrap_or("")
        );
    }
}
