//! Safe extraction against crafted archives: every entry is built header by header, since tar-rs refuses to
//! write `..`, absolute names and other hostile input. Each refusal is checked from what a user sees (the
//! error text) and from the disk (nothing written or reachable outside the destination).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::io::Write;
use std::path::{Path, PathBuf};

use libbuildpack::archive::{
    AbsolutePaths, ArchiveError, Cap, Extract, Refusal, extract_tar, extract_tar_gz,
};
use tar::EntryType::{self, Block, Char, Directory, Fifo, Link, Regular, Symlink};

/// One crafted entry: raw name bytes, type, raw link target bytes, content.
type Entry<'a> = (&'a [u8], EntryType, &'a [u8], &'a [u8]);

fn header(name: &[u8], kind: EntryType, link: &[u8], size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    let raw = header.as_old_mut();
    raw.name[..name.len()].copy_from_slice(name);
    raw.linkname[..link.len()].copy_from_slice(link);
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o755);
    header.set_cksum();
    header
}

fn archive(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, kind, link, data) in entries {
        builder
            .append(&header(name, *kind, link, data.len() as u64), *data)
            .unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A temp dir with the destination `dest` inside it, so anything written next to it shows.
struct Sandbox {
    outer: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            outer: tempfile::tempdir().unwrap(),
        }
    }

    fn dest(&self) -> PathBuf {
        self.outer.path().join("dest")
    }

    fn extract(&self, entries: &[Entry<'_>], absolute: AbsolutePaths) -> Result<(), ArchiveError> {
        Extract::new(self.dest())
            .absolute_paths(absolute)
            .tar(archive(entries).as_slice())
    }

    /// Nothing but `dest` was created next to the destination.
    fn assert_nothing_outside(&self) {
        let names: Vec<_> = std::fs::read_dir(self.outer.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(names.iter().all(|n| n == "dest"), "{names:?}");
    }
}

/// Extracts `entries` (no stripping, absolute names refused) and expects a refusal whose text has `reason`.
fn refused(entries: &[Entry<'_>], reason: &str) -> ArchiveError {
    refused_as(entries, AbsolutePaths::Refuse, reason)
}

fn refused_as(entries: &[Entry<'_>], absolute: AbsolutePaths, reason: &str) -> ArchiveError {
    let sandbox = Sandbox::new();
    let err = sandbox.extract(entries, absolute).unwrap_err();
    assert!(matches!(err, ArchiveError::Unsafe { .. }), "{err}");
    assert!(err.to_string().contains(reason), "{err}");
    sandbox.assert_nothing_outside();
    err
}

// What works, and keeps working.

#[test]
fn extracts_files_dirs_links_and_modes() {
    let tar = archive(&[
        (b"top/", Directory, b"", b""),
        (b"top/bin/", Directory, b"", b""),
        (b"top/bin/tool", Regular, b"", b"#!/bin/sh\n"),
        (b"top/bin/alias", Symlink, b"tool", b""),
        (b"top/bin/hard", Link, b"top/bin/tool", b""),
        (b"top/lib/", Directory, b"", b""),
        (b"top/lib/up", Symlink, b"../bin/tool", b""),
    ]);
    let dest = tempfile::tempdir().unwrap();
    extract_tar(tar.as_slice(), dest.path(), 1).unwrap();
    let tool = dest.path().join("bin/tool");
    assert_eq!(std::fs::read_to_string(&tool).unwrap(), "#!/bin/sh\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&tool).unwrap().permissions().mode() & 0o7777,
            0o755
        );
    }
    // Links that only descend, or climb first and then descend, are kept as written.
    assert_eq!(
        std::fs::read_link(dest.path().join("bin/alias")).unwrap(),
        Path::new("tool")
    );
    assert_eq!(
        std::fs::read_link(dest.path().join("lib/up")).unwrap(),
        Path::new("../bin/tool")
    );
    assert_eq!(
        std::fs::read_to_string(dest.path().join("bin/hard")).unwrap(),
        "#!/bin/sh\n"
    );
}

#[test]
fn extracts_tar_gz() {
    let tar = archive(&[(b"a.txt", Regular, b"", b"hi")]);
    let dest = tempfile::tempdir().unwrap();
    extract_tar_gz(gzip(&tar).as_slice(), dest.path(), 0).unwrap();
    assert_eq!(
        std::fs::read_to_string(dest.path().join("a.txt")).unwrap(),
        "hi"
    );
}

#[test]
fn setuid_and_sticky_bits_are_dropped() {
    let mut h = header(b"suid", Regular, b"", 1);
    h.set_mode(0o4755);
    h.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&h, &b"x"[..]).unwrap();
    let dest = tempfile::tempdir().unwrap();
    extract_tar(builder.into_inner().unwrap().as_slice(), dest.path(), 0).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dest.path().join("suid"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755);
    }
}

