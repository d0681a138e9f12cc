//! # Dijkstra's K-state ring (1974): one circulating privilege from any start
//!
//! *What.* n machines on a unidirectional ring, each holding a value in `0..K`. Machine
//! i reads its predecessor i−1; machine 0, the "bottom", is the only one that differs.
//! A machine is *privileged* when its guard holds, and the privilege plays the role of
//! a token: in a legitimate configuration exactly one machine is privileged, and its
//! move passes the privilege on to its successor. From an arbitrary configuration
//! (corrupted memory), the ring reaches a legitimate one by itself.
//!
//! **Source.** E. W. Dijkstra, "Self-stabilizing systems in spite of distributed
//! control", CACM 17(11):643–644, 1974 (EWD426), the first solution.
//!
//! ```text
//! machine 0:      if x[0] = x[n-1]  then x[0] := (x[n-1] + 1) mod K
//! machine i > 0:  if x[i] ≠ x[i-1]  then x[i] := x[i-1]
//! ```
//!
//! Both moves are rule 0, `move` ([`KState::rule_names`]); which one a node makes
//! depends only on whether it is machine 0.
//!
//! **How it runs here.** In the state-reading model ([`reparti_core::guarded`]): under
//! `reparti sim` a daemon (central, distributed or synchronous) picks the privileged
//! machines that move; under `reparti check` every configuration of `0..K`ⁿ is a start
//! and every daemon choice is explored; on real processes each machine sends its value
//! to its successor periodically and moves on the last value it received
//! ([`reparti_core::guarded::exchange`]). Parameter `k` (default `n`) takes `n`, `n-1`,
//! `n+1`, `n-2`, … or a whole number ≥ 2.
//!
//! **Pitfalls.**
//! * *K too small.* With K = n−2 (central daemon) or K = n−1 (distributed daemon) some
//!   runs cycle for ever with several privileges: the bottom machine can be fooled by a
//!   value that already circulates. `k=n-2` is accepted on purpose, so that the checker
//!   can show the cycle.
//! * *Reading the new value.* Under the distributed daemon, a machine that moves in the
//!   same step as its predecessor must read the predecessor's *old* value (the step
//!   reads the configuration before it: [`reparti_core::guarded::step`]). Reading the new
//!   one is a different, sequential, algorithm.
//! * *Trusting the central daemon on real processes.* The state exchange lets
//!   neighbours move on the same old values, as the distributed daemon does: K = n−1,
//!   enough under the central daemon, can cycle there. Use K ≥ n (the default).
//!
//! **Properties.** L = exactly one privileged machine in the ring: all values equal
//! (machine 0 privileged), or a, …, a, b, …, b with b ≠ a (the first b privileged), so
//! K + (n − 1)·K·(K − 1) legitimate configurations.
//! * *Closure*: in L, the privileged machine's move makes exactly its successor
//!   privileged.
//! * *Convergence*: at least one machine is always privileged (if no i > 0 is, all
//!   values are equal and machine 0 is); every infinite run makes machine 0 move
//!   infinitely often; with K ≥ n some value is held by none of machines 1..n−1 (they
//!   only copy, so they never create one); machine 0, stepping through the values,
//!   eventually takes it, and cannot move again until the ring has copied it all the
//!   way round: all values are then equal, which is L. Under the central daemon K ≥ n−1 suffices (a finer count; checked exhaustively
//!   for n ≤ 6); under the distributed daemon K ≥ n is needed (K = n−1 fails for
//!   n = 3..6).
//! * Starting all zeros, only machine 0 is privileged ([`KState::legitimate_start`]).
//!
//! **Costs.** Worst case to reach L from any start, measured by exhaustive exploration
//! (the same for K = n−1, n, n+1 under the central daemon; K = n, n+1 under the
//! distributed one). Under the distributed daemon a step may move several machines:
//! the longest runs count the steps below and, in moves, 8, 17, 29, 44 for n = 3..6.
//!
//! | n | central daemon (moves) | distributed daemon, K ≥ n (steps) |
//! |---|---|---|
//! | 3 | 2 (1 when K = 2) | 3 |
//! | 4 | 13 | 13 |
//! | 5 | 24 | 24 |
//! | 6 | 38 | 38 |
//!
//! With K = n−2 the central daemon fails to converge (n = 4, 5, 6); with K = n−1 the
//! distributed and even the synchronous daemon fail (n = 3..6).

use super::{check_reads, relative_param};
use reparti_core::guarded::{Guarded, RuleSet};
use reparti_core::{AlgorithmSpec, Chapter, NodeId, ParamSpec, Params, Rng, Topology};
use serde::{Deserialize, Serialize};

