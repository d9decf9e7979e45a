//! Choosing framework packages for an accelerator. Pure functions, so every GPU variant is
//! covered by unit tests without a GPU.

use std::fmt;

use python_sbom::python::normalize;

/// The hardware the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Accelerator {
    /// CPU only.
    Cpu,
    /// NVIDIA GPUs with CUDA 12.
    Cuda,
    /// AMD GPUs with `ROCm`.
    Rocm,
}

/// An accelerator name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown accelerator {0:?} (from {1}); use one of: cpu, cuda, rocm")]
pub struct UnknownAccelerator(pub String, pub &'static str);

impl Accelerator {
    /// Parses `cpu`, `cuda` (also `gpu`, `cuda12`) or `rocm`, in any case.
    ///
    /// # Errors
    ///
    /// [`UnknownAccelerator`] naming `source` (where the value came from).
    pub fn parse(value: &str, source: &'static str) -> Result<Self, UnknownAccelerator> {
        match value.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "cuda12" | "gpu" => Ok(Self::Cuda),
            "rocm" => Ok(Self::Rocm),
            _ => Err(UnknownAccelerator(value.trim().to_string(), source)),
        }
    }

    /// The lower-case name, as used in labels, keys and uv extras.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::Rocm => "rocm",
        }
    }
}

impl fmt::Display for Accelerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One app requirement: its normalised name and the rest of the line after the name and extras
/// (the version specifier and markers), e.g. `==1.20.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// PEP 503 name.
    pub name: String,
    /// Specifier and markers, kept for the variant.
    pub spec: String,
}

impl Requirement {
    /// Parses a requirements.txt line; `None` for comments, options and paths.
    #[must_use]
    pub fn parse(line: &str) -> Option<Self> {
        let line = line.split(" #").next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with(['#', '-', '.', '/']) || line.contains("://") {
            return None;
        }
        let end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(line.len());
        let mut rest = line[end..].trim_start();
        if rest.starts_with('[') {
            rest = rest.find(']').map_or("", |i| &rest[i + 1..]).trim_start();
        }
        let name = normalize(&line[..end]);
        (!name.is_empty()).then(|| Self {
            name,
            spec: rest.to_string(),
        })
    }
}

/// The frameworks this buildpack knows, by the names apps list them under.
pub const FRAMEWORKS: [&str; 13] = [
    "torch",
    "tensorflow",
    "tensorflow-cpu",
    "jax",
    "onnxruntime",
    "onnxruntime-gpu",
    "scikit-learn",
    "xgboost",
    "xgboost-cpu",
    "lightgbm",
    "transformers",
    "keras",
    "catboost",
];

/// What to ask pip for: packages to add, app requirements they replace, and notes for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Requirement lines to add.
    pub packages: Vec<String>,
    /// Names of app requirements to drop.
    pub replaces: Vec<String>,
    /// What was chosen or could not be, in words.
    pub notes: Vec<String>,
}

impl Selection {
    fn swap(&mut self, from: &Requirement, to: &str) {
        self.packages.push(format!("{to}{}", from.spec));
        self.replaces.push(from.name.clone());
        self.notes.push(format!("{} → {to}", from.name));
    }
}

/// Chooses the variant packages for `accelerator` on the OCI architecture `arch` (`amd64`, `arm64`) given the
/// app's ML requirements. On arm64 the package index has fewer variants: see [`select_arm64`].
#[must_use]
pub fn select(requirements: &[Requirement], accelerator: Accelerator, arch: &str) -> Selection {
    if arch == "arm64" {
        return select_arm64(requirements, accelerator);
    }
    select_amd64(requirements, accelerator)
}

