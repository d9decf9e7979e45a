//! Example buildpack: sets `PORT` at launch with an exec.d program.
//!
//! Teaches one thing: exec.d. The buildpack binary installs a copy of itself as
//! `exec.d/port` in a launch layer; when the launcher runs it before the app, it computes the
//! variables (here from the user's `BPL_PORT`) and writes them to fd 3.

use libbuildpack::exec_d::ExecDOutput;
use libbuildpack::prelude::*;

/// The buildpack.
pub struct ExecDExample;

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecDExampleError {
    /// Making the layer or installing the program failed.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The running binary could not be found.
    #[error("could not locate the buildpack binary to install as exec.d program")]
    CurrentExe(#[source] std::io::Error),
}

impl Buildpack for ExecDExample {
    type Metadata = NoMetadata;
    type Error = ExecDExampleError;

    fn detect(&self, _: &DetectContext) -> Result<Detect, ExecDExampleError> {
        Ok(Detect::pass())
    }

    fn build(&self, ctx: &mut BuildContext) -> Result<Build, ExecDExampleError> {
        ctx.output().section("exec.d example");
        let layer = ctx.layer("port").launch().fresh()?;
        let exe = std::env::current_exe().map_err(ExecDExampleError::CurrentExe)?;
        layer.install_exec_d("port", &exe)?;
        ctx.output()
            .step("Installed exec.d/port: sets PORT at launch");
        Ok(Build::new())
    }
}

/// The exec.d program: `PORT` from `BPL_PORT` (when it is a port number) or 8080.
///
/// # Errors
///
/// Never: an absent or invalid `BPL_PORT` means 8080. The signature is what
/// [`libbuildpack::exec_d::run`] takes.
#[must_use = "the output must be written to fd 3"]
pub fn port(bpl_port: Option<String>) -> Result<ExecDOutput, std::convert::Infallible> {
    let port = bpl_port
        .filter(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
        .unwrap_or_else(|| "8080".into());
    let mut out = ExecDOutput::default();
    out.set(libbuildpack::env_var_name!("PORT"), port);
    Ok(out)
}

buildpack_main!(
    ExecDExample,
    exec_d = || port(std::env::var("BPL_PORT").ok())
);

#[cfg(test)]
mod tests {
    use super::*;
    use libbuildpack::testing::TestContext;

    #[test]
    fn port_from_bpl_port_or_default() {
        let text = |v: Option<&str>| port(v.map(String::from)).unwrap().to_toml_string();
        assert_eq!(text(None), "PORT = \"8080\"\n");
        assert_eq!(text(Some("9000")), "PORT = \"9000\"\n");
        assert_eq!(text(Some("not a port")), "PORT = \"8080\"\n");
    }

    #[test]
    fn build_installs_the_exec_d_program() {
        let ctx = TestContext::new(env!("CARGO_MANIFEST_DIR")).unwrap();
        let run = ctx.build(&ExecDExample).unwrap();
        assert!(run.succeeded(), "{}", run.output);
        assert!(run.layer("port").unwrap().types.unwrap().launch);
        assert!(ctx.layers_dir().join("port/exec.d/port").is_file());
    }
}