/// Dijkstra's K-state ring: the instance's sizes.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct KState {
    /// The number of machines.
    pub n: usize,
    /// The number of values a machine may hold (`0..K`).
    pub k: u32,
    /// L is the stricter staircase form (TLA+'s `UniqueToken`) rather than "exactly one
    /// privilege".
    pub unique_token: bool,
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::text(
        "k",
        "n",
        "states per machine K: n, n-1, n+1, … or a number ≥ 2 (K ≥ n−1 central daemon, K ≥ n distributed)",
    ),
    ParamSpec::text(
        "legitimacy",
        "one-privilege",
        "L: one-privilege (exactly one machine privileged) or unique-token (x_0..x_{i−1} = v and \
         x_i..x_{n−1} = v − 1 for some i: the reachable form, TLA+'s UniqueToken, n·K configurations)",
    ),
];

impl KState {
    /// The instance of `n` machines with `k` values each (no checks: use
    /// [`Guarded::build`] for user input).
    pub fn new(n: usize, k: u32) -> KState {
        KState { n, k, unique_token: false }
    }

    /// The staircase: machines `0..i` hold `v = x_0`, machines `i..n` hold `v − 1`, for
    /// some `1 ≤ i ≤ n` (all equal when `i = n`). Exactly the configurations a ring
    /// started all equal goes through.
    fn is_staircase(&self, config: &[u32]) -> bool {
        let v = config[0];
        let below = (v + self.k - 1) % self.k;
        let i = config.iter().position(|&x| x != v).unwrap_or(self.n);
        config[i..].iter().all(|&x| x == below)
    }

    fn pred(&self, i: usize) -> usize {
        (i + self.n - 1) % self.n
    }
}

