//! Replicas over a totally ordered broadcast — the fixed sequencer and Lamport's
//! clock-based broadcast — through the simulator: the same delivery sequence everywhere,
//! every operation answered, the exact message counts, and histories judged from the
//! trace alone: linearizable with ordered reads; with local reads only sequentially
//! consistent, which a crafted run with one slow link shows. The broken variants are
//! caught by the same-sequence invariant.

use reparti_algos::memory::tob_replica::{ALL_DELIVERED, BROADCAST, SAME_SEQUENCE};
use reparti_algos::memory::{self, TobLamport, TobSequencer, ANSWERED, LINEARIZABLE, SEQUENTIAL};
use reparti_core::history::Operation;
use reparti_core::{Algorithm, IdAssignment, NodeId};
use reparti_sim::{simulate, Delay, Fault, NetworkModel, Report, SimConfig, Stop};

mod common;
use common::memory::{given, read_answers, run};
use common::networks;

fn config(n: usize, seed: u64, network: &NetworkModel, params: &[(&str, &str)]) -> SimConfig {
    common::config(n, seed, IdAssignment::Random, network, params)
}

/// (all broadcasts, those by node 0), from the `broadcast` outputs.
fn broadcasts(r: &Report) -> (u64, u64) {
    let all = r.outputs.get(BROADCAST).map(|m| m.values().sum()).unwrap_or(0);
    (all, r.output(BROADCAST, "0"))
}

/// Quiescence, the replica properties, and every expectation declared met exactly.
fn assert_good(r: &Report, keys: &[&str], ctx: &str) {
    assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
    for p in [SAME_SEQUENCE, ALL_DELIVERED, ANSWERED] {
        assert!(r.holds(p), "{ctx}: {p}: {:?}", r.property(p));
    }
    assert!(r.all_good(), "{ctx}: {:?} {:?}", r.properties, r.expected);
    for key in keys {
        assert_eq!(r.expected[*key].holds, Some(true), "{ctx}: {key}: {:?}", r.expected[*key]);
    }
}

const MIXES: [&[(&str, &str)]; 2] = [&[], &[("keys", "2"), ("cas", "0.3"), ("reads", "0.4")]];

#[test]
fn sequencer_orders_everything_with_n_messages_per_broadcast_fifo_or_not() {
    for network in networks() {
        for n in 2..=6usize {
            for seed in 1..=40u64 {
                let mix = MIXES[seed as usize % 2];
                let (r, lines) = run::<TobSequencer>(&config(n, seed, &network, mix));
                let ctx = format!("n={n} seed={seed} {mix:?} {network:?}");
                assert_good(&r, &["SUBMIT", "ORDER", "total"], &ctx);
                assert!(r.holds(LINEARIZABLE), "{ctx}: {:?}", r.property(LINEARIZABLE));
                let (b, b0) = broadcasts(&r);
                assert_eq!(b, 3 * n as u64, "{ctx}: with ordered reads every operation is broadcast");
                let n = n as u64;
                assert_eq!(r.sent("SUBMIT"), b - b0, "{ctx}");
                assert_eq!(r.sent("ORDER"), (n - 1) * b, "{ctx}");
                assert_eq!(r.messages.total, n * (b - b0) + (n - 1) * b0, "{ctx}");
                assert_eq!((memory::linearizable().check)(&lines), Ok(()), "{ctx}: judged from the trace");
            }
        }
    }
}

