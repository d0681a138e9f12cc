//! Bitstate hashing (Holzmann's supertrace): the visited set as a plain array of bits.
//!
//! A state sets `k` bits of the array, at positions drawn from its fingerprint and a
//! hash seed; it counts as visited when all `k` are set already. A new state whose bits
//! were all set by others is taken for a visited one and never explored: the search is
//! partial, but one bit or a few per state instead of 10.7–16 bytes lets a space of
//! 10⁹ states be searched in a gigabyte. The array never grows, so a bitstate search
//! never stops for memory; what it gives up is coverage, which the report estimates.
//!
//! Different hash seeds omit different states, which is what a swarm of bitstate
//! searches relies on (see `reparti swarm`).

use crate::state::Fingerprint;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What a bitstate search is given: the array's size, the bits per state, the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BitstateConfig {
    /// Bytes of the bit array.
    pub bytes: u64,
    /// Bits set per state (SPIN's `-k`); 3 by default, as SPIN's.
    pub hash_functions: u32,
    /// Seed of the bit positions: two seeds omit different states.
    pub hash_seed: u64,
}

impl BitstateConfig {
    /// `bytes` of bits, 3 bits per state, seed 0.
    pub fn new(bytes: u64) -> Self {
        BitstateConfig { bytes, hash_functions: 3, hash_seed: 0 }
    }
}

/// What a bitstate search reports about its coverage.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BitstateReport {
    /// Bytes of the bit array.
    pub bytes: u64,
    /// Bits set per state.
    pub hash_functions: u32,
    /// The seed of the bit positions.
    pub hash_seed: u64,
    /// Bits of the array per state stored (SPIN's "hash factor"): above 100, few
    /// states are missed; near 1, most are.
    pub hash_factor: f64,
    /// The fraction of the array's bits set at the end.
    pub fill: f64,
    /// The probability that a new state would be taken for a visited one now (every
    /// one of its bits set already): `fill^k`.
    pub false_hit_probability: f64,
    /// The expected fraction of the new states met that were stored rather than taken
    /// for visited ones, from the fill as it grew (an estimate of what the search
    /// covered of what it reached; the states a missed one would have led to are not in
    /// it).
    pub estimated_coverage: f64,
}

/// How many stripe locks serialize insertions of one state.
const STRIPES: usize = 1024;

/// The bit array.
pub struct BitTable {
    words: Vec<AtomicU64>,
    bits: u64,
    config: BitstateConfig,
    /// The hash seed, mixed once (every insertion uses it).
    seed: u64,
    set: AtomicU64,
    /// Striped locks: two threads inserting one state take the same stripe, so exactly
    /// one of them is told it is new (the k bits cannot be set in one atomic step).
    stripes: Box<[AtomicBool]>,
    /// The expected number of new states taken for visited ones so far, as `f64` bits:
    /// each stored state adds h / (1 − h), h = fill^k when it was stored (see
    /// [`BitTable::report`]).
    missed: AtomicU64,
}

