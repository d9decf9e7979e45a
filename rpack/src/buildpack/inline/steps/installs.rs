//! Recognisers of installs: uv (its install script, pip, a release download), venvs, `pip install`,
//! `uv sync` and node package managers.

use std::path::Path;

use super::words::{PathRef, join_cwd};
use super::{Classifier, StepKind, UvSource};
use crate::buildpack::inline::parse::{Part, Simple, Word};

/// A version in a URL or requirement: the first `N.N.N`.
pub(super) fn version_in(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|piece| {
            let nums: Vec<&str> = piece.split('.').collect();
            nums.len() == 3 && nums.iter().all(|n| !n.is_empty())
        })
        .map(str::to_owned)
}

pub(super) fn is_uv_install_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.contains("/uv/") || lower.contains("uv-installer") || lower.ends_with("/uv"))
        && (Path::new(&lower)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("sh"))
            || lower.contains("install"))
}

pub(super) fn is_uv_release_url(url: &str) -> bool {
    url.contains("astral-sh/uv/releases/")
}

/// `uv`, `uv==X`, `uv>=X`, `uv[extra]==X`: the version asked for (`None` when none), else `None` (not uv).
#[allow(clippy::option_option, reason = "not uv, uv, or uv at a version")]
pub(super) fn uv_requirement(arg: &str) -> Option<Option<String>> {
    let name_end = arg
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(arg.len());
    if !arg[..name_end].eq_ignore_ascii_case("uv") {
        return None;
    }
    Some(version_in(&arg[name_end..]))
}

