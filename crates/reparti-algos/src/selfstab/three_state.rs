//! # Dijkstra's three-state ring (1974, proved 1986): three states per machine suffice
//!
//! *What.* n ≥ 3 machines on a bidirectional ring, each holding a value in {0, 1, 2}
//! (arithmetic mod 3). The "bottom" machine 0 and the "top" machine n−1 differ from the
//! others. A privilege travels between the two ends and is reflected at each; in a
//! legitimate configuration exactly one guard holds in the whole system. Unlike the
//! K-state ring, the number of states does not grow with n.
//!
//! **Source.** E. W. Dijkstra, "Self-stabilizing systems in spite of distributed
//! control", CACM 17(11):643–644, 1974 (EWD426), the third solution; its correctness
//! proof appeared twelve years later: E. W. Dijkstra, "A belated proof of
//! self-stabilization", Distributed Computing 1(1):5–6, 1986.
//!
//! ```text
//! bottom (0):        right: if x[1] = x[0] + 1                  then x[0] := x[0] - 1
//! middle (0<i<n-1):  left:  if x[i-1] = x[i] + 1                then x[i] := x[i-1]
//!                    right: if x[i+1] = x[i] + 1                then x[i] := x[i+1]
//! top (n-1):         left:  if x[n-2] = x[0] ∧ x[n-1] ≠ x[0] + 1 then x[n-1] := x[0] + 1
//! ```
//!
//! Rule names ([`ThreeState::rule_names`]): bit 0 `left`, bit 1 `right`. The bottom's
//! only guard reads its right neighbour, so it is `right`; the top's reads its left
//! neighbour (and the bottom), so it is `left`.
//!
//! **How it runs here.** In the state-reading model ([`reparti_core::guarded`]): under
//! `reparti sim` a daemon picks the moves (a middle machine with both guards makes one of
//! them); under `reparti check` every configuration of {0,1,2}ⁿ is a start and every
//! daemon choice is explored; on real processes each machine sends its value to both
//! neighbours periodically and moves on the last values received
//! ([`reparti_core::guarded::exchange`]). The bottom reads only x\[1\] (as in the 1974
//! paper); the top reads x\[n−2\] and the bottom's x\[0\], its ring neighbours.
//!
//! **Pitfalls.**
//! * *Counting privileges by machine.* A middle machine can have both guards enabled;
//!   legitimacy counts *guards*, so that machine holds two privileges and the
//!   configuration is not legitimate. Counting machines instead admits 3 more
//!   configurations (12n − 12 instead of 12n − 15, checked for n = 3..7), and the
//!   counts no longer match the literature's.
//! * *The top's second conjunct.* Without `x[n-1] ≠ x[0] + 1` the top stays privileged
//!   after its own move, and L is not closed.
//! * *Arithmetic mod 3 on unsigned values.* `x - 1` must be `(x + 2) mod 3`.
//!
//! **Properties.** L = exactly one enabled guard in the whole ring.
//! * *Closure*: from L, the one move leaves exactly one guard enabled (checked
//!   exhaustively for n = 3..7 by the tests).
//! * *Convergence* under the central daemon: Dijkstra 1986 (and checked exhaustively
//!   for n = 3..9 by the tests). There are exactly 12n − 15
//!   legitimate configurations. All zeros is legitimate (only the top is privileged):
//!   [`ThreeState::legitimate_start`].
//!
//! **Costs.** Worst-case number of moves to reach L from any start, central daemon,
//! measured by exhaustive exploration:
//!
//! | n | 3 | 4 | 5 | 6 | 7 | 8 | 9 |
//! |---|---|---|---|---|---|---|---|
//! | moves | 2 | 10 | 22 | 39 | 57 | 79 | 109 |
//!
//! Measured too: it converges under the distributed daemon for n = 3..6, in at most 2,
//! 10, 22, 39 steps (2, 11, 23, 40 moves).

use super::check_reads;
use reparti_core::guarded::{Guarded, RuleSet};
use reparti_core::{AlgorithmSpec, Chapter, NodeId, Params, Topology};
use serde::{Deserialize, Serialize};

/// Dijkstra's three-state ring: the instance's size.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct ThreeState {
    /// The number of machines (at least 3).
    pub n: usize,
}

/// Bit of the guard that reads the left neighbour (middle machines and the top).
const LEFT: RuleSet = 1 << 0;
/// Bit of the guard that reads the right neighbour (middle machines and the bottom).
const RIGHT: RuleSet = 1 << 1;

fn succ(x: u8) -> u8 {
    (x + 1) % 3
}

fn pred(x: u8) -> u8 {
    (x + 2) % 3
}

impl ThreeState {
    /// The instance of `n` machines (no checks: use [`Guarded::build`] for user input).
    pub fn new(n: usize) -> ThreeState {
        ThreeState { n }
    }
}

