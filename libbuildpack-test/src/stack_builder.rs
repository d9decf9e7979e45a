//! The builder.toml of a [`BuildConfig::stack`](crate::BuildConfig::stack) build, written through the typed
//! [`BuilderToml`], so it is a builder.toml rpack (and pack) accept by construction.

use std::path::{Path, PathBuf};

use libbuildpack::data::{BuildConfigEnv, BuilderToml, BuildpackDescriptor};

use crate::error::TestError;

/// Where the stacks' build and run images keep their CA bundle (the host's, added when rpack makes the stack).
pub(crate) const STACK_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The builder of the `buildpacks` (dirs with a `buildpack.toml`) in one order group over rpack's `stack`, with
/// `build_env` as build-config env after `SSL_CERT_FILE` (the stack's CA bundle: the one TLS setting every
/// TLS library reads; a buildpack's own settings come from its test, through
/// [`BuildConfig::build_config_env`](crate::BuildConfig::build_config_env)).
pub(crate) fn builder_toml(
    stack: &str,
    buildpacks: &[PathBuf],
    build_env: &[(String, String)],
) -> Result<BuilderToml, TestError> {
    if buildpacks.is_empty() {
        return Err(TestError::NoBuildpack);
    }
    let mut builder = BuilderToml::on_stack(
        format!("localhost/rpack/{stack}-build:latest"),
        format!("localhost/rpack/{stack}-run:latest"),
    );
    for dir in buildpacks {
        let descriptor: BuildpackDescriptor = BuildpackDescriptor::read(dir.join("buildpack.toml"))
            .map_err(|source| TestError::ReadBuildpack {
                path: dir.clone(),
                source: Box::new(source),
            })?;
        builder = builder.with_buildpack(dir.display().to_string(), descriptor.buildpack.id, None);
    }
    builder.description = Some(format!(
        "Made by libbuildpack-test for a BuildConfig::stack({stack:?}) build"
    ));
    if let Some(build) = builder.build.as_mut() {
        build.env = std::iter::once(("SSL_CERT_FILE", STACK_CA_BUNDLE))
            .chain(build_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map(|(name, value)| BuildConfigEnv {
                name: name.to_owned(),
                value: value.to_owned(),
                suffix: None,
                delim: None,
            })
            .collect();
    }
    Ok(builder)
}

/// Writes `builder` under `root` at a path named by the sha256 of its text, so the same builder gets the same
/// path (and rpack reuses the builder image) in every test process; returns the path. An existing file with
/// the same text is left alone.
pub(crate) fn write(builder: &BuilderToml, root: &Path) -> Result<PathBuf, TestError> {
    let error = |path: &Path| {
        let path = path.to_owned();
        move |source| TestError::WriteBuilder {
            path,
            source: Box::new(source),
        }
    };
    let text = builder.to_toml_string().map_err(error(root))?;
    let path = root
        .join(&crate::file_server::sha256(&text)[..16])
        .join("builder.toml");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| TestError::CreateBuilderDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        builder.write(&path).map_err(error(&path))?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buildpack(dir: &Path, id: &str) -> PathBuf {
        let bp = dir.join(id.replace('/', "-"));
        std::fs::create_dir_all(&bp).unwrap();
        std::fs::write(
            bp.join("buildpack.toml"),
            format!("api = \"0.10\"\n[buildpack]\nid = \"{id}\"\nversion = \"0.1.0\"\n"),
        )
        .unwrap();
        bp
    }

    #[test]
    fn the_builder_reads_back_as_a_valid_builder_toml_with_one_group_over_the_stack() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = [
            buildpack(dir.path(), "a/one"),
            buildpack(dir.path(), "b/two"),
        ];
        let env = [("PIP_CERT".to_owned(), "/ca.crt".to_owned())];
        let builder = builder_toml("tiny", &dirs, &env).unwrap();

        let path = write(&builder, &dir.path().join("builders")).unwrap();
        let read = BuilderToml::read(&path).unwrap();

        assert_eq!(read, builder);
        assert_eq!(
            read.build_image(),
            Some("localhost/rpack/tiny-build:latest")
        );
        assert_eq!(
            read.run_images()[0].image,
            "localhost/rpack/tiny-run:latest"
        );
        let ids: Vec<&str> = read.order[0].group.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["a/one", "b/two"]);
        let env: Vec<(&str, &str)> = read
            .build_env()
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            env,
            [("SSL_CERT_FILE", STACK_CA_BUNDLE), ("PIP_CERT", "/ca.crt")]
        );
        // The same builder, the same path: rpack reuses its image across test processes.
        assert_eq!(write(&builder, &dir.path().join("builders")).unwrap(), path);
    }

    #[test]
    fn no_buildpack_is_an_error_saying_what_to_give() {
        let error = builder_toml("tiny", &[], &[]).unwrap_err();
        assert!(matches!(error, TestError::NoBuildpack), "{error}");
        assert!(error.to_string().contains(".buildpack(..)"), "{error}");
    }
}
