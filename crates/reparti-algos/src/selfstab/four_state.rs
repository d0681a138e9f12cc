//! # Dijkstra's four-state line (1974): a privilege that bounces between the ends
//!
//! *What.* n ≥ 3 machines on a line 0 – 1 – … – n−1. Each machine holds a bit `x` and a
//! direction flag `up`; the bottom's flag is always true and the top's always false, so
//! the ends have two states and the others four. A privilege moves up the line by
//! copying `x` (and raising `up`), is reflected by the top, moves down by lowering `up`,
//! and is reflected by the bottom, which flips its `x`. In a legitimate configuration
//! exactly one guard holds in the whole line.
//!
//! **Source.** E. W. Dijkstra, "Self-stabilizing systems in spite of distributed
//! control", CACM 17(11):643–644, 1974 (EWD426), the second solution.
//!
//! ```text
//! bottom (0):       above: if x[0] = x[1] ∧ ¬up[1]               then x[0] := ¬x[0]
//! middle (0<i<n-1): below: if x[i] ≠ x[i-1]                      then x[i] := x[i-1]; up[i] := true
//!                   above: if x[i] = x[i+1] ∧ up[i] ∧ ¬up[i+1]   then up[i] := false
//! top (n-1):        below: if x[n-1] ≠ x[n-2]                    then x[n-1] := x[n-2]
//! (up[0] = true and up[n-1] = false, always)
//! ```
//!
//! Rule names ([`FourState::rule_names`]): bit 0 `below` (the guards that watch the
//! neighbour below: a privilege coming up), bit 1 `above` (those that watch the
//! neighbour above: a privilege coming down).
//!
//! **How it runs here.** In the state-reading model ([`reparti_core::guarded`]): under
//! `reparti sim` a daemon picks the moves (a middle machine with both guards makes one of
//! them); under `reparti check` every configuration (4ⁿ⁻¹ of them) is a start and
//! every daemon choice is explored; on real processes each machine sends its state to
//! its line neighbours periodically and moves on the last states received
//! ([`reparti_core::guarded::exchange`]). The heat strip shows 2·x + up (0..3).
//!
//! **Pitfalls.**
//! * *Letting the ends' flags vary.* `up` is a constant at the ends; a bottom whose
//!   `up` could be corrupted to false would not be the same algorithm (and the
//!   domains here do not contain such states).
//! * *Counting privileges by machine.* A middle machine may have both guards enabled;
//!   it then holds two privileges and the configuration is not legitimate.
//! * *Forgetting `up[i] := true` in the upward move.* A middle machine that was going
//!   down stays down when the privilege comes up again: L is not closed, and from n = 4
//!   some runs never reach it (exhaustive check under the central daemon).
//!
//! **Properties.** L = exactly one enabled guard in the whole line: there are exactly
//! 4(n − 1) legitimate configurations (checked for n = 3..8 by the tests).
//! * *Closure*: from L, the one move leaves exactly one guard enabled (checked
//!   exhaustively for n = 3..8 by the tests).
//! * *Convergence* under the central daemon (Dijkstra 1974; checked exhaustively for
//!   n = 3..9 by the tests).
//! * All `x` false, `up` true except at the top, is legitimate (only machine n−2's
//!   `above` guard holds): [`FourState::legitimate_start`].
//!
//! **Costs.** Worst-case number of moves to reach L from any start, central daemon,
//! measured by exhaustive exploration:
//!
//! | n | 3 | 4 | 5 | 6 | 7 | 8 | 9 |
//! |---|---|---|---|---|---|---|---|
//! | moves | 2 | 7 | 13 | 21 | 31 | 43 | 57 |
//!
//! Measured too: it converges under the distributed daemon for n = 3..6, in at most 2,
//! 7, 13, 21 steps.

use super::check_reads;
use reparti_core::guarded::{Guarded, RuleSet};
use reparti_core::{AlgorithmSpec, Chapter, NodeId, Params, Topology};
use serde::{Deserialize, Serialize};

/// Dijkstra's four-state line: the instance's size.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct FourState {
    /// The number of machines (at least 3).
    pub n: usize,
}

/// One machine's state.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Bits {
    /// The bit copied up the line and flipped by the bottom.
    pub x: bool,
    /// The direction flag: true at the bottom, false at the top, variable in between.
    pub up: bool,
}

/// Bit of the guards that watch the neighbour below (middle machines and the top).
const BELOW: RuleSet = 1 << 0;
/// Bit of the guards that watch the neighbour above (middle machines and the bottom).
const ABOVE: RuleSet = 1 << 1;

impl FourState {
    /// The instance of `n` machines (no checks: use [`Guarded::build`] for user input).
    pub fn new(n: usize) -> FourState {
        FourState { n }
    }
}

