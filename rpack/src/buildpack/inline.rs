//! `rpack buildpack new NAME --from-inline PATH/project.toml`: a project.toml inline script turned into a Rust
//! buildpack crate whose `build()` does what the script did, typed and cached, with a unit test per recognised
//! step and a real-build test; and, on request, project.toml rewritten to use it.
//!
//! [`parse`] reads the script as shell, [`steps`] says what each command does in buildpack terms, [`generate`]
//! writes the crate, [`rewrite`] edits project.toml. (The app's build times before and after are measured by
//! [`crate::ops::measure`], which builds.)

pub(crate) mod generate;
pub(crate) mod parse;
pub mod rewrite;
pub mod steps;

// The uv pin of the shipped uv buildpack, compiled in from its one source: generated crates get its values.
#[path = "../../../buildpacks/uv/src/uv/pin.rs"]
pub(crate) mod uv_pin;

use std::path::{Path, PathBuf};

use libbuildpack::data::{BuildpackId, ProjectToml, TomlFileError};

use crate::buildpack::scaffold::{ScaffoldError, Sdk};

/// What failed while converting an inline script.
#[derive(Debug, thiserror::Error)]
pub enum InlineError {
    /// project.toml could not be read.
    #[error(transparent)]
    ReadProject(#[from] TomlFileError),
    /// project.toml has no inline script.
    #[error("{path} has no inline buildpack ([io.buildpacks.group.script])")]
    NoInlineScript {
        /// project.toml.
        path: PathBuf,
    },
    /// Several inline scripts, and no `--group` to pick one.
    #[error("{path} has several inline buildpacks ({ids}): say which with --group")]
    SeveralInlineScripts {
        /// project.toml.
        path: PathBuf,
        /// Their ids.
        ids: String,
    },
    /// `--group` names no inline buildpack.
    #[error("{path} has no inline buildpack with id {id:?} (it has: {ids})")]
    NoSuchGroup {
        /// project.toml.
        path: PathBuf,
        /// The id asked for.
        id: String,
        /// The inline ids there are.
        ids: String,
    },
    /// The script is not shell rpack can read.
    #[error("{path}: the inline script of io.buildpacks.group[{index}] cannot be read as shell")]
    Parse {
        /// project.toml.
        path: PathBuf,
        /// The entry.
        index: usize,
        /// Where and why.
        #[source]
        source: parse::ParseError,
    },
    /// The crate could not be made.
    #[error(transparent)]
    Scaffold(#[from] ScaffoldError),
    /// project.toml could not be rewritten.
    #[error(transparent)]
    Rewrite(#[from] rewrite::RewriteError),
}

impl InlineError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::SeveralInlineScripts { .. } | Self::NoSuchGroup { .. } => {
                Some("give --group with the id of the inline buildpack to convert".to_owned())
            }
            Self::Parse { .. } => Some(
                "fix the script (pack would run it with the same shell), or convert the part rpack can read by hand"
                    .to_owned(),
            ),
            Self::Scaffold(e) => e.hint(),
            Self::Rewrite(e) => e.hint(),
            _ => None,
        }
    }
}

/// What to convert and where the crate goes.
#[derive(Clone, Debug)]
pub struct Options {
    /// The dir the crate is made in.
    pub parent: PathBuf,
    /// The crate's name.
    pub name: String,
    /// The buildpack id (default: the inline buildpack's).
    pub id: Option<String>,
    /// Where the SDK comes from.
    pub sdk: Sdk,
    /// The project.toml.
    pub project: PathBuf,
    /// The id of the inline buildpack to convert, when there are several.
    pub group: Option<String>,
}

/// A converted script.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The crate's dir.
    pub dir: PathBuf,
    /// What the script's steps became.
    pub plan: steps::Plan,
    /// The group entry converted.
    pub index: usize,
    /// The inline buildpack's id.
    pub inline_id: String,
    /// The crate's dir relative to project.toml's dir: the `uri` of the new group entry.
    pub uri: String,
    /// project.toml's text, as it was read.
    pub project_text: String,
}

