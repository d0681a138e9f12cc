//! Linearizability decided call by call, as a history grows: Lowe's *just-in-time
//! linearization* ("Testing for linearizability", Concurrency and Computation, 2017).
//!
//! Instead of a history, it keeps every *configuration* some linearization of the
//! history so far can have reached: the registers' values, and each open operation with
//! whether it has already taken effect (and with what answer). A call adds an open
//! operation to each. A return keeps only the configurations in which the operation can
//! take effect with the answer it returned — possibly after other open operations took
//! effect first — and closes it. The history is linearizable (Herlihy & Wing, 1990)
//! exactly as long as some configuration is left.
//!
//! Operations that never return stay open: they may have taken effect or not, which is
//! what a pending operation means. Completed operations leave nothing behind but their
//! effect on the registers, so two histories with the same effect and the same open
//! operations are one value: the model checker keeps this in its states in place of the
//! history, and paths that differ only in how their clients' operations interleaved
//! meet again.

use crate::history::{Operation, Reply};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What a linearization of the history so far may have reached, or why none exists.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Linearization {
    configurations: BTreeSet<Configuration>,
    /// Why the history stopped being linearizable (or well formed), once it has.
    broken: Option<String>,
}

/// One reachable configuration.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
struct Configuration {
    /// Written registers and their values, by register (an absent one is `nil`).
    registers: Vec<(u32, i64)>,
    /// The open operations, by client.
    open: Vec<Open>,
}

/// An operation called and not yet returned.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
struct Open {
    client: u32,
    operation: Operation,
    /// Its answer, once it has taken effect in this configuration.
    took_effect: Option<Reply>,
}

impl Default for Linearization {
    fn default() -> Self {
        let start = Configuration { registers: Vec::new(), open: Vec::new() };
        Linearization { configurations: BTreeSet::from([start]), broken: None }
    }
}

impl Linearization {
    /// The empty history: every register `nil`, nothing open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Why the history is not linearizable (or not a history), once that is known.
    pub fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// The history is not one (an output that should be a call or a return is neither):
    /// nothing after it is judged.
    pub fn malformed(&mut self, why: String) {
        self.broken.get_or_insert(why);
    }

    /// `client` called `operation`.
    pub fn call(&mut self, client: u32, operation: Operation) {
        if self.broken.is_some() {
            return;
        }
        let opened = Open { client, operation, took_effect: None };
        let mut next = BTreeSet::new();
        for mut c in std::mem::take(&mut self.configurations) {
            match c.open.binary_search_by_key(&client, |o| o.client) {
                Ok(_) => {
                    self.broken = Some(format!("client {client} called {operation} with an operation still open"));
                    return;
                }
                Err(at) => c.open.insert(at, opened),
            }
            next.insert(c);
        }
        self.configurations = next;
    }

    /// `client`'s open operation returned `reply`.
    pub fn ret(&mut self, client: u32, reply: Reply) {
        if self.broken.is_some() {
            return;
        }
        let mut kept = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut todo: Vec<Configuration> = std::mem::take(&mut self.configurations).into_iter().collect();
        let mut operation = None;
        while let Some(c) = todo.pop() {
            let Ok(i) = c.open.binary_search_by_key(&client, |o| o.client) else {
                self.broken = Some(format!("client {client} returned {reply} with no operation open"));
                return;
            };
            operation = Some(c.open[i].operation);
            if let Some(answer) = c.open[i].took_effect {
                if answer == reply {
                    kept.insert(c.closed(i));
                }
                continue;
            }
            // It takes effect now, or another open operation takes effect before it.
            let now = c.took_effect(i);
            if now.open[i].took_effect == Some(reply) {
                kept.insert(now.closed(i));
            }
            for j in 0..c.open.len() {
                if j != i && c.open[j].took_effect.is_none() {
                    let before = c.took_effect(j);
                    if seen.insert(before.clone()) {
                        todo.push(before);
                    }
                }
            }
        }
        if kept.is_empty() {
            let what = operation.map_or("its operation".to_string(), |o| o.to_string());
            self.broken = Some(format!(
                "client {client}'s {what} returned {reply}, which no order of the operations so far explains"
            ));
        }
        self.configurations = kept;
    }

