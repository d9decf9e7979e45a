//! The generated `src/uv.rs` (the pinned, hash-checked uv in a cached layer) and its test.

use std::fmt::Write as _;

use super::Generator;
use super::text::{fill, lines};
use crate::buildpack::inline::uv_pin;

/// The generated `src/uv.rs`: uv's pin (this rpack's, from the uv buildpack), its layer with the types the steps
/// need (`launch` when a process runs uv).
pub(super) fn uv_rs(launch: bool) -> String {
    let hashes = lines(
        &uv_pin::WHEEL_SHA256
            .iter()
            .map(|(arch, sha)| format!("    ({arch:?}, {sha:?}),"))
            .collect::<Vec<_>>(),
    );
    let arches = uv_pin::WHEEL_SHA256
        .iter()
        .map(|(arch, _)| *arch)
        .collect::<Vec<_>>()
        .join(", ");
    fill(
        include_str!("templates/uv.rs.in"),
        &[
            ("VERSION", &format!("{:?}", uv_pin::VERSION)),
            ("COUNT", &uv_pin::WHEEL_SHA256.len().to_string()),
            ("HASHES", &hashes),
            ("ARCHES", &arches),
            (
                "TYPES",
                if launch {
                    ".launch().cache()"
                } else {
                    ".cache()"
                },
            ),
        ],
    )
}

impl Generator<'_> {
    /// The generated crate installs the pinned uv, with a test that it is pinned and hash-checked.
    /// The generated crate installs the pinned uv: a test that it is pinned and hash-checked, and that its errors
    /// reach the SDK's hint channel.
    pub(super) fn pin_uv(&mut self) {
        self.needs.uv = true;
        self.needs.python = true;
        let type_name = &self.type_name;
        let _ = write!(
            self.tests,
            "\n    #[test]\n    \
             fn uv_is_pinned_and_hash_checked() {{\n        \
             // The script's uv install is the pinned uv {version}, checked by pip against the wheel's sha256.\n        \
             let requirement = uv::requirement(\"amd64\").unwrap();\n        \
             assert!(requirement.starts_with(\"uv=={version} --hash=sha256:\"), \"{{requirement}}\");\n        \
             assert!(uv::requirement(\"s390x\").is_err());\n    \
             }}\n\n    \
             #[test]\n    \
             fn a_uv_error_says_what_to_do_as_a_hint_not_in_its_message() {{\n        \
             let error = {type_name}Error::from(uv::requirement(\"s390x\").unwrap_err());\n        \
             libbuildpack::testing::assert_causes_not_repeated(&error);\n        \
             let hint = {type_name}.hint(&error).unwrap();\n        \
             assert!(hint.contains(\"WHEEL_SHA256\"), \"{{hint}}\");\n        \
             assert!(!error.to_string().contains(&hint), \"{{error}}\");\n    \
             }}\n",
            version = uv_pin::VERSION,
        );
    }
}
