//! Cristian's handlers, one at a time, on a clock whose real time the test sets.

use super::*;
use reparti_core::{
    ClockHow, ClockSetting, ClockSlot, Effect, NodeHost, OutputValue, PhysicalClock, PhysicalNow, Place, Recorder,
    Topology, TopologyKind,
};

/// Runs one handler of `node` (of `n`, on a star) at real time `real` with `clock`.
pub(crate) fn at<P: Process>(
    node: &mut P,
    me: u32,
    n: usize,
    clock: &mut PhysicalClock,
    real: f64,
    f: impl FnOnce(&mut P, &mut Context<'_, P::Msg>),
) -> Vec<Effect<P::Msg>> {
    let topo = match Topology::build(&TopologyKind::Star, n, &mut reparti_core::rng(0)) {
        Ok(t) => t,
        Err(e) => panic!("a star of {n}: {e}"),
    };
    let (mut lamport, mut recorder) = (0, Recorder::default());
    let place = Place { me: NodeId(me), n, neighbours: topo.neighbours(NodeId(me)) };
    let slot = ClockSlot { lamport: &mut lamport, vector: None, physical: Some(PhysicalNow { clock, real }) };
    NodeHost::new(true).handle(place, node, slot, f, &mut recorder);
    recorder.effects
}

fn nodes(params: &[(&str, &str)]) -> Vec<Node> {
    let given: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let resolved = Params::resolve("cristian", PARAMS, &given).expect("valid parameters");
    let a = Cristian::from_params(&resolved).expect("valid parameters");
    (0..2).map(|i| a.init(&NodeSetup::new(NodeId(i), u64::from(i), 2))).collect()
}

fn clock(offset: f64) -> PhysicalClock {
    PhysicalClock::new(ClockSetting { offset, drift_ppm: 0.0 })
}

fn sends(effects: &[Effect<Msg>]) -> Vec<(NodeId, Msg)> {
    effects
        .iter()
        .filter_map(|e| if let Effect::Send { to, msg, .. } = e { Some((*to, msg.clone())) } else { None })
        .collect()
}

fn output(effects: &[Effect<Msg>], key: &str) -> Vec<OutputValue> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Output { key: k, value } if *k == key => Some(value.clone()),
            _ => None,
        })
        .collect()
}

fn timers(effects: &[Effect<Msg>]) -> Vec<(Timer, f64)> {
    effects
        .iter()
        .filter_map(|e| if let Effect::SetTimer { timer, after } = e { Some((*timer, *after)) } else { None })
        .collect()
}

fn reply(seq: u32, time: f64) -> Msg {
    Msg::Reply { seq, time: ClockTime(time) }
}

#[test]
fn a_client_asks_and_the_server_answers_with_its_clock() {
    let mut ns = nodes(&[]);
    let (mut server, mut client) = (clock(100.0), clock(0.0));
    let eff = at(&mut ns[1], 1, 2, &mut client, 0.0, |s, c| s.on_start(c));
    assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Request { seq: 1 })]);
    assert_eq!(ns[1].waiting, Some((1, ClockTime(0.0))));
    assert!(sends(&at(&mut ns[0], 0, 2, &mut server, 0.0, |s, c| s.on_start(c))).is_empty());
    let eff = at(&mut ns[0], 0, 2, &mut server, 3.0, |s, c| s.on_message(NodeId(1), Msg::Request { seq: 1 }, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), reply(1, 103.0))]);
}

#[test]
fn the_client_sets_t_plus_half_the_round_trip_and_keeps_only_better_samples() {
    let mut ns = nodes(&[("samples", "3"), ("period", "10")]);
    let mut client = clock(0.0);
    at(&mut ns[1], 1, 2, &mut client, 0.0, |s, c| s.on_start(c));
    // Request 3 units out, reply 1 back: the server read 103 at real 3; C := 103 + 2.
    let eff = at(&mut ns[1], 1, 2, &mut client, 4.0, |s, c| s.on_message(NodeId(0), reply(1, 103.0), c));
    assert_eq!(client.read(4.0), 105.0, "error 1 = (3 − 1)/2, within RTT/2 − min");
    assert_eq!(output(&eff, "clock_bound"), vec![OutputValue::Text("2.000".into())]);
    assert_eq!(timers(&eff), vec![(NEXT_REQUEST, 10.0)]);
    // A slower sample (RTT 6) leaves the clock alone.
    at(&mut ns[1], 1, 2, &mut client, 14.0, |s, c| s.on_timer(NEXT_REQUEST, c));
    let eff = at(&mut ns[1], 1, 2, &mut client, 20.0, |s, c| s.on_message(NodeId(0), reply(2, 120.0), c));
    assert!(output(&eff, "clock_bound").is_empty() && !eff.iter().any(|e| matches!(e, Effect::Clock(_))));
    assert_eq!(ns[1].best.map(|b| b.rtt), Some(ClockTime(4.0)));
    // A faster one (RTT 2) wins; the last sample ends the client's work.
    at(&mut ns[1], 1, 2, &mut client, 30.0, |s, c| s.on_timer(NEXT_REQUEST, c));
    let eff = at(&mut ns[1], 1, 2, &mut client, 32.0, |s, c| s.on_message(NodeId(0), reply(3, 131.5), c));
    assert_eq!(client.read(32.0), 132.5);
    assert_eq!(output(&eff, "synchronized"), vec![OutputValue::Text("1.000".into())]);
    assert!(ns[1].done && timers(&eff).is_empty());
    assert_eq!((ns[1].sent, ns[1].replies), (3, 3));
}

