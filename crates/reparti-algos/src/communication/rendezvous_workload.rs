//! # Random guard workloads for the rendezvous algorithms, deadlock-free by construction
//!
//! **What.** Each process gets a sequence of select statements drawn from the seed. A
//! random set of guards is usually a program that deadlocks on its own (process 1 waits
//! to receive from 2, who never sends): the algorithms could not be blamed for that. So
//! the workload is drawn in two steps:
//!
//! 1. a *plan*: ⌈rendezvous · n / 2⌉ random pairs `(p, q)` (each process takes part
//!    in `rendezvous` on average), in a global order; p gets the
//!    statement `!q(v)` and q the statement `?p`, in that order. Such a program cannot
//!    deadlock: the earliest unfinished pair of the plan is always at the head of both
//!    its processes' programs (everything before it in either program comes earlier in
//!    the plan, so it is done);
//! 2. *choice*: each statement gets up to `choice − 1` extra guards toward random other
//!    processes (only input guards for the asymmetric algorithm, where an output guard
//!    stands alone), each kept only if the program is still deadlock-free in CSP's own
//!    semantics, which [`deadlock_free`] decides by exploring every order in which the
//!    statements' rendezvous can happen (the program counters only: a small space).
//!    An extra guard may then be the one that fires, so the matching actually chosen
//!    varies with the schedule: the algorithms must cope with real choice.
//!
//! Every extra guard is checked on the whole program, so whatever the algorithm's
//! schedule, a process blocked for ever at the end is the algorithm's fault: the
//! terminal property "every select completed" is then a deadlock verdict.
//!
//! **Pitfalls.** The space of program-counter states grows with the number of
//! independent pairs. Pairs without choice on either side are fired first, alone (a
//! partial-order reduction that keeps every deadlock), which keeps it small; past
//! [`EXPLORE_LIMIT`] states an extra guard is simply not added (the plan alone is always
//! safe), so very large runs have less choice, never a deadlock of their own.

use super::guards::{Guard, Guards, Input};
use rand::Rng as _;
use reparti_core::{NodeId, Rng, ScheduledInput};
use std::collections::BTreeSet;

/// Past this many program-counter states, an extra guard is not added.
pub const EXPLORE_LIMIT: usize = 2_000;

/// What to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Rendezvous each process takes part in, on average: ⌈rendezvous · n / 2⌉ are planned.
    pub rendezvous: u32,
    /// Most guards per select.
    pub choice: u32,
    /// Output guards may take part in a choice (symmetric rendezvous).
    pub output_choice: bool,
}

/// The first value a planned or extra output guard sends; each one sends the next.
const FIRST_VALUE: i64 = 10;

/// Draws every process's selects, by position.
pub fn draw(n: usize, shape: &Shape, rng: &mut Rng) -> Vec<Vec<Guards>> {
    let mut plan: Vec<Vec<Vec<Guard>>> = vec![Vec::new(); n];
    if n < 2 {
        return vec![Vec::new(); n];
    }
    let count = planned(n, shape.rendezvous);
    let mut value = FIRST_VALUE;
    for _ in 0..count {
        let p = rng.gen_range(0..n);
        let q = (p + rng.gen_range(1..n)) % n;
        plan[p].push(vec![Guard::Send { to: NodeId(q as u32), value }]);
        plan[q].push(vec![Guard::Recv { from: NodeId(p as u32) }]);
        value += 1;
    }
    for p in 0..n {
        for k in 0..plan[p].len() {
            if !shape.output_choice && plan[p][k].iter().any(|g| g.sends().is_some()) {
                continue;
            }
            for _ in 1..shape.choice.max(1) {
                let free: Vec<usize> =
                    (0..n).filter(|&r| r != p && plan[p][k].iter().all(|g| g.partner().index() != r)).collect();
                if free.is_empty() {
                    break;
                }
                let r = NodeId(free[rng.gen_range(0..free.len())] as u32);
                let extra = match shape.output_choice && rng.gen_bool(0.5) {
                    true => Guard::Send { to: r, value },
                    false => Guard::Recv { from: r },
                };
                plan[p][k].push(extra);
                if deadlock_free(&plan, EXPLORE_LIMIT) == Some(true) {
                    value += 1;
                } else {
                    plan[p][k].pop();
                }
            }
        }
    }
    plan.into_iter().map(|selects| selects.into_iter().filter_map(|g| Guards::new(g).ok()).collect()).collect()
}

/// How many rendezvous the plan has for `n` processes taking part in `per_process`
/// each on average: ⌈per_process · n / 2⌉ (none for a lone process).
pub fn planned(n: usize, per_process: u32) -> u32 {
    match n {
        0 | 1 => 0,
        _ => (u64::from(per_process) * n as u64).div_ceil(2).min(u64::from(u32::MAX)) as u32,
    }
}

