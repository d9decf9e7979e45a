//! `/cnb/run.toml`: the run images a builder offers.

use serde::{Deserialize, Serialize};

use super::toml_file::toml_file_impl;

/// The lifecycle's `run.toml` (Platform API 0.12+).
///
/// ```
/// use libbuildpack::data::{RunImage, RunToml};
/// let run = RunToml { images: vec![RunImage { image: "busybox".into(), mirrors: vec![] }] };
/// assert_eq!(run.to_toml_string()?, "[[images]]\nimage = \"busybox\"\nmirrors = []\n");
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunToml {
    /// `[[images]]`: the first is the default run image.
    #[serde(default)]
    pub images: Vec<RunImage>,
}

toml_file_impl!(RunToml, "run.toml");

/// A run image and its mirrors (in `run.toml` and `builder.toml` `[[run.images]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunImage {
    /// The image reference.
    #[serde(default)]
    pub image: String,
    /// Mirrors of the same image.
    #[serde(default)]
    pub mirrors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let run = RunToml {
            images: vec![
                RunImage {
                    image: "localhost/tiny-run".into(),
                    mirrors: vec!["localhost:5000/tiny-run".into()],
                },
                RunImage {
                    image: "busybox".into(),
                    mirrors: Vec::new(),
                },
            ],
        };
        let text = run.to_toml_string().unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(RunToml::from_toml_str(&text, "run.toml").unwrap(), run);
    }
}
