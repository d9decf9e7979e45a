//! SBOMs: describe what a layer installed once, write it as `CycloneDX` 1.5 and SPDX 2.3 JSON.
//!
//! Output is deterministic: the `CycloneDX` serial number and the SPDX document namespace are
//! derived from a SHA-256 of the content, and the timestamp comes from `SOURCE_DATE_EPOCH`
//! (default 1980-01-01T00:00:01Z), so an unchanged layer's SBOM, and with it the image's
//! SBOM layer, keeps its digest.
//!
//! SPDX is written with this module's own serde types rather than the `spdx-rs` crate:
//! `spdx-rs` has had no release since 0.5.5 (2023), pulls in a second set of
//! `thiserror`/`strum`/`nom` majors plus `chrono`, and stamps random namespaces. The JSON
//! written here is validated against the official SPDX 2.3 schema in the tests.
//!
//! ```
//! use libbuildpack::sbom::{Package, Sbom};
//! use libbuildpack::data::SbomFormat;
//! let sbom = Sbom::new().package(
//!     Package::new("flask")
//!         .version("3.0.3")
//!         .purl("pkg:pypi/flask@3.0.3")
//!         .license("BSD-3-Clause"),
//! );
//! let cdx = sbom.to_json(SbomFormat::CycloneDxJson, "acme/pip venv")?;
//! let spdx = sbom.to_json(SbomFormat::SpdxJson, "acme/pip venv")?;
//! assert!(String::from_utf8(cdx)?.contains("\"bomFormat\": \"CycloneDX\""));
//! assert!(String::from_utf8(spdx)?.contains("\"spdxVersion\": \"SPDX-2.3\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;

use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::models::bom::{Bom, UrnUuid};
use cyclonedx_bom::models::component::{Classification, Component, Components};
use cyclonedx_bom::models::external_reference::{
    ExternalReference, ExternalReferenceType, ExternalReferences,
};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::license::{License, LicenseChoice, Licenses};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::tool::{Tool, Tools};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::data::SbomFormat;

/// What an SBOM file describes: one layer, the app image (`launch.sbom.*`) or the build
/// (`build.sbom.*`).
#[cfg(feature = "runtime")]
#[derive(Debug, Clone, Copy)]
pub enum SbomOwner<'a> {
    /// `<layer>.sbom.<ext>`.
    Layer(&'a crate::Layer),
    /// `launch.sbom.<ext>`: what the app image contains beyond its layers' own SBOMs.
    Launch,
    /// `build.sbom.<ext>`: what the build used.
    Build,
}

#[cfg(feature = "runtime")]
impl SbomOwner<'_> {
    /// The file name prefix: the layer name, `launch` or `build`.
    #[must_use]
    pub fn prefix(&self) -> &str {
        match self {
            Self::Layer(layer) => layer.name().as_str(),
            Self::Launch => "launch",
            Self::Build => "build",
        }
    }
}

/// Writes `sbom` as `format` to `<layers_dir>/<owner>.sbom.<ext>`, atomically, after checking
/// that `declared` (the buildpack's `sbom-formats`) lists the format.
///
/// # Errors
///
/// [`SbomError::UndeclaredFormat`] when `format` is not declared, others as
/// [`Sbom::to_json`], and [`SbomError::Write`].
#[cfg(feature = "runtime")]
pub fn write_sbom_file(
    layers_dir: &std::path::Path,
    declared: &[SbomFormat],
    owner: SbomOwner<'_>,
    subject: &str,
    format: SbomFormat,
    sbom: &Sbom,
) -> Result<PathBuf, SbomError> {
    if !declared.contains(&format) {
        return Err(SbomError::UndeclaredFormat { format });
    }
    if let SbomOwner::Layer(layer) = owner
        && !layer.has_contents()
    {
        return Err(SbomError::ReusedLayer {
            layer: layer.name().to_string(),
        });
    }
    let bytes = sbom.to_json(format, subject)?;
    let path = layers_dir.join(format.file_name(owner.prefix()));
    let tmp = layers_dir.join(format!(
        ".{}.tmp-{}",
        format.file_name(owner.prefix()),
        std::process::id()
    ));
    let err = |source| SbomError::Write {
        path: path.clone(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })?;
    Ok(path)
}