/// The linux/arm64 table, from what the package index has for `manylinux_*_aarch64` (checked with
/// `pip install --dry-run --only-binary=:all: --platform manylinux_2_28_aarch64`): no `tensorflow-cpu` and no
/// `onnxruntime-gpu` wheels (`tensorflow` and `onnxruntime` are there, as CPU builds), `xgboost-cpu` and
/// `jax-cuda12-plugin` are there; torch's default aarch64 wheels are CPU builds; nothing is built for `ROCm`.
/// Requirements with no arm64 rule get the amd64 one.
fn select_arm64(requirements: &[Requirement], accelerator: Accelerator) -> Selection {
    use Accelerator::{Cpu, Cuda, Rocm};
    let mut selection = Selection::default();
    let mut rest = Vec::new();
    for requirement in requirements {
        let name = requirement.name.as_str();
        match (name, accelerator) {
            // tensorflow's and torch's aarch64 wheels are CPU builds already.
            ("tensorflow" | "torch", Cpu) => {}
            ("tensorflow-cpu", _) => selection.swap(requirement, "tensorflow"),
            ("tensorflow", Cuda) => selection.notes.push(
                "tensorflow: its linux/arm64 wheels are CPU builds; kept (for CUDA use NVIDIA's TensorFlow container wheels)"
                    .to_owned(),
            ),
            ("onnxruntime-gpu", _) => {
                selection.swap(requirement, "onnxruntime");
                selection
                    .notes
                    .push("onnxruntime-gpu has no linux/arm64 wheels on the package index".to_owned());
            }
            ("onnxruntime", Cuda) => selection.notes.push(
                "onnxruntime: onnxruntime-gpu has no linux/arm64 wheels on the package index; kept the CPU build"
                    .to_owned(),
            ),
            ("torch", Cuda) => selection.notes.push(
                "torch: its default linux/arm64 wheels are CPU builds; for CUDA add PyTorch's cu12x index as an extra index (PIP_EXTRA_INDEX_URL)"
                    .to_owned(),
            ),
            (
                "torch" | "tensorflow" | "jax" | "onnxruntime" | "xgboost" | "xgboost-cpu" | "lightgbm",
                Rocm,
            ) => selection.notes.push(format!(
                "{name}: there are no ROCm builds for linux/arm64; the CPU build is used"
            )),
            _ => rest.push(requirement.clone()),
        }
    }
    let amd64 = select_amd64(&rest, accelerator);
    selection.packages.extend(amd64.packages);
    selection.replaces.extend(amd64.replaces);
    selection.notes.extend(amd64.notes);
    selection
}

