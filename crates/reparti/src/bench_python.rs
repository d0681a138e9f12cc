//! `reparti bench --compare-python`: the same election in plain Python, run beside the
//! simulator's measurement in one invocation, so that the ratio compares two programs
//! on the same machine at the same moment (a loaded 2-core machine can halve either).
//!
//! The Python side is `bench/python_chang_roberts.py`: a heapq discrete-event loop the
//! way a lab would write it, with the same ring size, delay law and channel order (the
//! identities are another random permutation, so the delivery counts differ slightly:
//! rates are compared, not counts).

use serde::Deserialize;
use std::path::Path;
use std::process::Command;

/// Where the script lives, relative to the repository's root.
pub const SCRIPT: &str = "bench/python_chang_roberts.py";

/// What the script prints with `--json`.
#[derive(Deserialize, Debug)]
pub struct PythonMeasure {
    pub deliveries: u64,
    pub seconds: f64,
    pub deliveries_per_sec: f64,
    pub peak_rss_bytes: u64,
}

/// Why the comparison cannot run here, if it cannot: checked once, before any size.
pub fn unavailable() -> Option<String> {
    if !Path::new(SCRIPT).exists() {
        return Some(format!(
            "Python comparison skipped: {SCRIPT} not found (run `reparti bench` from the repository's root)"
        ));
    }
    match Command::new("python3").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("Python comparison skipped: python3 is not on PATH (install it, e.g. `apt install python3`)".into()),
    }
}

/// Runs the script for one ring size.
pub fn measure(nodes: usize, delay: &str, fifo: bool, seed: u64) -> anyhow::Result<PythonMeasure> {
    let mut cmd = Command::new("python3");
    cmd.arg(SCRIPT).arg(nodes.to_string()).args(["--delay", delay, "--seed", &seed.to_string(), "--json"]);
    if !fifo {
        cmd.arg("--no-fifo");
    }
    let out = cmd.output().map_err(|e| anyhow::anyhow!("cannot run python3 {SCRIPT}: {e}"))?;
    if !out.status.success() {
        anyhow::bail!("python3 {SCRIPT} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| anyhow::anyhow!("python3 {SCRIPT} printed no result: {e}"))
}
