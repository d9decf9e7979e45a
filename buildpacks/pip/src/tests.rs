//! In-process tests: detect, and builds against the host's python3 (no package index needed,
//! except for the missing-package snapshot).

use super::*;
use libbuildpack::testing::{TestContext, assert_contains, assert_not_contains};

fn context() -> TestContext {
    TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap()
}

#[test]
fn detect_needs_requirements_txt_and_offers_pip_packages() {
    let ctx = context();
    assert_eq!(ctx.detect(&Pip).unwrap().exit_code, 100);
    ctx.app_file("requirements.txt", "flask\n").unwrap();
    let run = ctx.detect(&Pip).unwrap();
    assert!(run.passed(), "{}", run.output);
    let plan = run.plan.unwrap();
    assert_eq!(plan.provides[0].name, "pip-packages");
    assert_eq!(plan.requires[0].name, "pip-packages");
}

#[test]
fn builds_a_launch_only_venv_then_reuses_it_without_its_files() {
    let ctx = context();
    ctx.app_file("requirements.txt", "# nothing yet\n").unwrap();
    let run = ctx.build(&Pip).unwrap();
    assert!(run.succeeded(), "{}", run.output);
    let venv = ctx.layers_dir().join("venv");
    assert!(venv.join("bin/python").exists());
    let types = run.layer("venv").unwrap().types.unwrap();
    assert!(types.launch && !types.cache && !types.build, "{types:?}");
    let metadata = run.layer("venv").unwrap().metadata.clone().unwrap();
    let installed = &metadata["installed"];
    assert!(installed["python"].as_str().unwrap().starts_with("3."));
    assert_eq!(installed["requirements_sha256"].as_str().unwrap().len(), 64);
    assert!(
        std::fs::read_to_string(venv.join("env/PATH.prepend"))
            .unwrap()
            .ends_with("venv/bin")
    );
    assert_contains!(run.output, "Installing requirements");
    // The venv has no pip of its own (the stack's pip installs into it), and its SBOMs, in both
    // formats, list what is in it: nothing yet.
    assert!(!venv.join("bin/pip").exists());
    let cdx = std::fs::read_to_string(ctx.layers_dir().join("venv.sbom.cdx.json")).unwrap();
    assert!(cdx.contains(r#""bomFormat": "CycloneDX""#), "{cdx}");
    assert!(!cdx.contains("pkg:pypi/"), "{cdx}");
    let spdx = std::fs::read_to_string(ctx.layers_dir().join("venv.sbom.spdx.json")).unwrap();
    assert!(spdx.contains(r#""spdxVersion": "SPDX-2.3""#), "{spdx}");

    // Unchanged requirements: the venv stays in the previous image; no file is written, and the
    // SBOMs the lifecycle restored stay as they were.
    ctx.restore_for_next_build().unwrap();
    let again = ctx.build(&Pip).unwrap();
    assert!(again.succeeded(), "{}", again.output);
    assert_contains!(again.output, "Reusing venv");
    assert_contains!(again.output, "Requirements unchanged: nothing to install");
    assert_not_contains!(again.output, "pip install");
    assert!(
        !venv.exists(),
        "a reused launch-only layer has no files here"
    );
    let cdx_again = std::fs::read_to_string(ctx.layers_dir().join("venv.sbom.cdx.json")).unwrap();
    assert_eq!(cdx_again, cdx, "an unchanged venv's SBOM must not change");

    // Changed requirements and no build cache volume: a fresh venv.
    ctx.app_file("requirements.txt", "# still nothing\n")
        .unwrap();
    ctx.restore_for_next_build().unwrap();
    let changed = ctx.build(&Pip).unwrap();
    assert!(changed.succeeded(), "{}", changed.output);
    assert_contains!(
        changed.output,
        "Rebuilding venv (installed.requirements_sha256 changed"
    );
    assert_contains!(changed.output, "Installing requirements");
}

/// Writes `probe-1.0-py3-none-any.whl` (a module and a console script `probe`) into `dir`, made
/// with the host's python3; returns the requirement line that installs it.
/// The `lib/pythonX.Y/site-packages` of the venv at `venv`.
fn site_packages(venv: &Path) -> std::path::PathBuf {
    std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages")
}

fn probe_wheel(dir: &Path) -> String {
    wheel(dir, "probe", 0)
}

/// A wheel of package `name`: with a script named like it, or with `data` bytes of zeros in
/// `<name>/data.bin` (and no script) when `data` is not 0; returns its requirements line.
fn wheel(dir: &Path, name: &str, data: usize) -> String {
    const WHEEL: &str = r#"
import base64, hashlib, sys, zipfile
name, data = sys.argv[2], int(sys.argv[3])
files = {
    f"{name}/__init__.py": "def main():\n    print('probe ran')\n",
    f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
    f"{name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
if data:
    files[f"{name}/data.bin"] = bytes(data)
else:
    files[f"{name}-1.0.dist-info/entry_points.txt"] = f"[console_scripts]\n{name} = {name}:main\n"
record = ""
for path, text in files.items():
    raw = text if isinstance(text, bytes) else text.encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).rstrip(b"=").decode()
    record += f"{path},sha256={digest},{len(raw)}\n"
files[f"{name}-1.0.dist-info/RECORD"] = record + f"{name}-1.0.dist-info/RECORD,,\n"
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for path, text in files.items():
        z.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), text, zipfile.ZIP_DEFLATED)
"#;
    let wheel = dir.join(format!("{name}-1.0-py3-none-any.whl"));
    let made = std::process::Command::new("python3")
        .args(["-c", WHEEL])
        .arg(&wheel)
        .arg(name)
        .arg(data.to_string())
        .status()
        .unwrap();
    assert!(made.success());
    format!("{name} @ file://{}\n", wheel.display())
}

/// A new venv over 96 MB is split in two launch layers; both are kept together while packages are
/// only added.
#[test]
fn a_big_new_venv_is_split_in_two_layers_that_stay_together_while_packages_are_added() {
    let ctx = context();
    let _volume = ctx.cache_volume().unwrap();
    let wheels = tempfile::tempdir().unwrap();
    let big = wheel(wheels.path(), "bigpkg", 100 << 20);
    ctx.app_file("requirements.txt", &big).unwrap();
    let first = ctx.build(&Pip).unwrap();
    assert!(first.succeeded(), "{}", first.output);
    assert_contains!(first.output, "go into the venv-part2 layer");
    let venv = ctx.layers_dir().join("venv");
    let part2 = ctx.layers_dir().join(python_sbom::venv::SPLIT_LAYER);
    let site = site_packages(&venv);
    let part2_site = part2.join(site.strip_prefix(&venv).unwrap());
    assert!(part2_site.join("bigpkg/data.bin").is_file());
    assert!(part2_site.join("bigpkg-1.0.dist-info/RECORD").is_file());
    assert!(!site.join("bigpkg").exists());
    // The venv's Python finds the moved package through the hook.
    let found = std::process::Command::new(venv.join("bin/python"))
        .args(["-c", "import bigpkg; print(bigpkg.__file__)"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&found.stdout).starts_with(&part2_site.display().to_string()),
        "{found:?}"
    );
    let key = first.layer("venv").unwrap().metadata.clone();
    let types = first.layer("venv-part2").unwrap().types.unwrap();
    assert!(types.launch && !types.cache && !types.build, "{types:?}");
    assert_eq!(first.layer("venv-part2").unwrap().metadata, key);

    // One added package: both parts kept as they are, the package in the delta.
    let probe = probe_wheel(wheels.path());
    ctx.app_file("requirements.txt", format!("{big}{probe}"))
        .unwrap();
    ctx.restore_for_next_build().unwrap();
    let added = ctx.build(&Pip).unwrap();
    assert!(added.succeeded(), "{}", added.output);
    assert_contains!(added.output, "Only packages were added");
    assert!(
        !venv.exists() && !part2.exists(),
        "kept layers have no files here"
    );
    assert_eq!(added.layer("venv").unwrap().metadata, key);
    assert_eq!(added.layer("venv-part2").unwrap().metadata, key);
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one story: add, rebuild unchanged, remove, fold, another Python"
)]
fn an_added_package_goes_into_a_delta_layer_over_the_kept_venv() {
    let ctx = context();
    let volume = ctx.cache_volume().unwrap();
    let wheels = tempfile::tempdir().unwrap();
    ctx.app_file("requirements.txt", "# one\n").unwrap();
    let first = ctx.build(&Pip).unwrap();
    assert!(first.succeeded(), "{}", first.output);
    let seed = volume.join("libbuildpack_pip");
    assert!(
        seed.join("venv/bin/python").exists(),
        "the venv is kept in the volume"
    );
    assert!(seed.join("venv.toml").is_file());
    assert!(seed.join("venv.base-files").is_file());
    let venv = ctx.layers_dir().join("venv");
    let site = site_packages(&venv);
    let hook = std::fs::read_to_string(site.join(python_sbom::venv::HOOK)).unwrap();
    assert!(hook.contains("venv-delta/lib/python3."), "{hook}");
    let base_key = first.layer("venv").unwrap().metadata.clone().unwrap();

    // One added package: the venv layer is kept (launch-only, no files here), the package and its
    // script go into venv-delta, with the SBOM of what is in it.
    let probe = probe_wheel(wheels.path());
    ctx.app_file("requirements.txt", format!("# one\n{probe}"))
        .unwrap();
    ctx.restore_for_next_build().unwrap();
    let added = ctx.build(&Pip).unwrap();
    assert!(added.succeeded(), "{}", added.output);
    assert_contains!(
        added.output,
        "Requirements changed: installing into the last venv"
    );
    assert_not_contains!(added.output, "-m venv");
    assert_contains!(added.output, "Only packages were added");
    assert!(!venv.exists(), "the kept venv layer has no files here");
    assert_eq!(
        added.layer("venv").unwrap().metadata,
        Some(base_key.clone())
    );
    let delta = ctx.layers_dir().join("venv-delta");
    let delta_site = delta.join(site.strip_prefix(&venv).unwrap());
    assert!(delta_site.join("probe/__init__.py").is_file());
    assert!(
        std::fs::read_dir(delta_site.join("probe/__pycache__"))
            .unwrap()
            .count()
            == 1,
        "the new package is compiled to bytecode"
    );
    assert!(delta.join("bin/probe").is_file());
    assert!(!delta_site.join("pip").exists() && !delta.join("bin/python").exists());
    let types = added.layer("venv-delta").unwrap().types.unwrap();
    assert!(types.launch && !types.cache && !types.build, "{types:?}");
    assert!(
        std::fs::read_to_string(delta.join("env.launch/PATH.prepend"))
            .unwrap()
            .ends_with("venv-delta/bin")
    );
    let cdx = std::fs::read_to_string(ctx.layers_dir().join("venv-delta.sbom.cdx.json")).unwrap();
    assert!(cdx.contains("pkg:pypi/probe@1.0"), "{cdx}");
    // The script runs the venv's Python, which finds the delta through the hook.
    let script = std::fs::read_to_string(delta.join("bin/probe")).unwrap();
    assert!(
        script.starts_with(&format!("#!{}", venv.join("bin/python").display())),
        "{script}"
    );

    // No change after a delta: both layers reused, nothing installed.
    ctx.restore_for_next_build().unwrap();
    let again = ctx.build(&Pip).unwrap();
    assert!(again.succeeded(), "{}", again.output);
    assert_contains!(again.output, "Reusing venv-delta");
    assert_not_contains!(again.output, "pip install");
    assert!(!venv.exists() && !delta.exists());

    // Removed again: back to what the venv layer holds, no delta.
    ctx.app_file("requirements.txt", "# one\n").unwrap();
    ctx.restore_for_next_build().unwrap();
    let removed = ctx.build(&Pip).unwrap();
    assert!(removed.succeeded(), "{}", removed.output);
    assert_contains!(removed.output, "Uninstalling removed requirements: probe");
    assert_contains!(removed.output, "Back to the packages of the venv layer");
    assert!(!venv.exists());
    assert!(
        removed
            .layer("venv-delta")
            .is_none_or(|l| l.types.is_none())
    );
    assert_eq!(removed.layer("venv").unwrap().metadata, Some(base_key));

    // A file outside bin/ and site-packages folds everything into one new venv layer.
    std::fs::write(seed.join("venv/marker"), "from the kept venv").unwrap();
    ctx.app_file("requirements.txt", "# two\n").unwrap();
    ctx.restore_for_next_build().unwrap();
    let folded = ctx.build(&Pip).unwrap();
    assert!(folded.succeeded(), "{}", folded.output);
    assert_contains!(
        folded.output,
        "Making the venv one layer again: marker is outside bin/ and site-packages",
    );
    assert_eq!(
        std::fs::read_to_string(venv.join("marker")).unwrap(),
        "from the kept venv"
    );

    // A venv kept for another Python is not used.
    std::fs::write(
        seed.join("venv.toml"),
        "python = \"2.7\"\nlayout = \"4\"\ninstalled = \"# two\\n\"\n[target]\nos = \"linux\"\narch = \"amd64\"\n",
    )
    .unwrap();
    ctx.app_file("requirements.txt", "# three\n").unwrap();
    ctx.restore_for_next_build().unwrap();
    let other = ctx.build(&Pip).unwrap();
    assert!(other.succeeded(), "{}", other.output);
    assert_contains!(other.output, "-m venv");
    assert!(!venv.join("marker").exists());
}

#[test]
fn hints_name_what_to_fix() {
    let lines = [
        "ERROR: Could not find a version that satisfies the requirement nosuch==1.0 (from versions: none)".to_string(),
        "ERROR: No matching distribution found for nosuch==1.0".to_string(),
    ];
    assert!(install::hint(&lines).contains("`nosuch==1.0`"));
    assert!(install::hint(&["  Failed building wheel for x".into()]).contains("wheel"));
    assert!(install::hint(&[]).contains("requirements.txt"));
}

/// Replaces what changes from run to run (temp paths, timings, the Python version, the host's
/// pip index settings) in build output.
pub fn redact(text: &str, ctx: &TestContext) -> String {
    let layers = ctx.layers_dir().display().to_string();
    let python = python::stack().unwrap().executable;
    text.lines()
        .filter(|line| !line.trim_start().starts_with("Looking in "))
        .map(|line| {
            if line.contains("Done (") {
                "  Done (<time>)".to_string()
            } else if let Some(at) = line.find("Using Python ") {
                format!("{}Using Python <version> from the stack", &line[..at])
            } else {
                line.replace(&layers, "<layers>")
                    .replace(&python, "<stack-python>")
            }
        })
        .fold(String::new(), |text, line| text + &line + "\n")
}

#[test]
fn missing_package_says_what_to_fix() {
    let ctx = context();
    ctx.app_file(
        "requirements.txt",
        "libbuildpack-no-such-package-0d1f3c==1.0.0\n",
    )
    .unwrap();
    let run = ctx.build(&Pip).unwrap();
    assert!(!run.succeeded());
    // Only pip's error lines and ours: how pip reports looking at the index varies with its version.
    let output = redact(&run.output, &ctx);
    let kept: String = output
        .lines()
        .filter(|l| !l.starts_with("      ") || l.contains("ERROR"))
        .fold(String::new(), |s, l| s + l + "\n");
    insta::assert_snapshot!(kept);
}
