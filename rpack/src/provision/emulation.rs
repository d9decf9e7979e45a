//! Running binaries of another architecture: the kernel's `binfmt_misc` hands them to an emulator
//! (Debian's `qemu-user-static`), so arm64 containers and arm64 root file systems work on an amd64 host.
//!
//! [`check`] finds the registration that would run an ELF executable of an OCI architecture, the way the
//! kernel matches it (magic and mask against the file's first bytes), whatever the registration is called.
//! It must have the `F` flag: the kernel then opens the emulator when it is registered, so it also runs
//! inside containers, whose file systems do not have it.

use std::path::{Path, PathBuf};

/// Where the kernel's `binfmt_misc` file system is mounted.
pub(crate) const BINFMT_MISC: &str = "/proc/sys/fs/binfmt_misc";

/// What makes arm64 binaries run here (`scripts/setup` runs it).
pub(crate) const SETUP_ARM64: &str = "apt-get install qemu-user-static binfmt-support && mount -t binfmt_misc binfmt_misc \
     /proc/sys/fs/binfmt_misc (if not mounted) && update-binfmts --enable qemu-aarch64";

/// How binaries of an architecture run here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runs {
    /// The host's own architecture.
    Natively,
    /// Through a `binfmt_misc` registration.
    Emulated {
        /// The registration's name (`qemu-aarch64`).
        name: String,
        /// The program the kernel runs them with.
        interpreter: String,
    },
}

/// Why binaries of an architecture do not run here.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmulationError {
    /// rpack does not know the architecture's ELF machine.
    #[error("rpack cannot run {arch} binaries: it knows the ELF machine of amd64 and arm64 only")]
    UnknownArch {
        /// The OCI architecture.
        arch: String,
    },
    /// `binfmt_misc` is not mounted.
    #[error("{dir} is not mounted, so the kernel cannot hand {arch} binaries to an emulator")]
    NotMounted {
        /// Where it was looked for.
        dir: PathBuf,
        /// The OCI architecture.
        arch: String,
    },
    /// `binfmt_misc` is switched off.
    #[error("{dir}/status says disabled, so the kernel hands no binaries to emulators")]
    Disabled {
        /// The mount point.
        dir: PathBuf,
    },
    /// No enabled registration matches.
    #[error(
        "no enabled binfmt_misc registration in {dir} runs {arch} ELF binaries (qemu-user-static is not registered)"
    )]
    NotRegistered {
        /// The mount point.
        dir: PathBuf,
        /// The OCI architecture.
        arch: String,
    },
    /// A registration matches but lacks the `F` flag.
    #[error(
        "{dir}/{name} runs {arch} binaries with {interpreter}, but without the F flag, so not inside containers"
    )]
    NotFixed {
        /// The mount point.
        dir: PathBuf,
        /// The registration.
        name: String,
        /// The OCI architecture.
        arch: String,
        /// Its interpreter.
        interpreter: String,
    },
}

impl EmulationError {
    /// What the user can run about it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::UnknownArch { .. } => None,
            Self::NotMounted { .. } | Self::Disabled { .. } | Self::NotRegistered { .. } => {
                Some(format!("run scripts/setup, or as root: {SETUP_ARM64}"))
            }
            Self::NotFixed { name, .. } => Some(format!(
                "register it with the F flag: update-binfmts --disable {name}, then install qemu-user-static \
                 (Debian's registers with F) and update-binfmts --enable qemu-aarch64"
            )),
        }
    }
}

pub(crate) use crate::oci::platform::host_arch;

/// The ELF `e_machine` of an OCI architecture.
fn elf_machine(arch: &str) -> Option<u16> {
    match arch {
        "amd64" => Some(62),
        "arm64" => Some(183),
        _ => None,
    }
}

/// The OCI architecture of an ELF file from its first bytes (64-bit little-endian amd64 or arm64), if it is
/// one of them.
#[must_use]
pub fn elf_arch(header: &[u8]) -> Option<&'static str> {
    if header.len() < 20 || &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return None;
    }
    match u16::from_le_bytes([header[18], header[19]]) {
        62 => Some("amd64"),
        183 => Some("arm64"),
        _ => None,
    }
}

