//! NTP's handlers, one at a time, on clocks whose real time the test sets.

use super::*;
use crate::time::cristian::tests::at;
use reparti_core::{ClockHow, ClockSetting, Effect, OutputValue, PhysicalClock};

fn nodes(params: &[(&str, &str)]) -> Vec<Node> {
    let given: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let resolved = Params::resolve("ntp", PARAMS, &given).expect("valid parameters");
    let a = Ntp::from_params(&resolved).expect("valid parameters");
    (0..3).map(|i| a.init(&NodeSetup::new(NodeId(i), u64::from(i), 3))).collect()
}

fn clock(offset: f64) -> PhysicalClock {
    PhysicalClock::new(ClockSetting { offset, drift_ppm: 0.0 })
}

fn corrections(effects: &[Effect<Msg>]) -> Vec<(ClockHow, f64)> {
    effects.iter().filter_map(|e| if let Effect::Clock(c) = e { Some((c.how, c.delta)) } else { None }).collect()
}

fn reply_of(effects: &[Effect<Msg>]) -> Msg {
    effects
        .iter()
        .find_map(|e| if let Effect::Send { msg, .. } = e { Some(msg.clone()) } else { None })
        .expect("a message sent")
}

/// Server clock `server`, client 1 on `client`; one exchange started at real `start`
/// (by the start handler, or the next-request timer) whose request takes `a` and reply
/// `b`, the server holding it 1 unit. Returns the client's effects on the reply.
struct Pair {
    ns: Vec<Node>,
    server: PhysicalClock,
    client: PhysicalClock,
}

impl Pair {
    fn new(params: &[(&str, &str)], server_offset: f64) -> Pair {
        Pair { ns: nodes(params), server: clock(server_offset), client: clock(0.0) }
    }

    fn exchange(&mut self, start: f64, a: f64, b: f64) -> Vec<Effect<Msg>> {
        let (ns, server, client) = (&mut self.ns, &mut self.server, &mut self.client);
        let first = ns[1].sent == 0;
        let eff =
            at(&mut ns[1], 1, 3, client, start, |s, c| if first { s.on_start(c) } else { s.on_timer(NEXT_REQUEST, c) });
        let request = reply_of(&eff);
        at(&mut ns[0], 0, 3, server, start + a, |s, c| s.on_message(NodeId(1), request, c));
        let eff = at(&mut ns[0], 0, 3, server, start + a + 1.0, |s, c| s.on_timer(HOLD, c));
        let reply = reply_of(&eff);
        at(&mut ns[1], 1, 3, client, start + a + 1.0 + b, |s, c| s.on_message(NodeId(0), reply, c))
    }
}

#[test]
fn four_timestamps_give_theta_and_delta_and_the_error_is_half_the_asymmetry() {
    let mut p = Pair::new(&[], 100.0);
    // T1 = 0; T2 = 103 at real 3; T3 = 104 at real 4; T4 = 5 at real 5.
    let eff = p.exchange(0.0, 3.0, 1.0);
    let m = p.ns[1].last.expect("a sample");
    assert_eq!((m.theta, m.delay, m.round_trip), (ClockTime(101.0), ClockTime(4.0), ClockTime(5.0)));
    assert_eq!(m.theta.value() - 100.0, (3.0 - 1.0) / 2.0, "(forward − backward)/2");
    assert_eq!(corrections(&eff), vec![(ClockHow::Slew { over: 202.0 }, 101.0)], "slewed by default");
    assert_eq!(p.client.read(5.0), 5.0, "a slew does not jump");
    assert_eq!(crate::handler_harness::outputs(&eff, "clock_bound"), vec![OutputValue::Text("2.000".into())]);
    let next: Vec<f64> =
        eff.iter().filter_map(|e| if let Effect::SetTimer { after, .. } = e { Some(*after) } else { None }).collect();
    assert_eq!(next, vec![202.0], "the next poll waits for the slew");
}