/// The timestamp used when `SOURCE_DATE_EPOCH` is unset: 1980-01-01T00:00:01Z.
pub const DEFAULT_EPOCH: i64 = 315_532_801;

/// What a layer (or the app image, or the build) contains: a list of packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[must_use]
pub struct Sbom {
    packages: Vec<Package>,
    #[serde(skip)]
    epoch: Option<i64>,
}

/// One installed package.
///
/// ```
/// use libbuildpack::sbom::Package;
/// let python = Package::new("python")
///     .version("3.12.4")
///     .purl("pkg:generic/python@3.12.4")
///     .license("Python-2.0")
///     .sha256("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
///     .download_url("https://www.python.org/ftp/python/3.12.4/Python-3.12.4.tgz");
/// assert_eq!(python.name(), "python");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use]
pub struct Package {
    name: String,
    version: Option<String>,
    purl: Option<String>,
    licenses: Vec<String>,
    description: Option<String>,
    supplier: Option<String>,
    sha256: Option<String>,
    download_url: Option<String>,
    application: bool,
    /// A kind other than library and application (kept out of the content hash when unset, so SBOMs written
    /// before kinds existed keep their serial numbers).
    #[serde(skip_serializing_if = "Option::is_none")]
    other_kind: Option<PackageKind>,
}

/// What kind of component a package is: `CycloneDX` 1.5's component `type`. SPDX 2.3 has fewer
/// `primaryPackagePurpose`s; each kind gets the nearest one, and kinds SPDX 2.3 lacks get `OTHER` with a
/// package `comment` naming the kind.
///
/// | kind | `CycloneDX` `type` | SPDX `primaryPackagePurpose` |
/// |---|---|---|
/// | [`Library`](Self::Library) (the default) | `library` | `LIBRARY` |
/// | [`Application`](Self::Application) | `application` | `APPLICATION` |
/// | [`Framework`](Self::Framework) | `framework` | `FRAMEWORK` |
/// | [`File`](Self::File) | `file` | `FILE` |
/// | [`MachineLearningModel`](Self::MachineLearningModel) | `machine-learning-model` | `OTHER`, comment `machine-learning-model` |
/// | [`Data`](Self::Data) | `data` | `OTHER`, comment `data` |
///
/// ```
/// use libbuildpack::sbom::{Package, PackageKind, Sbom};
/// use libbuildpack::data::SbomFormat;
/// let sbom = Sbom::new().package(
///     Package::new("resnet50")
///         .kind(PackageKind::MachineLearningModel)
///         .sha256("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
///         .download_url("https://models.example.org/resnet50.onnx"),
/// );
/// let cdx = String::from_utf8(sbom.to_json(SbomFormat::CycloneDxJson, "acme/models")?)?;
/// assert!(cdx.contains(r#""type": "machine-learning-model""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PackageKind {
    /// A library (the default).
    #[default]
    Library,
    /// An application.
    Application,
    /// A framework.
    Framework,
    /// A file.
    File,
    /// A machine learning model (model weights, as a model buildpack downloads them).
    MachineLearningModel,
    /// A data set.
    Data,
}

impl PackageKind {
    fn classification(self) -> Classification {
        match self {
            Self::Library => Classification::Library,
            Self::Application => Classification::Application,
            Self::Framework => Classification::Framework,
            Self::File => Classification::File,
            Self::MachineLearningModel => Classification::MachineLearningModel,
            Self::Data => Classification::Data,
        }
    }

