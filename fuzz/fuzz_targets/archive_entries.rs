//! Tars built entry by entry from names, kinds and link targets the fuzzer picks (`..`, absolute
//! paths, links through links, devices...), through rpack's and the SDK's extractors: no panic,
//! nothing written outside the destination, no link left pointing outside it.
#![no_main]

use libbuildpack_fuzz::{Entry, extract_everywhere, tar_of};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|entries: Vec<Entry>| {
    extract_everywhere(&tar_of(&entries));
});
