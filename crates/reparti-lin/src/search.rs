//! Linearizability of one object's history: Wing and Gong's search with Lowe's
//! memoization, as Porcupine's `checkSingle` runs it, with two changes that matter on
//! long histories: a memo key that does not grow with the history
//! ([`crate::linearized_set`]), and reads never tried in every order
//! ([`check_object`]).
//!
//! The calls and returns are put in one time-ordered list (calls first at equal times,
//! a pending operation's return at +∞). The search walks the list from its head: a
//! call whose operation the model accepts in the current state is *linearized* — pushed
//! on a stack, the state advanced, the call and its return unlinked — and the walk
//! restarts at the head; a return reached means the operations before it could not all
//! be placed, so the last choice is undone and the walk goes on after it. Only calls
//! before the first remaining return are tried: the minimal operations (Wing and Gong's
//! rule). A configuration already seen — the same set of linearized operations and the
//! same state — is never explored twice (Lowe's memoization), which is what makes the
//! search practical.
//!
//! J. M. Wing and C. Gong, "Testing and verifying concurrent objects", JPDC 17(1), 1993;
//! G. Lowe, "Testing for linearizability", Concurrency and Computation 29(4), 2017.

use crate::history::Operation;
use crate::linearized_set::LinearizedSet;
use crate::model::{Model, State};
use std::collections::HashSet;
use std::time::Instant;

/// When to give up: a deadline and a bound on the configurations remembered.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Stop at this instant.
    pub deadline: Option<Instant>,
    /// Stop after remembering this many configurations (the search's memory).
    pub max_configurations: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { deadline: None, max_configurations: 50_000_000 }
    }
}

/// The verdict on one object's history.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Linearizable: the operations' ids in an order that explains every answer.
    Linearizable {
        /// The witness order.
        order: Vec<usize>,
    },
    /// Not linearizable.
    NotLinearizable {
        /// The longest sequence of operations the search could place (ids).
        prefix: Vec<usize>,
        /// The operation whose completion could not be passed after that prefix: it, or
        /// one of the operations concurrent with it, has no legal place.
        blocked: usize,
        /// The operations still to place that were invoked before `blocked` completed.
        involved: Vec<usize>,
    },
    /// The budget ran out before an answer.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// Configurations remembered: the linearized set (its compact key) and the state, under
/// a fixed hasher (the search's path must not depend on a random seed).
type Seen = HashSet<(Box<[u64]>, State), foldhash::fast::FixedState>;

/// The doubly linked list of calls and returns the search walks; entry 0 is the head.
struct Entries {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// For entry `e` (from 1): the operation's index and whether it is its call.
    what: Vec<(usize, bool)>,
    /// For each operation: its return's entry.
    return_of: Vec<usize>,
}

impl Entries {
    fn new(ops: &[Operation]) -> Entries {
        // Calls before returns at equal times, so that touching intervals overlap.
        let mut events: Vec<(f64, bool, usize)> = Vec::with_capacity(2 * ops.len());
        for (k, op) in ops.iter().enumerate() {
            events.push((op.called, false, k));
            events.push((op.end(), true, k));
        }
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let m = events.len();
        let mut what = vec![(usize::MAX, false); m + 1];
        let mut return_of = vec![0; ops.len()];
        for (e, &(_, is_return, k)) in events.iter().enumerate() {
            what[e + 1] = (k, !is_return);
            if is_return {
                return_of[k] = e + 1;
            }
        }
        let next = (0..=m).map(|e| if e == m { 0 } else { e + 1 }).collect();
        let prev = (0..=m).map(|e| if e == 0 { m } else { e - 1 }).collect();
        Entries { next, prev, what, return_of }
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = e;
        self.prev[n] = e;
    }

    /// Removes an operation's call `e` and its return.
    fn lift(&mut self, e: usize) {
        let r = self.return_of[self.what[e].0];
        self.unlink(e);
        self.unlink(r);
    }

    /// Puts them back (in the reverse order, so the list is exactly as before).
    fn unlift(&mut self, e: usize) {
        let r = self.return_of[self.what[e].0];
        self.relink(r);
        self.relink(e);
    }
}

