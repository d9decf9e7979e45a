//! In-process tests: detect, the Aptfile, and whole builds with the host's apt-get and dpkg-deb against a
//! Debian repository of packages made here with `dpkg-deb --build`, served over loopback HTTP.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use libbuildpack::testing::{TestContext, assert_contains, assert_not_contains};
use libbuildpack_test::FileServer;

fn context() -> TestContext {
    TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap()
}

/// A package to build: name, version, dependencies, files (path, contents; `->` makes a symlink), and an
/// optional postinst.
struct Fake {
    name: &'static str,
    version: &'static str,
    depends: &'static str,
    files: &'static [(&'static str, &'static str)],
    postinst: Option<&'static str>,
}

const LIBHELLO: Fake = Fake {
    name: "libhello1",
    version: "1.0-1",
    depends: "libbase, libdep1",
    files: &[
        ("usr/lib/x86_64-linux-gnu/libhello.so.1", "ELF, honest"),
        (
            "usr/lib/x86_64-linux-gnu/libhello.so",
            "->/usr/lib/x86_64-linux-gnu/libhello.so.1",
        ),
        (
            "usr/lib/x86_64-linux-gnu/pkgconfig/hello.pc",
            "prefix=/usr\nlibdir=${prefix}/lib/x86_64-linux-gnu\nincludedir=/usr/include\n\nName: hello\nVersion: 1.0\nLibs: -L${libdir} -lhello\nCflags: -I${includedir}\n",
        ),
        ("usr/include/hello.h", "int hello(void);\n"),
        ("usr/bin/hello", "#!/bin/sh\necho hello\n"),
        ("usr/share/doc/libhello1/copyright", "Public domain.\n"),
        ("usr/share/doc/libhello1/changelog.Debian", "1.0-1: first\n"),
        ("usr/share/man/man1/hello.1", ".TH HELLO 1\n"),
    ],
    postinst: Some(
        "#!/bin/sh\nset -e\n# Automatically added by dh_makeshlibs\nif [ \"$1\" = \"configure\" ]; then\n\tldconfig\nfi\nexit 0\n",
    ),
};

const LIBDEP: Fake = Fake {
    name: "libdep1",
    version: "2:0.5-3",
    depends: "",
    files: &[
        ("usr/lib/x86_64-linux-gnu/libdep.so.1", "ELF, too"),
        ("usr/lib/file/magic.mgc", "magic"),
    ],
    postinst: Some(
        "#!/bin/sh\nset -e\ncase \"$1\" in\n  configure|abort-upgrade)\n    update-alternatives --install /usr/lib/libdep.so libdep /usr/lib/x86_64-linux-gnu/libdep.so.1 10\n    ;;\nesac\nexit 0\n",
    ),
};

const LIBBASE: Fake = Fake {
    name: "libbase",
    version: "1.0",
    depends: "",
    files: &[("usr/lib/x86_64-linux-gnu/libbase.so.1", "ELF, base")],
    postinst: None,
};

/// A flat repository (`deb [trusted=yes] http://127.0.0.1:<port>/ debian/`) with the fake packages, the apt dir
/// that uses it, a run image status that has `libbase`, and an os-release for Debian 12.
struct Repo {
    server: FileServer,
    system: System,
    _dir: tempfile::TempDir,
}

