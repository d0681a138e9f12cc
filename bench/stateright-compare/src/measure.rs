//! One checker's run on one ring size, measured in the process that runs it.
//!
//! The parent runs each measurement in a fresh child (`--one CHECKER:N:THREADS`), so
//! that each checker starts on an empty heap and the peak resident memory it reports is
//! its own; the child prints one JSON line, which [`Measure::from_json`] reads back.

use crate::ring_model::ChangRoberts;
use reparti_check::{CheckConfig, CheckReport, NetworkKind};
use reparti_core::{Algorithm, AlgorithmVisitor, IdAssignment};
use serde_json::{json, Value};
use stateright::{Checker, Model};
use std::time::Instant;

/// Which checker runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Which {
    Reparti,
    Stateright,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::Reparti => "reparti",
            Which::Stateright => "stateright",
        }
    }

    pub fn parse(word: &str) -> Option<Which> {
        match word {
            "reparti" => Some(Which::Reparti),
            "stateright" => Some(Which::Stateright),
            _ => None,
        }
    }
}

/// What one run gives.
#[derive(Clone, Debug)]
pub struct Measure {
    pub unique_states: u64,
    /// Successor states generated, duplicates included (Stateright's `state_count` less
    /// its initial state, which it counts and reparti does not).
    pub generated: u64,
    /// Wall clock from the call that starts the search to its result.
    pub seconds: f64,
    /// reparti's own search time (its report's `seconds`, the figure `reparti bench
    /// --checker` prints); the same wall clock for Stateright.
    pub search_seconds: f64,
    /// Peak resident memory of the measuring process (VmHWM), 0 where unknown.
    pub peak_rss_bytes: u64,
    /// The search ran to the end and every property held.
    pub complete_and_holds: bool,
}

impl Measure {
    pub fn to_json(&self) -> Value {
        json!({
            "unique_states": self.unique_states,
            "generated": self.generated,
            "seconds": self.seconds,
            "search_seconds": self.search_seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "complete_and_holds": self.complete_and_holds,
        })
    }

    pub fn from_json(v: &Value) -> Option<Measure> {
        Some(Measure {
            unique_states: v.get("unique_states")?.as_u64()?,
            generated: v.get("generated")?.as_u64()?,
            seconds: v.get("seconds")?.as_f64()?,
            search_seconds: v.get("search_seconds")?.as_f64()?,
            peak_rss_bytes: v.get("peak_rss_bytes")?.as_u64()?,
            complete_and_holds: v.get("complete_and_holds")?.as_bool()?,
        })
    }
}

/// The identities reparti gives with `--ids desc` (n, n−1, …, 1: the worst case).
pub fn descending_idents(n: usize) -> Result<Vec<u64>, String> {
    IdAssignment::Desc.assign(n, &mut reparti_core::rng(0)).map_err(|e| e.to_string())
}

/// Runs one checker on a ring of `n` in this process.
pub fn run(which: Which, n: usize, threads: usize) -> Result<Measure, String> {
    match which {
        Which::Reparti => run_reparti(n, threads),
        Which::Stateright => run_stateright(n, threads),
    }
}

/// Runs reparti's generic check for whichever algorithm the catalogue names.
struct Run(CheckConfig);

impl AlgorithmVisitor for Run {
    type Output = Result<CheckReport, String>;
    fn visit<A: Algorithm>(self) -> Self::Output {
        reparti_check::check::<A>(&self.0, false, &|_| {}, None).map_err(|e| e.to_string())
    }
}

/// reparti's breadth-first search, configured as `reparti bench --checker` does
/// (crates/reparti/src/bench_check.rs): worst-case identities, unordered network, no
/// liveness pass, 64-bit fingerprints (the default), no reduction.
fn run_reparti(n: usize, threads: usize) -> Result<Measure, String> {
    let cfg = CheckConfig {
        nodes: Some(n),
        ids: IdAssignment::Desc,
        network: NetworkKind::Unordered,
        threads,
        liveness: false,
        ..CheckConfig::default()
    };
    let started = Instant::now();
    let report = reparti_algos::visit("chang-roberts", Run(cfg)).ok_or("reparti has no algorithm chang-roberts")??;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Measure {
        unique_states: report.unique_states,
        generated: report.states,
        seconds,
        search_seconds: report.seconds,
        peak_rss_bytes: peak_rss_bytes(),
        complete_and_holds: report.complete && report.all_good(),
    })
}

/// Stateright's breadth-first search of the same model.
fn run_stateright(n: usize, threads: usize) -> Result<Measure, String> {
    let model = ChangRoberts { idents: descending_idents(n)? };
    let initial_states = model.init_states().len() as u64;
    let started = Instant::now();
    let checker = model.checker().threads(threads).spawn_bfs().join();
    let seconds = started.elapsed().as_secs_f64();
    Ok(Measure {
        unique_states: checker.unique_state_count() as u64,
        generated: (checker.state_count() as u64).saturating_sub(initial_states),
        seconds,
        search_seconds: seconds,
        peak_rss_bytes: peak_rss_bytes(),
        complete_and_holds: checker.is_done() && checker.discoveries().is_empty(),
    })
}

/// The `VmHWM` line of /proc/self/status in bytes; 0 beyond Linux.
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_checkers_find_the_same_states_on_small_rings() {
        for n in 2..=6 {
            let r = run(Which::Reparti, n, 1).expect("reparti runs");
            let s = run(Which::Stateright, n, 1).expect("Stateright runs");
            assert_eq!(r.unique_states, s.unique_states, "unique states, n = {n}");
            assert_eq!(r.generated, s.generated, "successors generated, n = {n}");
            assert!(r.complete_and_holds && s.complete_and_holds, "n = {n}");
        }
        // reparti check chang-roberts -n 6 --ids desc --network unordered --no-liveness
        assert_eq!(run(Which::Stateright, 6, 2).expect("runs").unique_states, 9360);
    }
}
