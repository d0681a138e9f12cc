//! The set of operations the search has linearized, with a memo key whose size does not
//! grow with the history.
//!
//! Lowe's memoization remembers every configuration (linearized set, model state) it has
//! explored. Kept as a plain bitset over all operations, each remembered configuration
//! costs n bits, and a history of 10^5 operations on one key needs gigabytes and spends
//! its time hashing them. But the set has a shape: completed operations, numbered in the
//! order of their calls, are linearized *from the front*. If operation `low` is the first
//! one not linearized, every linearized operation after it was called before `low`
//! returned — Wing and Gong only place a call that comes before the first remaining
//! return — so the set is "all of `0..low`" plus a window no wider than the operations
//! concurrent with `low`. The key is `low`, that window's words, and the bits of the
//! pending operations (which can stay out of the set forever, so they are kept apart
//! instead of pinning `low`). It names the set exactly: no hash stands in for it.

/// Linearized operations, by bit position: completed operations in the order of their
/// calls first, then pending ones.
pub struct LinearizedSet {
    /// For each operation (by its index in the part being checked): its bit position.
    position: Vec<usize>,
    /// How many operations completed: positions `0..completed` are theirs.
    completed: usize,
    /// Completed operations linearized, by position.
    done: Vec<u64>,
    /// Pending operations linearized, by position − `completed`.
    pending: Vec<u64>,
    /// The first completed position not in the set (`completed` if none).
    low: usize,
    /// One past the last completed position in the set (0 if none).
    high: usize,
}

impl LinearizedSet {
    /// An empty set over operations called at `called` and pending where `pending`.
    pub fn new(called: &[f64], pending: &[bool]) -> LinearizedSet {
        let mut order: Vec<usize> = (0..called.len()).collect();
        order.sort_by(|&a, &b| pending[a].cmp(&pending[b]).then(called[a].total_cmp(&called[b])).then(a.cmp(&b)));
        let mut position = vec![0; called.len()];
        for (p, &k) in order.iter().enumerate() {
            position[k] = p;
        }
        let completed = pending.iter().filter(|p| !**p).count();
        LinearizedSet {
            position,
            completed,
            done: vec![0; completed.div_ceil(64)],
            pending: vec![0; (called.len() - completed).div_ceil(64)],
            low: 0,
            high: 0,
        }
    }

    fn done_bit(&self, p: usize) -> bool {
        self.done[p / 64] & (1 << (p % 64)) != 0
    }

    /// Adds operation `k`.
    pub fn insert(&mut self, k: usize) {
        let p = self.position[k];
        if p >= self.completed {
            let q = p - self.completed;
            self.pending[q / 64] |= 1 << (q % 64);
            return;
        }
        self.done[p / 64] |= 1 << (p % 64);
        self.high = self.high.max(p + 1);
        while self.low < self.completed && self.done_bit(self.low) {
            self.low += 1;
        }
    }

    /// Takes operation `k` out.
    pub fn remove(&mut self, k: usize) {
        let p = self.position[k];
        if p >= self.completed {
            let q = p - self.completed;
            self.pending[q / 64] &= !(1 << (q % 64));
            return;
        }
        self.done[p / 64] &= !(1 << (p % 64));
        self.low = self.low.min(p);
        // Everything below `low` is in the set, so this stops at `low` at the latest.
        while self.high > 0 && !self.done_bit(self.high - 1) {
            self.high -= 1;
        }
    }

    /// The set, exactly, in a few words: `low`, the words of the window `low..high`, and
    /// the pending operations' words (a fixed number, so the length tells the window's).
    pub fn key(&self) -> Box<[u64]> {
        let window = if self.high > self.low { &self.done[self.low / 64..self.high.div_ceil(64)] } else { &[] };
        let mut key = Vec::with_capacity(1 + window.len() + self.pending.len());
        key.push(self.low as u64);
        key.extend_from_slice(window);
        key.extend_from_slice(&self.pending);
        key.into_boxed_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    /// Two sets have the same key exactly when they hold the same operations, whatever
    /// the order of insertions and removals that built them.
    #[test]
    fn the_key_names_the_set() {
        let called: Vec<f64> = (0..150).map(|i| ((i * 37) % 150) as f64).collect();
        let pending: Vec<bool> = (0..150).map(|i| i % 11 == 3).collect();
        let mut seen: HashMap<Box<[u64]>, BTreeSet<usize>> = HashMap::new();
        let mut set = LinearizedSet::new(&called, &pending);
        let mut model = BTreeSet::new();
        let mut x: u64 = 12345;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Mostly near the front, as the search works, sometimes anywhere.
            let k = if x >> 60 == 0 { (x >> 20) as usize % 150 } else { (model.len() + (x >> 20) as usize % 8) % 150 };
            if model.contains(&k) {
                set.remove(k);
                model.remove(&k);
            } else {
                set.insert(k);
                model.insert(k);
            }
            let previous = seen.entry(set.key()).or_insert_with(|| model.clone());
            assert_eq!(*previous, model, "one key for two different sets");
        }
        assert!(seen.len() > 1000, "the walk visited {} sets", seen.len());
    }

    #[test]
    fn the_key_stays_small_when_the_front_is_linearized() {
        let called: Vec<f64> = (0..100_000).map(|i| i as f64).collect();
        let pending = vec![false; 100_000];
        let mut set = LinearizedSet::new(&called, &pending);
        for k in 0..99_000 {
            set.insert(k);
        }
        set.insert(99_010);
        assert!(set.key().len() <= 3, "{} words", set.key().len());
        set.remove(99_010);
        assert_eq!(set.key().len(), 1);
    }
}
