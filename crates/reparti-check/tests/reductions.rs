//! Partial-order reduction never changes a verdict: on FIFO networks every correct model
//! still passes and every broken one still fails, with no more states than without it,
//! and with a large saving where the theory promises one (Chang–Roberts on FIFO rings).

mod common;

use common::broken::{EagerRa, ForwardingCr, RegenRing};
use common::toys::{PingPong, ToyRing};
use common::{assert_all_hold, assert_replays, cfg, ids, run, run_compare, run_traced, with_params};
use reparti_algos::communication::TokenRing;
use reparti_algos::election::{ChangRoberts, Franklin};
use reparti_algos::mutex::RicartAgrawala;
use reparti_algos::time::LogicalClocks;
use reparti_check::{CheckConfig, CheckReport, NetworkKind, Strategy};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, IdAssignment, Invariant, Message, NodeId, NodeSetup, ParamError,
    Params, Process, Properties, Terminal,
};
use serde::{Deserialize, Serialize};

fn verdicts(r: &CheckReport) -> Vec<(String, Option<bool>)> {
    r.properties.iter().map(|p| (p.name.clone(), p.holds)).collect()
}

fn por(c: &CheckConfig) -> CheckConfig {
    CheckConfig { por: true, ..c.clone() }
}

/// A correct model passes with and without the reduction, which is applied, measures
/// the unreduced space exactly, and never explores more. Returns (reduced, unreduced).
fn correct_with_por<A: Algorithm>(c: &CheckConfig, what: &str) -> (u64, u64) {
    assert_eq!(c.network, NetworkKind::Fifo);
    let plain = run::<A>(c);
    assert_all_hold(&plain, what);
    let reduced = run_compare::<A>(&por(c));
    assert_all_hold(&reduced, &format!("{what} with --por"));
    let p = &reduced.partial_order_reduction;
    assert!(p.requested && p.applied, "{what}: reduction not applied: {}", p.note);
    assert_eq!(p.unreduced_states, Some(plain.unique_states), "{what}: --compare-reductions measured another space");
    assert!(
        reduced.unique_states <= plain.unique_states,
        "{what}: {} > {}",
        reduced.unique_states,
        plain.unique_states
    );
    assert_eq!(verdicts(&plain), verdicts(&reduced), "{what}");
    (reduced.unique_states, plain.unique_states)
}

#[test]
fn correct_models_still_pass_with_the_reduction() {
    use IdAssignment::{Asc, Desc};
    let fifo = NetworkKind::Fifo;
    for n in 2..=5 {
        for placement in [Desc, Asc, IdAssignment::Random] {
            correct_with_por::<ChangRoberts>(&cfg(n, placement.clone(), fifo), &format!("CR n={n} {placement}"));
        }
    }
    correct_with_por::<ChangRoberts>(&cfg(5, ids(&[3, 5, 1, 4, 2]), fifo), "CR 3,5,1,4,2");
    let sleepy = with_params(cfg(5, Desc, fifo), &[("initiators", "1,3")]);
    correct_with_por::<ChangRoberts>(&sleepy, "CR initiators=1,3");
    for (n, placement) in [(3, Desc), (3, ids(&[3, 1, 2])), (4, Desc), (4, ids(&[2, 4, 1, 3]))] {
        correct_with_por::<Franklin>(&cfg(n, placement.clone(), fifo), &format!("franklin n={n} {placement}"));
    }
    let ra = with_params(cfg(3, Asc, fifo), &[("requests", "1")]);
    correct_with_por::<RicartAgrawala>(&ra, "RA n=3 requests=1");
    let tr = with_params(cfg(3, Asc, fifo), &[("sends", "1")]);
    correct_with_por::<TokenRing>(&tr, "token ring n=3 sends=1");
    for rounds in ["1", "2"] {
        let toy = with_params(cfg(3, Asc, fifo), &[("rounds", rounds)]);
        correct_with_por::<ToyRing>(&toy, &format!("test ring rounds={rounds}"));
    }
    correct_with_por::<PingPong>(&with_params(cfg(2, Asc, fifo), &[("trips", "3")]), "ping-pong");
}

#[test]
fn chang_roberts_on_fifo_rings_shrinks_at_least_tenfold() {
    for n in 6..=8 {
        let (reduced, unreduced) =
            correct_with_por::<ChangRoberts>(&cfg(n, IdAssignment::Desc, NetworkKind::Fifo), &format!("CR n={n}"));
        assert!(unreduced >= 10 * reduced, "CR n={n}: {unreduced} states without the reduction, {reduced} with it");
    }
}

/// A broken model fails with and without the reduction: same property, same (shortest)
/// counterexample length, and the reduced run's trace replays.
fn broken_with_por<A: Algorithm>(c: &CheckConfig, what: &str) {
    assert_eq!(c.network, NetworkKind::Fifo);
    let plain = run::<A>(c);
    let (reduced, trace) = run_traced::<A>(&por(c));
    assert!(reduced.partial_order_reduction.applied, "{what}: {}", reduced.partial_order_reduction.note);
    let (a, b) = (plain.counterexample.as_ref(), reduced.counterexample.as_ref());
    let (a, b) = (a.unwrap_or_else(|| panic!("{what}: not caught")), b.unwrap_or_else(|| panic!("{what}: missed")));
    assert!(!plain.all_good() && !reduced.all_good(), "{what}");
    assert_eq!((&a.property, a.steps.len()), (&b.property, b.steps.len()), "{what}");
    assert_replays::<A>(&trace, &b.property, what);
}

