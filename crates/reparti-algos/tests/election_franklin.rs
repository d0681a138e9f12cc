//! Franklin through the simulator: exactly 2n ID messages per round, at most
//! ⌊log₂ n⌋+1 rounds, a unique leader equal to the maximum, across seeds, sizes (2, 3,
//! powers of two and not) and FIFO/non-FIFO delay models; and the broken variant
//! (`fixed=false`) caught stalling on concrete schedules.

use reparti_algos::election::franklin::{Dir, Msg};
use reparti_algos::election::Franklin;
use reparti_core::trace::{read_trace, EventKind};
use reparti_core::IdAssignment;
use reparti_sim::{simulate, simulate_traced, Delay, NetworkModel, Report, SimConfig, Stop};
use serde::Deserialize;

mod common;
use common::networks;

const PROPERTIES: [&str; 4] = [
    "at most one leader",
    "exactly one leader, the maximum identity",
    "every node knows the leader",
    "every other node is passive",
];

fn config(n: usize, seed: u64, ids: IdAssignment, network: &NetworkModel, fixed: bool) -> SimConfig {
    common::config(n, seed, ids, network, &[("fixed", if fixed { "true" } else { "false" })])
}

fn run(cfg: &SimConfig) -> Report {
    common::run::<Franklin>(cfg)
}

/// The number of rounds the (single) leader reported.
fn rounds(r: &Report) -> Option<u64> {
    let m = r.outputs.get("rounds")?;
    match m.iter().collect::<Vec<_>>().as_slice() {
        [(v, 1)] => v.parse().ok(),
        _ => None,
    }
}

fn floor_log2(n: usize) -> u64 {
    u64::from(n.ilog2())
}

#[test]
fn two_n_ids_per_round_at_most_log_n_plus_1_rounds_and_the_maximum_elected() {
    for network in networks() {
        for n in [2usize, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 31, 100] {
            for seed in 1..=6u64 {
                let ctx = format!("n={n} seed={seed} {network:?}");
                let r = run(&config(n, seed, IdAssignment::Random, &network, true));
                assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
                for p in PROPERTIES {
                    assert!(r.holds(p), "{ctx}: {p}: {:?}", r.property(p));
                }
                assert!(r.all_good(), "{ctx}: {:?}", r.expected);
                let Some(rounds) = rounds(&r) else { panic!("{ctx}: one leader outputs rounds once: {:?}", r.outputs) };
                let nn = n as u64;
                assert_eq!(r.sent("ID"), 2 * nn * rounds, "{ctx}");
                assert!(rounds <= floor_log2(n) + 1, "{ctx}: R = {rounds}");
                assert_eq!(r.sent("ELECTED"), nn, "{ctx}");
                assert!(r.sent("ID") <= 2 * nn * (floor_log2(n) + 1), "{ctx}");
                assert_eq!(r.output("leader", &n.to_string()), nn, "{ctx}: {:?}", r.outputs);
                // The engine saw the same claims: 2n·R exact and the rounds bound.
                assert_eq!(r.expected["ID"].holds, Some(true), "{ctx}");
                assert_eq!(r.expected["output:rounds"].measured, rounds, "{ctx}");
            }
        }
    }
}

#[test]
fn the_round_bound_is_reached_and_sorted_rings_take_two_rounds() {
    let constant = NetworkModel::default();
    // 1 3 2 4: round 1 leaves 3 and 4, round 2 leaves 4, round 3 finds 4 alone.
    let r = run(&config(4, 1, IdAssignment::List(vec![1, 3, 2, 4]), &constant, true));
    assert_eq!(rounds(&r), Some(3));
    assert_eq!(r.sent("ID"), 24);
    // On a sorted ring only the maximum survives round 1.
    for n in [5usize, 16, 33] {
        for ids in [IdAssignment::Asc, IdAssignment::Desc] {
            let r = run(&config(n, 1, ids, &constant, true));
            assert!(r.all_good());
            assert_eq!(rounds(&r), Some(2), "n={n}");
        }
    }
}

