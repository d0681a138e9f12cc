//! The sans-IO core, event by event, and whole rings of cores wired by hand.

use super::node::{Effect, Event, Level, RingNode, Setup, MAX_HOPS};
use super::wire::{self, Data, Envelope, Port, RingMessage};
use super::Command;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

fn addr(port: Port) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn node(me: Port, pred: Port, jeton: bool, laps: Option<u32>) -> RingNode {
    RingNode::new(Setup { me, addr: addr(me), predecessor: Some(addr(pred)), jeton, laps, hold: None })
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn sends(effects: &[Effect]) -> Vec<(SocketAddr, Envelope)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, envelope } => Some((*to, envelope.clone())),
            _ => None,
        })
        .collect()
}

fn said(effects: &[Effect], level: Level) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Say(l, line) if *l == level => Some(line.clone()),
            _ => None,
        })
        .collect()
}

fn has_line(effects: &[Effect], level: Level, text: &str) -> bool {
    said(effects, level).iter().any(|l| l.contains(text))
}

/// `from` (listening on its own port) sends `msg` stamped `lamport` to `n`, whose port is `to`.
fn datagram(n: &mut RingNode, from: Port, to: Port, lamport: u64, msg: RingMessage) -> Vec<Effect> {
    let bytes = wire::encode(&Envelope { from, to, lamport, msg });
    n.handle(ms(0), Event::Datagram { src: addr(from), plain: &bytes })
}

fn data(origin: Port, dest: Port, hops: u32, text: &str) -> RingMessage {
    RingMessage::Data(Data { origin, dest, hops, text: text.into() })
}

#[test]
fn a_starting_node_tells_its_predecessor_until_it_answers() {
    let mut n = node(5002, 5001, false, None);
    let fx = n.handle(ms(0), Event::Start);
    let out = sends(&fx);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, addr(5001));
    assert_eq!(out[0].1, Envelope { from: 5002, to: 5001, lamport: 0, msg: RingMessage::Successor });
    // Repeated with a doubling wait, never more than a second apart.
    let mut at = Vec::new();
    let mut now = ms(0);
    for _ in 0..8 {
        now = n.next_wakeup().expect("a repeat is due");
        at.push(now.as_millis());
        assert_eq!(sends(&n.handle(now, Event::Tick)).len(), 1);
    }
    assert_eq!(at, [100, 300, 700, 1500, 2500, 3500, 4500, 5500]);
    // A tick before the time sends nothing.
    assert!(sends(&n.handle(now, Event::Tick)).is_empty());
    let fx = datagram(&mut n, 5001, 5002, 0, RingMessage::SuccessorOk);
    assert!(has_line(&fx, Level::Info, "predecessor 5001 answered"));
    assert_eq!(n.next_wakeup(), None, "answered: no more repeats");
    assert!(n.report().problems.is_empty(), "{:?}", n.report().problems);
}

#[test]
fn the_holder_waits_for_its_successor_then_passes_the_token() {
    let mut n = node(5001, 5003, true, None);
    n.handle(ms(0), Event::Start);
    assert!(n.has_token());
    let fx = n.handle(ms(5), Event::Console("release"));
    assert!(sends(&fx).is_empty(), "no successor yet: the token stays");
    assert!(has_line(&fx, Level::Info, "waiting for our successor"));
    assert!(n.has_token());
    // 5002 announces itself (from wherever it listens): it gets an answer, then the token.
    let fx = n.handle(
        ms(9),
        Event::Datagram {
            src: "10.0.0.2:6000".parse().unwrap(),
            plain: &wire::encode(&Envelope { from: 5002, to: 5001, lamport: 0, msg: RingMessage::Successor }),
        },
    );
    let out = sends(&fx);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].1.msg, RingMessage::SuccessorOk);
    let to: SocketAddr = "10.0.0.2:6000".parse().unwrap();
    assert_eq!(out[1], (to, Envelope { from: 5001, to: 5002, lamport: 1, msg: RingMessage::Token(None) }));
    assert!(has_line(&fx, Level::Info, "successor 5002"));
    assert!(has_line(&fx, Level::Info, "token passed to 5002 (lamport 1)"));
    assert!(!n.has_token());
    // The jeton node stopping now: the token never came back.
    let problems = n.report().problems;
    assert!(problems.iter().any(|p| p.contains("never came back")), "{problems:?}");
}

