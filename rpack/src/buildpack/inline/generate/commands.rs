//! The functions that make the commands of recognised steps (`uv sync`, `pip install`, node installs), each
//! with its unit test.

use std::fmt::Write as _;

use super::Generator;
use super::keys::key_files;
use super::layers::{LayerScope, Pip};
use super::text::{lit, short};
use crate::buildpack::inline::steps::Step;

/// A step's first line for a doc comment or a test's comment (backquotes made quotes).
fn quoted(step: &Step) -> String {
    short(&step.text).replace('`', "'")
}

/// Each item as a Rust string literal, joined with commas.
fn lits(items: &[String]) -> String {
    items.iter().map(|a| lit(a)).collect::<Vec<_>>().join(", ")
}

/// The arguments of `pip install` (or `uv pip install`): flags, requirements files (relative to the step's dir)
/// and packages.
fn pip_args(step: &Step, pip: &Pip<'_>) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    if pip.via_uv {
        args.push("pip".to_owned());
    }
    args.push("install".to_owned());
    args.extend(pip.flags.iter().cloned());
    for file in pip.files {
        let name = step
            .cwd
            .as_ref()
            .and_then(|d| file.strip_prefix(&format!("{d}/")))
            .unwrap_or(file);
        args.extend(["-r".to_owned(), name.to_owned()]);
    }
    args.extend(pip.packages.iter().cloned());
    args
}

