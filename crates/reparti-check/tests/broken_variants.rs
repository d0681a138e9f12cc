//! Deliberately broken algorithms are caught: breadth-first search finds the violation
//! with a counterexample that names the property, is shortest, and replays in the
//! simulator to the same violation; depth-first search and random walks find one too.

mod common;

use common::broken::{EagerRa, ForwardingCr, RegenRing, AT_MOST_ONE_LEADER, EXACTLY_ONE_TOKEN, MUTEX};
use common::{assert_replays, assert_violates, cfg, ids, run, run_traced, strategy, with_params};
use reparti_algos::election::Franklin;
use reparti_algos::mutex::LamportMutex;
use reparti_check::{CheckConfig, NetworkKind, StopReason, Strategy};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, IdAssignment, Invariant, Message, NodeId, NodeSetup, ParamError,
    Params, Process, Properties, ScheduledInput, Terminal, Timer, WorkloadSetup,
};
use serde::{Deserialize, Serialize};

/// Everything the brief asks of a caught bug; returns the shortest counterexample's length.
fn caught<A: Algorithm>(c: &CheckConfig, property: &str, what: &str) -> usize {
    // Breadth-first: the violation, named, with a trace that replays.
    let (r, trace) = run_traced::<A>(c);
    let len = assert_violates(&r, property, what);
    assert!(!r.complete, "{what}: a search stopped by a violation is not complete");
    assert_replays::<A>(&trace, property, what);

    // Shortest: one step less finds nothing (and exactly that many finds it again).
    let shorter = CheckConfig { max_depth: Some(len as u64 - 1), ..c.clone() };
    let r1 = run::<A>(&shorter);
    assert!(
        r1.all_good() && r1.counterexample.is_none(),
        "{what}: BFS to depth {} already fails ({:?}), so the {len}-step counterexample is not shortest",
        len - 1,
        r1.counterexample.as_ref().map(|x| (&x.property, x.steps.len()))
    );
    assert_eq!(r1.stop, StopReason::Depth, "{what}");
    assert!(!r1.complete, "{what}: a depth-bounded search is not complete");
    let exact = run::<A>(&CheckConfig { max_depth: Some(len as u64), ..c.clone() });
    assert_eq!(assert_violates(&exact, property, what), len, "{what}: bounded to {len}");

    // Depth-first and random walks find a violation too, no shorter, and it replays.
    for s in [Strategy::Dfs, Strategy::Random { walks: 3000, depth: 200 }] {
        let (d, trace) = run_traced::<A>(&strategy(c, s));
        let how = format!("{what} with {s:?}");
        let cx = d.counterexample.as_ref().unwrap_or_else(|| panic!("{how}: no violation found"));
        let found = cx.property.clone();
        let dlen = assert_violates(&d, &found, &how);
        assert!(dlen >= len, "{how}: {dlen} steps, shorter than the shortest ({len})");
        assert_replays::<A>(&trace, &found, &how);
    }
    len
}

#[test]
fn chang_roberts_forwarding_smaller_ids_elects_two_leaders() {
    for (n, network) in [(3, NetworkKind::Unordered), (4, NetworkKind::Unordered), (3, NetworkKind::Fifo)] {
        let len = caught::<ForwardingCr>(&cfg(n, IdAssignment::Desc, network), AT_MOST_ONE_LEADER, "forwarding CR");
        // Two identities must each make the n hops home; FIFO queues can force more
        // deliveries first (n = 3: 8, by hand).
        let least = if network == NetworkKind::Fifo { 8 } else { 2 * n };
        assert_eq!(len, least, "forwarding CR n={n} {network}");
    }
}

#[test]
fn token_ring_regenerating_on_a_timer_makes_two_tokens() {
    for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
        let c = cfg(3, IdAssignment::Asc, network);
        let len = caught::<RegenRing>(&c, EXACTLY_ONE_TOKEN, "regenerating ring");
        // Node 1 gets the token, passes it on and arms its timer, which fires at once.
        assert_eq!(len, 2);
        let r = run::<RegenRing>(&c);
        let cx = r.counterexample.expect("a counterexample");
        assert!(cx.steps[0].action.contains("deliver"), "{:?}", cx.steps[0]);
        assert!(cx.steps[1].action.contains("timer 'token-lost' fires at node 1"), "{:?}", cx.steps[1]);
    }
}