#[test]
fn root_relative_names_land_under_the_destination() {
    let sandbox = Sandbox::new();
    sandbox
        .extract(
            &[(b"/cnb/x", Regular, b"", b"x")],
            AbsolutePaths::RootRelative,
        )
        .unwrap();
    assert!(sandbox.dest().join("cnb/x").is_file());
}

#[test]
fn corrupt_archive_is_a_read_error() {
    let dest = tempfile::tempdir().unwrap();
    let err = extract_tar_gz(&b"not gzip"[..], dest.path(), 0).unwrap_err();
    assert!(matches!(err, ArchiveError::Read(_)), "{err}");
}

// Entries that would land outside.

#[test]
fn refuses_parent_dir_entries() {
    refused(&[(b"../evil", Regular, b"", b"x")], "'..'");
    refused(&[(b"a/../../evil", Regular, b"", b"x")], "'..'");
    refused_as(
        &[(b"a/../../evil", Regular, b"", b"x")],
        AbsolutePaths::RootRelative,
        "'..'",
    );
}

#[test]
fn refuses_absolute_paths() {
    refused(&[(b"/tmp/evil", Regular, b"", b"x")], "absolute path");
}

#[test]
fn refuses_writing_through_a_symlink() {
    let err = refused(
        &[
            (b"dir", Symlink, b".", b""),
            (b"dir/file", Regular, b"", b"x"),
        ],
        "below a symlink",
    );
    assert!(err.to_string().contains("\"dir/file\""), "{err}");
}

#[test]
fn refuses_a_file_or_link_replacing_a_directory() {
    refused(
        &[(b"d/", Directory, b"", b""), (b"d", Regular, b"", b"x")],
        "replacing a directory",
    );
    refused(
        &[(b"d/", Directory, b"", b""), (b"d", Symlink, b"e", b"")],
        "replacing a directory",
    );
}

#[test]
fn refuses_hard_links_escaping_the_destination() {
    refused(
        &[(b"hard", Link, b"../evil", b"")],
        "outside the destination",
    );
    refused(
        &[(b"hard", Link, b"/etc/passwd", b"")],
        "outside the destination",
    );
    refused(
        &[(b"hard", Link, b"missing", b"")],
        "not a regular file extracted before it",
    );
    refused(
        &[
            (b"l", Symlink, b"f", b""),
            (b"f", Regular, b"", b"x"),
            (b"hard", Link, b"l", b""),
        ],
        "not a regular file",
    );
}

#[test]
fn refuses_device_files_and_fifos() {
    refused(&[(b"dev", Char, b"", b"")], "device file");
    refused(&[(b"blk", Block, b"", b"")], "device file");
    refused(&[(b"fifo", Fifo, b"", b"")], "FIFO");
}

// Symlinks.

#[test]
fn refuses_symlinks_escaping_the_destination() {
    refused(
        &[(b"link", Symlink, b"../evil", b"")],
        "outside the destination",
    );
    refused(&[(b"link", Symlink, b"/etc", b"")], "absolute target");
    refused(
        &[(b"a/link", Symlink, b"../../evil", b"")],
        "outside the destination",
    );
    refused(
        &[(b"link", Symlink, b"a/../../x", b"")],
        "outside the destination",
    );
    // In the image root, `..` cannot climb above `/` either: refused rather than clamped.
    refused_as(
        &[(b"link", Symlink, b"/../../etc", b"")],
        AbsolutePaths::RootRelative,
        "outside the destination",
    );
}

