//! Every error of the SDK reads as one chain: a message says what failed, its cause says why, and no
//! message repeats its cause (the output prints each cause on its own line after it).

use std::path::PathBuf;

use libbuildpack::data::TomlFileError;
use libbuildpack::layer::{HashError, KeptDirError, LayerError};
use libbuildpack::testing::assert_causes_not_repeated;

fn io() -> std::io::Error {
    std::io::Error::other("disk full")
}

#[test]
fn io_errors_print_their_cause_once() {
    let path = PathBuf::from("/layers/venv.toml");
    let errors: Vec<Box<dyn std::error::Error>> = vec![
        Box::new(TomlFileError::Read {
            path: path.clone(),
            source: io(),
        }),
        Box::new(LayerError::WriteLayerToml(TomlFileError::Write {
            path: path.clone(),
            source: io(),
        })),
        Box::new(LayerError::ResetLayer {
            path: path.clone(),
            source: io(),
        }),
        Box::new(LayerError::WriteEnvFile {
            path: path.clone(),
            source: io(),
        }),
        Box::new(HashError {
            path: path.clone(),
            source: io(),
        }),
        Box::new(KeptDirError::WriteRecord {
            path: path.clone(),
            source: io(),
        }),
        Box::new(libbuildpack::tree::TreeError::Copy {
            from: path.clone(),
            to: path.clone(),
            source: io(),
        }),
    ];
    for error in &errors {
        let chain = assert_causes_not_repeated(error.as_ref());
        assert_eq!(
            chain.last().map(String::as_str),
            Some("disk full"),
            "{chain:?}"
        );
    }
}

#[test]
fn a_command_that_cannot_start_says_so_once() {
    let output = libbuildpack::Output::to_writer(std::io::sink());
    let error = output
        .run(&mut std::process::Command::new("/nonexistent/pip"))
        .unwrap_err();
    let chain = assert_causes_not_repeated(&error);
    assert_eq!(
        chain[0],
        "could not start /nonexistent/pip (is it installed and on PATH?)"
    );
    assert_eq!(chain.len(), 2, "{chain:?}");
}
