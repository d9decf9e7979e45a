//! The `rpack` command line: a thin shell over the `rpack` library.

fn main() {}
