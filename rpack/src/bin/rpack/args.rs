//! Value parsers the commands share.

use rpack::oci::reference::ImageRef;

/// Parses image references for clap with rpack's own message, which shows the value with control characters
/// escaped; clap's would echo it raw to the terminal.
#[derive(Clone)]
pub struct ImageRefParser;

impl clap::builder::TypedValueParser for ImageRefParser {
    type Value = ImageRef;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<ImageRef, clap::Error> {
        value.to_string_lossy().parse().map_err(|err| {
            let name = arg.map_or_else(String::new, |a| format!(" for <{}>", a.get_id()));
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value{name}: {err}\n"),
            )
            .with_cmd(cmd)
        })
    }
}

/// Parses `KEY=VALUE`.
pub fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}
