//! A writer that keeps what is written in memory, shared by its clones: to capture output for assertions and
//! error messages (hand one clone to an output, read the text from another).
//!
//! ```
//! use std::io::Write as _;
//! use libbuildpack::toolbox::capture::Capture;
//! let capture = Capture::default();
//! writeln!(capture.clone(), "hello").unwrap();
//! assert_eq!(capture.text(), "hello\n");
//! ```

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// An in-memory writer; clones share the same bytes.
#[derive(Clone, Default, Debug)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Everything written so far, as text (invalid UTF-8 replaced).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
