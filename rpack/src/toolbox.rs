//! The small tools every other folder uses: the build log's output style, checks on paths rpack writes to,
//! and temp files that an interruption removes.

pub(crate) mod folder_error;
pub mod format;
pub(crate) mod output;
pub mod probe;
pub mod scratch;
pub mod ui;