#[test]
fn broken_models_still_fail_with_the_reduction() {
    let fifo = NetworkKind::Fifo;
    for n in [3, 4] {
        broken_with_por::<ForwardingCr>(&cfg(n, IdAssignment::Desc, fifo), &format!("forwarding CR n={n}"));
        broken_with_por::<RegenRing>(&cfg(n, IdAssignment::Asc, fifo), &format!("regenerating ring n={n}"));
    }
    for n in [2, 3] {
        broken_with_por::<EagerRa>(&cfg(n, IdAssignment::Asc, fifo), &format!("eager RA n={n}"));
    }
    // Franklin without the fix stalls on FIFO channels too (the overtaking is between sides).
    for placement in [ids(&[3, 1, 2]), ids(&[2, 4, 1, 3])] {
        let c =
            with_params(cfg(if placement == ids(&[3, 1, 2]) { 3 } else { 4 }, placement, fifo), &[("fixed", "false")]);
        broken_with_por::<Franklin>(&c, "franklin fixed=false");
    }
}

#[test]
fn the_reduction_says_when_it_does_not_apply_and_changes_nothing_then() {
    // Unordered channels: a later message can be delivered first, C1 fails.
    let c = cfg(4, IdAssignment::Desc, NetworkKind::Unordered);
    let (plain, reduced) = (run::<ChangRoberts>(&c), run_compare::<ChangRoberts>(&por(&c)));
    let p = &reduced.partial_order_reduction;
    assert!(p.requested && !p.applied && p.note.contains("FIFO"), "{p:?}");
    assert_eq!(p.unreduced_states, None, "nothing to compare when nothing was reduced");
    assert_eq!((reduced.unique_states, verdicts(&reduced)), (plain.unique_states, verdicts(&plain)));

    // Clocks in the state (logical clocks reads them).
    let lc = with_params(cfg(3, IdAssignment::Asc, NetworkKind::Fifo), &[("events", "2")]);
    let (plain, reduced) = (run::<LogicalClocks>(&lc), run::<LogicalClocks>(&por(&lc)));
    assert!(!reduced.partial_order_reduction.applied && reduced.partial_order_reduction.note.contains("clocks"));
    assert_all_hold(&reduced, "logical clocks --por");
    assert_eq!((reduced.unique_states, verdicts(&reduced)), (plain.unique_states, verdicts(&plain)));

    // Depth-first search.
    let dfs = CheckConfig { strategy: Strategy::Dfs, ..cfg(4, IdAssignment::Desc, NetworkKind::Fifo) };
    let (plain, reduced) = (run::<ChangRoberts>(&dfs), run::<ChangRoberts>(&por(&dfs)));
    assert!(!reduced.partial_order_reduction.applied, "{}", reduced.partial_order_reduction.note);
    assert!(reduced.partial_order_reduction.note.contains("breadth-first"));
    assert_eq!((reduced.unique_states, verdicts(&reduced)), (plain.unique_states, verdicts(&plain)));

    // Off when not asked for.
    let off = run::<ChangRoberts>(&cfg(4, IdAssignment::Desc, NetworkKind::Fifo));
    assert!(!off.partial_order_reduction.requested && !off.partial_order_reduction.applied);
}

// ---------------------------------------------------------------------------------------
// A ring whose node 1 answers every TICK from node 0 with a BACK sent straight to node 0,
// along no channel of the ring: the reduction's C1 assumes that never happens, so the
// checker must notice, switch the reduction off and search again.

struct Shortcut;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct ShortcutNode {
    me: u32,
    got: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
enum Hop {
    Tick,
    Back,
}

impl Message for Hop {
    fn kinds() -> &'static [&'static str] {
        &["TICK", "BACK"]
    }
    fn kind(&self) -> usize {
        match self {
            Hop::Tick => 0,
            Hop::Back => 1,
        }
    }
}

impl Process for ShortcutNode {
    type Msg = Hop;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Hop>) {
        let next = ctx.neighbours().get(0).expect("a ring");
        ctx.send(next, Hop::Tick);
    }

    fn on_message(&mut self, from: NodeId, msg: Hop, ctx: &mut Context<'_, Hop>) {
        self.got += 1;
        if msg == Hop::Tick && self.me == 1 {
            ctx.send(from, Hop::Back);
        }
    }
}

impl Algorithm for Shortcut {
    type Node = ShortcutNode;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "test-shortcut",
            chapter: Chapter::Communication,
            summary: "sends against the ring",
            params: &[],
            topologies: &["ring"],
            default_nodes: 3,
            needs_fifo: false,
            reads_clocks: false,
            reads_physical_clock: false,
            commands: &[],
            spans: &[],
        }
    }

    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(Shortcut)
    }

    fn init(&self, setup: &NodeSetup) -> ShortcutNode {
        ShortcutNode { me: setup.me.0, got: 0 }
    }

    fn properties(&self) -> Properties<ShortcutNode> {
        Properties {
            invariants: vec![Invariant::<ShortcutNode>::count("at most 4 receptions", |s| s.got as u64, |_| 0, 0, 4)],
            terminal: vec![Terminal::<ShortcutNode>::new("node 0 got its TICK and the BACK", |w| {
                if w.nodes[0].got == 2 {
                    Ok(())
                } else {
                    Err(format!("node 0 got {}", w.nodes[0].got))
                }
            })],
        }
    }
}

#[test]
fn a_send_outside_the_topology_switches_the_reduction_off() {
    let c = cfg(3, IdAssignment::Asc, NetworkKind::Fifo);
    let plain = run::<Shortcut>(&c);
    assert_all_hold(&plain, "shortcut ring");
    let reduced = run::<Shortcut>(&por(&c));
    assert_all_hold(&reduced, "shortcut ring --por");
    let p = &reduced.partial_order_reduction;
    assert!(p.requested && !p.applied && p.note.contains("switched off"), "{p:?}");
    assert_eq!((reduced.unique_states, verdicts(&reduced)), (plain.unique_states, verdicts(&plain)));
}
