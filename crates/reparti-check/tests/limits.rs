//! Limits and what lies beyond safety: `max_states` and `max_seconds` stop cleanly with
//! a partial report that establishes nothing, liveness is judged on small models (and fails where it should), and
//! a lossy network breaks Chang–Roberts with a counterexample that loses a message.

mod common;

use common::{assert_all_hold, assert_replays, assert_violates, cfg, run, run_traced, with_params};
use reparti_algos::election::ChangRoberts;
use reparti_algos::mutex::RicartAgrawala;
use reparti_check::{CheckConfig, CheckReport, NetworkKind, StopReason, Strategy};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, IdAssignment, Message, NodeId, NodeSetup, ParamError, ParamSpec,
    Params, Process, Properties, Terminal, Timer,
};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const EVENTUALLY: &str = "eventually a correct end (AG EF done)";
const TERMINATES: &str = "every run terminates (no cycle avoids done)";

/// A partial report: incomplete, nothing failed, and nothing established — every
/// verdict "not established" (not ✓), and the reason given.
fn assert_partial(r: &CheckReport, stop: StopReason, what: &str) {
    assert_eq!(r.stop, stop, "{what}");
    assert!(!r.complete, "{what}");
    assert!(r.counterexample.is_none() && r.all_good(), "{what}: {:?}", r.properties);
    assert!(r.unique_states > 0 && r.states > 0 && r.seconds >= 0.0 && r.states_per_sec >= 0.0, "{what}");
    assert!(r.cut_short.is_some(), "{what}: a partial answer must say why");
    for p in r.properties.iter().filter(|p| p.kind != "liveness") {
        assert_eq!(p.holds, None, "{what}: '{}' looks established after a partial search", p.name);
        assert!(p.note.contains("not established") && p.note.contains("cut short"), "{what}: {}", p.note);
    }
    let live: Vec<_> = r.properties.iter().filter(|p| p.kind == "liveness").collect();
    assert_eq!(live.len(), 2, "{what}");
    assert!(live.iter().all(|p| p.holds.is_none() && p.note.contains("did not exhaust")), "{what}: {live:?}");
}

#[test]
fn max_states_stops_breadth_and_depth_first_search() {
    let c = cfg(5, IdAssignment::Desc, NetworkKind::Unordered);
    let full = run::<ChangRoberts>(&c).unique_states;
    for threads in [1, 2] {
        let r = run::<ChangRoberts>(&CheckConfig { max_states: Some(100), threads, ..c.clone() });
        assert_partial(&r, StopReason::MaxStates, &format!("bfs×{threads} max_states=100"));
        // BFS checks the limit between batches: it stops at the first level boundary past it.
        assert!(r.unique_states >= 100 && r.unique_states < full, "{} of {full}", r.unique_states);
    }
    let r = run::<ChangRoberts>(&CheckConfig { max_states: Some(100), strategy: Strategy::Dfs, ..c.clone() });
    assert_partial(&r, StopReason::MaxStates, "dfs max_states=100");
    assert_eq!(r.unique_states, 100, "DFS stops on the state that reaches the limit");
    // A limit above the space changes nothing.
    let r = run::<ChangRoberts>(&CheckConfig { max_states: Some(full + 1), ..c.clone() });
    assert_all_hold(&r, "max_states above the space");
    assert_eq!(r.unique_states, full);
}

#[test]
fn max_states_stops_random_walks_too() {
    let c = CheckConfig {
        max_states: Some(50),
        strategy: Strategy::Random { walks: 500, depth: 1000 },
        ..cfg(5, IdAssignment::Desc, NetworkKind::Unordered)
    };
    let r = run::<ChangRoberts>(&c);
    assert_eq!(
        (r.stop, r.unique_states <= 50 + 20),
        (StopReason::MaxStates, true),
        "random walks ignored max_states = 50: {} unique states, stop {:?}",
        r.unique_states,
        r.stop
    );
}

