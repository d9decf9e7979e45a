//! Does nothing: the cost of spawning a static binary.
fn main() {}
