//! Chang–Roberts through the simulator: the textbook counts (worst, best, the exact mean
//! over all placements of 7 nodes, single initiator), and a unique leader equal to the
//! maximum across seeds, sizes, FIFO/non-FIFO channels and delay models.

use reparti_algos::election::{hops_to_next_larger, ChangRoberts};
use reparti_core::IdAssignment;
use reparti_sim::{simulate, Delay, NetworkModel, Report, SimConfig};

mod common;
use common::{config, networks};

const PROPERTIES: [&str; 4] = [
    "at most one leader",
    "exactly one leader, the maximum identity",
    "every node knows the leader",
    "every other node is lost",
];

fn run(cfg: &SimConfig) -> Report {
    common::run::<ChangRoberts>(cfg)
}

/// Quiescence, every property held, every asserted expectation met.
fn assert_good(r: &Report, ctx: &str) {
    common::assert_good(r, &PROPERTIES, ctx);
}

/// The single leader value every node output, which must be `max`, output n times.
fn assert_everyone_output(r: &Report, max: u64, n: usize, ctx: &str) {
    let leaders = r.outputs.get("leader").cloned().unwrap_or_default();
    assert_eq!(leaders.len(), 1, "{ctx}: one leader value, got {leaders:?}");
    assert_eq!(leaders.get(&max.to_string()), Some(&(n as u64)), "{ctx}: {leaders:?}");
}

#[test]
fn descending_ids_cost_n_n_plus_1_over_2_and_ascending_2n_minus_1() {
    for network in networks() {
        for n in [2usize, 3, 5, 8, 13, 40] {
            for seed in 1..=3u64 {
                let nn = n as u64;
                let ctx = format!("n={n} seed={seed} {network:?}");
                let desc = run(&config(n, seed, IdAssignment::Desc, &network, &[]));
                assert_good(&desc, &ctx);
                assert_eq!(desc.sent("ELECT"), nn * (nn + 1) / 2, "{ctx}");
                assert_eq!(desc.sent("ELECTED"), nn, "{ctx}");
                assert_eq!(desc.expected["ELECT"].expectation.formula, "n(n+1)/2");
                assert_eq!(desc.expected["ELECT"].holds, Some(true));

                let asc = run(&config(n, seed, IdAssignment::Asc, &network, &[]));
                assert_good(&asc, &ctx);
                assert_eq!(asc.sent("ELECT"), 2 * nn - 1, "{ctx}");
                assert_eq!(asc.sent("ELECTED"), nn, "{ctx}");
                if n > 2 {
                    // For n = 2 both placements are the same ring, named after the worst case.
                    assert_eq!(asc.expected["ELECT"].expectation.formula, "2n−1");
                }
                assert_eq!(asc.messages.total, 3 * nn - 1, "{ctx}");
            }
        }
    }
}

/// Every permutation of `items`, by Heap's algorithm.
fn permutations(mut items: Vec<u64>) -> Vec<Vec<u64>> {
    let n = items.len();
    let mut c = vec![0usize; n];
    let mut out = vec![items.clone()];
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                items.swap(0, i);
            } else {
                items.swap(c[i], i);
            }
            out.push(items.clone());
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    out
}

#[test]
fn the_mean_over_all_5040_placements_of_7_nodes_is_exactly_7_h7() {
    let n = 7u64;
    let placements = permutations((1..=n).collect());
    assert_eq!(placements.len(), 5040);
    let networks = networks();
    let mut sum = 0u64;
    let (mut worst, mut best) = (0u64, u64::MAX);
    for (k, ids) in placements.into_iter().enumerate() {
        // The count does not depend on the schedule: vary the network on purpose.
        let network = &networks[k % networks.len()];
        let r = run(&config(n as usize, k as u64, IdAssignment::List(ids.clone()), network, &[]));
        assert_good(&r, &format!("ids {ids:?}"));
        let elect = r.sent("ELECT");
        assert_eq!(elect, hops_to_next_larger(&ids).iter().sum::<u64>());
        sum += elect;
        worst = worst.max(elect);
        best = best.min(elect);
    }
    // n·H_n exactly: the sum over the n! placements is n · Σ_k n!/k, an integer.
    let fact: u64 = (1..=n).product();
    let exact: u64 = n * (1..=n).map(|k| fact / k).sum::<u64>();
    assert_eq!(exact, 91_476); // 5040 · 363/20
    assert_eq!(sum, exact, "mean {} vs 7·H_7 = 363/20", sum as f64 / fact as f64);
    assert_eq!((worst, best), (n * (n + 1) / 2, 2 * n - 1));
}

