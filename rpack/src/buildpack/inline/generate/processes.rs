//! The processes the script wrote into launch.toml, as `Process`es, with their test.

use std::fmt::Write as _;

use super::expr::{Expr, reads_env, value_expr};
use super::text::{lit, short};
use super::{Generator, Needs};
use crate::buildpack::inline::parse::Part;
use crate::buildpack::inline::steps::{ProcessPlan, StepKind};

/// The generated test's checks of the process at `index`.
pub(super) fn process_checks(index: usize, process: &ProcessPlan) -> String {
    let mut checks = String::new();
    let _ = writeln!(
        checks,
        "        assert_eq!(launch.processes[{index}].kind.as_str(), {});",
        lit(&process.kind)
    );
    if process.default {
        let _ = writeln!(
            checks,
            "        assert!(launch.processes[{index}].default);"
        );
    }
    if let Some(first) = process.command.first().and_then(|p| match p.as_slice() {
        [Part::Lit(text)] => Some(text.clone()),
        _ => None,
    }) {
        let _ = writeln!(
            checks,
            "        assert_eq!(launch.processes[{index}].command[0], {});",
            lit(&first)
        );
    }
    checks
}

impl Generator<'_> {
    /// The `processes` function (the processes the script wrote into launch.toml) and its test; the call `build`
    /// ends with, if there are any.
    pub(super) fn processes_fn(&mut self) -> Option<String> {
        let processes: Vec<(usize, String, ProcessPlan)> = self
            .plan
            .steps
            .iter()
            .flat_map(|s| match &s.kind {
                StepKind::Processes { processes } => processes
                    .iter()
                    .map(|p| (s.line, short(&s.text), p.clone()))
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            })
            .collect();
        if processes.is_empty() {
            return None;
        }
        let mut items = Vec::new();
        let mut any_ctx = false;
        let mut checks = String::new();
        for (index, (line, _, process)) in processes.iter().enumerate() {
            let (item, uses_ctx) = self.process_item(*line, process);
            any_ctx |= uses_ctx;
            items.push(item);
            checks.push_str(&process_checks(index, process));
        }
        let _ = write!(
            self.helpers,
            "\n/// The processes the script wrote into launch.toml.\n\
             fn processes({}) -> Vec<Process> {{\n    vec![\n{}\n    ]\n}}\n",
            if any_ctx { "ctx: &BuildContext" } else { "" },
            items
                .iter()
                .map(|i| format!("{i},"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        let call = if any_ctx {
            "processes(ctx)"
        } else {
            "processes()"
        };
        self.only_test(
            "declares_the_processes_of_the_script",
            if any_ctx { "ctx" } else { "_" },
            &format!("            Ok({call}.into_iter().fold(Build::new(), Build::process))\n"),
            &format!("        let launch = run.launch.unwrap();\n{checks}"),
        );
        Some(call.to_owned())
    }

    /// One `Process::new(..)` of the generated `processes()`, and whether it needs `ctx`.
    pub(super) fn process_item(&mut self, line: usize, process: &ProcessPlan) -> (String, bool) {
        let mut uses_ctx = false;
        let part = |parts: &Vec<Part>, uses_ctx: &mut bool, needs: &mut Needs| -> String {
            if matches!(parts.as_slice(), [Part::Lit(t)] if t == "./uv") {
                needs.uv_launch = true;
                *uses_ctx = true;
                return "ctx.layers_dir().join(\"uv/bin/uv\").display().to_string()".to_owned();
            }
            value_expr(parts, uses_ctx).map_or_else(
                || lit(&crate::buildpack::inline::parse::parts_text(parts)) + ".to_owned()",
                Expr::owned,
            )
        };
        let command: Vec<String> = process
            .command
            .iter()
            .map(|p| part(p, &mut uses_ctx, &mut self.needs))
            .collect();
        let args: Vec<String> = process
            .args
            .iter()
            .map(|p| part(p, &mut uses_ctx, &mut self.needs))
            .collect();
        if uses_ctx {
            self.needs.env_value |= process
                .command
                .iter()
                .chain(&process.args)
                .any(|parts| reads_env(parts));
        }
        let all_lit = command
            .iter()
            .chain(&args)
            .all(|c| c.ends_with(".to_owned()") && !c.contains("format!"));
        let list = |items: &[String]| {
            if all_lit {
                items
                    .iter()
                    .map(|i| i.trim_end_matches(".to_owned()").to_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                items.join(", ")
            }
        };
        let mut item = format!(
            "        // line {line}\n        Process::new(process_type!({}), [{}])",
            lit(&process.kind),
            list(&command)
        );
        if !args.is_empty() {
            let _ = write!(item, "\n            .args([{}])", list(&args));
        }
        if process.default {
            item.push_str("\n            .default(true)");
        }
        if let Some(dir) = &process.working_dir {
            let _ = write!(item, "\n            .working_dir({})", lit(dir));
        }
        (item, uses_ctx)
    }
}