fn build_deb(fake: &Fake, out: &Path) -> PathBuf {
    let root = out.join(format!("{}-root", fake.name));
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    let mut control = format!(
        "Package: {}\nVersion: {}\nArchitecture: all\nMaintainer: Test <test@localhost>\nDescription: {} for tests\n",
        fake.name, fake.version, fake.name
    );
    if !fake.depends.is_empty() {
        let _ = writeln!(control, "Depends: {}", fake.depends);
    }
    std::fs::write(root.join("DEBIAN/control"), control).unwrap();
    if let Some(script) = fake.postinst {
        let path = root.join("DEBIAN/postinst");
        std::fs::write(&path, script).unwrap();
        set_mode(&path, 0o755);
    }
    for (path, contents) in fake.files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if let Some(target) = contents.strip_prefix("->") {
            std::os::unix::fs::symlink(target, &path).unwrap();
        } else {
            std::fs::write(&path, contents).unwrap();
        }
    }
    let deb = out.join(format!("{}.deb", fake.name));
    let status = Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group", "-Zgzip"])
        .arg(&root)
        .arg(&deb)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    deb
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    let pool = www.join("debian");
    std::fs::create_dir_all(&pool).unwrap();
    let mut index = String::new();
    for fake in [&LIBHELLO, &LIBDEP, &LIBBASE] {
        let deb = build_deb(fake, &pool);
        let bytes = std::fs::read(&deb).unwrap();
        let control = Command::new("dpkg-deb")
            .arg("-f")
            .arg(&deb)
            .output()
            .unwrap();
        index.push_str(String::from_utf8(control.stdout).unwrap().trim_end());
        let _ = write!(
            index,
            "\nFilename: debian/{}\nSize: {}\nSHA256: {}\n\n",
            deb.file_name().unwrap().to_string_lossy(),
            bytes.len(),
            sha256_hex(&bytes)
        );
    }
    std::fs::write(pool.join("Packages"), &index).unwrap();
    let release = format!(
        "Suite: debian/\nDate: Sat, 01 Jan 2000 00:00:00 UTC\nSHA256:\n {} {} Packages\n",
        sha256_hex(index.as_bytes()),
        index.len()
    );
    std::fs::write(pool.join("Release"), release).unwrap();

    let etc = dir.path().join("etc-apt");
    for dir in ["sources.list.d", "apt.conf.d", "preferences.d"] {
        std::fs::create_dir_all(etc.join(dir)).unwrap();
    }
    let server = FileServer::dir(&www).unwrap();
    std::fs::write(
        etc.join("sources.list"),
        format!("deb [trusted=yes] {} debian/\n", server.url("/")),
    )
    .unwrap();
    let status = dir.path().join("run-status");
    std::fs::write(
        &status,
        "Package: libbase\nStatus: install ok installed\nPriority: optional\nArchitecture: all\nVersion: 1.0\nDescription: base\n\n",
    )
    .unwrap();
    let os_release = dir.path().join("os-release");
    std::fs::write(&os_release, "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    Repo {
        server,
        system: System {
            etc_apt: etc,
            run_status: status,
            build_status: dir.path().join("no-build-status"),
            os_release,
        },
        _dir: dir,
    }
}

/// Replaces what changes from run to run (temp paths, timings) in build output.
fn redact(text: &str, ctx: &TestContext, repo: &Repo) -> String {
    let layers = ctx.layers_dir().display().to_string();
    let repo_dir = repo.system.etc_apt.parent().unwrap().display().to_string();
    let url = format!("http://{}", repo.server.addr());
    text.lines()
        .filter(|l| !l.trim_start().starts_with("Done ("))
        .map(|l| {
            l.replace(&layers, "<layers>")
                .replace(&repo_dir, "<repo>")
                .replace(&url, "http://<repo>")
        })
        .map(|l| {
            // apt's byte counts and rates vary with the .deb's compression.
            match l.find(" kB]").or_else(|| l.find(" B]")) {
                Some(_) if l.contains("Get:") => {
                    l.split(" [").next().unwrap_or_default().to_string() + " [<size>]"
                }
                _ => l,
            }
        })
        .filter(|l| !l.contains("Fetched ") && !l.contains("Need to get"))
        .fold(String::new(), |text, line| text + &line + "\n")
}

#[test]
fn detect_needs_an_aptfile_or_the_typed_table() {
    let ctx = context();
    let apt = Apt::stack();
    assert_eq!(ctx.detect(&apt).unwrap().exit_code, 100);
    ctx.app_file("project.toml", "[_]\nschema-version = \"0.2\"\n")
        .unwrap();
    assert_eq!(ctx.detect(&apt).unwrap().exit_code, 100);
    ctx.app_file(
        "project.toml",
        "[com.libbuildpack.apt]\npackages = [\"libmagic1\"]\n",
    )
    .unwrap();
    assert!(ctx.detect(&apt).unwrap().passed());
    std::fs::remove_file(ctx.app_dir().join("project.toml")).unwrap();
    ctx.app_file("Aptfile", "libmagic1\n").unwrap();
    assert!(ctx.detect(&apt).unwrap().passed());
}

#[test]
fn the_aptfile_takes_one_package_a_line_with_comments_pins_and_suites() {
    let ctx = context();
    ctx.app_file(
        "Aptfile",
        "# for python-magic\nlibmagic1   # the library\n\nlibpq5=15.8-0+deb12u1\nlibmagic1\nffmpeg/bookworm-backports\n",
    )
    .unwrap();
    ctx.app_file(
        "project.toml",
        "[com.libbuildpack.apt]\npackages = [\"poppler-utils\"]\ninstall-recommends = true\n",
    )
    .unwrap();
    let request = Request::load(ctx.app_dir()).unwrap();
    assert_eq!(
        request.packages.iter().collect::<Vec<_>>(),
        [
            "ffmpeg/bookworm-backports",
            "libmagic1",
            "libpq5=15.8-0+deb12u1",
            "poppler-utils"
        ]
    );
    assert!(request.install_recommends);
    assert_eq!(request.sources, ["Aptfile", "project.toml"]);
}