/// Checks one object's operations against `model`.
///
/// One pruning beyond Wing, Gong and Lowe: an operation that only observes the state
/// ([`Model::only_observes`]: a read, a failed compare-and-set, a dequeue from an empty
/// queue) is never tried later than where it was first placed. It was placed when it
/// was minimal — called before every remaining operation returned — so in any
/// linearization that continues the current prefix it can be moved up to right after
/// that prefix: no remaining operation precedes it in real time, it sees the prefix's
/// state, and moving it changes nobody else's. If placing it first led nowhere, so does every other order from that
/// configuration, and the search backs up one choice further. On a register history
/// with ten clients this is what keeps the search from trying the reads of one value in
/// every order.
pub fn check_object(model: Model, ops: &[Operation], budget: &Budget) -> Outcome {
    let mut list = Entries::new(ops);
    let called: Vec<f64> = ops.iter().map(|o| o.called).collect();
    let pending: Vec<bool> = ops.iter().map(Operation::pending).collect();
    let mut linearized = LinearizedSet::new(&called, &pending);
    let mut seen: Seen = HashSet::with_hasher(foldhash::fast::FixedState::with_seed(0x5eed));
    let mut state = model.init();
    // (call entry, state before it)
    let mut stack: Vec<(usize, State)> = Vec::new();
    // The deepest place a return blocked: the stack then (kept incrementally: `common`
    // is how much of `best` is still the bottom of the stack) and the blocked operation.
    let (mut best, mut common, mut blocked): (Vec<usize>, usize, Option<usize>) = (Vec::new(), 0, None);
    let mut steps: u64 = 0;
    let mut e = list.next[0];
    while list.next[0] != 0 {
        steps += 1;
        if steps.is_multiple_of(4096) && budget.deadline.is_some_and(|d| Instant::now() >= d) {
            return Outcome::Unknown { reason: format!("the time budget ran out after {steps} steps") };
        }
        let (k, is_call) = list.what[e];
        if is_call {
            let op = &ops[k];
            let after = model.step(&state, &op.call, op.answer.as_ref());
            let mut advanced = false;
            if let Some(next_state) = after {
                linearized.insert(k);
                if seen.insert((linearized.key(), next_state.clone())) {
                    if seen.len() > budget.max_configurations {
                        return Outcome::Unknown {
                            reason: format!(
                                "the memory budget ran out: {} configurations remembered",
                                budget.max_configurations
                            ),
                        };
                    }
                    stack.push((e, std::mem::replace(&mut state, next_state)));
                    list.lift(e);
                    e = list.next[0];
                    advanced = true;
                } else {
                    linearized.remove(k);
                }
            }
            if !advanced {
                e = list.next[e];
            }
        } else {
            // A return: its operation was not placed, and nothing before it works.
            if stack.len() >= best.len() && (blocked.is_none() || stack.len() > best.len()) {
                best.truncate(common);
                best.extend(stack[common..].iter().map(|(c, _)| list.what[*c].0));
                common = stack.len();
                blocked = Some(k);
            }
            // Undo the last choice — and the one before it, as long as the choice undone
            // only observed the state (a read): see `check_object`'s doc.
            loop {
                let Some((call, before)) = stack.pop() else {
                    return not_linearizable(ops, &best, blocked.unwrap_or(k));
                };
                common = common.min(stack.len());
                state = before;
                let undone = list.what[call].0;
                let observer = model.only_observes(&ops[undone].call, ops[undone].answer.as_ref());
                linearized.remove(undone);
                list.unlift(call);
                if !observer {
                    e = list.next[call];
                    break;
                }
            }
        }
    }
    Outcome::Linearizable { order: stack.iter().map(|(c, _)| ops[list.what[*c].0].id).collect() }
}

fn not_linearizable(ops: &[Operation], prefix: &[usize], blocked: usize) -> Outcome {
    let placed: HashSet<usize> = prefix.iter().copied().collect();
    let until = ops[blocked].end();
    let involved =
        (0..ops.len()).filter(|k| !placed.contains(k) && ops[*k].called <= until).map(|k| ops[k].id).collect();
    Outcome::NotLinearizable { prefix: prefix.iter().map(|&k| ops[k].id).collect(), blocked: ops[blocked].id, involved }
}
