//! The visited set: a lock-free open-addressing table of fingerprints.
//!
//! Each slot is one `u64` (two with 128-bit fingerprints), so the set costs 8 bytes per
//! slot; it grows by half when three quarters full, which keeps it between half and
//! three quarters full: 10.7 to 16 bytes per visited state. Threads insert with a
//! compare-and-swap; growing happens between batches, when no thread is inserting.
//! With `--bitstate` the set is a fixed bit array instead ([`crate::bitstate`]), behind
//! the same calls, so every search strategy runs on either.

use crate::bitstate::{BitTable, BitstateConfig, BitstateReport};
use crate::config::CheckConfig;
use crate::state::Fingerprint;
use std::sync::atomic::{AtomicU64, Ordering};

/// The result of an insertion.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Insert {
    /// The fingerprint was new.
    New,
    /// It was there already.
    Seen,
    /// The table is too full: grow it and insert again.
    Full,
}

/// A set of fingerprints.
pub struct Visited {
    hi: Vec<AtomicU64>,
    lo: Vec<AtomicU64>,
    wide: bool,
    len: AtomicU64,
    /// The bit array of a bitstate search, used instead of the table.
    bits: Option<BitTable>,
}

/// Asks the processor to start loading `word`, so that a later access finds it in cache.
#[inline]
pub(crate) fn prefetch_word(word: &AtomicU64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing and cannot fault, and the pointer
    // comes from a live reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch(word as *const AtomicU64 as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = word;
}

const GROW_AT: f64 = 0.75;
const FULL_AT: f64 = 0.92;