/// The selects as inputs at time 0, in program order (every engine applies time-0
/// inputs before any message, so each process starts with its whole program).
pub fn inputs(program: Vec<Vec<Guards>>) -> Vec<ScheduledInput<Input>> {
    let mut v = Vec::new();
    for (p, selects) in program.into_iter().enumerate() {
        for guards in selects {
            v.push(ScheduledInput { at: 0.0, node: NodeId(p as u32), input: Input::of(guards) });
        }
    }
    v
}

/// Whether every run of the program, in CSP's semantics, completes every select:
/// `Some(false)` if some reachable state has a process left with no rendezvous possible,
/// `None` if that was not settled within `limit` states.
pub fn deadlock_free(program: &[Vec<Vec<Guard>>], limit: usize) -> Option<bool> {
    let n = program.len();
    let head = |pcs: &[u16], p: usize| program[p].get(pcs[p] as usize);
    let mut seen: BTreeSet<Vec<u16>> = BTreeSet::new();
    let mut stack = vec![vec![0u16; n]];
    while let Some(pcs) = stack.pop() {
        if !seen.insert(pcs.clone()) {
            continue;
        }
        if seen.len() > limit {
            return None;
        }
        // Partial-order reduction: a pair whose heads are `!q(v)` alone and `?p` alone
        // can fire only with each other, and nothing else touches them meanwhile, so
        // firing it first hides no deadlock (a persistent set of one transition).
        let forced = (0..n).find_map(|p| match head(&pcs, p).map(Vec::as_slice) {
            Some([Guard::Send { to, .. }]) => {
                let alone =
                    head(&pcs, to.index()).map(Vec::as_slice) == Some(&[Guard::Recv { from: NodeId(p as u32) }]);
                alone.then_some((p, to.index()))
            }
            _ => None,
        });
        if let Some((p, q)) = forced {
            let mut next = pcs.clone();
            next[p] += 1;
            next[q] += 1;
            stack.push(next);
            continue;
        }
        let mut stuck = true;
        for p in 0..n {
            let Some(guards) = head(&pcs, p) else { continue };
            for g in guards {
                let Guard::Send { to, .. } = *g else { continue };
                let q = to.index();
                let receives = head(&pcs, q).is_some_and(|h| h.contains(&Guard::Recv { from: NodeId(p as u32) }));
                if receives {
                    stuck = false;
                    let mut next = pcs.clone();
                    next[p] += 1;
                    next[q] += 1;
                    stack.push(next);
                }
            }
        }
        if stuck && (0..n).any(|p| head(&pcs, p).is_some()) {
            return Some(false);
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(to: u32, value: i64) -> Guard {
        Guard::Send { to: NodeId(to), value }
    }

    fn recv(from: u32) -> Guard {
        Guard::Recv { from: NodeId(from) }
    }

    #[test]
    fn a_program_that_waits_on_itself_is_found_deadlocking() {
        // 0: ?1 then !1 ; 1: ?0 then !0 — both receive first.
        let program = vec![vec![vec![recv(1)], vec![send(1, 1)]], vec![vec![recv(0)], vec![send(0, 2)]]];
        assert_eq!(deadlock_free(&program, 100), Some(false));
        // A choice that can pick the wrong partner: 0 may take 2's value, and 1 then waits for ever.
        let program = vec![vec![vec![recv(1), recv(2)]], vec![vec![send(0, 1)]], vec![vec![send(0, 2)]]];
        assert_eq!(deadlock_free(&program, 100), Some(false));
        let program =
            vec![vec![vec![recv(1), recv(2)], vec![recv(1), recv(2)]], vec![vec![send(0, 1)]], vec![vec![send(0, 2)]]];
        assert_eq!(deadlock_free(&program, 100), Some(true));
    }

    #[test]
    fn drawn_workloads_are_deadlock_free_and_have_choice() {
        let mut with_choice = 0;
        for n in 2..7usize {
            for seed in 0..20u64 {
                for output_choice in [false, true] {
                    let shape = Shape { rendezvous: 2, choice: 3, output_choice };
                    let program = draw(n, &shape, &mut reparti_core::rng(seed));
                    let plain: Vec<Vec<Vec<Guard>>> =
                        program.iter().map(|s| s.iter().map(|g| g.iter().copied().collect()).collect()).collect();
                    assert_eq!(deadlock_free(&plain, usize::MAX), Some(true), "n={n} seed={seed}");
                    let selects: usize = program.iter().map(Vec::len).sum();
                    assert_eq!(selects, 2 * n, "n={n}: two statements per planned rendezvous");
                    for s in program.iter().flatten() {
                        if !output_choice && s.len() > 1 {
                            assert!(s.iter().all(|g| g.sends().is_none()), "an output guard in a choice: {s}");
                        }
                        with_choice += usize::from(s.len() > 1);
                    }
                }
            }
        }
        assert!(with_choice > 100, "only {with_choice} selects with a choice");
    }
}
