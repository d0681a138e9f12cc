//! Lai–Yang over three applications through the simulator, on channels that reorder:
//! the bank over 1,000 seeds (C1, C2 and the money in the snapshot), with logs and
//! with Mattern's counters, exactly n − 1 TAKE per initiator and n − 1 REPORT; the
//! token ring and Chang–Roberts unchanged underneath (their own properties and counts
//! kept); the classic mistake of delivering a red message before recording caught.

use reparti_algos::communication::TokenRing;
use reparti_algos::election::ChangRoberts;
use reparti_algos::observation::bank::MONEY_CONSERVED;
use reparti_algos::observation::conserved::BANK_SNAPSHOT;
use reparti_algos::observation::lai_yang::CONSISTENT;
use reparti_algos::observation::{Bank, LaiYang};
use reparti_core::IdAssignment;
use reparti_sim::{Delay, NetworkModel, Report, SimConfig};

mod common;
use common::{assert_good, config, run};

fn unordered_networks() -> Vec<NetworkModel> {
    common::networks().into_iter().filter(|n| !n.fifo).collect()
}

fn bank_config(n: usize, seed: u64, network: &NetworkModel, extra: &[(&str, &str)]) -> SimConfig {
    let mut params = vec![("transfers", "4"), ("max_amount", "30"), ("snapshot_at", "2")];
    params.extend_from_slice(extra);
    config(n, seed, IdAssignment::Random, network, &params)
}

#[test]
fn the_bank_s_snapshot_is_consistent_on_reordering_channels_over_a_thousand_seeds() {
    let networks = unordered_networks();
    let (mut all_recorded, mut channel_states) = (0, 0);
    for seed in 1..=1000u64 {
        let network = &networks[seed as usize % networks.len()];
        let n = 2 + (seed as usize % 7);
        let (initiators, count) = [("0", 1), ("all", n), ("0,1", 2)][seed as usize % 3];
        let form = ["logs", "counters"][(seed as usize / 3) % 2];
        let params = [("snapshot_initiators", initiators), ("snapshot_form", form)];
        let cfg = bank_config(n, seed, network, &params);
        let ctx = format!("n={n} seed={seed} initiators={initiators} form={form} {network:?}");
        let r = run::<LaiYang<Bank>>(&cfg);
        assert_good(&r, &[CONSISTENT, BANK_SNAPSHOT, MONEY_CONSERVED], &ctx);
        assert_eq!(r.sent("TAKE"), ((n - 1) * count) as u64, "{ctx}: n − 1 per initiator");
        assert_eq!(r.sent("REPORT"), (n - 1) as u64, "{ctx}: the collector keeps its own");
        assert_eq!(r.sent("MARKER"), 0, "{ctx}");
        all_recorded += u64::from(r.outputs.get("recorded").is_some_and(|m| m.values().sum::<u64>() == n as u64));
        channel_states += r.outputs.get("channel_state").map_or(0, |m| m.values().sum::<u64>());
    }
    assert_eq!(all_recorded, 1000, "every node recorded, in every run");
    assert!(channel_states > 100, "money in transit at the cut in many runs: {channel_states} channel states");
    println!("1,000 seeds on reordering channels: consistent; {channel_states} non-empty channel states (logs)");
}

#[test]
fn the_layer_leaves_the_token_ring_and_chang_roberts_as_they_were() {
    for network in common::networks() {
        for n in [2usize, 3, 5, 8] {
            for seed in 1..=6u64 {
                for form in ["logs", "counters"] {
                    let ctx = format!("n={n} seed={seed} {form} {network:?}");
                    let cfg = config(n, seed, IdAssignment::Random, &network, &[]);
                    let layered = config(n, seed, IdAssignment::Random, &network, &[("snapshot_form", form)]);
                    let bare = run::<TokenRing>(&cfg);
                    let observed = run::<LaiYang<TokenRing>>(&layered);
                    assert_good(&observed, &[CONSISTENT], &format!("token ring {ctx}"));
                    assert_eq!(observed.sent("TOKEN"), bare.sent("TOKEN"), "{ctx}: the application's own count");
                    assert_eq!(observed.sent("TAKE"), n as u64 - 1, "{ctx}");
                    assert_eq!(observed.sent("REPORT"), n as u64 - 1, "{ctx}");

                    let elected = run::<LaiYang<ChangRoberts>>(&layered);
                    assert_good(&elected, &[CONSISTENT], &format!("chang-roberts {ctx}"));
                    assert_eq!(elected.sent("ELECT"), run::<ChangRoberts>(&cfg).sent("ELECT"), "{ctx}");
                }
            }
        }
    }
}

fn failed(r: &Report, property: &str) -> bool {
    r.property(property).is_some_and(|p| p.holds == Some(false))
}

#[test]
fn delivering_a_red_transfer_before_recording_counts_its_money_twice() {
    let network = NetworkModel { fifo: false, delay: Delay::Uniform { min: 0.5, max: 5.0 }, ..NetworkModel::default() };
    let mut caught = 0;
    for seed in 1..=50u64 {
        let cfg = SimConfig {
            stop_at_violation: false,
            ..bank_config(5, seed, &network, &[("snapshot_fault", "no-red-first")])
        };
        let r = run::<LaiYang<Bank>>(&cfg);
        assert!(r.holds(MONEY_CONSERVED), "seed {seed}: the bank itself is fine");
        if failed(&r, CONSISTENT) {
            caught += 1;
            assert!(failed(&r, BANK_SNAPSHOT), "seed {seed}: a red transfer's money is in both accounts");
        }
    }
    assert!(caught >= 10, "a red transfer reaches a white branch in most runs: caught {caught} of 50");
    println!("snapshot_fault=no-red-first: caught in {caught} of 50 runs");
}
