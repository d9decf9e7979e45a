//! The conversion of the three scripts the issue names: its own (uv from its install script), the one of
//! `examples/inline-uv`, and one with steps rpack does not recognise. What each step becomes is asserted; the
//! generated code is snapshotted (`rpack/tests/from_inline.rs` compiles and runs one such crate for real).

use std::path::{Path, PathBuf};

use super::generate::{self, Source};
use super::parse::{self, Part};
use super::steps::{self, KeyField, Plan, StepKind, UvSource};

fn fixture(case: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match case {
        "inline-uv" => root.join("../examples/inline-uv/project.toml"),
        other => root
            .join("tests/fixtures/from-inline")
            .join(other)
            .join("project.toml"),
    }
}

fn plan_of(case: &str) -> Plan {
    let path = fixture(case);
    let project = libbuildpack::data::ProjectToml::read(&path).unwrap();
    let script = project.io_buildpacks.unwrap().group[0]
        .script
        .clone()
        .unwrap();
    let parsed = parse::parse(&script.inline).unwrap();
    steps::plan(&parsed, script.shell(), path.parent().unwrap())
}

fn kinds(plan: &Plan) -> Vec<(usize, StepKind)> {
    plan.steps
        .iter()
        .map(|s| (s.line, s.kind.clone()))
        .collect()
}

fn source(name: &str, id: &str) -> Source {
    Source {
        name: name.to_owned(),
        id: id.to_owned(),
        api: "0.10".to_owned(),
        project_toml: "app/project.toml".to_owned(),
        inline_id: id.to_owned(),
        app_from_integration: "../../app".to_owned(),
        crate_in_app: None,
        libbuildpack: "{ path = \"[SDK]/libbuildpack\" }".to_owned(),
        libbuildpack_testing: "{ path = \"[SDK]/libbuildpack\", features = [\"testing\"] }"
            .to_owned(),
        harness: "{ path = \"[SDK]/libbuildpack-test\" }".to_owned(),
        uri: format!("../{name}"),
        dev_profiles: generate::dev_profiles(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))),
    }
}

