//! Lai–Yang (`APP+lai-yang`) in the model checker on channels that reorder: every
//! interleaving of small banks, token rings and Chang–Roberts elections, every snapshot
//! consistent with all the money, with logs and with Mattern's counters, the state
//! counts printed; and the classic mistake — a red message delivered before recording
//! (`snapshot_fault=no-red-first`) — caught with a shortest counterexample that replays
//! in the simulator.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::communication::TokenRing;
use reparti_algos::election::ChangRoberts;
use reparti_algos::observation::lai_yang::CONSISTENT;
use reparti_algos::observation::{Bank, LaiYang};
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::IdAssignment;

/// Three branches of 2, one transfer of 1 or 2 each, on unordered channels.
fn bank(n: usize, extra: &[(&str, &str)]) -> CheckConfig {
    let mut params = vec![("transfers", "1"), ("max_amount", "2"), ("balance", "2")];
    params.extend_from_slice(extra);
    with_params(cfg(n, IdAssignment::Asc, NetworkKind::Unordered), &params)
}

#[test]
fn every_snapshot_of_a_small_bank_is_consistent_in_every_interleaving() {
    for form in ["logs", "counters"] {
        // Every node initiating multiplies the moments a snapshot can start at; the two
        // forms differ in what they keep, not in which interleavings they allow.
        for (initiators, states) in [("0", 1711), ("all", 97351)] {
            let what = format!("bank+lai-yang n=3 unordered form={form} initiators={initiators}");
            let c = bank(3, &[("snapshot_form", form), ("snapshot_initiators", initiators)]);
            let r = run::<LaiYang<Bank>>(&c);
            assert_all_hold(&r, &what);
            assert_eq!(r.unique_states, states, "{what}");
            println!("{what}: {} unique states, every property and liveness held", r.unique_states);
        }
    }
}

#[test]
fn the_token_ring_and_chang_roberts_observed_on_unordered_channels() {
    let ring = with_params(cfg(3, IdAssignment::Asc, NetworkKind::Unordered), &[("laps", "1"), ("sends", "1")]);
    let r = run::<LaiYang<TokenRing>>(&ring);
    assert_all_hold(&r, "token-ring+lai-yang n=3");
    assert_eq!(r.unique_states, 1251);
    println!("token-ring+lai-yang n=3 unordered: {} unique states", r.unique_states);
    let election = cfg(3, IdAssignment::Asc, NetworkKind::Unordered);
    let r = run::<LaiYang<ChangRoberts>>(&election);
    assert_all_hold(&r, "chang-roberts+lai-yang n=3");
    assert_eq!(r.unique_states, 2260);
    println!("chang-roberts+lai-yang n=3 unordered: {} unique states", r.unique_states);
}

#[test]
fn a_red_transfer_delivered_before_recording_is_caught_and_replays() {
    for form in ["logs", "counters"] {
        let what = format!("bank+lai-yang snapshot_fault=no-red-first form={form}");
        let c = bank(2, &[("snapshot_fault", "no-red-first"), ("snapshot_form", form)]);
        let len = caught_shortest::<LaiYang<Bank>>(&c, CONSISTENT, &what);
        assert_eq!(len, 7, "{what}");
        println!("{what}: C2 broken in {len} steps (shortest), replayed in the simulator");
    }
}