    /// The SPDX 2.3 purpose, and the comment that names a kind SPDX 2.3 lacks.
    fn spdx_purpose(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Library => ("LIBRARY", None),
            Self::Application => ("APPLICATION", None),
            Self::Framework => ("FRAMEWORK", None),
            Self::File => ("FILE", None),
            Self::MachineLearningModel => ("OTHER", Some("machine-learning-model")),
            Self::Data => ("OTHER", Some("data")),
        }
    }
}

impl Package {
    /// A package (a library, unless [`application`](Self::application) is set) named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: None,
            purl: None,
            licenses: Vec::new(),
            description: None,
            supplier: None,
            sha256: None,
            download_url: None,
            application: false,
            other_kind: None,
        }
    }

    /// What kind of component it is.
    #[must_use]
    pub fn package_kind(&self) -> PackageKind {
        match (self.application, self.other_kind) {
            (_, Some(kind)) => kind,
            (true, None) => PackageKind::Application,
            (false, None) => PackageKind::Library,
        }
    }

    /// The package's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Its package URL (`pkg:pypi/flask@3.0.3`).
    pub fn purl(mut self, purl: impl Into<String>) -> Self {
        self.purl = Some(purl.into());
        self
    }

    /// Adds a license: an SPDX id (`MIT`), an SPDX expression (`MIT OR Apache-2.0`) or a
    /// free-form name.
    pub fn license(mut self, license: impl Into<String>) -> Self {
        self.licenses.push(license.into());
        self
    }

    /// A description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The organization that supplies it.
    pub fn supplier(mut self, supplier: impl Into<String>) -> Self {
        self.supplier = Some(supplier.into());
        self
    }

    /// The SHA-256 (hex) of what was downloaded.
    pub fn sha256(mut self, hex: impl Into<String>) -> Self {
        self.sha256 = Some(hex.into().to_ascii_lowercase());
        self
    }

    /// Where it was downloaded from.
    pub fn download_url(mut self, url: impl Into<String>) -> Self {
        self.download_url = Some(url.into());
        self
    }

    /// Marks it as an application rather than a library (as [`kind`](Self::kind) with
    /// [`PackageKind::Application`]).
    pub fn application(self) -> Self {
        self.kind(PackageKind::Application)
    }

    /// Sets what kind of component it is: a library unless set.
    pub fn kind(mut self, kind: PackageKind) -> Self {
        self.application = kind == PackageKind::Application;
        self.other_kind =
            (!matches!(kind, PackageKind::Library | PackageKind::Application)).then_some(kind);
        self
    }
}

/// Writing an SBOM failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    /// The buildpack asked for a format it did not declare in `sbom-formats`.
    #[error(
        "the buildpack writes a {format} SBOM, but buildpack.toml does not declare it: add \"{format}\" to [buildpack] sbom-formats"
    )]
    UndeclaredFormat {
        /// The format.
        format: SbomFormat,
    },
    /// The buildpack declares no format this SDK can write.
    #[error(
        "buildpack.toml declares no SBOM format libbuildpack writes: add \"application/vnd.cyclonedx+json\" and/or \"application/spdx+json\" to [buildpack] sbom-formats"
    )]
    NoWritableFormat,
    /// The format is not one this SDK generates (Syft JSON).
    #[error("libbuildpack does not generate {format} SBOMs; write CycloneDX or SPDX")]
    UnsupportedFormat {
        /// The format.
        format: SbomFormat,
    },
    /// A declared `sbom-formats` entry is not a known media type.
    #[error("buildpack.toml sbom-formats has an unknown entry")]
    UnknownDeclaredFormat(#[from] crate::data::UnknownSbomFormat),
    /// A value is not valid in the `CycloneDX` model.
    #[error("could not build the CycloneDX SBOM")]
    CycloneDx(String),
    /// Serializing to JSON failed.
    #[error("could not serialize the SBOM as JSON")]
    Json(String),
    /// The SBOM file could not be written.
    #[error("could not write the SBOM {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An SBOM for a launch-only layer that was reused without its files.
    #[error("the layer {layer} is reused from the previous image; its SBOM was restored with it")]
    ReusedLayer {
        /// The layer.
        layer: String,
    },
}

