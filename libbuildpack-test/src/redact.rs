//! Build output with the parts that change from run to run replaced, for snapshot tests: timings, digests,
//! generated names, temp and store paths, and package index URLs (which must never be committed).

use std::sync::OnceLock;

use regex::Regex;

struct Rule {
    pattern: Regex,
    replacement: &'static str,
}

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            (r"https?://[^\s)\]]+", "[url]"),
            (r"sha256:[0-9a-f]{64}", "sha256:[digest]"),
            (r"\b[0-9a-f]{12}\b", "[id]"),
            (r"\(\d+(\.\d+)?s\)", "([time])"),
            (r"\(\d+m ?\d+s\)", "([time])"),
            (r"\b\d+m \d+s\b", "[time]"),
            (r"\b\d+(\.\d+)?m?s\b", "[time]"),
            (r"/tmp/[^\s/]+", "[tmp]"),
            (r"rpack-build-\d+-\d+", "rpack-build-[n]"),
        ]
        .into_iter()
        .filter_map(|(pattern, replacement)| {
            Some(Rule {
                pattern: Regex::new(pattern).ok()?,
                replacement,
            })
        })
        .collect()
    })
}

/// `text` with volatile parts replaced: `sha256:[digest]`, 12-hex ids as `[id]`, durations as `[time]`,
/// temp dirs as `[tmp]`, URLs as `[url]`, and the paths of rpack's store and of this checkout as
/// `[rpack-home]` and `[repo]`.
///
/// ```
/// let text = "Built localhost/app:latest (76f27a99eee7) (5.4s) from /tmp/build-x1/app";
/// assert_eq!(libbuildpack_test::redact(text), "Built localhost/app:latest ([id]) ([time]) from [tmp]/app");
/// ```
#[must_use]
pub fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    if let Ok(home) = rpack::store::Store::from_env() {
        out = out.replace(&home.home().display().to_string(), "[rpack-home]");
    }
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.display().to_string());
    if let Some(repo) = repo {
        out = out.replace(&repo, "[repo]");
    }
    for rule in rules() {
        out = rule
            .pattern
            .replace_all(&out, rule.replacement)
            .into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_parts_are_replaced() {
        let text = "Saving /layout-repo/x@sha256:76f27a99eee726f1f184308baf00310ee8c5985b4f0b0adb9eef36b2c1765381\n\
                    Downloading https://example.invalid/simple/flask/flask-3.0.whl (1m 03s)\nDone (0.2s) in 35ms, \
                    then 2m 03s";
        assert_eq!(
            redact(text),
            "Saving /layout-repo/x@sha256:[digest]\nDownloading [url] ([time])\nDone ([time]) in [time], then [time]"
        );
    }
}