impl Guarded for FourState {
    type State = Bits;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            topologies: &["line"],
            default_nodes: 5,
            ..AlgorithmSpec::new(
                "dijkstra-4-state",
                Chapter::Selfstab,
                "Dijkstra (1974): four states per machine on a line, one privilege bouncing between the ends",
            )
        }
    }

    fn rule_names() -> &'static [&'static str] {
        &["below", "above"]
    }

    fn build(_params: &Params, topology: &Topology) -> Result<Self, String> {
        let n = topology.len();
        if n < 3 {
            return Err(format!(
                "dijkstra-4-state needs at least 3 machines (bottom, middle, top), not {n}; give 3 nodes or more"
            ));
        }
        let g = FourState { n };
        check_reads(&g, topology, "line")?;
        Ok(g)
    }

    fn n(&self) -> usize {
        self.n
    }

    fn reads(&self, node: NodeId) -> Vec<NodeId> {
        let i = node.index();
        let mut r = Vec::with_capacity(2);
        if i > 0 {
            r.push(NodeId(i as u32 - 1));
        }
        if i + 1 < self.n {
            r.push(NodeId(i as u32 + 1));
        }
        r
    }

    fn domain(&self, node: NodeId) -> Vec<Bits> {
        let i = node.index();
        let ups: &[bool] = if i == 0 {
            &[true]
        } else if i == self.n - 1 {
            &[false]
        } else {
            &[false, true]
        };
        [false, true].iter().flat_map(|&x| ups.iter().map(move |&up| Bits { x, up })).collect()
    }

    fn legitimate_start(&self) -> Vec<Bits> {
        (0..self.n).map(|i| Bits { x: false, up: i + 1 < self.n }).collect()
    }

    fn enabled(&self, node: NodeId, c: &[Bits]) -> RuleSet {
        let (i, n) = (node.index(), self.n);
        if i == 0 {
            if c[0].x == c[1].x && !c[1].up {
                ABOVE
            } else {
                0
            }
        } else if i == n - 1 {
            if c[i].x != c[i - 1].x {
                BELOW
            } else {
                0
            }
        } else {
            let mut set = 0;
            if c[i].x != c[i - 1].x {
                set |= BELOW;
            }
            if c[i].x == c[i + 1].x && c[i].up && !c[i + 1].up {
                set |= ABOVE;
            }
            set
        }
    }

    fn apply(&self, node: NodeId, rule: usize, c: &[Bits]) -> Bits {
        let (i, n) = (node.index(), self.n);
        if i == 0 {
            Bits { x: !c[0].x, up: true }
        } else if i == n - 1 {
            Bits { x: c[i - 1].x, up: false }
        } else if rule == 0 {
            Bits { x: c[i - 1].x, up: true }
        } else {
            Bits { x: c[i].x, up: false }
        }
    }

    fn value(&self, _node: NodeId, s: &Bits) -> i64 {
        2 * i64::from(s.x) + i64::from(s.up)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{all_configs, assert_closure, build, worst_case};
    use super::*;
    use reparti_core::guarded::privileges;
    use reparti_core::Daemon;

    fn b(x: u8, up: u8) -> Bits {
        Bits { x: x == 1, up: up == 1 }
    }

    #[test]
    fn guards_on_hand_made_configurations() {
        let g = FourState::new(4);
        // Bottom: x0 = x1 and ¬up1.
        let c = [b(0, 1), b(0, 0), b(1, 1), b(1, 0)];
        assert_eq!(g.enabled(NodeId(0), &c), ABOVE);
        assert_eq!(g.apply(NodeId(0), 1, &c), b(1, 1));
        // Machine 2: x differs from below (below), and not reflected (up3 false but x2 = x3,
        // up2 true: above holds too) — two privileges on one machine.
        assert_eq!(g.enabled(NodeId(2), &c), BELOW | ABOVE);
        assert_eq!(g.apply(NodeId(2), 0, &c), b(0, 1));
        assert_eq!(g.apply(NodeId(2), 1, &c), b(1, 0));
        assert!(!g.legitimate(&c));
        // Top copies x from below.
        let c = [b(0, 1), b(0, 1), b(1, 1), b(0, 0)];
        assert_eq!(g.enabled(NodeId(3), &c), BELOW);
        assert_eq!(g.apply(NodeId(3), 0, &c), b(1, 0));
        assert_eq!(g.value(NodeId(2), &b(1, 1)), 3);
        assert_eq!(g.domain(NodeId(0)), vec![b(0, 1), b(1, 1)]);
        assert_eq!(g.domain(NodeId(3)), vec![b(0, 0), b(1, 0)]);
        assert_eq!(g.domain(NodeId(1)).len(), 4);
    }

    #[test]
    fn build_refuses_short_lines_and_other_topologies() {
        assert!(build::<FourState>("line", 2, &[]).is_err_and(|e| e.contains("at least 3")));
        assert!(build::<FourState>("ring", 4, &[]).is_err_and(|e| e.contains("line")));
        assert_eq!(build::<FourState>("line", 5, &[]), Ok(FourState::new(5)));
    }

    #[test]
    fn four_n_minus_four_legitimate_configurations_closed_under_every_move() {
        for n in 3..=8 {
            let g = FourState::new(n);
            assert!(g.legitimate(&g.legitimate_start()), "n = {n}");
            assert_eq!(privileges(&g, &g.legitimate_start()), 1);
            assert_eq!(assert_closure(&g, Daemon::Central), 4 * (n - 1), "n = {n}");
            assert!(all_configs(&g).iter().all(|c| privileges(&g, c) >= 1), "a deadlock, n = {n}");
        }
    }

    #[test]
    fn converges_under_the_central_daemon() {
        // The *Costs* table.
        for (n, moves) in [(3, 2), (4, 7), (5, 13), (6, 21), (7, 31), (8, 43), (9, 57)] {
            assert_eq!(worst_case(&FourState::new(n), Daemon::Central), Some(moves), "n = {n}");
        }
    }
}
