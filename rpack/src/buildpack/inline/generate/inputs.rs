//! The generated `src/inputs.rs`: what the layer keys read (file hashes, env values, tool versions) and the
//! files the steps put in place, each helper only when the code uses it.

use super::Needs;
use super::text::fill;

/// The generated `InputError` variant for files that cannot be read or written.
const IO_VARIANT: &str = r#"
    /// A file or dir could not be read or written.
    #[error("could not {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },"#;

/// The generated `InputError` variant for files or dirs that cannot be hashed.
const HASH_VARIANT: &str = r"
    /// A file or dir could not be hashed.
    #[error(transparent)]
    Hash(#[from] HashError),";

/// The generated `InputError` variants for tools that do not say their version.
const VERSION_VARIANTS: &str = r#"
    /// A tool could not be run for its version.
    #[error("could not run `{program}` for its version")]
    RunVersion {
        /// The tool.
        program: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A tool ran but did not say its version.
    #[error("`{program}` did not say its version: {stderr}")]
    Version {
        /// The tool.
        program: &'static str,
        /// What it said instead.
        stderr: String,
    },"#;

/// The generated `io` helper that makes an [`IO_VARIANT`] error.
const IO_FN: &str = r"
fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> InputError + 'a {
    move |source| InputError::Io { action, path: path.to_owned(), source }
}
";

/// The generated `sha256_of`: libbuildpack's hashes of a file or a tree, `absent` for nothing.
const SHA256_FN: &str = r#"
/// sha256 of a file, or of the tree under a dir (libbuildpack's `sha256_file` and `sha256_dir`, streamed);
/// `absent` when there is nothing at `path`.
///
/// # Errors
/// When something at `path` cannot be read.
pub fn sha256_of(path: &Path) -> Result<String, InputError> {
    if path.is_dir() {
        Ok(sha256_dir(path)?)
    } else if path.exists() {
        Ok(sha256_file(path)?)
    } else {
        Ok("absent".to_owned())
    }
}
"#;

/// The generated `env_value`.
const ENV_VALUE_FN: &str = r"
/// The value of an env var the script read: project.toml's build env (the platform env), else the
/// build's own env, else empty.
#[must_use]
pub fn env_value(env: &PlatformEnv, name: &str) -> String {
    env.get(name)
        .map(str::to_owned)
        .or_else(|| std::env::var(name).ok())
        .unwrap_or_default()
}
";

/// The generated version of a tool: `@FN@` runs `@PROGRAM@ @ARGS@`.
const VERSION_FN: &str = r#"
/// @DOC@
///
/// # Errors
/// When `@PROGRAM@` cannot run or fails.
pub fn @FN@() -> Result<String, InputError> {
    let out = std::process::Command::new("@PROGRAM@")
        .args(@ARGS@)
        .output()
        .map_err(|source| InputError::RunVersion { program: "@PROGRAM@", source })?;
    if !out.status.success() {
        return Err(InputError::Version {
            program: "@PROGRAM@",
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
"#;

/// The generated `copy_into`, for files a step puts in place.
const COPY_FN: &str = r#"
/// Copies `files` of `from` (those that exist) into `to`.
///
/// # Errors
/// When a file cannot be copied.
pub fn copy_into(from: &Path, files: &[&str], to: &Path) -> Result<(), InputError> {
    for file in files {
        let source = from.join(file);
        if source.is_file() {
            std::fs::copy(&source, to.join(file)).map_err(io("copy", &source))?;
        }
    }
    Ok(())
}
"#;

/// The generated `link` from the app to a layer.
const LINK_FN: &str = r#"
/// Makes `link` a symlink to `target` (the app's `node_modules` to the layer's), unless the app has one.
///
/// # Errors
/// When the link cannot be made.
pub fn link(link: &Path, target: &Path) -> Result<(), InputError> {
    if link.symlink_metadata().is_ok() {
        return Ok(());
    }
    std::os::unix::fs::symlink(target, link).map_err(io("link", link))
}
"#;

/// The generated `src/inputs.rs`: its imports and error type, then each helper the code uses.
pub(super) fn inputs_rs(needs: &Needs) -> String {
    let files = needs.copy || needs.link;
    let versions = needs.python || needs.node;
    // The key functions return `InputError` even when only env vars are read: then it keeps `Io`.
    let io = files || !(needs.sha256 || versions);
    let mut uses = Vec::new();
    match (needs.sha256 || files, io) {
        (true, true) => uses.push("use std::path::{Path, PathBuf};"),
        (true, false) => uses.push("use std::path::Path;"),
        (false, true) => uses.push("use std::path::PathBuf;"),
        (false, false) => {}
    }
    if needs.env_value {
        uses.push("use libbuildpack::PlatformEnv;");
    }
    if needs.sha256 {
        uses.push("use libbuildpack::layer::{HashError, sha256_dir, sha256_file};");
    }
    let mut out = format!(
        "//! What the layers are keyed on and the files the steps put in place.\n\n{}\n\n\
         /// An input could not be read, or a file could not be put in place.\n\
         #[derive(Debug, thiserror::Error)]\n\
         pub enum InputError {{",
        uses.join("\n")
    );
    for (wanted, variant) in [
        (io, IO_VARIANT),
        (needs.sha256, HASH_VARIANT),
        (versions, VERSION_VARIANTS),
    ] {
        if wanted {
            out.push_str(variant);
        }
    }
    out.push_str("\n}\n");
    let version = |f: &str, program: &str, args: &str, doc: &str| {
        fill(
            VERSION_FN,
            &[
                ("FN", f),
                ("PROGRAM", program),
                ("ARGS", args),
                ("DOC", doc),
            ],
        )
    };
    let helpers = [
        (files, IO_FN.to_owned()),
        (needs.sha256, SHA256_FN.to_owned()),
        (needs.env_value, ENV_VALUE_FN.to_owned()),
        (
            needs.python,
            version(
                "python",
                "python3",
                "[\"-c\", \"import sys; print(sys.version)\"]",
                "The stack's Python: a venv is made for one.",
            ),
        ),
        (
            needs.node,
            version(
                "node",
                "node",
                "[\"--version\"]",
                "The stack's node: `node_modules` may hold native modules built for it.",
            ),
        ),
        (needs.copy, COPY_FN.to_owned()),
        (needs.link, LINK_FN.to_owned()),
    ];
    for (wanted, helper) in helpers {
        if wanted {
            out.push_str(&helper);
        }
    }
    out
}

/// Whether the generated crate has `src/inputs.rs`.
pub(super) fn main_needs_inputs(needs: &Needs) -> bool {
    needs.uv
        || needs.sha256
        || needs.env_value
        || needs.python
        || needs.node
        || needs.link
        || needs.copy
}
