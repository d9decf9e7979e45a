//! Reasons in words: what stayed the same in a key, and which of its fields changed.

use std::fmt::Write as _;

/// Names the key's fields for `Reusing <layer> (<why>)`: short values are shown.
pub(super) fn describe_unchanged(key: &toml::Table) -> String {
    if key.is_empty() {
        return "nothing changed".into();
    }
    let parts: Vec<String> = key
        .iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) if s.len() <= 24 => format!("{k} {s}"),
            toml::Value::Integer(_) | toml::Value::Boolean(_) | toml::Value::Float(_) => {
                format!("{k} {v}")
            }
            _ => k.clone(),
        })
        .collect();
    format!("{} unchanged", parts.join(", "))
}

/// Says in words which fields differ between the stored and the wanted key.
pub(super) fn describe_change(old: &toml::Table, new: &toml::Table) -> String {
    let mut changes = Vec::new();
    diff_tables("", old, new, &mut changes);
    if changes.is_empty() {
        "the stored metadata has a different format".into()
    } else {
        changes.join(", ")
    }
}

fn diff_tables(prefix: &str, old: &toml::Table, new: &toml::Table, changes: &mut Vec<String>) {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (old.get(key), new.get(key)) {
            (Some(toml::Value::Table(a)), Some(toml::Value::Table(b))) => {
                diff_tables(&path, a, b, changes);
            }
            (Some(toml::Value::Array(a)), Some(toml::Value::Array(b))) if a != b => {
                changes.push(format!("{path} changed: {}", diff_lists(a, b)));
            }
            (Some(a), Some(b)) if a != b => {
                let mut text = format!("{path} changed");
                if let (Some(a), Some(b)) = (short(a), short(b)) {
                    let _ = write!(text, " ({a} → {b})");
                }
                changes.push(text);
            }
            (Some(_), None) => changes.push(format!("{path} was removed")),
            (None, Some(_)) => changes.push(format!("{path} was added")),
            _ => {}
        }
    }
}

/// How many added, removed or changed items of a list a reason names before `and N more`.
const LIST_ITEMS_SHOWN: usize = 5;

/// Says which items of a list key were added (`+ resnet`), removed (`- bert`) or changed in place (`~ resnet`,
/// a table whose name stayed). Items are named by their value when short, by a `name`, `id`, `url` or `path`
/// field for tables, else by their position (`#2`).
pub(super) fn diff_lists(old: &[toml::Value], new: &[toml::Value]) -> String {
    let removed: Vec<(String, &toml::Value)> = old
        .iter()
        .enumerate()
        .filter(|(_, item)| !new.contains(item))
        .map(|(i, item)| (item_label(item, i), item))
        .collect();
    let added: Vec<(String, &toml::Value)> = new
        .iter()
        .enumerate()
        .filter(|(_, item)| !old.contains(item))
        .map(|(i, item)| (item_label(item, i), item))
        .collect();
    let mut parts = Vec::new();
    for (label, _) in &added {
        if removed.iter().any(|(l, _)| l == label) {
            parts.push(format!("~ {label}"));
        } else {
            parts.push(format!("+ {label}"));
        }
    }
    for (label, _) in &removed {
        if !added.iter().any(|(l, _)| l == label) {
            parts.push(format!("- {label}"));
        }
    }
    if parts.is_empty() {
        return if old.len() == new.len() {
            "reordered".into()
        } else {
            format!("{} → {} items", old.len(), new.len())
        };
    }
    if parts.len() > LIST_ITEMS_SHOWN {
        let more = parts.len() - LIST_ITEMS_SHOWN;
        parts.truncate(LIST_ITEMS_SHOWN);
        parts.push(format!("and {more} more"));
    }
    parts.join(", ")
}

fn item_label(item: &toml::Value, index: usize) -> String {
    if let Some(text) = short(item) {
        return text;
    }
    if let toml::Value::Table(table) = item
        && let Some(name) = ["name", "id", "url", "path"]
            .iter()
            .find_map(|field| table.get(*field).and_then(short))
    {
        return name;
    }
    format!("#{index}")
}

/// The lifecycle keeps layer metadata as JSON between builds, so integers come back as floats (`1` as `1.0`) and
/// would never match a key with integer fields. Whole floats become integers again; float fields still accept
/// them (serde reads an integer into an `f64`).
/// A restored key table read as `K` (whole floats read as integers); `None` when there is none or it
/// does not read as `K`.
pub(super) fn key_from<K: serde::de::DeserializeOwned>(table: Option<&toml::Table>) -> Option<K> {
    let table = whole_floats_as_integers(table?.clone());
    K::deserialize(toml::Value::Table(table)).ok()
}

pub(super) fn whole_floats_as_integers(table: toml::Table) -> toml::Table {
    fn fix(value: toml::Value) -> toml::Value {
        match value {
            #[allow(clippy::cast_possible_truncation)] // checked: whole and within i64's range
            toml::Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                toml::Value::Integer(f as i64)
            }
            toml::Value::Array(items) => toml::Value::Array(items.into_iter().map(fix).collect()),
            toml::Value::Table(table) => toml::Value::Table(whole_floats_as_integers(table)),
            other => other,
        }
    }
    table.into_iter().map(|(k, v)| (k, fix(v))).collect()
}

fn short(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) if s.len() <= 24 => Some(s.clone()),
        toml::Value::Integer(_) | toml::Value::Boolean(_) | toml::Value::Float(_) => {
            Some(value.to_string())
        }
        _ => None,
    }
}