impl Sbom {
    /// An SBOM with no packages.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a package.
    pub fn package(mut self, package: Package) -> Self {
        self.packages.push(package);
        self
    }

    /// The packages, in the order added.
    pub fn packages(&self) -> &[Package] {
        &self.packages
    }

    /// Uses `seconds` since the Unix epoch as the creation time instead of
    /// `SOURCE_DATE_EPOCH` / [`DEFAULT_EPOCH`].
    pub fn created_at(mut self, seconds: i64) -> Self {
        self.epoch = Some(seconds);
        self
    }

    fn epoch(&self) -> i64 {
        self.epoch.unwrap_or_else(|| {
            std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(DEFAULT_EPOCH)
        })
    }

    /// A SHA-256 over the subject, the creation time and every package field.
    fn content_hash(&self, subject: &str, epoch: i64) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(subject.as_bytes());
        hasher.update([0]);
        hasher.update(epoch.to_be_bytes());
        // Serializing plain strings and options cannot fail.
        let packages = serde_json::to_vec(&self.packages).unwrap_or_default();
        hasher.update(&packages);
        hasher.finalize().into()
    }

    /// The SBOM as `format`; `subject` names what it describes (e.g. `acme/pip venv`).
    ///
    /// # Errors
    ///
    /// [`SbomError::UnsupportedFormat`] for Syft JSON, [`SbomError::CycloneDx`] or
    /// [`SbomError::Json`] when a value cannot be represented.
    pub fn to_json(&self, format: SbomFormat, subject: &str) -> Result<Vec<u8>, SbomError> {
        match format {
            SbomFormat::CycloneDxJson => self.to_cyclonedx_json(subject),
            SbomFormat::SpdxJson => self.to_spdx_json(subject),
            SbomFormat::SyftJson => Err(SbomError::UnsupportedFormat { format }),
        }
    }

    /// The SBOM as `CycloneDX` 1.5 JSON.
    ///
    /// # Errors
    ///
    /// See [`to_json`](Self::to_json).
    pub fn to_cyclonedx_json(&self, subject: &str) -> Result<Vec<u8>, SbomError> {
        let epoch = self.epoch();
        let hash = self.content_hash(subject, epoch);
        let serial = UrnUuid::new(format!("urn:uuid:{}", uuid_from_hash(&hash)))
            .map_err(|e| SbomError::CycloneDx(format!("{e:?}")))?;
        let timestamp =
            cyclonedx_bom::external_models::date_time::DateTime::try_from(rfc3339(epoch))
                .map_err(|e| SbomError::CycloneDx(e.to_string()))?;
        let mut subject_component = Component::new(Classification::Application, subject, "", None);
        subject_component.version = None;
        let metadata = Metadata {
            timestamp: Some(timestamp),
            tools: Some(Tools::List(vec![Tool {
                vendor: None,
                name: Some(NormalizedString::new("libbuildpack")),
                version: Some(NormalizedString::new(env!("CARGO_PKG_VERSION"))),
                hashes: None,
                external_references: None,
            }])),
            authors: None,
            component: Some(subject_component),
            manufacture: None,
            supplier: None,
            licenses: None,
            properties: None,
            lifecycles: None,
        };
        let mut components = Vec::new();
        for (index, package) in self.packages.iter().enumerate() {
            components.push(cdx_component(package, index)?);
        }
        let bom = Bom {
            serial_number: Some(serial),
            metadata: Some(metadata),
            components: Some(Components(components)),
            ..Bom::default()
        };
        let mut out = Vec::new();
        bom.output_as_json_v1_5(&mut out)
            .map_err(|e| SbomError::Json(e.to_string()))?;
        out.push(b'\n');
        Ok(out)
    }

    /// The SBOM as SPDX 2.3 JSON.
    ///
    /// # Errors
    ///
    /// See [`to_json`](Self::to_json).
    pub fn to_spdx_json(&self, subject: &str) -> Result<Vec<u8>, SbomError> {
        let epoch = self.epoch();
        let hash = self.content_hash(subject, epoch);
        let packages: Vec<SpdxPackage> = self
            .packages
            .iter()
            .enumerate()
            .map(|(index, p)| spdx_package(p, index))
            .collect();
        let relationships = packages
            .iter()
            .map(|p| SpdxRelationship {
                spdx_element_id: "SPDXRef-DOCUMENT".into(),
                relationship_type: "DESCRIBES".into(),
                related_spdx_element: p.spdx_id.clone(),
            })
            .collect();
        let document = SpdxDocument {
            spdx_version: "SPDX-2.3".into(),
            data_license: "CC0-1.0".into(),
            spdx_id: "SPDXRef-DOCUMENT".into(),
            name: subject.to_string(),
            document_namespace: format!(
                "https://buildpacks.io/spdx/libbuildpack/{}",
                uuid_from_hash(&hash)
            ),
            creation_info: SpdxCreationInfo {
                created: rfc3339(epoch),
                creators: vec![format!("Tool: libbuildpack-{}", env!("CARGO_PKG_VERSION"))],
            },
            packages,
            relationships,
        };
        let mut out =
            serde_json::to_vec_pretty(&document).map_err(|e| SbomError::Json(e.to_string()))?;
        out.push(b'\n');
        Ok(out)
    }
}