#[test]
fn what_is_not_a_package_name_is_refused_with_the_line() {
    let ctx = context();
    for (text, line) in [
        ("libmagic1\n--allow-unauthenticated\n", "line 2"),
        ("https://example.com/x.deb\n", "line 1"),
        ("LibMagic\n", "line 1"),
        ("libfoo=latest\n", "line 1"),
        ("a\n", "line 1"),
    ] {
        ctx.app_file("Aptfile", text).unwrap();
        let err = Request::load(ctx.app_dir()).unwrap_err().to_string();
        assert!(err.starts_with(&format!("Aptfile, {line}: `")), "{err}");
    }
    std::fs::remove_file(ctx.app_dir().join("Aptfile")).unwrap();
    ctx.app_file(
        "project.toml",
        "[com.libbuildpack.apt]\npackages = [\"ok\", \"$(reboot)\"]\n",
    )
    .unwrap();
    insta::assert_snapshot!(Request::load(ctx.app_dir()).unwrap_err().to_string());
    ctx.app_file(
        "project.toml",
        "[com.libbuildpack.apt]\npackage = [\"libmagic1\"]\n",
    )
    .unwrap();
    let err = Request::load(ctx.app_dir()).unwrap_err().to_string();
    assert!(
        err.contains("project.toml is not valid") && err.contains("unknown field `package`"),
        "{err}"
    );
}

/// The layer has what the run image lacks, tidied, and env files pointing into it.
fn assert_unpacked_and_pointed_to(layer: &Path) {
    // libbase is in the run image: not unpacked.
    let lib = layer.join("usr/lib/x86_64-linux-gnu");
    assert!(lib.join("libhello.so.1").is_file());
    assert!(lib.join("libdep.so.1").is_file());
    assert!(!lib.join("libbase.so.1").exists());
    // Documentation goes, copyright files stay; absolute links point into the layer.
    assert!(layer.join("usr/share/doc/libhello1/copyright").is_file());
    assert!(
        !layer
            .join("usr/share/doc/libhello1/changelog.Debian")
            .exists()
    );
    assert!(!layer.join("usr/share/man").exists());
    assert_eq!(
        std::fs::read_link(lib.join("libhello.so")).unwrap(),
        lib.join("libhello.so.1")
    );
    let pc = std::fs::read_to_string(lib.join("pkgconfig/hello.pc")).unwrap();
    assert!(
        pc.starts_with(&format!("prefix={}/usr\n", layer.display())),
        "{pc}"
    );
    assert!(pc.contains(&format!("includedir={}/usr/include\n", layer.display())));

    let env = |file: &str| std::fs::read_to_string(layer.join(file)).unwrap();
    assert_eq!(
        env("env/LD_LIBRARY_PATH.prepend"),
        lib.display().to_string()
    );
    assert_eq!(env("env/LD_LIBRARY_PATH.delim"), ":");
    assert_eq!(
        env("env/PATH.prepend"),
        layer.join("usr/bin").display().to_string()
    );
    assert_eq!(
        env("env/MAGIC.default"),
        layer.join("usr/lib/file/magic.mgc").display().to_string()
    );
    assert_eq!(
        env("env.build/LIBRARY_PATH.prepend"),
        lib.display().to_string()
    );
    assert_eq!(
        env("env.build/CPATH.prepend"),
        layer.join("usr/include").display().to_string()
    );
    assert_eq!(
        env("env.build/PKG_CONFIG_PATH.prepend"),
        lib.join("pkgconfig").display().to_string()
    );
}