#[test]
fn only_the_holder_originates_and_a_send_without_the_token_is_queued() {
    let mut n = node(5002, 5001, false, None);
    n.handle(ms(0), Event::Start);
    datagram(&mut n, 5001, 5002, 0, RingMessage::SuccessorOk);
    datagram(&mut n, 5003, 5002, 0, RingMessage::Successor);
    let fx = n.handle(ms(1), Event::Console("send 5001 bonjour"));
    assert!(sends(&fx).is_empty());
    assert!(has_line(&fx, Level::Info, "queued until the token arrives"));
    assert_eq!(n.lamport(), 1, "a send request is a local event");
    let fx = n.handle(ms(1), Event::Console("release"));
    assert!(has_line(&fx, Level::Error, "does not hold the token"));
    // The token comes (stamp 5): max(1, 5) + 1 = 6; the queued text leaves, stamped 7.
    let fx = datagram(&mut n, 5001, 5002, 5, RingMessage::Token(None));
    assert!(has_line(&fx, Level::Info, "TOKEN from 5001 (lamport 6)"));
    let out = sends(&fx);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1, Envelope { from: 5002, to: 5003, lamport: 7, msg: data(5002, 5001, 1, "bonjour") });
    assert!(n.has_token(), "manual mode: the token stays until release");
    let fx = n.handle(ms(2), Event::Console("send 5003 encore"));
    assert_eq!(sends(&fx)[0].1.lamport, 9, "request +1, send +1");
    let fx = n.handle(ms(2), Event::Console("release"));
    assert_eq!(sends(&fx)[0].1.msg, RingMessage::Token(None));
    let r = n.report();
    assert_eq!((r.originated, r.sent.token, r.received.token), (2, 1, 1));
    assert!(r.problems.is_empty(), "{:?}", r.problems);
}

#[test]
fn data_is_delivered_relayed_or_reported_back_at_its_origin() {
    let mut n = node(5002, 5001, false, None);
    n.handle(ms(0), Event::Start);
    datagram(&mut n, 5003, 5002, 0, RingMessage::Successor);
    // For us: delivered, with the real origin and the hop it came from.
    let fx = datagram(&mut n, 5001, 5002, 3, data(5004, 5002, 3, "salut"));
    assert!(has_line(&fx, Level::Info, "message from 5004 via 5001 (hops 3, lamport 4): salut"));
    assert!(sends(&fx).is_empty());
    // For someone else: relayed without the token, one hop more, stamped by TP6.
    let fx = datagram(&mut n, 5001, 5002, 10, data(5004, 5009, 3, "plus loin"));
    assert_eq!(
        sends(&fx),
        vec![(addr(5003), Envelope { from: 5002, to: 5003, lamport: 12, msg: data(5004, 5009, 4, "plus loin") })]
    );
    assert!(has_line(&fx, Level::Info, "relayed a message from 5004 for 5009, on to 5003 (hops 4)"));
    // Ours, back home: nobody listens on 5999.
    let fx = datagram(&mut n, 5001, 5002, 0, data(5002, 5999, 4, "perdu"));
    assert!(has_line(&fx, Level::Warning, "no node of the ring listens on port 5999"));
    assert!(sends(&fx).is_empty());
    // Circling too long: dropped.
    let fx = datagram(&mut n, 5001, 5002, 0, data(5004, 5999, MAX_HOPS, "orphan"));
    assert!(sends(&fx).is_empty() && has_line(&fx, Level::Warning, "no longer in the ring"));
    let r = n.report();
    assert_eq!(r.delivered.len(), 1);
    assert_eq!((r.delivered[0].origin, r.delivered[0].from, r.delivered[0].hops), (5004, 5001, 3));
    assert_eq!((r.relayed, r.undeliverable.len(), r.dropped.circling), (1, 1, 1));
    assert_eq!(r.undeliverable[0].dest, 5999);
}

