//! # reparti-check: an exhaustive model checker for reparti algorithms
//!
//! A simulation shows that an algorithm worked for one schedule; the checker explores
//! **every** schedule of a small instance — every order of deliveries, timers and
//! external inputs, and, when asked, every loss, duplication and crash — and either
//! proves the algorithm's properties on all of them or returns the shortest run that
//! breaks one, as readable steps and as a trace the simulator can replay.
//!
//! The algorithms and their properties are exactly those the simulator uses. The
//! framework's clock stamps are left out of the states unless the algorithm reads them
//! or a property needs them, so runs that differ only in clock values are one state.
//!
//! * strategies: breadth-first (parallel, shortest counterexamples), depth-first,
//!   random walks;
//! * a lock-free visited set of 64- or 128-bit fingerprints (10.7–16 bytes per state),
//!   with the collision probability reported;
//! * a BFS frontier of postcard-packed states;
//! * partial-order reduction by ample sets where it is sound ([`CheckConfig::por`]);
//! * invariants, terminal properties and deadlocks on every state; liveness on the
//!   explicit graph ([`CheckConfig::liveness`]);
//! * honest endings: a search cut short (state or time limit, the memory budget of
//!   [`MemoryBudget`], an interrupt) says so in [`CheckReport::cut_short`], and
//!   establishes no property it did not check everywhere.

#![warn(missing_docs)]

mod bfs;
pub mod bitstate;
mod config;
mod counterexample;
mod dfs;
mod frontier;
mod histories;
mod liveness;
pub mod memory;
mod model;
mod packing;
mod por;
mod probe;
mod report;
mod search;
mod stab_cycles;
mod stab_graph;
pub mod stabilization;
mod state;
mod symmetry;
mod verdicts;
mod visited;
pub mod words;

// The public surface: what the CLI, the other crates and this crate's tests use, and the
// types of the report's fields. The search's machinery stays inside.
pub use bitstate::{BitstateConfig, BitstateReport};
pub use config::{CheckConfig, NetworkKind, Strategy};
pub use counterexample::{Counterexample, StepView};
pub use memory::MemoryBudget;
pub use model::Action;
pub use report::{CheckReport, Reduction, Verdict};
pub use search::{Progress, StopReason};

use liveness::Skipped;
use model::Model;
use reparti_core::Algorithm;
use search::{Limits, Outcome, Violated};
use std::io::Write;
use std::time::Instant;
use verdicts::{cut_reason, property_name, verdicts};

/// Why a check could not start.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The instance cannot be made (parameters, topology, identities).
    #[error(transparent)]
    Setup(#[from] reparti_core::SetupError),
    /// Anything else about the request.
    #[error("{0}")]
    Usage(String),
    /// The counterexample trace could not be written.
    #[error("cannot write the counterexample trace: {0}")]
    Trace(std::io::Error),
}

fn search<A: Algorithm>(m: &Model<A>, cfg: &CheckConfig, por: bool, progress: &(dyn Fn(&Progress) + Sync)) -> Outcome {
    let mut out = match cfg.strategy {
        Strategy::Bfs => bfs::bfs(m, cfg, por, progress),
        Strategy::Dfs => dfs::dfs(m, cfg, progress),
        Strategy::Random { walks, depth } => dfs::random_walks(m, cfg, walks, depth, progress),
    };
    // Nothing was left to explore, but only of what the bit array admitted.
    if out.stop == search::StopReason::Exhausted && cfg.bitstate.is_some() {
        out.stop = search::StopReason::Bitstate;
    }
    out
}

/// Whether [`check`] would accept `cfg` for `A` (parameters, topology, identities,
/// size), without searching: so that a caller can say something before a long search
/// without saying it before a refusal.
pub fn validate<A: Algorithm>(cfg: &CheckConfig) -> Result<(), CheckError> {
    Model::<A>::new(cfg).map(|_| ())
}

