//! The event queue: ordered by (time, sequence number), with two fast paths.
//!
//! With constant delays, every new message is scheduled no earlier than the last one:
//! those pushes go to a plain FIFO (O(1)), and only the rare out-of-order push (a timer,
//! an input) pays for a binary heap; popping takes the smaller of the two fronts. With
//! random delays nearly every push is out of order, and a calendar queue
//! ([`crate::calendar`]) serves them all, which it can because simulated time never
//! goes backwards. The order is exactly (time, seq) in every case, so the choice of
//! structure changes speed, never behaviour.

use crate::calendar::CalendarQueue;
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

#[inline]
fn queued<E>((time, seq, event): (f64, u64, E)) -> Queued<E> {
    Queued { time, seq, event }
}

/// A priority queue of events by (time, seq).
pub struct EventQueue<E> {
    in_order: VecDeque<Queued<E>>,
    heap: BinaryHeap<Queued<E>>,
    /// Used instead of the two above when delays are random.
    calendar: Option<CalendarQueue<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue::new(false)
    }
}

impl<E> EventQueue<E> {
    /// An empty queue; `random_delays` picks the calendar queue.
    pub fn new(random_delays: bool) -> Self {
        EventQueue {
            in_order: VecDeque::new(),
            heap: BinaryHeap::new(),
            calendar: random_delays.then(CalendarQueue::default),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: f64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(calendar) = &mut self.calendar {
            calendar.push(time, seq, event);
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
        if let Some(calendar) = &mut self.calendar {
            return calendar.pop().map(queued);
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
        if let Some(calendar) = &mut self.calendar {
            return calendar.peek_time();
        }
        match (self.in_order.front(), self.heap.peek()) {
            (Some(a), Some(b)) => Some(a.time.min(b.time)),
            (Some(a), None) => Some(a.time),
            (None, Some(b)) => Some(b.time),
            (None, None) => None,
        }
    }

    /// An event soon to come, `k` places after the next one when that is cheap to
    /// know (a hint for prefetching: `None` is always a correct answer).
    #[inline]
    pub fn peek_ahead(&self, k: usize) -> Option<&E> {
        match &self.calendar {
            Some(calendar) => calendar.peek_ahead(k),
            None => self.in_order.get(k).map(|q| &q.event),
        }
    }

    /// Removes and returns the earliest event matching `pred` (a linear scan: for
    /// replays, which follow a script instead of the clock).
    pub fn remove_first(&mut self, pred: impl Fn(&E) -> bool) -> Option<Queued<E>> {
        if let Some(calendar) = &mut self.calendar {
            return calendar.remove_first(pred).map(queued);
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
        let calendar = self.calendar.iter().flat_map(CalendarQueue::iter);
        self.in_order.iter().chain(self.heap.iter()).map(|q| &q.event).chain(calendar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pops_in_time_then_sequence_order(times in proptest::collection::vec(0u8..20, 0..200), random: bool) {
            let mut q = EventQueue::new(random);
            let mut expected = Vec::new();
            for (i, t) in times.iter().enumerate() {
                q.push(*t as f64, i);
                expected.push((*t, i));
            }
            expected.sort();
            let got: Vec<(u8, usize)> = std::iter::from_fn(|| q.pop()).map(|e| (e.time as u8, e.event)).collect();
            prop_assert_eq!(got, expected);
        }

        /// Both structures agree with a sorted model on pops, peeks and replays'
        /// removals, with pushes never before the last time popped.
        #[test]
        fn removes_peeks_and_pops_the_earliest(steps in proptest::collection::vec((0u8..30, 0u8..4, 0u8..5), 0..300), random: bool) {
            let mut q = EventQueue::new(random);
            let mut model = std::collections::BTreeMap::new();
            let (mut now, mut seq) = (0.0, 0);
            for (k, (delay, what, m)) in steps.into_iter().enumerate() {
                match what {
                    0 | 1 => {
                        let t = now + f64::from(delay) / 4.0;
                        q.push(t, k);
                        model.insert((t.to_bits(), seq), k);
                        seq += 1;
                    }
                    2 => {
                        let want = model.pop_first().map(|((bits, _), e)| (f64::from_bits(bits), e));
                        prop_assert_eq!(q.peek_time(), want.map(|w| w.0));
                        prop_assert_eq!(q.pop().map(|e| (e.time, e.event)), want);
                        now = want.map_or(now, |w| w.0);
                    }
                    _ => {
                        let m = usize::from(m) + 2;
                        let want = model.iter().find(|(_, e)| **e % m == 0).map(|(k, e)| (*k, *e));
                        if let Some((k, _)) = want {
                            model.remove(&k);
                        }
                        let got = q.remove_first(|e| e % m == 0).map(|e| ((e.time.to_bits(), e.seq), e.event));
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(q.iter().count(), model.len());
            }
        }
    }
}
