//! Assertions on text that show the whole text when they fail: what a test of a buildpack's output checks
//! most. Exported at the crate root (they need no feature: libbuildpack-test re-exports them) and from
//! `libbuildpack::testing`.

/// Asserts that `haystack` contains `needle`, showing both when it does not.
///
/// ```
/// use libbuildpack::assert_contains;
///
/// let output = String::from("===> BUILDING\nInstalling hello\n");
/// assert_contains!(output, "Installing hello");
/// ```
#[macro_export]
macro_rules! assert_contains {
    ($haystack:expr, $needle:expr $(,)?) => {{
        let haystack: &str = &$haystack;
        let needle: &str = &$needle;
        assert!(
            haystack.contains(needle),
            "expected to find {needle:?} in:\n{haystack}"
        );
    }};
}

/// Asserts that `haystack` does not contain `needle`, showing both when it does.
///
/// ```
/// use libbuildpack::assert_not_contains;
///
/// let output = String::from("Reusing hello\n");
/// assert_not_contains!(output, "Installing");
/// ```
#[macro_export]
macro_rules! assert_not_contains {
    ($haystack:expr, $needle:expr $(,)?) => {{
        let haystack: &str = &$haystack;
        let needle: &str = &$needle;
        assert!(
            !haystack.contains(needle),
            "expected not to find {needle:?} in:\n{haystack}"
        );
    }};
}
