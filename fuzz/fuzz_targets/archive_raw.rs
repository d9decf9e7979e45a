//! Tar and tar.gz bytes as they come, through rpack's and the SDK's extractors: no panic, nothing
//! written outside the destination, no link left pointing outside it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    libbuildpack_fuzz::extract_everywhere(data);
});
