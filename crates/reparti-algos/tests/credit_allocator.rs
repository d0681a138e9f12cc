//! The consumer as allocator through the simulator: the allocation invariant, slot
//! conservation and no overflow after every event; nothing reserved and every item
//! consumed once, in order, at the end; DATA exact, GRANT = ASK exact, ASK within its
//! derived bounds, across seeds, sizes, buffers, ask sizes and the three delay models.
//! Unordered channels keep every safety property (only order needs FIFO). The broken
//! variant (grants that forget what is reserved) overflows the buffer.

use reparti_algos::communication::credit_allocator::CreditAllocator;
use reparti_core::IdAssignment;
use reparti_sim::{NetworkModel, Report, SimConfig, Stop};

mod common;
use common::{assert_good, config, networks, run};

const ALLOCATION: &str = "allocation: |buf| + reserved <= N";
const CONSERVATION: &str = "slot conservation: free + |buf| + credit + GRANT + DATA + RELEASE = N";
const NO_OVERFLOW: &str = "no overflow: |buf| <= N";
const CONSUMED: &str = "nothing reserved; every item consumed exactly once, in its producer's order";
const SAFETY: [&str; 3] = [ALLOCATION, CONSERVATION, NO_OVERFLOW];
const ALL: [&str; 4] = [ALLOCATION, CONSERVATION, NO_OVERFLOW, CONSUMED];

fn params(buffer: u32, ask: u32, items: u32) -> Vec<(&'static str, String)> {
    vec![("buffer", buffer.to_string()), ("ask", ask.to_string()), ("items", items.to_string())]
}

fn simulate(n: usize, seed: u64, network: &NetworkModel, p: &[(&'static str, String)], keep_going: bool) -> Report {
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let cfg = SimConfig { stop_at_violation: !keep_going, ..config(n, seed, IdAssignment::Asc, network, &p) };
    run::<CreditAllocator>(&cfg)
}

/// The counts every correct run has, whatever its timing.
fn assert_counts(r: &Report, n: usize, ask: u32, items: u32, ctx: &str) {
    let m = n as u64 - 1;
    let produced = m * u64::from(items);
    assert_eq!(r.sent("DATA"), produced, "{ctx}");
    assert_eq!(r.sent("GRANT"), r.sent("ASK"), "{ctx}");
    let fewest = m * u64::from(items).div_ceil(u64::from(ask));
    assert!((fewest..=produced).contains(&r.sent("ASK")), "{ctx}: {} ASK", r.sent("ASK"));
    // Every item is pending before the first GRANT arrives (the workload comes at time
    // 0, messages take time): a producer releases only once its last items are out.
    assert!(r.sent("RELEASE") <= m, "{ctx}: {} RELEASE", r.sent("RELEASE"));
    for key in ["DATA", "ASK", "GRANT", "RELEASE", "total"] {
        assert_eq!(r.expected[key].holds, Some(true), "{ctx}: {key}: {:?}", r.expected[key]);
    }
}

#[test]
fn every_property_and_the_derived_counts_across_seeds_sizes_asks_and_delays() {
    let (mut fifo_runs, mut unordered_runs, mut misordered) = (0, 0, 0);
    for network in networks() {
        for n in [2usize, 3, 4, 6, 8] {
            for (buffer, ask, items) in [(1u32, 1u32, 3u32), (4, 2, 5), (3, 4, 6), (8, 3, 7), (5, 1, 0)] {
                for seed in 1..=4u64 {
                    let ctx = format!("n={n} N={buffer} k={ask} items={items} seed={seed} {network:?}");
                    let r = simulate(n, seed, &network, &params(buffer, ask, items), false);
                    if network.fifo {
                        assert_good(&r, &ALL, &ctx);
                        fifo_runs += 1;
                    } else {
                        // Safety does not need FIFO; only the producers' order does.
                        assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
                        for p in SAFETY {
                            assert!(r.holds(p), "{ctx}: {p}: {:?}", r.property(p));
                        }
                        if !r.holds(CONSUMED) {
                            let why = r.property(CONSUMED).and_then(|p| p.detail.clone()).unwrap_or_default();
                            assert!(why.contains("out of the producer's order"), "{ctx}: {why}");
                            misordered += 1;
                        }
                        unordered_runs += 1;
                    }
                    assert_counts(&r, n, ask, items, &ctx);
                }
            }
        }
    }
    assert!(misordered > 0, "unordered channels never reordered a producer's items");
    println!(
        "credit-allocator: {fifo_runs} FIFO runs all good; {unordered_runs} unordered runs safe, {misordered} of them out of order"
    );
}

/// A buffer that holds everything and asks as large: one ASK and one GRANT per
/// producer, so 1 + 2/items messages per item.
#[test]
fn a_buffer_for_everything_costs_one_ask_per_producer() {
    let network = NetworkModel::default();
    for n in [2usize, 4, 7] {
        let m = n as u64 - 1;
        let r = simulate(n, 1, &network, &params(6 * m as u32, 6, 6), false);
        let ctx = format!("n={n}, N = everything, k = items");
        assert_good(&r, &ALL, &ctx);
        assert_eq!((r.sent("ASK"), r.sent("GRANT"), r.sent("DATA"), r.sent("RELEASE")), (m, m, 6 * m, 0), "{ctx}");
    }
}

/// One slot for everybody: every grant is of 1 slot, so 3 messages per item, and the
/// producers take turns through C's queue of waiting ASKs.
#[test]
fn one_slot_costs_three_messages_per_item() {
    let network = NetworkModel::default();
    let r = simulate(4, 1, &network, &params(1, 3, 4), false);
    assert_good(&r, &ALL, "N=1, k=3, 3 producers × 4 items");
    assert_eq!((r.sent("DATA"), r.sent("ASK"), r.sent("GRANT"), r.sent("RELEASE")), (12, 12, 12, 0));
}

/// Granting from `N − |buf|` alone promises the same slots twice: the allocation
/// invariant fails, and (run on past it) the buffer overflows.
#[test]
fn grants_that_forget_the_reservations_overflow_the_buffer() {
    let network = NetworkModel::default();
    let mut overflowed = 0;
    for n in [3usize, 4, 6] {
        for seed in 1..=4u64 {
            let mut p = params(2, 2, 4);
            p.push(("fixed", "false".to_string()));
            let ctx = format!("fixed=false n={n} seed={seed}");
            let r = simulate(n, seed, &network, &p, true);
            assert!(!r.holds(ALLOCATION), "{ctx}: the double promise went unseen");
            assert!(!r.holds(CONSERVATION), "{ctx}: more slots out than N");
            overflowed += u32::from(!r.holds(NO_OVERFLOW));
            let fixed = simulate(n, seed, &network, &params(2, 2, 4), false);
            assert_good(&fixed, &ALL, &format!("fixed n={n} seed={seed}"));
        }
    }
    assert!(overflowed > 0, "the broken allocator never overflowed the buffer");
    println!("fixed=false: the allocation invariant failed in every run, the buffer overflowed in {overflowed}");
}
