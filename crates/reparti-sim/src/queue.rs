//! The event queue: ordered by (time, sequence number), with a fast path.
//!
//! Simulated time never goes backwards, and with constant delays every new event is
//! scheduled no earlier than the last one: those pushes go to a plain FIFO (O(1)), and
//! only out-of-order pushes pay for the binary heap. Popping takes the smaller of the
//! two fronts. The order is exactly (time, seq) either way, so the fast path changes
//! speed, never behaviour.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// An event with its place in time.
pub struct Queued<E> {
    /// When it happens.
    pub time: f64,
    /// Tie-breaker: the order in which events were scheduled.
    pub seq: u64,
    /// What happens.
    pub event: E,
}

impl<E> Queued<E> {
    #[inline]
    fn key_cmp(&self, other: &Self) -> Ordering {
        self.time.total_cmp(&other.time).then(self.seq.cmp(&other.seq))
    }
}

impl<E> PartialEq for Queued<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key_cmp(other) == Ordering::Equal
    }
}
impl<E> Eq for Queued<E> {}
impl<E> PartialOrd for Queued<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Queued<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key_cmp(self)
    }
}

/// A priority queue of events by (time, seq).
pub struct EventQueue<E> {
    in_order: VecDeque<Queued<E>>,
    heap: BinaryHeap<Queued<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { in_order: VecDeque::new(), heap: BinaryHeap::new(), next_seq: 0 }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: f64, event: E) {
        let q = Queued { time, seq: self.next_seq, event };
        self.next_seq += 1;
        // seq grows with every push, so "not earlier than the back" suffices.
        match self.in_order.back() {
            Some(back) if time < back.time => self.heap.push(q),
            _ => self.in_order.push_back(q),
        }
    }

    /// Takes the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Queued<E>> {
        match (self.in_order.front(), self.heap.peek()) {
            (Some(a), Some(b)) => {
                if a.key_cmp(b) == Ordering::Less {
                    self.in_order.pop_front()
                } else {
                    self.heap.pop()
                }
            }
            (Some(_), None) => self.in_order.pop_front(),
            (None, Some(_)) => self.heap.pop(),
            (None, None) => None,
        }
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<f64> {
        match (self.in_order.front(), self.heap.peek()) {
            (Some(a), Some(b)) => Some(a.time.min(b.time)),
            (Some(a), None) => Some(a.time),
            (None, Some(b)) => Some(b.time),
            (None, None) => None,
        }
    }

    /// Removes and returns the earliest event matching `pred` (a linear scan: for
    /// replays, which follow a script instead of the clock).
    pub fn remove_first(&mut self, pred: impl Fn(&E) -> bool) -> Option<Queued<E>> {
        let best_deque = self.in_order.iter().position(|q| pred(&q.event));
        let mut heap = std::mem::take(&mut self.heap).into_vec();
        let best_heap =
            heap.iter().enumerate().filter(|(_, q)| pred(&q.event)).min_by(|a, b| a.1.key_cmp(b.1)).map(|(i, _)| i);
        let take_heap = match (best_deque, best_heap) {
            (Some(d), Some(h)) => heap[h].key_cmp(&self.in_order[d]) == Ordering::Less,
            (None, Some(_)) => true,
            _ => false,
        };
        let found = if take_heap {
            best_heap.map(|h| heap.swap_remove(h))
        } else {
            best_deque.and_then(|d| self.in_order.remove(d))
        };
        self.heap = BinaryHeap::from(heap);
        found
    }

    /// Every waiting event, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Queued<E>> {
        self.in_order.iter().chain(self.heap.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pops_in_time_then_sequence_order(times in proptest::collection::vec(0u8..20, 0..200)) {
            let mut q = EventQueue::default();
            let mut expected = Vec::new();
            for (i, t) in times.iter().enumerate() {
                q.push(*t as f64, i);
                expected.push((*t, i));
            }
            expected.sort();
            let got: Vec<(u8, usize)> = std::iter::from_fn(|| q.pop()).map(|e| (e.time as u8, e.event)).collect();
            prop_assert_eq!(got, expected);
        }
    }
}
