//! A calendar queue: the event queue for random delays.
//!
//! Simulated time is cut into slots of a fixed width `w` (a power of two, so that a
//! time's slot is an exact product); a circular array of buckets covers a window of
//! slots after the current one. A push appends its entry to its slot's bucket, in O(1)
//! and in place; when a bucket's turn comes it is sorted once by (time, seq) — a few
//! hundred entries, in cache — and the queue pops from it. Every entry is thus written
//! once by its push and read once by its pop (plus one sort in cache), where the radix
//! heap it replaces moved each of them about log2(n) times through memory: with a
//! million events in flight that traffic, not the comparisons, was the cost.
//!
//! The rest is what keeps the order exact whatever the times:
//!
//! * the head (the current slot, sorted) also takes a push at or before its slot (a
//!   zero delay, a burst at one instant): in order, at the back when its key is the
//!   greatest, which a burst's is (seq grows);
//! * an entry beyond the window waits in an overflow heap and moves into its bucket
//!   when the window reaches it (exponential delays, far timers); a time that is not a
//!   finite non-negative number of slots stays there, ordered by its bits as before;
//! * the width adapts to the density of events: it is measured on the buckets as their
//!   turns come, and when a bucket holds far more or far fewer entries than
//!   [`TARGET`], the whole queue is rebuilt with a better width (at most once per `len`
//!   pushes, so rebuilding costs O(1) per push).
//!
//! The order is exactly (time bits, seq), the radix heap's: same seed, same trace.

use crate::bucket_sort::{sort_entries, SortScratch};
use crate::prefetch::prefetch;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// The entries a bucket should hold when its turn comes: enough to amortize the walk
/// from bucket to bucket, few enough to be sorted in cache.
const TARGET: u64 = 512;
/// Bucket counts are powers of two in this range (the least fills one bitmap word).
const MIN_BUCKETS: usize = 64;
const MAX_BUCKETS: usize = 1 << 16;
/// Pushes between two looks at the width, at the least.
const MIN_PERIOD: u64 = 4096;
/// Emptied buffers kept for buckets to fill again.
const SPARE_BUFFERS: usize = 4;
/// Slots from this one on are "far": never in a bucket.
const FAR: u64 = 1 << 62;

/// One queued event: its time's bits (the order of non-negative floats), its sequence
/// number, and the event.
pub(crate) struct Entry<E> {
    pub bits: u64,
    pub seq: u64,
    pub event: E,
}

impl<E> Entry<E> {
    #[inline]
    pub fn key(&self) -> (u64, u64) {
        (self.bits, self.seq)
    }
}

/// An overflow entry, ordered so that `BinaryHeap` (a max-heap) pops the least key.
struct Later<E>(Entry<E>);

impl<E> PartialEq for Later<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0.key() == other.0.key()
    }
}
impl<E> Eq for Later<E> {}
impl<E> PartialOrd for Later<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Later<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.key().cmp(&self.0.key())
    }
}

/// A min-queue of events by (time, seq), for times that do not go backwards.
pub(crate) struct CalendarQueue<E> {
    /// Every entry of a slot up to `cur`, sorted: the next pops.
    head: VecDeque<Entry<E>>,
    /// The head's slot.
    cur: u64,
    /// Slot `s` in `cur + 1 .. limit` is in bucket `s & mask`; `limit - cur ≤ buckets`.
    buckets: Vec<Vec<Entry<E>>>,
    /// One bit per bucket: whether it holds anything.
    occupied: Vec<u64>,
    mask: u64,
    limit: u64,
    /// Entries from slot `limit` on.
    overflow: BinaryHeap<Later<E>>,
    /// Slots per time unit (1 / w, a power of two).
    scale: f64,
    len: usize,
    /// Since the width was last looked at: pushes, and the buckets whose turn came
    /// with the entries they held.
    pushes: u64,
    turns: u64,
    turned: u64,
    /// Entries moved by insertions into the middle of the head.
    shifted: u64,
    /// Room to sort a bucket's keys in.
    scratch: SortScratch,
    /// Emptied heads' buffers, for buckets to fill again: a bucket grown from nothing
    /// reallocates and copies its entries about log2(entries) times.
    spare: Vec<Vec<Entry<E>>>,
    /// [`TARGET`] and [`MIN_PERIOD`], which tests lower to rebuild often.
    target: u64,
    period: u64,
}

