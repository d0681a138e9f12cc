//! How the benchmarks measure: each case in a fresh child process, so that the peak
//! resident memory it reports is that case's alone, read from the kernel.

use anyhow::Context as _;

/// Runs `reparti ARGS` in a fresh process and reads the one JSON result it prints, so
/// that the peak memory it reports belongs to that measurement alone.
pub fn measure_in_child<M: serde::de::DeserializeOwned>(args: &[&str], what: &str) -> anyhow::Result<M> {
    let exe = std::env::current_exe().context("cannot find the reparti executable to measure in a fresh process")?;
    let out = std::process::Command::new(&exe).args(args).output().context("cannot start the measuring process")?;
    if !out.status.success() {
        anyhow::bail!("measuring {what} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    serde_json::from_slice(&out.stdout).context("the measuring process printed no result")
}

/// Reads a `VmXXX:  123 kB` line of /proc/self/status, in bytes; 0 where there is no
/// such file (beyond Linux).
///
/// Read by hand because the peak (`VmHWM`) is what these benchmarks report, and the
/// cross-platform crate for memory readings (`memory-stats`) gives only the current
/// resident size, which would miss the peak reached during the run.
pub fn proc_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
