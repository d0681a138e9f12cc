//! # reparti-lin: is this history linearizable?
//!
//! A history records what clients asked of a shared object and what they were answered,
//! with when. It is *linearizable* (Herlihy and Wing, 1990) when every operation can be
//! given one instant between its invocation and its completion such that, in that
//! order, the answers are those of the sequential object. This crate decides it for a
//! register, a compare-and-set register, a key-value store, a queue and a set:
//!
//! * the search is Wing and Gong's with Lowe's memoization ([`search`]), as Porcupine
//!   runs it;
//! * a history over many keys is checked key by key, in parallel — linearizability is
//!   local (Herlihy and Wing's locality; Horn and Kroening's P-compositionality), so the
//!   whole is linearizable exactly when every key's part is;
//! * an operation whose outcome is unknown (a crashed client, a timeout) is *pending*:
//!   it may be placed anywhere after its call with any answer, or after everything;
//! * within a budget of time and memory, the answer is linearizable (with a witness
//!   order), not linearizable (with the key, the longest linearizable prefix and the
//!   operation that cannot be placed) or unknown — never a wrong verdict.
//!
//! It reads reparti's histories, Jepsen's logs and Jepsen's EDN operation maps ([`read`]).

#![warn(missing_docs)]

pub mod edn;
pub mod history;
pub mod linearized_set;
pub mod model;
pub mod picture;
pub mod read;
pub mod search;
pub mod sequential;

pub use history::{Answer, Call, History, Operation};
pub use model::{Model, State};
pub use read::{read_history, ReadError};
pub use search::{check_object, Budget, Outcome};
pub use sequential::check_sequential;

/// Which condition a history is checked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Consistency {
    /// Real-time order between clients counts (Herlihy and Wing): checked key by key.
    #[default]
    Linearizable,
    /// Only each client's own order counts (Lamport): checked on the whole history.
    Sequential,
}

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The verdict on one key's part of a history.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyResult {
    /// The key (`None` for a history of one object).
    pub key: Option<String>,
    /// Its operations, in the history's order.
    pub operations: Vec<Operation>,
    /// What the search found.
    pub outcome: Outcome,
}

/// The whole history's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every key's part is linearizable.
    Linearizable,
    /// Some key's part is not.
    NotLinearizable,
    /// No part failed, but some ran out of budget.
    Unknown,
}

/// Every key's result, in key order.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// One per key.
    pub keys: Vec<KeyResult>,
}

impl Report {
    /// The history's verdict: not linearizable as soon as one part is.
    pub fn verdict(&self) -> Verdict {
        let any = |f: fn(&Outcome) -> bool| self.keys.iter().any(|k| f(&k.outcome));
        if any(|o| matches!(o, Outcome::NotLinearizable { .. })) {
            Verdict::NotLinearizable
        } else if any(|o| matches!(o, Outcome::Unknown { .. })) {
            Verdict::Unknown
        } else {
            Verdict::Linearizable
        }
    }
}

/// Checks `history` for sequential consistency against `model` (the whole history at
/// once: the condition is not local).
pub fn check_sequentially(history: &History, model: Model, budget: &Budget) -> Result<Report, ReadError> {
    refuse_foreign_operations(history, model)?;
    let outcome = check_sequential(model, &history.operations, budget);
    Ok(Report { keys: vec![KeyResult { key: None, operations: history.operations.clone(), outcome }] })
}

/// An operation the model does not have (a `dequeue` on a register) is an error naming
/// its line.
fn refuse_foreign_operations(history: &History, model: Model) -> Result<(), ReadError> {
    match history.operations.iter().find(|o| !model.accepts(&o.call)) {
        Some(op) => Err(ReadError {
            line: op.line,
            problem: format!("the {model} model has no '{}' operation; choose another --model", op.call),
        }),
        None => Ok(()),
    }
}

/// Checks `history` for linearizability against `model`, each key apart, on up to
/// `threads` threads.
pub fn check(history: &History, model: Model, budget: &Budget, threads: usize) -> Result<Report, ReadError> {
    refuse_foreign_operations(history, model)?;
    let parts = history.by_key();
    // Biggest parts first, so that one long key does not finish last alone.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(parts[k].1.len()));
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; parts.len()]);
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(&k) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let outcome = check_object(model, &parts[k].1, budget);
            // A poisoned lock only means another worker panicked; the vector is still whole.
            results.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(outcome);
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads.clamp(1, parts.len().max(1)) {
            s.spawn(work);
        }
        work();
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let keys = parts
        .into_iter()
        .zip(results)
        .map(|((key, operations), outcome)| KeyResult {
            key,
            operations,
            outcome: outcome.unwrap_or(Outcome::Unknown { reason: "not checked".into() }),
        })
        .collect();
    Ok(Report { keys })
}