#[test]
fn lamport_orders_everything_with_n_n_minus_one_messages_per_broadcast_on_fifo() {
    for network in networks().into_iter().filter(|m| m.fifo) {
        for n in 2..=6usize {
            for seed in 1..=40u64 {
                let mix = MIXES[seed as usize % 2];
                let (r, lines) = run::<TobLamport>(&config(n, seed, &network, mix));
                let ctx = format!("n={n} seed={seed} {mix:?} {network:?}");
                assert_good(&r, &["MSG", "ACK", "total"], &ctx);
                assert!(r.holds(LINEARIZABLE), "{ctx}: {:?}", r.property(LINEARIZABLE));
                let (b, _) = broadcasts(&r);
                let n = n as u64;
                assert_eq!(b, 3 * n, "{ctx}");
                assert_eq!(r.sent("MSG"), (n - 1) * b, "{ctx}");
                assert_eq!(r.sent("ACK"), (n - 1) * (n - 1) * b, "{ctx}");
                assert_eq!(r.messages.total, n * (n - 1) * b, "{ctx}");
                assert_eq!((memory::linearizable().check)(&lines), Ok(()), "{ctx}: judged from the trace");
            }
        }
    }
}

#[test]
fn local_reads_cost_nothing_and_stay_sequentially_consistent() {
    for network in networks() {
        for n in [2usize, 3, 5] {
            for seed in 1..=20u64 {
                let params = [("read", "local"), ("ops", "4"), ("reads", "0.6")];
                let ctx = format!("n={n} seed={seed} {network:?}");
                let (r, lines) = run::<TobSequencer>(&config(n, seed, &network, &params));
                assert_good(&r, &["SUBMIT", "ORDER", "total"], &ctx);
                assert!(r.holds(SEQUENTIAL), "{ctx}: {:?}", r.property(SEQUENTIAL));
                let reads = lines.iter().filter(|l| l.kind == "invoke" && l.f == "read").count() as u64;
                assert_eq!(broadcasts(&r).0 + reads, 4 * n as u64, "{ctx}: reads are not broadcast");
                if network.fifo {
                    let (r, _) = run::<TobLamport>(&config(n, seed, &network, &params));
                    assert_good(&r, &["MSG", "ACK", "total"], &ctx);
                    assert!(r.holds(SEQUENTIAL), "{ctx}: {:?}", r.property(SEQUENTIAL));
                }
            }
        }
    }
}

/// n = 3: node 0 writes 1 at time 0; node 1 reads at 5, node 2 at 10, after node 1's
/// read has returned; every channel takes 1, except `slow`, which takes 50.
fn stale_read_scenario(read: &str, slow: (u32, u32)) -> SimConfig {
    let network = NetworkModel { fifo: true, delay: Delay::Const { value: 1.0 }, ..NetworkModel::default() };
    SimConfig {
        no_workload: true,
        inputs: vec![
            given(0.0, 0, Operation::Write { key: 0, value: 1 }),
            given(5.0, 1, Operation::Read { key: 0 }),
            given(10.0, 2, Operation::Read { key: 0 }),
        ],
        faults: vec![Fault::LinkDelay {
            from: NodeId(slow.0),
            to: NodeId(slow.1),
            delay: Delay::Const { value: 50.0 },
        }],
        ..config(3, 1, &network, &[("read", read)])
    }
}

fn assert_stale_read<A: Algorithm>(slow: (u32, u32)) {
    let (r, lines) = run::<A>(&stale_read_scenario("local", slow));
    let name = A::spec().name;
    assert_good(&r, &[], name);
    // Node 1 saw the write; node 2, asked later, still answers the old value.
    assert_eq!(read_answers(&lines), vec![(1, serde_json::json!(1)), (2, serde_json::Value::Null)], "{name}");
    let not_linearizable = (memory::linearizable().check)(&lines);
    assert!(not_linearizable.is_err(), "{name}: {lines:?}");
    assert_eq!((memory::sequentially_consistent().check)(&lines), Ok(()), "{name}");
    assert!(r.holds(SEQUENTIAL), "{name}: the run's own judgement agrees");
    // Ordered reads on the same schedule: node 2's read waits its turn and sees 1.
    let (r, lines) = run::<A>(&stale_read_scenario("ordered", slow));
    assert_good(&r, &[], name);
    assert_eq!(read_answers(&lines), vec![(1, serde_json::json!(1)), (2, serde_json::json!(1))], "{name}");
    assert!(r.holds(LINEARIZABLE), "{name}: {:?}", r.property(LINEARIZABLE));
    assert_eq!((memory::linearizable().check)(&lines), Ok(()), "{name}");
}

