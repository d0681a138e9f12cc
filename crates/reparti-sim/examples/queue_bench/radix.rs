//! A radix heap: a priority queue for keys that never go below the last one popped.
//! The simulator's queue for random delays before the calendar queue, kept here (its
//! replay scan and tests left out) as the benchmark's baseline.
//!
//! Simulated time never goes backwards, which is exactly the radix heap's condition.
//! A key lives in bucket `b` = the position of the highest bit in which it differs from
//! the last key popped; a pop takes the least key of the lowest non-empty bucket and
//! spreads the rest of that bucket into lower ones. Each key moves down at most once per
//! bit, every bucket is a plain vector appended to in order, and there is no sifting
//! through a tree scattered across memory: random delays on a million in-flight
//! messages pop several times faster than from a binary heap.

/// A min-queue of `(key, value)` with keys at least the last key popped.
pub struct RadixHeap<E> {
    buckets: Vec<Vec<(u128, E)>>,
    last: u128,
    len: usize,
}

impl<E> Default for RadixHeap<E> {
    fn default() -> Self {
        RadixHeap { buckets: (0..=128).map(|_| Vec::new()).collect(), last: 0, len: 0 }
    }
}

impl<E> RadixHeap<E> {
    #[inline]
    fn bucket(last: u128, key: u128) -> usize {
        128 - (key ^ last).leading_zeros() as usize
    }

    /// Adds a value; `key` must not be below the last key popped.
    #[inline]
    pub fn push(&mut self, key: u128, value: E) {
        debug_assert!(key >= self.last, "a radix heap key went below the last one popped");
        let b = Self::bucket(self.last, key.max(self.last));
        self.buckets[b].push((key, value));
        self.len += 1;
    }

    /// Makes bucket 0 hold the least key, if there is any.
    fn settle(&mut self) {
        if !self.buckets[0].is_empty() || self.len == 0 {
            return;
        }
        let Some(i) = self.buckets.iter().position(|b| !b.is_empty()) else { return };
        let moving = std::mem::take(&mut self.buckets[i]);
        let least = moving.iter().map(|(k, _)| *k).min().unwrap_or(self.last);
        self.last = least;
        for (k, v) in moving {
            let b = Self::bucket(least, k);
            self.buckets[b].push((k, v));
        }
    }

    /// The least key.
    pub fn peek_key(&mut self) -> Option<u128> {
        self.settle();
        self.buckets[0].last().map(|(k, _)| *k)
    }

    /// Takes the least key and its value.
    pub fn pop(&mut self) -> Option<(u128, E)> {
        self.settle();
        let item = self.buckets[0].pop()?;
        self.len -= 1;
        Some(item)
    }
}
