//! The frame of the generated `src/main.rs`: crate docs with the table of steps, modules, imports, the error
//! type, the `Buildpack` impl with `detect`, the `script` helper and the test module.

use std::fmt::Write as _;

use super::inputs::main_needs_inputs;
use super::text::{camel, lines, lit, table_cell};
use super::{Generator, Needs, Source};
use crate::buildpack::inline::steps::{Plan, StepKind};
use crate::buildpack::inline::uv_pin;

/// The generated `src/main.rs`, and what the rest of the crate needs for it.
pub(super) fn main_rs(plan: &Plan, source: &Source) -> (String, Needs) {
    let type_name = camel(&source.name);
    let mut generator = Generator::new(plan, type_name.clone());
    let body = generator.build_body();
    let processes = generator.processes_fn();
    if generator.uses_uv() || generator.needs.uv {
        generator.pin_uv();
    }
    let detect = detect_body(&plan.detect_files(), &type_name, &mut generator.tests);
    let Generator {
        needs,
        key_types,
        helpers,
        tests,
        ..
    } = generator;
    let mut main = main_head(source, &needs, &key_types, &helpers, &steps_table(plan));
    main.push_str(&buildpack_impl(
        source,
        &detect,
        &body,
        processes.as_deref(),
        needs.uv,
    ));
    main.push_str(&helpers);
    if needs.script {
        main.push_str(&script_helper(plan));
    }
    let uses_path = main.contains("use std::path::Path;");
    main.push_str(&tests_module(&tests, uses_path));
    (main, needs)
}

/// The generated `impl Buildpack` and `buildpack_main!`: `detect` and `build` bodies, and the processes call
/// (if any) whose result `build` returns.
fn buildpack_impl(
    source: &Source,
    detect: &str,
    body: &str,
    processes: Option<&str>,
    uv: bool,
) -> String {
    let type_name = camel(&source.name);
    // uv's errors say what to do through the SDK's hint channel, printed after the error and its causes.
    let hint = if uv {
        format!(
            "\n\n    fn hint(&self, error: &Self::Error) -> Option<String> {{\n        \
             match error {{\n            \
             {type_name}Error::InstallUv(e) => e.hint().map(str::to_owned),\n            \
             _ => None,\n        \
             }}\n    \
             }}"
        )
    } else {
        String::new()
    };
    let ending = match processes {
        Some(call) => {
            format!("        Ok({call}.into_iter().fold(Build::new(), Build::process))\n")
        }
        None => "        Ok(Build::new())\n".to_owned(),
    };
    format!(
        "\nimpl Buildpack for {type_name} {{\n    \
         type Metadata = NoMetadata;\n    \
         type Error = {type_name}Error;\n\n    \
         fn detect(&self, ctx: &DetectContext) -> Result<Detect, Self::Error> {{\n{detect}    }}\n\n    \
         fn build(&self, ctx: &mut BuildContext) -> Result<Build, Self::Error> {{\n        \
         ctx.output().section({});\n{body}{ending}    }}{hint}\n}}\n\nbuildpack_main!({type_name});\n",
        lit(&format!("{} (converted from the inline script)", source.id)),
    )
}

/// The generated `main.rs` up to the `Buildpack` impl: the crate docs with the table of steps, the modules and
/// imports, the buildpack, its key types and its error type.
fn main_head(
    source: &Source,
    needs: &Needs,
    key_types: &str,
    helpers: &str,
    table: &str,
) -> String {
    let type_name = camel(&source.name);
    let mut main = String::new();
    let _ = write!(
        main,
        "//! The `{id}` buildpack: the inline buildpack `{inline}` of\n\
         //! `{project}`,\n\
         //! converted by `rpack buildpack new --from-inline`.\n\
         //!\n\
         //! `build()` follows the script step by step, each step with its line: recognised steps are SDK calls whose\n\
         //! layers say what they depend on, so a build with nothing changed reuses them all; the others run as the\n\
         //! script ran them.\n\
         //!\n\
         //! | line | script | here |\n\
         //! |---|---|---|\n{table}\n",
        id = source.id,
        inline = source.inline_id,
        project = source.project_toml,
    );
    if main_needs_inputs(needs) {
        main.push_str("mod inputs;\n");
    }
    if needs.uv {
        main.push_str("mod uv;\n");
    }
    main.push('\n');
    if key_types.contains("Path") || helpers.contains("Path") {
        main.push_str("use std::path::Path;\n\n");
    }
    main.push_str("use libbuildpack::prelude::*;\n");
    let _ = write!(
        main,
        "\n/// The buildpack.\npub struct {type_name};\n{key_types}"
    );
    main.push_str(&error_type(&type_name, needs));
    main
}

