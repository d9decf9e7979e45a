//! How the CLI shows errors: the error, its cause chain, and a hint saying what to do.

use std::error::Error as _;

use rpack::Error;
use rpack::toolbox::ui::Ui;

/// Prints `error: ...`, each cause on its own line, and the hint.
pub fn report(err: &Error, ui: &Ui) {
    ui.passthrough(&format!("error: {err}"));
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // `transparent` variants repeat their inner error as the first source; skip an identical line.
        if text != last {
            ui.passthrough(&format!("  caused by: {text}"));
        }
        last = text;
        source = cause.source();
    }
    if let Some(hint) = err.hint() {
        ui.passthrough(&format!("  hint: {hint}"));
    }
}
