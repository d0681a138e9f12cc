//! Symmetry reduction, on two anonymous algorithms whose orbit counts are known.
//!
//! Every node greets every neighbour once. A reachable state is then exactly the set of
//! greetings already delivered, a directed graph on the nodes: without reduction there
//! are 2^(channels) states; with it, one per class of renamed graphs. On a complete
//! graph under every permutation those are the unlabeled directed graphs (OEIS A000273:
//! 1, 3, 16, 218); on a ring under rotations, the binary necklaces (OEIS A000031:
//! 2, 3, 4, 6, 8, 14).

use reparti_check::{check, CheckConfig, NetworkKind};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, Invariant, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params,
    Process, Properties, Symmetry, Terminal, TopologyKind,
};
use serde::{Deserialize, Serialize};

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
struct Greeter {
    greeted_by: u32,
}

impl Process for Greeter {
    type Msg = Hello;
    type Input = ();
    fn on_start(&mut self, ctx: &mut Context<'_, Hello>) {
        ctx.broadcast(Hello);
    }
    fn on_message(&mut self, _from: NodeId, _msg: Hello, _ctx: &mut Context<'_, Hello>) {
        self.greeted_by += 1;
    }
}

/// Greetings on an anonymous topology; `limit` is an invariant bound that a broken
/// configuration sets too low, so that verdicts can be compared with and without reduction.
struct Greetings {
    symmetry: Symmetry,
    limit: u32,
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::choice("symmetry", "full", &["full", "rotations", "none"], "full, rotations or none"),
    ParamSpec::int("limit", "100", 0, 1_000_000, "greetings a node may receive"),
];

impl Algorithm for Greetings {
    type Node = Greeter;
    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "greetings",
            chapter: Chapter::Communication,
            summary: "every node greets its neighbours once",
            params: PARAMS,
            topologies: &["complete", "ring"],
            default_nodes: 3,
            needs_fifo: false,
            reads_clocks: false,
            reads_physical_clock: false,
            commands: &[],
            spans: &[],
        }
    }
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        let symmetry = match p.raw("symmetry") {
            Some("rotations") => Symmetry::Rotations,
            Some("none") => Symmetry::None,
            _ => Symmetry::Full,
        };
        Ok(Greetings { symmetry, limit: p.get("limit")? })
    }
    fn init(&self, _setup: &NodeSetup) -> Greeter {
        Greeter { greeted_by: 0 }
    }
    fn properties(&self) -> Properties<Greeter> {
        let mut props = Properties {
            invariants: Vec::new(),
            terminal: vec![Terminal::<Greeter>::new("everyone was greeted by every neighbour", |w| {
                let want = (w.nodes.len() - 1) as u32;
                match w.nodes.iter().all(|g| g.greeted_by == want || g.greeted_by == 1) {
                    true => Ok(()),
                    false => Err("a greeting is missing".into()),
                }
            })],
        };
        if self.limit < 100 {
            // A bound the configuration can make too tight.
            let limit = self.limit;
            props.invariants.push(Invariant::<Greeter>::count(
                "no node greeted more than the limit",
                move |g| u64::from(g.greeted_by > limit),
                |_| 0,
                0,
                0,
            ));
        }
        props
    }
    fn symmetry(&self) -> Symmetry {
        self.symmetry
    }
}

fn cfg(n: usize, topology: TopologyKind, symmetry: &str, reduce: bool) -> CheckConfig {
    CheckConfig {
        nodes: Some(n),
        topology: Some(topology),
        network: NetworkKind::Unordered,
        symmetry: reduce,
        params: vec![("symmetry".into(), symmetry.into())],
        ..CheckConfig::default()
    }
}

fn unique(c: &CheckConfig) -> u64 {
    let r = check::<Greetings>(c, false, &|_| {}, None).expect("the model builds");
    assert!(r.complete && r.all_good(), "{:?}", r.properties);
    r.unique_states
}

#[test]
fn full_symmetry_leaves_one_state_per_unlabeled_directed_graph() {
    for (n, orbits) in [(2, 3u64), (3, 16), (4, 218)] {
        let plain = unique(&cfg(n, TopologyKind::Complete, "full", false));
        assert_eq!(plain, 1 << (n * (n - 1)), "n = {n}: every subset of delivered greetings");
        let reduced = unique(&cfg(n, TopologyKind::Complete, "full", true));
        assert_eq!(reduced, orbits, "n = {n}: unlabeled directed graphs");
    }
}

#[test]
fn rotations_leave_one_state_per_necklace() {
    for (n, necklaces) in [(3, 4u64), (4, 6), (5, 8), (6, 14)] {
        let plain = unique(&cfg(n, TopologyKind::Ring, "rotations", false));
        assert_eq!(plain, 1 << n);
        let reduced = unique(&cfg(n, TopologyKind::Ring, "rotations", true));
        assert_eq!(reduced, necklaces, "n = {n}: binary necklaces");
    }
}

#[test]
fn symmetry_never_changes_a_verdict() {
    for reduce in [false, true] {
        let mut c = cfg(4, TopologyKind::Complete, "full", reduce);
        c.params.push(("limit".into(), "2".into()));
        let r = check::<Greetings>(&c, false, &|_| {}, None).expect("the model builds");
        let p = r.property("no node greeted more than the limit").expect("declared");
        assert_eq!(p.holds, Some(false), "reduce = {reduce}");
        let cx = r.counterexample.expect("a counterexample");
        assert_eq!(cx.steps.len(), 3, "three deliveries to one node, the shortest way to break the bound");
    }
}

#[test]
fn a_declared_symmetry_the_model_cannot_honour_is_refused_with_a_reason() {
    let r = check::<Greetings>(&cfg(3, TopologyKind::Ring, "full", true), true, &|_| {}, None).expect("builds");
    assert!(!r.symmetry_reduction.applied);
    assert!(r.symmetry_reduction.note.contains("complete graph"), "{}", r.symmetry_reduction.note);
    let r = check::<Greetings>(&cfg(3, TopologyKind::Complete, "none", true), false, &|_| {}, None).expect("builds");
    assert!(!r.symmetry_reduction.applied && r.symmetry_reduction.note.contains("does not declare"));
}

#[test]
fn compare_reductions_reports_both_counts() {
    let r = check::<Greetings>(&cfg(4, TopologyKind::Complete, "full", true), true, &|_| {}, None).expect("builds");
    assert_eq!(r.symmetry_reduction.unreduced_states, Some(4096));
    assert_eq!(r.unique_states, 218);
}
