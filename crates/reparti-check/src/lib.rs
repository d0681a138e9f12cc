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
//!   explicit graph ([`CheckConfig::liveness`]).

#![warn(missing_docs)]

mod bfs;
mod config;
mod counterexample;
mod dfs;
mod frontier;
mod liveness;
mod model;
mod por;
mod report;
mod search;
mod state;
mod symmetry;
mod visited;

// The public surface: what the CLI, the other crates and this crate's tests use, and the
// types of the report's fields. The search's machinery stays inside.
pub use config::{CheckConfig, NetworkKind, Strategy};
pub use counterexample::{Counterexample, StepView};
pub use model::Action;
pub use report::{CheckReport, Reduction, Verdict};
pub use search::{Progress, StopReason};

use model::Model;
use reparti_core::Algorithm;
use search::{Outcome, Violated};
use std::io::Write;

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
    match cfg.strategy {
        Strategy::Bfs => bfs::bfs(m, cfg, por, progress),
        Strategy::Dfs => dfs::dfs(m, cfg, progress),
        Strategy::Random { walks, depth } => dfs::random_walks(m, cfg, walks, depth, progress),
    }
}

/// Checks algorithm `A` as configured; writes the counterexample (if any) to `trace`.
pub fn check<A: Algorithm>(
    cfg: &CheckConfig,
    compare_reductions: bool,
    progress: &(dyn Fn(&Progress) + Sync),
    trace: Option<&mut dyn Write>,
) -> Result<CheckReport, CheckError> {
    let mut m = Model::<A>::new(cfg)?;
    let symmetry_group = symmetry::group(&m);
    let symmetry_note = match (&symmetry_group, cfg.symmetry) {
        (Ok(g), true) => format!("{} renamings per state (one state stored per class)", g.len()),
        (Ok(_), false) => "off (pass --symmetry: this algorithm declares interchangeable nodes)".to_string(),
        (Err(why), true) => format!("not applied: {why}"),
        (Err(why), false) => format!("off ({why})"),
    };
    let symmetry_applied = cfg.symmetry && symmetry_group.is_ok();
    let unsymmetric = if symmetry_applied && compare_reductions {
        Some(search(&m, &CheckConfig { symmetry: false, ..cfg.clone() }, false, &|_| {}).unique)
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
    let unreduced_states = (compare_reductions && por_applied).then(|| search(&m, cfg, false, &|_| {}).unique);

    let complete = matches!(out.stop, search::StopReason::Exhausted);
    let mut found = out.found.clone();
    let mut path = out.path.clone();
    // Liveness, on the full graph, when everything else held.
    let liveness_verdicts = if found.is_none() && complete && cfg.liveness {
        match liveness::check(&m, cfg.liveness_limit, cfg.wide_fingerprints) {
            Some(l) => {
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
            None => None,
        }
    } else {
        None
    };

    let counterexample = match &found {
        Some(f) => {
            let path = match path {
                Some(p) => Some(p),
                None => {
                    search::shortest_path(&m, f.violated, f.fp, f.depth.max(out.max_depth) + 1, cfg.wide_fingerprints)
                }
            };
            path.map(|p| counterexample::build(&m, &p, property_name(&m, f.violated), f.detail.clone()))
        }
        None => None,
    };
    if let (Some(cx), Some(out)) = (&counterexample, trace) {
        counterexample::write_trace(&m, cx, cfg.seed, &cfg.network.to_string(), out).map_err(CheckError::Trace)?;
    }

    let properties = verdicts(&m, &out, found.as_ref(), complete, liveness_verdicts, cfg);
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
        complete,
        stop: if found.is_some() { StopReason::Violation } else { out.stop },
        properties,
        counterexample,
        fingerprint_bits: if cfg.wide_fingerprints { 128 } else { 64 },
        collision_probability: out.collision_probability,
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

fn property_name<A: Algorithm>(m: &Model<A>, v: Violated) -> String {
    match v {
        Violated::Invariant(k) => m.props.invariants[k].name().to_string(),
        Violated::Terminal(k) => m.props.terminal[k].name.to_string(),
        Violated::Liveness => LIVE_EVENTUALLY.into(),
        Violated::Cycle => LIVE_TERMINATES.into(),
    }
}

const LIVE_EVENTUALLY: &str = "eventually a correct end (AG EF done)";
const LIVE_TERMINATES: &str = "every run terminates (no cycle avoids done)";

fn verdicts<A: Algorithm>(
    m: &Model<A>,
    out: &Outcome,
    found: Option<&search::Found>,
    complete: bool,
    liveness: Option<(bool, bool, String)>,
    cfg: &CheckConfig,
) -> Vec<Verdict> {
    let scope = if complete {
        format!("in all {} reachable states", out.unique)
    } else {
        format!("in the {} states explored (the search is incomplete)", out.unique)
    };
    let stopped = "not fully checked: the search stopped at the first violation".to_string();
    // Liveness is checked after an exhaustive safety search that found nothing, so a
    // liveness failure leaves every safety verdict standing.
    let safety_found = found.filter(|f| !matches!(f.violated, Violated::Liveness | Violated::Cycle));
    let judge = |this: Violated, kind: &'static str, name: &str| -> Verdict {
        let (holds, note) = match safety_found {
            Some(f) if f.violated == this => (Some(false), f.detail.clone()),
            Some(_) => (None, stopped.clone()),
            None => (Some(true), scope.clone()),
        };
        Verdict { name: name.to_string(), kind, holds, note }
    };
    let mut v: Vec<Verdict> = m
        .props
        .invariants
        .iter()
        .enumerate()
        .map(|(k, i)| judge(Violated::Invariant(k), "invariant", i.name()))
        .collect();
    for (k, t) in m.props.terminal.iter().enumerate() {
        let mut verdict = judge(Violated::Terminal(k), "terminal", t.name);
        if verdict.holds == Some(true) {
            verdict.note = if out.terminal_seen {
                format!("in every final state {}", if complete { "reachable" } else { "explored" })
            } else {
                "no final state was reached".into()
            };
        }
        v.push(verdict);
    }
    let terminal_failed = found.is_some_and(|f| matches!(f.violated, Violated::Terminal(_)));
    v.push(Verdict {
        name: "no deadlock".into(),
        kind: "deadlock",
        holds: if terminal_failed {
            Some(false)
        } else if found.is_some() {
            None
        } else {
            Some(true)
        },
        note: if terminal_failed {
            "a state with nothing left to do is not a correct final state".into()
        } else {
            "every state with nothing left to do is a correct final state".into()
        },
    });
    match liveness {
        Some((eventually, terminates, how)) => {
            let live = |name: &str, ok: bool, this: Violated| Verdict {
                name: name.into(),
                kind: "liveness",
                holds: Some(ok),
                note: match found {
                    Some(f) if f.violated == this => f.detail.clone(),
                    _ => how.clone(),
                },
            };
            v.push(live(LIVE_EVENTUALLY, eventually, Violated::Liveness));
            v.push(live(LIVE_TERMINATES, terminates, Violated::Cycle));
        }
        None => {
            let why = if !cfg.liveness {
                "not checked (--no-liveness)".to_string()
            } else if found.is_some() {
                stopped.clone()
            } else if !complete {
                "not checked: the search did not exhaust the space".to_string()
            } else {
                format!("not checked: more than {} states (raise --liveness-limit)", cfg.liveness_limit)
            };
            for name in [LIVE_EVENTUALLY, LIVE_TERMINATES] {
                v.push(Verdict { name: name.into(), kind: "liveness", holds: None, note: why.clone() });
            }
        }
    }
    v
}
