//! The bank (`bank`) in the model checker: every interleaving of small instances with
//! every property holding, liveness included, the state counts asserted (and explained
//! where they are a product); and the late debit (`fault=debit-late`) caught twice: by
//! the conservation invariant at the first transfer, and, with that invariant set aside,
//! as the overdraft itself — each with a shortest counterexample that replays in the
//! simulator.

mod common;
use common::narrowed::{Keep, Narrowed};

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::observation::bank::{MONEY_CONSERVED, NO_NEGATIVE};
use reparti_algos::observation::Bank;
use reparti_check::{CheckConfig, NetworkKind};
use reparti_core::{IdAssignment, TopologyKind};

fn check_cfg(n: usize, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, network), params)
}

#[test]
fn every_property_holds_on_small_instances_with_their_state_counts() {
    let short = [("transfers", "2"), ("balance", "3"), ("max_amount", "3")];
    for (n, network, params, states) in [
        // 3³: each branch's one transfer not yet asked, in transit, or credited.
        (3, NetworkKind::Unordered, vec![("transfers", "1")], 27),
        (3, NetworkKind::Fifo, vec![("transfers", "1")], 27),
        // 7³: two transfers each, no refusal possible (100 ≥ 2·20).
        (3, NetworkKind::Unordered, vec![("transfers", "2")], 343),
        // Short balances: refusals depend on what arrived first.
        (3, NetworkKind::Unordered, short.to_vec(), 329),
        (3, NetworkKind::Fifo, short.to_vec(), 282),
    ] {
        let what = format!("bank n={n} {network:?} {params:?}");
        let r = run::<Bank>(&check_cfg(n, network, &params));
        assert_all_hold(&r, &what);
        assert_eq!(r.unique_states, states, "{what}");
        println!("{what}: {} unique states, every property and liveness held", r.unique_states);
    }
    // A directed ring of 4: one transfer each, 3⁴.
    let c = CheckConfig {
        topology: Some(TopologyKind::Ring),
        ..check_cfg(4, NetworkKind::Unordered, &[("transfers", "1")])
    };
    let r = run::<Bank>(&c);
    assert_all_hold(&r, "bank ring n=4");
    assert_eq!(r.unique_states, 81);
}

#[test]
fn the_late_debit_breaks_conservation_at_the_first_transfer() {
    let c = check_cfg(3, NetworkKind::Unordered, &[("transfers", "1"), ("fault", "debit-late")]);
    let len = caught_shortest::<Bank>(&c, MONEY_CONSERVED, "bank fault=debit-late");
    assert_eq!(len, 1, "the first transfer is in the channel and still in the account");
    println!("bank fault=debit-late: conservation broken in {len} step");
}

/// `bank` with only the overdraft invariant, to show the harm the late debit does, not
/// just the broken bookkeeping.
struct Overdraft;

impl Keep for Overdraft {
    fn invariant(name: &str) -> bool {
        name == NO_NEGATIVE
    }
}

type OverdraftOnly = Narrowed<Bank, Overdraft>;

#[test]
fn the_late_debit_overdraws_when_two_transfers_are_checked_before_the_post() {
    // Two transfers of up to 3 from a balance of 3: both pass the check before the post.
    let params = [("transfers", "2"), ("balance", "3"), ("max_amount", "3"), ("fault", "debit-late")];
    let c = check_cfg(2, NetworkKind::Unordered, &params);
    let len = caught_shortest::<OverdraftOnly>(&c, NO_NEGATIVE, "bank fault=debit-late, overdraft only");
    // Two inputs at one branch, then its post timer.
    assert_eq!(len, 3);
    // The correct bank, same instance: never overdrawn.
    let fixed = check_cfg(2, NetworkKind::Unordered, &params[..3]);
    assert_all_hold(&run::<Bank>(&fixed), "bank fault=none");
}
