//! What the interop tests share with the platforms they drive: pack (built by `scripts/pack` when missing),
//! podman's Docker-compatible service on a socket in a temp dir, and podman itself with rpack's settings and a
//! loopback registry it may use over plain HTTP.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The pack binary: built once by `scripts/pack --which` when missing.
pub fn pack_bin() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pack");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--which")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/pack could not find or build pack:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// A `registries.conf` that lets podman use `host` (a loopback registry) over plain HTTP.
pub fn registries_conf(dir: &Path, host: &str) -> PathBuf {
    let path = dir.join("registries.conf");
    std::fs::write(
        &path,
        format!("[[registry]]\nlocation = \"{host}\"\ninsecure = true\n"),
    )
    .unwrap();
    path
}

/// podman with rpack's settings (runc, cgroupfs, no default ulimits) that may pull from the registry in
/// `registries`.
pub struct Podman {
    conf: PathBuf,
    registries: PathBuf,
}

impl Podman {
    /// podman with rpack's `containers.conf` from the store at `RPACK_HOME`.
    pub fn new(registries: PathBuf) -> Self {
        let store = rpack::store::Store::from_env().unwrap();
        let podman = rpack::build::podman::Podman::new(&store).unwrap();
        Self {
            conf: podman.conf().to_owned(),
            registries,
        }
    }

    /// A `podman` command with these settings.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new("podman");
        cmd.env("CONTAINERS_CONF", &self.conf)
            .env("CONTAINERS_REGISTRIES_CONF", &self.registries)
            .args(["--runtime", "runc", "--cgroup-manager", "cgroupfs"]);
        cmd
    }

    /// Runs podman with `args` and returns its output, whatever its exit status.
    pub fn output(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs podman with `args`, asserts it succeeded and returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "podman {} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts podman's Docker-compatible API on a socket in `dir`; stopped on drop.
    pub fn service(&self, dir: &Path) -> Service {
        let socket = dir.join("podman.sock");
        let log = std::fs::File::create(dir.join("podman-service.log")).unwrap();
        let child = self
            .command()
            .args(["system", "service", "--time", "0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut service = Service {
            child,
            socket,
            log: dir.join("podman-service.log"),
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if service.answers() {
                return service;
            }
            if let Some(status) = service.child.try_wait().unwrap() {
                panic!(
                    "podman system service exited with {status}:\n{}",
                    service.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "podman system service did not answer within 20s:\n{}",
            service.log()
        );
    }
}

/// podman's Docker-compatible API, on a unix socket.
pub struct Service {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Service {
    /// `unix:///.../podman.sock`, for `DOCKER_HOST`.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::os::unix::net::UnixStream::connect(&self.socket) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if stream
            .write_all(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
    }

    /// What the service logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The body of `GET /` on 127.0.0.1:`port`, once something answers there (within `wait`).
pub fn http_get(port: u16, wait: Duration) -> Option<String> {
    use std::io::{Read, Write};
    let started = Instant::now();
    while started.elapsed() < wait {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            if stream
                .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                .is_ok()
            {
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                if let Some((head, body)) = answer.split_once("\r\n\r\n")
                    && head.starts_with("HTTP/1.0 200")
                {
                    return Some(body.to_owned());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// pack run in `dir` with its own `PACK_HOME` and `HOME` there, and `docker_host` as its daemon ([`NO_DAEMON`]
/// for commands that need none).
pub fn pack_command(dir: &Path, docker_host: &str) -> Command {
    let mut cmd = Command::new(pack_bin());
    cmd.current_dir(dir)
        .env("PACK_HOME", dir.join("pack-home"))
        .env("DOCKER_HOST", docker_host)
        .env("HOME", dir);
    cmd
}

/// A `DOCKER_HOST` nothing listens on: pack reads and writes `.cnb` files and registries without a daemon.
pub const NO_DAEMON: &str = "unix:///nonexistent/docker.sock";

/// Runs [`pack_command`] with `args`, asserts it succeeded and returns its stdout and stderr.
#[track_caller]
pub fn pack_ok<S: AsRef<std::ffi::OsStr>>(dir: &Path, docker_host: &str, args: &[S]) -> String {
    let out = pack_command(dir, docker_host).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    assert!(
        out.status.success(),
        "pack {} failed:\n{text}",
        shown.join(" ")
    );
    text
}

/// What `pack builder inspect IMAGE` says of the builder `image` in a registry: the "REMOTE" half of its answer
/// (the "LOCAL" half needs a daemon).
#[track_caller]
pub fn pack_inspect_remote_builder(dir: &Path, image: &str) -> String {
    let out = pack_command(dir, NO_DAEMON)
        .args(["builder", "inspect", image])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let remote = text.split("LOCAL:").next().unwrap();
    assert!(remote.contains("REMOTE:"), "{text}");
    remote.to_owned()
}

/// `skopeo inspect FLAG docker://IMAGE` of an image in a loopback registry (plain HTTP), parsed: `--config` for
/// its config, `--raw` for its manifest or index.
#[track_caller]
pub fn skopeo_inspect(image: &str, flag: &str) -> serde_json::Value {
    let out = Command::new("skopeo")
        .args(["inspect", flag, "--tls-verify=false"])
        .arg(format!("docker://{image}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo inspect {flag} {image} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The `bin/build` of a shell buildpack that serves the app's `hello.txt` on 127.0.0.1:$PORT with the run
/// image's perl, from a launch layer: `shell` runs first (e.g. an `echo` the test looks for), `perl` may change
/// `$body` before it is served.
pub fn perl_hello_server_build(shell: &str, perl: &str) -> String {
    format!(
        r#"#!/bin/sh
set -eu
{shell}
layer="$CNB_LAYERS_DIR/server"
mkdir -p "$layer"
cat > "$layer/serve.pl" <<'PERL'
use IO::Socket::INET;
my $port = $ENV{{PORT}} || 8080;
my $body = do {{ local $/; open my $f, '<', 'hello.txt' or die "hello.txt: $!"; <$f> }};
{perl}
my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 5, ReuseAddr => 1)
  or die "listen on $port: $!";
$| = 1;
print "listening on $port\n";
while (my $client = $server->accept) {{
  while (my $line = <$client>) {{ last if $line =~ /^\r?\n$/; }}
  print $client "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\n\r\n" . $body;
  close $client;
}}
PERL
printf '[types]\nlaunch = true\n' > "$layer.toml"
cat > "$CNB_LAYERS_DIR/launch.toml" <<TOML
[[processes]]
type = "web"
command = ["perl", "$layer/serve.pl"]
default = true
TOML
"#
    )
}
