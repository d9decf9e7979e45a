//! Structure-aware round trips: the fuzzer builds values of the `libbuildpack::data` types (any
//! strings, floats and nested metadata tables), and each must write as text that reads back as
//! the same value. Values that only a writer makes (a reader would never see them) are covered
//! here, which `data_toml` cannot reach.
#![no_main]

use std::path::{Path, PathBuf};

use arbitrary::Arbitrary;
use libbuildpack::data::{
    ApiVersion, BuildPlan, BuildpackDescriptor, BuildpackId, BuildpackInfo, BuildpackPlan,
    BuildpackVersion, EnvVarName, ExecDOutput, Label, LaunchProcess, LaunchToml, LayerToml,
    LayerTypes, PlanAlternative, PlanEntry, ProcessType, Provide, Require, Slice, StoreToml,
    Target,
};
use libbuildpack_fuzz::{TomlValue, assert_round_trip, table};
use libfuzzer_sys::fuzz_target;

const PATH: &str = "fuzz.toml";
const DEPTH: usize = 4;

type Entries = Vec<(String, TomlValue)>;

#[derive(Debug, Arbitrary)]
enum Input {
    ExecD(Vec<(String, String)>),
    Layer {
        types: Option<(bool, bool, bool)>,
        metadata: Option<Entries>,
    },
    Store(Entries),
    Plan {
        provides: Vec<String>,
        requires: Vec<(String, Entries)>,
        or: Vec<(Vec<String>, Vec<(String, Entries)>)>,
    },
    BuildpackPlan(Vec<(String, Entries)>),
    Launch {
        processes: Vec<Process>,
        labels: Vec<(String, String)>,
        slices: Vec<Vec<String>>,
    },
    Buildpack {
        api: (u64, u64),
        id: String,
        version: (u32, u32, u32),
        name: Option<String>,
        keywords: Vec<String>,
        exec_env: Vec<String>,
        targets: Vec<(Option<String>, Option<String>, Option<String>)>,
        metadata: Option<Entries>,
    },
}

#[derive(Debug, Arbitrary)]
struct Process {
    kind: String,
    command: Vec<String>,
    args: Vec<String>,
    default: bool,
    working_dir: Option<String>,
    exec_env: Vec<String>,
}

fn requires(list: &[(String, Entries)]) -> Vec<Require> {
    list.iter()
        .map(|(name, metadata)| Require {
            name: name.clone(),
            metadata: table(metadata, DEPTH),
        })
        .collect()
}

fn provides(list: &[String]) -> Vec<Provide> {
    list.iter().map(Provide::new).collect()
}

fn check_launch(processes: &[Process], labels: &[(String, String)], slices: &[Vec<String>]) {
    let launch = LaunchToml {
        processes: processes
            .iter()
            .filter_map(|p| {
                Some(LaunchProcess {
                    kind: ProcessType::new(p.kind.clone()).ok()?,
                    command: p.command.clone(),
                    args: p.args.clone(),
                    default: p.default,
                    working_dir: p.working_dir.as_ref().map(PathBuf::from),
                    exec_env: p.exec_env.clone(),
                })
            })
            .collect(),
        labels: labels
            .iter()
            .map(|(key, value)| Label {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        slices: slices
            .iter()
            .map(|paths| Slice {
                paths: paths.clone(),
            })
            .collect(),
    };
    let _ = launch.validate(Path::new(PATH));
    assert_round_trip(&launch, LaunchToml::to_toml_string, |t| {
        LaunchToml::from_toml_str(t, PATH)
    });
}

fn check_buildpack(input: &Input) {
    let Input::Buildpack {
        api,
        id,
        version,
        name,
        keywords,
        exec_env,
        targets,
        metadata,
    } = input
    else {
        return;
    };
    let Ok(id) = BuildpackId::new(id.clone()) else {
        return;
    };
    let version = BuildpackVersion::new(format!("{}.{}.{}", version.0, version.1, version.2))
        .expect("three integers make a version");
    let mut info = BuildpackInfo::new(id, version);
    info.name.clone_from(name);
    info.keywords.clone_from(keywords);
    info.exec_env.clone_from(exec_env);
    let descriptor = BuildpackDescriptor {
        api: ApiVersion::new(api.0, api.1),
        buildpack: info,
        targets: targets
            .iter()
            .map(|(os, arch, variant)| Target {
                os: os.clone(),
                arch: arch.clone(),
                variant: variant.clone(),
                distros: Vec::new(),
            })
            .collect(),
        stacks: Vec::new(),
        order: Vec::new(),
        metadata: metadata.as_ref().map(|m| table(m, DEPTH)),
    };
    assert_round_trip(&descriptor, BuildpackDescriptor::to_toml_string, |t| {
        BuildpackDescriptor::from_toml_str(t, PATH)
    });
}

fuzz_target!(|input: Input| {
    match &input {
        Input::ExecD(vars) => {
            let mut out = ExecDOutput::default();
            for (name, value) in vars {
                if let Ok(name) = EnvVarName::new(name.clone()) {
                    out.set(name, value.clone());
                }
            }
            assert_round_trip(
                &out,
                |o| Ok::<_, ()>(o.to_toml_string()),
                ExecDOutput::from_toml_str,
            );
        }
        Input::Layer { types, metadata } => {
            let layer = LayerToml {
                types: types.map(|(launch, build, cache)| LayerTypes {
                    launch,
                    build,
                    cache,
                }),
                metadata: metadata.as_ref().map(|m| table(m, DEPTH)),
            };
            assert_round_trip(&layer, LayerToml::to_toml_string, |t| {
                LayerToml::from_toml_str(t, PATH)
            });
        }
        Input::Store(metadata) => {
            let store = StoreToml {
                metadata: table(metadata, DEPTH),
            };
            assert_round_trip(&store, StoreToml::to_toml_string, |t| {
                StoreToml::from_toml_str(t, PATH)
            });
        }
        Input::Plan {
            provides: p,
            requires: r,
            or,
        } => {
            let plan = BuildPlan {
                provides: provides(p),
                requires: requires(r),
                or: or
                    .iter()
                    .map(|(p, r)| PlanAlternative {
                        provides: provides(p),
                        requires: requires(r),
                    })
                    .collect(),
            };
            assert_round_trip(&plan, BuildPlan::to_toml_string, |t| {
                BuildPlan::from_toml_str(t, PATH)
            });
        }
        Input::BuildpackPlan(entries) => {
            let plan = BuildpackPlan {
                entries: entries
                    .iter()
                    .map(|(name, metadata)| PlanEntry {
                        name: name.clone(),
                        metadata: table(metadata, DEPTH),
                    })
                    .collect(),
            };
            assert_round_trip(&plan, BuildpackPlan::to_toml_string, |t| {
                BuildpackPlan::from_toml_str(t, PATH)
            });
        }
        Input::Launch {
            processes,
            labels,
            slices,
        } => check_launch(processes, labels, slices),
        Input::Buildpack { .. } => check_buildpack(&input),
    }
});
