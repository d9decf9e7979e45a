//! pack's `builder.toml`: the recipe for a builder image.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::buildpack_toml::Target;
use super::env_file::EnvAction;
use super::error::TomlFileError;
use super::ids::{BuildpackId, BuildpackVersion};
use super::order_toml::{GroupEntry, OrderGroup};
use super::run_toml::RunImage;
use super::toml_file;

/// A `builder.toml` (the subset of pack's format this project uses).
///
/// [`read`](Self::read) and [`from_toml_str`](Self::from_toml_str) also
/// [`validate`](Self::validate) it as pack does.
///
/// ```
/// use libbuildpack::data::BuilderToml;
/// let text = r#"
/// [[buildpacks]]
/// uri = "hello.cnb"
/// [[order]]
/// [[order.group]]
/// id = "examples/hello"
/// [build]
/// image = "localhost/tiny-build"
/// [[run.images]]
/// image = "localhost/tiny-run"
/// "#;
/// let builder = BuilderToml::from_toml_str(text, "builder.toml")?;
/// assert_eq!(builder.build_image(), Some("localhost/tiny-build"));
/// assert_eq!(builder.run_images()[0].image, "localhost/tiny-run");
/// # Ok::<(), libbuildpack::data::TomlFileError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuilderToml {
    /// A description of the builder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `[[buildpacks]]`: where to get the buildpacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buildpacks: Vec<BuilderBuildpack>,
    /// `[[order]]`: the builder's detection order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<OrderGroup>,
    /// Deprecated `[stack]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<BuilderStack>,
    /// `[run]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<BuilderRun>,
    /// `[build]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuilderBuild>,
    /// `[lifecycle]`: which lifecycle to put in the builder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<BuilderLifecycle>,
    /// `[[targets]]`: the platforms to create the builder for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
}

/// One `[[buildpacks]]` entry of `builder.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderBuildpack {
    /// The buildpack's id, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<BuildpackId>,
    /// The buildpack's version, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<BuildpackVersion>,
    /// A path or URL of a buildpack dir, `.cnb`/`.tgz` file, or `docker://` reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// An image reference of a buildpackage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// The deprecated `[stack]` table of `builder.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuilderStack {
    /// The stack id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The build image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_image: Option<String>,
    /// The run image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_image: Option<String>,
    /// Mirrors of the run image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run_image_mirrors: Vec<String>,
}

/// The `[run]` table of `builder.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderRun {
    /// `[[run.images]]`: the run images, the first being the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<RunImage>,
}

/// The `[build]` table of `builder.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderBuild {
    /// The build image the builder is made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `[[build.env]]`: operator env written to `/cnb/build-config/env/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<BuildConfigEnv>,
}

/// One `[[build.env]]` entry: becomes `/cnb/build-config/env/<name>[.<suffix>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildConfigEnv {
    /// The variable name.
    pub name: String,
    /// The value.
    pub value: String,
    /// How the value is applied; no suffix means `default` for build-config env.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<EnvAction>,
    /// The delimiter for `append`/`prepend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delim: Option<String>,
}