impl<E> Default for CalendarQueue<E> {
    fn default() -> Self {
        CalendarQueue::with_shape(1.0, MIN_BUCKETS)
    }
}

impl<E> CalendarQueue<E> {
    fn with_shape(scale: f64, buckets: usize) -> Self {
        CalendarQueue {
            head: VecDeque::new(),
            cur: 0,
            buckets: (0..buckets).map(|_| Vec::new()).collect(),
            occupied: vec![0; buckets / 64],
            mask: buckets as u64 - 1,
            limit: buckets as u64,
            overflow: BinaryHeap::new(),
            scale,
            len: 0,
            pushes: 0,
            turns: 0,
            turned: 0,
            shifted: 0,
            scratch: SortScratch::default(),
            spare: Vec::new(),
            target: TARGET,
            period: MIN_PERIOD,
        }
    }

    /// The slot of a time given by its bits; [`FAR`] for what is not a finite
    /// non-negative time within reach (those are ordered by their bits in the overflow,
    /// after every slotted time).
    #[inline]
    fn slot(&self, bits: u64) -> u64 {
        let slots = f64::from_bits(bits) * self.scale;
        // Multiplying by a power of two is exact, and `as` truncates: the slot is the
        // floor, and it never decreases as the time grows.
        if slots >= 0.0 && slots < FAR as f64 {
            slots as u64
        } else {
            FAR
        }
    }

    /// Schedules `event` at `time` with sequence number `seq`, which must exceed every
    /// earlier one; `time` must not be before the last time popped.
    #[inline]
    pub fn push(&mut self, time: f64, seq: u64, event: E) {
        self.len += 1;
        self.pushes += 1;
        self.place(Entry { bits: (time + 0.0).to_bits(), seq, event });
    }

    #[inline]
    fn place(&mut self, entry: Entry<E>) {
        let s = self.slot(entry.bits);
        if s <= self.cur {
            self.insert_in_head(entry);
        } else if s < self.limit {
            let i = (s & self.mask) as usize;
            let bucket = &mut self.buckets[i];
            if bucket.capacity() == 0 {
                if let Some(buffer) = self.spare.pop() {
                    *bucket = buffer;
                }
            }
            bucket.push(entry);
            self.occupied[i / 64] |= 1 << (i % 64);
            // The next push into this bucket comes thousands of pushes later: ask now for
            // the memory it will write, so that it is in cache by then instead of stalling
            // that push.
            if let Some(next) = bucket.spare_capacity_mut().first() {
                let at: *const u8 = (next as *const std::mem::MaybeUninit<Entry<E>>).cast();
                prefetch(at);
                prefetch(at.wrapping_add(std::mem::size_of::<Entry<E>>() - 1));
            }
        } else {
            self.overflow.push(Later(entry));
        }
    }

    /// Inserts into the sorted head: at the back for the newest key of an instant.
    fn insert_in_head(&mut self, entry: Entry<E>) {
        let key = entry.key();
        if self.head.back().is_none_or(|b| b.key() < key) {
            self.head.push_back(entry);
            return;
        }
        let at = self.head.partition_point(|e| e.key() < key);
        self.shifted += at.min(self.head.len() - at) as u64;
        self.head.insert(at, entry);
        // Delays much shorter than the slots make a large head that pushes land in the
        // middle of: once that has moved as many entries as a rebuild would, narrow the
        // slots (the queue's own measure of density, the bucket turns, never comes).
        let head = self.head.len() as u64;
        if self.shifted > self.period.max(self.len as u64) && head > 4 * self.target {
            self.shifted = 0;
            self.rebuild(self.scale * (head / self.target).next_power_of_two() as f64);
        }
    }

