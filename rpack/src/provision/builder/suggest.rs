//! `rpack builder suggest`: the builders rpack knows, with what their buildpacks detect, as pack's
//! `builder suggest` lists them: ours (made from `builder/builder.toml`, published with
//! `rpack builder create REF --publish`) and the well-known public builders.

use std::fmt::Write as _;

/// A builder worth trying, and what it builds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Suggestion {
    /// Who makes it.
    pub vendor: &'static str,
    /// Its image reference, or for ours the builder.toml to make it from.
    pub image: &'static str,
    /// Its base images.
    pub stack: &'static str,
    /// What its buildpacks look for in an app, and what they do with it.
    pub detects: &'static [&'static str],
}

/// The builders rpack knows: ours first.
pub(crate) const SUGGESTED: &[Suggestion] = &[
    Suggestion {
        vendor: "libbuildpack (this checkout)",
        image: "builder/builder.toml",
        stack: "Debian bookworm with Python 3 (rpack's python stack)",
        detects: &[
            "Aptfile: libbuildpack/apt installs the Debian packages it lists (and what the run image lacks of \
             their dependencies) for build and launch",
            "pyproject.toml + uv.lock: libbuildpack/uv installs the project with uv",
            "requirements.txt: libbuildpack/pip installs it into a venv",
            "an ML framework among those dependencies (torch, tensorflow, ...): libbuildpack/ml adds its \
             accelerator variant and model cache",
            "Procfile, or a Python project to infer one for: libbuildpack/processes sets the processes",
            "hello.txt: examples/hello serves the app dir",
        ],
    },
    Suggestion {
        vendor: "Google",
        image: "gcr.io/buildpacks/builder",
        stack: "Ubuntu 22.04",
        detects: &[".NET, Dart, Go, Java, Node.js, PHP, Python and Ruby apps"],
    },
    Suggestion {
        vendor: "Heroku",
        image: "heroku/builder:24",
        stack: "Ubuntu 24.04 (amd64 and arm64)",
        detects: &[".NET, Go, Java, Node.js, PHP, Python, Ruby and Scala apps"],
    },
    Suggestion {
        vendor: "Paketo Buildpacks",
        image: "paketobuildpacks/builder-jammy-base",
        stack: "Ubuntu 22.04 Jammy Jellyfish",
        detects: &[
            "Java, Go, .NET Core, Node.js and Python apps, Apache HTTPD and NGINX configs, and Procfiles",
        ],
    },
];

/// The text `rpack builder suggest` prints.
#[must_use]
pub fn to_text() -> String {
    let mut out = String::from("Suggested builders:\n");
    for suggestion in SUGGESTED {
        let _ = writeln!(
            out,
            "\n  {:<30} {}\n    stack: {}",
            format!("{}:", suggestion.vendor),
            suggestion.image,
            suggestion.stack
        );
        for detect in suggestion.detects {
            let _ = writeln!(out, "    detects: {detect}");
        }
    }
    out.push_str(
        "\nTip: `rpack builder create REGISTRY/NAME --config builder/builder.toml --publish` shares ours with pack, \
         Tekton and kpack (docs/platforms.md); `pack builder inspect IMAGE` shows what a public builder holds.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_list_ours_and_the_public_builders_with_what_they_detect() {
        insta::assert_snapshot!(to_text());
    }

    #[test]
    fn our_builder_toml_is_the_one_the_repo_ships() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(SUGGESTED[0].image);
        assert!(path.is_file(), "{}", path.display());
        // Every buildpack of its order is among what ours detects.
        let toml = libbuildpack::data::BuilderToml::read(&path).unwrap_or_else(|e| panic!("{e}"));
        for group in &toml.order {
            for entry in &group.group {
                let id = entry.id.as_str();
                assert!(
                    SUGGESTED[0].detects.iter().any(|d| d.contains(id)),
                    "{id} is missing from what our builder detects"
                );
            }
        }
    }
}