/// Checks algorithm `A` as configured; writes the counterexample (if any) to `trace`.
pub fn check<A: Algorithm>(
    cfg: &CheckConfig,
    compare_reductions: bool,
    progress: &(dyn Fn(&Progress) + Sync),
    trace: Option<&mut dyn Write>,
) -> Result<CheckReport, CheckError> {
    let started = Instant::now();
    // Resolved once, so that every search of this check (and the report) has the same.
    let budget = MemoryBudget::resolve(cfg.max_memory);
    let cfg = &CheckConfig { max_memory: Some(budget.bytes), ..cfg.clone() };
    let mut m = Model::<A>::new(cfg)?;
    let symmetry_group = symmetry::group(&m);
    let symmetry_note = match (&symmetry_group, cfg.symmetry) {
        (Ok(g), true) => format!("{} renamings per state (one state stored per class)", g.len()),
        (Ok(_), false) => "off (pass --symmetry: this algorithm declares interchangeable nodes)".to_string(),
        (Err(why), true) => format!("not applied: {why}"),
        (Err(why), false) => format!("off ({why})"),
    };
    let symmetry_applied = cfg.symmetry && symmetry_group.is_ok();
    // A comparison search cut short (limits, budget, interrupt) counted only part of
    // the space: its count is left out rather than shown as the unreduced size.
    let counted = |o: Outcome| cut_reason(o.stop, cfg, &budget).is_none().then_some(o.unique);
    let unsymmetric = if symmetry_applied && compare_reductions {
        counted(search(&m, &CheckConfig { symmetry: false, ..cfg.clone() }, false, &|_| {}))
    } else {
        None
    };
    if symmetry_applied {
        m.symmetry = symmetry_group.ok();
    }
    let por_blocker = por::not_applicable(&m).or(match cfg.strategy {
        Strategy::Bfs => None,
        _ => Some("applied in breadth-first search only"),
    });
    let use_por = cfg.por && por_blocker.is_none();
    let mut out = search(&m, cfg, use_por, progress);
    let mut por_note = match (cfg.por, por_blocker) {
        (false, _) => "off (pass --por to reduce independent deliveries)".to_string(),
        (true, Some(why)) => format!("not applied: {why}"),
        (true, None) if out.por_reduced => "ample sets of one node's steps (FIFO channels)".to_string(),
        (true, None) => "on, but no state offered a sound reduction".to_string(),
    };
    let mut por_applied = use_por;
    if out.por_broken {
        out = search(&m, cfg, false, progress);
        por_applied = false;
        por_note = "switched off: the algorithm sent a message along no channel of the topology, which the reduction assumes never happens".into();
    }
    let unreduced_states =
        if compare_reductions && por_applied { counted(search(&m, cfg, false, &|_| {})) } else { None };

    let complete = matches!(out.stop, search::StopReason::Exhausted);
    let mut found = out.found.clone();
    let mut path = out.path.clone();
    // The liveness graph, the counterexample's path: within the same limits, the clock
    // counted from the start of the check.
    let mut limits = Limits::new(cfg);
    limits.started = started;
    let mut liveness_skipped = None;
    // Liveness, on the full graph, when everything else held.
    let liveness_verdicts = if found.is_none() && complete && cfg.liveness {
        match liveness::check(&m, cfg.liveness_limit, cfg.wide_fingerprints, &limits) {
            Ok(l) => {
                if let Some((kind, fp)) = l.failure() {
                    found = Some(search::Found {
                        violated: kind,
                        detail: match kind {
                            Violated::Liveness => {
                                "from this state no correct final state can be reached any more".into()
                            }
                            _ => "this state lies on a cycle that never reaches a correct final state".into(),
                        },
                        fp,
                        depth: out.max_depth + 1,
                    });
                    path = None;
                }
                Some((l.stuck.is_none(), l.cycle.is_none(), format!("on the full graph of {} states", l.states)))
            }
            Err(why) => {
                liveness_skipped = Some(why);
                None
            }
        }
    } else {
        None
    };

    let mut path_missing = None;
    let counterexample = match &found {
        Some(f) => {
            let path = match path {
                Some(p) => Some(p),
                None => {
                    let depth = f.depth.max(out.max_depth) + 1;
                    search::shortest_path(&m, f.violated, f.fp, depth, cfg.wide_fingerprints, &limits).unwrap_or_else(
                        |why| {
                            path_missing = Some(why);
                            None
                        },
                    )
                }
            };
            path.map(|p| counterexample::build(&m, &p, property_name(&m, f.violated), f.detail.clone()))
        }
        None => None,
    };
    if let (Some(cx), Some(out)) = (&counterexample, trace) {
        counterexample::write_trace(&m, cx, cfg.seed, &cfg.network.to_string(), out).map_err(CheckError::Trace)?;
    }

    // Why the answer is partial, if it is: the search stopped early with nothing found,
    // or the liveness check was interrupted or ran out of time.
    let cut_short = match (&found, liveness_skipped) {
        (Some(_), _) => None,
        (None, Some(Skipped::Cut(why))) => {
            cut_reason(why, cfg, &budget).map(|r| format!("{r}, during the liveness check"))
        }
        (None, _) => cut_reason(out.stop, cfg, &budget),
    };
    let liveness = match liveness_verdicts {
        Some(judged) => Ok(judged),
        None => Err(liveness_skipped),
    };
    let mut properties = verdicts(&m, &out, found.as_ref(), liveness, cfg, &budget);
    if let Some(f) = found.as_ref().filter(|_| counterexample.is_none()) {
        let name = property_name(&m, f.violated);
        let why = match path_missing {
            Some(search::StopReason::Memory) => "rebuilding the shortest path would outgrow the memory budget",
            Some(_) => "rebuilding the shortest path was interrupted",
            None => "its path could not be rebuilt",
        };
        if let Some(v) = properties.iter_mut().find(|v| v.name == name) {
            v.note = format!("{}; no counterexample: {why}", v.note);
        }
    }
    let unique = out.unique.max(1);
    let spec = &m.spec;
    Ok(CheckReport {
        algorithm: spec.name.to_string(),
        nodes: m.n(),
        topology: m.topology.kind().to_string(),
        idents: m.idents.clone(),
        params: m.params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        network: cfg.network.to_string(),
        faults: [("max_drops", m.max_drops), ("max_dups", m.max_dups), ("max_crashes", m.max_crashes)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        strategy: match cfg.strategy {
            Strategy::Bfs => "bfs".into(),
            Strategy::Dfs => "dfs".into(),
            Strategy::Random { walks, depth } => format!("random ({walks} walks of depth {depth})"),
        },
        threads: if cfg.strategy == Strategy::Bfs { cfg.threads.max(1) } else { 1 },
        states: out.generated,
        unique_states: out.unique,
        max_depth: out.max_depth,
        seconds: out.seconds,
        states_per_sec: out.unique as f64 / out.seconds.max(1e-9),
        bytes_per_state: out.table_bytes as f64 / unique as f64,
        frontier_peak_bytes: out.frontier_bytes,
        memory_budget_bytes: budget.bytes,
        memory_peak_bytes: out.memory_peak,
        complete,
        stop: match (&found, liveness_skipped) {
            (Some(_), _) => StopReason::Violation,
            (None, Some(Skipped::Cut(why))) => why,
            (None, _) => out.stop,
        },
        cut_short,
        properties,
        counterexample,
        fingerprint_bits: if cfg.wide_fingerprints { 128 } else { 64 },
        collision_probability: out.collision_probability,
        bitstate: out.bitstate.clone(),
        partial_order_reduction: Reduction {
            requested: cfg.por,
            applied: por_applied,
            note: por_note,
            unreduced_states,
        },
        symmetry_reduction: Reduction {
            requested: cfg.symmetry,
            applied: symmetry_applied,
            note: symmetry_note,
            unreduced_states: unsymmetric,
        },
        clocks: if m.clocks {
            "Lamport and vector stamps are part of the state (the algorithm or a property reads them)".into()
        } else {
            "left out of the state (the algorithm does not read them): runs differing only in clock values are one state".into()
        },
    })
}
