//! The chapter's history properties: a run's history is linearizable (Herlihy & Wing,
//! 1990), or at least sequentially consistent (Lamport, 1979), judged by `reparti_lin`
//! against a compare-and-set register per key — the object every protocol here offers.

use reparti_core::history::{self, HistoryLine, HistoryProperty};
use reparti_lin::{check, check_sequentially, read_history, Budget, Model, Outcome, Report, Verdict};
use std::time::{Duration, Instant};

/// The name of the linearizability property.
pub const LINEARIZABLE: &str = "the history is linearizable";
/// The name of the sequential-consistency property.
pub const SEQUENTIAL: &str = "the history is sequentially consistent";

/// How long one judgement may take: far more than any history a test or a checked
/// instance makes; a history that needs longer is reported as undecided, never passed.
const BUDGET: Duration = Duration::from_secs(60);

/// "The history is linearizable."
pub fn linearizable() -> HistoryProperty {
    HistoryProperty::linearizability(LINEARIZABLE, |lines| judge(lines, false))
}

/// "The history is sequentially consistent."
pub fn sequentially_consistent() -> HistoryProperty {
    HistoryProperty::new(SEQUENTIAL, |lines| judge(lines, true))
}

fn judge(lines: &[HistoryLine], sequential: bool) -> Result<(), String> {
    let mut text = Vec::new();
    history::write_jsonl(lines, &mut text).map_err(|e| e.to_string())?;
    let h =
        read_history(&String::from_utf8_lossy(&text)).map_err(|e| format!("the history does not read back: {e}"))?;
    // Sequential consistency has no real time to cut the search, and each configuration
    // remembers every register: a smaller bound keeps a long run's judgement in memory
    // (it then says "undecided", never passes).
    let max_configurations = if sequential { 1_000_000 } else { 20_000_000 };
    let budget = Budget { deadline: Some(Instant::now() + BUDGET), max_configurations };
    let report = if sequential { check_sequentially(&h, Model::Kv, &budget) } else { check(&h, Model::Kv, &budget, 1) }
        .map_err(|e| e.to_string())?;
    match report.verdict() {
        Verdict::Linearizable => Ok(()),
        Verdict::NotLinearizable => Err(why_not(&report)),
        Verdict::Unknown => {
            let why = report.keys.iter().find_map(|k| match &k.outcome {
                Outcome::Unknown { reason } => Some(reason.as_str()),
                _ => None,
            });
            Err(format!(
                "undecided on {} operations: {} (budget {} s)",
                h.operations.len(),
                why.unwrap_or("the search ran out of its budget"),
                BUDGET.as_secs()
            ))
        }
    }
}

/// The failing key, what could be placed and the operation that could not.
fn why_not(report: &Report) -> String {
    for part in &report.keys {
        if let Outcome::NotLinearizable { prefix, blocked, .. } = &part.outcome {
            let op = |id: usize| part.operations.iter().find(|o| o.id == id);
            let placed: Vec<String> = prefix.iter().filter_map(|&id| op(id)).map(short).collect();
            let key = part.key.as_deref().map(|k| format!("register {k}: ")).unwrap_or_default();
            let blocked = op(*blocked).map(short).unwrap_or_default();
            return format!("{key}after [{}], {blocked} has no legal place", placed.join(", "));
        }
    }
    "not linearizable".into()
}

/// `client 2 read → 5`.
fn short(op: &reparti_lin::Operation) -> String {
    let answer = op.answer.as_ref().map_or("pending".to_string(), |a| a.to_string());
    format!("client {} {} → {answer}", op.client, op.call)
}