/// The `[lifecycle]` table of `builder.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderLifecycle {
    /// A path or URL of a lifecycle tarball or directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// A lifecycle version to fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl BuilderToml {
    /// A builder over one stack: `build_image` to build on and `run_image` to run on, with no buildpacks yet
    /// (add them with [`with_buildpack`](Self::with_buildpack)).
    ///
    /// ```
    /// use libbuildpack::buildpack_id;
    /// use libbuildpack::data::BuilderToml;
    ///
    /// let builder = BuilderToml::on_stack("localhost/tiny-build", "localhost/tiny-run")
    ///     .with_buildpack("bp", buildpack_id!("examples/hello"), None);
    /// let text = builder.to_toml_string()?;
    /// assert_eq!(BuilderToml::from_toml_str(&text, "builder.toml")?, builder);
    /// assert_eq!(builder.order[0].group[0].id.as_str(), "examples/hello");
    /// # Ok::<(), libbuildpack::data::TomlFileError>(())
    /// ```
    #[must_use]
    pub fn on_stack(build_image: impl Into<String>, run_image: impl Into<String>) -> Self {
        Self {
            build: Some(BuilderBuild {
                image: Some(build_image.into()),
                env: Vec::new(),
            }),
            run: Some(BuilderRun {
                images: vec![RunImage {
                    image: run_image.into(),
                    mirrors: Vec::new(),
                }],
            }),
            ..Self::default()
        }
    }

    /// Adds the buildpack at `uri` (a dir, an archive or an image) to `[[buildpacks]]`, and `id` (at `version`,
    /// or any version when `None`) as a required entry to the builder's one order group (the first, made if
    /// there is none).
    #[must_use]
    pub fn with_buildpack(
        mut self,
        uri: impl Into<String>,
        id: BuildpackId,
        version: Option<BuildpackVersion>,
    ) -> Self {
        self.buildpacks.push(BuilderBuildpack {
            uri: Some(uri.into()),
            ..BuilderBuildpack::default()
        });
        let entry = GroupEntry {
            id,
            version,
            optional: false,
            exec_env: Vec::new(),
        };
        match self.order.first_mut() {
            Some(first) => first.group.push(entry),
            None => self.order.push(OrderGroup { group: vec![entry] }),
        }
        self
    }

    /// The build image: `[build] image`, or the deprecated `[stack] build-image`.
    #[must_use]
    pub fn build_image(&self) -> Option<&str> {
        self.build
            .as_ref()
            .and_then(|b| b.image.as_deref())
            .or_else(|| self.stack.as_ref().and_then(|s| s.build_image.as_deref()))
    }

    /// The run images: `[[run.images]]`, or the deprecated `[stack] run-image` and its mirrors.
    #[must_use]
    pub fn run_images(&self) -> Vec<RunImage> {
        if let Some(run) = self.run.as_ref().filter(|r| !r.images.is_empty()) {
            return run.images.clone();
        }
        self.stack
            .as_ref()
            .and_then(|s| {
                s.run_image.as_ref().map(|image| RunImage {
                    image: image.clone(),
                    mirrors: s.run_image_mirrors.clone(),
                })
            })
            .into_iter()
            .collect()
    }

    /// The `[[build.env]]` entries.
    #[must_use]
    pub fn build_env(&self) -> &[BuildConfigEnv] {
        self.build.as_ref().map_or(&[], |b| b.env.as_slice())
    }

    /// Checks the rules pack applies: a build image is required (and must agree with
    /// `[stack] build-image` when both are set), run images are required (or `[stack]` with
    /// `id` and `run-image`), every run image names an image, and `[stack] run-image` agrees
    /// with the first run image.
    ///
    /// # Errors
    ///
    /// [`TomlFileError::Invalid`] naming `path` and the rule broken.
    pub fn validate(&self, path: &Path) -> Result<(), TomlFileError> {
        let invalid = |problem: &str| TomlFileError::Invalid {
            path: path.to_path_buf(),
            problem: problem.to_string(),
        };
        let build_image = self.build.as_ref().and_then(|b| b.image.as_deref());
        let stack = self.stack.clone().unwrap_or_default();
        match (build_image, stack.build_image.as_deref()) {
            (None, None) => return Err(invalid("build.image is required")),
            (Some(a), Some(b)) if a != b => {
                return Err(invalid("build.image and stack.build-image do not match"));
            }
            _ => {}
        }
        let run_images = self.run.as_ref().map_or(&[][..], |r| r.images.as_slice());
        if run_images.is_empty() && (stack.run_image.is_none() || stack.id.is_none()) {
            return Err(invalid("run.images are required"));
        }
        if run_images.iter().any(|r| r.image.is_empty()) {
            return Err(invalid("run.images.image is required"));
        }
        if let (Some(stack_run), Some(first)) = (stack.run_image.as_deref(), run_images.first())
            && stack_run != first.image
        {
            return Err(invalid("run.images and stack.run-image do not match"));
        }
        Ok(())
    }

    /// Reads, parses and checks a `builder.toml`.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when the file cannot be read, is not valid TOML, a field is invalid,
    /// or [`validate`](Self::validate) fails.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TomlFileError> {
        let path = path.as_ref();
        let builder: Self = toml_file::read(path)?;
        builder.validate(path)?;
        Ok(builder)
    }

    /// Parses and checks the text of a `builder.toml`; `path` only names the file in errors.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when the text is not valid TOML, a field is invalid, or
    /// [`validate`](Self::validate) fails.
    pub fn from_toml_str(text: &str, path: impl AsRef<Path>) -> Result<Self, TomlFileError> {
        let path = path.as_ref();
        let builder: Self = toml_file::parse(text, path)?;
        builder.validate(path)?;
        Ok(builder)
    }

    /// Writes this value as the text of a `builder.toml`.
    ///
    /// # Errors
    ///
    /// [`TomlFileError::Serialize`] when a value cannot be represented in TOML.
    pub fn to_toml_string(&self) -> Result<String, TomlFileError> {
        toml_file::to_string(self, Path::new("builder.toml"))
    }

    /// Writes this value to `path`, atomically.
    ///
    /// # Errors
    ///
    /// [`TomlFileError`] when serializing or writing fails.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), TomlFileError> {
        toml_file::write(self, path.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
description = "Tiny builder"

[[buildpacks]]
id = "examples/hello"
version = "0.1.0"
uri = "../examples/hello"

[[buildpacks]]
image = "localhost/acme/pip:1"

[[order]]
[[order.group]]
id = "examples/hello"
version = "0.1.0"

[[order.group]]
id = "acme/pip"
optional = true

[build]
image = "localhost/tiny-build"

[[build.env]]
name = "PIP_INDEX_URL"
value = "http://127.0.0.1:3141"
suffix = "override"

[[build.env]]
name = "PATH"
value = "/opt/bin"
suffix = "prepend"
delim = ":"

[[run.images]]
image = "localhost/tiny-run"
mirrors = ["localhost:5000/tiny-run"]

[lifecycle]
uri = "lifecycle-v0.21.17+linux.x86-64.tgz"
version = "0.21.17"

[[targets]]
os = "linux"
arch = "amd64"

[[targets.distros]]
name = "debian"
version = "12"
"#;

    #[test]
    fn reads_and_round_trips() {
        let builder = BuilderToml::from_toml_str(FULL, "builder.toml").unwrap();
        assert_eq!(builder.build_env()[1].suffix, Some(EnvAction::Prepend));
        assert!(builder.order[0].group[1].optional);
        assert_eq!(builder.order[0].group[1].version, None);
        let text = builder.to_toml_string().unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(
            BuilderToml::from_toml_str(&text, "builder.toml").unwrap(),
            builder
        );
    }

    #[test]
    fn legacy_stack_supplies_images() {
        let text = "[stack]\nid = \"io.buildpacks.stacks.jammy\"\nbuild-image = \"b\"\nrun-image = \"r\"\nrun-image-mirrors = [\"m\"]\n";
        let builder = BuilderToml::from_toml_str(text, "builder.toml").unwrap();
        assert_eq!(builder.build_image(), Some("b"));
        assert_eq!(
            builder.run_images(),
            vec![RunImage {
                image: "r".into(),
                mirrors: vec!["m".into()]
            }]
        );
    }

    #[test]
    fn validation_matches_pack() {
        let check = |text: &str| {
            BuilderToml::from_toml_str(text, "builder.toml")
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(
            check("[[run.images]]\nimage = \"r\"\n").as_deref(),
            Some("builder.toml is not valid: build.image is required")
        );
        assert_eq!(
            check("[build]\nimage = \"b\"\n").as_deref(),
            Some("builder.toml is not valid: run.images are required")
        );
        assert_eq!(
            check("[build]\nimage = \"b\"\n[stack]\nrun-image = \"r\"\n").as_deref(),
            Some("builder.toml is not valid: run.images are required")
        );
        assert!(check("[build]\nimage = \"b\"\n[[run.images]]\nimage = \"\"\n").is_some());
        assert!(check("[build]\nimage = \"b\"\n[stack]\nbuild-image = \"c\"\n[[run.images]]\nimage = \"r\"\n").is_some());
        assert!(check("[build]\nimage = \"b\"\n[stack]\nrun-image = \"x\"\n[[run.images]]\nimage = \"r\"\n").is_some());
        assert_eq!(
            check("[build]\nimage = \"b\"\n[[run.images]]\nimage = \"r\"\n"),
            None
        );
    }

    #[test]
    fn bad_suffix_is_a_parse_error_with_position() {
        let text = "[build]\nimage = \"b\"\n[[build.env]]\nname = \"X\"\nvalue = \"1\"\nsuffix = \"sideways\"\n[[run.images]]\nimage = \"r\"\n";
        let err = BuilderToml::from_toml_str(text, "builder.toml").unwrap_err();
        insta::assert_snapshot!(err.to_string());
    }
}
