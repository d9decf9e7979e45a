//! Recognisers of what the script writes: `export`s, env files, `<layer>.toml` types and `launch.toml`
//! processes.

use std::fmt::Write as _;

use super::words::{PathRef, lit_text, split, split_path_list};
use super::{Classifier, EnvAction, EnvScope, ProcessPlan, StepKind};
use crate::buildpack::inline::parse::{Part, RedirectOp, Simple, Word};

/// Reads an `export`/assignment value that changes `PATH`-like variables: `A:$NAME` prepends, `$NAME:A`
/// appends.
pub(super) fn env_action(name: &str, value: &[Part]) -> (EnvAction, Vec<Part>) {
    let own = Part::Var(name.to_owned());
    if value.last() == Some(&own)
        && let Some(Part::Lit(before)) = value.get(value.len().wrapping_sub(2))
        && let Some(stripped) = before.strip_suffix(':')
    {
        let mut rest = value[..value.len() - 2].to_vec();
        if !stripped.is_empty() {
            rest.push(Part::Lit(stripped.to_owned()));
        }
        return (EnvAction::Prepend, rest);
    }
    if value.first() == Some(&own)
        && let Some(Part::Lit(after)) = value.get(1)
        && let Some(stripped) = after.strip_prefix(':')
    {
        let mut rest = Vec::new();
        if !stripped.is_empty() {
            rest.push(Part::Lit(stripped.to_owned()));
        }
        rest.extend(value[2..].iter().cloned());
        return (EnvAction::Append, rest);
    }
    (EnvAction::Override, value.to_vec())
}

/// A `printf` format with no conversions: its escapes applied.
pub(super) fn unescape_printf(format: &str) -> Option<Vec<String>> {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            '%' => match chars.next()? {
                '%' => out.push('%'),
                _ => return None,
            },
            other => out.push(other),
        }
    }
    Some(vec![out])
}

/// Parameters named in a compound command's text.
pub(super) fn vars_in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let rest = &text[i + 1..];
            let rest = rest.strip_prefix('{').unwrap_or(rest);
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && !out.contains(&name)
            {
                out.push(name);
            }
        }
        i += 1;
    }
    out
}

/// Marks where a parameter was in a `launch.toml` text while it is read as TOML (control characters are not
/// allowed in TOML strings).
pub(super) const HOLE: &str = "@@rpack-parameter@@";

/// The processes of a `launch.toml` text whose parameters are layer paths or other parts.
pub(super) fn processes_of(content: &[Part]) -> Option<Vec<ProcessPlan>> {
    // Parameters are swapped for markers, the TOML is read, and the markers are swapped back in each string.
    let mut text = String::new();
    let mut holes = Vec::new();
    for part in content {
        match part {
            Part::Lit(lit) => text.push_str(lit),
            other => {
                let _ = write!(text, "{HOLE}{}{HOLE}", holes.len());
                holes.push(other.clone());
            }
        }
    }
    let table: toml::Table = toml::from_str(&text).ok()?;
    let refill = |s: &str| -> Vec<Part> {
        let mut parts = Vec::new();
        for (i, piece) in s.split(HOLE).enumerate() {
            if i % 2 == 1 {
                if let Some(hole) = piece.parse::<usize>().ok().and_then(|n| holes.get(n)) {
                    parts.push(hole.clone());
                }
            } else if !piece.is_empty() {
                parts.push(Part::Lit(piece.to_owned()));
            }
        }
        parts
    };
    let strings = |value: Option<&toml::Value>| -> Option<Vec<Vec<Part>>> {
        match value {
            None => Some(Vec::new()),
            Some(toml::Value::String(s)) => Some(vec![refill(s)]),
            Some(toml::Value::Array(items)) => {
                items.iter().map(|v| v.as_str().map(refill)).collect()
            }
            Some(_) => None,
        }
    };
    let mut out = Vec::new();
    for process in table.get("processes")?.as_array()? {
        let process = process.as_table()?;
        let kind = process.get("type")?.as_str()?.to_owned();
        let command = strings(process.get("command"))?;
        if command.is_empty() {
            return None;
        }
        out.push(ProcessPlan {
            kind,
            command,
            args: strings(process.get("args"))?,
            default: process
                .get("default")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false),
            working_dir: process
                .get("working-dir")
                .and_then(toml::Value::as_str)
                .map(str::to_owned),
        });
    }
    Some(out)
}

/// What `cat <<EOF`, `echo` or `printf` with stdout sent to a file writes into it, as written (unresolved).
pub(super) fn written_content(simple: &Simple, name: &str, args: &[&Word]) -> Option<Vec<Part>> {
    let content = match name {
        "cat" if args.is_empty() => simple
            .redirects
            .iter()
            .find(|r| r.op == RedirectOp::Heredoc)?
            .target
            .parts
            .clone(),
        "echo" => {
            let mut words = args.to_vec();
            let mut newline = true;
            if words.first().and_then(|w| w.literal()).as_deref() == Some("-n") {
                newline = false;
                words.remove(0);
            }
            if words
                .first()
                .and_then(|w| w.literal())
                .is_some_and(|l| l.starts_with('-'))
            {
                return None;
            }
            let mut parts = Vec::new();
            for (i, word) in words.iter().enumerate() {
                if i > 0 {
                    parts.push(Part::Lit(" ".to_owned()));
                }
                parts.extend(word.parts.iter().cloned());
            }
            if newline {
                parts.push(Part::Lit("\n".to_owned()));
            }
            parts
        }
        "printf" => match args {
            [format] => unescape_printf(&format.literal()?)?
                .into_iter()
                .map(Part::Lit)
                .collect(),
            [format, value] if format.literal().as_deref() == Some("%s") => value.parts.clone(),
            _ => return None,
        },
        _ => return None,
    };
    Some(content)
}

