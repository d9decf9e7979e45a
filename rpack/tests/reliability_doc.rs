//! docs/reliability.md is kept current by the tests: every row of its tables names the tests that show it
//! (`` `suite::test_name` `` in its last column), every test named there exists, every test of the hostile input and fault suites
//! has a row, the case count in its figures is the number of rows, and the fuzzing table lists exactly the fuzz
//! targets of `fuzz/`, with the crash total and the regression tests it names. Reads files only; no builds.
//!
//! A suite is the file stem of an integration test file (`hostile` for `rpack/tests/hostile.rs`), or a crate
//! (`rpack`, `libbuildpack`, `pip`) for the unit tests anywhere in its `src/`.

#![allow(clippy::unwrap_used, clippy::panic)] // a failed read should stop the test with its message

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The test files whose every test is a hostile input, fault or bad input case, and so must have a row.
const CASE_FILES: [&str; 5] = [
    "libbuildpack/tests/archive.rs",
    "rpack/tests/hostile.rs",
    "rpack/tests/kill.rs",
    "rpack/tests/faults.rs",
    "buildpacks/pip/tests/secrets.rs",
];

/// Where the test files and crates are: each crate's `tests/` holds integration test files, its `src/` unit
/// tests.
const CRATES: [(&str, &str); 4] = [
    ("rpack", "rpack"),
    ("libbuildpack", "libbuildpack"),
    ("pip", "buildpacks/pip"),
    ("libbuildpack-test", "libbuildpack-test"),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The names of the `#[test]` functions in `text`.
fn tests_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut marked = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with("#[test]") {
            marked = true;
        } else if marked && !line.starts_with("#[") && !line.starts_with("//") {
            if let Some(rest) = line.split("fn ").nth(1) {
                names.insert(rest.split(['(', '<']).next().unwrap().trim().to_owned());
            }
            marked = false;
        }
    }
    names
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every suite a row may name, with its tests.
fn suites() -> BTreeMap<String, BTreeSet<String>> {
    let mut suites: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, dir) in CRATES {
        let mut files = Vec::new();
        rust_files(&repo().join(dir).join("src"), &mut files);
        let unit = suites.entry(name.to_owned()).or_default();
        for file in &files {
            unit.extend(tests_in(&std::fs::read_to_string(file).unwrap()));
        }
        let Ok(entries) = std::fs::read_dir(repo().join(dir).join("tests")) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                assert!(
                    !suites.contains_key(&stem),
                    "two test files are named {stem}.rs; docs/reliability.md could not tell them apart"
                );
                suites.insert(stem, tests_in(&std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    suites
}

/// One table row of the doc: its line number, its cells, and the section it is in.
struct Row {
    line: usize,
    section: String,
    cells: Vec<String>,
}

fn rows(doc: &str) -> Vec<Row> {
    let mut section = String::new();
    let mut rows = Vec::new();
    let mut header = true;
    for (i, line) in doc.lines().enumerate() {
        if let Some(title) = line.strip_prefix("## ") {
            title.trim().clone_into(&mut section);
        }
        if !line.starts_with('|') {
            header = true;
            continue;
        }
        if line.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
            // The line under the header.
            continue;
        }
        let cells: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_owned())
            .collect();
        if header {
            // The first row of a table names its columns.
            header = false;
            continue;
        }
        rows.push(Row {
            line: i + 1,
            section: section.clone(),
            cells,
        });
    }
    rows
}

/// The `` `suite::test` `` references in `text`.
fn references(cell: &str) -> Vec<(String, String)> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| {
            let (suite, test) = code.split_once("::")?;
            let word = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c))
            };
            (word(suite) && word(test)).then(|| (suite.to_owned(), test.to_owned()))
        })
        .collect()
}

/// The number in bold right before `what` on the first line starting with `line_start` (`**12** cases`).
fn figure(doc: &str, line_start: &str, what: &str) -> usize {
    let line = doc
        .lines()
        .find(|l| l.starts_with(line_start))
        .unwrap_or_else(|| panic!("docs/reliability.md has no line starting with {line_start:?}"));
    let before = line
        .split(&format!("** {what}"))
        .next()
        .filter(|b| b.len() < line.len())
        .unwrap_or_else(|| panic!("no `**N** {what}` in: {line}"));
    before
        .rsplit("**")
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no number before `{what}` in: {line}"))
}