#[test]
fn ricart_agrawala_replying_inside_the_critical_section_breaks_mutual_exclusion() {
    for n in [2, 3] {
        for network in [NetworkKind::Unordered, NetworkKind::Fifo] {
            let c = cfg(n, IdAssignment::Asc, network);
            let len = caught::<EagerRa>(&c, MUTEX, "eager RA");
            // One node requests (1 step) and gets its n−1 replies (a REQUEST and a REPLY
            // delivered each): it enters. Another does the same, the first answering it
            // from inside the critical section: 2·(1 + 2(n−1)).
            assert_eq!(len, 2 * (1 + 2 * (n - 1)), "eager RA n={n} {network}");
        }
    }
}

#[test]
fn franklin_without_the_fix_stalls_with_no_leader() {
    let c = with_params(cfg(3, ids(&[3, 1, 2]), NetworkKind::Unordered), &[("fixed", "false")]);
    let property = "exactly one leader, the maximum identity";
    caught::<Franklin>(&c, property, "franklin fixed=false");
    let r = run::<Franklin>(&c);
    let cx = r.counterexample.expect("a counterexample");
    assert!(cx.detail.starts_with("no leader"), "{}", cx.detail);
    // The stalled final state has nothing in flight.
    assert!(cx.steps.last().is_some_and(|s| s.in_flight.is_empty()), "{:?}", cx.steps.last());
    // The fixed algorithm, same ring, same network: fine.
    let fixed = run::<Franklin>(&with_params(c.clone(), &[("fixed", "true")]));
    common::assert_all_hold(&fixed, "franklin fixed=true 3,1,2");
}

#[test]
fn every_thread_count_finds_the_same_shortest_counterexample() {
    let c = cfg(4, IdAssignment::Desc, NetworkKind::Unordered);
    let one = run::<ForwardingCr>(&c);
    let two = run::<ForwardingCr>(&CheckConfig { threads: 2, ..c.clone() });
    let (a, b) = (one.counterexample.expect("found"), two.counterexample.expect("found"));
    assert_eq!((a.property.as_str(), a.steps.len()), (b.property.as_str(), b.steps.len()));
}

// ---------------------------------------------------------------------------------------
// Shortest across property kinds. Node 0 has a timer `a` and one external input:
//   timer a:            x = 1
//   input, x = 0:       cancel a; x = 3    → nothing left to do: a final state, and
//                                            the terminal property "x ≠ 3 at the end" fails
//   input, x = 1:       x = 2              → the invariant "x ≠ 2" fails
// So one step (the input) violates the terminal property, and two steps (timer, input)
// the invariant. The shortest counterexample has one step.

struct Racy;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct RacyNode {
    me: u32,
    x: u8,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct Never;

impl Message for Never {
    fn kinds() -> &'static [&'static str] {
        &["NEVER"]
    }
    fn kind(&self) -> usize {
        0
    }
}

impl Process for RacyNode {
    type Msg = Never;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Never>) {
        if self.me == 0 {
            ctx.set_timer("a", 5.0);
        }
    }

    fn on_message(&mut self, _: NodeId, _: Never, _: &mut Context<'_, Never>) {}

    fn on_timer(&mut self, _: Timer, _: &mut Context<'_, Never>) {
        self.x = 1;
    }

    fn on_input(&mut self, _: (), ctx: &mut Context<'_, Never>) {
        if self.x == 0 {
            ctx.cancel_timer("a");
            self.x = 3;
        } else {
            self.x = 2;
        }
    }
}

impl Algorithm for Racy {
    type Node = RacyNode;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "test-racy",
            chapter: Chapter::Communication,
            summary: "a terminal violation one step away, an invariant violation two steps away",
            params: &[],
            topologies: &["ring"],
            default_nodes: 2,
            needs_fifo: false,
            reads_clocks: false,
            reads_physical_clock: false,
            commands: &[],
            spans: &[],
        }
    }

    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(Racy)
    }

    fn init(&self, setup: &NodeSetup) -> RacyNode {
        RacyNode { me: setup.me.0, x: 0 }
    }

    fn workload(&self, _: &WorkloadSetup<'_>, _: &mut reparti_core::Rng) -> Vec<ScheduledInput<()>> {
        vec![ScheduledInput { at: 1.0, node: NodeId(0), input: () }]
    }

    fn properties(&self) -> Properties<RacyNode> {
        Properties {
            invariants: vec![Invariant::<RacyNode>::local("x is never 2", |s| {
                if s.x == 2 {
                    Err("x = 2".into())
                } else {
                    Ok(())
                }
            })],
            terminal: vec![Terminal::<RacyNode>::new("x is not 3 at the end", |w| {
                if w.nodes[0].x == 3 {
                    Err("x = 3".into())
                } else {
                    Ok(())
                }
            })],
        }
    }
}