    /// Takes the earliest event: `(time, seq, event)`.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u64, E)> {
        if self.head.is_empty() {
            self.advance();
        }
        // An empty head after `advance`: only far entries are left.
        let e = match self.head.pop_front() {
            Some(e) => e,
            None => self.overflow.pop()?.0,
        };
        self.len -= 1;
        Some((f64::from_bits(e.bits), e.seq, e.event))
    }

    /// The time of the earliest event.
    #[inline]
    pub fn peek_time(&mut self) -> Option<f64> {
        if self.head.is_empty() {
            self.advance();
        }
        let bits = match self.head.front() {
            Some(e) => e.bits,
            None => self.overflow.peek()?.0.bits,
        };
        Some(f64::from_bits(bits))
    }

    /// The event `k` places after the next one, if the head holds it.
    #[inline]
    pub fn peek_ahead(&self, k: usize) -> Option<&E> {
        self.head.get(k).map(|e| &e.event)
    }

    /// Fills the empty head with the next slot that holds anything, if any does.
    fn advance(&mut self) {
        while self.head.is_empty() {
            if let Some(s) = self.next_occupied() {
                let i = (s & self.mask) as usize;
                self.turns += 1;
                self.turned += self.buckets[i].len() as u64;
                if self.pushes >= self.period.max(self.len as u64) && self.retune() {
                    continue;
                }
                self.cur = s;
                let mut bucket = std::mem::take(&mut self.buckets[i]);
                self.occupied[i / 64] &= !(1 << (i % 64));
                sort_entries(&mut bucket, &mut self.scratch);
                // The drained head's buffer goes to the next bucket that fills from
                // empty (while it is still in cache), not to the bucket just taken:
                // buckets beyond the events in flight hold no memory. A few are kept.
                let drained = std::mem::replace(&mut self.head, VecDeque::from(bucket));
                if self.spare.len() < SPARE_BUFFERS && drained.capacity() > 0 {
                    self.spare.push(Vec::from(drained));
                }
                self.raise_limit();
            } else {
                // The window is empty: jump to the overflow's first slot, unless it is far.
                match self.overflow.peek().map(|top| self.slot(top.0.bits)) {
                    Some(s) if s < FAR => {
                        self.cur = s;
                        self.limit = s;
                        self.raise_limit();
                    }
                    _ => return,
                }
            }
        }
    }

    /// Extends the window to a full turn after `cur`, moving in the overflow entries it
    /// now covers (in key order: the head stays sorted).
    fn raise_limit(&mut self) {
        self.limit = self.cur + self.mask + 1;
        while let Some(top) = self.overflow.peek() {
            if self.slot(top.0.bits) >= self.limit {
                break;
            }
            let Some(Later(e)) = self.overflow.pop() else { break };
            self.place(e);
        }
    }

    /// The first slot after `cur` and before `limit` whose bucket holds anything.
    #[inline]
    fn next_occupied(&self) -> Option<u64> {
        let mut s = self.cur + 1;
        while s < self.limit {
            let i = (s & self.mask) as usize;
            // Bucket counts are multiples of 64: a word never wraps around the array.
            let word = self.occupied[i / 64] >> (i % 64);
            if word != 0 {
                let found = s + u64::from(word.trailing_zeros());
                return (found < self.limit).then_some(found);
            }
            s += 64 - (i % 64) as u64;
        }
        None
    }

    /// Looks at the width after a period; rebuilds the queue and returns `true` if the
    /// buckets whose turn came held far more or far fewer entries than [`TARGET`].
    fn retune(&mut self) -> bool {
        let mean = (self.turned / self.turns.max(1)).max(1);
        self.pushes = 0;
        self.turns = 0;
        self.turned = 0;
        let target = self.target;
        let factor = if mean > 4 * target {
            (mean / target).next_power_of_two()
        } else if mean < target / 4 && self.len as u64 > target {
            // Fewer per bucket than wanted while there are enough: wider slots.
            return self.rebuild(self.scale / (target / mean).next_power_of_two() as f64);
        } else {
            return false;
        };
        self.rebuild(self.scale * factor as f64)
    }

    /// Redistributes every entry with slots of `1 / scale`, and as many buckets as the
    /// entries in flight need; `false` if nothing would change.
    fn rebuild(&mut self, scale: f64) -> bool {
        let scale = scale.clamp(f64::powi(2.0, -40), f64::powi(2.0, 40));
        // The buckets cover up to four times the slots that hold `target` entries each.
        let wanted = (4 * self.len / self.target as usize).next_power_of_two().clamp(MIN_BUCKETS, MAX_BUCKETS);
        if scale == self.scale && wanted == self.buckets.len() {
            return false;
        }
        // The least time: the head's front, else the first bucket's least, else the
        // overflow's first.
        let first = self.next_occupied().map(|s| &self.buckets[(s & self.mask) as usize]);
        let least = self
            .head
            .front()
            .map(|e| e.bits)
            .or_else(|| first.and_then(|b| b.iter().map(|e| e.bits).min()))
            .or_else(|| self.overflow.peek().map(|e| e.0.bits));
        let old = std::mem::replace(self, CalendarQueue::with_shape(scale, wanted));
        (self.len, self.target, self.period) = (old.len, old.target, old.period);
        self.cur = least.map_or(0, |b| self.slot(b)).min(FAR - 1 - wanted as u64);
        self.limit = self.cur + wanted as u64;
        let mut head = Vec::new();
        let every = old
            .head
            .into_iter()
            .chain(old.buckets.into_iter().flatten())
            .chain(old.overflow.into_vec().into_iter().map(|l| l.0));
        for e in every {
            if self.slot(e.bits) <= self.cur {
                head.push(e);
            } else {
                self.place(e);
            }
        }
        sort_entries(&mut head, &mut self.scratch);
        self.head = head.into();
        true
    }

    /// Removes and returns the earliest event matching `pred` (a linear scan).
    pub fn remove_first(&mut self, pred: impl Fn(&E) -> bool) -> Option<(f64, u64, E)> {
        #[derive(Clone, Copy)]
        enum At {
            Head(usize),
            Bucket(usize, usize),
            Overflow(usize),
        }
        let mut best: Option<((u64, u64), At)> = None;
        let mut consider = |e: &Entry<E>, at: At| {
            if pred(&e.event) && best.is_none_or(|(k, _)| e.key() < k) {
                best = Some((e.key(), at));
            }
        };
        // The head is sorted: its first match is its least.
        if let Some(i) = self.head.iter().position(|e| pred(&e.event)) {
            consider(&self.head[i], At::Head(i));
        }
        for (b, bucket) in self.buckets.iter().enumerate() {
            for (i, e) in bucket.iter().enumerate() {
                consider(e, At::Bucket(b, i));
            }
        }
        for (i, l) in self.overflow.iter().enumerate() {
            consider(&l.0, At::Overflow(i));
        }
        let e = match best?.1 {
            At::Head(i) => self.head.remove(i)?,
            At::Bucket(b, i) => {
                let e = self.buckets[b].swap_remove(i);
                if self.buckets[b].is_empty() {
                    self.occupied[b / 64] &= !(1 << (b % 64));
                }
                e
            }
            At::Overflow(i) => {
                let mut v = std::mem::take(&mut self.overflow).into_vec();
                let e = v.swap_remove(i).0;
                self.overflow = v.into();
                e
            }
        };
        self.len -= 1;
        Some((f64::from_bits(e.bits), e.seq, e.event))
    }

    /// Every queued event, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &E> {
        let buckets = self.buckets.iter().flatten();
        self.head.iter().chain(buckets).chain(self.overflow.iter().map(|l| &l.0)).map(|e| &e.event)
    }
}

// A file beside this one, named by path, so that the queue benchmark, which includes
// this file by path too, finds it.
#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
