//! `rpack buildpack new NAME --from-inline PATH/project.toml`: the crate, then (asked or told) project.toml
//! rewritten to use it, and (with `--measure`) the app's build times before and after.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;
use rpack::Error;
use rpack::build::platform::BuilderSource;
use rpack::buildpack::inline::{self, Options, rewrite, steps::StepKind};
use rpack::buildpack::scaffold::Sdk;
use rpack::ops::measure;
use rpack::store::Store;
use rpack::toolbox::ui::Ui;

/// The options of `rpack buildpack new` that convert an inline script.
#[derive(Args, Debug)]
pub struct FromInlineArgs {
    /// Convert the inline buildpack (`[io.buildpacks.group.script]`) of this project.toml instead of writing the
    /// hello-world scaffold.
    #[arg(long = "from-inline", value_name = "PROJECT_TOML")]
    pub project: Option<PathBuf>,
    /// The id of the inline buildpack to convert, when project.toml has several.
    #[arg(long, value_name = "ID", requires = "project")]
    pub group: Option<String>,
    /// Rewrite project.toml's group entry to use the new crate (the original is kept as project.toml.bak).
    /// Without --rewrite or --no-rewrite rpack asks when it runs in a terminal, and else leaves it.
    #[arg(long, requires = "project", conflicts_with = "no_rewrite")]
    pub rewrite: bool,
    /// Leave project.toml as it is.
    #[arg(long, requires = "project")]
    pub no_rewrite: bool,
    /// Build the app with the inline script and with the new buildpack (a first build and a no-change rebuild
    /// each, with the real lifecycle, on copies of the app) and print the times.
    #[arg(long, requires = "project")]
    pub measure: bool,
    /// With --measure: the builder (an image in the store, or a builder.toml); default: project.toml's.
    #[arg(long, requires = "measure")]
    pub builder: Option<String>,
}

fn ask(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok()
        && matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
}

/// What became of the script's steps, and what the user should know.
fn summarize(converted: &inline::Converted, project: &Path, ui: &Ui) {
    let recognised = converted
        .plan
        .steps
        .iter()
        .filter(|s| {
            !matches!(
                s.kind,
                StepKind::Command { .. } | StepKind::LayerCommand { .. }
            )
        })
        .count();
    let kept: Vec<String> = converted
        .plan
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.kind,
                StepKind::Command { .. } | StepKind::LayerCommand { .. }
            )
        })
        .map(|s| format!("line {}", s.line))
        .collect();
    ui.step(&format!(
        "Converted {} steps of {}'s inline buildpack {:?}: {recognised} recognised{}",
        converted.plan.steps.len(),
        project.display(),
        converted.inline_id,
        if kept.is_empty() {
            String::new()
        } else {
            format!(", {} kept as shell ({})", kept.len(), kept.join(", "))
        }
    ));
    for warning in &converted.plan.warnings {
        ui.warn(warning);
    }
}

/// Converts, then rewrites and measures as asked.
pub fn run(
    name: &str,
    id: Option<String>,
    sdk: Option<&str>,
    args: FromInlineArgs,
    ui: &Ui,
) -> Result<(), Error> {
    let FromInlineArgs {
        project: Some(project),
        group,
        rewrite: rewrite_asked,
        no_rewrite,
        measure,
        builder,
    } = args
    else {
        return Ok(());
    };
    let options = Options {
        parent: PathBuf::from("."),
        name: name.to_owned(),
        id,
        sdk: Sdk::parse(sdk),
        project: project.clone(),
        group,
    };
    let converted = inline::convert(&options)?;
    summarize(&converted, &project, ui);
    println!("{}", converted.dir.display());

    let text = &converted.project_text;
    let comment = converted.rewrite_comment(name);
    let rewritten = rewrite::rewritten(&project, text, converted.index, &converted.uri, &comment)
        .map_err(inline::InlineError::from)?;
    let rewrite = if rewrite_asked {
        true
    } else if no_rewrite || !std::io::stdin().is_terminal() {
        false
    } else {
        ask(&format!(
            "Rewrite {} to use {name}? The original is kept as project.toml.bak.",
            project.display()
        ))
    };
    if rewrite {
        let backup = rewrite::rewrite(&project, converted.index, &converted.uri, &comment)
            .map_err(inline::InlineError::from)?;
        ui.step(&format!(
            "Rewrote {}: its group now uses {name} (uri = {:?}); the original is {}",
            project.display(),
            converted.uri,
            backup.display()
        ));
    } else {
        ui.step(&format!(
            "project.toml is unchanged: `--rewrite` replaces its inline group entry with uri = {:?}",
            converted.uri
        ));
    }

    if measure {
        let app = project
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let store = Store::from_env()?;
        let builder = BuilderSource::resolve(builder.as_deref(), app)?;
        let measured = measure::measure(&store, app, text, &rewritten, &builder, name, ui)?;
        print!("{}", measured.to_text(name));
    }
    Ok(())
}