impl Classifier<'_> {
    /// Copies and links of uv, `chmod +x uv`, unpacking the downloaded uv: uv plumbing the pinned uv makes
    /// unneeded.
    pub(super) fn uv_file_step(&mut self, name: &str, args: &[&Word]) -> Option<StepKind> {
        // Copies and links of uv, `chmod +x uv`, unpacking the downloaded uv.
        if matches!(name, "cp" | "mv" | "ln" | "install") && args.len() >= 2 {
            let sources = &args[..args.len() - 1];
            let dest = args[args.len() - 1];
            let uv_sources = sources
                .iter()
                .filter(|w| !w.literal().is_some_and(|l| l.starts_with('-')))
                .all(|w| self.is_uv(w));
            if uv_sources && sources.iter().any(|w| self.is_uv(w)) {
                let dest_parts = self.resolve(&dest.parts);
                let mut alias = dest_parts.clone();
                if let Some(Part::Lit(last)) = alias.last_mut() {
                    if last == "." || last == "./" {
                        "./uv".clone_into(last);
                    } else if last.ends_with('/') {
                        last.push_str("uv");
                    } else if !last.ends_with("/uv") && last != "uv" {
                        last.push_str("/uv");
                    }
                } else {
                    alias.push(Part::Lit("/uv".to_owned()));
                }
                self.uv_aliases.push(dest_parts);
                self.uv_aliases.push(alias);
                return Some(StepKind::UvPlumbing {
                    why: "later steps run the pinned uv from its layer, which is on PATH".into(),
                });
            }
        }
        if name == "chmod" && args.last().is_some_and(|w| self.is_uv(w)) {
            return Some(StepKind::UvPlumbing {
                why: "the pinned uv is installed executable".into(),
            });
        }
        if name == "tar"
            && args
                .iter()
                .filter_map(|w| w.literal())
                .any(|a| self.uv_downloads.iter().any(|d| a.ends_with(d.as_str())))
        {
            return Some(StepKind::UvPlumbing {
                why:
                    "the pinned uv is installed by pip from its wheel, not unpacked from an archive"
                        .into(),
            });
        }
        None
    }

    /// `curl` or `wget` of a uv release: the pinned uv instead; anything else they fetch is not recognised.
    pub(super) fn uv_download(&mut self, literal_args: &[Option<String>]) -> Option<StepKind> {
        let arg = |i: usize| literal_args.get(i).cloned().flatten();
        let url = literal_args.iter().flatten().find(|a| a.contains("://"))?;
        if is_uv_release_url(url) {
            let output = literal_args
                .iter()
                .position(|a| matches!(a.as_deref(), Some("-o" | "-O" | "--output")))
                .and_then(|i| arg(i + 1))
                .unwrap_or_else(|| url.rsplit('/').next().unwrap_or_default().to_owned());
            self.uv_downloads.push(output);
            self.uv_installed = true;
            return Some(StepKind::InstallUv {
                source: UvSource::Download { url: url.clone() },
                asked: version_in(url),
            });
        }
        None
    }

    /// `python3 -m venv DIR`: for uv (plumbing), for a later `pip install` (part of it), else `None`.
    pub(super) fn venv_step(
        &mut self,
        name: &str,
        args: &[&Word],
        arg: &dyn Fn(usize) -> Option<String>,
    ) -> Option<StepKind> {
        // `python3 -m venv DIR`: for uv (plumbing), for a later `pip install` (part of it), else unrecognised.
        if matches!(name, "python" | "python3")
            && arg(0).as_deref() == Some("-m")
            && arg(1).as_deref() == Some("venv")
            && let Some(dir) = args
                .iter()
                .skip(2)
                .rev()
                .find(|w| !w.literal().is_some_and(|l| l.starts_with('-')))
            && let Some(layer) = self.layer_of(dir)
        {
            if self.uv_layers.contains(&layer) {
                return Some(StepKind::UvPlumbing {
                    why: format!("`{layer}` only held uv; the pinned uv has its own layer"),
                });
            }
            self.venvs.insert(layer.clone());
            return Some(StepKind::UvPlumbing {
                why: format!("the venv in `{layer}` is made where its packages are installed"),
            });
        }
        None
    }

    /// pip, `python3 -m pip`, a venv's pip or `uv pip`: `Some` with the install step it is (`Some(None)`: not an
    /// install), `None` when the command is not pip.
    #[allow(
        clippy::option_option,
        reason = "decided (maybe unrecognised) or not pip"
    )]
    pub(super) fn pip_command(
        &mut self,
        simple: &Simple,
        name: &str,
        arg: &dyn Fn(usize) -> Option<String>,
    ) -> Option<Option<StepKind>> {
        // pip: `pip install uv`, `pip install -r FILE`, `pip install PKG...`.
        let pip_at = if matches!(name, "pip" | "pip3" | "pipx") {
            Some((1, name == "pipx", None))
        } else if matches!(name, "python" | "python3")
            && arg(0).as_deref() == Some("-m")
            && matches!(arg(1).as_deref(), Some("pip" | "pipx"))
        {
            Some((3, arg(1).as_deref() == Some("pipx"), None))
        } else if let PathRef::Layer(layer, rest) = self.classify_path(&simple.words[0].parts)
            && matches!(rest.as_str(), "bin/pip" | "bin/pip3")
        {
            Some((1, false, Some(layer)))
        } else if self.is_uv(&simple.words[0]) && arg(0).as_deref() == Some("pip") {
            Some((2, false, None))
        } else {
            None
        };
        if let Some((skip, pipx, venv_layer)) = pip_at {
            let via_uv = self.is_uv(&simple.words[0]);
            let rest: Vec<&Word> = simple.words.iter().skip(skip).collect();
            if rest.first().and_then(|w| w.literal()).as_deref() != Some("install")
                && !(pipx && rest.is_empty())
            {
                return Some(None);
            }
            return Some(self.pip_install(&rest[1..], venv_layer, via_uv, pipx));
        }
        None
    }

    #[allow(clippy::too_many_lines, reason = "pip's options, one at a time")]
    pub(super) fn pip_install(
        &mut self,
        rest: &[&Word],
        venv_layer: Option<String>,
        via_uv: bool,
        pipx: bool,
    ) -> Option<StepKind> {
        let mut files = Vec::new();
        let mut packages = Vec::new();
        let mut flags = Vec::new();
        let mut target_layer = None;
        let mut index = 0;
        while index < rest.len() {
            let word = rest[index];
            let text = word.literal()?;
            if text == "-r" || text == "--requirement" {
                let file = rest.get(index + 1)?.literal()?;
                files.push(join_cwd(self.cwd.as_deref(), &file));
                index += 2;
                continue;
            }
            if let Some(file) = text
                .strip_prefix("--requirement=")
                .or_else(|| text.strip_prefix("-r").filter(|f| !f.is_empty()))
            {
                files.push(join_cwd(self.cwd.as_deref(), file));
            } else if text == "--target" || text == "-t" {
                target_layer = Some(self.layer_of(rest.get(index + 1)?)?);
                index += 2;
                continue;
            } else if text == "--user" || text == "--system" || text == "--break-system-packages" {
                // Where to install is the layer's venv now.
            } else if text.starts_with('-') {
                flags.push(text);
            } else {
                packages.push(text);
            }
            index += 1;
        }
        // `pip install uv`: the pinned uv.
        if files.is_empty()
            && packages.len() == 1
            && let Some(asked) = uv_requirement(&packages[0])
        {
            if let Some(layer) = venv_layer.or(target_layer) {
                self.uv_layers.insert(layer);
            }
            self.uv_installed = true;
            return Some(StepKind::InstallUv {
                source: UvSource::Pip,
                asked,
            });
        }
        if pipx || packages.iter().any(|p| uv_requirement(p).is_some()) || target_layer.is_some() {
            return None;
        }
        let layer = venv_layer.unwrap_or_else(|| self.fresh_layer("venv"));
        Some(StepKind::PipInstall {
            layer,
            files,
            packages,
            flags,
            via_uv,
        })
    }

    pub(super) fn uv_sync(
        &mut self,
        simple: &Simple,
        literal_args: &[Option<String>],
    ) -> Option<StepKind> {
        let args: Vec<String> = literal_args
            .iter()
            .skip(1)
            .cloned()
            .collect::<Option<_>>()?;
        let mut env = Vec::new();
        let mut layer = None;
        for (name, value) in &simple.assignments {
            if name == "UV_PROJECT_ENVIRONMENT" {
                layer = Some(self.layer_of(value)?);
            } else {
                env.push((name.clone(), value.literal()?));
            }
        }
        if layer.is_none()
            && let Some(parts) = self.vars.get("UV_PROJECT_ENVIRONMENT")
            && let PathRef::Layer(l, _) = self.classify_path(&parts.clone())
        {
            layer = Some(l);
        }
        let layer = layer.unwrap_or_else(|| self.fresh_layer("venv"));
        Some(StepKind::UvSync { layer, args, env })
    }

    pub(super) fn node_install(&mut self, name: &str, args: &[Option<String>]) -> Option<StepKind> {
        let sub = args.first().cloned().flatten();
        let (lock, ok) = match (name, sub.as_deref()) {
            ("npm", Some("ci" | "install" | "i")) => (
                "package-lock.json",
                args.len() == 1 || args.iter().skip(1).flatten().all(|a| a.starts_with('-')),
            ),
            ("yarn", None | Some("install")) => (
                "yarn.lock",
                args.iter().skip(1).flatten().all(|a| a.starts_with('-')),
            ),
            ("pnpm", Some("install" | "i")) => (
                "pnpm-lock.yaml",
                args.iter().skip(1).flatten().all(|a| a.starts_with('-')),
            ),
            _ => return None,
        };
        if !ok || args.iter().any(Option::is_none) {
            return None;
        }
        let mut command = vec![name.to_owned()];
        command.extend(args.iter().flatten().cloned());
        let layer = self.fresh_layer("node_modules");
        Some(StepKind::NodeInstall {
            layer,
            argv: command,
            lock: join_cwd(self.cwd.as_deref(), lock),
        })
    }

    pub(super) fn is_uv_dir(&self, entry: &[Part]) -> bool {
        let mut with_uv = entry.to_vec();
        match with_uv.last_mut() {
            Some(Part::Lit(last)) => last.push_str("/uv"),
            _ => with_uv.push(Part::Lit("/uv".to_owned())),
        }
        self.classify_path(&with_uv) == PathRef::Uv
            || matches!(self.classify_path(entry), PathRef::Layer(ref l, ref r) if self.uv_layers.contains(l) && r == "bin")
    }
}
