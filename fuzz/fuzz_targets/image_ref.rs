//! Image references: whatever parses must display as a reference that parses to the same value,
//! and its place in the store (`layout_path`) must stay under the store's dir.
#![no_main]

use std::path::Component;

use libfuzzer_sys::fuzz_target;
use rpack::oci::reference::ImageRef;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(reference) = text.parse::<ImageRef>() else {
        return;
    };
    let shown = reference.to_string();
    let again: ImageRef = shown
        .parse()
        .unwrap_or_else(|e| panic!("{text:?} displays as {shown:?}, which does not parse: {e}"));
    assert_eq!(again, reference, "{text:?} displays as {shown:?}");
    // rpack keeps images at `<store>/images/<layout_path>`, and removes that dir on `rpack rmi`.
    let path = reference.layout_path();
    assert!(
        path.components().all(|c| matches!(c, Component::Normal(_))),
        "{text:?} is stored at {}, outside its own dir",
        path.display()
    );
    // `fuzz` is a valid tag, so retagging a valid reference must succeed and round-trip too.
    let retagged = reference
        .with_tag("fuzz")
        .unwrap_or_else(|e| panic!("{text:?} cannot be retagged: {e}"));
    assert_eq!(
        retagged.to_string().parse::<ImageRef>().ok(),
        Some(retagged)
    );
});
