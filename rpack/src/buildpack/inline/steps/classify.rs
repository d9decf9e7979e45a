//! Each command to a step: pipelines, simple commands and builtins go to the recogniser that takes them, and
//! what none takes stays the script's own command.

use super::installs::{is_uv_install_url, version_in};
use super::words::join_cwd;
use super::{Classifier, Step, StepKind, UvSource};
use crate::buildpack::inline::parse::{Body, Command, Part, Simple, Word};

impl Classifier<'_> {
    pub(super) fn step(&mut self, command: &Command, kind: StepKind) {
        let run_text = self.run_text(command);
        self.plan.steps.push(Step {
            line: command.line,
            text: command.text.clone(),
            run_text,
            cwd: self.cwd.clone(),
            kind,
        });
    }

    pub(super) fn classify(&mut self, command: &Command) {
        let kind = match &command.body {
            Body::Simple(simple) => self.simple(command, simple),
            Body::Pipeline(parts) => self.pipeline(parts),
            Body::Compound => None,
        };
        let kind = kind.unwrap_or_else(|| self.unrecognised(command));
        self.step(command, kind);
    }

    pub(super) fn unrecognised(&self, command: &Command) -> StepKind {
        let inputs = self.inputs_of(command);
        match self.written_layer(command) {
            Some(layer) => StepKind::LayerCommand { layer, inputs },
            None => StepKind::Command { inputs },
        }
    }

    pub(super) fn pipeline(&mut self, parts: &[Simple]) -> Option<StepKind> {
        // `curl -LsSf URL | sh`, `wget -qO- URL | bash`.
        let [fetch, shell] = parts else { return None };
        let fetcher = fetch.name()?;
        let shell_name = shell.name()?;
        if !matches!(fetcher.as_str(), "curl" | "wget")
            || !matches!(shell_name.as_str(), "sh" | "bash" | "/bin/sh" | "/bin/bash")
        {
            return None;
        }
        let url = fetch
            .words
            .iter()
            .skip(1)
            .filter_map(Word::literal)
            .find(|w| w.contains("://"))?;
        if !is_uv_install_url(&url) {
            return None;
        }
        let asked = version_in(&url).or_else(|| {
            shell
                .assignments
                .iter()
                .find(|(n, _)| n == "UV_VERSION")
                .and_then(|(_, w)| w.literal())
        });
        self.uv_installed = true;
        Some(StepKind::InstallUv {
            source: UvSource::InstallScript { url },
            asked,
        })
    }

    pub(super) fn simple(&mut self, command: &Command, simple: &Simple) -> Option<StepKind> {
        if simple.words.is_empty() {
            // `name=value` alone: a script variable.
            if simple.redirects.is_empty() && simple.assignments.len() == 1 {
                let (name, value) = &simple.assignments[0];
                let resolved = self.resolve(&value.parts);
                self.vars.insert(name.clone(), resolved);
                self.var_text
                    .push((name.clone(), format!("{name}={}", value.raw)));
                return Some(StepKind::Variable { name: name.clone() });
            }
            return None;
        }
        let name = simple.name().unwrap_or_default();
        let args: Vec<&Word> = simple.words.iter().skip(1).collect();
        let literal_args: Vec<Option<String>> = args.iter().map(|w| w.literal()).collect();
        let arg = |i: usize| literal_args.get(i).cloned().flatten();

        if let Some(decided) = self.builtin(command, simple, &name, &args, &arg) {
            return decided;
        }

        // Writes of launch.toml, <layer>.toml and env files.
        if let Some(kind) = self.write(simple, &name, &args) {
            return Some(kind);
        }

        // Copies and links of uv, `chmod +x uv`, unpacking the downloaded uv.
        if let Some(kind) = self.uv_file_step(&name, &args) {
            return Some(kind);
        }

        // A download of a uv release.
        if matches!(name.as_str(), "curl" | "wget") {
            return self.uv_download(&literal_args);
        }

        if let Some(kind) = self.venv_step(&name, &args, &arg) {
            return Some(kind);
        }

        if let Some(decided) = self.pip_command(simple, &name, &arg) {
            return decided;
        }

        if self.is_uv(&simple.words[0]) {
            if arg(0).as_deref() == Some("sync") {
                return self.uv_sync(simple, &literal_args);
            }
            return None;
        }

        if let Some(kind) = self.node_install(&name, &literal_args) {
            return Some(kind);
        }
        None
    }

    /// `set`, `cd`, `export` and `source`: `Some` with what the step is (`Some(None)`: not recognised) when
    /// `name` is one of them, `None` to look further.
    #[allow(
        clippy::option_option,
        reason = "decided (maybe unrecognised) or not one of these"
    )]
    pub(super) fn builtin(
        &mut self,
        command: &Command,
        simple: &Simple,
        name: &str,
        args: &[&Word],
        arg: &dyn Fn(usize) -> Option<String>,
    ) -> Option<Option<StepKind>> {
        match name {
            "set" if simple.redirects.is_empty() => {
                self.plan.set_options.push(command.text.clone());
                return Some(Some(StepKind::ShellOptions));
            }
            "cd" if args.len() == 1 => {
                if let Some(dir) = arg(0)
                    && !dir.starts_with('/')
                    && !dir.contains("..")
                {
                    let dir = join_cwd(self.cwd.as_deref(), dir.trim_start_matches("./"));
                    let dir = dir.trim_end_matches('/').to_owned();
                    self.cwd = (!dir.is_empty() && dir != ".").then(|| dir.clone());
                    return Some(Some(StepKind::ChangeDir { dir }));
                }
                return Some(None);
            }
            "export" => return Some(self.export(simple)),
            "source" | "." if args.len() == 1 => {
                let target = self.resolve(&args[0].parts);
                if matches!(
                    target.as_slice(),
                    [Part::Var(h), Part::Lit(rest)] if h == "HOME" && (rest == "/.local/bin/env" || rest == "/.cargo/env")
                ) {
                    return Some(Some(StepKind::UvPlumbing {
                        why: "uv's installer env file only puts uv on PATH; the pinned uv's layer is on PATH".into(),
                    }));
                }
                return Some(None);
            }
            _ => {}
        }
        None
    }
}