#[test]
fn bfs_counterexample_is_shortest_across_property_kinds() {
    let c = cfg(2, IdAssignment::Asc, NetworkKind::Unordered);
    // Bounded to one step, BFS finds the one-step terminal violation...
    let one = run::<Racy>(&CheckConfig { max_depth: Some(1), ..c.clone() });
    assert_eq!(assert_violates(&one, "x is not 3 at the end", "racy, depth ≤ 1"), 1);
    // ...so the unbounded search must not return anything longer.
    let r = run::<Racy>(&c);
    let cx = r.counterexample.as_ref().expect("a violation");
    assert_eq!(
        (cx.property.as_str(), cx.steps.len()),
        ("x is not 3 at the end", 1),
        "BFS returned a {}-step counterexample ({}) although a 1-step one exists",
        cx.steps.len(),
        cx.property
    );
}

#[test]
fn a_counterexample_cut_short_does_not_replay_to_the_violation() {
    // The replay check is not vacuous: without its last delivery, the forwarding
    // Chang–Roberts counterexample has one leader only, and the replay says so.
    let (r, trace) = run_traced::<ForwardingCr>(&cfg(3, IdAssignment::Desc, NetworkKind::Unordered));
    assert_violates(&r, AT_MOST_ONE_LEADER, "forwarding CR");
    let mut t = reparti_core::trace::read_trace(&trace[..]).expect("reads back");
    let last = t.events.iter().rposition(|e| e.kind == reparti_core::trace::EventKind::Receive).expect("a receive");
    t.events.truncate(last);
    let replayed = reparti_sim::replay::<ForwardingCr>(&t).expect("still a valid schedule");
    assert!(replayed.expected.is_some(), "the trace still says what it ended with");
    assert_eq!(replayed.reached, None, "one delivery short, nobody is a second leader");
    assert!(!replayed.same_violation());
}

// ---------------------------------------------------------------------------------------
// Two messages with the same content but different clock stamps. Node 0 sends M twice in
// its start handler, stamped 1 and 2 (starting leaves the clock at 0, each send ticks it).
// The per-delivery invariant rejects the one stamped 2; on an unordered network it can
// be delivered first, which is a one-step counterexample. The trace must name that
// message, not its older twin, or the replay delivers the wrong one.

struct Twins;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct TwinNode {
    me: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct M;

impl Message for M {
    fn kinds() -> &'static [&'static str] {
        &["M"]
    }
    fn kind(&self) -> usize {
        0
    }
}

impl Process for TwinNode {
    type Msg = M;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, M>) {
        if self.me == 0 {
            ctx.send(NodeId(1), M);
            ctx.send(NodeId(1), M);
        }
    }

    fn on_message(&mut self, _: NodeId, _: M, _: &mut Context<'_, M>) {}
}

impl Algorithm for Twins {
    type Node = TwinNode;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "test-twins",
            chapter: Chapter::Time,
            summary: "equal messages, different stamps",
            params: &[],
            topologies: &["ring"],
            default_nodes: 2,
            needs_fifo: false,
            reads_clocks: true,
            reads_physical_clock: false,
            commands: &[],
            spans: &[],
        }
    }

    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(Twins)
    }

    fn init(&self, setup: &NodeSetup) -> TwinNode {
        TwinNode { me: setup.me.0 }
    }

    fn properties(&self) -> Properties<TwinNode> {
        Properties {
            invariants: vec![Invariant::<TwinNode>::delivery("the message stamped 2 is never delivered", |d| {
                if d.send_lamport == 2 {
                    Err(format!("delivered at {}", d.recv_lamport))
                } else {
                    Ok(())
                }
            })],
            terminal: vec![],
        }
    }
}

#[test]
fn the_trace_names_the_message_delivered_among_equal_ones() {
    let c = cfg(2, IdAssignment::Asc, NetworkKind::Unordered);
    let (r, trace) = run_traced::<Twins>(&c);
    let property = "the message stamped 2 is never delivered";
    assert_eq!(assert_violates(&r, property, "twins"), 1);
    assert_replays::<Twins>(&trace, property, "twins");
}

/// Lamport's mutual exclusion assumes FIFO channels: on unordered ones a REPLY overtakes
/// its sender's older REQUEST, and two processes enter together.
#[test]
fn lamport_mutex_without_fifo_breaks_mutual_exclusion() {
    let c = with_params(cfg(2, IdAssignment::Asc, NetworkKind::Unordered), &[("requests", "1")]);
    let property = "mutual exclusion: at most one node in the critical section";
    let len = caught::<LamportMutex>(&c, property, "lamport-mutex on unordered channels");
    println!("lamport-mutex, n=2, unordered: shortest counterexample {len} steps");
}