/// The generated error type: a variant per kind of failure the code has, and the helper that makes a step's
/// error.
fn error_type(type_name: &str, needs: &Needs) -> String {
    let mut main = String::new();
    let _ = write!(
        main,
        "\n/// Why the build failed.\n\
         #[derive(Debug, thiserror::Error)]\n\
         pub enum {type_name}Error {{\n    \
         /// A layer could not be made.\n    \
         #[error(transparent)]\n    \
         Layer(#[from] LayerError),\n"
    );
    if main_needs_inputs(needs) {
        main.push_str(
            "    /// An input of a layer's key could not be read, or a file put in place.\n    #[error(transparent)]\n    Input(#[from] inputs::InputError),\n",
        );
    }
    if needs.uv {
        main.push_str("    /// uv could not be installed.\n    #[error(transparent)]\n    InstallUv(#[from] uv::InstallUvError),\n");
    }
    main.push_str(
        "    /// A step of the script failed.\n    #[error(\"`{command}` (line {line} of the inline script) failed\")]\n    Step {\n        /// Its line.\n        line: usize,\n        /// The command.\n        command: &'static str,\n        /// Why.\n        #[source]\n        source: CommandError,\n    },\n}\n",
    );
    let _ = write!(
        main,
        "\n/// The error of the step on `line`.\n\
         fn failed(line: usize, command: &'static str) -> impl FnOnce(CommandError) -> {type_name}Error {{\n    \
         move |source| {type_name}Error::Step {{ line, command, source }}\n}}\n"
    );
    main
}