/// A 64-bit finalizer (splitmix64's): spreads every input bit over the output.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl BitTable {
    /// An array of `config.bytes` bytes (at least 8), every bit clear.
    pub fn new(config: BitstateConfig) -> Self {
        let words = (config.bytes / 8).max(1);
        BitTable {
            words: (0..words).map(|_| AtomicU64::new(0)).collect(),
            bits: words * 64,
            config: BitstateConfig { bytes: words * 8, ..config },
            seed: mix(config.hash_seed.wrapping_add(0x9e37_79b9_7f4a_7c15)),
            set: AtomicU64::new(0),
            stripes: (0..STRIPES).map(|_| AtomicBool::new(false)).collect(),
            missed: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Bytes the array occupies.
    pub fn bytes(&self) -> usize {
        self.words.len() * 8
    }

    /// The `k` bit positions of `fp`, by double hashing (Kirsch and Mitzenmacher: two
    /// hashes give k as good as k independent ones), each mapped onto the array by
    /// multiply-shift so that any size works, not only powers of two.
    #[inline]
    fn positions(&self, fp: &Fingerprint) -> impl Iterator<Item = u64> + '_ {
        let seed = self.seed;
        let h1 = mix(fp.hi ^ seed ^ fp.lo.rotate_left(17));
        let h2 = mix(h1 ^ seed.rotate_left(32)) | 1;
        (0..u64::from(self.config.hash_functions.max(1))).map(move |i| {
            let h = h1.wrapping_add(i.wrapping_mul(h2));
            ((u128::from(h) * u128::from(self.bits)) >> 64) as u64
        })
    }

    /// Sets `fp`'s bits; whether one of them was clear (the state is new). Callable
    /// from many threads: one state's insertions are serialized by its stripe, so two
    /// threads racing on one new state are not both told it is new (the count of
    /// stored states would then exceed the states that exist).
    pub fn insert(&self, fp: Fingerprint) -> bool {
        let stripe = &self.stripes[(mix(fp.hi) % STRIPES as u64) as usize];
        while stripe.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            std::hint::spin_loop();
        }
        let new = self.set_bits(&fp);
        stripe.store(false, Ordering::Release);
        new
    }

    fn set_bits(&self, fp: &Fingerprint) -> bool {
        let fp = *fp;
        let mut new = false;
        let before = self.set.load(Ordering::Relaxed);
        for bit in self.positions(&fp) {
            let mask = 1u64 << (bit % 64);
            let was = self.words[(bit / 64) as usize].fetch_or(mask, Ordering::Relaxed);
            if was & mask == 0 {
                new = true;
                self.set.fetch_add(1, Ordering::Relaxed);
            }
        }
        if new {
            // With the array this full, a new state met has its k bits all set with
            // probability h, and is missed: this stored one stands for 1 / (1 − h) met.
            let h = (before as f64 / self.bits as f64).powf(f64::from(self.config.hash_functions.max(1)));
            let more = h / (1.0 - h).max(1e-12);
            if more > 0.0 {
                let _ = self
                    .missed
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |m| Some((f64::from_bits(m) + more).to_bits()));
            }
        }
        new
    }

    /// Whether every one of `fp`'s bits is set.
    pub fn contains(&self, fp: Fingerprint) -> bool {
        self.positions(&fp)
            .all(|bit| self.words[(bit / 64) as usize].load(Ordering::Relaxed) & (1u64 << (bit % 64)) != 0)
    }

    /// Asks the processor to start loading `fp`'s first word.
    #[inline]
    pub fn prefetch(&self, fp: Fingerprint) {
        if let Some(bit) = self.positions(&fp).next() {
            crate::visited::prefetch_word(&self.words[(bit / 64) as usize]);
        }
    }

    /// The coverage figures once `stored` states have been stored.
    pub fn report(&self, stored: u64) -> BitstateReport {
        let m = self.bits as f64;
        let k = f64::from(self.config.hash_functions.max(1));
        let fill = self.set.load(Ordering::Relaxed) as f64 / m;
        // The fill is measured as it grew (the insertions add up what it implies),
        // rather than modelled: a state is stored precisely because one of its bits was
        // clear, so a crowded array fills faster than k random bits a state predict.
        let missed = f64::from_bits(self.missed.load(Ordering::Relaxed));
        let met = stored as f64 + missed;
        BitstateReport {
            bytes: self.config.bytes,
            hash_functions: self.config.hash_functions,
            hash_seed: self.config.hash_seed,
            hash_factor: m / (stored.max(1) as f64),
            fill,
            false_hit_probability: fill.powf(k),
            estimated_coverage: if met > 0.0 { stored as f64 / met } else { 1.0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(k: u64) -> Fingerprint {
        Fingerprint { hi: mix(k).max(1), lo: 0 }
    }

    #[test]
    fn a_roomy_array_stores_every_state_once() {
        let t = BitTable::new(BitstateConfig::new(1 << 20));
        let new = (0..50_000u64).filter(|&k| t.insert(fp(k))).count();
        assert_eq!(new, 50_000, "8 Mi bits for 50 k states: a false hit is a 1-in-10⁷ event");
        assert!((0..50_000u64).all(|k| !t.insert(fp(k))), "a state stored is seen again");
        let r = t.report(50_000);
        assert!(r.hash_factor > 160.0 && r.estimated_coverage > 0.9999, "{r:?}");
    }

    #[test]
    fn a_crowded_array_misses_states_and_says_about_how_many() {
        // 8 Ki bits for 20 k states: most new states find their bits set.
        let t = BitTable::new(BitstateConfig::new(1 << 10));
        let stored = (0..20_000u64).filter(|&k| t.insert(fp(k))).count() as u64;
        assert!(stored < 10_000, "{stored}");
        let r = t.report(stored);
        assert!(r.fill > 0.9 && r.false_hit_probability > 0.7, "{r:?}");
        // The estimate is of stored / met: here met is known (20,000).
        let truth = stored as f64 / 20_000.0;
        assert!((r.estimated_coverage - truth).abs() < 0.15, "estimate {} vs {truth}", r.estimated_coverage);
    }

    #[test]
    fn two_seeds_miss_different_states() {
        let a = BitTable::new(BitstateConfig { hash_seed: 1, ..BitstateConfig::new(1 << 10) });
        let b = BitTable::new(BitstateConfig { hash_seed: 2, ..BitstateConfig::new(1 << 10) });
        let missed_a: Vec<u64> = (0..5_000u64).filter(|&k| !a.insert(fp(k))).collect();
        let missed_b: Vec<u64> = (0..5_000u64).filter(|&k| !b.insert(fp(k))).collect();
        assert!(!missed_a.is_empty() && missed_a != missed_b);
    }
}
