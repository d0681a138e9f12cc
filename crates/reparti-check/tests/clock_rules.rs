//! TP6's clock rules in the model checker: the clocks of a counterexample's every event
//! are the ones the sheet's rules give — start at 0, a declared local event adds one, a
//! send adds one then stamps, a receive takes the maximum plus one — and the clock
//! condition itself is checked on every delivery of every interleaving.

mod common;

use common::broken::{ForwardingCr, AT_MOST_ONE_LEADER};
use common::{assert_violates, cfg, run, run_traced};
use reparti_algos::time::LogicalClocks;
use reparti_check::NetworkKind;
use reparti_core::trace::{read_trace, EventKind};
use reparti_core::{
    audit_clocks, Algorithm, AlgorithmSpec, Chapter, Context, IdAssignment, Invariant, Message, NodeId, NodeSetup,
    ParamError, Params, Process, Properties,
};
use serde::{Deserialize, Serialize};

/// Each node makes one local event, then sends `Hello` to the next; "nobody heard"
/// fails at the first receive, so every counterexample has a local event, a send and a
/// receive to date.
struct LocalThenSend;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct Hello;

impl Message for Hello {
    fn kinds() -> &'static [&'static str] {
        &["HELLO"]
    }
    fn kind(&self) -> usize {
        0
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct Listener {
    heard: bool,
}

impl Process for Listener {
    type Msg = Hello;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Hello>) {
        ctx.local_event();
        let next = NodeId((ctx.me().0 + 1) % ctx.n() as u32);
        ctx.send(next, Hello);
    }

    fn on_message(&mut self, _from: NodeId, _msg: Hello, _ctx: &mut Context<'_, Hello>) {
        self.heard = true;
    }
}

const NOBODY_HEARD: &str = "nobody heard (fails on purpose)";

impl Algorithm for LocalThenSend {
    type Node = Listener;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            topologies: &["ring"],
            default_nodes: 2,
            ..AlgorithmSpec::new("test-local-then-send", Chapter::Time, "a local event, then a send")
        }
    }

    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(LocalThenSend)
    }

    fn init(&self, _setup: &NodeSetup) -> Listener {
        Listener { heard: false }
    }

    fn properties(&self) -> Properties<Listener> {
        Properties {
            invariants: vec![Invariant::<Listener>::local(NOBODY_HEARD, |s| {
                if s.heard {
                    Err("a node heard".into())
                } else {
                    Ok(())
                }
            })],
            terminal: vec![],
        }
    }
}

#[test]
fn a_counterexample_dates_start_local_send_and_receive_by_the_sheet() {
    let (r, bytes) = run_traced::<LocalThenSend>(&cfg(2, IdAssignment::Asc, NetworkKind::Unordered));
    assert_violates(&r, NOBODY_HEARD, "local then send");
    let trace = read_trace(&bytes[..]).expect("the counterexample reads back");
    audit_clocks(&trace).unwrap_or_else(|e| panic!("the checker's clocks break the rules: {e}"));
    let at = |kind: EventKind| trace.events.iter().find(|e| e.kind == kind).map(|e| e.lamport);
    assert_eq!(at(EventKind::Start), Some(0), "starting is not an event");
    assert_eq!(at(EventKind::Local), Some(1), "a local event adds one");
    assert_eq!(at(EventKind::Send), Some(2), "a send adds one, then stamps");
    // Both nodes did local + send (clock 2) before the first receive: max(2, 2) + 1.
    assert_eq!(at(EventKind::Receive), Some(3), "a receive takes the maximum, plus one");
}

#[test]
fn counterexamples_of_a_broken_election_follow_the_rules_too() {
    let (r, bytes) = run_traced::<ForwardingCr>(&cfg(3, IdAssignment::Desc, NetworkKind::Unordered));
    assert_violates(&r, AT_MOST_ONE_LEADER, "forwarding CR");
    let trace = read_trace(&bytes[..]).expect("the counterexample reads back");
    audit_clocks(&trace).unwrap_or_else(|e| panic!("the checker's clocks break the rules: {e}"));
}

#[test]
fn the_clock_conditions_hold_in_every_interleaving_of_logical_clocks() {
    let c = common::with_params(cfg(3, IdAssignment::Asc, NetworkKind::Unordered), &[("events", "2")]);
    let r = run::<LogicalClocks>(&c);
    common::assert_all_hold(&r, "logical clocks, 3 nodes, 2 events each");
}
