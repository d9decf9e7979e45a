//! The generated crate's manifests: `Cargo.toml`, `buildpack.toml` and `integration/Cargo.toml`.

use std::fmt::Write as _;

use super::Source;

/// The generated `Cargo.toml`: the buildpack, its workspace with `integration/`, and the SDK's dev profiles.
pub(super) fn cargo_toml(source: &Source) -> String {
    let head = crate::buildpack::scaffold::manifest_head(
        &source.name,
        &source.libbuildpack,
        "",
        &source.libbuildpack_testing,
    );
    format!(
        r#"{head}tempfile = "3"

# The real-build test is a crate of its own (`integration/`), so `cargo test` here runs the unit tests without
# compiling its harness (libbuildpack-test, which links rpack); `cargo test --workspace` runs both, sharing
# `target/`.
[workspace]
members = ["integration"]
{profiles}"#,
        profiles = if source.dev_profiles.is_empty() {
            String::new()
        } else {
            format!(
                "\n# As in the SDK's workspace: the real-build tests run rpack's hashing and compression in the dev profile,\n\
                 # too slow unoptimised.\n{}",
                source.dev_profiles
            )
        },
    )
}

/// The `[profile.dev.package.*]` tables of the cargo workspace at `root`, as TOML text (empty when there are
/// none or the file cannot be read).
#[must_use]
pub(crate) fn dev_profiles(root: &std::path::Path) -> String {
    let Ok(text) = std::fs::read_to_string(root.join("Cargo.toml")) else {
        return String::new();
    };
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return String::new();
    };
    let Some(packages) = manifest
        .get("profile")
        .and_then(|p| p.get("dev"))
        .and_then(|d| d.get("package"))
        .and_then(toml::Value::as_table)
    else {
        return String::new();
    };
    let mut out = String::new();
    for (name, settings) in packages {
        let Some(settings) = settings.as_table() else {
            continue;
        };
        let _ = writeln!(out, "[profile.dev.package.{name}]");
        for (key, value) in settings {
            let _ = writeln!(out, "{key} = {value}");
        }
    }
    out
}

/// The generated `integration/Cargo.toml`: the harness, and what the real-build test reads project.toml with.
pub(super) fn integration_cargo_toml(source: &Source) -> String {
    format!(
        "# A real build of the app next to {project} with the {name} buildpack: `cargo test --workspace`.\n\
         {head}tempfile = \"3\"\ntoml = \"1\"\n",
        project = source.project_toml,
        name = source.name,
        head = crate::buildpack::scaffold::integration_manifest_head(&source.name, &source.harness),
    )
}

/// The generated `buildpack.toml`.
pub(super) fn buildpack_toml(source: &Source, type_name: &str) -> String {
    format!(
        r#"# Converted by `rpack buildpack new --from-inline` from the inline buildpack `{inline}` of {project}.
api = "{api}"

[buildpack]
id = "{id}"
version = "0.1.0"
name = "{type_name}"

[[targets]]
os = "linux"
arch = "amd64"
"#,
        inline = source.inline_id,
        project = source.project_toml,
        api = source.api,
        id = source.id,
    )
}
