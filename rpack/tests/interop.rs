#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed step should stop the test with its message
//! Issue 16: our builder and buildpacks on the platforms users already run, each case ending with the built
//! image answering HTTP on 127.0.0.1. One builder (the tiny stack and a shell buildpack serving `hello.txt`,
//! packaged as a `.cnb`) is published once with `rpack builder create --publish` to one loopback registry,
//! and one podman Docker-compatible service serves every case, so the suite stays cheap; each case's time is
//! printed. The commands come from docs/platforms.md (the blocks marked `<!-- interop: NAME -->`), with the
//! loopback registry in place of `registry.example.com/team`.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use libbuildpack_test::Registry;
use rpack::oci::{Image, LayerWriter, Layout};
use support::platforms::{
    Podman, Service, free_port, http_get, pack_ok, perl_hello_server_build, registries_conf,
    skopeo_inspect,
};
use support::{rpack_ok, write, write_executable};

/// The doc whose recipes the cases run.
const DOC: &str = include_str!("../../docs/platforms.md");

/// The registry and namespace the doc's recipes use.
const DOC_REGISTRY: &str = "registry.example.com/team";

/// What the app serves.
const GREETING: &str = "hello from an rpack builder\n";

/// The code block after `<!-- interop: NAME -->` in docs/platforms.md, with the loopback registry in place of
/// the doc's.
fn doc_block(name: &str, registry: &str) -> String {
    let marker = format!("<!-- interop: {name} -->");
    let start = DOC
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/platforms.md has no {marker}"));
    let rest = &DOC[start + marker.len()..];
    let fence = rest.find("```").unwrap();
    let body = &rest[fence..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let end = body.find("```").unwrap();
    body[..end].replace(DOC_REGISTRY, registry)
}

/// The words of a one-line command from the doc.
fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

/// Everything the cases share.
struct Suite {
    dir: PathBuf,
    registry: Registry,
    /// `127.0.0.1:<port>/interop`: the doc's `registry.example.com/team`.
    namespace: String,
    podman: Podman,
    service: Service,
    builder: String,
    run_image: String,
    hello_cnb: PathBuf,
    /// Images the suite put into rpack's store, removed at the end.
    stored: Vec<String>,
    volumes_before: Vec<String>,
}

impl Suite {
    fn start(dir: &Path) -> Self {
        let registry = Registry::start().unwrap();
        let namespace = format!("{}/interop", registry.host());
        let podman = Podman::new(registries_conf(dir, &registry.host()));
        let service = podman.service(dir);
        let volumes_before = volumes(&podman);
        // No `rpack stack create`: publishing makes the tiny stack when the store lacks it, and reuses it
        // without resolving its packages again (which takes half a minute) when the store has it.

        // Our buildpack as a .cnb, and the builder made of it.
        let bp = dir.join("hello-bp");
        write(
            &bp.join("buildpack.toml"),
            "api = \"0.10\"\n[buildpack]\nid = \"interop/hello\"\nversion = \"0.1.0\"\nname = \"Interop Hello\"\n\
             [[targets]]\nos = \"linux\"\narch = \"amd64\"\n",
        );
        // The shell buildpack: passes detection when the app has `hello.txt`, and serves it.
        write_executable(&bp.join("bin/detect"), "#!/bin/sh\ntest -f hello.txt\n");
        write_executable(
            &bp.join("bin/build"),
            &perl_hello_server_build(r#"echo "---> Interop Hello""#, ""),
        );
        let hello_cnb = dir.join("hello.cnb");
        rpack_ok(&[
            "buildpack",
            "package",
            "--path",
            bp.to_str().unwrap(),
            "-o",
            hello_cnb.to_str().unwrap(),
        ]);
        write(
            &dir.join("builder.toml"),
            &format!(
                "description = \"rpack interop\"\n[[buildpacks]]\nuri = \"{}\"\n[[order]]\n[[order.group]]\nid = \"interop/hello\"\n\
                 [build]\nimage = \"localhost/rpack/tiny-build:latest\"\n[[run.images]]\nimage = \"localhost/rpack/tiny-run:latest\"\n",
                hello_cnb.display()
            ),
        );
        write(&dir.join("app/hello.txt"), GREETING);

        // The doc's publish command, with this builder.toml.
        let mut publish = words(doc_block("publish", &namespace).trim());
        assert_eq!(publish[0], "rpack");
        let config = publish.iter().position(|w| w == "--config").unwrap() + 1;
        publish[config] = dir.join("builder.toml").display().to_string();
        let args: Vec<&str> = publish[1..].iter().map(String::as_str).collect();
        rpack_ok(&args);
        let builder = format!("{namespace}/builder:latest");
        let run_image = format!("{namespace}/tiny-run:latest");
        let mut stored = vec![
            builder.clone(),
            run_image.clone(),
            format!("{namespace}/tiny-build:latest"),
        ];

        // Our buildpack as an image (kpack's store takes buildpacks as images).
        let hello_image = format!("{namespace}/hello-buildpack:0.1.0");
        rpack_ok(&["image", "import", hello_cnb.to_str().unwrap(), &hello_image]);
        rpack_ok(&["push", &hello_image]);
        stored.push(hello_image);

        lifecycle_image(dir, &format!("{namespace}/lifecycle:0.21.17"));
        Self {
            dir: dir.to_owned(),
            registry,
            namespace,
            podman,
            service,
            builder,
            run_image,
            hello_cnb,
            stored,
            volumes_before,
        }
    }

    fn app(&self) -> String {
        format!("{}/app:latest", self.namespace)
    }

    /// Runs pack (with its own home, and the podman service as its daemon); asserts it succeeded and returns
    /// its output.
    #[track_caller]
    fn pack(&self, args: &[String]) -> String {
        pack_ok(&self.dir, &self.service.docker_host(), args)
    }

    /// Runs the doc's pack command `name`.
    fn pack_recipe(&self, name: &str) -> String {
        let command = words(doc_block(name, &self.namespace).trim());
        assert_eq!(command[0], "pack", "{name}");
        self.pack(&command[1..])
    }

    /// Starts `image` with podman (host network, `PORT` set), asserts it answers `GET /` with the greeting,
    /// and removes it. `pull`: fetch the image from the registry first even when podman has one by that name.
    #[track_caller]
    fn serves(&self, image: &str, pull: bool) {
        let port = free_port();
        let name = format!("rpack-interop-{port}");
        let pull = if pull { "always" } else { "missing" };
        self.podman.ok(&[
            "run",
            "--detach",
            "--rm",
            "--pull",
            pull,
            "--name",
            &name,
            "--network",
            "host",
            "--env",
            &format!("PORT={port}"),
            image,
        ]);
        let body = http_get(port, Duration::from_secs(20));
        let logs = self.podman.output(&["logs", &name]);
        let _ = self.podman.output(&["rm", "--force", "--time", "0", &name]);
        assert_eq!(
            body.as_deref(),
            Some(GREETING),
            "{image} did not answer on 127.0.0.1:{port}:\n{}{}",
            String::from_utf8_lossy(&logs.stdout),
            String::from_utf8_lossy(&logs.stderr)
        );
    }

    /// Runs one lifecycle phase (`binary` and its args) in the builder image, as the build user, with the
    /// host dirs in `mounts`.
    fn phase(&self, platform_api: &str, mounts: &[(&Path, &str)], command: &[String]) -> String {
        let mut args: Vec<String> = [
            "run",
            "--rm",
            "--network",
            "host",
            "--user",
            "1000:1000",
            "--security-opt",
            "label=disable",
            "--env",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(format!("CNB_PLATFORM_API={platform_api}"));
        for (host, container) in mounts {
            args.push("--mount".to_owned());
            args.push(format!(
                "type=bind,source={},destination={container}",
                host.display()
            ));
        }
        args.push("--entrypoint".to_owned());
        args.push(command[0].clone());
        args.push(self.builder.clone());
        args.extend(command[1..].iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.podman.output(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "{} failed:\n{text}\nregistry log:\n{}",
            command.join(" "),
            self.registry.log()
        );
        text
    }

    /// Fresh dirs for a build in containers: `source` (the app), `layers`, `platform`, owned by the build
    /// user as a platform's prepare step leaves them; `cache` is shared across builds of a case.
    fn build_dirs(&self, case: &str) -> (PathBuf, PathBuf, PathBuf) {
        let root = self.dir.join(case);
        let run = (1..100)
            .map(|n| root.join(format!("run-{n}")))
            .find(|p| !p.exists())
            .unwrap();
        let source = run.join("source");
        write(&source.join("hello.txt"), GREETING);
        let layers = run.join("layers");
        let platform = run.join("platform");
        std::fs::create_dir_all(&layers).unwrap();
        std::fs::create_dir_all(platform.join("env")).unwrap();
        let cache = root.join("cache");
        std::fs::create_dir_all(&cache).unwrap();
        for dir in [&root, &run] {
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        for path in [&source, &source.join("hello.txt"), &layers, &cache] {
            std::os::unix::fs::lchown(path, Some(1000), Some(1000)).unwrap();
        }
        (source, layers, platform)
    }
}

impl Drop for Suite {
    fn drop(&mut self) {
        // What the suite left in podman's storage (images under the registry's name, pack's cache volumes)
        // and in rpack's store.
        let host = self.registry.host();
        let started = Instant::now();
        let images = self
            .podman
            .output(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        let images = String::from_utf8_lossy(&images.stdout);
        let mut rmi = vec!["rmi", "--force"];
        rmi.extend(images.lines().filter(|image| image.starts_with(&host)));
        if rmi.len() > 2 {
            let _ = self.podman.output(&rmi);
        }
        for volume in volumes(&self.podman) {
            if !self.volumes_before.contains(&volume) && volume.starts_with("pack-cache-") {
                let _ = self.podman.output(&["volume", "rm", "--force", &volume]);
            }
        }
        for image in &self.stored {
            let _ = support::rpack().args(["image", "rm", image]).output();
        }
        eprintln!("interop cleanup: {:.1}s", started.elapsed().as_secs_f64());
    }
}

fn volumes(podman: &Podman) -> Vec<String> {
    let out = podman.output(&["volume", "ls", "--format", "{{.Name}}"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A lifecycle image as pack's untrusted flow runs it (what `buildpacksio/lifecycle` holds): the lifecycle of
/// rpack's store at `/cnb/lifecycle`, a `root` user, and a world-writable `/tmp`; pushed to `reference`.
fn lifecycle_image(dir: &Path, reference: &str) {
    let store = rpack::store::Store::from_env().unwrap();
    let lifecycle = rpack::provision::lifecycle::Lifecycle::locate(
        &store,
        rpack::provision::lifecycle::DEFAULT_VERSION,
    )
    .unwrap();
    let layout = Layout::create(dir.join("lifecycle-image")).unwrap();
    let mut image = Image::scratch(layout.clone(), "linux", "amd64").unwrap();
    let mut layer = LayerWriter::new(&layout).unwrap();
    layer.dir("cnb", 0o755).unwrap();
    layer
        .tree("cnb/lifecycle", &lifecycle.binaries_dir())
        .unwrap();
    layer.dir("etc", 0o755).unwrap();
    layer
        .file(
            "etc/passwd",
            0o644,
            b"root:x:0:0:root:/root:/sbin/nologin\n",
        )
        .unwrap();
    layer.file("etc/group", 0o644, b"root:x:0:\n").unwrap();
    layer.dir("tmp", 0o1777).unwrap();
    image
        .add_layer(&layer.finish().unwrap(), "lifecycle")
        .unwrap();
    image.set_label(
        "io.buildpacks.lifecycle.version",
        rpack::provision::lifecycle::DEFAULT_VERSION,
    );
    image.save("latest").unwrap();
    let status = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:latest", layout.root().display()))
        .arg(format!("docker://{reference}"))
        .status()
        .unwrap();
    assert!(
        status.success(),
        "skopeo copy of the lifecycle image failed"
    );
}

/// pack with a trusted builder: the creator in our builder, through podman's Docker API. The builder names
/// the published run image, so no `--run-image` is given.
fn pack_trusted(suite: &Suite) {
    let out = suite.pack_recipe("pack-trusted");
    assert!(out.contains("Successfully built image"), "{out}");
    assert!(out.contains("---> Interop Hello"), "{out}");
    suite.serves(&suite.app(), false);
}

/// pack with an untrusted builder: five phases, the ones with registry access in the lifecycle image.
fn pack_untrusted(suite: &Suite) {
    let out = suite.pack_recipe("pack-untrusted");
    assert!(out.contains("[exporter]"), "the phases ran apart:\n{out}");
    assert!(out.contains("Successfully built image"), "{out}");
    suite.serves(&suite.app(), false);
}

/// `pack build --publish`, then `pack rebase` with neither `--run-image` nor `--force`.
fn pack_publish_and_rebase(suite: &Suite) {
    let out = suite.pack_recipe("pack-publish");
    assert!(out.contains("Successfully built image"), "{out}");
    let out = suite.pack_recipe("pack-rebase");
    assert!(
        out.contains(&format!("on run image '{}'", suite.run_image)),
        "{out}"
    );
    assert!(out.contains("Successfully rebased image"), "{out}");
    suite.serves(&suite.app(), true);
}

/// The doc's Tekton Task: its create step's command, args and env, run in the builder as 1000:1000 in
/// registry mode; a second run with the same cache gives the same image digest.
fn tekton(suite: &Suite) {
    let task = doc_block("tekton-task", &suite.namespace);
    let create = &task[task.find("- name: create").unwrap()..];
    let command = create
        .lines()
        .find_map(|l| l.trim().strip_prefix("command: [\""))
        .and_then(|l| l.strip_suffix("\"]"))
        .unwrap()
        .to_owned();
    let api = create[create.find("name: CNB_PLATFORM_API").unwrap()..]
        .lines()
        .nth(1)
        .and_then(|l| l.trim().strip_prefix("value: "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    assert!(create.contains("runAsUser: 1000"), "{create}");
    let args_at = create.find("args:").unwrap();
    let args: Vec<String> = create[args_at..]
        .lines()
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- \""))
        .map(|a| {
            a.trim_end_matches('"')
                .replace("$(workspaces.source.path)", "/workspace/source")
                .replace("$(workspaces.cache.path)", "/workspace/cache")
                .replace("$(params.APP_IMAGE)", &suite.app())
        })
        .collect();
    assert!(!args.iter().any(|a| a.contains("$(")), "{args:?}");
    let builder_default = task[task.find("name: BUILDER_IMAGE").unwrap()..]
        .lines()
        .find_map(|l| l.trim().strip_prefix("default: "))
        .unwrap()
        .to_owned();
    assert_eq!(builder_default, suite.builder);

    let mut digests = Vec::new();
    for _ in 0..2 {
        let (source, layers, platform) = suite.build_dirs("tekton");
        let cache = suite.dir.join("tekton/cache");
        let mut full = vec![command.clone()];
        full.extend(args.iter().cloned());
        let out = suite.phase(
            &api,
            &[
                (&source, "/workspace/source"),
                (&cache, "/workspace/cache"),
                (&layers, "/layers"),
                (&platform, "/platform"),
            ],
            &full,
        );
        assert!(out.contains("---> Interop Hello"), "{out}");
        let report = std::fs::read_to_string(layers.join("report.toml")).unwrap();
        let report: toml::Table = report.parse().unwrap();
        digests.push(report["image"]["digest"].as_str().unwrap().to_owned());
    }
    assert_eq!(digests[0], digests[1], "the second build changed the image");
    suite.serves(&suite.app(), true);
}

/// kpack's build pod: the doc's five phases, each in its own container of the builder image, sharing the
/// layers, workspace, platform and cache dirs; and every image the doc's kpack resources name is in the
/// registry and of the kind kpack expects.
fn kpack(suite: &Suite) {
    let resources = doc_block("kpack-resources", &suite.namespace);
    let images: Vec<&str> = resources
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("image: "))
        .collect();
    assert_eq!(images.len(), 3, "{resources}");
    for image in &images {
        let config = skopeo_inspect(image, "--config");
        let labels = &config["config"]["Labels"];
        if image.contains("hello-buildpack") {
            assert!(
                labels["io.buildpacks.buildpackage.metadata"].is_string(),
                "{image} is no buildpackage: {labels}"
            );
        } else {
            let id = resources
                .lines()
                .find_map(|l| l.trim().strip_prefix("id: "))
                .unwrap();
            assert_eq!(labels["io.buildpacks.stack.id"], id, "{image}");
        }
    }
    assert!(
        images.contains(&suite.run_image.as_str()),
        "the ClusterStack names another run image than the builder: {images:?}"
    );

    let (source, layers, platform) = suite.build_dirs("kpack");
    let cache = suite.dir.join("kpack/cache");
    let mounts = [
        (source.as_path(), "/workspace"),
        (cache.as_path(), "/cache"),
        (layers.as_path(), "/layers"),
        (platform.as_path(), "/platform"),
    ];
    let phases = doc_block("kpack-phases", &suite.namespace);
    let mut names = Vec::new();
    for line in phases.lines().filter(|l| !l.trim().is_empty()) {
        let command = words(line);
        names.push(command[0].rsplit('/').next().unwrap().to_owned());
        suite.phase("0.13", &mounts, &command);
    }
    assert_eq!(
        names,
        ["analyzer", "detector", "restorer", "builder", "exporter"]
    );
    let analyzed = std::fs::read_to_string(layers.join("analyzed.toml")).unwrap();
    assert!(
        analyzed.contains(&suite.run_image),
        "the analyzer took another run image than the builder's:\n{analyzed}"
    );
    suite.serves(&suite.app(), true);
}

/// A composite of our .cnb packaged by pack (`--format file`), in a builder rpack makes; rpack builds and
/// runs the app.
fn pack_composite(suite: &Suite) {
    let dir = suite.dir.join("composite");
    write(
        &dir.join("meta/buildpack.toml"),
        "api = \"0.10\"\n[buildpack]\nid = \"interop/meta\"\nversion = \"0.1.0\"\n\
         [[order]]\n[[order.group]]\nid = \"interop/hello\"\nversion = \"0.1.0\"\n",
    );
    write(
        &dir.join("meta/package.toml"),
        &format!(
            "[buildpack]\nuri = \".\"\n[[dependencies]]\nuri = \"{}\"\n",
            suite.hello_cnb.display()
        ),
    );
    let meta = dir.join("meta.cnb");
    let out = suite.pack(&[
        "buildpack".to_owned(),
        "package".to_owned(),
        meta.display().to_string(),
        "--config".to_owned(),
        dir.join("meta/package.toml").display().to_string(),
        "--format".to_owned(),
        "file".to_owned(),
    ]);
    assert!(out.contains("Successfully created package"), "{out}");
    write(
        &dir.join("builder.toml"),
        &format!(
            "[[buildpacks]]\nuri = \"{}\"\n[[order]]\n[[order.group]]\nid = \"interop/meta\"\n\
             [build]\nimage = \"localhost/rpack/tiny-build:latest\"\n[[run.images]]\nimage = \"localhost/rpack/tiny-run:latest\"\n",
            meta.display()
        ),
    );
    let image = "localhost/rpack-test/interop-composite:latest";
    let (_, log) = rpack_ok(&[
        "build",
        image,
        "--path",
        suite.dir.join("app").to_str().unwrap(),
        "--builder",
        dir.join("builder.toml").to_str().unwrap(),
    ]);
    assert!(log.contains("---> Interop Hello"), "{log}");
    let port = free_port();
    let (name, _) = rpack_ok(&["run", "--detach", "--env", &format!("PORT={port}"), image]);
    let body = http_get(port, Duration::from_secs(20));
    rpack_ok(&["stop", name.trim()]);
    rpack_ok(&["image", "rm", image]);
    assert_eq!(body.as_deref(), Some(GREETING));
}

/// rpack itself on a Docker Engine (podman's Docker-compatible service, through the docker CLI): a build with
/// the published builder and a run of the image.
fn docker_engine(suite: &Suite) {
    let rpack = |args: &[&str]| {
        let mut cmd = support::rpack();
        cmd.env("DOCKER_HOST", suite.service.docker_host());
        support::assert_ok(cmd, args)
    };
    let image = "localhost/rpack-test/interop-docker:latest";
    let (_, log) = rpack(&[
        "--engine",
        "docker",
        "build",
        image,
        "--path",
        suite.dir.join("app").to_str().unwrap(),
        "--builder",
        &suite.builder,
    ]);
    assert!(log.contains("---> Interop Hello"), "{log}");
    let port = free_port();
    let (name, log) = rpack(&[
        "--engine",
        "docker",
        "run",
        "--detach",
        "--env",
        &format!("PORT={port}"),
        image,
    ]);
    assert!(log.contains("docker logs"), "{log}");
    let body = http_get(port, Duration::from_secs(20));
    // The container ran in the service's storage, where docker's own CLI sees it.
    let listed = Command::new("docker")
        .args([
            "ps",
            "--filter",
            &format!("name={}", name.trim()),
            "--quiet",
        ])
        .env("DOCKER_HOST", suite.service.docker_host())
        .output()
        .unwrap();
    rpack(&["--engine", "docker", "stop", name.trim()]);
    let _ = suite.podman.output(&["rmi", "--force", image]);
    rpack_ok(&["image", "rm", image]);
    assert_eq!(body.as_deref(), Some(GREETING));
    assert!(
        !String::from_utf8_lossy(&listed.stdout).trim().is_empty(),
        "docker ps did not list {name}"
    );
}

/// rpack on another machine (a fresh store): it pulls the published builder, and the run image the builder
/// names when the build needs it, and the app serves.
fn rpack_elsewhere(suite: &Suite) {
    let home = suite.dir.join("elsewhere");
    let rpack = |args: &[&str]| support::rpack_home_ok(Some(&home), args);
    rpack(&["pull", &suite.builder]);
    let image = "localhost/rpack-test/interop-elsewhere:latest";
    let (_, log) = rpack(&[
        "build",
        image,
        "--path",
        suite.dir.join("app").to_str().unwrap(),
        "--builder",
        &suite.builder,
    ]);
    assert!(
        log.contains(&format!("Pulling {0} as {0}", suite.run_image)),
        "{log}"
    );
    let port = free_port();
    let (name, _) = rpack(&["run", "--detach", "--env", &format!("PORT={port}"), image]);
    let body = http_get(port, Duration::from_secs(20));
    rpack(&["stop", name.trim()]);
    let _ = suite.podman.output(&["rmi", "--force", image]);
    assert_eq!(body.as_deref(), Some(GREETING));
}

/// The doc's CI recipes run the pack command the pack case runs.
fn ci_recipes(suite: &Suite) {
    let publish = doc_block("pack-publish", &suite.namespace);
    for name in ["github-actions", "gitlab-ci"] {
        let recipe = doc_block(name, &suite.namespace);
        assert!(
            recipe.contains(publish.trim()),
            "{name} does not run `{}`",
            publish.trim()
        );
    }
}

type Case = fn(&Suite);

#[test]
fn our_builder_builds_and_serves_on_every_platform() {
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let suite = Suite::start(tmp.path());
    eprintln!(
        "interop setup (registry, podman service, published builder): {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let cases: [(&str, Case); 9] = [
        ("pack build, trusted", pack_trusted),
        ("pack build, untrusted", pack_untrusted),
        ("pack build --publish, pack rebase", pack_publish_and_rebase),
        ("Tekton task", tekton),
        ("kpack phases", kpack),
        ("pack composite of our .cnb", pack_composite),
        ("rpack on Docker Engine", docker_engine),
        ("rpack with a fresh store", rpack_elsewhere),
        ("CI recipes", ci_recipes),
    ];
    let mut failed = Vec::new();
    for (name, case) in cases {
        let at = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| case(&suite)));
        eprintln!(
            "interop case {name}: {} in {:.1}s",
            if result.is_ok() { "ok" } else { "FAILED" },
            at.elapsed().as_secs_f64()
        );
        if result.is_err() {
            failed.push(name);
        }
    }
    eprintln!("interop suite: {:.1}s", started.elapsed().as_secs_f64());
    assert!(failed.is_empty(), "failed cases: {failed:?}");
}