/// A file the script writes under a layer's `env*` dir (`rest` is its path in the layer): the env modifier.
pub(super) fn env_file(content: Vec<Part>, layer: String, rest: &str) -> Option<StepKind> {
    let (dir, file) = rest.rsplit_once('/')?;
    let scope = match dir {
        "env" => EnvScope::All,
        "env.build" => EnvScope::Build,
        "env.launch" => EnvScope::Launch,
        other => EnvScope::Process(other.strip_prefix("env.launch/")?.to_owned()),
    };
    let (var, action) = match file.rsplit_once('.') {
        Some((var, "override")) => (var, EnvAction::Override),
        Some((var, "default")) => (var, EnvAction::Default),
        Some((var, "prepend")) => (var, EnvAction::Prepend),
        Some((var, "append")) => (var, EnvAction::Append),
        Some(_) => return None,
        None => (file, EnvAction::Override),
    };
    let mut value = content;
    // `echo` adds a newline the env file would keep; the SDK writes values without one.
    if let Some(Part::Lit(last)) = value.last_mut() {
        while last.ends_with('\n') {
            last.pop();
        }
        if last.is_empty() {
            value.pop();
        }
    }
    Some(StepKind::LayerEnv {
        layer,
        scope,
        name: var.to_owned(),
        action,
        value,
    })
}

impl Classifier<'_> {
    pub(super) fn export(&mut self, simple: &Simple) -> Option<StepKind> {
        // `export NAME=value` (one at a time; `export NAME` of a variable set before is the same).
        let [_, word] = simple.words.as_slice() else {
            return None;
        };
        let (name, value) = if let Some(pair) = split(word) {
            pair
        } else {
            let name = word.literal()?;
            let value = self.vars.get(&name)?.clone();
            (name, value)
        };
        // A `PATH` change that only adds uv's places is plumbing.
        let resolved = self.resolve(&value);
        let (action, rest) = env_action(&name, &resolved);
        if name == "PATH" && action != EnvAction::Override {
            let uv_only = split_path_list(&rest)
                .iter()
                .all(|entry| self.is_uv_dir(entry));
            if uv_only {
                return Some(StepKind::UvPlumbing {
                    why: "it only put uv on PATH; the pinned uv's layer is on PATH".into(),
                });
            }
        }
        self.vars.insert(name.clone(), resolved);
        if name == "UV_PROJECT_ENVIRONMENT" {
            return Some(StepKind::Variable { name });
        }
        Some(StepKind::Export {
            name,
            action,
            value: rest,
        })
    }

    /// `cat > FILE <<EOF`, `echo ... > FILE`, `printf ... > FILE` of launch.toml, `<layer>.toml` and env files.
    #[allow(clippy::too_many_lines, reason = "one arm per file kind")]
    pub(super) fn write(
        &mut self,
        simple: &Simple,
        name: &str,
        args: &[&Word],
    ) -> Option<StepKind> {
        let out = simple.redirects.iter().find(|r| {
            matches!(r.op, RedirectOp::Write | RedirectOp::Append) && r.fd.is_none_or(|fd| fd == 1)
        })?;
        let content = written_content(simple, name, args)?;
        let content = self.resolve(&content);
        match self.classify_path(&out.target.parts) {
            PathRef::LaunchToml => {
                let processes = processes_of(&content)?;
                Some(StepKind::Processes { processes })
            }
            PathRef::LayerToml(layer) => self.layer_toml(&content, layer),
            PathRef::Layer(layer, rest) => env_file(content, layer, &rest),
            _ => None,
        }
    }

    /// A `<layer>.toml` the script writes: the layer's types.
    pub(super) fn layer_toml(&mut self, content: &[Part], layer: String) -> Option<StepKind> {
        let text = lit_text(content)?;
        let table: toml::Table = toml::from_str(&text).ok()?;
        let types = table.get("types").and_then(toml::Value::as_table);
        let flag = |key: &str| {
            types
                .and_then(|t| t.get(key))
                .or_else(|| table.get(key))
                .and_then(toml::Value::as_bool)
                .unwrap_or(false)
        };
        self.declared.insert(
            layer.clone(),
            (flag("launch"), flag("build"), flag("cache")),
        );
        Some(StepKind::LayerTypes { layer })
    }

    pub(super) fn fresh_layer(&self, base: &str) -> String {
        let taken = |name: &str| {
            self.declared.contains_key(name)
                || self.plan.layers.iter().any(|l| l.name == name)
                || self
                    .vars
                    .values()
                    .any(|v| matches!(self.classify_path(v), PathRef::Layer(ref l, _) if l == name))
        };
        if !taken(base) {
            return base.to_owned();
        }
        (2..100)
            .map(|n| format!("{base}-{n}"))
            .find(|n| !taken(n))
            .unwrap_or_default()
    }
}
