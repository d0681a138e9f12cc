//! Sorting a calendar bucket when its turn comes: by (time, sequence number), the
//! queue's order.
//!
//! A bucket holds the entries of one slot, a few hundred at most, whose times spread
//! over the slot's width. Compared two by two they cost about log2(len) comparisons
//! each (a tenth of a delivery's instructions at 10^5 nodes under uniform delays). They
//! are instead distributed once by their time's offset in the slot into as many
//! sub-buckets as entries — one or two each when times spread evenly — and each
//! sub-bucket is then ordered by insertion; a crowded one (times bunched together) is
//! sorted by comparisons, so that no spread of times costs more than before.
//!
//! Only keys and places move while sorting (16 bytes each, not a whole entry); each
//! entry is then swapped once along the cycles of the resulting permutation.

use crate::calendar::Entry;

/// Buckets up to this many entries are sorted by insertion, in place.
const SMALL_BUCKET: usize = 16;
/// A sub-bucket past this many entries is sorted by comparisons, not by insertion.
const CROWDED: usize = 24;

/// Room kept between sorts: the keys and places, and the sub-buckets' counts.
#[derive(Default)]
pub(crate) struct SortScratch {
    order: Vec<(u64, u32)>,
    counts: Vec<u32>,
}

/// Sorts `v` by (time bits, sequence number).
pub(crate) fn sort_entries<E>(v: &mut [Entry<E>], scratch: &mut SortScratch) {
    // Most buckets hold a few entries when their turn comes (the in-flight count falls
    // faster than the slots widen): sorted in place, they cost a few comparisons each
    // instead of building and walking a permutation.
    if v.len() <= SMALL_BUCKET {
        for i in 1..v.len() {
            let mut j = i;
            while j > 0 && v[j - 1].key() > v[j].key() {
                v.swap(j - 1, j);
                j -= 1;
            }
        }
        return;
    }
    // A bucket filled by pushes alone holds its entries in the order of their sequence
    // numbers, which grow: their places then break ties between equal times as the
    // numbers would, and a stable distribution by time alone keeps that order. A
    // rebuild, or entries moved in from the overflow, break it: those rarer sets are
    // sorted whole by the full key.
    if !v.windows(2).all(|w| w[0].seq < w[1].seq) {
        v.sort_unstable_by_key(Entry::key);
        return;
    }
    order_by_time(v, scratch);
    permute(v, &mut scratch.order);
}

/// Fills `scratch.order` with `v`'s (time bits, place) in (time, place) order.
fn order_by_time<E>(v: &[Entry<E>], scratch: &mut SortScratch) {
    let SortScratch { order, counts } = scratch;
    let (lo, hi) = v.iter().fold((u64::MAX, 0), |(lo, hi), e| (lo.min(e.bits), hi.max(e.bits)));
    order.clear();
    if lo == hi {
        // One time for all: the places, in order, are the order.
        order.extend((0..v.len() as u32).map(|i| (lo, i)));
        return;
    }
    // Non-negative floats order as their bits: the offset from the least time's bits,
    // shifted so that the greatest falls in the last of `subs` sub-buckets.
    let subs = v.len().next_power_of_two();
    let span_bits = 64 - (hi - lo).leading_zeros();
    let shift = span_bits.saturating_sub(subs.trailing_zeros());
    let sub_of = |bits: u64| ((bits - lo) >> shift) as usize;
    counts.clear();
    counts.resize(subs + 1, 0);
    for e in v {
        counts[sub_of(e.bits) + 1] += 1;
    }
    for k in 1..counts.len() {
        counts[k] += counts[k - 1];
    }
    // Scattered in place order: within a sub-bucket, places stay increasing.
    order.resize(v.len(), (0, 0));
    for (i, e) in v.iter().enumerate() {
        let at = &mut counts[sub_of(e.bits)];
        order[*at as usize] = (e.bits, i as u32);
        *at += 1;
    }
    // `counts[k]` is now where sub-bucket k ends.
    let mut start = 0;
    for &end in counts.iter().take(subs) {
        let run = &mut order[start..end as usize];
        if run.len() > CROWDED {
            run.sort_unstable();
        } else {
            // Moved only past a strictly later time: equal times keep their places' order.
            for i in 1..run.len() {
                let mut j = i;
                while j > 0 && run[j - 1].0 > run[j].0 {
                    run.swap(j - 1, j);
                    j -= 1;
                }
            }
        }
        start = end as usize;
    }
}

/// Moves each entry to where `order` puts it: `order[k].1` is where the entry that
/// belongs at `k` is; a visited place is marked by pointing to itself.
fn permute<E>(v: &mut [Entry<E>], order: &mut [(u64, u32)]) {
    for start in 0..v.len() {
        let mut at = start;
        loop {
            let from = order[at].1 as usize;
            order[at].1 = at as u32;
            if from == start {
                break;
            }
            v.swap(at, from);
            at = from;
        }
    }
}