fn cdx_component(package: &Package, index: usize) -> Result<Component, SbomError> {
    let classification = package.package_kind().classification();
    let mut c = Component::new(
        classification,
        &package.name,
        package.version.as_deref().unwrap_or_default(),
        Some(format!("{index}-{}", package.name)),
    );
    if package.version.is_none() {
        c.version = None;
    }
    c.description = package.description.as_deref().map(NormalizedString::new);
    c.publisher = package.supplier.as_deref().map(NormalizedString::new);
    if let Some(purl) = &package.purl {
        c.purl = Some(
            purl.parse()
                .map_err(|()| SbomError::CycloneDx(format!("invalid purl {purl:?}")))?,
        );
    }
    if let Some(hex) = &package.sha256 {
        c.hashes = Some(Hashes(vec![Hash {
            alg: HashAlgorithm::SHA_256,
            content: HashValue(hex.clone()),
        }]));
    }
    if let Some(url) = &package.download_url {
        c.external_references = Some(ExternalReferences(vec![ExternalReference::new(
            ExternalReferenceType::Distribution,
            cyclonedx_bom::external_models::uri::Uri::new(url),
        )]));
    }
    if !package.licenses.is_empty() {
        let all_simple = package
            .licenses
            .iter()
            .all(|l| spdx::license_id(l).is_some() || spdx::Expression::parse(l).is_err());
        let choices = if all_simple {
            package
                .licenses
                .iter()
                .map(|l| {
                    if spdx::license_id(l).is_some() {
                        LicenseChoice::License(License::license_id(l))
                    } else {
                        LicenseChoice::License(License::named_license(l))
                    }
                })
                .collect()
        } else {
            vec![LicenseChoice::expression(&spdx_expression(
                &package.licenses,
            ))]
        };
        c.licenses = Some(Licenses(choices));
    }
    Ok(c)
}

