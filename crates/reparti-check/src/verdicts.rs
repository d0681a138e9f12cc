//! From what a search saw to each property's verdict, and why an answer is partial.
//!
//! A property is ✓ only when the search exhausted the space: a search cut short (state
//! or time limit, memory budget, interrupt, depth bound, random walks) found no
//! violation in what it explored, which proves nothing, so its verdicts are "not
//! established" (`holds: None`) and say why.

use crate::config::CheckConfig;
use crate::liveness::Skipped;
use crate::memory::{human_bytes, MemoryBudget};
use crate::model::Model;
use crate::report::Verdict;
use crate::search::{Found, Outcome, StopReason, Violated};
use reparti_core::Algorithm;

pub(crate) const LIVE_EVENTUALLY: &str = "eventually a correct end (AG EF done)";
pub(crate) const LIVE_TERMINATES: &str = "every run terminates (no cycle avoids done)";

/// The name of the violated property.
pub(crate) fn property_name<A: Algorithm>(m: &Model<A>, v: Violated) -> String {
    match v {
        Violated::Invariant(k) => match m.props.invariants.get(k) {
            Some(i) => i.name().to_string(),
            None => m.history_props[k - m.props.invariants.len()].name.to_string(),
        },
        Violated::Terminal(k) => match m.props.terminal.get(k) {
            Some(t) => t.name.to_string(),
            None => m.history_props[k - m.props.terminal.len()].name.to_string(),
        },
        Violated::Liveness => LIVE_EVENTUALLY.into(),
        Violated::Cycle => LIVE_TERMINATES.into(),
    }
}

/// Why a search that stopped for `stop` leaves the answer partial, in words that follow
/// "the search was cut short (reason: …)"; `None` when it does not (exhausted, or
/// stopped at a violation, which is a real one however little was explored).
pub(crate) fn cut_reason(stop: StopReason, cfg: &CheckConfig, budget: &MemoryBudget) -> Option<String> {
    Some(match stop {
        StopReason::Exhausted | StopReason::Violation => return None,
        StopReason::MaxStates => format!("state limit of {} states", cfg.max_states.unwrap_or(0)),
        StopReason::Time => format!("time limit of {} s", cfg.max_seconds.unwrap_or(0.0)),
        StopReason::Memory => format!("memory budget of {} reached", human_bytes(budget.bytes)),
        StopReason::Interrupted => "interrupted".into(),
        StopReason::Depth => format!("depth limit of {}", cfg.max_depth.unwrap_or(0)),
        StopReason::Walks => "random walks visit only a sample of the states".into(),
        StopReason::Bitstate => "bitstate hashing may have taken new states for visited ones".into(),
    })
}

/// Every property's verdict. `liveness` is the judged liveness (AG EF done holds, no
/// cycle holds, how) or why it was not judged (`None`: not attempted).
pub(crate) fn verdicts<A: Algorithm>(
    m: &Model<A>,
    out: &Outcome,
    found: Option<&Found>,
    liveness: Result<(bool, bool, String), Option<Skipped>>,
    cfg: &CheckConfig,
    budget: &MemoryBudget,
) -> Vec<Verdict> {
    let complete = out.stop == StopReason::Exhausted;
    // The reason itself is said once, in the report's status and verdict lines.
    let not_established = |what: &str| {
        format!("not established: {what} in the {} states explored, but the search was cut short", out.unique)
    };
    let stopped = "not fully checked: the search stopped at the first violation".to_string();
    // Liveness is checked after an exhaustive safety search that found nothing, so a
    // liveness failure leaves every safety verdict standing.
    let safety_found = found.filter(|f| !matches!(f.violated, Violated::Liveness | Violated::Cycle));
    let judge = |this: Violated, kind: &'static str, name: &str| -> Verdict {
        let (holds, note) = match safety_found {
            Some(f) if f.violated == this => (Some(false), f.detail.clone()),
            Some(_) => (None, stopped.clone()),
            None if complete => (Some(true), format!("in all {} reachable states", out.unique)),
            None => (None, not_established("no violation")),
        };
        Verdict { name: name.to_string(), kind, holds, note }
    };
    let mut v: Vec<Verdict> = m
        .props
        .invariants
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let mut verdict = judge(Violated::Invariant(k), "invariant", i.name());
            if matches!(i, reparti_core::Invariant::Stabilizing { .. }) {
                // A self-stabilizing algorithm's L, held here as closure; how long its
                // runs stay outside L after a fault is the simulator's to measure.
                verdict.kind = "closure";
            }
            verdict
        })
        .collect();
    // Linearizability decided call by call is an invariant of the recorded history; any
    // other history property is judged in final states.
    let online = m.history_props.iter().all(|h| h.linearizability);
    if online {
        let first = m.props.invariants.len();
        v.extend(m.history_props.iter().map(|h| judge(Violated::Invariant(first), "history", h.name)));
    }
    let finals = m.props.terminal.iter().map(|t| ("terminal", t.name));
    let histories = m.history_props.iter().filter(|_| !online).map(|h| ("history", h.name));
    for (k, (kind, name)) in finals.chain(histories).enumerate() {
        let mut verdict = judge(Violated::Terminal(k), kind, name);
        if safety_found.is_none() {
            verdict.note = match (complete, out.terminal_seen) {
                (true, true) => "in every final state reachable".into(),
                (true, false) => "no final state was reached".into(),
                (false, true) => not_established("no final state broke it"),
                (false, false) => not_established("no final state was reached"),
            };
        }
        v.push(verdict);
    }
    let terminal_failed = found.is_some_and(|f| matches!(f.violated, Violated::Terminal(_)));
    let (holds, note) = if terminal_failed {
        (Some(false), "a state with nothing left to do is not a correct final state".to_string())
    } else if found.is_some() {
        (None, "every state with nothing left to do is a correct final state".to_string())
    } else if !complete {
        (None, not_established("no deadlock"))
    } else {
        (Some(true), "every state with nothing left to do is a correct final state".to_string())
    };
    v.push(Verdict { name: "no deadlock".into(), kind: "deadlock", holds, note });
    match liveness {
        Ok((eventually, terminates, how)) => {
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
        Err(skipped) => {
            let why = if !cfg.liveness {
                "not checked (--no-liveness)".to_string()
            } else if found.is_some() {
                stopped.clone()
            } else if !complete {
                "not checked: the search was cut short, so it did not exhaust the space".to_string()
            } else {
                match skipped {
                    Some(Skipped::Memory) => format!(
                        "not checked: the state graph would outgrow the memory budget of {} (raise --max-memory)",
                        human_bytes(budget.bytes)
                    ),
                    Some(Skipped::Cut(why)) => format!(
                        "not checked: {} during the liveness check",
                        cut_reason(why, cfg, budget).unwrap_or_else(|| "stopped".into())
                    ),
                    Some(Skipped::TooBig) | None => {
                        format!("not checked: more than {} states (raise --liveness-limit)", cfg.liveness_limit)
                    }
                }
            };
            for name in [LIVE_EVENTUALLY, LIVE_TERMINATES] {
                v.push(Verdict { name: name.into(), kind: "liveness", holds: None, note: why.clone() });
            }
        }
    }
    v
}
