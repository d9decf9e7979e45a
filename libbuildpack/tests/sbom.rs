//! SBOM files: names, declared formats, determinism, and validity against the official
//! `CycloneDX` 1.5 and SPDX 2.3 JSON schemas.
//!
//! The schemas are fetched at test time from the Python package index with pip: the
//! `lib4sbom` wheel ships both (`lib4sbom/schemas/cyclonedx/bom-1.5.schema.json`,
//! `.../spdx/2.3-schema.json`). They are cached under `target/sbom-schemas/`. Set
//! `LIBBUILDPACK_SKIP_SCHEMA_FETCH=1` to skip the schema checks on a machine without it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::path::{Path, PathBuf};
use std::process::Command;

use libbuildpack::data::SbomFormat;
use libbuildpack::prelude::*;
use libbuildpack::sbom::{Package, PackageKind, Sbom, SbomError, SbomOwner};
use libbuildpack::testing::{TestContext, assert_contains};

const LIB4SBOM: &str = "lib4sbom==0.10.4";

struct SbomBp {
    declare_launch: bool,
}

#[derive(Debug, thiserror::Error)]
enum SbomBpError {
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(transparent)]
    Sbom(#[from] SbomError),
}

fn packages() -> Sbom {
    Sbom::new()
        .package(
            Package::new("flask")
                .version("3.0.3")
                .purl("pkg:pypi/flask@3.0.3")
                .license("BSD-3-Clause")
                .description("A micro web framework")
                .supplier("Pallets")
                .sha256("a".repeat(64))
                .download_url("https://files.example.org/flask-3.0.3.tar.gz"),
        )
        .package(
            Package::new("dual")
                .version("1.0.0")
                .license("MIT OR Apache-2.0"),
        )
        .package(Package::new("odd").license("Some Custom License"))
        .package(
            Package::new("gunicorn")
                .version("22.0.0")
                .license("MIT")
                .application(),
        )
        .package(resnet())
}

fn resnet() -> Package {
    Package::new("resnet50")
        .version("1.0")
        .kind(PackageKind::MachineLearningModel)
        .sha256("b".repeat(64))
        .download_url("https://models.example.org/resnet50.onnx")
}

#[test]
fn a_model_is_a_machine_learning_model_in_cyclonedx_and_other_in_spdx() {
    let sbom = Sbom::new().package(resnet());
    let cdx: serde_json::Value =
        serde_json::from_slice(&sbom.to_cyclonedx_json("acme/models").unwrap()).unwrap();
    assert_eq!(cdx["components"][0]["type"], "machine-learning-model");
    assert_eq!(cdx["components"][0]["name"], "resnet50");
    let spdx: serde_json::Value =
        serde_json::from_slice(&sbom.to_spdx_json("acme/models").unwrap()).unwrap();
    let package = &spdx["packages"][0];
    assert_eq!(package["primaryPackagePurpose"], "OTHER");
    assert!(
        package["comment"]
            .as_str()
            .unwrap()
            .starts_with("machine-learning-model"),
        "{package}"
    );
    assert_eq!(resnet().package_kind(), PackageKind::MachineLearningModel);
    // Libraries and applications are written as before.
    let flask = Sbom::new().package(Package::new("flask").version("3.0.3"));
    let spdx: serde_json::Value =
        serde_json::from_slice(&flask.to_spdx_json("x").unwrap()).unwrap();
    assert_eq!(spdx["packages"][0]["primaryPackagePurpose"], "LIBRARY");
    assert!(spdx["packages"][0].get("comment").is_none());
}

impl Buildpack for SbomBp {
    type Metadata = NoMetadata;
    type Error = SbomBpError;

    fn detect(&self, _: &DetectContext) -> Result<Detect, SbomBpError> {
        Ok(Detect::pass())
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, SbomBpError> {
        let venv = ctx
            .layer("venv")
            .launch()
            .cache()
            .keyed_by(&toml::Table::new())?;
        ctx.write_sbom(SbomOwner::Layer(&venv), &packages())?;
        if self.declare_launch {
            ctx.write_sbom(SbomOwner::Launch, &packages())?;
            ctx.write_sbom_as(SbomOwner::Build, SbomFormat::CycloneDxJson, &packages())?;
        }
        Ok(Build::new())
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn layer_launch_and_build_sboms_are_named_as_the_lifecycle_reads_them() {
    let ctx = TestContext::new(fixture("sbom-bp")).unwrap();
    let run = ctx
        .build(&SbomBp {
            declare_launch: true,
        })
        .unwrap();
    assert!(run.succeeded(), "{}", run.output);
    let mut names: Vec<String> = std::fs::read_dir(ctx.layers_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".sbom."))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "build.sbom.cdx.json",
            "launch.sbom.cdx.json",
            "launch.sbom.spdx.json",
            "venv.sbom.cdx.json",
            "venv.sbom.spdx.json"
        ]
    );
    for name in &names {
        assert!(SbomFormat::from_file_name(name).is_some(), "{name}");
    }
}

#[test]
fn only_declared_formats_are_written() {
    let ctx = TestContext::new(fixture("sbom-cdx-only")).unwrap();
    let run = ctx
        .build(&SbomBp {
            declare_launch: false,
        })
        .unwrap();
    assert!(run.succeeded(), "{}", run.output);
    assert!(ctx.layers_dir().join("venv.sbom.cdx.json").exists());
    assert!(!ctx.layers_dir().join("venv.sbom.spdx.json").exists());
}

struct WritesUndeclared;

impl Buildpack for WritesUndeclared {
    type Metadata = NoMetadata;
    type Error = SbomBpError;

