//! Build output: sections, steps, warnings and streamed commands in one consistent style.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::process::{Command, ExitStatus};
use std::sync::{Arc, Mutex, PoisonError};

use crate::toolbox::command::{StreamError, stream};
use crate::toolbox::style::{self, BOLD, DIM, RED, YELLOW};
pub use crate::toolbox::style::{format_duration, use_color};

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// Secrets to hide in what is printed, shared by an output and its clones.
type Masks = Arc<Mutex<Vec<String>>>;

pub use crate::redact::MASK;

/// Writes build output. Cheap to clone; clones share the same streams.
///
/// Colour is used only when stdout is a terminal and `NO_COLOR` is unset or empty.
/// [`debug`](Self::debug) lines are shown only when `BP_LOG_LEVEL` is `DEBUG` (any case), set
/// by the user in `<platform>/env/` or in the process env.
///
/// ```no_run
/// use libbuildpack::Output;
/// let output = Output::stdout();
/// output.section("Hello");
/// output.step("Writing layer");
/// output.warn("hello.txt is empty");
/// ```
#[derive(Clone)]
pub struct Output {
    out: Sink,
    err: Sink,
    masks: Masks,
    color: bool,
    debug: bool,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("color", &self.color)
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

impl Output {
    /// Output to the process's stdout (and errors to stderr).
    #[must_use]
    pub fn stdout() -> Self {
        Self {
            out: Arc::new(Mutex::new(Box::new(std::io::stdout()))),
            err: Arc::new(Mutex::new(Box::new(std::io::stderr()))),
            masks: Masks::default(),
            color: use_color(
                std::env::var_os("NO_COLOR").as_deref(),
                std::io::stdout().is_terminal(),
            ),
            debug: is_debug_level(std::env::var("BP_LOG_LEVEL").ok().as_deref()),
        }
    }

    /// This output with debug lines shown (`true`) or hidden.
    #[must_use]
    pub fn with_debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// Whether [`debug`](Self::debug) lines are shown.
    #[must_use]
    pub fn is_debug(&self) -> bool {
        self.debug
    }

    /// Output to `writer` (both normal output and errors), without colour. Used by tests.
    #[must_use]
    pub fn to_writer(writer: impl Write + Send + 'static) -> Self {
        let sink: Sink = Arc::new(Mutex::new(Box::new(writer)));
        Self {
            out: Arc::clone(&sink),
            err: sink,
            masks: Masks::default(),
            color: false,
            debug: false,
        }
    }

