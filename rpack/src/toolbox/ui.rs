//! rpack's own output: sections, steps with timings, warnings, and streamed tool output, written to one sink so
//! the CLI can print it and tests can capture it.

use std::io::{self, IsTerminal, Write};
use std::process::{Command, ExitStatus};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use libbuildpack::toolbox::command::stream;
use libbuildpack::toolbox::style::{self, BOLD, DIM, YELLOW};

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
        let color = style::use_color(
            std::env::var_os("NO_COLOR").as_deref(),
            io::stderr().is_terminal(),
        );
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
        style::paint(self.color, code, text)
    }

    /// A section header: `## Building localhost/app:latest`, after an empty line.
    pub(crate) fn section(&self, title: &str) {
        let plain = style::section(title);
        self.line("");
        self.own_line(&plain, &self.paint(BOLD, &plain));
    }

    /// A step inside a section: `- Exporting the image`.
    pub fn step(&self, text: &str) {
        let plain = style::step(text);
        self.own_line(&plain, &plain);
    }

    /// A step that finished, with its duration: `- Built app (1.2s)`.
    pub(crate) fn done(&self, text: &str, elapsed: Duration) {
        let plain = style::done(text, elapsed);
        let took = format!("({})", style::format_duration(elapsed));
        let painted = format!("{} {}", style::step(text), self.paint(DIM, &took));
        self.own_line(&plain, &painted);
    }

    /// A warning: `! Warning: ...`.
    pub fn warn(&self, text: &str) {
        let plain = style::warning(text);
        self.own_line(&plain, &self.paint(YELLOW, &plain));
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
        observe: impl Fn(&str) + Send + Sync,
    ) -> io::Result<Finished> {
        let streamed = stream(command, |line| {
            self.passthrough(line);
            observe(line);
        })?;
        Ok(Finished {
            status: streamed.status,
            tail: streamed.tail,
            elapsed: streamed.elapsed,
        })
    }
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
    /// The tail for the end of an error message: `; its last output was:` and the lines indented under it
    /// (empty without output), as the SDK's command errors show it.
    #[must_use]
    pub(crate) fn tail_text(&self) -> String {
        style::tail(&self.tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use libbuildpack::toolbox::capture::Capture as Buf;

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
        let text = buf.text();
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
        let progress = progress.text();
        assert_eq!(
            progress,
            "## Creating builder\n- Built acme/bp 0.1.0 (3.0s)\n! Warning: slow\n"
        );
        let all = all.text();
        assert!(
            all.contains("cargo noise\n") && all.contains("! Warning: slow"),
            "{all}"
        );
    }
}