#[test]
fn what_is_refused_is_counted_and_said_once_per_power_of_ten() {
    let mut n = node(5002, 5001, false, None);
    n.handle(ms(0), Event::Start);
    let mut warnings = 0;
    for _ in 0..100 {
        let fx = n.handle(ms(1), Event::Unopened { src: addr(5001), why: "it does not open with our key".into() });
        warnings += said(&fx, Level::Warning).len();
    }
    assert_eq!(warnings, 3, "the 1st, 10th and 100th");
    let fx = n.handle(ms(1), Event::Datagram { src: addr(5001), plain: b"{\"nope\":1}" });
    assert!(has_line(&fx, Level::Warning, "not a lab ring envelope"));
    let fx = datagram(&mut n, 5001, 5005, 0, RingMessage::Token(None));
    assert!(has_line(&fx, Level::Warning, "addressed to port 5005"));
    assert!(!n.has_token(), "a token for another port is not ours");
    let d = n.report().dropped;
    assert_eq!((d.key, d.malformed, d.misaddressed), (100, 1, 1));
}

#[test]
fn two_tokens_and_two_successors_are_noticed() {
    let mut n = node(5002, 5001, true, None);
    n.handle(ms(0), Event::Start);
    let fx = datagram(&mut n, 5001, 5002, 0, RingMessage::Token(None));
    assert!(has_line(&fx, Level::Warning, "a second token"));
    assert_eq!(n.report().dropped.duplicate_token, 1);
    datagram(&mut n, 5003, 5002, 0, RingMessage::Successor);
    let fx = datagram(&mut n, 5004, 5002, 0, RingMessage::Successor);
    assert!(has_line(&fx, Level::Warning, "successor is now 5004 (127.0.0.1:5004), was 5003"));
    assert_eq!(n.report().state.successor, Some(5004));
}

#[test]
fn scripted_sends_and_console_mistakes() {
    let mut n = node(5001, 5003, true, None);
    n.handle(ms(0), Event::Start);
    let fx = n.handle(ms(0), Event::Command(Command::Send { dest: 5001, text: "moi".into() }));
    assert!(has_line(&fx, Level::Error, "is this node"));
    let fx = n.handle(ms(0), Event::Console("broadcast hello"));
    assert!(has_line(&fx, Level::Error, "help"));
    let fx = n.handle(ms(0), Event::Console("help"));
    let help = said(&fx, Level::Info).join("\n");
    assert!(help.contains("release") && !help.contains("broadcast"), "{help}");
    let fx = n.handle(ms(0), Event::Console("state"));
    assert!(has_line(&fx, Level::Info, "node 5001 now: holds the token (the jeton node)"));
    assert_eq!(n.handle(ms(0), Event::Console("quit")), vec![Effect::Quit]);
}

/// Nodes wired by hand: every datagram sent is delivered, in order, to the node
/// listening on its address (none: lost). Returns every line said, by node.
fn run_ring(nodes: &mut BTreeMap<Port, RingNode>, starts: &[Port]) -> BTreeMap<Port, Vec<String>> {
    let mut lines: BTreeMap<Port, Vec<String>> = BTreeMap::new();
    let mut wire_queue: VecDeque<(Port, SocketAddr, Vec<u8>)> = VecDeque::new();
    let mut absorb = |port: Port, fx: Vec<Effect>, q: &mut VecDeque<(Port, SocketAddr, Vec<u8>)>| {
        for e in fx {
            match e {
                Effect::Send { to, envelope } => q.push_back((port, to, wire::encode(&envelope))),
                Effect::Say(_, line) => lines.entry(port).or_default().push(line),
                Effect::Quit | Effect::Deregister => {}
            }
        }
    };
    for &p in starts {
        let fx = nodes.get_mut(&p).expect("node").handle(ms(0), Event::Start);
        absorb(p, fx, &mut wire_queue);
    }
    let mut steps = 0;
    while let Some((from, to, bytes)) = wire_queue.pop_front() {
        steps += 1;
        assert!(steps < 10_000, "the ring does not settle");
        if let Some(n) = nodes.get_mut(&to.port()) {
            let fx = n.handle(ms(1), Event::Datagram { src: addr(from), plain: &bytes });
            absorb(to.port(), fx, &mut wire_queue);
        }
    }
    lines
}