impl Converted {
    /// The comment above the new group entry in a rewritten project.toml.
    #[must_use]
    pub fn rewrite_comment(&self, name: &str) -> String {
        format!(
            "The inline buildpack {:?} that was here is now the Rust buildpack {name} (rpack buildpack new\n--from-inline); project.toml.bak has the script.",
            self.inline_id
        )
    }
}

/// The inline entry to convert: its index, id and script.
fn pick(
    path: &Path,
    project: &ProjectToml,
    group: Option<&str>,
) -> Result<
    (
        usize,
        String,
        libbuildpack::data::project_toml::InlineScript,
    ),
    InlineError,
> {
    let entries: Vec<(
        usize,
        String,
        libbuildpack::data::project_toml::InlineScript,
    )> = project
        .io_buildpacks
        .iter()
        .flat_map(|io| io.group.iter().enumerate())
        .filter_map(|(i, e)| {
            e.script
                .clone()
                .map(|s| (i, e.id.clone().unwrap_or_default(), s))
        })
        .collect();
    let ids = entries
        .iter()
        .map(|(_, id, _)| id.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match group {
        Some(id) => entries
            .into_iter()
            .find(|(_, i, _)| i == id)
            .ok_or_else(|| InlineError::NoSuchGroup {
                path: path.to_owned(),
                id: id.to_owned(),
                ids,
            }),
        None => match entries.len() {
            0 => Err(InlineError::NoInlineScript {
                path: path.to_owned(),
            }),
            1 => Ok(entries.into_iter().next().unwrap_or_default()),
            _ => Err(InlineError::SeveralInlineScripts {
                path: path.to_owned(),
                ids,
            }),
        },
    }
}

/// The Buildpack API the new buildpack declares: the script's, within what the SDK's runtime supports.
fn api_for(script_api: Option<&str>) -> String {
    let minor = script_api
        .and_then(|a| a.strip_prefix("0."))
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(10);
    format!("0.{}", minor.clamp(10, 12))
}

/// The new buildpack's id: `--id`, else the inline buildpack's when it is a valid id, else `example/<name>`;
/// after checking the crate name.
fn crate_id(options: &Options, inline_id: &str) -> Result<String, InlineError> {
    let name = &options.name;
    let valid_name = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_name {
        return Err(ScaffoldError::BadName { name: name.clone() }.into());
    }
    let id = match &options.id {
        Some(id) => id.clone(),
        None if BuildpackId::new(inline_id).is_ok() => inline_id.to_owned(),
        None => format!("example/{name}"),
    };
    BuildpackId::new(id.as_str()).map_err(|e| ScaffoldError::BadId {
        id: id.clone(),
        why: e.to_string(),
    })?;
    Ok(id)
}

/// The inline script to convert, as read.
struct Inline {
    /// project.toml's text.
    project_text: String,
    /// Its group entry.
    index: usize,
    /// The inline buildpack's id.
    id: String,
    /// The script's entry.
    script: libbuildpack::data::project_toml::InlineScript,
    /// The script, read as shell.
    parsed: parse::Script,
}

/// Reads project.toml at `path` and the inline script `group` names (or its only one), as shell.
fn read_script(path: &Path, group: Option<&str>) -> Result<Inline, InlineError> {
    let project_text = fs_err::read_to_string(path).map_err(|source| TomlFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let project = ProjectToml::from_toml_str(&project_text, path)?;
    project.validate(path)?;
    let (index, inline_id, script) = pick(path, &project, group)?;
    let parsed = parse::parse(&script.inline).map_err(|source| InlineError::Parse {
        path: path.to_owned(),
        index,
        source,
    })?;
    Ok(Inline {
        project_text,
        index,
        id: inline_id,
        script,
        parsed,
    })
}

/// The app dir: project.toml's dir, absolute and (where it can be) canonical.
fn app_dir_of(project: &Path) -> PathBuf {
    let app_dir = project
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let app_dir = std::path::absolute(app_dir).unwrap_or_else(|_| app_dir.to_owned());
    app_dir.canonicalize().unwrap_or(app_dir)
}

/// The error of writing `path`.
fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> ScaffoldError + use<> {
    let path = path.to_owned();
    move |source| ScaffoldError::Write { path, source }
}

/// The crate's parent dir (made, canonical) and its dir, which must not exist yet.
fn destination(options: &Options) -> Result<(PathBuf, PathBuf), InlineError> {
    fs_err::create_dir_all(&options.parent).map_err(write_err(&options.parent))?;
    let parent = options
        .parent
        .canonicalize()
        .map_err(write_err(&options.parent))?;
    let dest = parent.join(&options.name);
    if dest.exists() {
        return Err(ScaffoldError::Exists { path: dest }.into());
    }
    Ok((parent, dest))
}

/// What the generated crate is made from, besides the plan: names, paths relative to the app, the SDK.
fn source_for(
    options: &Options,
    id: String,
    script: &Inline,
    app_dir: &Path,
    dest: &Path,
) -> generate::Source {
    let crate_in_app = dest
        .strip_prefix(app_dir)
        .ok()
        .and_then(|rel| rel.components().next())
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    generate::Source {
        name: options.name.clone(),
        id,
        api: api_for(script.script.api.as_deref()),
        project_toml: options.project.display().to_string(),
        inline_id: script.id.clone(),
        app_from_integration: rewrite::relative(&dest.join("integration"), app_dir),
        crate_in_app,
        libbuildpack: options.sdk.dependency("libbuildpack", ""),
        libbuildpack_testing: options
            .sdk
            .dependency("libbuildpack", ", features = [\"testing\"]"),
        harness: options.sdk.dependency("libbuildpack-test", ""),
        uri: rewrite::relative(app_dir, dest),
        dev_profiles: match &options.sdk {
            Sdk::Path(root) => generate::dev_profiles(root),
            _ => String::new(),
        },
    }
}

/// Writes `files` into a temp dir in `parent` and renames it to `dest`; with the SDK's `Cargo.lock` when the SDK
/// is a checkout.
fn write_crate(
    parent: &Path,
    dest: &Path,
    files: Vec<(String, String)>,
    sdk: &Sdk,
) -> Result<(), InlineError> {
    let temp = crate::toolbox::scratch::dir_in(parent, ".tmp-").map_err(write_err(parent))?;
    for (rel, text) in files {
        let file = temp.path().join(rel);
        if let Some(dir) = file.parent() {
            fs_err::create_dir_all(dir).map_err(write_err(dir))?;
        }
        fs_err::write(&file, text).map_err(write_err(&file))?;
    }
    // The SDK checkout's lock: the crate builds with the dependency versions the SDK is tested with (and reuses
    // what a shared target dir has compiled already).
    if let Sdk::Path(root) = sdk {
        let lock = root.join("Cargo.lock");
        if lock.is_file() {
            let into = temp.path().join("Cargo.lock");
            fs_err::copy(&lock, &into).map_err(write_err(&into))?;
        }
    }
    crate::toolbox::scratch::commit(|| fs_err::rename(temp.path(), dest))
        .map_err(write_err(dest))?;
    Ok(())
}

/// Reads the inline script of `options.project`, and writes the crate (through a temp dir and a rename).
///
/// # Errors
/// When project.toml cannot be read or has no (single) inline script, the script cannot be read as shell, the
/// name or id is invalid, the dir exists, or a file cannot be written.
pub fn convert(options: &Options) -> Result<Converted, InlineError> {
    let script = read_script(&options.project, options.group.as_deref())?;
    let app_dir = app_dir_of(&options.project);
    let plan = steps::plan(&script.parsed, script.script.shell(), &app_dir);
    let id = crate_id(options, &script.id)?;
    let (parent, dest) = destination(options)?;
    let source = source_for(options, id, &script, &app_dir, &dest);
    let files = generate::formatted(generate::files(&plan, &source));
    write_crate(&parent, &dest, files, &options.sdk)?;
    Ok(Converted {
        dir: dest,
        plan,
        index: script.index,
        inline_id: script.id,
        uri: source.uri,
        project_text: script.project_text,
    })
}

#[cfg(test)]
mod tests;
