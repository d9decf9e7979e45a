//! A password in a package index URL, given to the build as env (`rpack build --env`), in project.toml's
//! build env, or typed into requirements.txt (an `--extra-index-url` line and a direct URL requirement),
//! reaches pip but nothing that outlives the build: not the build output, the image's layers, config, labels
//! or SBOMs, nor the build cache or the build cache volume (issue 13). One real pip build on the python stack
//! against a loopback PEP 503 index that requires HTTP basic auth and serves small wheels generated at test
//! time.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test setup: a failed step should panic with its error"
)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use libbuildpack_test::{BuildConfig, TestRunner};

/// A PEP 503 simple index on 127.0.0.1 serving one generated wheel (`faultprobe 1.0`) at `/simple/`,
/// `/extra/simple/` and `/req/simple/`, and a second one (`probedirect 1.0`) for a direct URL requirement, answering
/// only requests with one of the given basic-auth credentials. It logs one line per request: the path and the
/// number of the credential used (or `anon`).
const INDEX_SERVER: &str = r#"
import base64, hashlib, http.server, io, sys, zipfile
port_file, log_path, creds = sys.argv[1], sys.argv[2], sys.argv[3:]
tokens = {base64.b64encode(c.encode()).decode(): str(i) for i, c in enumerate(creds)}
name, version = "faultprobe", "1.0"