#[test]
fn max_seconds_stops_cleanly() {
    // BFS checks the clock after every batch: a zero budget stops after the first.
    let c = CheckConfig { max_seconds: Some(0.0), ..cfg(5, IdAssignment::Desc, NetworkKind::Unordered) };
    let r = run::<ChangRoberts>(&c);
    assert_partial(&r, StopReason::Time, "bfs max_seconds=0");
    assert!(r.unique_states < 1320);
    // Random walks check it every 64 walks, the first included.
    let walks = CheckConfig { strategy: Strategy::Random { walks: 10_000, depth: 100 }, ..c.clone() };
    let r = run::<ChangRoberts>(&walks);
    assert_eq!(r.stop, StopReason::Time);
    assert!(!r.complete && r.all_good());
    // DFS checks it every 65536 states: on a larger space it stops there.
    let ra = CheckConfig {
        strategy: Strategy::Dfs,
        max_seconds: Some(0.0),
        ..with_params(cfg(3, IdAssignment::Asc, NetworkKind::Unordered), &[("requests", "2")])
    };
    let r = run::<RicartAgrawala>(&ra);
    assert_partial(&r, StopReason::Time, "dfs max_seconds=0");
    assert_eq!(r.unique_states, 65_536);
    // A real budget on a space that takes longer: stops near it, partial. (n = 7 is done
    // within 0.3 s by an optimized build; n = 9 takes seconds in any build.)
    let started = Instant::now();
    let big = CheckConfig { max_seconds: Some(0.3), ..cfg(9, IdAssignment::Desc, NetworkKind::Unordered) };
    let r = run::<ChangRoberts>(&big);
    assert_partial(&r, StopReason::Time, "bfs max_seconds=0.3 on CR n=9");
    assert!(r.seconds >= 0.3 && started.elapsed().as_secs_f64() < 30.0, "{} s", r.seconds);
}

#[test]
fn progress_is_reported() {
    let calls = AtomicU64::new(0);
    let last = AtomicU64::new(0);
    let progress = |p: &reparti_check::Progress| {
        calls.fetch_add(1, Ordering::Relaxed);
        last.store(p.unique, Ordering::Relaxed);
    };
    let c = cfg(5, IdAssignment::Desc, NetworkKind::Unordered);
    let r = reparti_check::check::<ChangRoberts>(&c, false, &progress, None).expect("runs");
    assert!(calls.load(Ordering::Relaxed) >= r.max_depth, "one report per level at least");
    assert_eq!(last.load(Ordering::Relaxed), r.unique_states);
}

