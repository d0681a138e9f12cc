//! Chandy–Lamport over three applications through the simulator: the bank over 1,000
//! seeds on FIFO networks (C1, C2 and the money in the snapshot), the token ring and
//! Chang–Roberts unchanged underneath (their own properties and counts kept), exactly
//! one MARKER per directed channel whatever the initiators; the snapshot without channel
//! states caught losing money in transit, and non-FIFO channels caught breaking C1.

use reparti_algos::communication::TokenRing;
use reparti_algos::election::ChangRoberts;
use reparti_algos::observation::bank::MONEY_CONSERVED;
use reparti_algos::observation::chandy_lamport::CONSISTENT;
use reparti_algos::observation::conserved::BANK_SNAPSHOT;
use reparti_algos::observation::{Bank, ChandyLamport};
use reparti_core::IdAssignment;
use reparti_sim::{Delay, NetworkModel, Report, SimConfig};

mod common;
use common::{assert_good, config, run};

fn fifo_networks() -> Vec<NetworkModel> {
    common::networks().into_iter().filter(|n| n.fifo).collect()
}

fn bank_config(n: usize, seed: u64, network: &NetworkModel, extra: &[(&str, &str)]) -> SimConfig {
    let mut params = vec![("transfers", "4"), ("max_amount", "30"), ("snapshot_at", "2")];
    params.extend_from_slice(extra);
    config(n, seed, IdAssignment::Random, network, &params)
}

#[test]
fn the_bank_s_snapshot_is_consistent_and_holds_all_the_money_over_a_thousand_seeds() {
    let networks = fifo_networks();
    let mut all_recorded = 0;
    for seed in 1..=1000u64 {
        let network = &networks[seed as usize % networks.len()];
        let n = 2 + (seed as usize % 7);
        let initiators = ["0", "all", "0,1"][seed as usize % 3];
        let cfg = bank_config(n, seed, network, &[("snapshot_initiators", initiators)]);
        let ctx = format!("n={n} seed={seed} initiators={initiators} {network:?}");
        let r = run::<ChandyLamport<Bank>>(&cfg);
        assert_good(&r, &[CONSISTENT, BANK_SNAPSHOT, MONEY_CONSERVED], &ctx);
        assert_eq!(r.sent("MARKER"), (n * (n - 1)) as u64, "{ctx}: one per channel of the complete graph");
        all_recorded += u64::from(r.outputs.get("recorded").is_some_and(|m| m.values().sum::<u64>() == n as u64));
    }
    assert_eq!(all_recorded, 1000, "every node recorded, in every run");
}

#[test]
fn the_layer_leaves_the_token_ring_and_chang_roberts_as_they_were() {
    for network in fifo_networks() {
        for n in [2usize, 3, 5, 8] {
            for seed in 1..=6u64 {
                let ctx = format!("n={n} seed={seed} {network:?}");
                let cfg = config(n, seed, IdAssignment::Random, &network, &[]);
                let bare = run::<TokenRing>(&cfg);
                let observed = run::<ChandyLamport<TokenRing>>(&cfg);
                assert_good(&observed, &[CONSISTENT], &format!("token ring {ctx}"));
                assert_eq!(observed.sent("TOKEN"), bare.sent("TOKEN"), "{ctx}: the application's own count");
                assert_eq!(observed.sent("MARKER"), n as u64, "{ctx}: |E| = n on a unidirectional ring");

                let elected = run::<ChandyLamport<ChangRoberts>>(&cfg);
                assert_good(&elected, &[CONSISTENT], &format!("chang-roberts {ctx}"));
                assert_eq!(elected.sent("ELECT"), run::<ChangRoberts>(&cfg).sent("ELECT"), "{ctx}");
            }
        }
    }
}

fn failed(r: &Report, property: &str) -> bool {
    r.property(property).is_some_and(|p| p.holds == Some(false))
}

#[test]
fn forgetting_channel_states_loses_the_money_in_transit() {
    let network = NetworkModel { delay: Delay::Uniform { min: 0.5, max: 5.0 }, ..NetworkModel::default() };
    let mut caught = 0;
    for seed in 1..=50u64 {
        let cfg = SimConfig {
            stop_at_violation: false,
            ..bank_config(5, seed, &network, &[("snapshot_fault", "no-channel-state")])
        };
        let r = run::<ChandyLamport<Bank>>(&cfg);
        assert!(r.holds(MONEY_CONSERVED), "seed {seed}: the bank itself is fine");
        if failed(&r, CONSISTENT) {
            caught += 1;
            assert!(failed(&r, BANK_SNAPSHOT), "seed {seed}: money in transit is missing from the snapshot");
        }
    }
    assert!(caught >= 10, "a transfer in transit at the cut in most runs: caught {caught} of 50");
}

#[test]
fn on_channels_that_reorder_a_marker_overtakes_a_transfer_and_c1_breaks() {
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 2.0 }, ..NetworkModel::default() };
    let mut caught = 0;
    for seed in 1..=100u64 {
        let cfg = SimConfig { stop_at_violation: false, ..bank_config(4, seed, &network, &[]) };
        let r = run::<ChandyLamport<Bank>>(&cfg);
        caught += usize::from(failed(&r, CONSISTENT));
    }
    assert!(caught > 0, "no seed of 100 had a marker overtake a transfer");
}
