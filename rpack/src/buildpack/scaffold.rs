//! `rpack buildpack new`: a buildpack crate that builds, tests in-process with `libbuildpack::testing`, and
//! has an integration test with `libbuildpack-test` that builds a fixture app on the python stack. The
//! integration test is a crate of its own in the same cargo workspace, so the unit tests never compile the
//! harness (and rpack with it), while both share one target dir.

use std::path::{Path, PathBuf};

use libbuildpack::data::BuildpackId;

/// The checkout rpack was built from: the default place of the SDK.
pub(crate) const CHECKOUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Where the new crate gets libbuildpack and libbuildpack-test from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sdk {
    /// A local checkout of this repository.
    Path(PathBuf),
    /// A git repository.
    Git(String),
    /// A registry version.
    Version(String),
}

impl Sdk {
    /// Reads `--sdk`: empty for the checkout rpack was built from, `path:DIR` or a dir, `git:URL` or a URL,
    /// else a version.
    #[must_use]
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            None | Some("") => Self::Path(PathBuf::from(CHECKOUT)),
            Some(v) => {
                if let Some(path) = v.strip_prefix("path:") {
                    Self::Path(PathBuf::from(path))
                } else if let Some(url) = v.strip_prefix("git:") {
                    Self::Git(url.to_owned())
                } else if v.contains("://")
                    || Path::new(v)
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("git"))
                {
                    Self::Git(v.to_owned())
                } else if v.starts_with(|c: char| c.is_ascii_digit()) && !Path::new(v).exists() {
                    Self::Version(v.to_owned())
                } else {
                    Self::Path(PathBuf::from(v))
                }
            }
        }
    }

    pub(crate) fn dependency(&self, krate: &str, extra: &str) -> String {
        match self {
            Self::Path(root) => {
                let root = std::path::absolute(root).unwrap_or_else(|_| root.clone());
                let root = root.canonicalize().unwrap_or(root);
                format!(
                    "{{ path = {:?}{extra} }}",
                    root.join(krate).display().to_string()
                )
            }
            Self::Git(url) => format!("{{ git = {url:?}{extra} }}"),
            Self::Version(v) => format!("{{ version = {v:?}{extra} }}"),
        }
    }
}

/// What failed while scaffolding.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The crate name is not usable.
    #[error(
        "{name:?} is not a crate name: use lowercase letters, digits, `-` and `_`, starting with a letter"
    )]
    BadName {
        /// The name.
        name: String,
    },
    /// The buildpack id is invalid.
    #[error("{id:?} is not a buildpack id: {why}")]
    BadId {
        /// The id.
        id: String,
        /// Why.
        why: String,
    },
    /// The target dir exists already.
    #[error("{path} exists already")]
    Exists {
        /// The dir.
        path: PathBuf,
    },
    /// A file could not be written.
    #[error("could not write {path}")]
    Write {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl ScaffoldError {
    /// What the user can do about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Exists { .. } => Some("pick another name, or remove the dir".to_owned()),
            Self::BadId { .. } => Some("give --id like `acme/my-buildpack`".to_owned()),
            _ => None,
        }
    }
}

/// A Rust type name for the crate or layer `name`: `my-buildpack` → `MyBuildpack`, `node_modules` →
/// `NodeModules` (every run of letters and digits, capitalised).
pub(crate) fn camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn files(name: &str, id: &str, sdk: &Sdk) -> Vec<(&'static str, String)> {
    let type_name = camel(name);
    let escaped = id.replace('/', "_");
    let libbuildpack = sdk.dependency("libbuildpack", "");
    let libbuildpack_testing = sdk.dependency("libbuildpack", ", features = [\"testing\"]");
    let harness = sdk.dependency("libbuildpack-test", "");
    vec![
        (
            "Cargo.toml",
            cargo_toml(name, &libbuildpack, &libbuildpack_testing),
        ),
        (
            "integration/Cargo.toml",
            integration_cargo_toml(name, &harness),
        ),
        ("buildpack.toml", buildpack_toml(id, &type_name)),
        ("src/main.rs", main_rs(id, &type_name)),
        ("integration/tests/fixture_app.rs", fixture_test()),
        (
            "integration/tests/fixtures/app/hello.txt",
            "hello\n".to_owned(),
        ),
        (
            "integration/tests/fixtures/builder.toml",
            fixture_builder_toml(id),
        ),
        (".gitignore", "/target\n".to_owned()),
        ("README.md", readme(id, &escaped)),
    ]
}

/// `Cargo.toml` of a new buildpack crate.
fn cargo_toml(name: &str, libbuildpack: &str, libbuildpack_testing: &str) -> String {
    format!(
        r#"{}
# Extra files and binaries `rpack buildpack package` puts into the buildpack:
# [package.metadata.rpack]
# include = ["resources"]
# extra-binaries = ["helper"]

# The real-build tests are a crate of their own (`integration/`), so `cargo test` here runs the unit tests
# without compiling their harness (libbuildpack-test, which links rpack); `cargo test --workspace` runs both.
# Both share `target/`, where the integration tests and `rpack buildpack package` build the binary once.
[workspace]
members = ["integration"]
"#,
        manifest_head(name, libbuildpack, "", libbuildpack_testing)
    )
}