#[test]
fn every_row_names_existing_tests_and_every_case_has_a_row() {
    let doc = read("docs/reliability.md");
    let suites = suites();
    let mut problems = Vec::new();
    let mut cited: BTreeSet<(String, String)> = BTreeSet::new();
    let rows = rows(&doc);
    // The tests a row names are in its last column (in the Fuzzing table: the crash regression tests).
    let named = rows
        .iter()
        .flat_map(|r| references(r.cells.last().map(String::as_str).unwrap_or_default()));
    for (suite, test) in named {
        match suites.get(&suite) {
            None => problems.push(format!(
                "`{suite}::{test}`: there is no test file {suite}.rs and no crate {suite} (suites: {})",
                suites.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
            Some(tests) if !tests.contains(&test) => problems.push(format!(
                "`{suite}::{test}`: suite {suite} has no #[test] fn {test} (renamed or removed? update the row)"
            )),
            Some(_) => {}
        }
        cited.insert((suite, test));
    }
    let mut cases = 0;
    for row in rows.iter().filter(|r| r.section != "Fuzzing") {
        cases += 1;
        let last = row.cells.last().map(String::as_str).unwrap_or_default();
        if references(last).is_empty() {
            problems.push(format!(
                "docs/reliability.md:{}: the row {:?} names no test in its last column (`suite::test_name`)",
                row.line,
                row.cells.first().map(String::as_str).unwrap_or_default()
            ));
        }
    }
    for file in CASE_FILES {
        let suite = Path::new(file).file_stem().unwrap().to_string_lossy();
        for test in tests_in(&read(file)) {
            if !cited.contains(&(suite.to_string(), test.clone())) {
                problems.push(format!(
                    "{file}: #[test] fn {test} has no row in docs/reliability.md: add one to the table of its \
                     section, naming `{suite}::{test}`"
                ));
            }
        }
    }
    let stated = figure(&doc, "Figures:", "cases");
    if stated != cases {
        problems.push(format!(
            "docs/reliability.md says **{stated}** cases in its figures, but its tables have {cases} rows \
             (Fuzzing aside)"
        ));
    }
    assert!(
        problems.is_empty(),
        "docs/reliability.md is out of date:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_fuzzing_figures_list_every_fuzz_target_and_add_up() {
    let doc = read("docs/reliability.md");
    let manifest = read("fuzz/Cargo.toml");
    let mut problems = Vec::new();
    // `[[bin]] name = "x"` entries of fuzz/Cargo.toml, and the files of fuzz/fuzz_targets/.
    let bins: BTreeSet<String> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|bin| {
            let line = bin.lines().find(|l| l.trim_start().starts_with("name"))?;
            Some(line.split('"').nth(1)?.to_owned())
        })
        .collect();
    let files: BTreeSet<String> = std::fs::read_dir(repo().join("fuzz/fuzz_targets"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    if bins != files {
        problems.push(format!(
            "fuzz/Cargo.toml's [[bin]] targets {bins:?} are not the files of fuzz/fuzz_targets {files:?}"
        ));
    }
    let rows: Vec<Row> = rows(&doc)
        .into_iter()
        .filter(|r| r.section == "Fuzzing")
        .collect();
    let listed: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| {
            r.cells[0]
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    if listed != bins {
        problems.push(format!(
            "the Fuzzing table lists {listed:?}, but fuzz/Cargo.toml has the targets {bins:?}"
        ));
    }
    let stated = figure(&doc, "`fuzz/`", "targets");
    if stated != bins.len() {
        problems.push(format!(
            "the Fuzzing section says **{stated}** targets; fuzz/Cargo.toml has {}",
            bins.len()
        ));
    }
    // The crashes column starts with each row's count; their sum is the total the section states, and each
    // crash names its regression test.
    let crashes: usize = rows
        .iter()
        .map(|r| {
            let cell = r.cells.last().unwrap();
            cell.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or_else(|| {
                    panic!("docs/reliability.md:{}: the crashes cell {cell:?} does not start with a number", r.line)
                })
        })
        .sum();
    let stated = figure(&doc, "Crashes found:", "crashes");
    if stated != crashes {
        problems.push(format!(
            "`Crashes found:` says **{stated}** crashes, but the table's crash counts add up to {crashes}"
        ));
    }
    let regressions: usize = rows
        .iter()
        .map(|r| references(r.cells.last().unwrap()).len())
        .sum();
    if regressions != crashes {
        problems.push(format!(
            "the Fuzzing table names {regressions} regression tests (`suite::test`) for {crashes} crashes: name one for each"
        ));
    }
    assert!(
        problems.is_empty(),
        "docs/reliability.md is out of date:\n  {}",
        problems.join("\n  ")
    );
}
