//! Bytecode for what an install just added, compiled in parallel on every CPU the build may use.
//!
//! pip compiles one file after the other: on a scikit-learn venv that was three quarters of its CPU
//! time. The pip buildpack installs with `--no-compile` and the uv buildpack with
//! `UV_COMPILE_BYTECODE` off, then this compiles the `.py` files of the venv's site-packages that
//! have no bytecode yet. Files that have it are left alone: an incremental install does not rewrite
//! the files of the packages it kept (which would make the venv look changed, see [`crate::venv`]).
//! Like pip, a file that does not compile is skipped. Unlike pip, the packages' own test suites
//! (dirs named `tests`) are not compiled: an app never imports them, and they are 40% of the `.py`
//! files of a scikit-learn venv (912 of 2,231 with numpy and scipy); Python still runs them from
//! source when someone does. The bytecode is checked by hash
//! (`SOURCE_DATE_EPOCH` is set): the image's files all have the lifecycle's fixed time, against which
//! timestamp-checked bytecode would be stale at every start.

use std::path::{Path, PathBuf};

use libbuildpack::prelude::*;

/// The script, run with the venv's Python.
const COMPILE: &str = r#"
import importlib.util, os, py_compile, sys, sysconfig
from concurrent.futures import ProcessPoolExecutor

def missing():
    roots = sorted({sysconfig.get_paths()[k] for k in ("purelib", "platlib")})
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "tests"))
            for name in sorted(files):
                path = os.path.join(folder, name)
                if name.endswith(".py") and not os.path.exists(importlib.util.cache_from_source(path)):
                    yield path

def compile(path):
    # quiet=2: a file that does not compile returns None instead of raising.
    try:
        return 1 if py_compile.compile(path, quiet=2) else 0
    except Exception:
        return 0

if __name__ == "__main__":
    paths = list(missing())
    workers = len(os.sched_getaffinity(0))
    if workers > 1 and len(paths) > 100:
        with ProcessPoolExecutor(workers) as pool:
            done = sum(pool.map(compile, paths, chunksize=16))
    else:
        done = sum(map(compile, paths))
    print(f"Compiled {done} of {len(paths)} new .py files to bytecode ({workers} processes)")
"#;

/// Numbers the script files: named for the process and the call, as in-process tests build in
/// parallel threads of one process.
static SCRIPTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Compiling failed.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The script could not be written.
    #[error("could not write {}", path.display())]
    WriteScript {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The venv's Python could not run it.
    #[error("could not compile the installed packages to bytecode")]
    Run(#[source] CommandError),
}

/// Compiles the `.py` files of the venv at `venv` that have no bytecode yet.
///
/// # Errors
///
/// [`CompileError`] when the script cannot be written or the venv's Python cannot run it.
pub fn compile_missing<M>(ctx: &BuildContext<M>, venv: &Path) -> Result<(), CompileError> {
    ctx.output().step("Compiling the new packages to bytecode");
    // A script file rather than `-c`, so the build log shows one short command line.
    let script = std::env::temp_dir().join(format!(
        "libbuildpack-compile-{}-{}.py",
        std::process::id(),
        SCRIPTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(&script, COMPILE).map_err(|source| CompileError::WriteScript {
        path: script.clone(),
        source,
    })?;
    let mut command = Command::new(venv.join("bin/python"));
    command
        .arg("-I")
        .arg(&script)
        .env("VIRTUAL_ENV", venv)
        .env("PYTHONNOUSERSITE", "1");
    if std::env::var_os("SOURCE_DATE_EPOCH").is_none() {
        command.env("SOURCE_DATE_EPOCH", "315532801");
    }
    let result = ctx.run(&mut command);
    let _ = std::fs::remove_file(&script);
    result.map_err(CompileError::Run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_only_files_without_bytecode_checked_by_hash_and_skips_test_suites() {
        let dir = tempfile::tempdir().unwrap();
        let Some(venv) = crate::tests::python_venv(dir.path()) else {
            return;
        };
        let site = std::fs::read_dir(venv.join("lib"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("site-packages");
        std::fs::create_dir_all(site.join("kept/__pycache__")).unwrap();
        std::fs::write(site.join("kept/__init__.py"), "").unwrap();
        let tag = std::fs::read_dir(venv.join("lib"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name();
        let tag = tag
            .to_string_lossy()
            .replace("python", "cpython-")
            .replace('.', "");
        let old = site.join(format!("kept/__pycache__/__init__.{tag}.pyc"));
        std::fs::write(&old, "old bytecode").unwrap();
        std::fs::create_dir(site.join("new")).unwrap();
        std::fs::write(site.join("new/__init__.py"), "x = 1\n").unwrap();
        std::fs::write(site.join("new/broken.py"), "def (:\n").unwrap();
        std::fs::create_dir(site.join("new/tests")).unwrap();
        std::fs::write(site.join("new/tests/test_new.py"), "y = 2\n").unwrap();

        let mut command = Command::new(venv.join("bin/python"));
        command
            .arg("-I")
            .arg("-c")
            .arg(COMPILE)
            .env("SOURCE_DATE_EPOCH", "315532801");
        let run = command.output().unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            stdout.starts_with("Compiled 1 of 2 new .py files to bytecode"),
            "{stdout}"
        );
        assert_eq!(
            std::fs::read_to_string(&old).unwrap(),
            "old bytecode",
            "kept as it was"
        );
        let new = std::fs::read(site.join(format!("new/__pycache__/__init__.{tag}.pyc"))).unwrap();
        assert_eq!(new[4], 3, "checked by hash");
        assert!(
            !site.join("new/tests/__pycache__").exists(),
            "a package's test suite is not compiled"
        );
    }
}