/// Joins licenses into one SPDX expression, or `NOASSERTION` when one is not SPDX.
fn spdx_expression(licenses: &[String]) -> String {
    if licenses.is_empty() || licenses.iter().any(|l| spdx::Expression::parse(l).is_err()) {
        return "NOASSERTION".into();
    }
    if licenses.len() == 1 {
        return licenses[0].clone();
    }
    licenses
        .iter()
        .map(|l| format!("({l})"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn spdx_package(package: &Package, index: usize) -> SpdxPackage {
    let (purpose, comment) = package.package_kind().spdx_purpose();
    let id_part: String = package
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    SpdxPackage {
        spdx_id: format!("SPDXRef-Package-{index}-{id_part}"),
        name: package.name.clone(),
        version_info: package.version.clone(),
        supplier: package
            .supplier
            .as_ref()
            .map(|s| format!("Organization: {s}")),
        download_location: package
            .download_url
            .clone()
            .unwrap_or_else(|| "NOASSERTION".into()),
        files_analyzed: false,
        checksums: package
            .sha256
            .iter()
            .map(|hex| SpdxChecksum {
                algorithm: "SHA256".into(),
                checksum_value: hex.clone(),
            })
            .collect(),
        license_concluded: "NOASSERTION".into(),
        license_declared: spdx_expression(&package.licenses),
        copyright_text: "NOASSERTION".into(),
        description: package.description.clone(),
        primary_package_purpose: Some(purpose.into()),
        comment: comment.map(|kind| {
            format!("{kind} (the CycloneDX 1.5 component type; SPDX 2.3 has no such purpose)")
        }),
        external_refs: package
            .purl
            .iter()
            .map(|purl| SpdxExternalRef {
                reference_category: "PACKAGE-MANAGER".into(),
                reference_type: "purl".into(),
                reference_locator: purl.clone(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxDocument {
    spdx_version: String,
    data_license: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    document_namespace: String,
    creation_info: SpdxCreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<SpdxRelationship>,
}

#[derive(Serialize)]
struct SpdxCreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<String>,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<SpdxChecksum>,
    license_concluded: String,
    license_declared: String,
    copyright_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<SpdxExternalRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxChecksum {
    algorithm: String,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::struct_field_names)] // the SPDX field names
struct SpdxExternalRef {
    reference_category: String,
    reference_type: String,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

/// A UUID (version 5 layout, RFC 4122 variant) from the first 16 bytes of a hash.
fn uuid_from_hash(hash: &[u8; 32]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// `YYYY-MM-DDThh:mm:ssZ` for seconds since the Unix epoch (UTC).
#[must_use]
pub fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sbom {
        Sbom::new()
            .package(
                Package::new("flask")
                    .version("3.0.3")
                    .purl("pkg:pypi/flask@3.0.3")
                    .license("BSD-3-Clause")
                    .sha256("AB".repeat(32)),
            )
            .package(Package::new("thing").license("MIT OR Apache-2.0"))
            .created_at(DEFAULT_EPOCH)
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(DEFAULT_EPOCH), "1980-01-01T00:00:01Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn output_is_deterministic_and_content_addressed() {
        let a = sample().to_cyclonedx_json("x").unwrap();
        assert_eq!(a, sample().to_cyclonedx_json("x").unwrap());
        let other = sample()
            .package(Package::new("more"))
            .to_cyclonedx_json("x")
            .unwrap();
        assert_ne!(a, other);
        let a = sample().to_spdx_json("x").unwrap();
        assert_eq!(a, sample().to_spdx_json("x").unwrap());
        let text = String::from_utf8(a).unwrap();
        assert!(
            text.contains("\"created\": \"1980-01-01T00:00:01Z\""),
            "{text}"
        );
        assert!(
            text.contains("\"licenseDeclared\": \"MIT OR Apache-2.0\""),
            "{text}"
        );
        let later = sample()
            .created_at(DEFAULT_EPOCH + 1)
            .to_spdx_json("x")
            .unwrap();
        assert_ne!(text.as_bytes(), later.as_slice());
    }

    #[test]
    fn syft_is_not_generated() {
        assert!(matches!(
            sample().to_json(SbomFormat::SyftJson, "x"),
            Err(SbomError::UnsupportedFormat { .. })
        ));
    }

    #[test]
    fn uuid_layout() {
        let u = uuid_from_hash(&[0xff; 32]);
        assert_eq!(u, "ffffffff-ffff-5fff-bfff-ffffffffffff");
    }
}