    /// The same, with client `i` renamed `perm[i]` (symmetry reduction).
    pub fn renamed(&self, perm: &[u32]) -> Linearization {
        let to = |c: u32| perm.get(c as usize).copied().unwrap_or(c);
        let configurations = self
            .configurations
            .iter()
            .map(|c| {
                let mut open: Vec<Open> = c.open.iter().map(|o| Open { client: to(o.client), ..*o }).collect();
                open.sort_unstable();
                Configuration { registers: c.registers.clone(), open }
            })
            .collect();
        Linearization { configurations, broken: self.broken.clone() }
    }
}

impl Configuration {
    /// The configuration after open operation `i` takes effect.
    fn took_effect(&self, i: usize) -> Configuration {
        let mut next = self.clone();
        let op = next.open[i].operation;
        let key = op.key();
        let at = next.registers.binary_search_by_key(&key, |r| r.0);
        let (answer, value) = op.apply(at.ok().map(|k| next.registers[k].1));
        match (at, value) {
            (Ok(k), Some(v)) => next.registers[k].1 = v,
            (Ok(k), None) => {
                next.registers.remove(k);
            }
            (Err(k), Some(v)) => next.registers.insert(k, (key, v)),
            (Err(_), None) => {}
        }
        next.open[i].took_effect = Some(answer);
        next
    }

    /// The configuration with open operation `i` closed.
    fn closed(mut self, i: usize) -> Configuration {
        self.open.remove(i);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W1: Operation = Operation::Write { key: 0, value: 1 };
    const R: Operation = Operation::Read { key: 0 };

    #[test]
    fn a_read_overlapping_a_write_may_see_either_value_and_then_no_going_back() {
        let mut h = Linearization::new();
        h.call(0, W1);
        h.call(1, R);
        h.ret(1, Reply::Value(Some(1)));
        assert_eq!(h.broken(), None, "the write took effect before the read");
        h.call(1, R);
        h.ret(1, Reply::Value(None));
        assert!(h.broken().is_some_and(|why| why.contains("client 1's read 0 returned ok nil")), "{h:?}");
    }

    #[test]
    fn a_read_after_a_completed_write_must_see_it() {
        let mut ok = Linearization::new();
        ok.call(1, R);
        ok.call(0, W1);
        ok.ret(0, Reply::Done);
        ok.ret(1, Reply::Value(None));
        assert_eq!(ok.broken(), None, "the read began before the write ended");
        let mut stale = Linearization::new();
        stale.call(0, W1);
        stale.ret(0, Reply::Done);
        stale.call(1, R);
        stale.ret(1, Reply::Value(None));
        assert!(stale.broken().is_some());
    }

    #[test]
    fn a_pending_write_may_or_may_not_have_taken_effect() {
        let mut h = Linearization::new();
        h.call(0, W1);
        h.call(1, R);
        h.ret(1, Reply::Value(None));
        h.call(1, R);
        h.ret(1, Reply::Value(Some(1)));
        assert_eq!(h.broken(), None);
        h.call(2, Operation::Cas { key: 0, from: 1, to: 2 });
        h.ret(2, Reply::Done);
        h.call(2, R);
        h.ret(2, Reply::Value(Some(2)));
        assert_eq!(h.broken(), None);
    }

    #[test]
    fn histories_with_the_same_effect_are_one_value_and_renaming_keeps_meaning() {
        let (mut a, mut b) = (Linearization::new(), Linearization::new());
        for (c, other) in [(0, 1), (1, 0)] {
            let h = if c == 0 { &mut a } else { &mut b };
            h.call(c, W1);
            h.ret(c, Reply::Done);
            h.call(other, R);
            h.ret(other, Reply::Value(Some(1)));
        }
        assert_eq!(a, b);
        let mut open = Linearization::new();
        open.call(0, R);
        let mut swapped = Linearization::new();
        swapped.call(1, R);
        assert_eq!(open.renamed(&[1, 0]), swapped);
    }

    #[test]
    fn malformed_histories_are_named() {
        let mut twice = Linearization::new();
        twice.call(0, R);
        twice.call(0, R);
        assert!(twice.broken().is_some_and(|why| why.contains("still open")));
        let mut orphan = Linearization::new();
        orphan.ret(3, Reply::Done);
        assert!(orphan.broken().is_some_and(|why| why.contains("no operation open")));
    }
}
