//! Unit tests of the Berkeley module: the fault-tolerant group.

use super::*;

fn ids(group: &[(f64, NodeId)]) -> Vec<u32> {
    group.iter().map(|g| g.1 .0).collect()
}

#[test]
fn the_largest_group_within_gamma_leaves_a_wild_clock_out() {
    let values = vec![(0.0, NodeId(0)), (3.0, NodeId(1)), (5000.0, NodeId(2)), (-4.0, NodeId(3))];
    assert_eq!(ids(&largest_group(values, 10.0, NodeId(0))), vec![3, 0, 1]);
}

#[test]
fn ties_go_to_the_group_with_the_master_then_the_lowest() {
    let values = vec![(0.0, NodeId(0)), (100.0, NodeId(1)), (200.0, NodeId(2))];
    assert_eq!(ids(&largest_group(values.clone(), 10.0, NodeId(2))), vec![2]);
    assert_eq!(ids(&largest_group(values.clone(), 10.0, NodeId(1))), vec![1]);
    assert_eq!(ids(&largest_group(values, 150.0, NodeId(2))), vec![1, 2]);
}

#[test]
fn a_group_spans_at_most_gamma() {
    let values: Vec<(f64, NodeId)> = (0..8).map(|i| (f64::from(i) * 7.0, NodeId(i))).collect();
    let g = largest_group(values, 20.0, NodeId(0));
    assert_eq!(ids(&g), vec![0, 1, 2]);
}
