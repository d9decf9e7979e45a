//! One style for everything written into a build log, by a buildpack ([`crate::output::Output`]) or by the
//! platform around it (rpack's `Ui`): the same markers, colours, duration and size formats and tail length.
//!
//! ```
//! use std::time::Duration;
//! use libbuildpack::toolbox::style;
//! assert_eq!(style::section("Pip"), "## Pip");
//! assert_eq!(style::step("Installing requirements"), "- Installing requirements");
//! assert_eq!(style::done("Built app", Duration::from_millis(1234)), "- Built app (1.2s)");
//! assert_eq!(style::warning("slow"), "! Warning: slow");
//! assert_eq!(style::format_size(1_500_000), "1.5 MB");
//! ```

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::time::Duration;

/// How many of a command's last output lines are kept for its error message.
pub const TAIL_LINES: usize = 20;

/// Bold: section headers.
pub const BOLD: &str = "\x1b[1m";
/// Yellow: warnings.
pub const YELLOW: &str = "\x1b[33m";
/// Red: errors.
pub const RED: &str = "\x1b[31m";
/// Dim: timings, command lines, debug lines.
pub const DIM: &str = "\x1b[2m";
/// Ends a colour.
pub const RESET: &str = "\x1b[0m";

/// A section header: `## Pip`. Printed after an empty line.
#[must_use]
pub fn section(title: &str) -> String {
    format!("## {title}")
}

/// A step of the current section: `- Installing requirements`.
#[must_use]
pub fn step(text: &str) -> String {
    format!("- {text}")
}

/// A step that finished, with how long it took: `- Built app (1.2s)`.
#[must_use]
pub fn done(text: &str, elapsed: Duration) -> String {
    format!("- {text} ({})", format_duration(elapsed))
}

/// A detail under the current step: `  Reusing venv`.
#[must_use]
pub fn detail(text: &str) -> String {
    format!("  {text}")
}

/// A command line about to run: `  $ pip install ...`.
#[must_use]
pub fn command_line(display: &str) -> String {
    format!("  $ {display}")
}

/// A line of a command's output: indented under the command.
#[must_use]
pub fn tool_output(line: &str) -> String {
    format!("      {line}")
}

/// A warning: `! Warning: slow`.
#[must_use]
pub fn warning(text: &str) -> String {
    format!("! Warning: {text}")
}

/// An error's first line: `ERROR: could not ...`.
#[must_use]
pub fn error(text: &str) -> String {
    format!("ERROR: {text}")
}

/// One cause of an error, under it: `  caused by: disk full`.
#[must_use]
pub fn cause(text: &str) -> String {
    format!("  caused by: {text}")
}

/// What the user can do about an error: `  hint: free some space`.
#[must_use]
pub fn hint(text: &str) -> String {
    format!("  hint: {text}")
}

/// `text` in the colour `code` (one of this module's constants) when `on`, else as it is.
#[must_use]
pub fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("{code}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

/// Whether to colour output: only on a terminal, and never when `NO_COLOR` is set to a non-empty value
/// (<https://no-color.org>).
#[must_use]
pub fn use_color(no_color: Option<&OsStr>, is_terminal: bool) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// A duration for people: `0.4s`, `12.0s`, `2m 03s`.
#[must_use]
pub fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 60 {
        format!("{}.{}s", secs, duration.subsec_millis() / 100)
    } else {
        format!("{}m {:02}s", secs / 60, secs % 60)
    }
}

/// A size for people, in decimal units: `512 B`, `12.3 kB`, `1.2 MB`, `3.4 GB`.
#[must_use]
#[allow(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
pub fn format_size(bytes: u64) -> String {
    let scaled = |unit: f64, name: &str| format!("{:.1} {name}", bytes as f64 / unit);
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => scaled(1e3, "kB"),
        1_000_000..1_000_000_000 => scaled(1e6, "MB"),
        _ => scaled(1e9, "GB"),
    }
}

/// A failed command's last lines of output, for the end of its error message: `; its last output was:` and
/// the lines indented under it. Empty when there are none.
#[must_use]
pub fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    format!("; its last output was:\n{}", indent(lines))
}

/// A tool's lines for a message, each indented by four spaces, one per line (no line end after the last).
#[must_use]
pub fn indent(lines: &[String]) -> String {
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        let _ = write!(text, "{}    {line}", if i == 0 { "" } else { "\n" });
    }
    text
}

/// [`tail`] of the last [`TAIL_LINES`] lines of a program's whole output.
#[must_use]
pub fn tail_of(output: &str) -> String {
    let lines: Vec<String> = output.lines().map(str::to_owned).collect();
    tail(&lines[lines.len().saturating_sub(TAIL_LINES)..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_millis(400)), "0.4s");
        assert_eq!(format_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(format_duration(Duration::from_secs(123)), "2m 03s");
    }

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(12_345), "12.3 kB");
        assert_eq!(format_size(1_500_000), "1.5 MB");
        assert_eq!(format_size(3_400_000_000), "3.4 GB");
    }

    #[test]
    fn tail_is_indented_under_its_heading() {
        assert_eq!(tail(&[]), "");
        assert_eq!(
            tail(&["a".to_owned(), "b".to_owned()]),
            "; its last output was:\n    a\n    b"
        );
        let many = (1..=30).fold(String::new(), |mut text, i| {
            let _ = writeln!(text, "l{i}");
            text
        });
        assert!(tail_of(&many).starts_with("; its last output was:\n    l11\n"));
    }

    #[test]
    fn color_only_on_a_tty_without_no_color() {
        assert!(use_color(None, true));
        assert!(use_color(Some(OsStr::new("")), true));
        assert!(!use_color(Some(OsStr::new("1")), true));
        assert!(!use_color(None, false));
        assert_eq!(paint(false, RED, "x"), "x");
        assert_eq!(paint(true, RED, "x"), "\x1b[31mx\x1b[0m");
    }
}