/// `integration/Cargo.toml` of a new buildpack crate.
fn integration_cargo_toml(name: &str, harness: &str) -> String {
    format!(
        "# Real builds of the {name} buildpack with the reference lifecycle: `cargo test --workspace`\n\
         # (or `cargo test -p {name}-integration`).\n{}",
        integration_manifest_head(name, harness)
    )
}

/// The `[package]` of a buildpack crate's `integration/` crate and its first dev-dependency, the harness: shared
/// by `rpack buildpack new` and `--from-inline`.
pub(crate) fn integration_manifest_head(name: &str, harness: &str) -> String {
    format!(
        r#"[package]
name = "{name}-integration"
version = "0.1.0"
edition = "2024"
publish = false

[dev-dependencies]
libbuildpack-test = {harness}
"#
    )
}

/// `buildpack.toml` of a new buildpack crate.
fn buildpack_toml(id: &str, type_name: &str) -> String {
    format!(
        r#"api = "0.10"

[buildpack]
id = "{id}"
version = "0.1.0"
name = "{type_name}"

# `rpack buildpack package` builds the binary for each target and writes one multi-arch .cnb.
[[targets]]
os = "linux"
arch = "amd64"

[[targets]]
os = "linux"
arch = "arm64"
"#
    )
}

/// `src/main.rs` of a new buildpack crate.
fn main_rs(id: &str, type_name: &str) -> String {
    format!(
        r#"//! The {id} buildpack: passes detection when the app has a `hello.txt`, and serves the app dir.

use libbuildpack::prelude::*;

/// The buildpack.
pub struct {type_name};

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum {type_name}Error {{
    /// A layer could not be made.
    #[error(transparent)]
    Layer(#[from] LayerError),
}}

impl Buildpack for {type_name} {{
    type Metadata = NoMetadata;
    type Error = {type_name}Error;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, Self::Error> {{
        if ctx.app_dir().join("hello.txt").is_file() {{
            Ok(Detect::pass())
        }} else {{
            Ok(Detect::fail("no hello.txt in the app directory"))
        }}
    }}

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, Self::Error> {{
        ctx.output().section("{type_name}");
        ctx.output().step("Serving the app with python3 -m http.server");
        Ok(Build::new().process(Process::web([
            "bash",
            "-c",
            "exec python3 -m http.server --bind 0.0.0.0 \"${{PORT:-8080}}\"",
        ])))
    }}
}}

buildpack_main!({type_name});

#[cfg(test)]
mod tests {{
    use super::*;
    use libbuildpack::testing::TestContext;

    #[test]
    fn detect_passes_with_hello_txt() {{
        let ctx = TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap();
        ctx.app_file("hello.txt", "hi").unwrap();
        let run = ctx.detect(&{type_name}).unwrap();
        assert!(run.passed(), "{{}}", run.output);
    }}

    #[test]
    fn build_declares_a_web_process() {{
        let ctx = TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap();
        ctx.app_file("hello.txt", "hi").unwrap();
        let run = ctx.build(&{type_name}).unwrap();
        assert!(run.succeeded(), "{{}}", run.output);
        assert_eq!(run.launch.unwrap().processes[0].kind.as_str(), "web");
    }}
}}
"#
    )
}

/// `integration/tests/fixture_app.rs` of a new buildpack crate.
fn fixture_test() -> String {
    r#"//! A real build of the fixture app with the reference lifecycle, then the app serving it.

use libbuildpack_test::{BuildConfig, ContainerConfig, TestError, TestRunner, assert_contains};

#[test]
fn fixture_app_is_served() -> Result<(), TestError> {
    let build = TestRunner::shared()?.build(
        BuildConfig::new("tests/fixtures/app").builder_toml("tests/fixtures/builder.toml"),
    )?;
    assert_contains!(build.stdout(), "Serving the app");
    let app = build.start(ContainerConfig::web())?;
    assert_eq!(app.http_get("/hello.txt")?.body, "hello\n");
    Ok(())
}
"#
    .to_owned()
}

/// `integration/tests/fixtures/builder.toml` of a new buildpack crate.
fn fixture_builder_toml(id: &str) -> String {
    format!(
        r#"# A builder with this buildpack (built by rpack from the crate) on rpack's python stack.
[[buildpacks]]
uri = "../../.."

[[order]]
[[order.group]]
id = "{id}"
version = "0.1.0"

[build]
image = "localhost/rpack/python-build:latest"

[[run.images]]
image = "localhost/rpack/python-run:latest"
"#
    )
}

/// `README.md` of a new buildpack crate.
fn readme(id: &str, escaped: &str) -> String {
    format!(
        r"# {id}

## Before the first `cargo test --workspace`

```sh
rpack doctor                        # what this machine lacks, and the command that installs each piece
rpack stack create --name python    # the base images the integration test builds on (a few minutes, once)
```

Without the stack, the first real build makes it itself, printing `[libbuildpack-test]` progress lines.

## Then

- `cargo test`: the unit tests in `src/main.rs`, in-process (`libbuildpack::testing`). They compile the SDK
  only.
- `cargo test --workspace`: also `integration/`, a real build of `integration/tests/fixtures/app` with the
  reference lifecycle, and the app serving it (`libbuildpack-test`; its first build compiles rpack).
- `cargo doc --open`: this crate's and the SDK's docs, `libbuildpack::testing` included.
- `rpack buildpack package`: `{escaped}_0.1.0.cnb`, from the same release build the integration test made.
  A dependency that compiles C (`ring`, used by libbuildpack's `download` feature) needs the musl C compiler:
  `apt-get install musl-tools`.
"
    )
}

/// Writes a new buildpack crate `name` into `parent`/`name` (through a temp dir and a rename).
///
/// # Errors
/// When the name or id is invalid, the dir exists, or a file cannot be written.
pub fn create(
    parent: &Path,
    name: &str,
    id: Option<&str>,
    sdk: &Sdk,
) -> Result<PathBuf, ScaffoldError> {
    let valid_name = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_name {
        return Err(ScaffoldError::BadName {
            name: name.to_owned(),
        });
    }
    let id = id.map_or_else(|| format!("example/{name}"), str::to_owned);
    BuildpackId::new(id.as_str()).map_err(|e| ScaffoldError::BadId {
        id: id.clone(),
        why: e.to_string(),
    })?;
    let dest = parent.join(name);
    if dest.exists() {
        return Err(ScaffoldError::Exists { path: dest });
    }
    let write_err = |path: &Path| {
        let path = path.to_owned();
        move |source| ScaffoldError::Write { path, source }
    };
    fs_err::create_dir_all(parent).map_err(write_err(parent))?;
    let temp = crate::toolbox::scratch::dir_in(parent, ".tmp-").map_err(write_err(parent))?;
    for (rel, text) in files(name, &id, sdk) {
        let path = temp.path().join(rel);
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir).map_err(write_err(dir))?;
        }
        fs_err::write(&path, text).map_err(write_err(&path))?;
    }
    crate::toolbox::scratch::commit(|| fs_err::rename(temp.path(), &dest))
        .map_err(write_err(&dest))?;
    Ok(dest)
}

