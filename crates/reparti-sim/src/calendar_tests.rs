//! The calendar queue against a plain sorted model, through rebuilds.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// How far after the last time popped a push lands.
#[derive(Clone, Debug)]
enum Delay {
    /// At that very time: into the head.
    Zero,
    /// Within the current slot, or a few slots on.
    Short(u16),
    /// 1 to 10, as in the benchmark.
    Uniform(u16),
    /// Beyond the window: the overflow.
    Far(u32),
    /// Not a number of slots: 1e300, infinity.
    Huge(bool),
}

impl Delay {
    fn value(&self) -> f64 {
        match self {
            Delay::Zero => 0.0,
            Delay::Short(k) => f64::from(*k) / 4096.0,
            Delay::Uniform(k) => 1.0 + 9.0 * f64::from(*k) / f64::from(u16::MAX),
            Delay::Far(k) => 100.0 + f64::from(*k),
            Delay::Huge(inf) => {
                if *inf {
                    f64::INFINITY
                } else {
                    1e300
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Push(Delay),
    /// Several pushes at one time.
    Burst(u8, Delay),
    Pop,
    Peek,
    /// Removes the first event that is a multiple of this (plus 2).
    Remove(u8),
}

fn delay() -> impl Strategy<Value = Delay> {
    prop_oneof![
        2 => Just(Delay::Zero),
        4 => any::<u16>().prop_map(Delay::Short),
        8 => any::<u16>().prop_map(Delay::Uniform),
        2 => (0u32..100_000).prop_map(Delay::Far),
        1 => any::<bool>().prop_map(Delay::Huge),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => delay().prop_map(Op::Push),
        1 => (1u8..40, delay()).prop_map(|(k, d)| Op::Burst(k, d)),
        7 => Just(Op::Pop),
        1 => Just(Op::Peek),
        1 => any::<u8>().prop_map(Op::Remove),
    ]
}

/// Runs `ops` on a queue and on a sorted map of (time bits, seq), which must agree
/// on every pop, peek and removal, and on what is left.
fn agrees(mut q: CalendarQueue<u64>, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model = BTreeMap::new();
    let (mut now, mut seq) = (0.0f64, 0u64);
    let mut push = |q: &mut CalendarQueue<u64>, model: &mut BTreeMap<(u64, u64), u64>, t: f64| {
        q.push(t, seq, seq);
        model.insert(((t + 0.0).to_bits(), seq), seq);
        seq += 1;
    };
    for op in ops {
        match op {
            Op::Push(d) => push(&mut q, &mut model, now + d.value()),
            Op::Burst(k, d) => (0..*k).for_each(|_| push(&mut q, &mut model, now + d.value())),
            Op::Pop => {
                let want = model.pop_first().map(|((bits, seq), e)| (bits, seq, e));
                let got = q.pop().map(|(t, seq, e)| (t.to_bits(), seq, e));
                prop_assert_eq!(got, want);
                if let Some((bits, ..)) = got {
                    now = f64::from_bits(bits);
                }
            }
            Op::Peek => {
                let want = model.keys().next().map(|k| k.0);
                prop_assert_eq!(q.peek_time().map(f64::to_bits), want);
            }
            Op::Remove(m) => {
                let m = u64::from(*m) + 2;
                let want = model.iter().find(|(_, e)| *e % m == 0).map(|(k, e)| (*k, *e));
                if let Some((k, _)) = want {
                    model.remove(&k);
                }
                let got = q.remove_first(|e| e % m == 0).map(|(t, seq, e)| ((t.to_bits(), seq), e));
                prop_assert_eq!(got, want);
            }
        }
    }
    let mut left: Vec<u64> = q.iter().copied().collect();
    left.sort_unstable();
    let mut want: Vec<u64> = model.values().copied().collect();
    want.sort_unstable();
    prop_assert_eq!(left, want);
    for ((bits, seq), e) in model {
        prop_assert_eq!(q.pop().map(|(t, s, e)| (t.to_bits(), s, e)), Some((bits, seq, e)));
    }
    prop_assert!(q.pop().is_none());
    prop_assert!(q.peek_time().is_none());
    Ok(())
}

/// A queue that looks at its width every few pushes and wants few entries per
/// bucket: it rebuilds often.
fn restless() -> CalendarQueue<u64> {
    CalendarQueue { target: 4, period: 16, ..CalendarQueue::default() }
}

proptest! {
    #[test]
    fn pops_in_time_then_sequence_order(ops in proptest::collection::vec(op(), 0..600)) {
        agrees(CalendarQueue::default(), &ops)?;
    }

    #[test]
    fn rebuilding_keeps_the_order(ops in proptest::collection::vec(op(), 0..600)) {
        agrees(restless(), &ops)?;
    }
}

/// The benchmark's pattern at a smaller scale, past several rebuilds: a thousand
/// events in flight, each pop followed by a push 1 to 10 later.
#[test]
fn keeps_the_order_with_many_events_in_flight() {
    let mut ops: Vec<Op> = (0..5_000u32).map(|k| Op::Push(Delay::Uniform(k.wrapping_mul(40_503) as u16))).collect();
    for k in 0..20_000u32 {
        ops.push(Op::Pop);
        ops.push(Op::Push(Delay::Uniform(k.wrapping_mul(2_654_435_761) as u16)));
    }
    agrees(CalendarQueue::default(), &ops).unwrap();
}

/// Many distinct times, all much closer than a slot, pushed out of order into the
/// head: the queue narrows its slots instead of inserting into a huge head.
#[test]
fn a_crowded_head_narrows_the_slots() {
    let mut q = CalendarQueue::default();
    let n = 20_000u64;
    for k in 0..n {
        q.push((k.wrapping_mul(7_919) % n) as f64 / n as f64, k, k);
    }
    assert!(q.scale > 1.0, "the slots were narrowed: {}", q.scale);
    let times: Vec<f64> = std::iter::from_fn(|| q.pop().map(|(t, ..)| t)).collect();
    assert_eq!(times.len(), n as usize);
    assert!(times.windows(2).all(|w| w[0] < w[1]));
}

proptest! {
    /// A bucket's sort, on entries in the order pushes leave them (sequence numbers
    /// growing) and in any other order (after a rebuild or the overflow), with many
    /// equal times or few (crowded sub-buckets), or spread: the same order as sorting
    /// by the whole key.
    #[test]
    fn a_bucket_sorts_by_time_then_sequence(
        times in proptest::collection::vec(any::<u16>(), 0..300),
        spread in 1u16..3000,
        shuffled in any::<bool>(),
        rotation in any::<usize>(),
    ) {
        let mut seqs: Vec<u64> = (0..times.len() as u64).map(|k| 3 * k + 1).collect();
        if shuffled && !seqs.is_empty() {
            let r = rotation % seqs.len();
            seqs.rotate_left(r);
            seqs.reverse();
        }
        let mut entries: Vec<Entry<u64>> = times
            .iter()
            .zip(&seqs)
            .map(|(&t, &seq)| Entry { bits: (1.0 + f64::from(t % spread) / 1024.0).to_bits(), seq, event: seq })
            .collect();
        let mut expected: Vec<(u64, u64)> = entries.iter().map(Entry::key).collect();
        expected.sort_unstable();
        sort_entries(&mut entries, &mut SortScratch::default());
        let got: Vec<(u64, u64)> = entries.iter().map(|e| (e.bits, e.event)).collect();
        prop_assert_eq!(got, expected);
    }
}
