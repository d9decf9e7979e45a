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
