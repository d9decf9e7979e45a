//! Where a command's words point (a layer, the app, a file the stack provides, the env), what a command
//! reads and where it writes: what decides a step's layer and key.

use std::collections::BTreeSet;
use std::path::Path;

use super::writes::vars_in_text;
use super::{Classifier, KeyField};
use crate::buildpack::inline::parse::{Body, Command, Part, RedirectOp, Simple, Word};

/// Where a path points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PathRef {
    /// Inside a layer: `$CNB_LAYERS_DIR/<layer>/<rest>`.
    Layer(String, String),
    /// `$CNB_LAYERS_DIR/<layer>.toml`.
    LayerToml(String),
    /// `$CNB_LAYERS_DIR/launch.toml`.
    LaunchToml,
    /// A place where uv was put.
    Uv,
    /// A path in the app dir.
    App(String),
    /// Elsewhere, or not knowable.
    Other,
}

/// Variables the build environment (not the script) provides.
pub(super) const PROVIDED: &[&str] = &[
    "HOME",
    "PATH",
    "PWD",
    "USER",
    "SHELL",
    "TMPDIR",
    "CNB_LAYERS_DIR",
    "CNB_PLATFORM_DIR",
    "CNB_BP_PLAN_PATH",
    "CNB_BUILDPACK_DIR",
    "CNB_TARGET_OS",
    "CNB_TARGET_ARCH",
    "CNB_TARGET_ARCH_VARIANT",
    "CNB_TARGET_DISTRO_NAME",
    "CNB_TARGET_DISTRO_VERSION",
    "CNB_EXEC_ENV",
    "CNB_STACK_ID",
];

pub(super) fn is_special(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_digit())
        || matches!(name, "@" | "*" | "#" | "?" | "$" | "!" | "-")
}

