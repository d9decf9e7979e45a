//! The small tools every other folder uses: the build log's output style, checks on paths rpack writes to,
//! temp files that an interruption removes, and the pinned lifecycle's version and Buildpack APIs.

pub(crate) mod file_error;
pub(crate) mod folder_error;
pub(crate) mod format;
pub(crate) mod lifecycle_pin;
pub(crate) mod output;
pub(crate) mod probe;
pub mod scratch;
pub mod ui;
