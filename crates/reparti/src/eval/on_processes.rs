//! `reparti eval A B … --per OUTPUT --on-processes`: the comparison on real processes.
//! Each run is a whole `reparti run` — one `reparti node` process per node, over UDP on
//! this machine — started as a child of this command, which writes its merged trace;
//! the trace is read back and replayed in the simulator (as `reparti run` itself does),
//! so the same properties and counts are judged and the same units, waits and delays
//! are read from it as from a simulation's. Times are then milliseconds of wall clock
//! (`cs_time` is in milliseconds on a real network).
//!
//! Runs go one after another, never side by side: each one is n processes already, and
//! two clusters sharing the cores would slow each other's hand-overs.

use crate::resolve::Setup;
use crate::run::merge_traces::replay;
use anyhow::Context as _;
use reparti_core::trace::{read_trace, Trace};
use reparti_sim::Report;
use std::io::BufReader;
use std::path::Path;
use std::process::Command;

/// Longest a single cluster run may take before it counts as hung.
const RUN_TIMEOUT_SECONDS: &str = "120";

/// Runs `setup`'s algorithm with n processes and `seed`, its merged trace written into
/// `dir`; returns the replayed report and the trace.
pub fn real_run(setup: &Setup, n: usize, seed: u64, dir: &Path) -> anyhow::Result<(Report, Trace)> {
    let exe = std::env::current_exe().context("cannot find the reparti binary to start the processes")?;
    let name = setup.spec.name;
    let path = dir.join(format!("{name}-n{n}-seed{seed}.jsonl"));
    let mut command = Command::new(exe);
    command.args(["run", name, "--nodes", &n.to_string(), "--seed", &seed.to_string()]);
    command.args(["--timeout", RUN_TIMEOUT_SECONDS, "--trace"]).arg(&path);
    for (k, v) in &setup.params {
        command.args(["-p", &format!("{k}={v}")]);
    }
    let out = command.output().with_context(|| format!("cannot start `reparti run {name}`"))?;
    // Exit 1 is a run whose properties or counts failed: its trace says which, and the
    // comparison reports it. Anything else left no trace worth reading.
    if !matches!(out.status.code(), Some(0 | 1)) || !path.exists() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        anyhow::bail!("`reparti run {name} --nodes {n} --seed {seed}` failed: {why}");
    }
    let file = std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let trace = read_trace(BufReader::new(file)).with_context(|| format!("cannot read {}", path.display()))?;
    let (report, _steps) = replay(&trace)?;
    let _ = std::fs::remove_file(&path);
    Ok((report, trace))
}
