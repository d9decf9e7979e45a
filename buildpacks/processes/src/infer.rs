//! Inferring a web process for apps served by gunicorn (WSGI) or uvicorn (ASGI), when the app has
//! no Procfile.

use std::path::Path;

/// Files whose module is tried as the app, in order.
const MODULES: [&str; 6] = ["main", "app", "wsgi", "asgi", "server", "application"];

/// Names the app object commonly has, in order.
const OBJECTS: [&str; 2] = ["app", "application"];

/// Which server the app depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// gunicorn, serving a WSGI app.
    Gunicorn,
    /// uvicorn, serving an ASGI app.
    Uvicorn,
}

impl Server {
    /// The package name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Gunicorn => "gunicorn",
            Self::Uvicorn => "uvicorn",
        }
    }

    /// The shell command serving `target` (`module:object`) on `$PORT`, 8080 when unset.
    #[must_use]
    pub fn command(self, target: &str) -> String {
        match self {
            Self::Gunicorn => format!("gunicorn --bind \"0.0.0.0:${{PORT:-8080}}\" {target}"),
            Self::Uvicorn => {
                format!("uvicorn {target} --host 0.0.0.0 --port \"${{PORT:-8080}}\"")
            }
        }
    }
}

/// What was inferred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    /// The server.
    pub server: Server,
    /// `module:object`.
    pub target: String,
}

/// Why no web process could be inferred; both say how to declare one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InferError {
    /// Neither gunicorn nor uvicorn is a dependency.
    #[error(
        "the app has no Procfile, and neither gunicorn nor uvicorn is among its dependencies, so there is no \
         process to start it.\nAdd a Procfile to the app's root with a web process, e.g.:\n    \
         web: gunicorn --bind 0.0.0.0:${{PORT:-8080}} app:app\nor\n    \
         web: uvicorn main:app --host 0.0.0.0 --port ${{PORT:-8080}}"
    )]
    NoServer,
    /// The server is there, but no module defines an app object.
    #[error(
        "{} is a dependency, but none of {} defines `app` or `application` at top level.\n\
         Add a Procfile to the app's root naming the module, e.g.:\n    web: {}",
        server.name(),
        MODULES.map(|m| format!("{m}.py")).join(", "),
        server.command("mypackage.module:app")
    )]
    NoAppObject {
        /// The server found.
        server: Server,
    },
}

/// The servers among the app's dependencies (uvicorn first), from `requirements.txt`,
/// `pyproject.toml` and `uv.lock`.
#[must_use]
pub fn servers_in(app_dir: &Path) -> Vec<Server> {
    let mut text = String::new();
    for file in ["requirements.txt", "pyproject.toml", "uv.lock"] {
        if let Ok(content) = std::fs::read_to_string(app_dir.join(file)) {
            text.push_str(&content.to_ascii_lowercase());
            text.push('\n');
        }
    }
    [Server::Uvicorn, Server::Gunicorn]
        .into_iter()
        .filter(|server| mentions_package(&text, server.name()))
        .collect()
}

/// Whether `name` appears as a whole package name: at a line start (requirements.txt) or right
/// after a quote (pyproject.toml arrays, uv.lock `name = "..."`).
fn mentions_package(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        let starts = matches!(before, None | Some('\n' | '"' | '\''));
        let ends = !matches!(after, Some(c) if c.is_ascii_alphanumeric() || c == '-' || c == '_');
        starts && ends
    })
}

/// Infers the web process of the app in `app_dir`.
///
/// # Errors
///
/// [`InferError`] when the app depends on neither server or no module defines an app object.
pub fn infer(app_dir: &Path) -> Result<Inferred, InferError> {
    let servers = servers_in(app_dir);
    let Some(&first) = servers.first() else {
        return Err(InferError::NoServer);
    };
    let (module, object, source) = MODULES
        .iter()
        .find_map(|module| {
            let source = std::fs::read_to_string(app_dir.join(format!("{module}.py"))).ok()?;
            let object = OBJECTS.iter().find(|object| defines(&source, object))?;
            Some((*module, *object, source))
        })
        .ok_or(InferError::NoAppObject { server: first })?;
    // With both servers (gunicorn running uvicorn workers is common), the app's framework decides.
    let asgi = ["fastapi", "starlette", "quart", "litestar"]
        .iter()
        .any(|framework| {
            source.contains(&format!("import {framework}"))
                || source.contains(&format!("from {framework}"))
        });
    let server =
        if servers.contains(&Server::Uvicorn) && (asgi || !servers.contains(&Server::Gunicorn)) {
            Server::Uvicorn
        } else {
            Server::Gunicorn
        };
    Ok(Inferred {
        server,
        target: format!("{module}:{object}"),
    })
}

/// Whether `source` assigns `name` at top level (`app = Flask(__name__)`, `app: FastAPI = ...`).
fn defines(source: &str, name: &str) -> bool {
    source.lines().any(|line| {
        line.strip_prefix(name).is_some_and(|rest| {
            let rest = rest.trim_start();
            (rest.starts_with('=') && !rest.starts_with("==")) || rest.starts_with(':')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn gunicorn_flask_app() {
        let dir = app(&[
            ("requirements.txt", "flask==3.0.3\ngunicorn==23.0.0\n"),
            ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
        ]);
        let inferred = infer(dir.path()).unwrap();
        assert_eq!(inferred.server, Server::Gunicorn);
        assert_eq!(inferred.target, "app:app");
        assert_eq!(
            inferred.server.command(&inferred.target),
            "gunicorn --bind \"0.0.0.0:${PORT:-8080}\" app:app"
        );
    }

    #[test]
    fn uvicorn_fastapi_app_from_pyproject() {
        let dir = app(&[
            (
                "pyproject.toml",
                "[project]\ndependencies = [\"fastapi==0.115.0\", \"uvicorn[standard]>=0.30\", \"gunicorn\"]\n",
            ),
            (
                "main.py",
                "from fastapi import FastAPI\napp: FastAPI = FastAPI()\n",
            ),
        ]);
        let inferred = infer(dir.path()).unwrap();
        assert_eq!(inferred.server, Server::Uvicorn);
        assert_eq!(inferred.target, "main:app");
    }

    #[test]
    fn similar_names_do_not_count() {
        let dir = app(&[("requirements.txt", "gunicorn-extras\nmy-uvicorn\n")]);
        assert_eq!(infer(dir.path()), Err(InferError::NoServer));
    }

    #[test]
    fn comparison_is_not_an_assignment() {
        let dir = app(&[
            ("requirements.txt", "gunicorn\n"),
            ("app.py", "app == 1\n"),
            ("wsgi.py", "application = make()\n"),
        ]);
        assert_eq!(infer(dir.path()).unwrap().target, "wsgi:application");
    }

    #[test]
    fn server_without_app_object_says_what_to_write() {
        let dir = app(&[("requirements.txt", "uvicorn\n"), ("run.py", "x = 1\n")]);
        let err = infer(dir.path()).unwrap_err();
        assert_eq!(
            err,
            InferError::NoAppObject {
                server: Server::Uvicorn
            }
        );
        assert!(
            err.to_string()
                .contains("web: uvicorn mypackage.module:app"),
            "{err}"
        );
    }
}