fn slots(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

impl Visited {
    /// An empty set.
    pub fn new(wide: bool) -> Self {
        let cap = 1 << 10;
        Visited {
            hi: slots(cap),
            lo: if wide { slots(cap) } else { Vec::new() },
            wide,
            len: AtomicU64::new(0),
            bits: None,
        }
    }

    /// The set a search configured by `cfg` uses: the exact table, or the bit array of
    /// `--bitstate`.
    pub fn for_search(cfg: &CheckConfig) -> Self {
        match cfg.bitstate {
            Some(b) => Visited::bitstate(cfg.wide_fingerprints, b),
            None => Visited::new(cfg.wide_fingerprints),
        }
    }

    /// A bitstate set: a fixed array of bits, never full, never grown.
    pub fn bitstate(wide: bool, config: BitstateConfig) -> Self {
        Visited { hi: Vec::new(), lo: Vec::new(), wide, len: AtomicU64::new(0), bits: Some(BitTable::new(config)) }
    }

    /// The coverage figures of a bitstate search; `None` for the exact table.
    pub fn bitstate_report(&self) -> Option<BitstateReport> {
        self.bits.as_ref().map(|b| b.report(self.len()))
    }

    /// How many fingerprints it holds.
    pub fn len(&self) -> u64 {
        self.len.load(Ordering::Relaxed)
    }

    /// Bytes of memory the table occupies.
    pub fn bytes(&self) -> usize {
        if let Some(b) = &self.bits {
            return b.bytes();
        }
        (self.hi.len() + self.lo.len()) * 8
    }

    #[inline]
    fn home(&self, fp: &Fingerprint) -> usize {
        // Multiply-shift maps the hash onto any capacity, not just powers of two.
        ((fp.hi.wrapping_mul(0x9e37_79b9_7f4a_7c15) as u128 * self.hi.len() as u128) >> 64) as usize
    }

    /// Asks the processor to start loading `fp`'s slot, so that a later `insert` finds
    /// it in cache (the table is far larger than the cache; the misses dominate).
    #[inline]
    pub fn prefetch(&self, fp: Fingerprint) {
        if let Some(b) = &self.bits {
            return b.prefetch(fp);
        }
        prefetch_word(&self.hi[self.home(&fp)]);
    }

    /// Inserts `fp` (callable from many threads at once).
    pub fn insert(&self, fp: Fingerprint) -> Insert {
        if let Some(b) = &self.bits {
            return if b.insert(fp) {
                self.len.fetch_add(1, Ordering::Relaxed);
                Insert::New
            } else {
                Insert::Seen
            };
        }
        let cap = self.hi.len();
        let mut i = self.home(&fp);
        loop {
            let cur = self.hi[i].load(Ordering::Acquire);
            if cur == 0 {
                if self.len.load(Ordering::Relaxed) as f64 >= FULL_AT * cap as f64 {
                    return Insert::Full;
                }
                match self.hi[i].compare_exchange(0, fp.hi, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => {
                        if self.wide {
                            self.lo[i].store(fp.lo, Ordering::Release);
                        }
                        self.len.fetch_add(1, Ordering::Relaxed);
                        return Insert::New;
                    }
                    Err(now) => {
                        if now == fp.hi && self.same_low(i, fp.lo) {
                            return Insert::Seen;
                        }
                    }
                }
            } else if cur == fp.hi && self.same_low(i, fp.lo) {
                return Insert::Seen;
            }
            i += 1;
            if i == cap {
                i = 0;
            }
        }
    }

    /// Whether slot `i`'s low half equals `lo` (waiting for a racing writer to finish).
    #[inline]
    fn same_low(&self, i: usize, lo: u64) -> bool {
        if !self.wide {
            return true;
        }
        loop {
            let v = self.lo[i].load(Ordering::Acquire);
            if v != 0 {
                return v == lo;
            }
            std::hint::spin_loop();
        }
    }

    /// Whether `fp` is in the set.
    pub fn contains(&self, fp: Fingerprint) -> bool {
        if let Some(b) = &self.bits {
            return b.contains(fp);
        }
        let cap = self.hi.len();
        let mut i = self.home(&fp);
        loop {
            let cur = self.hi[i].load(Ordering::Acquire);
            if cur == 0 {
                return false;
            }
            if cur == fp.hi && self.same_low(i, fp.lo) {
                return true;
            }
            i += 1;
            if i == cap {
                i = 0;
            }
        }
    }

    /// How many more fingerprints it takes before an insertion answers `Full`.
    pub fn room(&self) -> u64 {
        if self.bits.is_some() {
            return u64::MAX;
        }
        ((FULL_AT * self.hi.len() as f64) as u64).saturating_sub(self.len())
    }

    /// Whether the table is past three quarters full, so the next
    /// [`grow_if_needed`](Self::grow_if_needed) will grow it.
    pub fn growth_due(&self) -> bool {
        self.bits.is_none() && self.len() as f64 >= GROW_AT * self.hi.len() as f64
    }

    /// Bytes of the table that growing would allocate (the old one is freed only once
    /// every fingerprint has moved, so growing needs both at once).
    pub fn grown_bytes(&self) -> usize {
        let cap = self.hi.len();
        (cap + cap / 2) * if self.wide { 16 } else { 8 }
    }

    /// Grows the table if it is past three quarters full (call when no thread inserts).
    pub fn grow_if_needed(&mut self) {
        self.grow_on(None);
    }

    /// [`grow_if_needed`](Self::grow_if_needed), the fingerprints moved by `pool`'s
    /// threads when there is one: on one thread, moving a table of millions (a cache
    /// miss each) was serial time a parallel search could not share.
    pub fn grow_on(&mut self, pool: Option<&rayon::ThreadPool>) {
        if !self.growth_due() {
            return;
        }
        let cap = self.hi.len();
        let new_cap = cap + cap / 2;
        let held = self.len();
        let old_hi = std::mem::replace(&mut self.hi, slots(new_cap));
        let old_lo = std::mem::replace(&mut self.lo, if self.wide { slots(new_cap) } else { Vec::new() });
        let move_range = |range: std::ops::Range<usize>| {
            for k in range {
                let hi = old_hi[k].load(Ordering::Relaxed);
                if hi != 0 {
                    let lo = if self.wide { old_lo[k].load(Ordering::Relaxed) } else { 0 };
                    self.place(Fingerprint { hi, lo });
                }
            }
        };
        match pool {
            Some(pool) if pool.current_num_threads() > 1 => {
                use rayon::prelude::*;
                const SLICE: usize = 1 << 14;
                pool.install(|| {
                    (0..cap.div_ceil(SLICE))
                        .into_par_iter()
                        .for_each(|j| move_range(j * SLICE..((j + 1) * SLICE).min(cap)))
                });
            }
            _ => move_range(0..cap),
        }
        // Every fingerprint moved is distinct: the count stays what it was.
        self.len.store(held, Ordering::Relaxed);
    }

    /// Puts a fingerprint known to be absent into the first free slot from its home,
    /// without counting it (growth counts once for all).
    fn place(&self, fp: Fingerprint) {
        let cap = self.hi.len();
        let mut i = self.home(&fp);
        loop {
            if self.hi[i].load(Ordering::Relaxed) == 0
                && self.hi[i].compare_exchange(0, fp.hi, Ordering::AcqRel, Ordering::Acquire).is_ok()
            {
                if self.wide {
                    self.lo[i].store(fp.lo, Ordering::Release);
                }
                return;
            }
            i += 1;
            if i == cap {
                i = 0;
            }
        }
    }

    /// The probability that two of `states` distinct states shared a fingerprint, so
    /// that one was never explored (the birthday bound m²/2^(bits+1)).
    pub fn collision_probability(&self, states: u64) -> f64 {
        let bits = if self.wide { 128.0 } else { 64.0 };
        ((states as f64).powi(2) / 2f64.powf(bits + 1.0)).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_grown_by_two_threads_holds_every_fingerprint_once() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool of two threads");
        for wide in [false, true] {
            let mut v = Visited::new(wide);
            let fp =
                |k: u64| Fingerprint { hi: k.wrapping_mul(0x2545_f491_4f6c_dd1d).max(1), lo: if wide { k } else { 0 } };
            let mut grown = 0;
            for k in 1..=200_000u64 {
                if v.growth_due() {
                    let before = v.bytes();
                    v.grow_on(Some(&pool));
                    grown += usize::from(v.bytes() > before);
                }
                assert_eq!(v.insert(fp(k)), Insert::New, "{k}");
            }
            assert!(grown > 5, "grew {grown} times");
            assert_eq!(v.len(), 200_000);
            assert!((1..=200_000u64).all(|k| v.insert(fp(k)) == Insert::Seen));
            assert!(!v.contains(fp(200_001)));
        }
    }

    #[test]
    fn inserts_are_counted_once_across_growth() {
        for wide in [false, true] {
            let mut v = Visited::new(wide);
            let mut new = 0;
            for round in 0..2 {
                for k in 1..=300_000u64 {
                    let fp =
                        Fingerprint { hi: k.wrapping_mul(0x2545_f491_4f6c_dd1d).max(1), lo: if wide { k } else { 0 } };
                    loop {
                        match v.insert(fp) {
                            Insert::New => {
                                new += 1;
                                break;
                            }
                            Insert::Seen => break,
                            Insert::Full => v.grow_if_needed(),
                        }
                    }
                }
                assert_eq!(new, 300_000, "round {round}");
                v.grow_if_needed();
            }
            assert_eq!(v.len(), 300_000);
            assert!(v.bytes() as f64 / 300_000.0 <= if wide { 32.5 } else { 16.5 });
        }
    }
}