fn select_amd64(requirements: &[Requirement], accelerator: Accelerator) -> Selection {
    use Accelerator::{Cpu, Cuda, Rocm};
    let mut selection = Selection::default();
    for requirement in requirements {
        match (requirement.name.as_str(), accelerator) {
            ("onnxruntime", Cuda) => selection.swap(requirement, "onnxruntime-gpu"),
            ("onnxruntime-gpu", Cpu) => selection.swap(requirement, "onnxruntime"),
            ("tensorflow", Cpu) => selection.swap(requirement, "tensorflow-cpu"),
            ("tensorflow" | "tensorflow-cpu", Cuda) => {
                selection.swap(requirement, "tensorflow[and-cuda]");
            }
            ("tensorflow-cpu" | "onnxruntime" | "onnxruntime-gpu" | "jax", Rocm) => {
                selection.notes.push(format!(
                    "{}: no ROCm build on the package index; install a vendor wheel and declare it in requirements.txt",
                    requirement.name
                ));
            }
            ("jax", Cuda) => selection.swap(requirement, "jax[cuda12]"),
            ("xgboost", Cpu) => selection.swap(requirement, "xgboost-cpu"),
            ("xgboost-cpu", Cuda | Rocm) => selection.swap(requirement, "xgboost"),
            ("torch", Cpu | Rocm) => selection.notes.push(format!(
                "torch: the default wheels bundle CUDA; for {accelerator}-only wheels add PyTorch's {accelerator} index as an extra index (PIP_EXTRA_INDEX_URL)"
            )),
            _ => {}
        }
    }
    selection
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reqs(lines: &str) -> Vec<Requirement> {
        lines.lines().filter_map(Requirement::parse).collect()
    }

    #[test]
    fn parses_accelerators() {
        assert_eq!(
            Accelerator::parse(" CUDA\n", "hardware.txt"),
            Ok(Accelerator::Cuda)
        );
        assert_eq!(Accelerator::parse("gpu", "x"), Ok(Accelerator::Cuda));
        assert_eq!(Accelerator::parse("rocm", "x"), Ok(Accelerator::Rocm));
        let err = Accelerator::parse("tpu", "BP_ML_ACCELERATOR").unwrap_err();
        assert!(err.to_string().contains("use one of: cpu, cuda, rocm"));
    }

    #[test]
    fn parses_requirements_keeping_specs() {
        assert_eq!(
            Requirement::parse("ONNXRuntime==1.20.1 ; python_version >= '3.10'"),
            Some(Requirement {
                name: "onnxruntime".into(),
                spec: "==1.20.1 ; python_version >= '3.10'".into()
            })
        );
        assert_eq!(Requirement::parse("jax[cpu]>=0.4").unwrap().spec, ">=0.4");
        assert_eq!(Requirement::parse("-r base.txt"), None);
    }

    #[test]
    fn cuda_variants() {
        let selection = select(
            &reqs(
                "onnxruntime==1.20.1\njax==0.4.35\ntensorflow==2.18.0\nxgboost==2.1.3\ntorch==2.5.1\nscikit-learn==1.5.2\n",
            ),
            Accelerator::Cuda,
            "amd64",
        );
        assert_eq!(
            selection.packages,
            [
                "onnxruntime-gpu==1.20.1",
                "jax[cuda12]==0.4.35",
                "tensorflow[and-cuda]==2.18.0"
            ]
        );
        assert_eq!(selection.replaces, ["onnxruntime", "jax", "tensorflow"]);
    }

    #[test]
    fn cpu_variants() {
        let selection = select(
            &reqs("onnxruntime-gpu>=1.19\ntensorflow\nxgboost==2.1.3\njax\ntorch\n"),
            Accelerator::Cpu,
            "amd64",
        );
        assert_eq!(
            selection.packages,
            ["onnxruntime>=1.19", "tensorflow-cpu", "xgboost-cpu==2.1.3"]
        );
        assert_eq!(
            selection.replaces,
            ["onnxruntime-gpu", "tensorflow", "xgboost"]
        );
        assert!(selection.notes.iter().any(|n| n.starts_with("torch: ")));
    }

    #[test]
    fn rocm_notes_what_has_no_variant() {
        let selection = select(
            &reqs("onnxruntime\nxgboost-cpu\n"),
            Accelerator::Rocm,
            "amd64",
        );
        assert_eq!(selection.packages, ["xgboost"]);
        assert!(selection.notes[0].starts_with("onnxruntime: no ROCm build"));
    }

    #[test]
    fn arm64_keeps_to_the_wheels_the_index_has_for_aarch64() {
        let lines =
            "onnxruntime==1.20.1\njax==0.4.35\ntensorflow==2.18.0\nxgboost==2.1.3\ntorch==2.5.1\n";
        let cuda = select(&reqs(lines), Accelerator::Cuda, "arm64");
        // onnxruntime-gpu and a CUDA tensorflow have no aarch64 wheels: kept, with a note saying so.
        assert_eq!(cuda.packages, ["jax[cuda12]==0.4.35"]);
        assert_eq!(cuda.replaces, ["jax"]);
        assert!(
            cuda.notes.iter().any(|n| n.starts_with("onnxruntime:")),
            "{:?}",
            cuda.notes
        );
        assert!(
            cuda.notes.iter().any(|n| n.starts_with("tensorflow:")),
            "{:?}",
            cuda.notes
        );
        assert!(
            cuda.notes
                .iter()
                .any(|n| n.starts_with("torch:") && n.contains("cu12x"))
        );

        let cpu = select(
            &reqs(
                "tensorflow==2.18.0\ntensorflow-cpu==2.18.0\nonnxruntime-gpu>=1.19\nxgboost==2.1.3\ntorch\n",
            ),
            Accelerator::Cpu,
            "arm64",
        );
        // No tensorflow-cpu for aarch64: tensorflow is the CPU build there; xgboost-cpu exists.
        assert_eq!(
            cpu.packages,
            [
                "tensorflow==2.18.0",
                "onnxruntime>=1.19",
                "xgboost-cpu==2.1.3"
            ]
        );
        assert_eq!(
            cpu.replaces,
            ["tensorflow-cpu", "onnxruntime-gpu", "xgboost"]
        );
        assert!(
            !cpu.notes.iter().any(|n| n.starts_with("torch:")),
            "{:?}",
            cpu.notes
        );

        let rocm = select(&reqs("torch\nscikit-learn\n"), Accelerator::Rocm, "arm64");
        assert_eq!(rocm.packages, Vec::<String>::new());
        assert_eq!(rocm.notes.len(), 1, "{:?}", rocm.notes);
        assert!(rocm.notes[0].starts_with("torch: there are no ROCm builds for linux/arm64"));
    }

    #[test]
    fn nothing_to_swap_for_plain_cpu_apps() {
        assert_eq!(
            select(&reqs("scikit-learn==1.5.2\n"), Accelerator::Cpu, "amd64"),
            Selection::default()
        );
    }
}
