//! Entry names as the archive stores them, shown so that a hostile name cannot drive the terminal.

use std::fmt;
use std::path::Path;

/// An entry name or link target exactly as the archive stores it (bytes, not necessarily UTF-8).
///
/// It displays quoted, with control characters, bidirectional-text controls, backslashes, quotes and
/// bytes that are not UTF-8 escaped (`"bin/\u{1b}[2J"`, `"caf\xe9"`): an error message naming a crafted
/// entry cannot clear the screen, fake a line or reorder text, and two different names never look alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryName(Vec<u8>);

impl EntryName {
    /// The name's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The name of `path`, as stored (its bytes on Unix).
    #[must_use]
    pub fn from_path(path: &Path) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            Self(path.as_os_str().as_bytes().to_vec())
        }
        #[cfg(not(unix))]
        {
            Self(path.to_string_lossy().into_owned().into_bytes())
        }
    }
}

impl fmt::Display for EntryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if needs_escape(c) {
                    write!(f, "{}", c.escape_default())?;
                } else {
                    write!(f, "{c}")?;
                }
            }
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

/// Control characters move the cursor or restyle the terminal; the bidirectional controls reorder what is
/// shown (the "Trojan Source" trick); `\` and `"` are escaped so the escaping itself stays unambiguous.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\\' | '"' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A path shown the way [`EntryName`] shows names: destination paths end in entry names.
pub(crate) struct ShownPath<'a>(pub(crate) &'a Path);

impl fmt::Display for ShownPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&EntryName::from_path(self.0), f)
    }
}

#[cfg(test)]
mod tests {
    use super::EntryName;

    #[test]
    fn archive_names_show_escape_sequences_and_bad_bytes_escaped() {
        let shown = EntryName::from_bytes(b"a\x1b[2J\nb\xff\\\"\xe2\x80\xaec".to_vec()).to_string();
        assert_eq!(shown, r#""a\u{1b}[2J\nb\xff\\\"\u{202e}c""#);
        assert!(!shown.chars().any(char::is_control), "{shown}");
    }

    #[test]
    fn archive_names_that_are_plain_show_as_they_are() {
        assert_eq!(
            EntryName::from_bytes("bin/café".as_bytes()).to_string(),
            "\"bin/café\""
        );
    }
}
