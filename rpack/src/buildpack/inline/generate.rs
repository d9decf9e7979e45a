//! A [`Plan`] as the files of a buildpack crate: `src/main.rs` whose `build()` follows the script step by step,
//! `src/inputs.rs` (what layer keys are made of), `src/uv.rs` (the pinned uv, when the script used uv), unit
//! tests per recognised step, and `integration/`, a real build of the app with a no-change rebuild that must
//! reuse every layer.

//!
//! One module per part it writes: [`main_rs`] the frame of `main.rs`, [`body`] and [`layers`] its `build()`,
//! [`keys`], [`commands`], [`env`] and [`processes`] the helpers and unit tests the steps need, [`inputs`] and
//! [`uv`] the other source files, [`manifest`], [`integration`] and [`readme`] the rest; [`text`] and [`expr`]
//! turn the script's words into Rust.

mod body;
mod commands;
mod env;
mod expr;
mod inputs;
mod integration;
mod keys;
mod layers;
mod main_rs;
mod manifest;
mod processes;
mod readme;
mod text;
mod uv;

use std::collections::BTreeSet;

use super::steps::Plan;
use inputs::{inputs_rs, main_needs_inputs};
use integration::integration_test;
use manifest::{buildpack_toml, cargo_toml, integration_cargo_toml};
use readme::readme;
use text::camel;
use uv::uv_rs;

pub(crate) use manifest::dev_profiles;

/// What the generated crate is made from, besides the plan.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    /// The crate's name.
    pub name: String,
    /// The buildpack id.
    pub id: String,
    /// The Buildpack API the buildpack declares.
    pub api: String,
    /// project.toml, as the user named it (for comments).
    pub project_toml: String,
    /// The inline buildpack's id in project.toml's group.
    pub inline_id: String,
    /// The app dir (project.toml's dir) relative to the crate's `integration/` dir.
    pub app_from_integration: String,
    /// The crate's dir relative to the app dir, when the crate is inside it (its copy leaves it out).
    pub crate_in_app: Option<String>,
    /// The `libbuildpack` dependency (`{ path = ... }`).
    pub libbuildpack: String,
    /// The `libbuildpack` dependency with the `testing` feature.
    pub libbuildpack_testing: String,
    /// The `libbuildpack-test` dependency.
    pub harness: String,
    /// The crate's dir relative to the app dir (absolute when they share nothing but `/`): the `uri` of a
    /// group entry that uses it.
    pub uri: String,
    /// `[profile.dev.package.*]` tables of the SDK's workspace, as TOML text, to copy (empty when none).
    pub dev_profiles: String,
}

/// The names of the step functions written so far.
struct Names {
    /// Step function names by line.
    fns: Vec<(usize, String)>,
}

impl Names {
    /// `base`, or `base_line_N` when `base` is taken.
    fn unique(&mut self, base: &str, line: usize) -> String {
        let taken = |n: &str, fns: &Vec<(usize, String)>| fns.iter().any(|(_, f)| f == n);
        let name = if taken(base, &self.fns) {
            format!("{base}_line_{line}")
        } else {
            base.to_owned()
        };
        self.fns.push((line, name.clone()));
        name
    }
}

/// What the generator found it needs while writing `main.rs`.
#[derive(Default)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "one flag per helper the generated code needs"
)]
struct Needs {
    uv: bool,
    uv_launch: bool,
    python: bool,
    node: bool,
    env_value: bool,
    sha256: bool,
    script: bool,
    link: bool,
    copy: bool,
}

/// What `main.rs` is made of, as the steps are written.
struct Generator<'a> {
    plan: &'a Plan,
    type_name: String,
    needs: Needs,
    names: Names,
    /// Helper functions (commands, env writers, key constructors), after `build`.
    helpers: String,
    /// Unit tests.
    tests: String,
    /// Layers declared so far in `build`.
    declared: BTreeSet<String>,
    /// The layers (by name) whose key needs the env.
    key_types: String,
    uv_declared: bool,
    exports_done: bool,
}

impl<'a> Generator<'a> {
    /// A generator of the buildpack `type_name` for `plan`, nothing written yet.
    fn new(plan: &'a Plan, type_name: String) -> Self {
        Self {
            plan,
            type_name,
            needs: Needs::default(),
            names: Names { fns: Vec::new() },
            helpers: String::new(),
            tests: String::new(),
            declared: BTreeSet::new(),
            key_types: String::new(),
            uv_declared: false,
            exports_done: false,
        }
    }
}

/// The files of the crate: (relative path, text).
#[must_use]
pub(crate) fn files(plan: &Plan, source: &Source) -> Vec<(String, String)> {
    let (main, needs) = main_rs::main_rs(plan, source);
    let mut out = vec![
        ("src/main.rs".to_owned(), main),
        ("Cargo.toml".to_owned(), cargo_toml(source)),
        (
            "buildpack.toml".to_owned(),
            buildpack_toml(source, &camel(&source.name)),
        ),
        (
            "integration/Cargo.toml".to_owned(),
            integration_cargo_toml(source),
        ),
        (
            "integration/tests/rebuild.rs".to_owned(),
            integration_test(plan, source, needs.uv),
        ),
        (".gitignore".to_owned(), "/target\n".to_owned()),
        ("README.md".to_owned(), readme(plan, source)),
    ];
    if main_needs_inputs(&needs) {
        out.push(("src/inputs.rs".to_owned(), inputs_rs(&needs)));
    }
    if needs.uv {
        out.push(("src/uv.rs".to_owned(), uv_rs(needs.uv_launch)));
    }
    out
}

/// The `.rs` files formatted by rustfmt (edition 2024), as `cargo fmt` would; left as they are when rustfmt is
/// missing or fails.
#[must_use]
pub(crate) fn formatted(files: Vec<(String, String)>) -> Vec<(String, String)> {
    files
        .into_iter()
        .map(|(path, text)| {
            if std::path::Path::new(&path)
                .extension()
                .is_none_or(|e| e != "rs")
            {
                return (path, text);
            }
            let formatted = rustfmt(&text);
            (path, formatted.unwrap_or(text))
        })
        .collect()
}

fn rustfmt(text: &str) -> Option<String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).ok())
        .flatten()
}