def make_wheel(name):
    files = {
        f"{name}/__init__.py": "GREETING = 'installed from the private index'\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: faults-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(text.encode())}\n"
    record_path = f"{name}-{version}.dist-info/RECORD"
    files[record_path] = record + f"{record_path},,\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path, text in files.items():
            z.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()

wheels = {f"{n}-{version}-py3-none-any.whl": make_wheel(n) for n in (name, "probedirect")}
wheel_name = f"{name}-{version}-py3-none-any.whl"
sha = hashlib.sha256(wheels[wheel_name]).hexdigest()
log = open(log_path, "a", buffering=1)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        who = tokens.get(auth[6:]) if auth.startswith("Basic ") else None
        log.write(f"{self.path} {who or 'anon'}\n")
        if who is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="faults"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, kind = None, "text/html"
        for root in ("/simple/", "/extra/simple/", "/req/simple/"):
            if self.path == root:
                body = f'<html><body><a href="{name}/">{name}</a></body></html>'.encode()
            elif self.path == f"{root}{name}/":
                body = f'<html><body><a href="/packages/{wheel_name}#sha256={sha}">{wheel_name}</a></body></html>'.encode()
        for served, wheel in wheels.items():
            if self.path == f"/packages/{served}":
                body, kind = wheel, "application/octet-stream"
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
"#;

/// The index server; stopped on drop.
struct Index {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Index {
    fn start(credentials: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let child = Command::new("python3")
            .arg("-c")
            .arg(INDEX_SERVER)
            .arg(&port_file)
            .arg(dir.path().join("requests.log"))
            .args(credentials)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !port_file.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the index server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let port = std::fs::read_to_string(&port_file)
            .unwrap()
            .parse()
            .unwrap();
        Self { child, dir, port }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("requests.log")).unwrap_or_default()
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token that occurs nowhere by chance.
fn token(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("s3cr3t-{what}-{:x}{nanos:x}", std::process::id())
}

/// The files under `dirs` that hold one of `secrets`, as `grep -r` finds them, gzip files searched
/// gunzipped (image layers; the build cache's layers are plain tars). Also returns how many files were
/// searched.
fn files_holding(dirs: &[PathBuf], secrets: &[&str]) -> (Vec<String>, usize) {
    // `grep -F -a -e SECRET...`: fixed strings, binary files searched as text.
    let grep = || {
        let mut cmd = Command::new("grep");
        cmd.args(["-F", "-a"]);
        for secret in secrets {
            cmd.args(["-e", secret]);
        }
        cmd
    };
    let mut found = Vec::new();
    let mut files = Vec::new();
    for dir in dirs.iter().filter(|d| d.exists()) {
        let out = grep().args(["-r", "-l"]).arg(dir).output().unwrap();
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "grep failed: {out:?}"
        );
        found.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned),
        );
        files_under(dir, &mut files);
    }
    for file in &files {
        let mut magic = [0u8; 2];
        let is_gzip = std::fs::File::open(file)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
            && magic == [0x1f, 0x8b];
        if !is_gzip {
            continue;
        }
        let mut gunzip = Command::new("gzip")
            .arg("-dc")
            .arg(file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let status = grep()
            .arg("-q")
            .stdin(gunzip.stdout.take().unwrap())
            .status()
            .unwrap();
        let _ = gunzip.wait(); // grep -q stops reading at a match
        if status.success() {
            found.push(format!("{} (gunzipped)", file.display()));
        }
    }
    (found, files.len())
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files_under(&entry.path(), out);
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
}

/// Panics naming every file under `dirs` that holds one of `secrets`; returns how many files were searched.
fn assert_absent(what: &str, dirs: &[PathBuf], secrets: &[&str]) -> usize {
    let (found, searched) = files_holding(dirs, secrets);
    assert!(
        found.is_empty(),
        "{what}: the password leaked into\n{}",
        found.join("\n")
    );
    searched
}

/// An app whose requirements.txt has an index URL and a direct URL with passwords, and whose project.toml
/// gives pip an extra index URL with a password.
fn app_with_passwords(
    port: u16,
    project_password: &str,
    index_line_password: &str,
    direct_url_password: &str,
) -> tempfile::TempDir {
    let app = tempfile::Builder::new()
        .prefix("pip-secrets-")
        .tempdir()
        .unwrap();
    std::fs::write(
        app.path().join("requirements.txt"),
        format!(
            "--extra-index-url http://req-user:{index_line_password}@127.0.0.1:{port}/req/simple/\n\
             faultprobe==1.0\n\
             probedirect @ http://url-user:{direct_url_password}@127.0.0.1:{port}/packages/probedirect-1.0-py3-none-any.whl\n"
        ),
    )
    .unwrap();
    std::fs::write(
        app.path().join("project.toml"),
        format!(
            "[_]\nschema-version = \"0.2\"\n\n[[io.buildpacks.build.env]]\nname = \"PIP_EXTRA_INDEX_URL\"\n\
             value = \"http://project-user:{project_password}@127.0.0.1:{port}/extra/simple/\"\n"
        ),
    )
    .unwrap();
    app
}

/// What the image keeps of the passwords typed into requirements.txt: the app's requirements.txt and the
/// venv's record of it have them masked, and pip records the direct URL without its user and password
/// (PEP 610).
fn assert_typed_passwords_are_masked_in_the_image(build: &libbuildpack_test::TestBuild, port: u16) {
    let image_file = |path: &str| {
        let bytes = build.image().unwrap().read_file(path).unwrap();
        String::from_utf8(bytes.unwrap_or_else(|| panic!("no {path} in the image"))).unwrap()
    };
    for path in [
        "/workspace/requirements.txt",
        "/layers/libbuildpack_pip/venv/.libbuildpack/requested.txt",
    ] {
        let text = image_file(path);
        for masked in ["req-user:****@", "url-user:****@"] {
            assert!(text.contains(masked), "{path} has no {masked:?}:\n{text}");
        }
    }
    let direct_url = image_file(
        "/layers/libbuildpack_pip/venv/lib/python3.11/site-packages/probedirect-1.0.dist-info/direct_url.json",
    );
    assert!(
        direct_url.contains(&format!(
            "\"http://127.0.0.1:{port}/packages/probedirect-1.0-py3-none-any.whl\""
        )),
        "{direct_url}"
    );
}

/// pip used every password, and the packages came from the index that requires them.
fn assert_pip_used_every_password(index: &Index) {
    let log = index.log();
    for line in [
        "/simple/faultprobe/ 0",
        "/extra/simple/faultprobe/ 1",
        "/req/simple/faultprobe/ 2",
        "/packages/probedirect-1.0-py3-none-any.whl 3",
    ] {
        assert!(
            log.lines().any(|l| l == line),
            "no {line:?} in the index's log:\n{log}"
        );
    }
    assert!(
        log.lines().any(
            |l| l.starts_with("/packages/faultprobe-1.0-py3-none-any.whl ")
                && !l.ends_with(" anon")
        ),
        "pip did not download the wheel with a password:\n{log}"
    );
}

#[test]
fn passwords_from_env_project_toml_and_requirements_txt_do_not_outlive_the_build() {
    let env_password = token("env");
    let project_password = token("project");
    let index_line_password = token("index-line");
    let direct_url_password = token("direct-url");
    let index = Index::start(&[
        &format!("ci-user:{env_password}"),
        &format!("project-user:{project_password}"),
        &format!("req-user:{index_line_password}"),
        &format!("url-user:{direct_url_password}"),
    ]);
    let secrets = [
        env_password.as_str(),
        project_password.as_str(),
        index_line_password.as_str(),
        direct_url_password.as_str(),
    ];

    let app = app_with_passwords(
        index.port,
        &project_password,
        &index_line_password,
        &direct_url_password,
    );
    let image: rpack::oci::reference::ImageRef =
        "localhost/faults-test/pip-secrets:latest".parse().unwrap();
    let config = BuildConfig::new(app.path())
        .stack("python")
        .image(image.clone())
        .env(
            "PIP_INDEX_URL",
            format!(
                "http://ci-user:{env_password}@127.0.0.1:{}/simple/",
                index.port
            ),
        );
    let runner = TestRunner::shared().unwrap();
    let build = runner.build(config).unwrap();

    assert_pip_used_every_password(&index);
    let installed = build
        .image()
        .unwrap()
        .read_file(
            "/layers/libbuildpack_pip/venv/lib/python3.11/site-packages/faultprobe/__init__.py",
        )
        .unwrap();
    assert!(
        installed.is_some(),
        "faultprobe is not in the venv:\n{}",
        build.stdout()
    );
    assert_typed_passwords_are_masked_in_the_image(&build, index.port);
    assert!(
        build
            .stdout()
            .contains("requirements.txt has a password in a URL"),
        "the pip buildpack should say it masked requirements.txt's passwords:\n{}",
        build.stdout()
    );

    assert!(
        build
            .stdout()
            .contains("project.toml has a password in the URL of PIP_EXTRA_INDEX_URL"),
        "rpack should say it masked project.toml's password:\n{}",
        build.stdout()
    );
    for secret in secrets {
        assert!(
            !build.stdout().contains(secret),
            "the build output shows the password:\n{}",
            build.stdout()
        );
    }
    let image_data = build.image().unwrap();
    for (key, value) in image_data.labels() {
        for secret in secrets {
            assert!(!value.contains(secret), "label {key} holds the password");
        }
    }
    // Every blob of the image: manifest, config (labels, env) and each layer, gunzipped.
    let blobs = image_data.layout().blobs_dir();
    let files = assert_absent("the image's blobs", &[blobs], &secrets);
    eprintln!("searched {files} blobs");

    let sboms = tempfile::tempdir().unwrap();
    let written = rpack::ops::sbom::download(runner.store(), &image, sboms.path()).unwrap();
    assert!(!written.is_empty());
    assert_absent("the SBOMs", &[sboms.path().to_owned()], &secrets);

    let store = runner.store();
    let caches = [
        store.build_cache_dir(&image),
        store.cache_volume_dir(&image),
    ];
    let files = assert_absent("the build cache and cache volume", &caches, &secrets);
    eprintln!("searched {files} cache files");
}