/// The head of a buildpack crate's `Cargo.toml`, shared by `rpack buildpack new` and `--from-inline`: the package
/// and its binary named `name`, its dependencies (`extra` lines between serde and thiserror, each ending in a
/// line end) and the SDK with its testing feature for the tests, up to the end of `[dev-dependencies]`' first line.
pub(crate) fn manifest_head(name: &str, libbuildpack: &str, extra: &str, testing: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[[bin]]
name = "{name}"
path = "src/main.rs"

[dependencies]
libbuildpack = {libbuildpack}
serde = {{ version = "1", features = ["derive"] }}
{extra}thiserror = "2"

[dev-dependencies]
libbuildpack = {testing}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_defaults_to_the_checkout() {
        assert_eq!(Sdk::parse(None), Sdk::Path(PathBuf::from(CHECKOUT)));
        assert_eq!(
            Sdk::parse(Some("https://x/y.git")),
            Sdk::Git("https://x/y.git".into())
        );
        assert_eq!(Sdk::parse(Some("0.1.0")), Sdk::Version("0.1.0".into()));
    }

    #[test]
    fn writes_a_crate_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let created = create(dir.path(), "my-bp", Some("acme/my-bp"), &Sdk::parse(None)).unwrap();
        let cargo = fs_err::read_to_string(created.join("Cargo.toml")).unwrap();
        assert!(cargo.contains("libbuildpack = { path = "), "{cargo}");
        let descriptor = libbuildpack::data::BuildpackDescriptor::<toml::Table>::read(
            created.join("buildpack.toml"),
        )
        .unwrap();
        assert_eq!(descriptor.buildpack.id.as_str(), "acme/my-bp");
        assert!(
            created
                .join("integration/tests/fixtures/app/hello.txt")
                .is_file()
        );
        let readme = fs_err::read_to_string(created.join("README.md")).unwrap();
        for first in [
            "rpack doctor",
            "rpack stack create --name python",
            "cargo test --workspace",
            "cargo doc --open",
        ] {
            assert!(readme.contains(first), "{readme}");
        }
        assert!(matches!(
            create(dir.path(), "my-bp", None, &Sdk::parse(None)),
            Err(ScaffoldError::Exists { .. })
        ));
        assert!(matches!(
            create(dir.path(), "Bad Name", None, &Sdk::parse(None)),
            Err(ScaffoldError::BadName { .. })
        ));
    }
}