#[test]
fn liveness_is_judged_on_small_models() {
    let c = cfg(3, IdAssignment::Desc, NetworkKind::Unordered);
    let r = run::<ChangRoberts>(&c);
    assert_all_hold(&r, "CR n=3");
    for name in [EVENTUALLY, TERMINATES] {
        let v = r.property(name).expect("a liveness verdict");
        assert_eq!((v.kind, v.holds), ("liveness", Some(true)));
        assert!(v.note.contains(&format!("{} states", r.unique_states)), "{}", v.note);
    }
    // Over the limit, or switched off: not judged, and the report says why.
    let over = run::<ChangRoberts>(&CheckConfig { liveness_limit: 10, ..c.clone() });
    let off = run::<ChangRoberts>(&CheckConfig { liveness: false, ..c.clone() });
    for (r, why) in [(&over, "more than 10 states"), (&off, "--no-liveness")] {
        assert!(r.complete && r.all_good());
        for name in [EVENTUALLY, TERMINATES] {
            let v = r.property(name).expect("a liveness verdict");
            assert!(v.holds.is_none() && v.note.contains(why), "{why}: {v:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Node 0 pings node 1, which pongs back, and node 0 pings again, while node 1 has not
// stopped; node 1 stops when its timer fires, and then swallows the next PING (a
// correct end). With `mode=cycle` the ping-pong can go on forever, but the timer can
// always still fire: every state can reach a correct end, yet a cycle avoids one. With
// `mode=stuck` the first PING node 1 answers cancels its timer: from there no run ends.
// With `mode=starved` node 1 has no timer: node 0's STOP, sent at start, stops it, and
// the ping-pong can go on only while STOP stays undelivered — a run no reliable channel
// allows, so every fair run ends.

struct Loop {
    stuck: bool,
    starved: bool,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct LoopNode {
    me: u32,
    stuck: bool,
    starved: bool,
    stopped: bool,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
enum Ball {
    Ping,
    Pong,
    Stop,
}

impl Message for Ball {
    fn kinds() -> &'static [&'static str] {
        &["PING", "PONG", "STOP"]
    }
    fn kind(&self) -> usize {
        match self {
            Ball::Ping => 0,
            Ball::Pong => 1,
            Ball::Stop => 2,
        }
    }
}

impl Process for LoopNode {
    type Msg = Ball;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Ball>) {
        match self.me {
            0 => {
                ctx.send(NodeId(1), Ball::Ping);
                if self.starved {
                    ctx.send(NodeId(1), Ball::Stop);
                }
            }
            _ if !self.starved => ctx.set_timer("stop", 3.0),
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Ball, ctx: &mut Context<'_, Ball>) {
        match msg {
            Ball::Pong => ctx.send(from, Ball::Ping),
            Ball::Ping if !self.stopped => {
                if self.stuck {
                    ctx.cancel_timer("stop");
                }
                ctx.send(from, Ball::Pong);
            }
            Ball::Ping => {}
            Ball::Stop => self.stopped = true,
        }
    }

    fn on_timer(&mut self, _: Timer, _: &mut Context<'_, Ball>) {
        self.stopped = true;
    }
}

const LOOP_PARAMS: &[ParamSpec] =
    &[ParamSpec::choice("mode", "cycle", &["cycle", "stuck", "starved"], "cycle, stuck or starved")];

impl Algorithm for Loop {
    type Node = LoopNode;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "test-loop",
            chapter: Chapter::Communication,
            summary: "ping-pong that may go on forever",
            params: LOOP_PARAMS,
            topologies: &["ring"],
            default_nodes: 2,
            needs_fifo: false,
            reads_clocks: false,
            reads_physical_clock: false,
            commands: &[],
            spans: &[],
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Loop { stuck: params.raw("mode") == Some("stuck"), starved: params.raw("mode") == Some("starved") })
    }

    fn init(&self, setup: &NodeSetup) -> LoopNode {
        LoopNode { me: setup.me.0, stuck: self.stuck, starved: self.starved, stopped: false }
    }

    fn properties(&self) -> Properties<LoopNode> {
        Properties {
            invariants: vec![],
            terminal: vec![Terminal::<LoopNode>::new("node 1 stopped", |w| {
                if w.nodes[1].stopped {
                    Ok(())
                } else {
                    Err("node 1 did not stop".into())
                }
            })],
        }
    }
}

fn loop_report(mode: &str) -> CheckReport {
    run::<Loop>(&with_params(cfg(2, IdAssignment::Asc, NetworkKind::Unordered), &[("mode", mode)]))
}

#[test]
fn a_cycle_that_avoids_the_end_fails_termination_only() {
    let r = loop_report("cycle");
    assert!(r.complete, "the safety search itself exhausted the space");
    assert_eq!(r.property(EVENTUALLY).and_then(|v| v.holds), Some(true));
    assert_eq!(r.property(TERMINATES).and_then(|v| v.holds), Some(false));
    assert!(!r.all_good());
    let cx = r.counterexample.as_ref().expect("a counterexample: a path to the cycle");
    assert_eq!(cx.property, TERMINATES);
}

#[test]
fn a_cycle_that_only_starves_a_message_in_transit_is_not_held_against_the_algorithm() {
    let r = loop_report("starved");
    assert!(r.complete);
    // The ping-pong goes round while STOP waits: a cycle, but every state of it keeps
    // STOP in transit and none delivers it, so channels that are fair rule it out.
    assert_eq!(r.property(EVENTUALLY).and_then(|v| v.holds), Some(true));
    assert_eq!(r.property(TERMINATES).and_then(|v| v.holds), Some(true), "{:?}", r.property(TERMINATES));
    assert!(r.all_good() && r.counterexample.is_none());
}

#[test]
fn a_state_that_cannot_end_fails_eventually() {
    let r = loop_report("stuck");
    assert!(r.complete);
    assert_eq!(r.property(EVENTUALLY).and_then(|v| v.holds), Some(false));
    assert!(!r.all_good());
    let cx = r.counterexample.as_ref().expect("a counterexample: a path to a state that cannot end");
    assert_eq!(cx.property, EVENTUALLY);
    // The initial state can still end (the timer may fire first): the shortest way into
    // the corner is node 1 answering the first PING.
    assert_eq!(cx.steps.len(), 1, "{:#?}", cx.steps);
    assert!(cx.steps[0].action.contains("deliver Ping from 0 to 1"), "{}", cx.steps[0].action);
}

#[test]
fn after_a_liveness_failure_the_exhausted_safety_search_still_counts() {
    // The breadth-first search explored every state before liveness was judged, so the
    // terminal property was checked in every final state: it holds, it was not skipped.
    for mode in ["cycle", "stuck"] {
        let r = loop_report(mode);
        assert!(r.complete, "{mode}");
        let v = r.property("node 1 stopped").expect("verdict");
        assert_eq!(v.holds, Some(true), "{mode}: terminal verdict {v:?} after a complete search");
    }
}

#[test]
fn a_lossy_network_breaks_chang_roberts() {
    for n in [3, 4] {
        let c = CheckConfig { max_drops: 1, ..cfg(n, IdAssignment::Desc, NetworkKind::Lossy) };
        let (r, trace) = run_traced::<ChangRoberts>(&c);
        let property = "exactly one leader, the maximum identity";
        let what = format!("CR n={n} lossy");
        assert_violates(&r, property, &what);
        assert_eq!(r.network, "lossy");
        assert_eq!(r.faults.get("max_drops"), Some(&1));
        let cx = r.counterexample.as_ref().expect("counterexample");
        let drops = cx.steps.iter().filter(|s| s.action.starts_with("the network loses")).count();
        assert_eq!(drops, 1, "{what}: {:#?}", cx.steps);
        assert_replays::<ChangRoberts>(&trace, property, &what);
        let t = reparti_core::trace::read_trace(&trace[..]).expect("reads");
        assert!(t.events.iter().any(|e| e.kind == reparti_core::trace::EventKind::Drop), "{what}: no drop event");
    }
    // Lossy with no loss allowed is the unordered network.
    let none = CheckConfig { max_drops: 0, ..cfg(4, IdAssignment::Desc, NetworkKind::Lossy) };
    let r = run::<ChangRoberts>(&none);
    assert_all_hold(&r, "lossy, max_drops=0");
    assert_eq!(r.unique_states, 216);
}

#[test]
fn duplications_and_crashes_appear_in_counterexamples_that_replay() {
    // Duplicating the token in transit: two tokens at once, in one step.
    let c = CheckConfig {
        max_dups: 1,
        ..with_params(cfg(3, IdAssignment::Asc, NetworkKind::Duplicating), &[("rounds", "1")])
    };
    let (r, trace) = run_traced::<common::toys::ToyRing>(&c);
    assert_eq!(assert_violates(&r, "exactly one token", "duplicating ring"), 1);
    let cx = r.counterexample.as_ref().expect("counterexample");
    assert!(cx.steps[0].action.starts_with("the network duplicates Token"), "{}", cx.steps[0].action);
    assert_replays::<common::toys::ToyRing>(&trace, "exactly one token", "duplicating ring");

    // Chang–Roberts does not tolerate a crash: the maximum's death leaves no correct end.
    let c = CheckConfig { max_crashes: 1, ..cfg(3, IdAssignment::Desc, NetworkKind::Unordered) };
    let (r, trace) = run_traced::<ChangRoberts>(&c);
    let property = "exactly one leader, the maximum identity";
    assert_violates(&r, property, "CR with a crash");
    let cx = r.counterexample.as_ref().expect("counterexample");
    assert!(cx.steps.iter().any(|s| s.action.ends_with("crashes")), "{:#?}", cx.steps);
    assert_replays::<ChangRoberts>(&trace, property, "CR with a crash");
}
