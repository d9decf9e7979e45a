//! Every TOML file format of `libbuildpack::data` reads the same text: what a reader accepts must
//! not panic, and must write back to text that reads as the same value.
#![no_main]

use libbuildpack::data::{
    BuildPlan, BuildToml, BuilderToml, BuildpackDescriptor, BuildpackPlan, ExecDOutput, LaunchToml,
    LayerToml, LifecycleToml, NoMetadata, OrderToml, PackageToml, ProjectToml, RunToml, StoreToml,
};
use libbuildpack_fuzz::assert_round_trip;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const PATH: &str = "fuzz.toml";

/// Reads `text` as `$ty` and, when that works, checks the round trip.
macro_rules! check {
    ($text:expr, $ty:ty) => {
        if let Ok(value) = <$ty>::from_toml_str($text, PATH) {
            assert_round_trip(&value, <$ty>::to_toml_string, |t| {
                <$ty>::from_toml_str(t, PATH)
            });
        }
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check!(text, BuildpackDescriptor);
    check!(text, BuildpackDescriptor<NoMetadata>);
    check!(text, BuildPlan);
    check!(text, BuildpackPlan);
    check!(text, BuildToml);
    check!(text, BuilderToml);
    check!(text, LayerToml);
    check!(text, LayerToml<NoMetadata>);
    check!(text, LifecycleToml);
    check!(text, OrderToml);
    check!(text, PackageToml);
    check!(text, RunToml);
    check!(text, StoreToml);
    if let Ok(launch) = LaunchToml::from_toml_str(text, PATH) {
        // Validation runs on write; it must judge any value that was read, never panic.
        let _ = launch.validate(Path::new(PATH));
        assert_round_trip(&launch, LaunchToml::to_toml_string, |t| {
            LaunchToml::from_toml_str(t, PATH)
        });
    }
    if let Ok(project) = ProjectToml::from_toml_str(text, PATH) {
        let _ = project.validate(Path::new(PATH));
        assert_round_trip(&project, ProjectToml::to_toml_string, |t| {
            ProjectToml::from_toml_str(t, PATH)
        });
    }
    if let Ok(out) = ExecDOutput::from_toml_str(text) {
        // The exec.d writer is hand-written (not serde's): its escaping is what is checked here.
        assert_round_trip(
            &out,
            |o| Ok::<_, ()>(o.to_toml_string()),
            ExecDOutput::from_toml_str,
        );
    }
});
