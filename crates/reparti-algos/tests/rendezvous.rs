//! Both rendezvous algorithms through the simulator: random guard workloads drawn from
//! the seed, across sizes, amounts of choice, the three delay models, FIFO and non-FIFO
//! channels. After every event each completed select took one of its own guards, its
//! partner is blocked in the matching select or has completed it (the send and the
//! receive overlap), and two completed selects agree on each other and on the value
//! (matched exactly once); at the end every select completed;
//! the counts are exact (asymmetric: RDV = RDV_ACK = rendezvous; symmetric: ACCEPT =
//! rendezvous, PROPOSE = rendezvous + REFUSE, READY ≤ REFUSE). The naive symmetric
//! variant, where both sides propose, deadlocks; an asymmetric one that acknowledges an
//! RDV on arrival breaks the overlap.

use reparti_algos::communication::rendezvous::guards::{ALL_COMPLETED, MATCHED_ONCE, OVERLAP, OWN_GUARD};
use reparti_algos::communication::rendezvous::Rendezvous;
use reparti_algos::communication::rendezvous_symmetric::RendezvousSymmetric;
use reparti_core::IdAssignment;
use reparti_sim::{Delay, NetworkModel, Report, SimConfig, Stop};

mod common;
use common::{assert_good, config, networks, run};

const ALL: [&str; 4] = [OWN_GUARD, OVERLAP, MATCHED_ONCE, ALL_COMPLETED];

/// The planned rendezvous of a run: ⌈rendezvous · n / 2⌉.
fn planned(n: usize, rendezvous: u32) -> u64 {
    (u64::from(rendezvous) * n as u64).div_ceil(2)
}

/// Selects entered and completed, from the outputs.
fn entered_and_completed(r: &Report) -> (u64, u64) {
    let count = |key: &str| r.outputs.get(key).map(|m| m.values().sum()).unwrap_or(0);
    (count("select"), count("rdv"))
}

fn sweep(mut each: impl FnMut(usize, u32, u32, u64, &NetworkModel)) -> u64 {
    let mut runs = 0;
    for network in networks() {
        for n in [2usize, 3, 4, 6, 8] {
            for (rendezvous, choice) in [(2u32, 1u32), (2, 2), (4, 3), (1, 2)] {
                for seed in 1..=4u64 {
                    each(n, rendezvous, choice, seed, &network);
                    runs += 1;
                }
            }
        }
    }
    runs
}

fn params(rendezvous: u32, choice: u32) -> [(String, String); 2] {
    [("rendezvous".into(), rendezvous.to_string()), ("choice".into(), choice.to_string())]
}

#[test]
fn asymmetric_every_property_and_two_messages_per_rendezvous() {
    let runs = sweep(|n, rendezvous, choice, seed, network| {
        let p = params(rendezvous, choice);
        let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = run::<Rendezvous>(&config(n, seed, IdAssignment::Asc, network, &p));
        let ctx = format!("rendezvous n={n} {p:?} seed={seed} {network:?}");
        assert_good(&r, &ALL, &ctx);
        let k = planned(n, rendezvous);
        assert_eq!(entered_and_completed(&r), (2 * k, 2 * k), "{ctx}");
        assert_eq!((r.sent("RDV"), r.sent("RDV_ACK")), (k, k), "{ctx}");
        for key in ["RDV", "RDV_ACK", "total"] {
            assert_eq!(r.expected[key].holds, Some(true), "{ctx}: {key}");
        }
    });
    println!("rendezvous: {runs} simulated runs, every property and count held");
}

