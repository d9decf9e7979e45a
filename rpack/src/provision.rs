//! What a build needs before it can start: the lifecycle, stacks (build and run images) and builders.

pub mod builder;
pub mod lifecycle;
pub mod stack;
