//! In-process tests: detect, and builds against the host's python3 (no package index needed,
//! except for the missing-package snapshot).

use super::*;
use libbuildpack::testing::TestContext;

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
    assert!(metadata["python"].as_str().unwrap().starts_with("3."));
    assert_eq!(metadata["requirements_sha256"].as_str().unwrap().len(), 64);
    assert!(
        std::fs::read_to_string(venv.join("env/PATH.prepend"))
            .unwrap()
            .ends_with("venv/bin")
    );
    assert!(
        run.output.contains("Installing requirements"),
        "{}",
        run.output
    );
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
    assert!(again.output.contains("Reusing venv"), "{}", again.output);
    assert!(
        again
            .output
            .contains("Requirements unchanged: nothing to install"),
        "{}",
        again.output
    );
    assert!(!again.output.contains("pip install"), "{}", again.output);
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
    assert!(
        changed
            .output
            .contains("Rebuilding venv (requirements_sha256 changed"),
        "{}",
        changed.output
    );
    assert!(
        changed.output.contains("Installing requirements"),
        "{}",
        changed.output
    );
}

#[test]
fn changed_requirements_install_into_the_copy_of_the_last_venv_in_the_cache_volume() {
    let ctx = context();
    let volume = ctx.cache_volume().unwrap();
    ctx.app_file("requirements.txt", "# one\n").unwrap();
    let first = ctx.build(&Pip).unwrap();
    assert!(first.succeeded(), "{}", first.output);
    let seed = volume.join("libbuildpack_pip");
    assert!(
        seed.join("venv/bin/python").exists(),
        "the venv is copied to the volume"
    );
    assert!(seed.join("venv.key.toml").is_file());
    // A marker only the copy has: the next venv must start from it.
    std::fs::write(seed.join("venv/marker"), "from the seed").unwrap();

    ctx.app_file("requirements.txt", "# two\n").unwrap();
    ctx.restore_for_next_build().unwrap();
    let changed = ctx.build(&Pip).unwrap();
    assert!(changed.succeeded(), "{}", changed.output);
    assert!(
        changed
            .output
            .contains("Requirements changed: installing into a copy of the last venv"),
        "{}",
        changed.output
    );
    assert!(!changed.output.contains("-m venv"), "{}", changed.output);
    let venv = ctx.layers_dir().join("venv");
    assert_eq!(
        std::fs::read_to_string(venv.join("marker")).unwrap(),
        "from the seed"
    );
    assert_eq!(
        std::fs::read_to_string(venv.join(".libbuildpack/installed.txt")).unwrap(),
        std::fs::read_to_string(seed.join("venv/.libbuildpack/installed.txt")).unwrap(),
        "the copy is refreshed after the install"
    );

    // A copy made for another Python is not used.
    std::fs::write(
        seed.join("venv.key.toml"),
        "python = \"2.7\"\nlayout = \"2\"\n[target]\nos = \"linux\"\narch = \"amd64\"\n",
    )
    .unwrap();
    ctx.app_file("requirements.txt", "# three\n").unwrap();
    ctx.restore_for_next_build().unwrap();
    let other = ctx.build(&Pip).unwrap();
    assert!(other.succeeded(), "{}", other.output);
    assert!(
        other.output.contains("Installing requirements"),
        "{}",
        other.output
    );
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
