//! `examples/hello` written with libcnb 0.30.x: the same detect, layer, env var and process, for the SDK
//! benchmark. libcnb's struct API has no launch-only layer kept across builds without its files (libbuildpack's
//! reuse from the previous image), so the layer here is a cached launch layer keyed by the same value.

use std::path::Path;

use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::data::launch::{LaunchBuilder, ProcessBuilder};
use libcnb::data::{layer_name, process_type};
use libcnb::detect::{DetectContext, DetectResult, DetectResultBuilder};
use libcnb::generic::{GenericMetadata, GenericPlatform};
use libcnb::layer::{
    CachedLayerDefinition, InvalidMetadataAction, LayerState, RestoredLayerAction,
};
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use libcnb::{Buildpack, buildpack_main};
use serde::{Deserialize, Serialize};

struct Hello;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct HelloKey {
    version: String,
}

#[derive(Debug)]
enum HelloError {
    Write(std::io::Error),
}

impl Buildpack for Hello {
    type Platform = GenericPlatform;
    type Metadata = GenericMetadata;
    type Error = HelloError;

    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        if context.app_dir.join("hello.txt").is_file() {
            DetectResultBuilder::pass().build()
        } else {
            println!("no hello.txt in the app directory");
            DetectResultBuilder::fail().build()
        }
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        println!("## Hello");
        println!("- Preparing the hello layer");
        let key = HelloKey {
            version: context.buildpack_descriptor.buildpack.version.to_string(),
        };
        let layer = context.cached_layer(
            layer_name!("hello"),
            CachedLayerDefinition {
                build: false,
                launch: true,
                invalid_metadata_action: &|_| InvalidMetadataAction::DeleteLayer,
                restored_layer_action: &|previous: &HelloKey, _: &Path| {
                    if previous == &key {
                        RestoredLayerAction::KeepLayer
                    } else {
                        RestoredLayerAction::DeleteLayer
                    }
                },
            },
        )?;
        match layer.state {
            LayerState::Restored { .. } => println!("  Reusing hello (version unchanged)"),
            LayerState::Empty { .. } => {
                std::fs::write(layer.path().join("greeting.txt"), "hello\n")
                    .map_err(HelloError::Write)?;
                layer.write_metadata(&key)?;
            }
        }
        layer.write_env(LayerEnv::new().chainable_insert(
            Scope::Launch,
            ModificationBehavior::Override,
            "HELLO_GREETING",
            "hello",
        ))?;
        println!("- Serving the app with python3 -m http.server");
        BuildResultBuilder::new()
            .launch(
                LaunchBuilder::new()
                    .process(
                        ProcessBuilder::new(
                            process_type!("web"),
                            [
                                "bash",
                                "-c",
                                "exec python3 -m http.server --bind 0.0.0.0 \"${PORT:-8080}\"",
                            ],
                        )
                        .default(true)
                        .build(),
                    )
                    .build(),
            )
            .build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        match error {
            libcnb::Error::BuildpackError(HelloError::Write(source)) => {
                eprintln!("could not write greeting.txt: {source}");
            }
            other => eprintln!("{other}"),
        }
    }
}

impl From<HelloError> for libcnb::Error<HelloError> {
    fn from(error: HelloError) -> Self {
        Self::BuildpackError(error)
    }
}

buildpack_main!(Hello);
