//! IR2′ one handler at a time, on a clock whose reading the test controls: a TIME from
//! behind changes nothing, one from ahead steps the clock forward to `T_m + μ` exactly;
//! the broken rules move it back or forget μ; rounds stop after `periods`; the diameter
//! of the recorded graph, and its absence when the graph is not strongly connected.

use super::*;
use reparti_core::{
    ClockSetting, ClockSlot, Effect, NodeHost, PhysicalClock, PhysicalNow, Place, Recorder, Topology, TopologyKind,
};

fn physical(receive: &str) -> LamportPhysical {
    let spec = LamportPhysical::spec();
    let given = [("mu".to_string(), "2".to_string()), ("receive".to_string(), receive.to_string())];
    let params = Params::resolve("lamport-physical", spec.params, &given).expect("params");
    LamportPhysical::from_params(&params).expect("params")
}

/// Runs one handler of node `me` of a bidirectional ring of 4 at real time `real`, its
/// clock being `clock`.
fn at(
    node: &mut Node,
    clock: &mut PhysicalClock,
    real: f64,
    me: u32,
    f: impl FnOnce(&mut Node, &mut Context<'_, Msg>),
) -> Vec<Effect<Msg>> {
    let topo = Topology::build(&TopologyKind::BidirRing, 4, &mut reparti_core::rng(0)).expect("a ring");
    let mut lamport = 0;
    let mut recorder = Recorder::default();
    let place = Place { me: NodeId(me), n: 4, neighbours: topo.neighbours(NodeId(me)) };
    let slot = ClockSlot { lamport: &mut lamport, vector: None, physical: Some(PhysicalNow { clock, real }) };
    NodeHost::new(false).handle(place, node, slot, f, &mut recorder);
    recorder.effects
}

fn started(a: &LamportPhysical, clock: &mut PhysicalClock) -> (Node, Vec<Effect<Msg>>) {
    let mut node = a.init(&NodeSetup::new(NodeId(1), 1, 4));
    let eff = at(&mut node, clock, 0.0, 1, |s, c| s.on_start(c));
    (node, eff)
}

fn sends(effects: &[Effect<Msg>]) -> Vec<(NodeId, Msg)> {
    effects
        .iter()
        .filter_map(|e| if let Effect::Send { to, msg, .. } = e { Some((*to, msg.clone())) } else { None })
        .collect()
}

fn steps(effects: &[Effect<Msg>]) -> Vec<f64> {
    effects.iter().filter_map(|e| if let Effect::Clock(c) = e { Some(c.delta) } else { None }).collect()
}

fn clock_at(offset: f64) -> PhysicalClock {
    PhysicalClock::new(ClockSetting { offset, drift_ppm: 0.0 })
}

#[test]
fn a_round_sends_the_reading_to_every_neighbour_and_the_rounds_stop_after_periods() {
    let a = physical("max");
    let mut clock = clock_at(100.0);
    let (mut node, eff) = started(&a, &mut clock);
    let stamp = Msg::Time(ClockTime(100.0));
    assert_eq!(sends(&eff), vec![(NodeId(0), stamp.clone()), (NodeId(2), stamp)]);
    assert!(eff.iter().any(|e| matches!(e, Effect::SetTimer { after, .. } if *after == 10.0)));
    assert_eq!(node.neighbours, [NodeId(0), NodeId(2)].into());
    for k in 1..20 {
        let eff = at(&mut node, &mut clock, 10.0 * f64::from(k), 1, |s, c| s.on_timer(TICK, c));
        assert_eq!(sends(&eff).len(), 2);
        let rearmed = eff.iter().any(|e| matches!(e, Effect::SetTimer { .. }));
        assert_eq!(rearmed, k < 19, "round {k}: the 20th is the last");
    }
    assert_eq!(node.sent_periods, 20);
}

#[test]
fn ir2_b_steps_forward_to_t_m_plus_mu_and_never_back() {
    let a = physical("max");
    let mut clock = clock_at(100.0);
    let (mut node, _) = started(&a, &mut clock);
    // From behind: 90 + 2 < 105, nothing changes.
    let eff = at(&mut node, &mut clock, 5.0, 1, |s, c| s.on_message(NodeId(0), Msg::Time(ClockTime(90.0)), c));
    assert_eq!(steps(&eff), Vec::<f64>::new());
    assert_eq!(clock.read(5.0), 105.0);
    // From ahead: 110 + 2 > 106, stepped to 112.
    let eff = at(&mut node, &mut clock, 6.0, 1, |s, c| s.on_message(NodeId(2), Msg::Time(ClockTime(110.0)), c));
    assert_eq!(steps(&eff), vec![6.0]);
    assert_eq!(clock.read(6.0), 112.0);
    let r = node.last_receipt.expect("a receipt");
    assert_eq!((r.before, r.after, r.stamp, r.from), (ClockTime(106.0), ClockTime(112.0), ClockTime(110.0), NodeId(2)));
    assert_eq!(node.read_before, ClockTime(106.0));
}

#[test]
fn the_broken_rules_set_the_clock_back_or_forget_mu() {
    let mut clock = clock_at(100.0);
    let (mut node, _) = started(&physical("assign"), &mut clock);
    let eff = at(&mut node, &mut clock, 5.0, 1, |s, c| s.on_message(NodeId(0), Msg::Time(ClockTime(90.0)), c));
    assert_eq!(steps(&eff), vec![-13.0], "assign: 105 set back to 92");
    let mut clock = clock_at(100.0);
    let (mut node, _) = started(&physical("no-mu"), &mut clock);
    at(&mut node, &mut clock, 6.0, 1, |s, c| s.on_message(NodeId(2), Msg::Time(ClockTime(110.0)), c));
    assert_eq!(clock.read(6.0), 110.0, "no-mu: only to T_m, the transit time lost");
}

fn set(ns: &[u32]) -> BTreeSet<NodeId> {
    ns.iter().map(|&i| NodeId(i)).collect()
}

#[test]
fn the_diameter_is_the_recorded_graphs_and_a_graph_not_strongly_connected_has_none() {
    let ring = [set(&[1]), set(&[2]), set(&[3]), set(&[0])];
    assert_eq!(diameter(&ring.iter().collect::<Vec<_>>()), Ok(3), "directed ring of 4: n−1");
    let bidir = [set(&[1, 3]), set(&[0, 2]), set(&[1, 3]), set(&[2, 0])];
    assert_eq!(diameter(&bidir.iter().collect::<Vec<_>>()), Ok(2));
    let one_way = [set(&[1]), set(&[2]), set(&[]), set(&[0])];
    let e = diameter(&one_way.iter().collect::<Vec<_>>()).expect_err("node 2 reaches nobody");
    assert!(e.contains("strongly connected"), "{e}");
}
