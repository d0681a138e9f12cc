//! Sequential consistency (Lamport, 1979): some interleaving of the clients' operations,
//! each client's in its own order, explains every answer — real time between clients
//! does not count.
//!
//! Unlike linearizability it is not local: two keys each sequentially consistent may
//! not be together. So the whole history is searched at once, the state being every
//! key's object. The search is a depth-first one over which client moves next, with the
//! same memoization as Lowe's (the set of placed operations and the state). A pending
//! operation ends its client's program (what the client did after it counts as another
//! client, as Jepsen does), so it may be placed anywhere after its client's others, with
//! any answer, or last of all (where it changes nothing anyone saw).

use crate::history::Operation;
use crate::model::{Model, State};
use crate::search::{Budget, Outcome};
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

/// Every key's object state.
type States = BTreeMap<Option<String>, State>;

/// Checks the whole history `ops` for sequential consistency against `model`.
pub fn check_sequential(model: Model, ops: &[Operation], budget: &Budget) -> Outcome {
    let programs = programs(ops);
    let mut at = vec![0usize; programs.len()];
    let mut states: States = ops.iter().map(|o| (o.key.clone(), model.init())).collect();
    // The configurations seen: how far each client's program is placed (which names the
    // placed set exactly, in a word per client) and the states.
    let mut seen: HashSet<(Box<[usize]>, States), foldhash::fast::FixedState> =
        HashSet::with_hasher(foldhash::fast::FixedState::with_seed(0x5eed));
    // (client moved, the state it changed, its key's state before)
    let mut stack: Vec<(usize, Option<String>, State)> = Vec::new();
    let mut best: Vec<usize> = Vec::new();
    // For each depth: the next client to try.
    let mut next_client = vec![0usize];
    let mut steps: u64 = 0;
    loop {
        if stack.len() == ops.len() {
            let order = stack.iter().scan(vec![0usize; programs.len()], |pos, (c, _, _)| {
                pos[*c] += 1;
                Some(ops[programs[*c][pos[*c] - 1]].id)
            });
            return Outcome::Linearizable { order: order.collect() };
        }
        steps += 1;
        if steps.is_multiple_of(4096) && budget.deadline.is_some_and(|d| Instant::now() >= d) {
            return Outcome::Unknown { reason: format!("the time budget ran out after {steps} steps") };
        }
        let depth = stack.len();
        let mut moved = false;
        while next_client[depth] < programs.len() {
            let c = next_client[depth];
            next_client[depth] += 1;
            let Some(&k) = programs[c].get(at[c]) else { continue };
            let op = &ops[k];
            let Some(before) = states.get(&op.key).cloned() else { continue };
            let Some(after) = model.step(&before, &op.call, op.answer.as_ref()) else { continue };
            states.insert(op.key.clone(), after);
            at[c] += 1;
            if !seen.insert((at.clone().into_boxed_slice(), states.clone())) {
                at[c] -= 1;
                states.insert(op.key.clone(), before);
                continue;
            }
            if seen.len() > budget.max_configurations {
                return Outcome::Unknown {
                    reason: format!(
                        "the memory budget ran out: {} configurations remembered",
                        budget.max_configurations
                    ),
                };
            }
            stack.push((c, op.key.clone(), before));
            next_client.push(0);
            moved = true;
            break;
        }
        if moved {
            continue;
        }
        // No client can move from here. The deepest such place is the one to report.
        if stack.len() > best.len() {
            best = replay_ids(&stack, &programs);
        }
        // Undo the last move — and the one before, as long as the move undone only
        // observed the state: a read can be placed as early as its program allows, so
        // if placing it there led nowhere, so does every other order from that point
        // (the argument of `search::check_object`, without real time).
        loop {
            next_client.pop();
            let Some((c, key, before)) = stack.pop() else {
                let stuck: Vec<usize> = best_frontier(ops, &programs, &best);
                let blocked = stuck.first().copied().unwrap_or(0);
                let prefix = best.iter().map(|&k| ops[k].id).collect();
                return Outcome::NotLinearizable { prefix, blocked, involved: stuck };
            };
            at[c] -= 1;
            states.insert(key, before);
            let undone = &ops[programs[c][at[c]]];
            if !model.only_observes(&undone.call, undone.answer.as_ref()) {
                break;
            }
        }
    }
}

/// Each client's operations in program order (invocation times, then history order).
/// A pending operation ends its client's program: what the client did next is another
/// program, as Jepsen gives a client whose operation's outcome is unknown a new process.
pub fn programs(ops: &[Operation]) -> Vec<Vec<usize>> {
    let mut clients: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (k, op) in ops.iter().enumerate() {
        clients.entry(op.client).or_default().push(k);
    }
    let mut programs = Vec::new();
    for mut own in clients.into_values() {
        own.sort_by(|&a, &b| ops[a].called.total_cmp(&ops[b].called).then(a.cmp(&b)));
        let mut current = Vec::new();
        for k in own {
            current.push(k);
            if ops[k].pending() {
                programs.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            programs.push(current);
        }
    }
    programs
}

/// The history indices of the operations on the stack, in order.
fn replay_ids(stack: &[(usize, Option<String>, State)], programs: &[Vec<usize>]) -> Vec<usize> {
    let mut pos = vec![0usize; programs.len()];
    stack
        .iter()
        .map(|(c, _, _)| {
            pos[*c] += 1;
            programs[*c][pos[*c] - 1]
        })
        .collect()
}

/// After the longest prefix `best` (history indices): each client's next operation, as
/// ids — none of which could be placed there.
fn best_frontier(ops: &[Operation], programs: &[Vec<usize>], best: &[usize]) -> Vec<usize> {
    let done: HashSet<usize> = best.iter().copied().collect();
    programs.iter().filter_map(|p| p.iter().find(|k| !done.contains(k)).map(|&k| ops[k].id)).collect()
}
