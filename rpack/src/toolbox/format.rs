//! Formatting for people: file types in messages. Sizes and durations are formatted by
//! [`libbuildpack::toolbox::style`] (`format_size`, `format_duration`), as in the SDK's output.

use std::os::unix::fs::FileTypeExt as _;

/// What a file type is, for messages.
pub(crate) fn describe_file_type(kind: std::fs::FileType) -> &'static str {
    if kind.is_symlink() {
        "a symlink"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_file() {
        "a regular file"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_fifo() {
        "a fifo"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}