    fn detect(&self, _: &DetectContext) -> Result<Detect, SbomBpError> {
        Ok(Detect::pass())
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, SbomBpError> {
        ctx.write_sbom_as(SbomOwner::Launch, SbomFormat::SpdxJson, &packages())?;
        Ok(Build::new())
    }
}

#[test]
fn writing_an_undeclared_format_fails_the_build_with_a_fix() {
    let ctx = TestContext::new(fixture("sbom-cdx-only")).unwrap();
    let run = ctx.build(&WritesUndeclared).unwrap();
    assert_eq!(run.exit_code, 1);
    assert_contains!(
        run.output,
        "add \"application/spdx+json\" to [buildpack] sbom-formats"
    );
    assert!(!ctx.layers_dir().join("launch.sbom.spdx.json").exists());
}

#[test]
fn no_declared_format_is_an_error() {
    let ctx = TestContext::new(fixture("bp")).unwrap();
    let run = ctx
        .build(&SbomBp {
            declare_launch: false,
        })
        .unwrap();
    assert_eq!(run.exit_code, 1);
    assert_contains!(run.output, "sbom-formats");
}

#[test]
fn unchanged_layer_sbom_keeps_its_bytes_across_builds() {
    let ctx = TestContext::new(fixture("sbom-bp")).unwrap();
    assert!(
        ctx.build(&SbomBp {
            declare_launch: false
        })
        .unwrap()
        .succeeded()
    );
    let first = std::fs::read(ctx.layers_dir().join("venv.sbom.cdx.json")).unwrap();
    let first_spdx = std::fs::read(ctx.layers_dir().join("venv.sbom.spdx.json")).unwrap();
    let ctx2 = TestContext::new(fixture("sbom-bp")).unwrap();
    assert!(
        ctx2.build(&SbomBp {
            declare_launch: false
        })
        .unwrap()
        .succeeded()
    );
    assert_eq!(
        first,
        std::fs::read(ctx2.layers_dir().join("venv.sbom.cdx.json")).unwrap()
    );
    assert_eq!(
        first_spdx,
        std::fs::read(ctx2.layers_dir().join("venv.sbom.spdx.json")).unwrap()
    );
}

/// Downloads the lib4sbom wheel with pip and extracts the schema files; `None` when skipped.
fn schemas() -> Option<PathBuf> {
    if std::env::var_os("LIBBUILDPACK_SKIP_SCHEMA_FETCH").is_some() {
        eprintln!("LIBBUILDPACK_SKIP_SCHEMA_FETCH is set: schema validation skipped");
        return None;
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/sbom-schemas");
    let done = target.join("extracted");
    if done.exists() {
        return Some(target);
    }
    std::fs::create_dir_all(&target).unwrap();
    // Tests run in parallel: take a simple lock dir so only one fetches.
    let lock = target.join("lock");
    let start = std::time::Instant::now();
    while std::fs::create_dir(&lock).is_err() {
        if done.exists() {
            return Some(target);
        }
        assert!(
            start.elapsed().as_secs() < 300,
            "timed out waiting for {}",
            lock.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    if !done.exists() {
        let status = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "-q",
                "-d",
            ])
            .arg(&target)
            .arg(LIB4SBOM)
            .status()
            .expect("python3 -m pip must be installed to fetch the SBOM schemas");
        assert!(status.success(), "pip download {LIB4SBOM} failed");
        let script = "import glob, sys, zipfile\n\
            d = sys.argv[1]\n\
            z = zipfile.ZipFile(glob.glob(d + '/lib4sbom-*.whl')[0])\n\
            for n in z.namelist():\n\
            \x20   if n.startswith('lib4sbom/schemas/') and n.endswith('.json'):\n\
            \x20       z.extract(n, d)\n";
        let status = Command::new("python3")
            .args(["-c", script])
            .arg(&target)
            .status()
            .unwrap();
        assert!(status.success(), "extracting the schemas failed");
        std::fs::write(&done, "").unwrap();
    }
    let _ = std::fs::remove_dir(&lock);
    Some(target)
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_valid(validator: &jsonschema::Validator, document: &[u8], what: &str) {
    let instance: serde_json::Value = serde_json::from_slice(document).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is not valid:\n{}",
        errors.join("\n")
    );
}

#[test]
fn cyclonedx_output_is_valid_against_the_cyclonedx_1_5_schema() {
    let Some(dir) = schemas() else { return };
    let cdx = dir.join("lib4sbom/schemas/cyclonedx");
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            read_json(&cdx.join("spdx.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            read_json(&cdx.join("jsf-0.82.schema.json")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let schema = read_json(&cdx.join("bom-1.5.schema.json"));
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&schema)
        .unwrap();
    assert_valid(
        &validator,
        &packages().to_cyclonedx_json("tests/sbom venv").unwrap(),
        "cdx",
    );
    assert_valid(
        &validator,
        &Sbom::new().to_cyclonedx_json("empty").unwrap(),
        "empty cdx",
    );
    // The validator does catch mistakes.
    let mut bad: serde_json::Value =
        serde_json::from_slice(&packages().to_cyclonedx_json("x").unwrap()).unwrap();
    bad["serialNumber"] = "not-a-urn".into();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn spdx_output_is_valid_against_the_spdx_2_3_schema() {
    let Some(dir) = schemas() else { return };
    let schema = read_json(&dir.join("lib4sbom/schemas/spdx/2.3-schema.json"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert_valid(
        &validator,
        &packages().to_spdx_json("tests/sbom venv").unwrap(),
        "spdx",
    );
    assert_valid(
        &validator,
        &Sbom::new().to_spdx_json("empty").unwrap(),
        "empty spdx",
    );
    let mut bad: serde_json::Value =
        serde_json::from_slice(&packages().to_spdx_json("x").unwrap()).unwrap();
    bad.as_object_mut().unwrap().remove("SPDXID");
    assert!(!validator.is_valid(&bad));
}
