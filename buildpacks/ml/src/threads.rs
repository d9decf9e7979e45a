//! The exec.d program: thread counts from the container's CPU limit, so numeric libraries do not
//! start one thread per host core inside a container limited to a few.

use libbuildpack::data::{EnvVarName, ExecDOutput};

/// The variables numeric libraries read for their thread pools.
pub const THREAD_VARS: [&str; 5] = [
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
];

/// The CPU limit in whole CPUs (rounded up), from cgroup v2 `cpu.max` (`<quota> <period>` or
/// `max <period>`) or, failing that, cgroup v1 `cpu.cfs_quota_us` (`-1` for none) and
/// `cpu.cfs_period_us`. `None` when there is no limit.
#[must_use]
pub fn cpu_limit(
    v2_cpu_max: Option<&str>,
    v1_quota: Option<&str>,
    v1_period: Option<&str>,
) -> Option<u64> {
    let ratio = |quota: &str, period: &str| -> Option<u64> {
        let quota: i64 = quota.trim().parse().ok()?;
        let period: i64 = period.trim().parse().ok()?;
        (quota > 0 && period > 0).then(|| quota.unsigned_abs().div_ceil(period.unsigned_abs()))
    };
    if let Some(text) = v2_cpu_max {
        let mut parts = text.split_whitespace();
        if let (Some(quota), Some(period)) = (parts.next(), parts.next()) {
            // "max" means no limit in this cgroup; v1 files do not exist alongside v2.
            return if quota == "max" {
                None
            } else {
                ratio(quota, period)
            };
        }
    }
    ratio(v1_quota?, v1_period?)
}

/// The thread count: the CPU limit when there is one, at most the CPUs the process may use.
#[must_use]
pub fn threads(limit: Option<u64>, available: u64) -> u64 {
    limit.map_or(available, |l| l.min(available)).max(1)
}

/// Reads the container's limit and the CPUs available.
#[must_use]
pub fn detect_threads() -> u64 {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let v1_dir = ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"]
        .into_iter()
        .find(|dir| std::path::Path::new(dir).join("cpu.cfs_quota_us").exists())
        .unwrap_or("/sys/fs/cgroup/cpu");
    let limit = cpu_limit(
        read("/sys/fs/cgroup/cpu.max").as_deref(),
        read(&format!("{v1_dir}/cpu.cfs_quota_us")).as_deref(),
        read(&format!("{v1_dir}/cpu.cfs_period_us")).as_deref(),
    );
    let available = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    threads(limit, available)
}

/// The exec.d output: each thread variable the user has not set already.
#[must_use]
pub fn output(threads: u64, already_set: impl Fn(&str) -> bool) -> ExecDOutput {
    let mut out = ExecDOutput::default();
    for var in THREAD_VARS {
        if already_set(var) {
            continue;
        }
        if let Ok(name) = EnvVarName::new(var) {
            out.set(name, threads.to_string());
        }
    }
    out
}

/// The exec.d entry point. It cannot fail: without readable limits it uses the CPUs available.
///
/// # Errors
///
/// Never.
#[allow(
    clippy::unnecessary_wraps,
    reason = "exec_d::run takes a fallible function"
)]
pub fn exec_d() -> Result<ExecDOutput, std::convert::Infallible> {
    Ok(output(detect_threads(), |var| {
        std::env::var_os(var).is_some()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_v2() {
        assert_eq!(cpu_limit(Some("200000 100000\n"), None, None), Some(2));
        assert_eq!(cpu_limit(Some("150000 100000"), None, None), Some(2));
        assert_eq!(cpu_limit(Some("50000 100000"), None, None), Some(1));
        assert_eq!(
            cpu_limit(Some("max 100000"), Some("400000"), Some("100000")),
            None
        );
    }

    #[test]
    fn cgroup_v1() {
        assert_eq!(cpu_limit(None, Some("400000\n"), Some("100000\n")), Some(4));
        assert_eq!(cpu_limit(None, Some("-1"), Some("100000")), None);
        assert_eq!(cpu_limit(None, Some("garbage"), Some("100000")), None);
        assert_eq!(cpu_limit(None, None, None), None);
    }

    #[test]
    fn thread_counts() {
        assert_eq!(threads(Some(2), 16), 2);
        assert_eq!(threads(Some(32), 4), 4);
        assert_eq!(threads(None, 8), 8);
        assert_eq!(threads(Some(0), 8), 1);
    }

    #[test]
    fn user_settings_win() {
        let out = output(3, |var| var == "OMP_NUM_THREADS");
        let text = out.to_toml_string();
        assert!(!text.contains("OMP_NUM_THREADS"), "{text}");
        assert!(text.contains("MKL_NUM_THREADS = \"3\""), "{text}");
    }
}