impl Guarded for ThreeState {
    type State = u8;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            topologies: &["bidir-ring"],
            default_nodes: 5,
            ..AlgorithmSpec::new(
                "dijkstra-3-state",
                Chapter::Selfstab,
                "Dijkstra (1974/1986): three states per machine on a bidirectional ring, one privilege from any start",
            )
        }
    }

    fn rule_names() -> &'static [&'static str] {
        &["left", "right"]
    }

    fn build(_params: &Params, topology: &Topology) -> Result<Self, String> {
        let n = topology.len();
        if n < 3 {
            return Err(format!(
                "dijkstra-3-state needs at least 3 machines (bottom, middle, top), not {n}; give 3 nodes or more"
            ));
        }
        let g = ThreeState { n };
        check_reads(&g, topology, "bidir-ring")?;
        Ok(g)
    }

    fn n(&self) -> usize {
        self.n
    }

    fn reads(&self, node: NodeId) -> Vec<NodeId> {
        let (i, n) = (node.index(), self.n);
        let ids: Vec<usize> = if i == 0 {
            vec![1]
        } else if i == n - 1 {
            vec![n - 2, 0]
        } else {
            vec![i - 1, i + 1]
        };
        ids.into_iter().map(|j| NodeId(j as u32)).collect()
    }

    fn domain(&self, _node: NodeId) -> Vec<u8> {
        vec![0, 1, 2]
    }

    fn legitimate_start(&self) -> Vec<u8> {
        // Only the top's guard holds: x[n-2] = x[0] and x[n-1] ≠ x[0] + 1.
        vec![0; self.n]
    }

    fn enabled(&self, node: NodeId, c: &[u8]) -> RuleSet {
        let (i, n) = (node.index(), self.n);
        if i == 0 {
            if c[1] == succ(c[0]) {
                RIGHT
            } else {
                0
            }
        } else if i == n - 1 {
            if c[n - 2] == c[0] && c[n - 1] != succ(c[0]) {
                LEFT
            } else {
                0
            }
        } else {
            let mut set = 0;
            if c[i - 1] == succ(c[i]) {
                set |= LEFT;
            }
            if c[i + 1] == succ(c[i]) {
                set |= RIGHT;
            }
            set
        }
    }

    fn apply(&self, node: NodeId, rule: usize, c: &[u8]) -> u8 {
        let (i, n) = (node.index(), self.n);
        if i == 0 {
            pred(c[0])
        } else if i == n - 1 {
            succ(c[0])
        } else if rule == 0 {
            c[i - 1]
        } else {
            c[i + 1]
        }
    }

    fn value(&self, _node: NodeId, state: &u8) -> i64 {
        i64::from(*state)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{all_configs, assert_closure, build, worst_case};
    use super::*;
    use reparti_core::guarded::privileges;
    use reparti_core::Daemon;

    #[test]
    fn guards_on_hand_made_configurations() {
        let g = ThreeState::new(5);
        // Bottom: x1 = x0 + 1 (mod 3).
        assert_eq!(g.enabled(NodeId(0), &[2, 0, 0, 0, 0]), RIGHT);
        assert_eq!(g.apply(NodeId(0), 1, &[2, 0, 0, 0, 0]), 1);
        assert_eq!(g.enabled(NodeId(0), &[0, 2, 0, 0, 0]), 0);
        // A middle machine with both guards counts two privileges.
        let both = [0, 1, 0, 1, 0];
        assert_eq!(g.enabled(NodeId(2), &both), LEFT | RIGHT);
        assert_eq!(g.apply(NodeId(2), 0, &both), 1);
        assert_eq!(g.apply(NodeId(2), 1, &both), 1);
        assert!(privileges(&g, &both) >= 2 && !g.legitimate(&both));
        // Top: x[n-2] = x[0] and x[n-1] ≠ x[0] + 1.
        assert_eq!(g.enabled(NodeId(4), &[1, 0, 0, 1, 1]), LEFT);
        assert_eq!(g.apply(NodeId(4), 0, &[1, 0, 0, 1, 1]), 2);
        assert_eq!(g.enabled(NodeId(4), &[1, 0, 0, 1, 2]), 0);
        assert_eq!(g.reads(NodeId(0)), vec![NodeId(1)]);
        assert_eq!(g.reads(NodeId(4)), vec![NodeId(3), NodeId(0)]);
    }

    #[test]
    fn build_refuses_small_rings_and_other_topologies() {
        assert!(build::<ThreeState>("bidir-ring", 2, &[]).is_err_and(|e| e.contains("at least 3")));
        assert!(build::<ThreeState>("ring", 4, &[]).is_err_and(|e| e.contains("bidir-ring")));
        assert_eq!(build::<ThreeState>("bidir-ring", 4, &[]), Ok(ThreeState::new(4)));
    }

    #[test]
    fn twelve_n_minus_fifteen_legitimate_configurations_closed_under_every_move() {
        for n in 3..=7 {
            let g = ThreeState::new(n);
            assert!(g.legitimate(&g.legitimate_start()), "n = {n}");
            let count = assert_closure(&g, Daemon::Central);
            assert_eq!(count, 12 * n - 15, "n = {n}");
            // Every configuration has a privilege (no deadlock).
            assert!(all_configs(&g).iter().all(|c| privileges(&g, c) >= 1));
        }
    }

    #[test]
    fn converges_under_the_central_daemon() {
        // The *Costs* table.
        for (n, moves) in [(3, 2), (4, 10), (5, 22), (6, 39), (7, 57), (8, 79), (9, 109)] {
            assert_eq!(worst_case(&ThreeState::new(n), Daemon::Central), Some(moves), "n = {n}");
        }
    }
}