#[test]
fn three_cores_pass_the_token_for_their_laps_and_deliver_hop_by_hop() {
    // 5001 → 5002 → 5003 → 5001; each is told only its predecessor.
    let mut nodes = BTreeMap::new();
    nodes.insert(5001, node(5001, 5003, true, Some(3)));
    nodes.insert(5002, node(5002, 5001, false, Some(3)));
    nodes.insert(5003, node(5003, 5002, false, Some(3)));
    nodes
        .get_mut(&5001)
        .unwrap()
        .handle(ms(0), Event::Command(Command::Send { dest: 5003, text: "deux sauts".into() }));
    nodes.get_mut(&5003).unwrap().handle(ms(0), Event::Command(Command::Send { dest: 5002, text: "aussi".into() }));
    nodes.get_mut(&5002).unwrap().handle(ms(0), Event::Command(Command::Send { dest: 5999, text: "personne".into() }));
    // Started in the worst order: the holder first, its successor last.
    let lines = run_ring(&mut nodes, &[5001, 5003, 5002]);
    let reports: BTreeMap<Port, _> = nodes.iter().map(|(p, n)| (*p, n.report())).collect();
    for (p, r) in &reports {
        assert!(r.problems.is_empty(), "{p}: {:?}", r.problems);
        assert_eq!((r.sent.token, r.received.token), (3, 3), "{p}: one token, three laps");
    }
    assert!(reports[&5001].state.has_token && reports[&5001].state.laps_done == 3);
    let at_5003 = &reports[&5003].delivered;
    assert_eq!((at_5003[0].origin, at_5003[0].from, at_5003[0].hops), (5001, 5002, 2));
    let at_5002 = &reports[&5002].delivered;
    assert_eq!((at_5002[0].origin, at_5002[0].from, at_5002[0].hops), (5003, 5001, 2));
    assert_eq!(reports[&5002].undeliverable[0].hops, 3, "round the ring of three");
    assert!(lines[&5001].iter().any(|l| l.contains("the token rests here after 3 laps")));
}

#[test]
fn a_node_that_never_joins_leaves_the_ring_with_problems_it_names() {
    // 5003 is never started: 5002 keeps the token, 5001 never sees it back, and
    // nobody answers 5001's SUCCESSOR.
    let mut nodes = BTreeMap::new();
    nodes.insert(5001, node(5001, 5003, true, Some(2)));
    nodes.insert(5002, node(5002, 5001, false, Some(2)));
    nodes.get_mut(&5002).unwrap().handle(ms(0), Event::Command(Command::Send { dest: 5001, text: "x".into() }));
    run_ring(&mut nodes, &[5001, 5002]);
    let p1 = nodes[&5001].report().problems;
    assert!(p1.iter().any(|p| p.contains("never came back")), "{p1:?}");
    assert!(p1.iter().any(|p| p.contains("predecessor 5003 never answered")), "{p1:?}");
    let p2 = nodes[&5002].report().problems;
    assert!(p2.iter().any(|p| p.contains("stops with the token")), "{p2:?}");
    assert!(p2.iter().any(|p| p.contains("for our successor were never sent")), "{p2:?}");
    // In automatic mode, a node the token never reached says so.
    let mut lonely = node(5005, 5004, false, Some(1));
    lonely.handle(ms(0), Event::Command(Command::Send { dest: 5004, text: "y".into() }));
    let p = lonely.report().problems;
    assert!(p.iter().any(|p| p.contains("never received the token")), "{p:?}");
    assert!(p.iter().any(|p| p.contains("queued for the token were never sent")), "{p:?}");
}
