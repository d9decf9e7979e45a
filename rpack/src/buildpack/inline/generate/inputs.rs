//! The generated `src/inputs.rs`: what the layer keys read (file hashes, env values, tool versions) and the
//! files the steps put in place, each helper only when the code uses it.

use super::Needs;
use super::text::fill;

/// The generated `InputError` variant for files that cannot be read or written.
const IO_VARIANT: &str = include_str!("templates/inputs/io_variant.rs.in");

/// The generated `InputError` variant for files or dirs that cannot be hashed.
const HASH_VARIANT: &str = include_str!("templates/inputs/hash_variant.rs.in");

/// The generated `InputError` variants for tools that do not say their version.
const VERSION_VARIANTS: &str = include_str!("templates/inputs/version_variants.rs.in");

/// The generated `io` helper that makes an [`IO_VARIANT`] error.
const IO_FN: &str = include_str!("templates/inputs/io_fn.rs.in");

/// The generated `sha256_of`: libbuildpack's hashes of a file or a tree, `absent` for nothing.
const SHA256_FN: &str = include_str!("templates/inputs/sha256_fn.rs.in");

/// The generated `env_value`.
const ENV_VALUE_FN: &str = include_str!("templates/inputs/env_value_fn.rs.in");

/// The generated version of a tool: `@FN@` runs `@PROGRAM@ @ARGS@`.
const VERSION_FN: &str = include_str!("templates/inputs/version_fn.rs.in");

/// The generated `copy_into`, for files a step puts in place.
const COPY_FN: &str = include_str!("templates/inputs/copy_fn.rs.in");

/// The generated `link` from the app to a layer.
const LINK_FN: &str = include_str!("templates/inputs/link_fn.rs.in");

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
