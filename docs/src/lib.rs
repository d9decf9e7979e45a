//! The guide in `docs/guide`, kept true by tests:
//!
//! - every Rust block of every page is a doctest of this crate (the page is included below as docs), unless
//!   it is marked `ignore` and is an excerpt of a file CI compiles;
//! - `tests/guide.rs` checks links and anchors, that every code block says what it is, that every shell block
//!   is run by a test, and that excerpts match their files;
//! - `rpack/tests/guide.rs` runs the cheap shell blocks and regenerates the CLI reference, and
//!   `rpack/tests/scaffold.rs` runs the getting-started page's commands.
//!
//! [`markdown`] reads the pages for those tests.

pub mod markdown;

macro_rules! pages {
    ($($name:ident = $file:literal),* $(,)?) => {
        $(
            #[doc = include_str!(concat!("../guide/", $file))]
            #[cfg(doctest)]
            pub struct $name;
        )*

        /// The guide's pages whose Rust blocks are compiled as doctests.
        pub const COMPILED_PAGES: &[&str] = &[$($file),*];
    };
}

pages! {
    Index = "README.md",
    GettingStarted = "getting-started.md",
    Concepts = "concepts.md",
    Testing = "testing.md",
    Packaging = "packaging.md",
    Buildpacks = "buildpacks.md",
    InlineScripts = "inline-scripts.md",
    FromLibcnb = "from-libcnb.md",
    Cli = "cli.md",
    Troubleshooting = "troubleshooting.md",
}