#[test]
fn installs_what_the_run_image_lacks_into_a_layer_then_reuses_it_without_apt() {
    let repo = repo();
    let apt = Apt {
        system: repo.system.clone(),
    };
    let ctx = context();
    let volume = ctx.cache_volume().unwrap();
    ctx.app_file("Aptfile", "# test\nlibhello1\n").unwrap();
    let run = ctx.build(&apt).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    insta::assert_snapshot!(redact(&run.output, &ctx, &repo));

    let layer = ctx.layers_dir().join("packages");
    let types = run.layer("packages").unwrap().types.unwrap();
    assert!(types.launch && types.build && types.cache, "{types:?}");
    let metadata = run.layer("packages").unwrap().metadata.clone().unwrap();
    assert_eq!(metadata["target"]["distro-name"].as_str(), Some("debian"));
    assert_eq!(metadata["target"]["distro-version"].as_str(), Some("12"));
    assert_unpacked_and_pointed_to(&layer);
    let cdx = std::fs::read_to_string(ctx.layers_dir().join("packages.sbom.cdx.json")).unwrap();
    assert!(
        cdx.contains(r#""purl": "pkg:deb/debian/libdep1@2:0.5-3?arch=all&distro=debian-12""#),
        "{cdx}"
    );
    assert!(cdx.contains("pkg:deb/debian/libhello1@1.0-1?arch=all&distro=debian-12"));
    assert!(!cdx.contains("libbase"));
    let spdx = std::fs::read_to_string(ctx.layers_dir().join("packages.sbom.spdx.json")).unwrap();
    assert!(spdx.contains("pkg:deb/debian/libhello1@1.0-1"), "{spdx}");
    // The .debs stay in the cache volume for the next change of the Aptfile.
    let archives = volume.join("libbuildpack_apt/archives");
    assert!(archives.join("libdep1_2%3a0.5-3_all.deb").is_file());

    // Unchanged: apt does not run, and the layer (restored from the cache) stays as it is.
    let requests = repo.server.requests().len();
    ctx.restore_for_next_build().unwrap();
    let again = ctx.build(&apt).unwrap();
    assert!(again.succeeded(), "{}", again.output);
    assert_contains!(
        again.output,
        "Packages, target and run image unchanged: nothing to download"
    );
    assert_contains!(again.output, "Reusing packages");
    assert_not_contains!(again.output, "apt-get");
    assert_eq!(repo.server.requests().len(), requests, "nothing downloaded");
    assert!(
        layer
            .join("usr/lib/x86_64-linux-gnu/libhello.so.1")
            .is_file()
    );

    // Another run image (its package list changed): apt runs again, from the .debs in the volume.
    std::fs::write(
        &repo.system.run_status,
        std::fs::read_to_string(&repo.system.run_status).unwrap() + "\n",
    )
    .unwrap();
    ctx.restore_for_next_build().unwrap();
    let changed = ctx.build(&apt).unwrap();
    assert!(changed.succeeded(), "{}", changed.output);
    assert_contains!(
        changed.output,
        "Rebuilding packages (run_image_sha256 changed"
    );
    assert!(
        !repo.server.requests()[requests..]
            .iter()
            .any(|r| Path::new(r).extension().is_some_and(|e| e == "deb")),
        "{:?}",
        repo.server.requests()
    );
}

#[test]
fn an_unknown_package_fails_naming_it_and_similar_names() {
    let repo = repo();
    let apt = Apt {
        system: repo.system.clone(),
    };
    let ctx = context();
    ctx.app_file("Aptfile", "libhello\n").unwrap();
    let run = ctx.build(&apt).unwrap();
    assert!(!run.succeeded());
    let output = redact(&run.output, &ctx, &repo);
    let error = &output[output.find("ERROR").unwrap()..];
    insta::assert_snapshot!(error);
}

#[test]
fn a_stack_without_the_run_image_list_falls_back_to_the_build_image_with_a_warning() {
    let repo = repo();
    let mut system = repo.system.clone();
    system.build_status = system.run_status.clone();
    system.run_status = PathBuf::from("/nonexistent/dpkg-status");
    let ctx = context();
    ctx.app_file("Aptfile", "libbase\n").unwrap();
    let run = ctx.build(&Apt { system }).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    assert_contains!(
        run.output,
        "The stack does not say which packages its run image has"
    );
    assert_contains!(run.output, "Already in the run image: libbase");
}

#[test]
fn maintainer_scripts_count_when_they_set_something_up() {
    assert!(deb::commands_that_matter(LIBHELLO.postinst.unwrap()).is_empty());
    assert_eq!(
        deb::commands_that_matter(LIBDEP.postinst.unwrap()),
        ["update-alternatives"]
    );
    assert_eq!(
        deb::commands_that_matter(
            "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  printf 'Regenerating fonts cache... '\n  fc-cache -s -f -v >/var/log/fontconfig.log 2>&1 || true\nfi\n"
        ),
        ["fc-cache"]
    );
    assert_eq!(
        deb::commands_that_matter("#!/bin/sh\nset -e\nmy-own-setup --now\n"),
        ["(unknown commands)"]
    );
}

#[test]
fn the_plan_is_read_from_apt_simulation() {
    let plan = apt::parse_plan(
        "NOTE: This is only a simulation!\n\
         libbase is already the newest version (1.0).\n\
         Inst libmagic-mgc (1:5.44-3 Debian:12.15/oldstable [amd64])\n\
         Inst libc6 [2.36-9+deb12u4] (2.36-9+deb12u13 Debian-Security:12/oldstable-security [amd64])\n\
         Inst libmagic1 (1:5.44-3 Debian:12.15/oldstable [amd64])\n\
         Conf libmagic-mgc (1:5.44-3 Debian:12.15/oldstable [amd64])\n",
    );
    assert_eq!(plan.already_there, ["libbase"]);
    let names: Vec<_> = plan
        .install
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.replaces.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("libc6", "2.36-9+deb12u13", Some("2.36-9+deb12u4")),
            ("libmagic-mgc", "1:5.44-3", None),
            ("libmagic1", "1:5.44-3", None),
        ]
    );
    assert_eq!(
        plan.install[1].deb_file_name(),
        "libmagic-mgc_1%3a5.44-3_amd64.deb"
    );
}