impl Guarded for KState {
    type State = u32;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["ring"],
            default_nodes: 5,
            ..AlgorithmSpec::new(
                "dijkstra-k-state",
                Chapter::Selfstab,
                "Dijkstra (1974): K-state unidirectional ring, one circulating privilege from any start",
            )
        }
    }

    fn rule_names() -> &'static [&'static str] {
        &["move"]
    }

    fn build(params: &Params, topology: &Topology) -> Result<Self, String> {
        let n = topology.len();
        if n < 2 {
            return Err(format!("dijkstra-k-state needs a ring of at least 2 machines, not {n}; give 2 nodes or more"));
        }
        let k = relative_param(params, "k", n)?;
        if k < 2 {
            return Err(format!("parameter k={k}: K must be at least 2; give k=n (or k=n-1 under a central daemon)"));
        }
        let k = u32::try_from(k).map_err(|_| format!("parameter k={k} is too large; give k=n"))?;
        let unique_token = match params.raw("legitimacy") {
            None | Some("one-privilege") => false,
            Some("unique-token") => true,
            Some(other) => {
                return Err(format!("parameter legitimacy={other}: give one-privilege or unique-token"));
            }
        };
        let g = KState { n, k, unique_token };
        check_reads(&g, topology, "ring (i -> i+1)")?;
        Ok(g)
    }

    fn n(&self) -> usize {
        self.n
    }

    fn reads(&self, node: NodeId) -> Vec<NodeId> {
        vec![NodeId(self.pred(node.index()) as u32)]
    }

    fn domain(&self, _node: NodeId) -> Vec<u32> {
        (0..self.k).collect()
    }

    fn legitimate_start(&self) -> Vec<u32> {
        vec![0; self.n]
    }

    fn enabled(&self, node: NodeId, config: &[u32]) -> RuleSet {
        let i = node.index();
        let (me, before) = (config[i], config[self.pred(i)]);
        let privileged = if i == 0 { me == before } else { me != before };
        RuleSet::from(privileged)
    }

    fn apply(&self, node: NodeId, _rule: usize, config: &[u32]) -> u32 {
        let i = node.index();
        let before = config[self.pred(i)];
        if i == 0 {
            ((u64::from(before) + 1) % u64::from(self.k)) as u32
        } else {
            before
        }
    }

    fn legitimate(&self, config: &[u32]) -> bool {
        if self.unique_token {
            self.is_staircase(config)
        } else {
            reparti_core::guarded::privileges(self, config) == 1
        }
    }

    fn value(&self, _node: NodeId, state: &u32) -> i64 {
        i64::from(*state)
    }

    fn random_state(&self, _node: NodeId, rng: &mut Rng) -> u32 {
        use rand::Rng as _;
        rng.gen_range(0..self.k)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_closure, build, worst_case, worst_steps};
    use super::*;
    use reparti_core::guarded::{privileges, step, Move};
    use reparti_core::Daemon;

    fn ring(n: usize, k: &str) -> KState {
        build::<KState>("ring", n, &[("k", k)]).expect("a valid instance")
    }

    #[test]
    fn guards_on_hand_made_configurations() {
        let g = KState::new(4, 4);
        // All equal: only the bottom is privileged.
        assert_eq!(privileges(&g, &[2, 2, 2, 2]), 1);
        assert_eq!(g.enabled(NodeId(0), &[2, 2, 2, 2]), 1);
        assert_eq!(g.apply(NodeId(0), 0, &[3, 2, 2, 3]), 0, "(x[n-1] + 1) mod K wraps");
        // 0 1 1 2: machines 1 and 3 are privileged, and copy their predecessor.
        let c = [0, 1, 1, 2];
        assert_eq!(g.enabled(NodeId(0), &c), 0);
        assert_eq!(g.enabled(NodeId(1), &c), 1);
        assert_eq!(g.enabled(NodeId(2), &c), 0);
        assert_eq!(g.enabled(NodeId(3), &c), 1);
        assert_eq!(g.apply(NodeId(3), 0, &c), 1);
        // A simultaneous step reads the old values.
        let next = step(&g, &c, &[Move { node: NodeId(1), rule: 0 }, Move { node: NodeId(2), rule: 0 }]);
        assert_eq!(next, vec![0, 0, 1, 2]);
    }

    #[test]
    fn build_reads_k_relative_to_n_and_refuses_bad_values() {
        assert_eq!(ring(5, "n").k, 5);
        assert_eq!(ring(5, "n-1").k, 4);
        assert_eq!(ring(5, "n+1").k, 6);
        assert_eq!(ring(5, "7").k, 7);
        assert!(build::<KState>("ring", 3, &[("k", "n-2")]).is_err_and(|e| e.contains("at least 2")));
        assert!(build::<KState>("ring", 3, &[("k", "m")]).is_err_and(|e| e.contains("expected n")));
        assert!(build::<KState>("ring", 1, &[]).is_err());
        // A line has no channel n-1 -> 0.
        assert!(build::<KState>("line", 4, &[]).is_err_and(|e| e.contains("no channel")));
    }

    #[test]
    fn legitimate_start_is_legitimate_and_l_is_closed() {
        for n in 3..=5 {
            let g = ring(n, "n");
            assert!(g.legitimate(&g.legitimate_start()));
            assert_eq!(privileges(&g, &g.legitimate_start()), 1);
            // In L either all values are equal (machine 0 privileged: K configurations)
            // or machines 0..j hold a and j..n hold b ≠ a (machine j privileged):
            // K + (n−1)·K·(K−1) legitimate configurations.
            let (count, k) = (assert_closure(&g, Daemon::Central), n);
            assert_eq!(count, k + (n - 1) * k * (k - 1));
            assert_eq!(assert_closure(&g, Daemon::Distributed), count);
        }
    }

    #[test]
    fn converges_with_enough_states() {
        assert_eq!(worst_case(&ring(3, "2"), Daemon::Central), Some(1));
        assert_eq!(worst_case(&ring(3, "n"), Daemon::Central), Some(2));
        assert_eq!(worst_case(&ring(4, "n-1"), Daemon::Central), Some(13));
        // Under the distributed daemon: 3 and 13 steps, of 8 and 17 moves.
        assert_eq!(worst_steps(&ring(3, "n"), Daemon::Distributed), Some(3));
        assert_eq!(worst_case(&ring(3, "n"), Daemon::Distributed), Some(8));
        assert_eq!(worst_steps(&ring(4, "n"), Daemon::Distributed), Some(13));
        assert_eq!(worst_case(&ring(4, "n"), Daemon::Distributed), Some(17));
    }

    #[test]
    fn fails_with_too_few_states() {
        assert_eq!(worst_case(&ring(4, "n-2"), Daemon::Central), None);
        for n in 3..=4 {
            assert_eq!(worst_case(&ring(n, "n-1"), Daemon::Distributed), None, "n = {n}");
            assert_eq!(worst_case(&ring(n, "n-1"), Daemon::Synchronous), None, "n = {n}");
        }
    }

    /// The *Costs* table, for n up to 6.
    #[test]
    #[ignore = "every configuration up to n = 6 per daemon: slow in a debug build; run it with --ignored"]
    fn costs_table() {
        for (n, moves, distributed_moves) in [(3, 2, 8), (4, 13, 17), (5, 24, 29), (6, 38, 44)] {
            for k in ["n-1", "n", "n+1"] {
                let expect = if n == 3 && k == "n-1" { 1 } else { moves };
                assert_eq!(worst_case(&ring(n, k), Daemon::Central), Some(expect), "central, n = {n}, k = {k}");
            }
            for k in ["n", "n+1"] {
                let steps = if n == 3 { 3 } else { moves };
                assert_eq!(worst_steps(&ring(n, k), Daemon::Distributed), Some(steps), "n = {n}, k = {k}");
            }
            assert_eq!(worst_case(&ring(n, "n"), Daemon::Distributed), Some(distributed_moves));
            assert_eq!(worst_case(&ring(n, "n-1"), Daemon::Distributed), None, "distributed, n = {n}, k = n-1");
            if n > 3 {
                assert_eq!(worst_case(&ring(n, "n-2"), Daemon::Central), None, "central, n = {n}, k = n-2");
            }
        }
    }
}
