//! The event queue: ordered by (time, sequence number), with two fast paths.
//!
//! With constant delays, every new message is scheduled no earlier than the last one:
//! those pushes go to a plain FIFO (O(1)), and only the rare out-of-order push (a timer,
//! an input) pays for a binary heap; popping takes the smaller of the two fronts. With
//! random delays nearly every push is out of order, and a radix heap
//! ([`crate::radix`]) serves them all, which it can because simulated time never goes
//! backwards. The order is exactly (time, seq) in every case, so the choice of
//! structure changes speed, never behaviour.

use crate::radix::RadixHeap;
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

/// The radix heap's key: time then sequence, as one number whose order is theirs
/// (the bits of a non-negative float grow with its value).
#[inline]
fn key(time: f64, seq: u64) -> u128 {
    (u128::from((time + 0.0).to_bits()) << 64) | u128::from(seq)
}

#[inline]
fn unkey<E>(k: u128, event: E) -> Queued<E> {
    Queued { time: f64::from_bits((k >> 64) as u64), seq: k as u64, event }
}

/// A priority queue of events by (time, seq).
pub struct EventQueue<E> {
    in_order: VecDeque<Queued<E>>,
    heap: BinaryHeap<Queued<E>>,
    /// Used instead of the two above when delays are random.
    radix: Option<RadixHeap<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue::new(false)
    }
}

impl<E> EventQueue<E> {
    /// An empty queue; `random_delays` picks the radix heap.
    pub fn new(random_delays: bool) -> Self {
        EventQueue {
            in_order: VecDeque::new(),
            heap: BinaryHeap::new(),
            radix: random_delays.then(RadixHeap::default),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: f64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(radix) = &mut self.radix {
            radix.push(key(time, seq), event);
            return;
        }
        let q = Queued { time, seq, event };
        // seq grows with every push, so "not earlier than the back" suffices.
        match self.in_order.back() {
            Some(back) if time < back.time => self.heap.push(q),
            _ => self.in_order.push_back(q),
        }
    }

    /// Takes the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Queued<E>> {
        if let Some(radix) = &mut self.radix {
            return radix.pop().map(|(k, e)| unkey(k, e));
        }
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
    pub fn peek_time(&mut self) -> Option<f64> {
        if let Some(radix) = &mut self.radix {
            return radix.peek_key().map(|k| f64::from_bits((k >> 64) as u64));
        }
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
        if let Some(radix) = &mut self.radix {
            return radix.remove_least(pred).map(|(k, e)| unkey(k, e));
        }
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
    pub fn iter(&self) -> impl Iterator<Item = &E> {
        let radix = self.radix.iter().flat_map(|r| r.iter().map(|(_, e)| e));
        self.in_order.iter().chain(self.heap.iter()).map(|q| &q.event).chain(radix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pops_in_time_then_sequence_order(times in proptest::collection::vec(0u8..20, 0..200), radix: bool) {
            let mut q = EventQueue::new(radix);
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
