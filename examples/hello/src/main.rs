//! Example buildpack: serves an app dir that has a `hello.txt`.
//!
//! Teaches one thing: a launch-only layer keyed by a small value, with a launch env var, and
//! a default `web` process.

use std::path::PathBuf;

use libbuildpack::prelude::*;

/// The buildpack.
pub struct Hello;

/// What the `hello` layer depends on: when it is unchanged, the previous image's layer is
/// reused without rebuilding it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct HelloKey {
    version: String,
}

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum HelloError {
    /// Making the layer or its env files failed.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// Writing a file into the layer failed.
    #[error("could not write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Buildpack for Hello {
    type Metadata = NoMetadata;
    type Error = HelloError;

    fn detect(&self, ctx: &DetectContext) -> Result<Detect, HelloError> {
        if ctx.app_dir().join("hello.txt").is_file() {
            Ok(Detect::pass())
        } else {
            Ok(Detect::fail("no hello.txt in the app directory"))
        }
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, HelloError> {
        ctx.output().section("Hello");
        ctx.output().step("Preparing the hello layer");
        let key = HelloKey {
            version: ctx.buildpack().buildpack.version.to_string(),
        };
        let layer = ctx.layer(layer_name!("hello")).launch().keyed_by(&key)?;
        if layer.is_new() {
            let path = layer.path().join("greeting.txt");
            std::fs::write(&path, "hello\n")
                .map_err(|source| HelloError::Write { path, source })?;
        }
        layer.launch_env().set("HELLO_GREETING", "hello")?;
        ctx.output()
            .step("Serving the app with python3 -m http.server");
        // The launcher does not expand env vars in a process's command: bash does, for PORT.
        Ok(Build::new().process(Process::web([
            "bash",
            "-c",
            "exec python3 -m http.server --bind 0.0.0.0 \"${PORT:-8080}\"",
        ])))
    }
}

buildpack_main!(Hello);

#[cfg(test)]
mod tests {
    use super::*;
    use libbuildpack::testing::{TestContext, assert_contains};

    fn context() -> TestContext {
        TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap()
    }

    #[test]
    fn detect_passes_with_hello_txt() {
        let ctx = context();
        ctx.app_file("hello.txt", "hi").unwrap();
        let run = ctx.detect(&Hello).unwrap();
        assert!(run.passed(), "{}", run.output);
    }

    #[test]
    fn detect_fails_without_hello_txt() {
        let run = context().detect(&Hello).unwrap();
        assert_eq!(run.exit_code, 100);
        assert_contains!(run.output, "no hello.txt");
    }

    #[test]
    fn build_writes_layer_env_and_web_process() {
        let ctx = context();
        ctx.app_file("hello.txt", "hi").unwrap();
        let run = ctx.build(&Hello).unwrap();
        assert!(run.succeeded(), "{}", run.output);

        let layer = run.layer("hello").unwrap();
        let types = layer.types.unwrap();
        assert!(types.launch && !types.cache && !types.build);
        assert_eq!(
            layer.metadata.as_ref().unwrap()["version"].as_str(),
            Some("0.1.0")
        );
        let dir = ctx.layers_dir().join("hello");
        assert_eq!(
            std::fs::read_to_string(dir.join("greeting.txt")).unwrap(),
            "hello\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("env.launch/HELLO_GREETING.override")).unwrap(),
            "hello"
        );

        let launch = run.launch.unwrap();
        assert_eq!(launch.processes.len(), 1);
        let web = &launch.processes[0];
        assert_eq!(web.kind.as_str(), "web");
        assert!(web.default);
        assert_eq!(web.command[0], "bash");
        assert_contains!(run.output, "## Hello");
    }

    #[test]
    fn rebuild_reuses_the_previous_image_layer() {
        let ctx = context();
        ctx.app_file("hello.txt", "hi").unwrap();
        assert!(ctx.build(&Hello).unwrap().succeeded());
        ctx.restore_for_next_build().unwrap();
        let run = ctx.build(&Hello).unwrap();
        assert!(run.succeeded(), "{}", run.output);
        assert_contains!(run.output, "Reusing hello (version 0.1.0 unchanged)");
        assert!(!ctx.layers_dir().join("hello").exists());
        assert!(run.layer("hello").unwrap().types.unwrap().launch);
    }
}