/// Defect: a symlink chain passed the lexical check. `x/l -> ..` leads to the destination itself, so
/// `x/l/../outside` leads out of it.
#[test]
fn refuses_a_symlink_that_leaves_through_a_link_extracted_before_it() {
    let err = refused(
        &[
            (b"x/", Directory, b"", b""),
            (b"x/l", Symlink, b"..", b""),
            (b"t", Symlink, b"x/l/../outside", b""),
        ],
        "outside the destination",
    );
    assert!(
        matches!(&err, ArchiveError::Unsafe { reason: Refusal::SymlinkEscapes(target), .. }
            if target.as_bytes() == b"x/l/../outside"),
        "{err:?}"
    );
    // The same through a chain of two links.
    refused(
        &[
            (b"a/b/", Directory, b"", b""),
            (b"a/b/up", Symlink, b"..", b""),
            (b"a/up2", Symlink, b"b/up/..", b""),
            (b"t", Symlink, b"a/up2/../outside", b""),
        ],
        "outside the destination",
    );
}

/// The other order: `t` is extracted while `x/l` is still a plain name, and `x/l` only then becomes a link
/// to `..`. What `t` leads to must not change with it.
#[test]
fn a_symlink_extracted_before_the_link_it_goes_through_still_stays_inside() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.outer.path().join("outside"), "host file").unwrap();
    sandbox
        .extract(
            &[
                (b"x/", Directory, b"", b""),
                (b"t", Symlink, b"x/l/../outside", b""),
                (b"x/l", Symlink, b"..", b""),
            ],
            AbsolutePaths::Refuse,
        )
        .unwrap();
    let dest = sandbox.dest();
    assert_eq!(
        std::fs::read_link(dest.join("t")).unwrap(),
        Path::new("x/outside")
    );
    assert!(std::fs::read_to_string(dest.join("t")).is_err());
}

#[test]
fn refuses_a_symlink_through_a_loop_of_links() {
    refused(
        &[
            (b"a", Symlink, b"b", b""),
            (b"b", Symlink, b"a", b""),
            (b"c", Symlink, b"a/x", b""),
        ],
        "loop",
    );
}

#[cfg(unix)]
#[test]
fn refuses_a_symlink_through_an_absolute_link_that_was_in_the_destination() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.dest()).unwrap();
    std::os::unix::fs::symlink("/etc", sandbox.dest().join("host")).unwrap();
    let err = sandbox
        .extract(
            &[(b"l", Symlink, b"host/passwd", b"")],
            AbsolutePaths::Refuse,
        )
        .unwrap_err();
    assert!(err.to_string().contains("outside the destination"), "{err}");
}

/// Defect: in image layers an absolute symlink was kept as written, so whatever followed it later (rpack
/// copying a buildpack dir, moving an SBOM dir) reached into the host.
#[test]
fn absolute_symlinks_in_image_layers_become_relative_links_inside_the_image_root() {
    let sandbox = Sandbox::new();
    sandbox
        .extract(
            &[
                (b"/etc/", Directory, b"", b""),
                (b"/etc/passwd", Regular, b"", b"image passwd"),
                (b"/link", Symlink, b"/etc", b""),
                (b"/cnb/buildpacks/", Directory, b"", b""),
                (b"/cnb/buildpacks/a", Symlink, b"/cnb/x", b""),
                (b"/cnb/buildpacks/b", Symlink, b"/usr/../etc/passwd", b""),
                (b"layers", Symlink, b"/", b""),
            ],
            AbsolutePaths::RootRelative,
        )
        .unwrap();
    let dest = sandbox.dest();
    let link = |rel: &str| std::fs::read_link(dest.join(rel)).unwrap();
    assert_eq!(link("link"), Path::new("etc"));
    assert_eq!(link("cnb/buildpacks/a"), Path::new("../x"));
    assert_eq!(link("cnb/buildpacks/b"), Path::new("../../etc/passwd"));
    assert_eq!(link("layers"), Path::new("."));
    assert_eq!(
        std::fs::read_to_string(dest.join("link/passwd")).unwrap(),
        "image passwd"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("cnb/buildpacks/b")).unwrap(),
        "image passwd"
    );
}

// Caps.