/// Layer names the SDK cannot make.
pub(super) fn valid_layer_name(name: &str) -> bool {
    !name.is_empty()
        && !matches!(name, "launch" | "build" | "store" | "sbom" | "." | "..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub(super) fn join_cwd(cwd: Option<&str>, file: &str) -> String {
    match cwd {
        Some(dir) if !file.starts_with('/') => format!("{}/{file}", dir.trim_end_matches('/')),
        _ => file.to_owned(),
    }
}

pub(super) fn lit_text(parts: &[Part]) -> Option<String> {
    Word {
        raw: String::new(),
        parts: parts.to_vec(),
        span: 0..0,
    }
    .literal()
}

/// `NAME=value` of an `export` argument.
pub(super) fn split(word: &Word) -> Option<(String, Vec<Part>)> {
    let Some(Part::Lit(first)) = word.parts.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let mut value = Vec::new();
    if !rest.is_empty() {
        value.push(Part::Lit(rest.to_owned()));
    }
    value.extend(word.parts[1..].iter().cloned());
    Some((name.to_owned(), value))
}

/// A `PATH`-like value split at `:`.
pub(super) fn split_path_list(parts: &[Part]) -> Vec<Vec<Part>> {
    let mut entries = vec![Vec::new()];
    for part in parts {
        match part {
            Part::Lit(text) => {
                let mut pieces = text.split(':');
                if let Some(first) = pieces.next()
                    && !first.is_empty()
                    && let Some(last) = entries.last_mut()
                {
                    last.push(Part::Lit(first.to_owned()));
                }
                for piece in pieces {
                    entries.push(if piece.is_empty() {
                        Vec::new()
                    } else {
                        vec![Part::Lit(piece.to_owned())]
                    });
                }
            }
            other => {
                if let Some(last) = entries.last_mut() {
                    last.push(other.clone());
                }
            }
        }
    }
    entries.retain(|e| !e.is_empty());
    entries
}

impl Classifier<'_> {
    pub(super) fn resolve(&self, parts: &[Part]) -> Vec<Part> {
        let mut out: Vec<Part> = Vec::new();
        for part in parts {
            match part {
                Part::Var(name) if self.vars.contains_key(name) => {
                    out.extend(self.vars[name].iter().cloned());
                }
                other => out.push(other.clone()),
            }
        }
        // Merge neighbouring literals.
        let mut merged: Vec<Part> = Vec::new();
        for part in out {
            if let (Some(Part::Lit(prev)), Part::Lit(next)) = (merged.last_mut(), &part) {
                prev.push_str(next);
            } else {
                merged.push(part);
            }
        }
        merged
    }

    pub(super) fn classify_path(&self, parts: &[Part]) -> PathRef {
        let parts = self.resolve(parts);
        if self.uv_aliases.contains(&parts) {
            return PathRef::Uv;
        }
        match parts.as_slice() {
            [Part::Var(root), rest @ ..] if root == "CNB_LAYERS_DIR" || root == "1" => {
                let Some(text) = lit_text(rest) else {
                    return PathRef::Other;
                };
                let text = text.trim_start_matches('/');
                let (first, tail) = text.split_once('/').unwrap_or((text, ""));
                if first == "launch.toml" && tail.is_empty() {
                    return PathRef::LaunchToml;
                }
                if let Some(layer) = first.strip_suffix(".toml")
                    && tail.is_empty()
                {
                    return PathRef::LayerToml(layer.to_owned());
                }
                if self.uv_layers.contains(first) && (tail == "bin/uv" || tail == "uv") {
                    return PathRef::Uv;
                }
                if valid_layer_name(first) {
                    PathRef::Layer(first.to_owned(), tail.to_owned())
                } else {
                    PathRef::Other
                }
            }
            [Part::Var(home), Part::Lit(rest)] if home == "HOME" => {
                if matches!(
                    rest.as_str(),
                    "/.local/bin/uv" | "/.cargo/bin/uv" | "/.local/bin/uvx"
                ) {
                    PathRef::Uv
                } else {
                    PathRef::Other
                }
            }
            [Part::Lit(text)] => {
                if self.uv_installed && matches!(text.as_str(), "uv" | "./uv") {
                    return PathRef::Uv;
                }
                if text.starts_with('/') || text.starts_with('-') || text.contains("://") {
                    PathRef::Other
                } else {
                    PathRef::App(join_cwd(self.cwd.as_deref(), text.trim_start_matches("./")))
                }
            }
            _ => PathRef::Other,
        }
    }

    pub(super) fn is_uv(&self, word: &Word) -> bool {
        self.classify_path(&word.parts) == PathRef::Uv
    }

    /// The layer a word names (its dir or something in it).
    pub(super) fn layer_of(&self, word: &Word) -> Option<String> {
        match self.classify_path(&word.parts) {
            PathRef::Layer(layer, _) => Some(layer),
            _ => None,
        }
    }

    /// The command's text with uv's old places replaced by `uv`.
    pub(super) fn run_text(&self, command: &Command) -> String {
        let simples: Vec<&Simple> = match &command.body {
            Body::Simple(s) => vec![s],
            Body::Pipeline(p) => p.iter().collect(),
            Body::Compound => Vec::new(),
        };
        let start = command.offset;
        let mut text = command.text.clone();
        let mut replacements: Vec<(usize, usize)> = simples
            .iter()
            .flat_map(|s| s.words.iter())
            .filter(|w| self.is_uv(w) && w.literal().as_deref() != Some("uv"))
            .map(|w| (w.span.start - start, w.span.end - start))
            .collect();
        replacements.sort_unstable();
        for (from, to) in replacements.into_iter().rev() {
            if to <= text.len() {
                text.replace_range(from..to, "uv");
            }
        }
        text
    }

    /// Env vars and app files a command names: what an unrecognised command's layer is keyed on.
    pub(super) fn inputs_of(&self, command: &Command) -> Vec<KeyField> {
        let mut inputs = BTreeSet::new();
        let simples: Vec<&Simple> = match &command.body {
            Body::Simple(s) => vec![s],
            Body::Pipeline(p) => p.iter().collect(),
            Body::Compound => Vec::new(),
        };
        for simple in &simples {
            let words = simple
                .words
                .iter()
                .skip(1)
                .chain(simple.assignments.iter().map(|(_, w)| w))
                .chain(
                    simple
                        .redirects
                        .iter()
                        .filter(|r| r.op != RedirectOp::Write && r.op != RedirectOp::Append)
                        .map(|r| &r.target),
                );
            for word in words {
                for name in word.vars() {
                    self.env_input(name, &mut inputs);
                }
                let mut candidates = vec![word.parts.clone()];
                if let Some(Part::Lit(text)) = word.parts.first()
                    && text.starts_with('-')
                    && let Some((_, value)) = text.split_once('=')
                {
                    candidates.push(vec![Part::Lit(value.to_owned())]);
                }
                for parts in candidates {
                    if let PathRef::App(file) = self.classify_path(&parts)
                        && self.names_a_file(&file)
                    {
                        inputs.insert(KeyField::File(file));
                    }
                }
            }
            for redirect in &simple.redirects {
                if matches!(redirect.op, RedirectOp::Heredoc) {
                    for name in redirect.target.vars() {
                        self.env_input(name, &mut inputs);
                    }
                }
            }
        }
        if simples.is_empty() {
            // A compound command: parameters it reads, found in its text.
            for name in vars_in_text(&command.text) {
                self.env_input(&name, &mut inputs);
            }
        }
        inputs.into_iter().collect()
    }

    pub(super) fn env_input(&self, name: &str, inputs: &mut BTreeSet<KeyField>) {
        if !self.vars.contains_key(name) && !PROVIDED.contains(&name) && !is_special(name) {
            inputs.insert(KeyField::Env(name.to_owned()));
        }
    }

    pub(super) fn names_a_file(&self, file: &str) -> bool {
        if file.is_empty() || file == "." || file == ".." {
            return false;
        }
        if self.app_dir.join(file).exists() {
            return true;
        }
        Path::new(file).extension().is_some_and(|ext| {
            matches!(
                ext.to_str().unwrap_or_default(),
                "txt"
                    | "toml"
                    | "lock"
                    | "json"
                    | "yaml"
                    | "yml"
                    | "cfg"
                    | "ini"
                    | "py"
                    | "sh"
                    | "js"
                    | "ts"
                    | "in"
            )
        })
    }

    /// The layer an unrecognised command writes into: a redirect target in a layer, else the first layer it
    /// names.
    pub(super) fn written_layer(&self, command: &Command) -> Option<String> {
        match &command.body {
            Body::Simple(_) | Body::Pipeline(_) => {
                let simples: Vec<&Simple> = match &command.body {
                    Body::Simple(s) => vec![s],
                    Body::Pipeline(p) => p.iter().collect(),
                    Body::Compound => Vec::new(),
                };
                let redirect = simples
                    .iter()
                    .flat_map(|s| s.redirects.iter())
                    .find_map(|r| {
                        matches!(r.op, RedirectOp::Write | RedirectOp::Append)
                            .then(|| self.layer_of(&r.target))
                            .flatten()
                    });
                redirect.or_else(|| {
                    simples
                        .iter()
                        .flat_map(|s| s.words.iter().skip(1))
                        .find_map(|w| self.layer_of(w))
                        .filter(|l| !self.uv_layers.contains(l))
                })
            }
            Body::Compound => {
                let text = &command.text;
                for (name, parts) in &self.vars {
                    if let PathRef::Layer(layer, _) = self.classify_path(parts)
                        && (text.contains(&format!("${name}"))
                            || text.contains(&format!("${{{name}}}")))
                        && !self.uv_layers.contains(&layer)
                    {
                        return Some(layer);
                    }
                }
                for marker in ["$CNB_LAYERS_DIR/", "${CNB_LAYERS_DIR}/"] {
                    if let Some(at) = text.find(marker) {
                        let rest = &text[at + marker.len()..];
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                            .collect();
                        if valid_layer_name(&name) {
                            return Some(name);
                        }
                    }
                }
                None
            }
        }
    }
}