#[test]
fn symmetric_every_property_and_its_exact_counts() {
    let (mut refused, mut ready) = (0, 0);
    let runs = sweep(|n, rendezvous, choice, seed, network| {
        let p = params(rendezvous, choice);
        let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = run::<RendezvousSymmetric>(&config(n, seed, IdAssignment::Asc, network, &p));
        let ctx = format!("rendezvous-symmetric n={n} {p:?} seed={seed} {network:?}");
        assert_good(&r, &ALL, &ctx);
        let k = planned(n, rendezvous);
        assert_eq!(entered_and_completed(&r), (2 * k, 2 * k), "{ctx}");
        assert_eq!(r.sent("ACCEPT"), k, "{ctx}");
        assert_eq!(r.sent("PROPOSE"), k + r.sent("REFUSE"), "{ctx}");
        assert!(r.sent("READY") <= r.sent("REFUSE"), "{ctx}");
        for key in ["ACCEPT", "PROPOSE", "READY", "total"] {
            assert_eq!(r.expected[key].holds, Some(true), "{ctx}: {key}");
        }
        refused += r.sent("REFUSE");
        ready += r.sent("READY");
    });
    // The sweep does exercise the refusals and the READY messages.
    assert!(refused > 100 && ready > 50, "{refused} REFUSE, {ready} READY");
    println!("rendezvous-symmetric: {runs} simulated runs, all held; {refused} REFUSE, {ready} READY in all");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 2.0 }, ..NetworkModel::default() };
    let c = config(6, 9, IdAssignment::Asc, &network, &[("choice", "3")]);
    let (a, b) = (run::<RendezvousSymmetric>(&c), run::<RendezvousSymmetric>(&c));
    assert_eq!((a.outputs, a.messages.by_type, a.events), (b.outputs, b.messages.by_type, b.events));
}

/// Both sides propose and each defers the other's proposal while it waits for its own
/// answer: with constant delays the two proposals always cross, and the run stops with
/// both blocked; the safety properties still hold (nothing wrong happened, nothing
/// happened at all).
#[test]
fn the_naive_symmetric_variant_deadlocks() {
    let network = NetworkModel { fifo: true, delay: Delay::Const { value: 1.0 }, ..NetworkModel::default() };
    let params = [("rendezvous", "1"), ("choice", "1"), ("priority", "false")]; // one rendezvous
    let cfg = SimConfig { stop_at_violation: false, ..config(2, 1, IdAssignment::Asc, &network, &params) };
    let r = run::<RendezvousSymmetric>(&cfg);
    assert_eq!(r.stop, Stop::Quiescence);
    assert!(!r.holds(ALL_COMPLETED), "{:?}", r.property(ALL_COMPLETED));
    for p in [OWN_GUARD, OVERLAP, MATCHED_ONCE] {
        assert!(r.holds(p), "{p}");
    }
    assert_eq!((r.sent("PROPOSE"), r.sent("ACCEPT")), (2, 0));
    // Larger workloads: many seeds deadlock, and with priority none does.
    let mut deadlocked = 0;
    for seed in 1..=20u64 {
        let p = [("choice", "2"), ("priority", "false")];
        let cfg = SimConfig { stop_at_violation: false, ..config(4, seed, IdAssignment::Asc, &network, &p) };
        deadlocked += u32::from(!run::<RendezvousSymmetric>(&cfg).holds(ALL_COMPLETED));
        let fixed = run::<RendezvousSymmetric>(&config(4, seed, IdAssignment::Asc, &network, &p[..1]));
        assert_good(&fixed, &ALL, &format!("priority, seed {seed}"));
    }
    assert!(deadlocked >= 10, "only {deadlocked} of 20 naive runs deadlocked");
    println!("naive symmetric rendezvous: {deadlocked} of 20 runs of 4 processes deadlocked");
}

/// Acknowledging an RDV on arrival, before any receive asked for it, is an asynchronous
/// send with a buffer: sooner or later a send ends while its receiver is blocked in
/// another select, and the overlap property says so. Correct acks on the same runs hold.
#[test]
fn an_ack_on_arrival_breaks_the_overlap() {
    let network = NetworkModel { fifo: false, delay: Delay::Uniform { min: 0.1, max: 5.0 }, ..NetworkModel::default() };
    let mut caught = 0;
    for seed in 1..=20u64 {
        let p = [("early_ack", "true"), ("choice", "1"), ("rendezvous", "4")];
        let cfg = SimConfig { stop_at_violation: false, ..config(4, seed, IdAssignment::Asc, &network, &p) };
        caught += u32::from(!run::<Rendezvous>(&cfg).holds(OVERLAP));
        let fixed = run::<Rendezvous>(&config(4, seed, IdAssignment::Asc, &network, &p[1..]));
        assert_good(&fixed, &ALL, &format!("ack on receive, seed {seed}"));
    }
    assert!(caught >= 10, "only {caught} of 20 runs with early acks broke the overlap");
    println!("early acks: {caught} of 20 runs of 4 processes broke the overlap");
}
