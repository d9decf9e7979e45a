//! The names of what the harness makes in rpack's store: the same test gets the same names on every run, so a
//! run replaces the images of the run before it instead of leaving them behind.
//!
//! A test's app usually lives in a temp dir ([`crate::copy_app`]), and some tests write their builder.toml
//! there too: names made from those paths would be new on every run. Inside a test the names come from the
//! test instead: its crate's dir (so each checkout has its own), its test binary, its name (libtest runs each
//! test on a thread named after it) and how many builds it started before this one. Outside a named test
//! thread (a thread the test spawned), the app image is named from the app dir and the builder, and the
//! builder from its path, as before.

use std::cell::Cell;
use std::path::Path;

use rpack::build::platform::{self, BuilderSource};
use rpack::oci::reference::ImageRef;

thread_local! {
    /// How many fresh builds the test on this thread started.
    static BUILDS: Cell<u32> = const { Cell::new(0) };
    /// How many builders from a temp builder.toml the test on this thread made.
    static BUILDERS: Cell<u32> = const { Cell::new(0) };
}

/// The test running on this thread, as libtest names it (`module::test_name`); `None` on the main thread and
/// on threads without a name.
fn current_test() -> Option<String> {
    let thread = std::thread::current();
    let name = thread.name()?;
    (name != "main").then(|| name.to_owned())
}

/// The test binary's target name: its file name without cargo's `-<hash>` suffix (`e2e` for `e2e-0a1b...`).
fn test_binary() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.rsplit_once('-') {
        Some((target, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            target.to_owned()
        }
        _ => stem,
    }
}

/// What makes the `n`th name of `kind` of `test` unique across every crate's tests and every checkout (the
/// crate's dir, which cargo gives the tests: two checkouts testing at once against one store do not share an
/// image), and the same on every run.
fn test_key(kind: &str, test: &str, n: u32) -> String {
    format!(
        "{kind}\n{}\n{}\n{test}\n{n}",
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default(),
        test_binary()
    )
}

/// Lowercase letters and digits, other characters as `-`, no `-` at the ends; `fallback` when nothing is left.
fn slug(text: &str, fallback: &str) -> String {
    let slug: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        fallback.to_owned()
    } else {
        slug.to_owned()
    }
}

/// `localhost/libbuildpack-test/<name>-<first 12 hex of sha256(key)>:latest`.
fn reference(name: &str, key: &str) -> ImageRef {
    // sha256, not DefaultHasher: names must stay the same across Rust releases (stores outlive toolchains).
    let digest = crate::file_server::sha256(key);
    let text = format!(
        "localhost/libbuildpack-test/{name}-{}:latest",
        &digest[..12]
    );
    match text.parse() {
        Ok(reference) => reference,
        Err(e) => unreachable!("a slug and hex digits form a valid reference: {e}"),
    }
}

/// The app image of a fresh build of `app_dir` with `builder`. In a test, its hash comes from the test and its
/// count of fresh builds so far, and it reads as the app dir's name (`localhost/libbuildpack-test/hello-<hash>`)
/// or, for an app copied into a temp dir, as the test's (`<test fn>-<hash>`). Outside a test both come from the
/// app dir and the builder.
pub(crate) fn app_image(app_dir: &Path, builder: Option<&BuilderSource>) -> ImageRef {
    let name = app_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(test) = current_test() {
        let n = BUILDS.with(|count| {
            count.set(count.get() + 1);
            count.get()
        });
        let leaf = test.rsplit("::").next().unwrap_or(&test);
        let shown = if app_dir.starts_with(std::env::temp_dir()) {
            leaf
        } else {
            name.as_str()
        };
        return reference(&slug(shown, "app"), &test_key("app", &test, n));
    }
    reference(
        &slug(&name, "app"),
        &format!("{}\n{builder:?}", app_dir.display()),
    )
}

/// The builder image made from `config`: rpack's name for it (from its path), except for a builder.toml in a
/// temp dir written by a test, which is named after the test and its count of such builders.
pub(crate) fn builder_image(config: &Path) -> ImageRef {
    if config.starts_with(std::env::temp_dir())
        && let Some(test) = current_test()
    {
        let n = BUILDERS.with(|count| {
            count.set(count.get() + 1);
            count.get()
        });
        return reference("builder", &test_key("builder", &test, n));
    }
    platform::builder_ref_for_config(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_names_its_builds_after_itself_whatever_the_temp_app_dir() {
        let first = app_image(Path::new("/tmp/app-x1y2z3"), None);
        let second = app_image(Path::new("/tmp/app-q9w8e7"), None);
        // The name is this test's, and the second build of a test gets its own.
        let name = |r: &ImageRef| r.to_string();
        assert!(
            name(&first).starts_with(
                "localhost/libbuildpack-test/a-test-names-its-builds-after-itself-whatever-the-temp-app-dir-"
            ),
            "{first}"
        );
        assert_ne!(first, second);

        // The same test run again (a new thread with the same name) gets the same names, though its app dirs
        // are new temp dirs.
        let again = std::thread::Builder::new()
            .name(std::thread::current().name().unwrap_or_default().to_owned())
            .spawn(|| {
                (
                    app_image(Path::new("/tmp/app-aaaaaa"), None),
                    app_image(Path::new("/tmp/app-bbbbbb"), None),
                )
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(again, (first, second));

        // A checked-in app dir reads as itself, still keyed by the test.
        let hello = app_image(Path::new("/repo/examples/apps/hello"), None);
        assert!(
            name(&hello).starts_with("localhost/libbuildpack-test/hello-"),
            "{hello}"
        );
    }

    #[test]
    fn outside_a_test_the_app_dir_and_builder_name_the_image() {
        let unnamed = || {
            std::thread::spawn(|| {
                (
                    app_image(Path::new("/src/My App"), None),
                    app_image(Path::new("/src/My App"), None),
                    app_image(Path::new("/src/other"), None),
                )
            })
            .join()
            .unwrap()
        };
        let (one, same, other) = unnamed();
        assert!(
            one.to_string()
                .starts_with("localhost/libbuildpack-test/my-app-"),
            "{one}"
        );
        assert_eq!(one, same);
        assert_ne!(one, other);
    }

    #[test]
    fn a_temp_builder_toml_is_named_after_the_test_and_a_checked_in_one_by_its_path() {
        let temp = std::env::temp_dir().join("case-r4nd0m/builder.toml");
        let named = builder_image(&temp);
        assert!(
            named
                .to_string()
                .starts_with("localhost/libbuildpack-test/builder-"),
            "{named}"
        );
        let fixture = Path::new("/src/tests/fixtures/builder.toml");
        assert_eq!(
            builder_image(fixture),
            platform::builder_ref_for_config(fixture)
        );
    }

    #[test]
    fn cargo_hash_suffixes_are_not_part_of_the_binary_name() {
        let binary = test_binary();
        assert!(!binary.is_empty());
        assert!(
            !binary
                .rsplit_once('-')
                .is_some_and(|(_, h)| h.len() == 16 && h.chars().all(|c| c.is_ascii_hexdigit())),
            "{binary}"
        );
    }
}
