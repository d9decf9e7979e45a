//! Running a program with its stdout and stderr read line by line as they come (both streams, in the order
//! lines arrive), keeping the last [`TAIL_LINES`] for an error message.
//!
//! ```
//! use std::process::Command;
//! use std::sync::Mutex;
//! use libbuildpack::toolbox::command::stream;
//! let seen = Mutex::new(Vec::new());
//! let done = stream(Command::new("sh").args(["-c", "echo hi; exit 3"]), |line| {
//!     seen.lock().unwrap().push(line.to_owned());
//! })?;
//! assert_eq!(done.status.code(), Some(3));
//! assert_eq!(done.tail, ["hi"]);
//! assert_eq!(*seen.lock().unwrap(), ["hi"]);
//! # Ok::<(), libbuildpack::toolbox::command::StreamError>(())
//! ```

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::style::TAIL_LINES;

/// A command that ran to the end.
#[derive(Debug)]
pub struct Streamed {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its last lines of output (stdout and stderr), oldest first, without line ends.
    pub tail: Vec<String>,
    /// How long it ran.
    pub elapsed: Duration,
}

/// A command could not be run to the end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The program could not be started.
    #[error("could not start the program")]
    Spawn(#[source] std::io::Error),
    /// Waiting for the program to exit failed.
    #[error("could not wait for the program")]
    Wait(#[source] std::io::Error),
}

impl From<StreamError> for std::io::Error {
    fn from(err: StreamError) -> Self {
        match err {
            StreamError::Spawn(e) | StreamError::Wait(e) => e,
        }
    }
}

/// Runs `command` with stdin closed, calls `on_line` with each line of its stdout and stderr as it arrives
/// (without the line end; invalid UTF-8 replaced), and returns its exit status with the last lines.
///
/// # Errors
/// [`StreamError::Spawn`] when the program cannot be started, [`StreamError::Wait`] when waiting for it
/// fails. An unsuccessful exit is not an error: look at [`Streamed::status`].
pub fn stream(
    command: &mut Command,
    on_line: impl Fn(&str) + Sync,
) -> Result<Streamed, StreamError> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(StreamError::Spawn)?;
    let tail = Mutex::new(VecDeque::with_capacity(TAIL_LINES));
    let streams: [Option<Box<dyn Read + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    let status = std::thread::scope(|scope| {
        for stream in streams.into_iter().flatten() {
            let (tail, on_line) = (&tail, &on_line);
            scope.spawn(move || read_lines(stream, tail, on_line));
        }
        child.wait()
    })
    .map_err(StreamError::Wait)?;
    let tail = tail.into_inner().unwrap_or_else(PoisonError::into_inner);
    Ok(Streamed {
        status,
        tail: tail.into(),
        elapsed: started.elapsed(),
    })
}

fn read_lines(
    stream: Box<dyn Read + Send>,
    tail: &Mutex<VecDeque<String>>,
    on_line: &impl Fn(&str),
) {
    for line in BufReader::new(stream).split(b'\n') {
        let Ok(line) = line else { break };
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches('\r')
            .to_owned();
        on_line(&text);
        let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_streams_arrive_and_the_tail_keeps_the_last_lines() {
        let seen = Mutex::new(Vec::new());
        let done = stream(
            Command::new("sh").args([
                "-c",
                "echo err >&2; for i in $(seq 1 40); do echo line$i; done",
            ]),
            |line| seen.lock().unwrap().push(line.to_owned()),
        )
        .unwrap();
        assert!(done.status.success());
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 41);
        assert!(seen.contains(&"err".to_owned()));
        assert_eq!(done.tail.len(), TAIL_LINES);
        assert!(done.tail.contains(&"line40".to_owned()), "{:?}", done.tail);
        assert!(!done.tail.contains(&"line1".to_owned()), "{:?}", done.tail);
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let err = stream(&mut Command::new("/nonexistent/program"), |_| {}).unwrap_err();
        assert!(matches!(err, StreamError::Spawn(_)), "{err:?}");
    }
}