#[test]
fn the_broken_client_forgets_the_reply_s_travel_time() {
    let mut ns = nodes(&[("broken", "no-half-rtt")]);
    let mut client = clock(0.0);
    at(&mut ns[1], 1, 2, &mut client, 0.0, |s, c| s.on_start(c));
    at(&mut ns[1], 1, 2, &mut client, 4.0, |s, c| s.on_message(NodeId(0), reply(1, 103.0), c));
    assert_eq!(client.read(4.0), 103.0, "C := T, one unit behind the server's 104");
}

#[test]
fn a_slewing_client_never_jumps_and_waits_for_its_slew_before_asking_again() {
    let mut ns = nodes(&[("samples", "2"), ("correction", "slew"), ("period", "1")]);
    let mut client = clock(0.0);
    at(&mut ns[1], 1, 2, &mut client, 0.0, |s, c| s.on_start(c));
    let eff = at(&mut ns[1], 1, 2, &mut client, 4.0, |s, c| s.on_message(NodeId(0), reply(1, 103.0), c));
    assert_eq!(client.read(4.0), 4.0, "nothing moves at the instant");
    let slew = eff.iter().find_map(|e| if let Effect::Clock(c) = e { Some(*c) } else { None });
    assert_eq!(slew.map(|c| (c.how, c.delta)), Some((ClockHow::Slew { over: 202.0 }, 101.0)));
    assert_eq!(timers(&eff), vec![(NEXT_REQUEST, 202.0)], "the period is shorter than the slew");
    assert_eq!(client.read(206.0), 307.0, "the whole correction applied by then");
    at(&mut ns[1], 1, 2, &mut client, 206.0, |s, c| s.on_timer(NEXT_REQUEST, c));
    let eff = at(&mut ns[1], 1, 2, &mut client, 207.0, |s, c| s.on_message(NodeId(0), reply(2, 308.5), c));
    assert_eq!(timers(&eff), vec![(SETTLED, 2.0)], "the last slew is waited for too");
    assert!(!ns[1].done);
    let eff = at(&mut ns[1], 1, 2, &mut client, 209.0, |s, c| s.on_timer(SETTLED, c));
    assert!(ns[1].done && output(&eff, "synchronized").len() == 1);
}

#[test]
fn stale_duplicated_and_misdirected_messages_are_ignored() {
    let mut ns = nodes(&[("samples", "2")]);
    let (mut server, mut client) = (clock(0.0), clock(0.0));
    let eff = at(&mut ns[1], 1, 2, &mut client, 0.0, |s, c| s.on_message(NodeId(0), reply(1, 5.0), c));
    assert!(eff.iter().all(|e| matches!(e, Effect::Log(_))), "no exchange under way");
    at(&mut ns[1], 1, 2, &mut client, 0.0, |s, c| s.on_start(c));
    for (from, msg) in [(NodeId(0), reply(7, 5.0)), (NodeId(1), reply(1, 5.0)), (NodeId(0), Msg::Request { seq: 1 })] {
        let eff = at(&mut ns[1], 1, 2, &mut client, 1.0, |s, c| s.on_message(from, msg, c));
        assert!(eff.iter().all(|e| matches!(e, Effect::Log(_))));
    }
    assert_eq!((ns[1].replies, client.read(1.0)), (0, 1.0));
    let eff = at(&mut ns[0], 0, 2, &mut server, 1.0, |s, c| s.on_message(NodeId(1), reply(1, 5.0), c));
    assert!(sends(&eff).is_empty());
    // A timer that fires while an exchange is under way sends nothing more.
    assert!(sends(&at(&mut ns[1], 1, 2, &mut client, 2.0, |s, c| s.on_timer(NEXT_REQUEST, c))).is_empty());
}
