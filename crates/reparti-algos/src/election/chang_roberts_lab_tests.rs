//! Unit tests of [`super`]: handlers driven directly, whole runs on the test scheduler,
//! and exhaustive exploration of small rings.

use super::*;
use crate::election::testkit::{self, Order};
use reparti_core::{Effect, OutputValue, TopologyKind};

fn lab(initiators: &str, stop: Stop) -> ChangRobertsLab {
    match Initiators::parse(initiators) {
        Ok(initiators) => ChangRobertsLab { initiators, port_base: 5000, stop },
        Err(e) => panic!("{e}"),
    }
}

fn receive(node: &mut Node, me: u32, n: usize, msg: Msg) -> Vec<Effect<Msg>> {
    let from = NodeId((me + n as u32 - 1) % n as u32);
    crate::handler_harness::run(node, TopologyKind::Ring, NodeId(me), n, |p, ctx| p.on_message(from, msg, ctx))
}

fn elect(id_elect: u64, port_elect: u32) -> Msg {
    Msg::Elect { id_elect, port_elect }
}

#[test]
fn the_sheet_rule_adopts_larger_overwrites_smaller_and_stops_at_the_second_sight() {
    let mut node = Node::new(5, 5001, true, Stop::Leader);
    // Smaller: overwritten with our own leader.
    let e = receive(&mut node, 1, 3, elect(2, 5000));
    assert!(matches!(e.as_slice(), [Effect::Send { to: NodeId(2), msg, .. }] if *msg == elect(5, 5001)));
    // Larger: adopted, seen once, forwarded as is.
    let e = receive(&mut node, 1, 3, elect(9, 5002));
    assert!(matches!(e.as_slice(), [Effect::Send { msg, .. }] if *msg == elect(9, 5002)));
    assert_eq!((node.leader_id(), node.leader_port(), node.done()), (9, 5002, false));
    // Second sight: forwarded, and the node prints its leader.
    let e = receive(&mut node, 1, 3, elect(9, 5002));
    assert_eq!(e.len(), 3);
    assert!(e.contains(&Effect::Output { key: "leader", value: OutputValue::Int(9) }));
    assert!(e.contains(&Effect::Output { key: "leader_port", value: OutputValue::Int(5002) }));
    assert!(node.done() && !node.is_leader());
    // Third sight: the message dies here.
    assert!(receive(&mut node, 1, 3, elect(9, 5002)).is_empty());
    // Still overwrites smaller ones with `stop=leader`...
    assert_eq!(receive(&mut node, 1, 3, elect(1, 5000)).len(), 1);
    // ...but not with `stop=all`.
    let mut literal = node.clone();
    literal.stop = Stop::All;
    assert!(receive(&mut literal, 1, 3, elect(1, 5000)).is_empty());
    assert!(receive(&mut literal, 1, 3, elect(99, 5000)).is_empty());
    // A larger identity reopens a finished node with `stop=leader`.
    let e = receive(&mut node, 1, 3, elect(99, 5000));
    assert_eq!(e.len(), 1);
    assert_eq!((node.leader_id(), node.done()), (99, false));
}

#[test]
fn literal_stop_leaves_a_node_with_a_smaller_leader() {
    // The module doc's counterexample: constant delays, identities 4, 1, 3, 2.
    let ids = [4, 1, 3, 2];
    let run = testkit::run(&lab("all", Stop::All), TopologyKind::Ring, &ids, Order::Global, 0, 10_000);
    assert!(run.quiescent);
    assert_eq!(run.nodes[3].leader_id(), 3);
    assert!(run.terminal_failures.iter().any(|f| f.starts_with("every node knows the leader")));
    // The default reading elects 4 on the very same schedule.
    let run = testkit::run(&lab("all", Stop::Leader), TopologyKind::Ring, &ids, Order::Global, 0, 10_000);
    run.assert_good();
    // The literal reading is fine with a single initiator: one message, no race.
    let run = testkit::run(&lab("2", Stop::All), TopologyKind::Ring, &ids, Order::Global, 0, 10_000);
    run.assert_good();
}

