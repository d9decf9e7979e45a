//! `rpack doctor`.

use std::process::ExitCode;

use rpack::Error;
use rpack::ops::doctor::{self, Check};
use rpack::store::Store;

/// Prints every check; fails when one that a build needs fails.
pub fn run() -> Result<ExitCode, Error> {
    let store = Store::from_env()?;
    let checks = doctor::run(&store);
    for check in &checks {
        let status = match (check.ok, check.optional) {
            (true, _) => "ok  ",
            (false, true) => "todo",
            (false, false) => "FAIL",
        };
        println!("{status} {:<16} {}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            println!("     {:<16} fix: {fix}", "");
        }
    }
    Ok(if checks.iter().any(Check::blocks) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
