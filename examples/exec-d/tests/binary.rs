//! The real binary started from an `exec.d/` dir, as the launcher starts it: fd 3 open for
//! its output, stdout for logs only.

#[cfg(target_os = "linux")]
#[test]
fn binary_in_exec_d_writes_port_to_fd_3_only() {
    let dir = tempfile::tempdir().unwrap();
    let exec_d = dir.path().join("layer/exec.d");
    std::fs::create_dir_all(&exec_d).unwrap();
    let program = exec_d.join("port");
    std::fs::copy(env!("CARGO_BIN_EXE_exec-d-buildpack"), &program).unwrap();
    let out = dir.path().join("fd3");
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"exec 3>"$1"; "$2""#)
        .arg("sh")
        .arg(&out)
        .arg(&program)
        .env("BPL_PORT", "9000")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "PORT = \"9000\"\n");
}
