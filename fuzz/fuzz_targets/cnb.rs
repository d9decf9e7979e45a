//! `.cnb` files (OCI archives of a buildpackage) as rpack opens and unpacks them: any bytes, no
//! panic, nothing written outside the work dir, no link there leading outside it, and every
//! buildpack dir it hands back inside the work dir.
#![no_main]

use libbuildpack_fuzz::{Absolute, Nest, assert_links_inside};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let nest = Nest::new();
    let file = nest.root().join("fuzz.cnb");
    std::fs::write(&file, data).unwrap();
    let unpacked = rpack::buildpack::package::cnb::unpack(&file, &nest.dest);
    std::fs::remove_file(&file).unwrap();
    nest.assert_nothing_outside();
    // Layers mean absolute link targets as the image's root.
    assert_links_inside(&nest.dest, Absolute::Root);
    if let Ok(buildpacks) = unpacked {
        let work = nest.dest.canonicalize().unwrap();
        for bp in buildpacks {
            let dir = bp.dir.canonicalize().unwrap();
            assert!(
                dir.starts_with(&work),
                "a buildpack dir is outside the work dir: {}",
                dir.display()
            );
        }
    }
});