#[test]
fn a_unique_leader_equal_to_the_maximum_across_seeds_sizes_and_networks() {
    for network in networks() {
        for n in [2usize, 3, 4, 7, 10, 31, 64] {
            for seed in 1..=8u64 {
                let ctx = format!("n={n} seed={seed} {network:?}");
                let r = run(&config(n, seed, IdAssignment::Random, &network, &[]));
                assert_good(&r, &ctx);
                // Random identities are a permutation of 1..=n.
                assert_everyone_output(&r, n as u64, n, &ctx);
                assert_eq!(r.sent("ELECTED"), n as u64, "{ctx}");
                // The exact all-initiators count is declared and held.
                assert_eq!(r.expected["ELECT"].holds, Some(true), "{ctx}");
            }
        }
    }
}

#[test]
fn sparse_identities_elect_the_largest_not_the_last_position() {
    // Outputs are i64 (`OutputValue::Int`), so identities stay below 2^63 here; the
    // election itself compares full u64 identities.
    let top = i64::MAX as u64 - 1;
    let ids = vec![1_000_000_007, 3, top, 0, 42];
    for network in networks() {
        let r = run(&config(5, 9, IdAssignment::List(ids.clone()), &network, &[]));
        assert_good(&r, &format!("{network:?}"));
        assert_everyone_output(&r, top, 5, "sparse");
    }
}

#[test]
fn a_single_initiator_costs_between_2n_and_3n_minus_1() {
    for network in networks() {
        for n in [2usize, 5, 9] {
            for seed in 1..=3u64 {
                for s in 0..n {
                    let ctx = format!("n={n} seed={seed} initiator={s} {network:?}");
                    let init = s.to_string();
                    let r = run(&config(n, seed, IdAssignment::Random, &network, &[("initiators", &init)]));
                    assert_good(&r, &ctx);
                    let nn = n as u64;
                    assert!((2 * nn..=3 * nn - 1).contains(&r.messages.total), "{ctx}: {}", r.messages.total);
                    assert_eq!(r.expected["total"].holds, Some(true), "{ctx}");
                    assert_everyone_output(&r, nn, n, &ctx);
                }
            }
        }
    }
    // Both ends of the range: the initiator just after the maximum pays the most.
    let desc = |s: &str| run(&config(6, 1, IdAssignment::Desc, &NetworkModel::default(), &[("initiators", s)]));
    assert_eq!(desc("0").messages.total, 12); // the maximum itself: 2n
    assert_eq!(desc("1").messages.total, 17); // n−1 hops to the maximum: 3n−1
}

#[test]
fn several_initiators_stay_within_the_declared_bounds() {
    for network in networks() {
        for seed in 1..=10u64 {
            for init in ["0,1", "2,5,7", "0,3,6,8,9"] {
                let ctx = format!("seed={seed} initiators={init} {network:?}");
                let r = run(&config(10, seed, IdAssignment::Random, &network, &[("initiators", init)]));
                assert_good(&r, &ctx);
                assert!(matches!(r.expected["ELECT"].expectation.kind, reparti_core::ExpectationKind::Between { .. }));
                assert_everyone_output(&r, 10, 10, &ctx);
            }
        }
    }
}

#[test]
fn a_large_ring_elects_its_maximum() {
    let n = 20_000;
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 1.0 }, ..NetworkModel::default() };
    let r = run(&config(n, 5, IdAssignment::Random, &network, &[]));
    assert_good(&r, "n = 20000");
    assert_everyone_output(&r, n as u64, n, "n = 20000");
}

#[test]
fn unknown_parameters_and_topologies_are_refused() {
    let bad = config(4, 1, IdAssignment::Random, &NetworkModel::default(), &[("initiators", "zero")]);
    assert!(simulate::<ChangRoberts>(&bad).is_err());
    let mut bidir = config(4, 1, IdAssignment::Random, &NetworkModel::default(), &[]);
    bidir.topology = Some(reparti_core::TopologyKind::BidirRing);
    assert!(simulate::<ChangRoberts>(&bidir).is_err());
}
