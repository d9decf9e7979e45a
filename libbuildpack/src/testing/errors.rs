//! Checks of how an error reads: its cause chain, with no message repeating its cause.

use std::error::Error;

/// The messages of `error` and its causes, outermost first, as [`Output::error`](crate::Output::error)
/// prints them (`ERROR: <first>`, then `caused by: <next>` for each).
///
/// ```
/// use libbuildpack::testing::error_chain;
/// let io = std::io::Error::other("disk full");
/// let error = libbuildpack::layer::HashError { path: "uv.lock".into(), source: io };
/// assert_eq!(error_chain(&error), ["could not read uv.lock to hash it", "disk full"]);
/// ```
#[must_use]
pub fn error_chain(error: &(dyn Error + 'static)) -> Vec<String> {
    let mut chain = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    chain
}

/// Asserts the rule every error here follows: a message never repeats its cause's (the cause is
/// printed on its own line after it, so a message that embeds it shows it twice). Returns the chain.
///
/// ```should_panic
/// #[derive(Debug, thiserror::Error)]
/// #[error("could not read the lock: {0}")]
/// struct ReadLock(#[source] std::io::Error);
/// libbuildpack::testing::assert_causes_not_repeated(&ReadLock(std::io::Error::other("disk full")));
/// ```
///
/// # Panics
///
/// When a message contains the message of its cause, naming both.
#[track_caller]
pub fn assert_causes_not_repeated(error: &(dyn Error + 'static)) -> Vec<String> {
    let chain = error_chain(error);
    for pair in chain.windows(2) {
        let (message, cause) = (&pair[0], &pair[1]);
        assert!(
            cause.is_empty() || !message.contains(cause.as_str()),
            "the message {message:?} repeats its cause {cause:?}: drop the cause from the message (it is printed \
             after it)"
        );
    }
    chain
}
