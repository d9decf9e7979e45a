//! The validated names and versions of `libbuildpack::data`: whatever text parses must display as
//! text that parses to the same value, and names that become paths must be one plain path
//! component, so a name can never point a path somewhere else.
#![no_main]

use std::path::{Component, Path};

use libbuildpack::data::{
    ApiVersion, BuildpackId, BuildpackVersion, EnvVarName, LayerName, ProcessType, SbomFormat,
};
use libfuzzer_sys::fuzz_target;

/// Whether `name` is a single normal path component (not `.`, `..`, empty or nested).
fn one_component(name: &str) -> bool {
    let mut components = Path::new(name).components();
    matches!(components.next(), Some(Component::Normal(n)) if n == std::ffi::OsStr::new(name))
        && components.next().is_none()
}

macro_rules! name_round_trip {
    ($text:expr, $ty:ty) => {
        $text.parse::<$ty>().ok().inspect(|value| {
            assert_eq!(value.as_str(), $text);
            assert_eq!(value.to_string(), $text);
        })
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(api) = text.parse::<ApiVersion>() {
        assert_eq!(api.to_string().parse::<ApiVersion>().ok(), Some(api));
    }
    if let Some(id) = name_round_trip!(text, BuildpackId) {
        // The escaped id names dirs: `<layers>/<id>`, `/cnb/buildpacks/<id>/<version>`.
        let escaped = id.escaped();
        assert!(
            one_component(&escaped),
            "buildpack id {text:?} escapes to the path {escaped:?}"
        );
    }
    if let Some(version) = name_round_trip!(text, BuildpackVersion) {
        assert!(one_component(version.as_str()));
    }
    if let Some(layer) = name_round_trip!(text, LayerName) {
        assert!(
            one_component(layer.as_str()),
            "layer name {text:?} is not one path component"
        );
    }
    // Process types become paths only in the lifecycle (`/cnb/process/<type>`), which checks them.
    let _ = name_round_trip!(text, ProcessType);
    if let Some(name) = name_round_trip!(text, EnvVarName) {
        assert!(one_component(name.as_str()));
    }
    if let Ok(format) = text.parse::<SbomFormat>() {
        assert_eq!(format.to_string().parse::<SbomFormat>().ok(), Some(format));
    }
    if let Some((owner, format)) = SbomFormat::from_file_name(text) {
        assert_eq!(format.file_name(owner), text);
    }
});
