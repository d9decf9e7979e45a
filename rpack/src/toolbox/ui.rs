//! rpack's own output: sections, steps with timings, warnings, and streamed tool output, written to one sink so
//! the CLI can print it and tests can capture it.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How many lines of a command's output are kept for error messages.
const TAIL_LINES: usize = 30;

/// Where output goes.
#[derive(Clone)]
pub struct Ui {
    sink: Arc<Mutex<Box<dyn Write + Send>>>,
    /// Where rpack's own lines (not tools' output) also go, as they happen.
    progress: Option<Arc<Mutex<Box<dyn Write + Send>>>>,
    color: bool,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui")
            .field("color", &self.color)
            .finish_non_exhaustive()
    }
}

impl Ui {
    /// Output to stderr, coloured when stderr is a terminal and `NO_COLOR` is unset.
    #[must_use]
    pub fn stderr() -> Self {
        let color =
            io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Self {
            sink: Arc::new(Mutex::new(Box::new(io::stderr()))),
            progress: None,
            color,
        }
    }

    /// Output to any writer, without colour.
    #[must_use]
    pub fn to_writer(writer: impl Write + Send + 'static) -> Self {
        Self {
            sink: Arc::new(Mutex::new(Box::new(writer))),
            progress: None,
            color: false,
        }
    }

    /// The same output, and rpack's own lines (sections, steps, timings, warnings; not the tools' output it
    /// passes through) also written to `writer` as they happen: for a caller that captures the output but
    /// must show that a long step is under way (the test harness, while it makes a stack or a builder).
    ///
    /// ```
    /// use rpack::toolbox::ui::Ui;
    /// let ui = Ui::to_writer(std::io::sink()).with_progress(std::io::stderr());
    /// ui.step("Making the python stack");
    /// ```
    #[must_use]
    pub fn with_progress(mut self, writer: impl Write + Send + 'static) -> Self {
        self.progress = Some(Arc::new(Mutex::new(Box::new(writer))));
        self
    }

    fn own_line(&self, plain: &str, painted: &str) {
        self.line(painted);
        if let Some(progress) = &self.progress {
            let mut sink = progress.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = writeln!(sink, "{plain}");
            let _ = sink.flush();
        }
    }

    fn line(&self, text: &str) {
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        // Output is best effort: a closed pipe must not fail a build.
        let _ = writeln!(sink, "{text}");
        let _ = sink.flush();
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A section header: `==> Building localhost/app:latest`.
    pub(crate) fn section(&self, title: &str) {
        let plain = format!("==> {title}");
        self.own_line(&plain, &self.paint("1;36", &plain));
    }

    /// A step inside a section.
    pub fn step(&self, text: &str) {
        let plain = format!("    {text}");
        self.own_line(&plain, &plain);
    }

    /// A step that finished, with its duration.
    pub(crate) fn done(&self, text: &str, elapsed: Duration) {
        let took = format!("({})", format_duration(elapsed));
        self.own_line(
            &format!("    {text} {took}"),
            &format!("    {text} {}", self.paint("2", &took)),
        );
    }

    /// A warning.
    pub fn warn(&self, text: &str) {
        let plain = format!("warning: {text}");
        self.own_line(&plain, &self.paint("33", &plain));
    }

    /// A line of a tool's output, passed through as it is.
    pub fn passthrough(&self, text: &str) {
        self.line(text);
    }

    /// Runs `command`, streaming its stdout and stderr line by line as they come, and returns its exit status
    /// with the last lines of output for error messages.
    ///
    /// # Errors
    /// When the command cannot be started.
    pub(crate) fn run_streamed(&self, command: &mut Command) -> io::Result<Finished> {
        self.run_observed(command, |_| {})
    }

    /// Like [`Ui::run_streamed`], and calls `observe` with every line as it arrives (to follow progress
    /// markers such as the lifecycle's phase headers).
    ///
    /// # Errors
    /// When the command cannot be started.
    pub(crate) fn run_observed(
        &self,
        command: &mut Command,
        observe: impl Fn(&str) + Send + Sync + 'static,
    ) -> io::Result<Finished> {
        let observe = Arc::new(observe);
        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
        let readers = [take_stdout(&mut child), take_stderr(&mut child)]
            .into_iter()
            .flatten()
            .map(|stream| {
                let ui = self.clone();
                let tail = Arc::clone(&tail);
                let observe = Arc::clone(&observe);
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).split(b'\n') {
                        let Ok(line) = line else { break };
                        let text = String::from_utf8_lossy(&line)
                            .trim_end_matches('\r')
                            .to_owned();
                        ui.passthrough(&text);
                        observe(&text);
                        let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
                        if tail.len() == TAIL_LINES {
                            tail.pop_front();
                        }
                        tail.push_back(text);
                    }
                })
            });
        let readers: Vec<_> = readers.collect();
        let status = child.wait()?;
        for reader in readers {
            let _ = reader.join();
        }
        let tail = std::mem::take(&mut *tail.lock().unwrap_or_else(PoisonError::into_inner)).into();
        Ok(Finished {
            status,
            tail,
            elapsed: started.elapsed(),
        })
    }
}

fn take_stdout(child: &mut Child) -> Option<Box<dyn Read + Send>> {
    child
        .stdout
        .take()
        .map(|s| Box::new(s) as Box<dyn Read + Send>)
}

fn take_stderr(child: &mut Child) -> Option<Box<dyn Read + Send>> {
    child
        .stderr
        .take()
        .map(|s| Box::new(s) as Box<dyn Read + Send>)
}

/// A command that ran to the end.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its last lines of output.
    pub tail: Vec<String>,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Finished {
    /// The tail as one indented block, for error messages.
    #[must_use]
    pub(crate) fn tail_text(&self) -> String {
        self.tail
            .iter()
            .map(|l| format!("  | {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `1.2s`, `2m03s`.
#[must_use]
pub(crate) fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = d.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn streams_both_streams_and_keeps_the_tail() {
        let buf = Buf::default();
        let ui = Ui::to_writer(buf.clone());
        let done = ui
            .run_streamed(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]))
            .unwrap();
        assert_eq!(done.status.code(), Some(3));
        let mut tail = done.tail.clone();
        tail.sort();
        assert_eq!(tail, ["err", "out"]);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("out\n") && text.contains("err\n"));
    }

    #[test]
    fn progress_gets_rpacks_own_lines_but_not_tool_output() {
        let all = Buf::default();
        let progress = Buf::default();
        let ui = Ui::to_writer(all.clone()).with_progress(progress.clone());
        ui.section("Creating builder");
        ui.done("Built acme/bp 0.1.0", Duration::from_secs(3));
        ui.run_streamed(Command::new("sh").args(["-c", "echo cargo noise"]))
            .unwrap();
        ui.warn("slow");
        let progress = String::from_utf8(progress.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            progress,
            "==> Creating builder\n    Built acme/bp 0.1.0 (3.0s)\nwarning: slow\n"
        );
        let all = String::from_utf8(all.0.lock().unwrap().clone()).unwrap();
        assert!(
            all.contains("cargo noise\n") && all.contains("warning: slow"),
            "{all}"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(format_duration(Duration::from_secs(123)), "2m03s");
    }
}
