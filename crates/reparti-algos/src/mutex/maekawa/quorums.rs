//! Maekawa's request sets, built as a grid: every node asks its row and its column.
//!
//! **Construction.** Lay the n nodes row by row in a grid w = ⌈√n⌉ wide: node i sits at
//! row ⌊i/w⌋, column i mod w. Its request set (its *quorum*) is every node of its row
//! and every node of its column. Maekawa proposes this grid himself as the simple
//! construction when no finite projective plane of the right order is at hand
//! (M. Maekawa, "A √N algorithm for mutual exclusion in decentralized systems", ACM TOCS
//! 3(2), 1985, §4): for n = w² it gives K = 2w − 1 ≈ 2√n, against ≈ √n for a plane.
//!
//! **The partial last row.** When n is not a square the last row holds only
//! n − w·(rows − 1) nodes, and the columns past its end are one cell shorter. No cell
//! is invented and nothing wraps: a quorum is its row and its column *as far as they
//! exist*. Every two quorums still meet. Take nodes i and j:
//! * if i's row is full, it has a cell in j's column, which both quorums hold;
//! * else if j's row is full, the same with the roles swapped;
//! * else both sit in the last (the only partial) row, which both quorums hold.
//!
//! The tests check it for every n up to 100, with the sizes. Every node is in its own
//! quorum (its row and column cross at itself), so its own permission is taken without
//! a message.

use reparti_core::NodeId;
use std::collections::BTreeSet;

/// The grid's width, ⌈√n⌉ (1 for n ≤ 1).
pub fn width(n: usize) -> usize {
    let mut w = 1;
    while w * w < n {
        w += 1;
    }
    w
}

/// Node `i`'s quorum among `n` nodes: its row and its column of the grid, as far as they
/// exist; empty when `i` is not a node.
pub fn quorum(n: usize, i: usize) -> BTreeSet<NodeId> {
    if i >= n {
        return BTreeSet::new();
    }
    let w = width(n);
    let (row, column) = (i / w, i % w);
    let same_row = (row * w..(row + 1) * w).filter(|&j| j < n);
    let same_column = (column..n).step_by(w);
    same_row.chain(same_column).map(|j| NodeId(j as u32)).collect()
}

/// The size K of node `i`'s quorum, without building it: its row plus its column, less
/// itself (0 when `i` is not a node).
pub fn size(n: usize, i: usize) -> usize {
    if i >= n {
        return 0;
    }
    let w = width(n);
    let row = w.min(n - (i / w) * w);
    let column = (n - i % w).div_ceil(w);
    row + column - 1
}

/// Every node's quorum, by position.
pub fn grid(n: usize) -> Vec<BTreeSet<NodeId>> {
    (0..n).map(|i| quorum(n, i)).collect()
}

/// The quorums as text, one per node: `0: {0, 1, 2, 3, 6} (K = 5)`.
pub fn describe(n: usize) -> Vec<String> {
    grid(n)
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let members: Vec<String> = q.iter().map(|j| j.0.to_string()).collect();
            format!("{i}: {{{}}} (K = {})", members.join(", "), q.len())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_two_quorums_meet_and_each_holds_its_node_for_every_n_up_to_100() {
        for n in 1..=100usize {
            let qs = grid(n);
            for (i, qi) in qs.iter().enumerate() {
                assert!(qi.contains(&NodeId(i as u32)), "n={n}: node {i} is in its own quorum");
                assert!(qi.iter().all(|j| j.index() < n), "n={n}: quorum {i} names only nodes");
                for (j, qj) in qs.iter().enumerate() {
                    assert!(
                        qi.intersection(qj).next().is_some(),
                        "n={n}: quorums {i} and {j} do not meet: {qi:?} {qj:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn sizes_are_row_plus_column_minus_one_and_2w_minus_1_on_a_square() {
        for w in 1..=10usize {
            assert!(grid(w * w).iter().all(|q| q.len() == 2 * w - 1), "n={}", w * w);
        }
        for n in 1..=100usize {
            let w = width(n);
            assert!(w * w >= n && (w - 1) * (w - 1) < n.max(1), "n={n}: w={w}");
            for (i, q) in grid(n).iter().enumerate() {
                let row = (0..n).filter(|j| j / w == i / w).count();
                let column = (0..n).filter(|j| j % w == i % w).count();
                assert_eq!(q.len(), row + column - 1, "n={n} node {i}");
                assert_eq!(size(n, i), q.len(), "n={n} node {i}");
                assert!(q.len() < 2 * w, "n={n} node {i}: K ≤ 2⌈√n⌉ − 1");
            }
        }
    }

    #[test]
    fn the_partial_last_row_of_seven_nodes() {
        // w = 3: rows {0,1,2} {3,4,5} {6}; node 6's column is {0,3,6}, node 2's {2,5}.
        assert_eq!(
            describe(7),
            vec![
                "0: {0, 1, 2, 3, 6} (K = 5)",
                "1: {0, 1, 2, 4} (K = 4)",
                "2: {0, 1, 2, 5} (K = 4)",
                "3: {0, 3, 4, 5, 6} (K = 5)",
                "4: {1, 3, 4, 5} (K = 4)",
                "5: {2, 3, 4, 5} (K = 4)",
                "6: {0, 3, 6} (K = 3)",
            ]
        );
        assert!(quorum(7, 7).is_empty());
        assert_eq!(describe(1), vec!["0: {0} (K = 1)"]);
        assert_eq!(describe(2), vec!["0: {0, 1} (K = 2)", "1: {0, 1} (K = 2)"]);
    }
}
