//! Script values (literals, `$VARS`, paths in the layers dir) as Rust expressions.

use super::text::lit;
use crate::buildpack::inline::parse::Part;

/// A value made of script parts, as Rust code.
pub(super) struct Expr {
    pub(super) code: String,
    pub(super) kind: ExprKind,
}

#[derive(PartialEq, Eq)]
pub(super) enum ExprKind {
    /// A `&str` literal.
    Literal,
    /// A `PathBuf`.
    Path,
    /// A `String`.
    Owned,
}

impl Expr {
    /// As a `String` expression.
    pub(super) fn owned(self) -> String {
        match self.kind {
            ExprKind::Literal => format!("{}.to_owned()", self.code),
            ExprKind::Path => format!("{}.display().to_string()", self.code),
            ExprKind::Owned => self.code,
        }
    }
}

/// Where a parameter that names one of the buildpack's dirs points, as Rust code.
pub(super) fn dir_of(name: &str) -> Option<&'static str> {
    match name {
        "CNB_LAYERS_DIR" | "1" => Some("ctx.layers_dir()"),
        "CNB_PLATFORM_DIR" | "2" => Some("ctx.platform_dir()"),
        _ => None,
    }
}

/// A value made of script parts as Rust code (`None` when only a shell can work it out): a literal, a path in
/// the layers dir, an env value, or a `format!` of them.
pub(super) fn value_expr(parts: &[Part], uses_ctx: &mut bool) -> Option<Expr> {
    match parts {
        [Part::Lit(text)] => {
            return Some(Expr {
                code: lit(text),
                kind: ExprKind::Literal,
            });
        }
        [Part::Var(name)] if dir_of(name).is_some() => {
            *uses_ctx = true;
            return Some(Expr {
                code: format!("{}.to_owned()", dir_of(name).unwrap_or_default()),
                kind: ExprKind::Path,
            });
        }
        [Part::Var(name), Part::Lit(rest)]
            if dir_of(name).is_some() && rest.starts_with('/') && !rest.contains(' ') =>
        {
            *uses_ctx = true;
            return Some(Expr {
                code: format!(
                    "{}.join({})",
                    dir_of(name).unwrap_or_default(),
                    lit(rest.trim_start_matches('/'))
                ),
                kind: ExprKind::Path,
            });
        }
        [Part::Var(name)] => {
            *uses_ctx = true;
            return Some(Expr {
                code: format!("inputs::env_value(ctx.platform_env(), {})", lit(name)),
                kind: ExprKind::Owned,
            });
        }
        _ => {}
    }
    let mut format = String::new();
    let mut args = Vec::new();
    for part in parts {
        match part {
            Part::Lit(text) => format.push_str(&text.replace('{', "{{").replace('}', "}}")),
            Part::Var(name) => {
                format.push_str("{}");
                *uses_ctx = true;
                args.push(dir_of(name).map_or_else(
                    || format!("inputs::env_value(ctx.platform_env(), {})", lit(name)),
                    |dir| format!("{dir}.display()"),
                ));
            }
            Part::Subst(_) => return None,
        }
    }
    Some(Expr {
        code: format!("format!({}, {})", lit(&format), args.join(", ")),
        kind: ExprKind::Owned,
    })
}

/// Whether a value reads an env var (any `$VAR` but the buildpack's dirs).
pub(super) fn reads_env(parts: &[Part]) -> bool {
    parts
        .iter()
        .any(|p| matches!(p, Part::Var(name) if dir_of(name).is_none()))
}
