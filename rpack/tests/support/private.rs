//! A private rpack store for fault tests: its own tmp dir, locks and images, so a test can kill, prune and fill
//! it without touching the store other tests and engineers share, and can say exactly what it left behind.
//!
//! It is seeded from the shared store (`RPACK_HOME`, as `scripts/env` sets it) with the images of one of rpack's
//! stacks, hard-linked when both stores are on one file system and copied otherwise; the lifecycle is used
//! where the shared store has it, through `RPACK_LIFECYCLE` (builds only read it, when making the builder).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A store in a temp dir, removed on drop.
pub struct PrivateStore {
    home: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

/// The shared store the private ones are seeded from.
pub fn shared_home() -> PathBuf {
    rpack::store::Store::from_env().unwrap().home().to_owned()
}

/// The lifecycle dir of the shared store.
pub fn shared_lifecycle() -> PathBuf {
    let dir = shared_home()
        .join("lifecycle")
        .join(rpack::provision::lifecycle::DEFAULT_VERSION);
    assert!(
        dir.join("lifecycle/lifecycle").is_file(),
        "no lifecycle at {}: run scripts/setup (or `rpack lifecycle install`)",
        dir.display()
    );
    dir
}

/// Copies the tree `src` to `dest`: files hard-linked when `link` and the file system allows, else copied.
pub fn copy_tree(src: &Path, dest: &Path, link: bool) {
    libbuildpack::toolbox::copy::TreeCopy::new()
        .hard_links(link)
        .run(src, dest)
        .unwrap();
}

impl PrivateStore {
    /// A new store in a temp dir with the build and run images of rpack's stack `stack` (`tiny`, `python`).
    pub fn new(stack: &str) -> Self {
        // Stack blobs are hard links when the temp dir and the shared store share a file system.
        let dir = tempfile::Builder::new()
            .prefix("rpack-faults-")
            .tempdir()
            .unwrap();
        let home = dir.path().join("home");
        Self::seed(&home, stack, true);
        Self {
            home,
            _dir: Some(dir),
        }
    }

    /// A store at `home` (an existing dir the caller owns, like a mount point) seeded with `stack`'s images,
    /// copied (not linked).
    pub fn at(home: &Path, stack: &str) -> Self {
        Self::seed(home, stack, false);
        Self {
            home: home.to_owned(),
            _dir: None,
        }
    }

    fn seed(home: &Path, stack: &str, link: bool) {
        let shared = shared_home();
        for role in ["build", "run"] {
            let rel = format!("images/localhost/rpack/{stack}-{role}/latest");
            let src = shared.join(&rel);
            assert!(
                src.join("index.json").is_file(),
                "the shared store has no {stack} stack: run `rpack stack create --name {stack}`"
            );
            // index.json and oci-layout are small and rewritten by rename; blobs never change in place.
            copy_tree(&src, &home.join(&rel), link);
        }
    }

    /// The store's dir (`RPACK_HOME`).
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// `rpack` with this store and the shared lifecycle.
    pub fn rpack(&self) -> Command {
        let mut cmd = super::rpack();
        cmd.env("RPACK_HOME", &self.home)
            .env("RPACK_LIFECYCLE", shared_lifecycle());
        cmd
    }

    /// Runs rpack with `args`, asserts it succeeded and returns (stdout, stderr).
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> (String, String) {
        super::assert_ok(self.rpack(), args)
    }

    /// Runs rpack with `args`, asserts it failed and returns its stderr.
    #[track_caller]
    pub fn fails(&self, args: &[&str]) -> String {
        super::assert_fails(self.rpack(), args)
    }

    /// `rpack build IMAGE` of `dir/app` with the builder `dir/builder.toml`; returns stderr.
    #[track_caller]
    pub fn build(&self, dir: &Path, image: &str) -> String {
        let args = super::build_args(dir, image);
        self.ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .1
    }

    /// What `rpack run IMAGE` prints.
    #[track_caller]
    pub fn run_output(&self, image: &str) -> String {
        self.ok(&["run", image]).0.trim().to_owned()
    }

