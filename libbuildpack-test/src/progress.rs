//! Progress of long first-time steps (making a stack, a builder and its cargo builds) on stderr, as it happens.
//!
//! `cargo test` captures what a test prints and shows it only when the test fails, and the harness keeps a
//! build's output for its error messages: a first run that makes the python stack would be silent for minutes.
//! rpack's own lines (sections, steps, timings, warnings) of such a step go straight to the process's stderr,
//! which `cargo test` does not capture, once the step has taken longer than [`PROGRESS_AFTER`]: a builder that
//! is up to date stays quiet.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a step runs before its progress is shown.
pub const PROGRESS_AFTER: Duration = Duration::from_secs(2);

/// What starts every progress line, so lines of parallel tests can be told from the tests' own output.
const PREFIX: &str = "[libbuildpack-test] ";

struct State {
    live: bool,
    partial: Vec<u8>,
    pending: Vec<String>,
    out: Box<dyn Write + Send>,
}

impl State {
    fn emit(&mut self, line: &str) {
        let _ = writeln!(self.out, "{PREFIX}{line}");
        let _ = self.out.flush();
    }
}

/// The writer rpack's progress lines go to (see [`rpack::toolbox::ui::Ui::with_progress`]).
#[derive(Clone)]
pub(crate) struct ProgressWriter(Arc<Mutex<State>>);

impl Write for ProgressWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state.partial.extend_from_slice(buf);
        while let Some(end) = state.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = state.partial.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).into_owned();
            if state.live {
                state.emit(&line);
            } else {
                state.pending.push(line);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Ends the step when dropped: a step that ended before the delay shows nothing.
pub(crate) struct ProgressGuard(Arc<AtomicBool>);

impl Drop for ProgressGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Starts a step whose progress lines go to `out` once it has run for `after`.
pub(crate) fn start(
    out: impl Write + Send + 'static,
    after: Duration,
) -> (ProgressWriter, ProgressGuard) {
    let state = Arc::new(Mutex::new(State {
        live: false,
        partial: Vec::new(),
        pending: Vec::new(),
        out: Box::new(out),
    }));
    let done = Arc::new(AtomicBool::new(false));
    let (thread_state, thread_done) = (Arc::clone(&state), Arc::clone(&done));
    std::thread::spawn(move || {
        let started = Instant::now();
        while started.elapsed() < after {
            if thread_done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50).min(after));
        }
        let mut state = thread_state.lock().unwrap_or_else(PoisonError::into_inner);
        if thread_done.load(Ordering::SeqCst) {
            return;
        }
        state.live = true;
        for line in std::mem::take(&mut state.pending) {
            state.emit(&line);
        }
    });
    (ProgressWriter(state), ProgressGuard(done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn a_quick_step_prints_nothing() {
        let out = Buf::default();
        let (mut writer, guard) = start(out.clone(), Duration::from_millis(300));
        writeln!(writer, "    Builder up to date (0.1s)").unwrap();
        drop(guard);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(out.text(), "");
    }

    #[test]
    fn a_long_step_shows_earlier_lines_then_new_ones_as_they_come() {
        let out = Buf::default();
        let (mut writer, _guard) = start(out.clone(), Duration::from_millis(100));
        write!(writer, "## Creating stack ").unwrap();
        writeln!(writer, "python").unwrap();
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(out.text(), "[libbuildpack-test] ## Creating stack python\n");
        writeln!(writer, "    cargo build").unwrap();
        assert!(
            out.text()
                .ends_with("\n[libbuildpack-test]     cargo build\n"),
            "{}",
            out.text()
        );
    }
}