#[test]
fn local_reads_are_not_linearizable_when_one_replica_lags() {
    // The sequencer's ORDER to node 2 is slow.
    assert_stale_read::<TobSequencer>((0, 2));
    // Under Lamport's broadcast node 2 has the MSG early, but cannot deliver it before it
    // hears a larger stamp from node 1, whose channel to node 2 is slow.
    assert_stale_read::<TobLamport>((1, 2));
}

#[test]
fn without_holdback_two_overtaking_orders_split_the_replicas() {
    // Node 0 (the sequencer) writes twice; its first ORDER to node 1 is held up by 10,
    // so the second overtakes it on a non-FIFO channel.
    let network = NetworkModel { fifo: false, delay: Delay::Const { value: 1.0 }, ..NetworkModel::default() };
    let scenario = |fault: &str| SimConfig {
        no_workload: true,
        inputs: vec![
            given(0.0, 0, Operation::Write { key: 0, value: 1 }),
            given(0.5, 0, Operation::Write { key: 0, value: 2 }),
        ],
        faults: vec![Fault::DelayMessage {
            from: NodeId(0),
            to: NodeId(1),
            message: "ORDER".into(),
            payload: None,
            after: 0.0,
            by: 10.0,
        }],
        ..config(2, 1, &network, &[("fault", fault)])
    };
    let r = simulate::<TobSequencer>(&scenario("no-holdback")).expect("the run starts");
    assert_eq!(r.stop, Stop::Violation);
    assert_eq!(r.property(SAME_SEQUENCE).and_then(|p| p.holds), Some(false), "{:?}", r.properties);
    let why = r.property(SAME_SEQUENCE).and_then(|p| p.detail.clone()).unwrap_or_default();
    assert!(why.contains("node 1 delivered (0, 1) where node 0 delivered (0, 0)"), "{why}");
    // The hold-back queue puts them back in order.
    let r = simulate::<TobSequencer>(&scenario("none")).expect("the run starts");
    assert_good(&r, &[], "with hold-back");
}

#[test]
fn the_broken_variants_are_caught_in_seeded_runs() {
    let uniform = |fifo| NetworkModel { fifo, delay: Delay::Uniform { min: 0.1, max: 5.0 }, ..NetworkModel::default() };
    let params = [("fault", "no-holdback"), ("think", "1")];
    let caught = |network: &NetworkModel| {
        (1..=40u64)
            .filter(|&seed| {
                !simulate::<TobSequencer>(&config(4, seed, network, &params)).expect("runs").holds(SAME_SEQUENCE)
            })
            .count()
    };
    assert!(caught(&uniform(false)) > 0, "no-holdback breaks on non-FIFO channels");
    assert_eq!(caught(&uniform(true)), 0, "and hides on FIFO ones: the sequencer sends in order");
    let params = [("fault", "no-wait"), ("think", "1")];
    let caught = (1..=40u64)
        .filter(|&seed| {
            !simulate::<TobLamport>(&config(4, seed, &uniform(true), &params)).expect("runs").holds(SAME_SEQUENCE)
        })
        .count();
    assert!(caught > 0, "no-wait breaks even on FIFO channels");
}

#[test]
fn bad_parameters_and_sizes_are_refused_before_the_run() {
    let network = NetworkModel::default();
    let err = simulate::<TobSequencer>(&config(3, 1, &network, &[("read", "sometimes")])).unwrap_err().to_string();
    assert!(err.contains("read=sometimes") && err.contains("ordered, local"), "{err}");
    let err = simulate::<TobLamport>(&config(3, 1, &network, &[("clients", "4")])).unwrap_err().to_string();
    assert!(err.contains("clients=4"), "{err}");
}
