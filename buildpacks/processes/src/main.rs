//! The processes buildpack: turns a `Procfile` into launch processes (`web` is the default), each
//! run through `bash -c` so `${PORT:-8080}` works. Without a Procfile it infers a web process for
//! apps served by gunicorn or uvicorn, or fails saying how to declare one.

mod infer;
mod procfile;

use std::path::PathBuf;

use libbuildpack::prelude::*;

/// The buildpack.
pub struct Processes;

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessesError {
    /// The Procfile could not be read.
    #[error("could not read {}", path.display())]
    ReadProcfile {
        /// The Procfile.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Procfile has a line that is not `<type>: <command>`.
    #[error(transparent)]
    ParseProcfile(#[from] procfile::ProcfileError),
    /// The Procfile declares no process.
    #[error(
        "the Procfile declares no process; add a line like `web: gunicorn --bind 0.0.0.0:${{PORT:-8080}} app:app`"
    )]
    EmptyProcfile,
    /// There is no Procfile and no web process could be inferred.
    #[error(transparent)]
    InferWebProcess(#[from] infer::InferError),
}

/// Files that make this buildpack take part: the Procfile, or a Python project it can infer for.
const DETECT_FILES: [&str; 3] = ["Procfile", "requirements.txt", "pyproject.toml"];

impl Buildpack for Processes {
    type Metadata = NoMetadata;
    type Error = ProcessesError;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, ProcessesError> {
        if DETECT_FILES.iter().any(|f| ctx.app_dir().join(f).is_file()) {
            Ok(Detect::pass())
        } else {
            Ok(Detect::fail(
                "no Procfile, requirements.txt or pyproject.toml",
            ))
        }
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, ProcessesError> {
        ctx.output().section("Processes");
        let path = ctx.app_dir().join("Procfile");
        let entries = if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .map_err(|source| ProcessesError::ReadProcfile { path, source })?;
            let entries = procfile::parse(&text)?;
            if entries.is_empty() {
                return Err(ProcessesError::EmptyProcfile);
            }
            ctx.output().step("Using the Procfile");
            entries
        } else {
            let inferred = infer::infer(ctx.app_dir())?;
            ctx.output().step(format!(
                "No Procfile: serving {} with {} (add a Procfile to choose the command)",
                inferred.target,
                inferred.server.name()
            ));
            vec![procfile::Entry {
                kind: process_type!("web"),
                command: inferred.server.command(&inferred.target),
            }]
        };
        for entry in &entries {
            ctx.output()
                .detail(format!("{}: {}", entry.kind, entry.command));
        }
        Ok(procfile::processes(&entries)
            .into_iter()
            .fold(Build::new(), Build::process))
    }
}

buildpack_main!(Processes);

#[cfg(test)]
mod tests {
    use super::*;
    use libbuildpack::testing::{TestContext, assert_contains};

    fn context() -> TestContext {
        TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap()
    }

    #[test]
    fn detects_procfile_or_python_project() {
        let ctx = context();
        let run = ctx.detect(&Processes).unwrap();
        assert_eq!(run.exit_code, 100, "{}", run.output);
        ctx.app_file("pyproject.toml", "").unwrap();
        assert!(ctx.detect(&Processes).unwrap().passed());
    }

    #[test]
    fn procfile_processes_run_through_bash() {
        let ctx = context();
        ctx.app_file(
            "Procfile",
            "web: gunicorn --bind 0.0.0.0:${PORT:-8080} app:app\nworker: python worker.py\n",
        )
        .unwrap();
        let run = ctx.build(&Processes).unwrap();
        assert!(run.succeeded(), "{}", run.output);
        let processes = run.launch.unwrap().processes;
        assert_eq!(processes.len(), 2);
        assert_eq!(processes[0].kind.as_str(), "web");
        assert!(processes[0].default);
        assert_eq!(
            processes[0].command,
            [
                "bash",
                "-c",
                "gunicorn --bind 0.0.0.0:${PORT:-8080} app:app"
            ]
        );
        assert_eq!(processes[1].kind.as_str(), "worker");
        assert!(!processes[1].default);
    }

    #[test]
    fn infers_uvicorn_web_process() {
        let ctx = context();
        ctx.app_file("requirements.txt", "fastapi\nuvicorn\n")
            .unwrap();
        ctx.app_file("main.py", "from fastapi import FastAPI\napp = FastAPI()\n")
            .unwrap();
        let run = ctx.build(&Processes).unwrap();
        assert!(run.succeeded(), "{}", run.output);
        assert_contains!(run.output, "No Procfile: serving main:app with uvicorn");
        let web = &run.launch.unwrap().processes[0];
        assert_eq!(
            web.command[2],
            "uvicorn main:app --host 0.0.0.0 --port \"${PORT:-8080}\""
        );
    }

    #[test]
    fn without_procfile_or_server_says_how_to_declare_one() {
        let ctx = context();
        ctx.app_file("requirements.txt", "requests\n").unwrap();
        let run = ctx.build(&Processes).unwrap();
        assert!(!run.succeeded());
        assert_contains!(run.output, "Add a Procfile");
    }

    #[test]
    fn bad_procfile_names_the_line() {
        let ctx = context();
        ctx.app_file("Procfile", "# hi\nweb gunicorn\n").unwrap();
        let run = ctx.build(&Processes).unwrap();
        assert!(!run.succeeded());
        assert_contains!(run.output, "Procfile line 2");
    }
}
