//! The detector's handlers over hand-made processes: initiation, the edge check, the
//! single forwarding per initiation, the declaration.

use super::*;
use crate::handler_harness::{outputs, run, sends};
use crate::observation::deadlock::wait_for::{Msg, Node as App};
use reparti_core::TopologyKind;

fn set(v: &[u32]) -> BTreeSet<NodeId> {
    v.iter().map(|&i| NodeId(i)).collect()
}

/// Node `me`, blocked on `waits`, holding the requests of `owes`.
fn node(me: u32, waits: &[u32], owes: &[u32], edge_check: bool) -> Node {
    CmhNode {
        app: App {
            me: NodeId(me),
            wants: set(waits),
            at_start: true,
            requested: true,
            waiting: set(waits),
            owes: set(owes),
            granted: BTreeSet::new(),
        },
        me: NodeId(me),
        initiator: true,
        after_millis: 0,
        edge_check,
        armed: true,
        initiation: None,
        engaged: BTreeMap::new(),
        declared: false,
    }
}

fn on(n: &mut Node, f: impl FnOnce(&mut Node, &mut Ctx<'_, App>)) -> Vec<Effect<Probed<Msg>>> {
    let me = n.me;
    run(n, TopologyKind::Complete, me, 4, f)
}

use reparti_core::Effect;

fn probe(i: u32) -> Probed<Msg> {
    Probed::Probe { initiator: NodeId(i), seq: 1 }
}

#[test]
fn an_initiator_probes_each_process_it_waits_for() {
    let mut a = node(0, &[1, 2], &[], true);
    let eff = on(&mut a, |s, c| s.on_timer(PROBE, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), probe(0)), (NodeId(2), probe(0))]);
    assert_eq!(a.initiation, Some(Engaged { seq: 1, sent: 2 }));
    let mut free = node(3, &[], &[], true);
    assert!(sends(&on(&mut free, |s, c| s.on_timer(PROBE, c))).is_empty(), "not blocked: no probe");
}

#[test]
fn a_probe_is_passed_on_once_and_only_over_an_edge_that_exists() {
    let mut b = node(1, &[2, 3], &[0], true);
    let eff = on(&mut b, |s, c| s.on_message(NodeId(0), probe(0), c));
    assert_eq!(sends(&eff), vec![(NodeId(2), probe(0)), (NodeId(3), probe(0))]);
    assert_eq!(b.engaged.get(&NodeId(0)), Some(&Engaged { seq: 1, sent: 2 }));
    assert!(sends(&on(&mut b, |s, c| s.on_message(NodeId(0), probe(0), c))).is_empty(), "once per initiation");
    // From 3, whose request 1 does not hold: the edge 3→1 does not exist.
    let mut c = node(1, &[2], &[0], true);
    assert!(sends(&on(&mut c, |s, x| s.on_message(NodeId(3), probe(0), x))).is_empty());
    // The mistake passes it on anyway.
    let mut careless = node(1, &[2], &[0], false);
    assert_eq!(sends(&on(&mut careless, |s, x| s.on_message(NodeId(3), probe(0), x))), vec![(NodeId(2), probe(0))]);
}

#[test]
fn the_initiator_declares_when_its_probe_comes_back() {
    let mut a = node(0, &[1], &[2], true);
    on(&mut a, |s, c| s.on_timer(PROBE, c));
    let eff = on(&mut a, |s, c| s.on_message(NodeId(2), probe(0), c));
    assert!(sends(&eff).is_empty());
    assert_eq!(outputs(&eff, DEADLOCK), vec![OutputValue::Int(0)]);
    assert!(a.declared);
    // Over an edge that is gone (3's request not held), no declaration.
    let mut b = node(0, &[1], &[2], true);
    on(&mut b, |s, c| s.on_timer(PROBE, c));
    assert!(outputs(&on(&mut b, |s, c| s.on_message(NodeId(3), probe(0), c)), DEADLOCK).is_empty());
}