    /// The names in the store's tmp dir: what commands that ended (or were killed) left behind.
    pub fn leftovers(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.home.join("tmp")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Asserts the tmp dir is empty.
    #[track_caller]
    pub fn assert_no_leftovers(&self, when: &str) {
        assert_eq!(
            self.leftovers(),
            Vec::<String>::new(),
            "temp files left in {} {when}",
            self.home.join("tmp").display()
        );
    }

    /// podman with rpack's settings (runc, cgroupfs), as rpack runs it for this store.
    pub fn podman(&self) -> Command {
        let store = rpack::store::Store::at(&self.home).unwrap();
        rpack::build::podman::Podman::new(&store).unwrap().command()
    }

    /// The ids of build containers of `image` (running or not), found by rpack's label.
    pub fn build_containers(&self, image: &str) -> Vec<String> {
        let out = self
            .podman()
            .args(["ps", "--all", "--quiet", "--filter"])
            .arg(format!("label=io.rpack.build={image}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

/// The probe buildpack of the fault tests.
pub const PROBE_BUILDPACK_TOML: &str = "api = \"0.10\"\n[buildpack]\nid = \"faults/probe\"\nversion = \"0.0.1\"\n\
     sbom-formats = [\"application/vnd.cyclonedx+json\"]\n";

/// The probe's build: says what its cache layer held (so a test sees the build cache survive a fault), writes
/// the app's version into a cache layer and a launch layer, and the process that prints it. With a file `big`
/// in the app it adds as many bytes of random data as `big` says to the launch layer (an export that takes a
/// while, or fills a disk); with `slow` it sleeps in the build phase, so a fault aimed at an earlier phase
/// lands before the build can end (and its detect sleeps with `slow-detect`). With `cache-noise` and
/// `sbom-noise` it adds that many bytes of random data to its cache layer and (base64) to its launch SBOM, so
/// the next build takes a while to restore the cache (the restoring phase) and the previous image's SBOM (in the
/// analyzing phase).
pub const PROBE_BUILD: &str = r#"#!/bin/sh
set -eu
cache="$CNB_LAYERS_DIR/cached"
if [ -f "$cache/version" ]; then echo "cache had $(cat "$cache/version")"; else echo "cache empty"; fi
mkdir -p "$cache"
cat version.txt > "$cache/version"
rm -f "$cache/noise"
if [ -f cache-noise ]; then head -c "$(cat cache-noise)" /dev/urandom > "$cache/noise"; fi
if [ -f sbom-noise ]; then
  { printf '{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"components":[],"noise":"'
    head -c "$(cat sbom-noise)" /dev/urandom | base64 -w0; printf '"}'; } > "$CNB_LAYERS_DIR/launch.sbom.cdx.json"
fi
printf '[types]\ncache = true\n' > "$cache.toml"
layer="$CNB_LAYERS_DIR/greeting"
mkdir -p "$layer"
cat version.txt > "$layer/version"
if [ -f big ]; then head -c "$(cat big)" /dev/urandom > "$layer/noise"; fi
printf '[types]\nlaunch = true\n' > "$layer.toml"
printf '[[processes]]\ntype = "web"\ncommand = ["cat", "/layers/faults_probe/greeting/version"]\ndefault = true\n' > "$CNB_LAYERS_DIR/launch.toml"
if [ -f slow ]; then echo "sleeping in build"; sleep 120; fi
"#;

/// The probe's detect: passes, after sleeping when the app has `slow-detect`.
const PROBE_DETECT: &str = "#!/bin/sh\nif [ -f slow-detect ]; then sleep 120; fi\nexit 0\n";

/// Writes the probe buildpack (`dir/bp`) and its tiny-stack builder.toml (`dir/builder.toml`).
pub fn probe_buildpack(dir: &Path) {
    super::shell_buildpack(dir, "faults/probe", PROBE_BUILDPACK_TOML, PROBE_BUILD);
    super::write(&dir.join("bp/bin/detect"), PROBE_DETECT);
}

/// Where the probe's build sleeps: nowhere, in detect or in build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sleep {
    /// It does not.
    No,
    /// In its detect (the DETECTING phase).
    Detect,
    /// In its build (the BUILDING phase).
    Build,
}

/// Writes the probe's app (`dir/app`): its version, the size of its random data (`big`, in MB) and where it
/// sleeps.
pub fn probe_app(dir: &Path, version: &str, big_mb: u64, sleep: Sleep) {
    super::write(&dir.join("app/version.txt"), version);
    let big = (big_mb > 0).then(|| (big_mb * 1_000_000).to_string());
    let slow = (sleep == Sleep::Build).then(String::new);
    let slow_detect = (sleep == Sleep::Detect).then(String::new);
    for (name, content) in [("big", big), ("slow", slow), ("slow-detect", slow_detect)] {
        let path = dir.join("app").join(name);
        if let Some(content) = content {
            super::write(&path, &content);
        } else if path.exists() {
            std::fs::remove_file(path).unwrap();
        }
    }
}

/// Makes the probe's next build leave a 30 MB cache layer and a 5 MB launch SBOM (`on`), or neither: the build
/// after it then spends a measurable time (a few hundred milliseconds on the tiny stack) restoring the cache
/// in the restoring phase and the previous image's SBOM in the analyzing phase, which otherwise take a few
/// milliseconds each.
pub fn slow_restores(dir: &Path, on: bool) {
    for (name, bytes) in [("cache-noise", 30_000_000), ("sbom-noise", 4_000_000)] {
        let path = dir.join("app").join(name);
        if on {
            super::write(&path, &bytes.to_string());
        } else if path.exists() {
            std::fs::remove_file(path).unwrap();
        }
    }
}
