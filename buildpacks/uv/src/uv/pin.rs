//! The uv this buildpack pins: its version and the sha256 of its wheels. The one place they are written:
//! `rpack buildpack new --from-inline` compiles this file in too, and writes these values into the buildpacks it
//! generates, so a bump here reaches both.

/// The uv this buildpack uses. Bumping it changes every cache key that names it.
pub const VERSION: &str = "0.9.5";

/// sha256 of the uv wheels pip may pick on the targets this buildpack declares.
pub const WHEEL_SHA256: [(&str, &str); 2] = [
    // uv-0.9.5-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
    (
        "amd64",
        "6507bbbcd788553ec4ad5a96fa19364dc0f58b023e31d79868773559a83ec181",
    ),
    // uv-0.9.5-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl
    (
        "arm64",
        "48a3542835d37882ff57d1ff91b757085525d98756712fa61cf9941d3dda8ebf",
    ),
];