#[test]
fn the_filter_uses_the_least_delay_sample_once_and_rebases_the_others() {
    let mut p = Pair::new(&[("correction", "step"), ("samples", "20")], 100.0);
    p.exchange(0.0, 3.0, 1.0);
    assert_eq!(p.client.read(5.0), 106.0, "stepped by θ = 101");
    assert_eq!(p.ns[1].filter[0].offset, ClockTime(0.0), "re-based by the correction");
    // A slower sample (δ = 6) is not better than the used one: no correction.
    let eff = p.exchange(15.0, 5.0, 1.0);
    assert!(corrections(&eff).is_empty());
    assert_eq!((p.ns[1].last.map(|m| m.theta), p.ns[1].used.map(|u| u.seq)), (Some(ClockTime(1.0)), Some(1)));
    // A faster one (δ = 2, symmetric) is used, and brings the clocks together.
    let eff = p.exchange(32.0, 1.0, 1.0);
    assert_eq!(corrections(&eff), vec![(ClockHow::Step, -1.0)]);
    assert_eq!(p.client.read(35.0), p.server.read(35.0));
    let offsets: Vec<f64> = p.ns[1].filter.iter().map(|s| s.offset.value()).collect();
    assert_eq!(offsets, vec![1.0, 2.0, 0.0]);
    // Eight worse samples push it out; the best of those left (the newest of equals)
    // is used then, once.
    let mut used_after = Vec::new();
    for k in 0..8 {
        let eff = p.exchange(50.0 + 20.0 * f64::from(k), 2.0, 1.0);
        used_after.push(corrections(&eff).len());
    }
    assert_eq!(p.ns[1].filter.len(), FILTER, "a bounded ring");
    assert_eq!(used_after, vec![0, 0, 0, 0, 0, 0, 0, 1], "used when the best left, not again");
    assert_eq!(p.ns[1].used.map(|u| (u.seq, u.delay)), Some((11, ClockTime(3.0))));
}

#[test]
fn the_server_answers_in_arrival_order_each_after_its_hold() {
    let mut ns = nodes(&[("hold", "4")]);
    let mut server = clock(0.0);
    let origin = ClockTime(7.0);
    let eff = at(&mut ns[0], 0, 3, &mut server, 10.0, |s, c| s.on_message(NodeId(2), Msg::Request { origin }, c));
    assert!(eff.contains(&Effect::SetTimer { timer: HOLD, after: 4.0 }));
    let eff = at(&mut ns[0], 0, 3, &mut server, 11.0, |s, c| s.on_message(NodeId(1), Msg::Request { origin }, c));
    assert!(!eff.iter().any(|e| matches!(e, Effect::SetTimer { .. })), "one timer at a time");
    let eff = at(&mut ns[0], 0, 3, &mut server, 14.0, |s, c| s.on_timer(HOLD, c));
    let first = Msg::Reply { origin, received: ClockTime(10.0), transmit: ClockTime(14.0) };
    assert!(eff.contains(&Effect::Send { to: NodeId(2), msg: first, lamport: 1, vector: None }), "{eff:?}");
    assert!(eff.contains(&Effect::SetTimer { timer: HOLD, after: 1.0 }), "what is left of the second's hold");
    let eff = at(&mut ns[0], 0, 3, &mut server, 15.0, |s, c| s.on_timer(HOLD, c));
    assert_eq!(reply_of(&eff), Msg::Reply { origin, received: ClockTime(11.0), transmit: ClockTime(15.0) });
    assert!(ns[0].held.is_empty());
}

#[test]
fn a_reply_that_matches_no_request_is_dropped() {
    let mut p = Pair::new(&[], 0.0);
    at(&mut p.ns[1], 1, 3, &mut p.client, 0.0, |s, c| s.on_start(c));
    let bogus = Msg::Reply { origin: ClockTime(-1.0), received: ClockTime(1.0), transmit: ClockTime(1.0) };
    for from in [NodeId(0), NodeId(2)] {
        let eff = at(&mut p.ns[1], 1, 3, &mut p.client, 2.0, |s, c| s.on_message(from, bogus.clone(), c));
        assert!(eff.iter().all(|e| matches!(e, Effect::Log(_))));
    }
    assert_eq!((p.ns[1].replies, p.ns[1].waiting), (0, Some(ClockTime(0.0))));
}
