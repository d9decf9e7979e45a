//! Layer keys: the key struct of each layer (what it depends on), how `build` makes it, how comments and the
//! README describe it, and the test that a key follows its files.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::Generator;
use super::layers::LayerScope;
use super::text::{lit, snake};
use crate::buildpack::inline::steps::{KeyField, LayerPlan};

/// The name of a key field in the generated key struct.
pub(super) fn field_name(field: &KeyField) -> String {
    match field {
        KeyField::File(file) => snake(file).trim_matches('_').to_owned(),
        KeyField::Env(name) => format!("env_{}", name.to_ascii_lowercase()),
        KeyField::Python => "python".to_owned(),
        KeyField::Uv => "uv".to_owned(),
        KeyField::Node => "node".to_owned(),
        KeyField::Packages(_) => "packages".to_owned(),
    }
}

/// The doc comment of a key field.
pub(super) fn field_doc(field: &KeyField) -> String {
    match field {
        KeyField::File(file) => {
            format!("sha256 of the app's `{file}` (`absent` when there is none).")
        }
        KeyField::Env(name) => format!("`${name}`: project.toml's build env, or the build's env."),
        KeyField::Python => "The stack's Python (`sys.version`).".to_owned(),
        KeyField::Uv => "The pinned uv.".to_owned(),
        KeyField::Node => "`node --version`.".to_owned(),
        KeyField::Packages(_) => "The packages the script installs, as written.".to_owned(),
    }
}