/// The body of the generated `detect`: pass when the app has the files the steps read, with a test of it
/// appended to `tests`.
fn detect_body(detect_files: &[String], type_name: &str, tests: &mut String) -> String {
    let mut detect = String::new();
    if detect_files.is_empty() {
        detect.push_str("        // The inline buildpack always passed detection; so does this one.\n        let _ = ctx;\n        Ok(Detect::pass())\n");
    } else {
        let _ = write!(
            detect,
            "        // The steps below read these files (the inline buildpack passed detection without looking).\n        \
             for file in [{}] {{\n            \
             if !ctx.app_dir().join(file).exists() {{\n                \
             return Ok(Detect::fail(format!(\"no {{file}} in the app\")));\n            \
             }}\n        \
             }}\n        \
             Ok(Detect::pass())\n",
            detect_files
                .iter()
                .map(|f| lit(f))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut setup = String::new();
        for file in detect_files {
            let _ = writeln!(setup, "        ctx.app_file({}, \"\").unwrap();", lit(file));
        }
        let _ = write!(
            tests,
            "\n    #[test]\n    \
             fn detects_apps_with_the_files_the_steps_read() {{\n        \
             let ctx = TestContext::new(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n        \
             assert!(!ctx.detect(&{type_name}).unwrap().passed());\n{setup}        \
             let run = ctx.detect(&{type_name}).unwrap();\n        \
             assert!(run.passed(), \"{{}}\", run.output);\n    \
             }}\n"
        );
    }
    detect
}

/// The table of steps in the crate docs: each line of the script and what it became.
fn steps_table(plan: &Plan) -> String {
    let mut table = String::new();
    for step in &plan.steps {
        let became = match &step.kind {
            StepKind::ShellOptions => "nothing: a failing step stops the build".to_owned(),
            StepKind::Variable { .. } => "a variable, translated where it is used".to_owned(),
            StepKind::ChangeDir { dir } => format!("later steps run in `{dir}`"),
            StepKind::InstallUv { .. } => format!(
                "the pinned, hash-checked uv {} in the cached build layer `uv`",
                uv_pin::VERSION
            ),
            StepKind::UvPlumbing { .. } => "nothing (the pinned uv is on PATH)".to_owned(),
            StepKind::UvSync { layer, .. } => {
                format!("`uv sync` into the layer `{layer}`, keyed on the lock")
            }
            StepKind::PipInstall { layer, .. } => {
                format!("a venv in the layer `{layer}`, keyed on what it installs")
            }
            StepKind::NodeInstall { layer, .. } => {
                format!("the layer `{layer}`, keyed on the lock")
            }
            StepKind::Export { .. } => "a build env modifier".to_owned(),
            StepKind::LayerEnv { layer, .. } => format!("an env modifier of `{layer}`"),
            StepKind::LayerTypes { layer } => format!("the types of the layer `{layer}`"),
            StepKind::Processes { .. } => "`Process`es".to_owned(),
            StepKind::LayerCommand { layer, .. } => {
                format!("not recognised: runs as written in the layer `{layer}`")
            }
            StepKind::Command { .. } => "not recognised: runs as written on every build".to_owned(),
        };
        let _ = writeln!(
            table,
            "//! | {} | `{}` | {became} |",
            step.line,
            table_cell(&step.text)
        );
    }
    table
}

/// The generated `script` helper that runs a command as the inline buildpack ran it, with its constants.
fn script_helper(plan: &Plan) -> String {
    let set = lines(&plan.set_options);
    let variables = lines(
        &plan
            .variables
            .iter()
            .map(|(_, text)| text)
            .collect::<Vec<_>>(),
    );
    format!(
        "\n/// The script's shell.\nconst SHELL: &str = {};\n\n\
         /// What every command that runs as shell starts with: the script's `set` options and variables.\n\
         const PRELUDE: &str = {};\n\n\
         /// `text` run as the inline buildpack ran it: with the script's shell, options and variables, and this\n\
         /// buildpack's layers dir as `$CNB_LAYERS_DIR` and `$1`, its platform dir as `$CNB_PLATFORM_DIR` and `$2`.\n\
         fn script(ctx: &BuildContext, text: &str) -> Command {{\n    \
         let mut command = Command::new(SHELL);\n    \
         command\n        \
         .arg(\"-c\")\n        \
         .arg(format!(\"{{PRELUDE}}{{text}}\"))\n        \
         .arg(SHELL)\n        \
         .arg(ctx.layers_dir())\n        \
         .arg(ctx.platform_dir())\n        \
         .env(\"CNB_LAYERS_DIR\", ctx.layers_dir())\n        \
         .env(\"CNB_PLATFORM_DIR\", ctx.platform_dir());\n    \
         command\n}}\n",
        lit(&plan.shell),
        lit(&(set + &variables)),
    )
}

/// The generated crate's test module around `tests` (one test per recognised step).
fn tests_module(tests: &str, main_uses_path: bool) -> String {
    let mut test_uses = vec!["use super::*;".to_owned()];
    if tests.contains("TestContext") {
        test_uses.push("use libbuildpack::testing::TestContext;".to_owned());
    }
    if tests.contains("OsStr::") {
        test_uses.push("use std::ffi::OsStr;".to_owned());
    }
    let write_helper = if tests.contains("write(app.path()") {
        "\n    fn write(dir: &Path, file: &str, text: &str) {\n        let path = dir.join(file);\n        std::fs::create_dir_all(path.parent().unwrap()).unwrap();\n        std::fs::write(path, text).unwrap();\n    }\n"
    } else {
        ""
    };
    if tests.contains("write(app.path()") && !main_uses_path {
        test_uses.push("use std::path::Path;".to_owned());
    }
    format!(
        "\n/// One test per recognised step.\n#[cfg(test)]\nmod tests {{\n    {}\n{write_helper}{}}}\n",
        test_uses.join("\n    "),
        tests
    )
}

impl Generator<'_> {
    /// A unit test `name` that runs `run` (the lines of a closure taking `ctx_param`) as the whole `build` of an
    /// in-process buildpack, then `checks`.
    pub(super) fn only_test(&mut self, name: &str, ctx_param: &str, run: &str, checks: &str) {
        let _ = write!(
            self.tests,
            "\n    #[test]\n    fn {name}() {{\n        \
             let ctx = TestContext::new(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n        \
             let run = ctx.build(&Only(|{ctx_param}: &mut BuildContext| {{\n{run}        }})).unwrap();\n        \
             assert!(run.succeeded(), \"{{}}\", run.output);\n{checks}    }}\n"
        );
        self.needs_only();
    }

    /// The `Only` wrapper the tests of single steps use, once.
    fn needs_only(&mut self) {
        if !self.tests.contains("struct Only") {
            let type_name = &self.type_name;
            self.tests.insert_str(
                0,
                &format!(
                    "\n    /// One step of `build`, run in-process as a buildpack of its own.\n    \
                     struct Only<F>(F);\n\n    \
                     impl<F: Fn(&mut BuildContext) -> Result<Build, {type_name}Error>> Buildpack for Only<F> {{\n        \
                     type Metadata = NoMetadata;\n        \
                     type Error = {type_name}Error;\n\n        \
                     fn detect(&self, _: &DetectContext) -> Result<Detect, Self::Error> {{\n            \
                     Ok(Detect::pass())\n        \
                     }}\n\n        \
                     fn build(&self, ctx: &mut BuildContext) -> Result<Build, Self::Error> {{\n            \
                     (self.0)(ctx)\n        \
                     }}\n    \
                     }}\n"
                ),
            );
        }
    }
}
