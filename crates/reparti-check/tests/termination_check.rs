//! Termination detectors over the diffusing computation in the model checker: every
//! interleaving of small instances (every order of "becomes passive" with the
//! deliveries), every invariant after every event, the announcement at quiescence and
//! liveness; the classic mistakes caught as false announcements, each with a shortest
//! counterexample that replays in the simulator.

mod common;

use common::narrowed::{Keep, Narrowed};
use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::observation::termination::ewd840::INV as EWD840_INV;
use reparti_algos::observation::termination::{Diffusing, DijkstraScholten, Ewd840, Misra, Safra, SAFE};
use reparti_check::{CheckConfig, CheckReport, NetworkKind};
use reparti_core::{IdAssignment, TopologyKind};

fn check_cfg(n: usize, network: NetworkKind, params: &[(&str, &str)]) -> CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, network), params)
}

fn show(r: &CheckReport, what: &str) {
    let verdicts: Vec<String> = r.properties.iter().map(|p| format!("{} {:?}", p.name, p.holds)).collect();
    println!("{what}: {} unique states; {}", r.unique_states, verdicts.join("; "));
}

fn params(n: usize, work: u32) -> (String, usize) {
    (work.to_string(), n)
}

#[test]
fn the_computation_alone_terminates_in_every_interleaving() {
    for (n, work, states) in [(3, 3, 10), (3, 4, 34)] {
        let (w, n) = params(n, work);
        let r = run::<Diffusing>(&check_cfg(n, NetworkKind::Unordered, &[("work", &w)]));
        show(&r, &format!("diffusing n={n} work={work}"));
        assert_all_hold(&r, "diffusing");
        assert_eq!(r.unique_states, states);
    }
}

#[test]
fn dijkstra_scholten_holds_in_every_interleaving() {
    for (n, work, states) in [(3, 3, 18), (3, 4, 82), (4, 3, 32), (4, 6, 702)] {
        let (w, n) = params(n, work);
        let r = run::<DijkstraScholten<Diffusing>>(&check_cfg(n, NetworkKind::Unordered, &[("work", &w)]));
        show(&r, &format!("diffusing+dijkstra-scholten n={n} work={work}"));
        assert_all_hold(&r, "diffusing+dijkstra-scholten");
        assert_eq!(r.unique_states, states);
    }
}

#[test]
fn ewd840_with_acknowledgements_holds_in_every_interleaving() {
    for (n, work, states) in [(3, 3, 27), (3, 4, 186), (4, 6, 2045)] {
        let (w, n) = params(n, work);
        let r = run::<Ewd840<Diffusing>>(&check_cfg(n, NetworkKind::Unordered, &[("work", &w)]));
        show(&r, &format!("diffusing+ewd840 n={n} work={work}"));
        assert_all_hold(&r, "diffusing+ewd840");
        assert_eq!(r.unique_states, states);
    }
}

#[test]
fn safra_holds_in_every_interleaving_under_fair_channels() {
    for (n, work, states) in [(3, 3, 35), (3, 4, 191), (4, 6, 1714)] {
        let (w, n) = params(n, work);
        let r = run::<Safra<Diffusing>>(&check_cfg(n, NetworkKind::Unordered, &[("work", &w)]));
        show(&r, &format!("diffusing+safra n={n} work={work}"));
        // The token may lap the ring while a WORK message waits: a cycle, but one that
        // never delivers a message in transit all along it, so not a run of a system with
        // reliable channels (the checker's fairness of channels); every fair run ends.
        assert_all_hold(&r, "diffusing+safra");
        assert_eq!(r.unique_states, states);
    }
}

#[test]
fn misra_holds_in_every_interleaving_on_fifo_rings() {
    for (n, work, states) in [(3, 3, 16), (3, 4, 37), (4, 4, 39), (4, 6, 71)] {
        let (w, n) = params(n, work);
        let c = CheckConfig { topology: Some(TopologyKind::Ring), ..check_cfg(n, NetworkKind::Fifo, &[("work", &w)]) };
        let r = run::<Misra<Diffusing>>(&c);
        show(&r, &format!("diffusing+misra n={n} work={work}"));
        assert_all_hold(&r, "diffusing+misra");
        assert_eq!(r.unique_states, states);
    }
}

#[test]
fn safra_without_the_counter_test_announces_with_a_message_in_transit() {
    let c = check_cfg(3, NetworkKind::Unordered, &[("work", "3"), ("fault", "no-counter-test")]);
    let len = caught_shortest::<Safra<Diffusing>>(&c, SAFE, "safra fault=no-counter-test");
    println!("diffusing+safra fault=no-counter-test: false announcement in {len} steps");
    assert_eq!(len, 4);
}

/// EWD840 with its invariant set aside, to show the harm: the false announcement.
struct NoInv;

impl Keep for NoInv {
    fn invariant(name: &str) -> bool {
        name != EWD840_INV
    }
}

#[test]
fn ewd840_without_blackening_breaks_its_invariant_then_announces_too_early() {
    // fanout 1, seed 12: the root's work goes to node 1, which passes one unit on to 2.
    let p = [("work", "3"), ("fanout", "1"), ("seed", "12"), ("fault", "no-blacken")];
    let c = check_cfg(3, NetworkKind::Unordered, &p);
    let len = caught_shortest::<Ewd840<Diffusing>>(&c, EWD840_INV, "ewd840 fault=no-blacken");
    println!("diffusing+ewd840 fault=no-blacken: Inv broken in {len} steps");
    let harm = caught_shortest::<Narrowed<Ewd840<Diffusing>, NoInv>>(&c, SAFE, "ewd840 no-blacken, no Inv");
    println!("diffusing+ewd840 fault=no-blacken: false announcement in {harm} steps");
    assert_eq!((len, harm), (5, 9));
    assert_all_hold(&run::<Ewd840<Diffusing>>(&check_cfg(3, NetworkKind::Unordered, &p[..3])), "ewd840 seed 12");
}

#[test]
fn misra_on_channels_that_reorder_announces_too_early() {
    let c =
        CheckConfig { topology: Some(TopologyKind::Ring), ..check_cfg(3, NetworkKind::Unordered, &[("work", "3")]) };
    let len = caught_shortest::<Misra<Diffusing>>(&c, SAFE, "misra unordered");
    println!("diffusing+misra on channels that reorder: false announcement in {len} steps");
    assert_eq!(len, 6);
}