/// Defect: no cap; a small compressed archive could fill the disk.
#[test]
fn an_archive_expanding_past_the_byte_cap_is_refused_naming_the_cap() {
    let sandbox = Sandbox::new();
    let big = vec![0u8; 3 << 20];
    let gz = gzip(&archive(&[(b"zeros", Regular, b"", &big)]));
    assert!(gz.len() < 64 << 10, "{}", gz.len());
    let err = Extract::new(sandbox.dest())
        .max_bytes(1 << 20)
        .tar_gz(gz.as_slice())
        .unwrap_err();
    assert!(
        matches!(
            err,
            ArchiveError::TooLarge {
                cap: Cap::Bytes,
                limit: 1_048_576,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("more than 1048576 bytes (1.0 MiB)"), "{text}");
    assert!(text.contains("Extract::max_bytes"), "{text}");
    // Refused from the header, before any content is written.
    assert!(!sandbox.dest().join("zeros").exists());
}

#[test]
fn the_byte_cap_covers_names_read_into_memory_too() {
    // A GNU long-name entry is read whole into memory before its entry: a 4 MiB one must stop at the cap.
    let mut builder = tar::Builder::new(Vec::new());
    let long = vec![b'a'; 4 << 20];
    builder
        .append(
            &header(
                b"././@LongLink",
                EntryType::GNULongName,
                b"",
                long.len() as u64,
            ),
            long.as_slice(),
        )
        .unwrap();
    builder
        .append(&header(b"x", Regular, b"", 0), &b""[..])
        .unwrap();
    let sandbox = Sandbox::new();
    let err = Extract::new(sandbox.dest())
        .max_bytes(1 << 20)
        .tar(builder.into_inner().unwrap().as_slice())
        .unwrap_err();
    assert!(
        matches!(
            err,
            ArchiveError::TooLarge {
                cap: Cap::Bytes,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_caps_add_up_over_archives_extracted_with_one_extract() {
    let sandbox = Sandbox::new();
    let half = archive(&[(b"f", Regular, b"", &vec![1u8; 600 << 10])]);
    let mut extract = Extract::new(sandbox.dest())
        .max_bytes(1 << 20)
        .how_to_raise(Cap::Bytes, "set BIG=1");
    extract.tar(half.as_slice()).unwrap();
    let err = extract.tar(half.as_slice()).unwrap_err();
    assert!(err.to_string().ends_with("; set BIG=1"), "{err}");
}

#[test]
fn an_archive_with_more_entries_than_the_cap_is_refused_naming_the_cap() {
    let names: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
    let entries: Vec<Entry<'_>> = names
        .iter()
        .map(|n| (n.as_bytes(), Regular, &b""[..], &b""[..]))
        .collect();
    let sandbox = Sandbox::new();
    let err = Extract::new(sandbox.dest())
        .max_entries(10)
        .tar(archive(&entries).as_slice())
        .unwrap_err();
    assert!(
        matches!(
            err,
            ArchiveError::TooLarge {
                cap: Cap::Entries,
                limit: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("more than 10 entries"), "{err}");
    assert!(err.to_string().contains("Extract::max_entries"), "{err}");
    assert!(!sandbox.dest().join("f10").exists());
}

// Names.

#[test]
fn control_characters_in_a_refused_name_are_escaped_in_the_error() {
    let err = refused(&[(b"\x1b[2J\x1b[1;1H/../evil", Regular, b"", b"x")], "'..'");
    let text = err.to_string();
    assert!(!text.contains('\x1b'), "{text:?}");
    assert!(text.contains(r"\u{1b}[2J"), "{text}");
    let err = refused(&[(b"l", Symlink, b"/etc\r\nok", b"")], "absolute target");
    assert!(!err.to_string().contains('\r'), "{err}");
}

#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_are_kept_byte_for_byte_and_never_collide() {
    use std::os::unix::ffi::OsStrExt;
    let sandbox = Sandbox::new();
    sandbox
        .extract(
            &[
                (b"caf\xe9", Regular, b"", b"latin1"),
                (b"caf\xff", Regular, b"", b"other"),
            ],
            AbsolutePaths::Refuse,
        )
        .unwrap();
    let dest = sandbox.dest();
    let read = |name: &[u8]| {
        std::fs::read_to_string(dest.join(std::ffi::OsStr::from_bytes(name))).unwrap()
    };
    assert_eq!(read(b"caf\xe9"), "latin1");
    assert_eq!(read(b"caf\xff"), "other");
    let err = refused(&[(b"caf\xe9/../../x", Regular, b"", b"")], "'..'");
    assert!(err.to_string().contains(r#""caf\xe9/../../x""#), "{err}");
}