impl Generator<'_> {
    /// A function `signature -> Command` after `build`, documented with the step's line and `about`: `program`
    /// set up by `setup` (method calls on the command).
    fn command_fn(
        &mut self,
        step: &Step,
        about: &str,
        signature: &str,
        program: &str,
        setup: &str,
    ) {
        let _ = write!(
            self.helpers,
            "\n/// line {}: `{}`, {about}\nfn {signature} -> Command {{\n    \
             let mut command = Command::new({program});\n    \
             command{setup};\n    \
             command\n}}\n",
            step.line,
            quoted(step),
        );
    }

    /// A unit test of a step's command: `name`, with a comment naming the step's line, and `body`.
    fn step_test(&mut self, name: &str, step: &Step, body: &str) {
        let _ = write!(
            self.tests,
            "\n    #[test]\n    fn {name}() {{\n        // line {}: `{}`\n{body}    }}\n",
            step.line,
            quoted(step),
        );
    }

    /// The function of a `uv sync` step, the test that its layer's key follows its files, and its test.
    pub(super) fn uv_sync_fn(
        &mut self,
        f: &str,
        step: &Step,
        args: &[String],
        env: &[(String, String)],
        scope: &LayerScope<'_>,
    ) {
        let LayerScope { name, var, .. } = *scope;
        let mut env_lines = String::new();
        for (name, value) in env {
            let _ = write!(env_lines, "\n        .env({}, {})", lit(name), lit(value));
        }
        if !env.iter().any(|(name, _)| name == "UV_PYTHON_DOWNLOADS") {
            env_lines.push_str(
                "\n        // A Python uv downloads would live outside the layers, and the venv would break at launch.\n        .env(\"UV_PYTHON_DOWNLOADS\", \"never\")",
            );
        }
        let args = lits(&[vec!["sync".to_owned()], args.to_vec()].concat());
        let setup = format!(
            "\n        .args([{args}])\n        \
             .env(\"UV_PROJECT_ENVIRONMENT\", {var}){env_lines}\n        \
             .env(\"UV_CACHE_DIR\", uv_layer.join(\"cache\"))\n        \
             // The cache and the venv are separate layers: copies keep the venv whole.\n        \
             .env(\"UV_LINK_MODE\", \"copy\")"
        );
        self.command_fn(
            step,
            &format!("with the pinned uv (in `uv_layer`) into `{name}`."),
            &format!("{f}(uv_layer: &Path, {var}: &Path)"),
            "uv::binary(uv_layer)",
            &setup,
        );
        self.key_follows_files_test(scope, &key_files(scope.layer), step.line);
        let body = format!(
            "        let command = {f}(Path::new(\"/layers/uv\"), Path::new(\"/layers/{name}\"));\n        \
             assert_eq!(command.get_program(), Path::new(\"/layers/uv/bin/uv\"));\n        \
             let args: Vec<_> = command.get_args().collect();\n        \
             assert_eq!(args, [{args}]);\n        \
             let env: Vec<_> = command.get_envs().collect();\n        \
             assert!(env.contains(&(OsStr::new(\"UV_PROJECT_ENVIRONMENT\"), Some(OsStr::new(\"/layers/{name}\")))));\n        \
             assert!(env.contains(&(OsStr::new(\"UV_PYTHON_DOWNLOADS\"), Some(OsStr::new(\"never\")))));\n"
        );
        self.step_test(
            &format!("{f}_installs_into_the_{var}_layer_with_the_pinned_uv"),
            step,
            &body,
        );
    }

    /// The function of a `pip install` (or `uv pip install`) step, the test that its layer's key follows its
    /// files, and its test.
    pub(super) fn pip_fn(&mut self, f: &str, step: &Step, pip: &Pip<'_>, scope: &LayerScope<'_>) {
        let LayerScope { name, var, .. } = *scope;
        let args: Vec<String> = pip_args(step, pip).iter().map(|a| lit(a)).collect();
        let (params, program, extra, call, program_path) = if pip.via_uv {
            (
                format!("uv_layer: &Path, {var}: &Path"),
                "uv::binary(uv_layer)".to_owned(),
                format!(
                    "\n        .arg(\"--python\")\n        .arg({var}.join(\"bin/python\"))\n        .env(\"UV_CACHE_DIR\", uv_layer.join(\"cache\"))\n        .env(\"UV_LINK_MODE\", \"copy\")"
                ),
                format!("{f}(Path::new(\"/layers/uv\"), Path::new(\"/layers/{name}\"))"),
                "/layers/uv/bin/uv".to_owned(),
            )
        } else {
            (
                format!("{var}: &Path"),
                format!("{var}.join(\"bin/pip\")"),
                String::new(),
                format!("{f}(Path::new(\"/layers/{name}\"))"),
                format!("/layers/{name}/bin/pip"),
            )
        };
        self.command_fn(
            step,
            &format!("into the venv in `{name}`."),
            &format!("{f}({params})"),
            &program,
            &format!(".args([{}]){extra}", args.join(", ")),
        );
        let files: Vec<&String> = pip.files.iter().collect();
        self.key_follows_files_test(scope, &files, step.line);
        let expected = args
            .iter()
            .map(|a| format!("OsStr::new({a})"))
            .collect::<Vec<_>>()
            .join(", ");
        let body = format!(
            "        let command = {call};\n        \
             assert_eq!(command.get_program(), Path::new({program_path:?}));\n        \
             let args: Vec<_> = command.get_args().collect();\n        \
             assert!(args.starts_with(&[{expected}]), \"{{args:?}}\");\n"
        );
        self.step_test(&format!("{f}_installs_into_the_venv_in_{var}"), step, &body);
    }

    /// The function of a node install step (run in the layer, where package.json and `lock` were copied), the
    /// test that its layer's key follows its files, and its test.
    pub(super) fn node_fn(
        &mut self,
        f: &str,
        step: &Step,
        argv: &[String],
        lock: &str,
        scope: &LayerScope<'_>,
    ) {
        let LayerScope { name, var, .. } = *scope;
        let program = lit(&argv[0]);
        self.command_fn(
            step,
            &format!("in `{name}` (where package.json and {lock} were copied)."),
            &format!("{f}({var}: &Path)"),
            &program,
            &format!(".args([{}]).current_dir({var})", lits(&argv[1..])),
        );
        self.key_follows_files_test(scope, &key_files(scope.layer), step.line);
        let body = format!(
            "        let command = {f}(Path::new(\"/layers/{name}\"));\n        \
             assert_eq!(command.get_program(), OsStr::new({program}));\n        \
             assert_eq!(command.get_current_dir(), Some(Path::new(\"/layers/{name}\")));\n"
        );
        self.step_test(&format!("{f}_runs_in_the_{var}_layer"), step, &body);
    }
}
