//! Termination detectors over the diffusing computation in the simulator: many seeds,
//! sizes, the three delay models, FIFO and not (Misra: FIFO rings); every property
//! judged after every event; the figures asserted — WORK = work − 1, SIGNAL = ACK = WORK
//! exactly, and the detection delay after true termination read from the trace: token
//! passes ≤ 3n (Safra, EWD840), marker hops ≤ 2n (Misra), no SIGNAL bound but the
//! tree (Dijkstra–Scholten: the deferred answers, ≤ n − 1 SIGNAL).

use reparti_algos::observation::termination::{
    detection_delay, Delay as Detection, Diffusing, DijkstraScholten, Ewd840, Misra, Safra, ANNOUNCED, SAFE,
};
use reparti_core::trace::read_trace;
use reparti_core::{Algorithm, IdAssignment, TopologyKind};
use reparti_sim::{simulate_traced, NetworkModel, Report, SimConfig};

mod common;
use common::{assert_good, config, networks};

/// Runs `A` with a trace; the report and the detection delay (`kinds` counted).
fn traced<A: Algorithm>(cfg: &SimConfig, kinds: &[&str]) -> (Report, Detection) {
    let (r, bytes) = simulate_traced::<A, Vec<u8>>(cfg, Vec::new()).unwrap_or_else(|e| panic!("the run: {e}"));
    let trace = read_trace(&bytes[..]).unwrap_or_else(|e| panic!("the trace: {e}"));
    let delay = detection_delay(&trace, kinds).unwrap_or_else(|| panic!("{}: nothing announced", r.algorithm));
    (r, delay)
}

fn cfg(n: usize, seed: u64, network: &NetworkModel, work: u32, fanout: u32) -> SimConfig {
    let (w, f, s) = (work.to_string(), fanout.to_string(), seed.to_string());
    config(n, seed, IdAssignment::Asc, network, &[("work", &w), ("fanout", &f), ("seed", &s)])
}

/// Sizes, work and fanout drawn from the seed.
fn instance(seed: u64) -> (usize, u32, u32) {
    (2 + (seed as usize % 7), 1 + (seed as u32 * 7) % 40, 1 + (seed as u32 % 3))
}

#[test]
fn the_computation_sends_work_minus_one_messages_whatever_the_schedule() {
    for network in networks() {
        for seed in 1..=40u64 {
            let (n, work, fanout) = instance(seed);
            let r = common::run::<Diffusing>(&cfg(n, seed, &network, work, fanout));
            assert_good(&r, &[], &format!("n={n} work={work} seed={seed} {network:?}"));
            assert_eq!(r.sent("WORK"), u64::from(work - 1));
            assert!(
                (1..=u64::from(work)).contains(&r.output("passive", "1")),
                "one passive period per node activated, at most"
            );
        }
    }
}

#[test]
fn dijkstra_scholten_announces_after_termination_with_one_signal_per_message() {
    let mut worst = 0;
    for network in networks() {
        for seed in 1..=60u64 {
            let (n, work, fanout) = instance(seed);
            let ctx = format!("n={n} work={work} seed={seed} {network:?}");
            let (r, d) = traced::<DijkstraScholten<Diffusing>>(&cfg(n, seed, &network, work, fanout), &["SIGNAL"]);
            assert_good(&r, &[SAFE, ANNOUNCED], &ctx);
            assert_eq!(r.sent("SIGNAL"), u64::from(work - 1), "{ctx}");
            // After termination only the deferred answers are left: one per node still
            // engaged, the root aside.
            assert!(d.messages < n as u64, "{ctx}: {} SIGNAL after termination", d.messages);
            assert!(d.time >= 0.0, "{ctx}");
            worst = worst.max(d.messages);
        }
    }
    println!("Dijkstra–Scholten: at most {worst} SIGNAL after termination over 360 runs");
}

/// Token passes after termination, over many runs: each ≤ `bound(n)`; returns the most.
fn token_delays<A: Algorithm>(
    kind: &str,
    fifo_only: bool,
    topology: Option<TopologyKind>,
    bound: fn(usize) -> u64,
) -> u64 {
    let mut worst = (0, 0.0f64);
    for network in networks().into_iter().filter(|m| m.fifo || !fifo_only) {
        for seed in 1..=60u64 {
            let (n, work, fanout) = instance(seed);
            let ctx = format!("{} n={n} work={work} seed={seed} {network:?}", A::spec().name);
            let c = SimConfig { topology: topology.clone(), ..cfg(n, seed, &network, work, fanout) };
            let (r, d) = traced::<A>(&c, &[kind]);
            assert_good(&r, &[SAFE, ANNOUNCED], &ctx);
            assert!(d.messages <= bound(n), "{ctx}: {} {kind} after termination > {}", d.messages, bound(n));
            worst = (worst.0.max(d.messages), worst.1.max(d.time));
        }
    }
    println!("{}: at most {} {kind} and {:.1} time units after termination", A::spec().name, worst.0, worst.1);
    worst.0
}

#[test]
fn safra_announces_within_three_rounds_of_termination() {
    let worst = token_delays::<Safra<Diffusing>>("TOKEN", false, None, |n| 3 * n as u64);
    assert!(worst >= 4, "some run needs more than one round after termination");
}

#[test]
fn ewd840_announces_within_three_rounds_of_termination_with_one_ack_per_message() {
    token_delays::<Ewd840<Diffusing>>("TOKEN", false, None, |n| 3 * n as u64);
    for seed in 1..=20u64 {
        let (n, work, fanout) = instance(seed);
        let r = common::run::<Ewd840<Diffusing>>(&cfg(n, seed, &networks()[1], work, fanout));
        assert_eq!(r.sent("ACK"), u64::from(work - 1));
    }
}

#[test]
fn misra_announces_within_two_laps_of_termination_on_fifo_rings() {
    token_delays::<Misra<Diffusing>>("MARKER", true, Some(TopologyKind::Ring), |n| 2 * n as u64);
}

#[test]
fn on_channels_that_reorder_misra_announces_too_early() {
    let network = NetworkModel { fifo: false, delay: reparti_sim::Delay::Exp { mean: 2.0 }, ..NetworkModel::default() };
    let mut caught = 0;
    for seed in 1..=200u64 {
        let c =
            SimConfig { topology: Some(TopologyKind::Ring), stop_at_violation: false, ..cfg(3, seed, &network, 6, 1) };
        let r = common::run::<Misra<Diffusing>>(&c);
        caught += usize::from(r.property(SAFE).is_some_and(|p| p.holds == Some(false)));
    }
    println!("Misra on non-FIFO channels: false announcement in {caught} of 200 runs");
    assert!(caught > 0, "no run of 200 had the marker overtake a message");
}