#[test]
fn two_nodes_are_both_each_others_left_and_right() {
    for network in networks() {
        for seed in 1..=20u64 {
            let r = run(&config(2, seed, IdAssignment::Random, &network, true));
            assert!(r.all_good(), "seed={seed} {network:?}: {:?}", r.properties);
            assert_eq!((rounds(&r), r.sent("ID"), r.sent("ELECTED")), (Some(2), 8, 2));
        }
    }
}

#[test]
fn messages_carry_their_round_and_direction_in_the_trace() {
    let cfg = config(3, 7, IdAssignment::List(vec![2, 9, 4]), &NetworkModel::default(), true);
    let (report, bytes) = match simulate_traced::<Franklin, _>(&cfg, Vec::new()) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    assert!(report.all_good());
    let trace = match read_trace(bytes.as_slice()) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let ids: Vec<Msg> = trace
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Send && e.msg_type.as_deref() == Some("ID"))
        .filter_map(|e| e.payload.clone().and_then(|p| Msg::deserialize(p).ok()))
        .collect();
    assert_eq!(ids.len() as u64, report.sent("ID"));
    // Node 1 (identity 9) is alone in round 2 and sends its identity both ways.
    for dir in [Dir::Left, Dir::Right] {
        assert!(ids.contains(&Msg::Id { round: 2, id: 9, dir }), "{dir:?} missing from {ids:?}");
    }
    // On the wire: {"ID":{"dir":"left","id":9,"round":2}}.
    assert!(String::from_utf8_lossy(&bytes).contains(r#"{"ID":{"dir":"left","id":9,"round":2}}"#));
}

#[test]
fn the_broken_variant_stalls_on_a_constant_delay_8_ring() {
    // See the unit test of the same scenario: a round-3 ID overtakes a round-2 one at
    // node 3, which consumes it; the maximum waits for it forever.
    let ids = IdAssignment::List(vec![1, 2, 4, 5, 3, 8, 6, 7]);
    let constant = NetworkModel::default();
    let broken = run(&config(8, 1, ids.clone(), &constant, false));
    assert_eq!(broken.stop, Stop::Quiescence, "a stall, not a livelock");
    assert!(broken.holds("at most one leader"));
    let p = broken.property("exactly one leader, the maximum identity");
    assert_eq!(p.and_then(|p| p.holds), Some(false), "{p:?}");
    assert_eq!(broken.sent("ELECTED"), 0);
    assert!(!broken.all_good());
    let fixed = run(&config(8, 1, ids, &constant, true));
    assert!(fixed.all_good(), "{:?}", fixed.properties);
}

#[test]
fn the_broken_variant_stalls_under_random_delays_and_never_elects_two_leaders() {
    let mut stalled = Vec::new();
    let mut runs = 0;
    for network in networks().into_iter().filter(|n| !matches!(n.delay, Delay::Const { .. })) {
        for n in [3usize, 4, 5, 8, 13] {
            for seed in 1..=10u64 {
                let r = run(&config(n, seed, IdAssignment::Random, &network, false));
                runs += 1;
                assert_eq!(r.stop, Stop::Quiescence);
                assert!(r.holds("at most one leader"));
                if !r.holds("exactly one leader, the maximum identity") {
                    stalled.push((n, seed, network.fifo));
                }
            }
        }
    }
    // It fails on FIFO channels too: the overtaking is across sides, not on one channel.
    assert!(stalled.iter().any(|s| s.2), "no FIFO stall in {stalled:?}");
    assert!(stalled.iter().any(|s| !s.2), "no non-FIFO stall in {stalled:?}");
    assert!(stalled.len() * 4 >= runs, "only {} of {runs} runs stalled", stalled.len());
}

#[test]
fn bad_parameters_and_topologies_are_refused() {
    let mut cfg = config(4, 1, IdAssignment::Random, &NetworkModel::default(), true);
    cfg.params = vec![("fixed".into(), "maybe".into())];
    assert!(simulate::<Franklin>(&cfg).is_err());
    let mut ring = config(4, 1, IdAssignment::Random, &NetworkModel::default(), true);
    ring.topology = Some(reparti_core::TopologyKind::Ring);
    assert!(simulate::<Franklin>(&ring).is_err());
}