/// The first 20 bytes of a static 64-bit little-endian ELF executable for `machine`.
fn sample_header(machine: u16) -> [u8; 20] {
    let mut header = [0_u8; 20];
    header[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
    header[16] = 2; // ET_EXEC
    header[18..20].copy_from_slice(&machine.to_le_bytes());
    header
}

/// How binaries of the OCI architecture `arch` run on this machine.
///
/// # Errors
/// When they do not: see [`EmulationError`] (its hint says what to run).
pub fn check(arch: &str) -> Result<Runs, EmulationError> {
    if arch == host_arch() {
        return Ok(Runs::Natively);
    }
    check_in(Path::new(BINFMT_MISC), arch)
}

/// [`check`] against the `binfmt_misc` mount at `dir`, for an architecture that is not the host's.
///
/// # Errors
/// As [`check`].
pub(crate) fn check_in(dir: &Path, arch: &str) -> Result<Runs, EmulationError> {
    let machine = elf_machine(arch).ok_or_else(|| EmulationError::UnknownArch {
        arch: arch.to_owned(),
    })?;
    if !dir.join("register").exists() {
        return Err(EmulationError::NotMounted {
            dir: dir.to_owned(),
            arch: arch.to_owned(),
        });
    }
    if std::fs::read_to_string(dir.join("status")).is_ok_and(|s| s.trim() == "disabled") {
        return Err(EmulationError::Disabled {
            dir: dir.to_owned(),
        });
    }
    let sample = sample_header(machine);
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "register" && name != "status")
        .collect();
    entries.sort();
    let mut unfixed = None;
    for name in entries {
        let Ok(text) = std::fs::read_to_string(dir.join(&name)) else {
            continue;
        };
        let Some(entry) = Registration::parse(&text) else {
            continue;
        };
        if !entry.enabled || !entry.matches(&sample) {
            continue;
        }
        if !entry.fixed {
            unfixed.get_or_insert((name, entry.interpreter));
            continue;
        }
        return Ok(Runs::Emulated {
            name,
            interpreter: entry.interpreter,
        });
    }
    Err(match unfixed {
        Some((name, interpreter)) => EmulationError::NotFixed {
            dir: dir.to_owned(),
            name,
            arch: arch.to_owned(),
            interpreter,
        },
        None => EmulationError::NotRegistered {
            dir: dir.to_owned(),
            arch: arch.to_owned(),
        },
    })
}

/// One magic-type registration as `/proc/sys/fs/binfmt_misc/<name>` shows it.
struct Registration {
    enabled: bool,
    interpreter: String,
    fixed: bool,
    offset: usize,
    magic: Vec<u8>,
    mask: Option<Vec<u8>>,
}

impl Registration {
    fn parse(text: &str) -> Option<Self> {
        let mut entry = Self {
            enabled: false,
            interpreter: String::new(),
            fixed: false,
            offset: 0,
            magic: Vec::new(),
            mask: None,
        };
        for line in text.lines() {
            let line = line.trim();
            if line == "enabled" {
                entry.enabled = true;
            } else if let Some(rest) = line.strip_prefix("interpreter ") {
                rest.trim().clone_into(&mut entry.interpreter);
            } else if let Some(rest) = line.strip_prefix("flags:") {
                entry.fixed = rest.contains('F');
            } else if let Some(rest) = line.strip_prefix("offset ") {
                entry.offset = rest.trim().parse().ok()?;
            } else if let Some(rest) = line.strip_prefix("magic ") {
                entry.magic = hex(rest.trim())?;
            } else if let Some(rest) = line.strip_prefix("mask ") {
                entry.mask = Some(hex(rest.trim())?);
            }
        }
        (!entry.magic.is_empty()).then_some(entry)
    }

    fn matches(&self, header: &[u8]) -> bool {
        let Some(bytes) = header.get(self.offset..self.offset + self.magic.len()) else {
            return false;
        };
        bytes
            .iter()
            .zip(&self.magic)
            .enumerate()
            .all(|(i, (b, m))| {
                let mask = self
                    .mask
                    .as_ref()
                    .and_then(|k| k.get(i))
                    .copied()
                    .unwrap_or(0xff);
                b & mask == m & mask
            })
    }
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const QEMU_AARCH64: &str = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n\
        magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n";

    fn mount(entries: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("register"), "").unwrap();
        std::fs::write(dir.path().join("status"), "enabled\n").unwrap();
        for (name, text) in entries {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn finds_qemu_for_arm64_by_its_magic_whatever_it_is_called() {
        let dir = mount(&[("aarch64-by-systemd", QEMU_AARCH64)]);
        assert_eq!(
            check_in(dir.path(), "arm64").unwrap(),
            Runs::Emulated {
                name: "aarch64-by-systemd".to_owned(),
                interpreter: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P".to_owned()
            }
        );
        // It does not run amd64 binaries.
        assert!(matches!(
            check_in(dir.path(), "amd64"),
            Err(EmulationError::NotRegistered { .. })
        ));
    }

    #[test]
    fn says_what_to_run_when_emulation_is_missing() {
        let unmounted = tempfile::tempdir().unwrap();
        let err = check_in(unmounted.path(), "arm64").unwrap_err();
        assert!(matches!(err, EmulationError::NotMounted { .. }), "{err}");
        assert!(
            err.hint()
                .unwrap()
                .contains("update-binfmts --enable qemu-aarch64")
        );

        let disabled = mount(&[("qemu-aarch64", &QEMU_AARCH64.replace("enabled", "disabled"))]);
        let err = check_in(disabled.path(), "arm64").unwrap_err();
        assert!(matches!(err, EmulationError::NotRegistered { .. }), "{err}");

        let unfixed = mount(&[(
            "qemu-aarch64",
            &QEMU_AARCH64.replace("flags: PF", "flags: P"),
        )]);
        let err = check_in(unfixed.path(), "arm64").unwrap_err();
        assert!(err.to_string().contains("without the F flag"), "{err}");
    }

    #[test]
    fn reads_the_architecture_of_an_elf_header() {
        assert_eq!(elf_arch(&sample_header(183)), Some("arm64"));
        assert_eq!(elf_arch(&sample_header(62)), Some("amd64"));
        assert_eq!(elf_arch(b"#!/bin/sh\necho not an elf file"), None);
        assert_eq!(check(host_arch()).unwrap(), Runs::Natively);
    }
}
