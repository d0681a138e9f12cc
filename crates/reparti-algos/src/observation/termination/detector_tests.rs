//! Handler-level tests of the detectors over the diffusing computation: what each rule
//! sends, and the judges on hand-built global states.

use super::diffusing::{Msg as Work, Node as App, PASSIVE_TIMER};
use super::dijkstra_scholten::{DsNode, Signal};
use super::ewd840::{Ctl, Ewd840Node};
use super::misra::{Marker, MisraNode};
use super::safra::{SafraNode, Token};
use super::*;
use crate::handler_harness::{outputs, run, sends};
use reparti_core::{NodeSetup, TopologyKind};

const N: usize = 3;

fn app(me: u32, work: u32) -> App {
    let params = Params::resolve("diffusing", Diffusing::spec().params, &[("work".into(), work.max(1).to_string())]);
    let d = Diffusing::from_params(&params.expect("params")).expect("diffusing");
    let mut node = d.init(&NodeSetup::new(NodeId(me), 0, N));
    if me != 0 {
        node.initial = 0;
        node.units = 0;
    }
    node
}

use reparti_core::Params;

fn on<P: Process>(n: &mut P, me: u32, f: impl FnOnce(&mut P, &mut Context<'_, P::Msg>)) -> Vec<(NodeId, P::Msg)> {
    sends(&run(n, TopologyKind::Complete, NodeId(me), N, f))
}

#[test]
fn dijkstra_scholten_defers_the_engaging_answer_and_announces_at_the_root() {
    let mut root = DsNode { app: app(0, 3), root: true, parent: None, deficit: 0, announced: false };
    let sent = on(&mut root, 0, |s, c| s.on_start(c));
    assert_eq!(sent.len(), 2, "two WORK messages of one unit");
    assert_eq!(root.deficit, 2);
    let mut b = DsNode { app: app(1, 0), root: false, parent: None, deficit: 0, announced: false };
    assert!(on(&mut b, 1, |s, c| s.on_message(NodeId(0), Wire::Basic(Work::Work { units: 1 }), c)).is_empty());
    assert_eq!(b.parent, Some(NodeId(0)), "engaged, answer deferred");
    // A second message while engaged is answered at once.
    let sent = on(&mut b, 1, |s, c| s.on_message(NodeId(2), Wire::Basic(Work::Work { units: 1 }), c));
    assert_eq!(sent, vec![(NodeId(2), Wire::Ctl(Signal))]);
    // Passive, deficit 0: answer the parent and disengage.
    let sent = on(&mut b, 1, |s, c| s.on_timer(PASSIVE_TIMER, c));
    assert_eq!(sent, vec![(NodeId(0), Wire::Ctl(Signal))]);
    assert_eq!(b.parent, None);
    on(&mut root, 0, |s, c| s.on_timer(PASSIVE_TIMER, c));
    on(&mut root, 0, |s, c| s.on_message(NodeId(1), Wire::Ctl(Signal), c));
    assert!(!root.announced, "one signal still owed");
    let effects =
        run(&mut root, TopologyKind::Complete, NodeId(0), N, |s, c| s.on_message(NodeId(2), Wire::Ctl(Signal), c));
    assert!(root.announced);
    assert_eq!(outputs(&effects, ANNOUNCE).len(), 1);
}

fn safra(me: u32, work: u32, token: Option<Token>) -> SafraNode<App> {
    SafraNode {
        app: app(me, work),
        me: NodeId(me),
        n: N as u32,
        c: 0,
        black: false,
        token,
        announced: false,
        counter_test: true,
    }
}

#[test]
fn safra_adds_the_counters_and_announces_only_when_they_cancel() {
    // Node 2, passive, one message received (c = −1, black): the token leaves black.
    let mut n2 = safra(2, 0, None);
    on(&mut n2, 2, |s, c| s.on_message(NodeId(0), Wire::Basic(Work::Work { units: 1 }), c));
    assert_eq!((n2.c, n2.black), (-1, true));
    assert!(on(&mut n2, 2, |s, c| s.on_message(NodeId(0), Wire::Ctl(Token { q: 0, black: false }), c)).is_empty());
    let sent = on(&mut n2, 2, |s, c| s.on_timer(PASSIVE_TIMER, c));
    assert_eq!(sent, vec![(NodeId(1), Wire::Ctl(Token { q: -1, black: true }))]);
    assert!(!n2.black, "whitened when it passes the token");
    // Node 0 with c = 1 and a white token of q = −1: the counters cancel.
    let mut n0 = safra(0, 0, None);
    n0.c = 1;
    let effects = run(&mut n0, TopologyKind::Complete, NodeId(0), N, |s, c| {
        s.on_message(NodeId(1), Wire::Ctl(Token { q: -1, black: false }), c)
    });
    assert!(n0.announced && outputs(&effects, ANNOUNCE).len() == 1);
    // q = 0 instead: a message is still in transit, a new round starts at n − 1.
    let mut n0 = safra(0, 0, None);
    n0.c = 1;
    let sent = on(&mut n0, 0, |s, c| s.on_message(NodeId(1), Wire::Ctl(Token { q: 0, black: false }), c));
    assert_eq!(sent, vec![(NodeId(2), Wire::Ctl(Token { q: 0, black: false }))]);
    assert!(!n0.announced);
    // The broken variant trusts the colours.
    let mut broken = SafraNode { counter_test: false, ..safra(0, 0, None) };
    broken.c = 1;
    on(&mut broken, 0, |s, c| s.on_message(NodeId(1), Wire::Ctl(Token { q: 0, black: false }), c));
    assert!(broken.announced, "no-counter-test announces with a message in transit");
}

fn ewd(me: u32, work: u32) -> Ewd840Node<App> {
    Ewd840Node {
        app: app(me, work),
        me: NodeId(me),
        n: N as u32,
        black: false,
        unacked: 0,
        token: None,
        announced: false,
        blacken: true,
    }
}

#[test]
fn ewd840_acknowledges_blackens_upwards_and_keeps_the_token_until_acknowledged() {
    let mut n1 = ewd(1, 0);
    let sent = on(&mut n1, 1, |s, c| s.on_message(NodeId(0), Wire::Basic(Work::Work { units: 3 }), c));
    assert!(sent.contains(&(NodeId(0), Wire::Ctl(Ctl::Ack))), "{sent:?}");
    let basic = sent.iter().filter(|(_, m)| matches!(m, Wire::Basic(_))).count() as u32;
    assert_eq!(n1.unacked, basic);
    let upwards = sent.iter().any(|(to, m)| to.0 > 1 && matches!(m, Wire::Basic(_)));
    assert_eq!(n1.black, upwards, "black iff it sent to a higher index");
    on(&mut n1, 1, |s, c| s.on_message(NodeId(2), Wire::Ctl(Ctl::Token { black: false }), c));
    assert!(on(&mut n1, 1, |s, c| s.on_timer(PASSIVE_TIMER, c)).is_empty(), "passive, but messages unacknowledged");
    for _ in 0..basic {
        on(&mut n1, 1, |s, c| s.on_message(NodeId(2), Wire::Ctl(Ctl::Ack), c));
    }
    assert!(n1.token.is_none(), "passed on at the last ACK");
    let mut n0 = ewd(0, 0);
    let effects = run(&mut n0, TopologyKind::Complete, NodeId(0), N, |s, c| {
        s.on_message(NodeId(1), Wire::Ctl(Ctl::Token { black: false }), c)
    });
    assert!(n0.announced && outputs(&effects, ANNOUNCE).len() == 1);
}

#[test]
fn misra_counts_white_nodes_and_restarts_at_a_black_one() {
    let mut m = MisraNode { app: app(1, 0), me: NodeId(1), n: N as u32, black: true, marker: None, announced: false };
    let sent = sends(&run(&mut m, TopologyKind::Ring, NodeId(1), N, |s, c| {
        s.on_message(NodeId(0), Wire::Ctl(Marker { count: 2 }), c)
    }));
    assert_eq!(sent, vec![(NodeId(2), Wire::Ctl(Marker { count: 0 }))], "black: the count restarts");
    assert!(!m.black);
    let effects = run(&mut m, TopologyKind::Ring, NodeId(1), N, |s, c| {
        s.on_message(NodeId(0), Wire::Ctl(Marker { count: 2 }), c)
    });
    assert!(m.announced && outputs(&effects, ANNOUNCE).len() == 1, "third white node in a row of 3");
}

#[test]
fn the_detectors_are_found_by_name_and_keep_the_application_s_parameters() {
    for name in NAMES {
        struct Name;
        impl AlgorithmVisitor for Name {
            type Output = &'static str;
            fn visit<A: Algorithm>(self) -> &'static str {
                A::spec().name
            }
        }
        assert_eq!(visit(name, Name), Some(*name));
        let spec = crate::catalogue::find(name).expect("in the catalogue");
        assert!(spec.params.iter().any(|p| p.name == "work"));
    }
    assert!(visit("bank+safra", NoVisit).is_none());
    struct NoVisit;
    impl AlgorithmVisitor for NoVisit {
        type Output = ();
        fn visit<A: Algorithm>(self) {}
    }
}