    /// Hides `secret` in everything this output and its clones print from now on: section and step text,
    /// warnings, errors, the command lines and output of [`run`](Self::run), and the last lines its errors
    /// keep. Each occurrence is shown as [`MASK`]. For secrets a buildpack finds in the app's files (a password
    /// in a URL in `requirements.txt`, say); empty strings are ignored.
    ///
    /// ```
    /// use libbuildpack::Output;
    /// let output = Output::stdout();
    /// output.mask("s3cret");
    /// output.step("Using https://user:s3cret@example.invalid/simple"); // prints `user:****@`
    /// ```
    pub fn mask(&self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.is_empty() {
            return;
        }
        let mut masks = self.masks.lock().unwrap_or_else(PoisonError::into_inner);
        if !masks.contains(&secret) {
            masks.push(secret);
            // Longest first, so a secret that contains another is hidden whole.
            masks.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    fn write_to(&self, sink: &Sink, text: &str) {
        write_masked(sink, &self.masks, text);
    }

    fn paint(&self, code: &str, text: &str) -> String {
        style::paint(self.color, code, text)
    }

    /// Starts a section, e.g. the buildpack's name.
    pub fn section(&self, title: impl AsRef<str>) {
        let line = self.paint(BOLD, &style::section(title.as_ref()));
        self.write_to(&self.out, &format!("\n{line}\n"));
    }

    /// Announces a step of the current section.
    pub fn step(&self, text: impl AsRef<str>) {
        self.write_to(&self.out, &format!("{}\n", style::step(text.as_ref())));
    }

    /// Adds a detail line under the current step.
    pub fn detail(&self, text: impl AsRef<str>) {
        self.write_to(&self.out, &format!("{}\n", style::detail(text.as_ref())));
    }

    /// Adds a detail line shown only when `BP_LOG_LEVEL=DEBUG`.
    pub fn debug(&self, text: impl AsRef<str>) {
        if self.debug {
            let line = self.paint(DIM, &format!("  [debug] {}", text.as_ref()));
            self.write_to(&self.out, &format!("{line}\n"));
        }
    }

    /// Prints an error, its cause chain and what the user can do about it.
    pub fn error_with_hint(&self, error: &(dyn std::error::Error + 'static), hint: &str) {
        self.error(error);
        self.write_to(&self.err, &format!("{}\n", style::hint(hint)));
    }

    /// Prints a warning.
    pub fn warn(&self, text: impl AsRef<str>) {
        let line = self.paint(YELLOW, &style::warning(text.as_ref()));
        self.write_to(&self.out, &format!("{line}\n"));
    }

    /// Prints an error and its cause chain to the error stream.
    pub fn error(&self, error: &(dyn std::error::Error + 'static)) {
        let mut text = self.paint(RED, &style::error(&error.to_string()));
        text.push('\n');
        let mut source = error.source();
        while let Some(cause) = source {
            let _ = writeln!(text, "{}", style::cause(&cause.to_string()));
            source = cause.source();
        }
        self.write_to(&self.err, &text);
    }

    /// Runs `command`, streaming its stdout and stderr as indented lines, then prints
    /// `Done (<elapsed>)`.
    ///
    /// # Errors
    ///
    /// [`CommandError::Spawn`] when the program cannot be started, [`CommandError::Failed`]
    /// (with the exit status and the last lines of output) when it exits unsuccessfully.
    pub fn run(&self, command: &mut Command) -> Result<(), CommandError> {
        let display = masked(&self.masks, &display_command(command));
        let line = self.paint(DIM, &style::command_line(&display));
        self.write_to(&self.out, &format!("{line}\n"));
        let streamed = stream(command, |line| {
            self.write_to(&self.out, &format!("{}\n", style::tool_output(line)));
        })
        .map_err(|err| match err {
            StreamError::Spawn(source) => CommandError::Spawn {
                program: command.get_program().to_string_lossy().into_owned(),
                source,
            },
            StreamError::Wait(source) => CommandError::Wait {
                command: display.clone(),
                source,
            },
        })?;
        if streamed.status.success() {
            let took = format!("Done ({})", format_duration(streamed.elapsed));
            self.write_to(&self.out, &format!("{}\n", style::detail(&took)));
            Ok(())
        } else {
            Err(CommandError::Failed {
                command: display,
                status: streamed.status,
                last_lines: streamed
                    .tail
                    .iter()
                    .map(|line| masked(&self.masks, line))
                    .collect(),
            })
        }
    }
}

/// Whether a `BP_LOG_LEVEL` value asks for debug output.
#[must_use]
pub fn is_debug_level(level: Option<&str>) -> bool {
    level.is_some_and(|l| l.trim().eq_ignore_ascii_case("debug"))
}

/// `text` with every mask in `masks` replaced by [`MASK`].
fn masked(masks: &Masks, text: &str) -> String {
    let masks = masks.lock().unwrap_or_else(PoisonError::into_inner);
    masks.iter().fold(text.to_string(), |text, secret| {
        text.replace(secret.as_str(), MASK)
    })
}

fn write_masked(sink: &Sink, masks: &Masks, text: &str) {
    let text = masked(masks, text);
    let mut w = sink.lock().unwrap_or_else(PoisonError::into_inner);
    // Output is best effort: a closed stdout must not fail the build.
    let _ = w.write_all(text.as_bytes());
    let _ = w.flush();
}

fn display_command(command: &Command) -> String {
    let quote = |s: &OsStr| {
        let s = s.to_string_lossy();
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
        {
            s.into_owned()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A command run through [`Output::run`] did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The program could not be started.
    #[error("could not start {program}: {source}{}", spawn_hint(source))]
    Spawn {
        /// The program that was run.
        program: String,
        /// Why it could not start.
        source: std::io::Error,
    },
    /// The env for the command could not be computed.
    #[error("could not prepare the env for {program}")]
    Env {
        /// The program that was to run.
        program: String,
        /// Why.
        source: crate::env::ReadEnvError,
    },
    /// Waiting for the program failed.
    #[error("could not wait for `{command}`: {source}")]
    Wait {
        /// The command line.
        command: String,
        /// Why waiting failed.
        source: std::io::Error,
    },
    /// The program exited unsuccessfully.
    #[error("`{command}` failed ({status}){}", style::tail(last_lines))]
    Failed {
        /// The command line.
        command: String,
        /// How it exited.
        status: ExitStatus,
        /// Its last lines of output (stdout and stderr), oldest first.
        last_lines: Vec<String>,
    },
}

fn spawn_hint(source: &std::io::Error) -> &'static str {
    if source.kind() == std::io::ErrorKind::NotFound {
        " (is it installed and on PATH?)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::toolbox::capture::Capture as Buffer;

    #[test]
    fn styles_without_color() {
        let buffer = Buffer::default();
        let output = Output::to_writer(buffer.clone());
        output.section("Hello");
        output.step("Writing layer");
        output.detail("Reusing hello");
        output.warn("careful");
        assert_eq!(
            buffer.text(),
            "\n## Hello\n- Writing layer\n  Reusing hello\n! Warning: careful\n"
        );
    }

    #[test]
    fn runs_and_streams() {
        let buffer = Buffer::default();
        let output = Output::to_writer(buffer.clone());
        output
            .run(Command::new("sh").args(["-c", "echo out; echo err >&2"]))
            .unwrap();
        let text = buffer.text();
        assert!(text.contains("$ sh -c 'echo out; echo err >&2'"), "{text}");
        assert!(text.contains("      out\n"), "{text}");
        assert!(text.contains("      err\n"), "{text}");
        assert!(text.contains("  Done ("), "{text}");
    }

    #[test]
    fn failure_keeps_last_lines() {
        let output = Output::to_writer(Buffer::default());
        let err = output
            .run(
                Command::new("sh")
                    .args(["-c", "for i in $(seq 1 30); do echo line$i; done; exit 3"]),
            )
            .unwrap_err();
        let CommandError::Failed {
            last_lines, status, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(status.code(), Some(3));
        assert_eq!(last_lines.len(), style::TAIL_LINES);
        assert_eq!(last_lines.last().map(String::as_str), Some("line30"));
        assert!(err.to_string().contains("line30"));
    }

    #[test]
    fn masked_secrets_are_hidden_in_everything_printed_and_in_errors() {
        let buffer = Buffer::default();
        let output = Output::to_writer(buffer.clone());
        output.clone().mask("pw-1");
        output.mask("");
        output.step("Using https://u:pw-1@host/simple");
        output.warn("pw-1");
        let err = output
            .run(Command::new("sh").args(["-c", "echo got pw-1; echo pw-1 >&2; exit 1", "pw-1"]))
            .unwrap_err();
        output.error(&err);
        let text = buffer.text();
        assert!(!text.contains("pw-1"), "{text}");
        assert!(
            text.contains("- Using https://u:****@host/simple"),
            "{text}"
        );
        assert!(text.contains("      got ****\n"), "{text}");
        assert!(!err.to_string().contains("pw-1"), "{err}");
    }

    #[test]
    fn missing_program_has_hint() {
        let output = Output::to_writer(Buffer::default());
        let err = output
            .run(&mut Command::new("/nonexistent/program"))
            .unwrap_err();
        assert!(err.to_string().contains("is it installed"), "{err}");
    }

    #[test]
    fn debug_lines_only_at_debug_level() {
        assert!(is_debug_level(Some("DEBUG")));
        assert!(is_debug_level(Some("debug\n")));
        assert!(!is_debug_level(Some("INFO")));
        assert!(!is_debug_level(None));
        let buffer = Buffer::default();
        let output = Output::to_writer(buffer.clone());
        output.debug("hidden");
        output.clone().with_debug(true).debug("shown");
        assert_eq!(buffer.text(), "  [debug] shown\n");
    }

    #[test]
    fn errors_carry_cause_and_hint() {
        let buffer = Buffer::default();
        let output = Output::to_writer(buffer.clone());
        let err = std::io::Error::other("disk full");
        output.error_with_hint(&err, "free some space");
        assert_eq!(buffer.text(), "ERROR: disk full\n  hint: free some space\n");
    }
}