fn file(files: &[(String, String)], name: &str) -> String {
    files.iter().find(|(n, _)| n == name).map_or_else(
        || {
            panic!(
                "no {name} among {:?}",
                files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        },
        |(_, text)| text.clone(),
    )
}

#[test]
fn the_issue_script_installs_the_pinned_uv_instead_of_piping_the_install_script() {
    let plan = plan_of("issue");
    let got = kinds(&plan);
    assert!(matches!(
        &got[0],
        (2, StepKind::InstallUv { source: UvSource::InstallScript { url }, asked: None }) if url.ends_with("/uv/install.sh")
    ));
    assert!(matches!(&got[1], (3, StepKind::UvPlumbing { .. })));
    assert!(
        matches!(&got[2], (4, StepKind::UvSync { layer, args, .. }) if layer == "venv" && args.is_empty())
    );
    let venv = plan.layer("venv").unwrap();
    assert!(venv.launch && !venv.cache);
    assert_eq!(
        venv.key,
        [
            KeyField::File("uv.lock".into()),
            KeyField::File("pyproject.toml".into()),
            KeyField::Python,
            KeyField::Uv
        ]
    );
    let files = generate::formatted(generate::files(&plan, &source("uv-rust", "uv-buildpack")));
    let main = file(&files, "src/main.rs");
    // Nothing of the install script is left: no curl, no copy of uv, only the pinned uv from its layer.
    assert!(!main.contains("ctx.run(&mut script"), "{main}");
    insta::assert_snapshot!("issue_main_rs", main);
    insta::assert_snapshot!("issue_uv_rs", file(&files, "src/uv.rs"));
    insta::assert_snapshot!("issue_inputs_rs", file(&files, "src/inputs.rs"));
    insta::assert_snapshot!("issue_cargo_toml", file(&files, "Cargo.toml"));
}

#[test]
fn the_uv_pin_is_the_uv_buildpacks() {
    let files = generate::files(&plan_of("issue"), &source("uv-rust", "uv-buildpack"));
    let uv = file(&files, "src/uv.rs");
    let pin = include_str!("../../../../buildpacks/uv/src/uv/pin.rs");
    assert!(pin.contains(&format!("VERSION: &str = {:?}", super::uv_pin::VERSION)));
    assert!(uv.contains(&format!("VERSION: &str = {:?}", super::uv_pin::VERSION)));
    for (arch, sha) in super::uv_pin::WHEEL_SHA256 {
        assert!(uv.contains(&format!("({arch:?}, {sha:?})")), "{uv}");
    }
}

#[test]
fn the_inline_uv_example_keeps_its_layers_env_and_process() {
    let plan = plan_of("inline-uv");
    let got = kinds(&plan);
    let at = |line: usize| &got.iter().find(|(l, _)| *l == line).unwrap().1;
    assert!(matches!(at(1), StepKind::ShellOptions));
    assert!(matches!(at(4), StepKind::UvPlumbing { .. }), "{:?}", at(4));
    assert!(matches!(
        at(5),
        StepKind::InstallUv { source: UvSource::Pip, asked: Some(v) } if v == "0.9.5"
    ));
    assert!(matches!(
        at(6),
        StepKind::UvSync { layer, args, env } if layer == "venv" && args == &["--no-dev"] && env.len() == 2
    ));
    assert!(matches!(
        at(7),
        StepKind::LayerCommand { layer, inputs } if layer == "venv" && inputs == &[KeyField::Env("GREETING".into())]
    ));
    assert!(matches!(at(8), StepKind::LayerTypes { layer } if layer == "venv"));
    let StepKind::Processes { processes } = at(9) else {
        panic!("{:?}", at(9));
    };
    assert_eq!(processes[0].kind, "web");
    assert!(processes[0].default);
    assert_eq!(
        processes[0].command[2],
        [
            Part::Lit("exec ".into()),
            Part::Var("CNB_LAYERS_DIR".into()),
            Part::Lit("/venv/bin/python app.py".into())
        ]
    );
    // `tools` only held uv: no layer of its own.
    assert_eq!(
        plan.layers
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>(),
        ["venv"]
    );
    assert!(
        plan.layer("venv")
            .unwrap()
            .key
            .contains(&KeyField::Env("GREETING".into()))
    );

    let files = generate::formatted(generate::files(
        &plan,
        &source("inline-uv-rust", "example/inline-uv"),
    ));
    insta::assert_snapshot!("inline_uv_main_rs", file(&files, "src/main.rs"));
    insta::assert_snapshot!(
        "inline_uv_rebuild_rs",
        file(&files, "integration/tests/rebuild.rs")
    );
}

#[test]
fn unrecognised_steps_run_as_written_in_the_layer_they_write_or_on_every_build() {
    let plan = plan_of("mixed");
    let got = kinds(&plan);
    let at = |line: usize| &got.iter().find(|(l, _)| *l == line).unwrap().1;
    assert!(matches!(at(2), StepKind::Export { name, .. } if name == "APP_ENV"));
    assert!(
        matches!(at(4), StepKind::PipInstall { layer, files, .. } if layer == "venv" && files == &["requirements.txt"])
    );
    // `cp scripts/tool.sh "$tools/bin/tool"` writes into `tools`: it runs there, keyed on the file it copies.
    assert!(matches!(
        at(7),
        StepKind::LayerCommand { layer, inputs } if layer == "tools" && inputs == &[KeyField::File("scripts/tool.sh".into())]
    ));
    assert!(
        matches!(at(9), StepKind::LayerEnv { layer, name, .. } if layer == "tools" && name == "MODE")
    );
    // A Django command and an `if` write nowhere rpack can see: they run on every build.
    assert!(
        matches!(at(10), StepKind::Command { inputs } if inputs == &[KeyField::File("manage.py".into())])
    );
    assert!(matches!(at(11), StepKind::Command { .. }));
    let tools = plan.layer("tools").unwrap();
    assert!(tools.launch && tools.cache && !tools.build);
    // The venv is read by the later steps (`python3 manage.py`): cached, so its files are there for them.
    assert!(plan.layer("venv").unwrap().cache);

    let files = generate::formatted(generate::files(&plan, &source("mixed", "acme/mixed")));
    insta::assert_snapshot!("mixed_main_rs", file(&files, "src/main.rs"));
}

#[test]
fn other_ways_to_get_uv_and_install_packages() {
    let script = "wget -qO- https://example.test/uv/0.8.0/install.sh | bash\n\
                  export PATH=\"$HOME/.local/bin:$PATH\"\n\
                  uv pip install -r requirements.txt\n\
                  curl -L -o uv.tar.gz https://github.com/astral-sh/uv/releases/download/0.9.5/uv-x86_64-unknown-linux-gnu.tar.gz\n\
                  tar -xzf uv.tar.gz\n\
                  cd web\n\
                  npm ci\n\
                  ./uv run python3 manage.py migrate\n";
    let plan = steps::plan(
        &parse::parse(script).unwrap(),
        "/bin/sh",
        Path::new("/nonexistent"),
    );
    let got = kinds(&plan);
    assert!(matches!(&got[0].1, StepKind::InstallUv { asked: Some(v), .. } if v == "0.8.0"));
    assert!(
        matches!(&got[1].1, StepKind::UvPlumbing { .. }),
        "{:?}",
        got[1]
    );
    assert!(matches!(
        &got[2].1,
        StepKind::PipInstall { via_uv: true, .. }
    ));
    assert!(matches!(
        &got[3].1,
        StepKind::InstallUv {
            source: UvSource::Download { .. },
            ..
        }
    ));
    assert!(
        matches!(&got[4].1, StepKind::UvPlumbing { .. }),
        "{:?}",
        got[4]
    );
    assert!(matches!(&got[5].1, StepKind::ChangeDir { dir } if dir == "web"));
    assert!(
        matches!(&got[6].1, StepKind::NodeInstall { lock, .. } if lock == "web/package-lock.json")
    );
    assert_eq!(
        plan.detect_files(),
        ["requirements.txt", "web/package.json"]
    );
    // Asking for another uv than the pin says how to keep it.
    let main = file(
        &generate::files(&plan, &source("tools", "acme/tools")),
        "src/main.rs",
    );
    assert!(main.contains("The script asked for uv 0.8.0"), "{main}");
}

#[test]
fn group_picks_one_of_several_inline_scripts() {
    let text = "[[io.buildpacks.group]]\nid = \"a/one\"\n[io.buildpacks.group.script]\napi = \"0.10\"\ninline = \"true\"\n\
                [[io.buildpacks.group]]\nid = \"a/two\"\n[io.buildpacks.group.script]\napi = \"0.10\"\ninline = \"uv sync\"\n";
    let project = libbuildpack::data::ProjectToml::from_toml_str(text, "project.toml").unwrap();
    let path = Path::new("project.toml");
    let err = super::pick(path, &project, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "project.toml has several inline buildpacks (a/one, a/two): say which with --group"
    );
    let (index, id, script) = super::pick(path, &project, Some("a/two")).unwrap();
    assert_eq!(
        (index, id.as_str(), script.inline.as_str()),
        (1, "a/two", "uv sync")
    );
    assert!(matches!(
        super::pick(path, &project, Some("a/three")),
        Err(super::InlineError::NoSuchGroup { .. })
    ));
}
