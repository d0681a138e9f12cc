//! Credit-based flow control through the simulator: the conservation invariants after
//! every event, every item consumed once and in order, and the exact DATA and CREDIT
//! counts, across seeds, sizes, batches and the three delay models (FIFO: the
//! algorithm needs it for order). The counts are re-derived here from the parameters
//! alone, not from the run's outputs.

use reparti_algos::communication::credit_flow::quota;
use reparti_algos::communication::CreditFlow;
use reparti_core::IdAssignment;
use reparti_sim::{Delay, NetworkModel, SimConfig, Stop};

mod common;
use common::{assert_good, config, networks, run};

const CONSERVATION: &str = "credit conservation: credit + DATA + |buf| + freed + CREDIT = N";
const PER_PRODUCER: &str = "per-producer conservation (static quotas)";
const NO_OVERFLOW: &str = "no overflow: |buf| <= N";
const CONSUMED: &str = "every item consumed exactly once, in its producer's order";

fn fifo_networks() -> Vec<NetworkModel> {
    networks().into_iter().filter(|m| m.fifo).collect()
}

/// Σ over producers of ⌊items / min(b, q_i)⌋: the CREDIT messages the run must send.
fn credits(n: usize, buffer: u32, batch: u32, items: u32) -> u64 {
    (1..n).map(|p| u64::from(items / batch.min(quota(buffer, n, p)).max(1))).sum()
}

#[test]
fn conservation_and_exact_counts_across_seeds_sizes_batches_and_delays() {
    let mut runs = 0;
    for network in fifo_networks() {
        for n in [2usize, 3, 5, 8] {
            for (buffer, batch, items) in [(4u32, 1u32, 6u32), (4, 2, 7), (8, 3, 10), (1, 1, 5), (6, 9, 4)] {
                if (buffer as usize) < n - 1 {
                    continue;
                }
                for seed in 1..=6u64 {
                    let params =
                        [("buffer", buffer.to_string()), ("batch", batch.to_string()), ("items", items.to_string())];
                    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let r = run::<CreditFlow>(&config(n, seed, IdAssignment::Asc, &network, &params));
                    let ctx = format!("n={n} N={buffer} b={batch} items={items} seed={seed} {network:?}");
                    assert_good(&r, &[CONSERVATION, PER_PRODUCER, NO_OVERFLOW, CONSUMED], &ctx);
                    let m = (n - 1) as u64;
                    assert_eq!(r.sent("DATA"), m * u64::from(items), "{ctx}");
                    assert_eq!(r.sent("CREDIT"), credits(n, buffer, batch, items), "{ctx}");
                    assert_eq!(r.messages.total, r.sent("DATA") + r.sent("CREDIT"), "{ctx}");
                    for key in ["DATA", "CREDIT", "total"] {
                        assert_eq!(r.expected[key].holds, Some(true), "{ctx}: {key}");
                    }
                    runs += 1;
                }
            }
        }
    }
    println!("credit-flow: {runs} simulated runs, every property and count held");
}

/// One producer, b = 1: two messages per item (one DATA, one CREDIT).
#[test]
fn one_producer_batch_one_costs_two_messages_per_item() {
    let network = NetworkModel::default();
    let r = run::<CreditFlow>(&config(2, 7, IdAssignment::Asc, &network, &[("items", "50"), ("buffer", "3")]));
    assert_good(&r, &[CONSERVATION, CONSUMED], "b=1");
    assert_eq!((r.sent("DATA"), r.sent("CREDIT")), (50, 50));
}

/// Without FIFO channels items may be consumed out of order: the terminal property says
/// so (on some seed), while conservation still holds on every run.
#[test]
fn unordered_channels_can_break_the_order_but_never_the_buffer() {
    let mut misordered = 0;
    for network in networks().into_iter().filter(|m| !m.fifo) {
        for seed in 1..=20u64 {
            let r = run::<CreditFlow>(&config(2, seed, IdAssignment::Asc, &network, &[("items", "8")]));
            let ctx = format!("seed={seed} {network:?}");
            assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
            for p in [CONSERVATION, PER_PRODUCER, NO_OVERFLOW] {
                assert!(r.holds(p), "{ctx}: {p}");
            }
            if !r.holds(CONSUMED) {
                let detail = format!("{:?}", r.property(CONSUMED));
                assert!(detail.contains("out of the producer's order"), "{ctx}: {detail}");
                misordered += 1;
            }
        }
    }
    assert!(misordered > 0, "no unordered run ever consumed out of order");
    println!("credit-flow on unordered channels: {misordered}/60 runs consumed out of order");
}

/// The classic bug: credit on receipt. The simulator sees the conservation broken and
/// the buffer overflow when the consumer is slower than the network.
#[test]
fn credit_on_receipt_overflows_the_buffer() {
    // A network ten times faster than the consumer's one item per time unit.
    let network = NetworkModel { delay: Delay::Const { value: 0.1 }, ..NetworkModel::default() };
    let mut overflowed = 0;
    for seed in 1..=10u64 {
        let params = [("fixed", "false"), ("items", "12"), ("buffer", "2")];
        // Run on past the first violation (conservation breaks first) to see the harm.
        let cfg = SimConfig { stop_at_violation: false, ..config(2, seed, IdAssignment::Asc, &network, &params) };
        let r = run::<CreditFlow>(&cfg);
        assert!(!r.holds(CONSERVATION), "seed={seed}: the bug went unseen");
        overflowed += u32::from(!r.holds(NO_OVERFLOW));
    }
    assert_eq!(overflowed, 10, "every run with a fast network overflows");
    println!("credit-flow fixed=false: {overflowed}/10 runs overflowed the buffer");
}
