//! The `Io` variant every module error shares is `Io(#[from] FileError)`: the SDK's
//! [`FileError`](libbuildpack::toolbox::file::FileError) (`could not <action> <path>`). `io_err!` declares a
//! module's `map_err` adapter into its own error, so one piece of code makes them all.

/// Declares `fn io_err(action, path)` for the module error `$error` (which has `Io(#[from] FileError)`): the
/// `map_err` adapter that turns the I/O error of `action` on `path` into `$error`, so `?` can pass it on to the
/// folder's error. `$vis` makes it visible to the module's children.
macro_rules! io_err {
    ($vis:vis $error:ty) => {
        $vis fn io_err<'a>(
            action: &'static str,
            path: &'a ::std::path::Path,
        ) -> impl FnOnce(::std::io::Error) -> $error + 'a {
            move |source| {
                <$error>::from(::libbuildpack::toolbox::file::FileError {
                    action,
                    path: path.to_owned(),
                    source,
                })
            }
        }
    };
}

pub(crate) use io_err;