/// The code that reads a key field's value in the key's `of`.
pub(super) fn field_value(field: &KeyField) -> String {
    match field {
        KeyField::File(file) => format!("inputs::sha256_of(&app.join({}))?", lit(file)),
        KeyField::Env(name) => format!("inputs::env_value(env, {})", lit(name)),
        KeyField::Python => "inputs::python()?".to_owned(),
        KeyField::Uv => "uv::VERSION.to_owned()".to_owned(),
        KeyField::Node => "inputs::node()?".to_owned(),
        KeyField::Packages(packages) => format!(
            "vec![{}]",
            packages
                .iter()
                .map(|p| format!("{}.to_owned()", lit(p)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What a layer is keyed on, for comments and the README.
pub(super) fn describe_key(layer: &LayerPlan) -> String {
    let names: Vec<String> = layer
        .key
        .iter()
        .map(|f| match f {
            KeyField::File(file) => format!("`{file}`"),
            KeyField::Env(name) => format!("`${name}`"),
            KeyField::Python => "the stack's Python".to_owned(),
            KeyField::Uv => "uv's version".to_owned(),
            KeyField::Node => "node's version".to_owned(),
            KeyField::Packages(_) => "the packages named".to_owned(),
        })
        .collect();
    if names.is_empty() {
        "nothing that can change (the commands are in this crate)".to_owned()
    } else {
        names.join(", ")
    }
}

/// The layer's types, of `launch`, `build` and `cache`, in that order.
fn layer_types(layer: &LayerPlan) -> Vec<&'static str> {
    [
        (layer.launch, "launch"),
        (layer.build, "build"),
        (layer.cache, "cache"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

/// The layer's types in a sentence: `a launch + cache`, `a build-only`.
pub(super) fn types_text(layer: &LayerPlan) -> String {
    let types = layer_types(layer);
    if types.is_empty() {
        "a build-only".to_owned()
    } else {
        format!("a {}", types.join(" + "))
    }
}

/// The arguments of a key's `of` in `build`.
pub(super) fn key_args(layer: &LayerPlan) -> String {
    let mut args = Vec::new();
    if layer.key.iter().any(|f| matches!(f, KeyField::File(_))) {
        args.push("ctx.app_dir()");
    }
    if layer.key.iter().any(|f| matches!(f, KeyField::Env(_))) {
        args.push("ctx.platform_env()");
    }
    args.join(", ")
}

/// The files among a layer plan's key fields.
pub(super) fn key_files(plan: &LayerPlan) -> Vec<&String> {
    plan.key
        .iter()
        .filter_map(|k| match k {
            KeyField::File(f) => Some(f),
            _ => None,
        })
        .collect()
}

/// `ctx.layer("name")` with the layer's types: `.launch()`, `.build()`, `.cache()`.
pub(super) fn layer_chain(name: &str, layer: &LayerPlan) -> String {
    let mut chain = format!("ctx.layer({})", lit(name));
    for t in layer_types(layer) {
        let _ = write!(chain, ".{t}()");
    }
    chain
}

impl Generator<'_> {
    /// The key type of a layer (after `build`): a field per input, and `of` that reads them.
    pub(super) fn key_type(&mut self, layer: &LayerPlan, key_type: &str) {
        let mut fields = String::new();
        let mut values = String::new();
        let mut seen = BTreeSet::new();
        for field in &layer.key {
            let mut name = field_name(field);
            while !seen.insert(name.clone()) {
                name.push('_');
            }
            let ty = if matches!(field, KeyField::Packages(_)) {
                "Vec<String>"
            } else {
                "String"
            };
            let _ = writeln!(
                fields,
                "    /// {}\n    pub {name}: {ty},",
                field_doc(field)
            );
            let _ = writeln!(values, "            {name}: {},", field_value(field));
            match field {
                KeyField::File(_) => self.needs.sha256 = true,
                KeyField::Env(_) => self.needs.env_value = true,
                KeyField::Python => self.needs.python = true,
                KeyField::Node => self.needs.node = true,
                KeyField::Uv => self.needs.uv = true,
                KeyField::Packages(_) => {}
            }
        }
        let mut params = Vec::new();
        if layer.key.iter().any(|f| matches!(f, KeyField::File(_))) {
            params.push("app: &Path");
        }
        if layer.key.iter().any(|f| matches!(f, KeyField::Env(_))) {
            params.push("env: &PlatformEnv");
        }
        // Every key is fallible, so `build` reads the same for each layer.
        let ret = "Result<Self, inputs::InputError>";
        let body = format!("        Ok(Self {{\n{values}        }})");
        let _ = write!(
            self.key_types,
            "\n/// What the `{}` layer depends on: when a field changes, its steps run again (the SDK logs which).\n\
             #[derive(Debug, Serialize, Deserialize, PartialEq)]\n\
             pub struct {key_type} {{\n{fields}}}\n\n\
             impl {key_type} {{\n    \
             /// The key for the app in `app`{}.\n    \
             ///\n    \
             /// # Errors\n    \
             /// When an input cannot be read.\n    \
             pub fn of({}) -> {ret} {{\n{body}\n    }}\n}}\n",
            layer.name,
            if params.iter().any(|p| p.starts_with("env")) {
                ", with `env` the build's user env"
            } else {
                ""
            },
            params.join(", "),
        );
    }

    /// A test that the layer's key follows its files: a change to one changes the key, a change elsewhere in the
    /// app does not.
    pub(super) fn key_follows_files_test(
        &mut self,
        scope: &LayerScope<'_>,
        files: &[&String],
        line: usize,
    ) {
        let LayerScope {
            name: layer,
            var,
            key_type,
            layer: plan,
            ..
        } = *scope;
        let Some(first) = files.first() else {
            return;
        };
        let mut setup = String::new();
        for file in files {
            let _ = writeln!(setup, "        write(app.path(), {}, \"one\");", lit(file));
        }
        let env = if plan.key.iter().any(|k| matches!(k, KeyField::Env(_))) {
            ", &PlatformEnv::default()"
        } else {
            ""
        };
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
             fn {var}_key_follows_{field}() {{\n        \
             // line {line}: the `{layer}` layer is made again when {first} changes, and only then.\n        \
             let app = tempfile::tempdir().unwrap();\n{setup}        \
             let before = {key_type}::of(app.path(){env}).unwrap();\n        \
             write(app.path(), \"unrelated.py\", \"print()\");\n        \
             assert_eq!({key_type}::of(app.path(){env}).unwrap(), before);\n        \
             write(app.path(), {first_lit}, \"two\");\n        \
             assert_ne!({key_type}::of(app.path(){env}).unwrap(), before);\n    \
             }}\n",
            field = field_name(&KeyField::File((*first).clone())),
            first_lit = lit(first),
        );
    }
}
