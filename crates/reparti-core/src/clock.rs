//! Lamport and vector clocks, maintained by the framework (TP6's rules).
//!
//! * a local event the algorithm declares (`Context::local_event`): `L += 1`, `V[i] += 1`;
//! * a send: increment, then stamp the message with the new values;
//! * a receive: `L = max(L, stamp) + 1`; `V = max(V, stamp)` component-wise, then `V[i] += 1`.
//!
//! The stamps live in the [`crate::Context`] and the message envelope, never in the
//! algorithm's own state: a model checker can then leave them out of the states it
//! compares when the algorithm does not read them.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Which clocks an engine keeps.
///
/// Lamport clocks cost 8 bytes per node and per message, so they are always kept.
/// Vector clocks cost O(n) per message and per node: keep them when the algorithm reads
/// them, when a trace or property needs them, or when n is small.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockMode {
    /// Lamport clocks only.
    Lamport,
    /// Lamport and vector clocks.
    LamportAndVector,
}

impl ClockMode {
    /// Whether vector clocks are kept.
    pub fn vectors(self) -> bool {
        matches!(self, ClockMode::LamportAndVector)
    }
}

/// A node's clocks, as stored by an engine that keeps them together.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Clocks {
    /// The Lamport clock.
    pub lamport: u64,
    /// The vector clock, when kept.
    pub vector: Option<Vec<u64>>,
}

/// How two vector timestamps relate under happens-before.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VectorOrder {
    /// `a → b`: every component of a ≤ b's, and they differ.
    Before,
    /// `b → a`.
    After,
    /// The same event (or the same knowledge).
    Equal,
    /// Neither happened before the other.
    Concurrent,
}

/// Compares two vector timestamps of the same length.
pub fn vector_order(a: &[u64], b: &[u64]) -> VectorOrder {
    let mut less = false;
    let mut greater = false;
    for (x, y) in a.iter().zip(b) {
        match x.cmp(y) {
            Ordering::Less => less = true,
            Ordering::Greater => greater = true,
            Ordering::Equal => {}
        }
    }
    match (less, greater) {
        (false, false) => VectorOrder::Equal,
        (true, false) => VectorOrder::Before,
        (false, true) => VectorOrder::After,
        (true, true) => VectorOrder::Concurrent,
    }
}

/// Applies the local-event rule to one node's clocks.
#[inline]
pub fn tick(lamport: &mut u64, vector: Option<&mut [u64]>, me: usize) {
    *lamport += 1;
    if let Some(v) = vector {
        v[me] += 1;
    }
}

/// Applies the receive rule to one node's clocks.
#[inline]
pub fn merge(lamport: &mut u64, vector: Option<&mut [u64]>, me: usize, stamp: u64, stamp_vector: Option<&[u64]>) {
    *lamport = (*lamport).max(stamp) + 1;
    if let Some(v) = vector {
        if let Some(sv) = stamp_vector {
            for (x, y) in v.iter_mut().zip(sv) {
                *x = (*x).max(*y);
            }
        }
        v[me] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_rule_takes_the_maximum_then_increments() {
        let mut l = 3;
        let mut v = vec![1, 5, 0];
        merge(&mut l, Some(&mut v), 2, 7, Some(&[4, 2, 0]));
        assert_eq!(l, 8);
        assert_eq!(v, vec![4, 5, 1]);
    }

    #[test]
    fn vector_order_distinguishes_concurrency() {
        assert_eq!(vector_order(&[1, 0], &[1, 1]), VectorOrder::Before);
        assert_eq!(vector_order(&[2, 0], &[1, 1]), VectorOrder::Concurrent);
        assert_eq!(vector_order(&[1, 1], &[1, 1]), VectorOrder::Equal);
        assert_eq!(vector_order(&[1, 2], &[1, 1]), VectorOrder::After);
    }
}
