//! The small tools the SDK and rpack share, so a build log has one style and the workspace one copy of each:
//!
//! - [`style`]: the build log's markers (sections, steps, details, warnings, errors), colours, and how
//!   durations, sizes and a failed command's last lines read.
//! - [`command`]: running a program with its stdout and stderr streamed line by line as they come, keeping
//!   the last lines for error messages.
//! - [`capture`]: a writer that keeps what is written, for captured output.
//! - [`copy`]: copying a file tree, with a filter that chooses what goes.
//! - [`file`](mod@file): the error of a file operation, naming the action and the path.
//! - [`hash`] (feature `hash`): the sha256 of a file, streamed.
//!
//! None of it needs the runtime: rpack uses it with `default-features = false`.

pub mod capture;
pub mod command;
#[cfg(unix)]
pub mod copy;
pub mod file;
#[cfg(feature = "hash")]
#[cfg_attr(docsrs, doc(cfg(feature = "hash")))]
pub mod hash;
pub mod style;