#[test]
fn whole_runs_elect_the_maximum_within_the_declared_bounds() {
    let mut worst = [0u64; 10];
    for seed in 0..60u64 {
        for n in [2usize, 3, 4, 6, 9] {
            let ids = testkit::shuffled_idents(n, seed);
            for order in [Order::Fifo, Order::Random, Order::Global] {
                for kind in [TopologyKind::Ring, TopologyKind::Complete] {
                    let run = testkit::run(&lab("all", Stop::Leader), kind, &ids, order, seed, 1_000_000);
                    run.assert_good();
                    worst[n] = worst[n].max(run.sent("ELECT"));
                }
                let run = testkit::run(&lab("0,2", Stop::Leader), TopologyKind::Ring, &ids, order, seed, 100_000);
                run.assert_good();
            }
        }
    }
    // n = 2 always costs 7 (both bounds meet); no run exceeds the worst case found
    // by exhaustive exploration, n(n+5)/2.
    assert_eq!(worst[2], 7);
    for n in [3u64, 4, 6, 9] {
        assert!(worst[n as usize] <= n * (n + 5) / 2, "worst for n = {n}: {}", worst[n as usize]);
    }
}

#[test]
fn every_schedule_of_every_small_ring_elects_the_maximum() {
    // Exhaustive: every placement (up to rotation), every non-FIFO schedule.
    for n in 2..=4usize {
        let (mut least, mut most) = (u64::MAX, 0);
        for ids in testkit::placements_up_to_rotation(n) {
            let x = testkit::explore(&lab("all", Stop::Leader), TopologyKind::Ring, &ids);
            assert!(x.failures.is_empty(), "ids {ids:?}: {:?}", x.failures);
            least = least.min(x.min[0]);
            most = most.max(x.max[0]);
        }
        let nn = n as u64;
        // Inside the proven [3n+1, n + 3n(n−1)/2 + 2]; the extremes are 4n−1 and n(n+5)/2.
        assert_eq!((least, most), (4 * nn - 1, nn * (nn + 5) / 2), "n = {n}");
    }
}

#[test]
fn the_literal_reading_fails_from_four_nodes() {
    // Every schedule of 3 nodes survives `stop=all`; with 4 nodes, two placements (up
    // to rotation) have failing schedules (the module doc says why).
    let failing = |n| -> Vec<Vec<u64>> {
        testkit::placements_up_to_rotation(n)
            .into_iter()
            .filter(|ids| {
                let x = testkit::explore(&lab("all", Stop::All), TopologyKind::Ring, ids);
                x.failures.iter().any(|f| f.starts_with("every node knows the leader"))
            })
            .collect()
    };
    assert!(failing(3).is_empty());
    assert_eq!(failing(4), vec![vec![4, 1, 3, 2], vec![4, 2, 3, 1]]);
    // With one initiator there is one message and no race: every schedule is fine.
    let x = testkit::explore(&lab("1", Stop::All), TopologyKind::Ring, &[4, 1, 3, 2]);
    assert!(x.failures.is_empty(), "{:?}", x.failures);
}

#[test]
fn a_single_initiator_costs_exactly_2n_plus_1_plus_its_distance_to_the_max() {
    for seed in 0..10u64 {
        let n = 7;
        let ids = testkit::shuffled_idents(n, seed);
        let m = argmax(&ids).unwrap_or(0);
        for s in 0..n {
            for stop in [Stop::Leader, Stop::All] {
                let run =
                    testkit::run(&lab(&s.to_string(), stop), TopologyKind::Ring, &ids, Order::Random, seed, 10_000);
                run.assert_good();
                assert_eq!(run.sent("ELECT"), 2 * n as u64 + 1 + ring_distance(s, m, n));
            }
        }
    }
}

#[test]
fn ports_follow_positions_and_every_node_prints_the_maxs_port() {
    let alg = lab("all", Stop::Leader);
    let ids = [3, 8, 1, 5];
    let run = testkit::run(&alg, TopologyKind::Ring, &ids, Order::Fifo, 3, 10_000);
    run.assert_good();
    assert!(run.nodes.iter().enumerate().all(|(i, s)| s.port() == 5000 + i as u32 && s.leader_port() == 5001));
    let last: Vec<OutputValue> = (0..4)
        .filter_map(|i| run.outputs_of("leader_port").into_iter().rev().find(|(j, _)| *j == i).map(|(_, v)| v))
        .collect();
    assert_eq!(last, vec![OutputValue::Int(5001); 4]);
}

#[test]
fn parameters_parse_and_reject_nonsense() {
    let mut p = Params::default();
    p.set("stop", "all");
    p.set("port_base", "6000");
    p.set("initiators", "1");
    let alg = match ChangRobertsLab::from_params(&p) {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(alg, ChangRobertsLab { initiators: Initiators::Listed(vec![1]), port_base: 6000, stop: Stop::All });
    p.set("stop", "never");
    assert!(ChangRobertsLab::from_params(&p).is_err());
    p.set("stop", "leader");
    p.set("port_base", "-1");
    assert!(ChangRobertsLab::from_params(&p).is_err());
}
