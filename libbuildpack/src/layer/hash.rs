//! SHA-256 of a file or a directory tree, for layer keys ("rebuild when `uv.lock` changed"). A
//! file's is [`toolbox::hash::sha256_file`](crate::toolbox::hash::sha256_file), re-exported here.

use std::path::Path;

use sha2::{Digest as _, Sha256};

pub use crate::toolbox::hash::{HashError, sha256_file};

/// The SHA-256 of the tree under `root`, as 64 lowercase hex digits: of every entry's relative
/// path and kind, every file's bytes and executable bit, and every symlink's target (not
/// followed), in path order. Times, owners and the root's own name do not count, so the same
/// files give the same hash wherever they are.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use libbuildpack::layer::sha256_dir;
/// let (a, b) = (tempfile::tempdir()?, tempfile::tempdir()?);
/// for dir in [a.path(), b.path()] {
///     std::fs::create_dir(dir.join("src"))?;
///     std::fs::write(dir.join("src/app.py"), "print('hi')\n")?;
/// }
/// assert_eq!(sha256_dir(a.path())?, sha256_dir(b.path())?);
/// std::fs::write(b.path().join("src/app.py"), "print('bye')\n")?;
/// assert_ne!(sha256_dir(a.path())?, sha256_dir(b.path())?);
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`HashError`] naming the entry that cannot be read.
pub fn sha256_dir(root: &Path) -> Result<String, HashError> {
    let mut hasher = Sha256::new();
    hash_dir(&mut hasher, root, Path::new(""))?;
    Ok(crate::toolbox::hash::hex(&hasher.finalize()))
}

fn hash_dir(hasher: &mut Sha256, root: &Path, relative: &Path) -> Result<(), HashError> {
    let dir = root.join(relative);
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| HashError { path, source }
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map_err(err(&dir))?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(err(&dir))?;
    names.sort();
    for name in names {
        let relative = relative.join(&name);
        let path = root.join(&relative);
        let meta = std::fs::symlink_metadata(&path).map_err(err(&path))?;
        hasher.update(relative.as_os_str().as_encoded_bytes());
        if meta.is_dir() {
            hasher.update(b"\0d\n");
            hash_dir(hasher, root, &relative)?;
        } else if meta.is_symlink() {
            let target = std::fs::read_link(&path).map_err(err(&path))?;
            hasher.update(b"\0l\0");
            hasher.update(target.as_os_str().as_encoded_bytes());
            hasher.update(b"\n");
        } else if meta.is_file() {
            hasher.update(if is_executable(&meta) {
                b"\0x\0"
            } else {
                b"\0f\0"
            });
            hasher.update(sha256_file(&path)?.as_bytes());
            hasher.update(b"\n");
        } else {
            hasher.update(b"\0o\n");
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_hash_sees_names_contents_links_and_the_executable_bit_but_not_times() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin/run"), "#!/bin/sh\n").unwrap();
        let first = sha256_dir(dir.path()).unwrap();
        assert_eq!(first.len(), 64);

        let file = std::fs::File::options()
            .write(true)
            .open(dir.path().join("bin/run"))
            .unwrap();
        file.set_modified(std::time::SystemTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(sha256_dir(dir.path()).unwrap(), first, "times do not count");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(
                dir.path().join("bin/run"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
            assert_ne!(sha256_dir(dir.path()).unwrap(), first, "the executable bit");
            let executable = sha256_dir(dir.path()).unwrap();
            std::os::unix::fs::symlink("run", dir.path().join("bin/go")).unwrap();
            assert_ne!(sha256_dir(dir.path()).unwrap(), executable, "a link");
        }

        std::fs::rename(dir.path().join("bin"), dir.path().join("sbin")).unwrap();
        let renamed = sha256_dir(dir.path()).unwrap();
        std::fs::rename(dir.path().join("sbin"), dir.path().join("bin")).unwrap();
        assert_ne!(renamed, sha256_dir(dir.path()).unwrap(), "names");
    }
}
