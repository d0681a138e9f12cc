//! # Logical clocks (TP6): Lamport and vector clocks on a mesh
//!
//! **What.** Nodes of a mesh perform local events and send messages to one another;
//! every event is dated by a Lamport clock (exercise 1) and a vector clock (exercise 2).
//! The clocks are the whole point, and they are kept by the framework, not by this
//! module: `reparti_core::clock` applies TP6's rules around every handler,
//!
//! * initialisation `HL = 0`;
//! * local event (this algorithm's `local` input, which calls `Context::local_event`):
//!   `HL += 1`, `V[i] += 1` — starting, and the arrival of a request from the
//!   workload or the console, are not events of the algorithm and leave the clocks alone;
//! * send: increment, then stamp the message `(M, H)` with the new value;
//! * receive `(M, H)`: `HL = max(HL, H) + 1`; `V = max(V, V_m)` then `V[i] += 1`.
//!
//! so the node itself only decides *what* happens (send to whom, or a local event), and
//! this module's properties check that the clocks the engine keeps obey the clock
//! conditions. An algorithm that keeps its own copy of the clocks could drift from the
//! stamps the engine puts on the wire; keeping them in one place rules that out.
//!
//! **Source.** Lab TP6 of the seed course ("Horloge logique", on the TP4 mesh: the
//! message is an object with `clock` and `content`; `lamport_when_receive`,
//! `lamport_when_send`, `lamport_local_event`; exercise 2, vector clocks); Lamport, "Time,
//! clocks, and the ordering of events in a distributed system", CACM 21(7), 1978, for the
//! logical clock; Fidge (1988) and Mattern (1989) for vector clocks.
//!
//! **Workload.** Each node performs `events` (default 10) external events, one per time
//! unit with a random offset inside the unit; each is a send to a uniformly random
//! out-neighbour with probability `send_prob` (default 0.5), a local event otherwise.
//!
//! **Properties.** On every delivered message: the clock condition `C(send) <
//! C(receive)`, and, when vector clocks are kept, `V(send) < V(receive)`. The converse
//! direction of the vector-clock characterisation (`V(a) < V(b) ⇒ a → b`) is about pairs
//! of arbitrary events; the integration tests check it on traces.
//!
//! **Costs.** No control messages: exactly one MSG per message asked for (a `send`
//! asks for one, a `broadcast` for one per out-neighbour; each such input outputs
//! `sends` = how many).
//!
//! **Pitfalls.**
//! * Lamport clocks give `a → b ⇒ C(a) < C(b)` only; the converse is false (two
//!   concurrent events can have any Lamport values). Only vector clocks characterise
//!   happens-before.
//! * Ties: equal Lamport values only ever occur on different nodes; `(C, id)` breaks them
//!   into a total order, which is what Lamport's and Ricart–Agrawala's mutexes use.
//! * Vector clocks cost O(n) per message: engines drop them on large runs (the report's
//!   `clocks` says which were kept), and the vector property then holds vacuously rather
//!   than failing.

use rand::Rng as _;
use reparti_core::clock::vector_order;
use reparti_core::property::Delivery;
use reparti_core::{
    Algorithm, AlgorithmSpec, ArgKind, Chapter, Command, CommandArg, Context, Expectation, Invariant, Message, NodeId,
    NodeSetup, OutputValue, ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, VectorOrder,
    WorkloadSetup, TO_AND_TEXT,
};
use serde::{Deserialize, Serialize};

/// The algorithm's parameters.
const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("events", "10", 0, 100_000, "external events per node (workload)"),
    ParamSpec::real(
        "send_prob",
        "0.5",
        0.0,
        1.0,
        "probability that an event is a send to a random neighbour (else a local event)",
    ),
];

/// TP6's message: a content; its `clock` travels in the envelope the engine stamps.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub struct Msg {
    /// What the message says.
    pub content: String,
}

/// Requests from outside: the console's `send PORT TEXT`, `broadcast TEXT`, `clock`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Send `text` to the neighbour `to`.
    Send {
        /// The destination (an out-neighbour).
        to: NodeId,
        /// The content.
        text: String,
    },
    /// Send `text` to every out-neighbour.
    Broadcast {
        /// The content.
        text: String,
    },
    /// A local event: it only advances the clocks.
    Local,
    /// Show this node's clocks. Looking is not an event: they do not advance.
    Clock,
}

/// One node: what it did, for display; the clocks themselves live in the engine.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// Messages sent.
    pub sent: u64,
    /// Messages received.
    pub received: u64,
    /// Local events performed (`local` inputs).
    pub local_events: u64,
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, _from: NodeId, _msg: Msg, _ctx: &mut Context<'_, Msg>) {
        // The receive rule has already been applied by the engine: nothing else to do.
        self.received += 1;
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        match input {
            Input::Send { to, text } => {
                if !ctx.neighbours().contains(to) {
                    ctx.log(format!("cannot send to {to}: not a neighbour of {}", self.me));
                    return;
                }
                ctx.output("sends", 1);
                ctx.send(to, Msg { content: text });
                self.sent += 1;
            }
            Input::Broadcast { text } => {
                let k = ctx.neighbours().len();
                ctx.output("sends", k);
                ctx.broadcast(Msg { content: text });
                self.sent += k as u64;
            }
            Input::Local => {
                ctx.local_event();
                self.local_events += 1;
            }
            Input::Clock => {
                let lamport = ctx.lamport();
                let line = match ctx.vector() {
                    Some(v) => format!("L = {lamport}, V = {v:?}"),
                    None => format!("L = {lamport}"),
                };
                ctx.output("lamport", lamport);
                ctx.log(line);
            }
        }
    }
}

/// TP6's logical clocks. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct LogicalClocks {
    events: u32,
    send_prob: f64,
}

/// `C(send) < C(receive)`.
fn lamport_condition(d: &Delivery<'_>) -> Result<(), String> {
    if d.send_lamport < d.recv_lamport {
        Ok(())
    } else {
        Err(format!(
            "message {} → {}: sent at C = {} but received at C = {}",
            d.from, d.to, d.send_lamport, d.recv_lamport
        ))
    }
}

/// `V(send) < V(receive)`, when both vectors are kept.
fn vector_condition(d: &Delivery<'_>) -> Result<(), String> {
    let (Some(s), Some(r)) = (d.send_vector, d.recv_vector) else { return Ok(()) };
    match vector_order(s, r) {
        VectorOrder::Before => Ok(()),
        other => Err(format!("message {} → {}: V(send) = {s:?}, V(receive) = {r:?} ({other:?})", d.from, d.to)),
    }
}

impl Algorithm for LogicalClocks {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            name: "logical-clocks",
            chapter: Chapter::Time,
            summary: "TP6: Lamport and vector clocks on random sends and local events; checks the clock conditions",
            params: PARAMS,
            topologies: &[
                "complete",
                "ring",
                "bidir-ring",
                "line",
                "star",
                "tree",
                "grid",
                "torus",
                "hypercube",
                "random",
                "file",
            ],
            default_nodes: 4,
            needs_fifo: false,
            reads_clocks: true,
            reads_physical_clock: false,
            commands: &[
                Command { word: "send", variant: "Send", args: TO_AND_TEXT, help: "send TEXT to one neighbour" },
                Command {
                    word: "broadcast",
                    variant: "Broadcast",
                    args: &[CommandArg { field: "text", kind: ArgKind::Text }],
                    help: "send TEXT to every neighbour",
                },
                Command { word: "local", variant: "Local", args: &[], help: "a local event: advance the clocks" },
            ],
            spans: &[],
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let send_prob: f64 = params.get("send_prob")?;
        if !(0.0..=1.0).contains(&send_prob) {
            return Err(ParamError::Invalid {
                name: "send_prob".into(),
                value: send_prob.to_string(),
                why: "a probability must lie in [0, 1]".into(),
            });
        }
        Ok(LogicalClocks { events: params.get("events")?, send_prob })
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node { me: setup.me, sent: 0, received: 0, local_events: 0 }
    }

    /// Event k of a node happens at `k + u`, `u` uniform in [0, 1): every node's events
    /// are spread over the same span, so messages cross and receives interleave with
    /// local events.
    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        let mut inputs = Vec::with_capacity(setup.n * self.events as usize);
        for i in 0..setup.n {
            let me = NodeId(i as u32);
            let neighbours = setup.topology.neighbours(me);
            for k in 0..self.events {
                let at = k as f64 + rng.gen::<f64>();
                let input = if !neighbours.is_empty() && rng.gen_bool(self.send_prob) {
                    let to = neighbours.get(rng.gen_range(0..neighbours.len())).unwrap_or(me);
                    Input::Send { to, text: format!("m{k} from {i}") }
                } else {
                    Input::Local
                };
                inputs.push(ScheduledInput { at, node: me, input });
            }
        }
        inputs
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                Invariant::<Node>::delivery("clock condition C(send) < C(receive)", lamport_condition),
                Invariant::<Node>::delivery("vector clocks: V(send) < V(receive)", vector_condition),
            ],
            terminal: Vec::new(),
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let asked: f64 = facts
            .outputs
            .get("sends")
            .map(|m| m.iter().map(|(v, c)| if let OutputValue::Int(k) = v { *k as f64 * *c as f64 } else { 0.0 }).sum())
            .unwrap_or(0.0);
        vec![
            Expectation::exact("MSG", "messages asked for by send inputs", asked),
            Expectation::exact("total", "MSG (no control messages)", asked),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reparti_core::clock;
    use reparti_core::{ClockSlot, Effect, NodeHost, Place, Recorder, Topology, TopologyKind};

    fn run(
        node: &mut Node,
        topo: &Topology,
        lamport: &mut u64,
        vector: &mut [u64],
        f: impl FnOnce(&mut Node, &mut Context<'_, Msg>),
    ) -> Vec<Effect<Msg>> {
        let mut recorder = Recorder::default();
        let place = Place { me: node.me, n: topo.len(), neighbours: topo.neighbours(node.me) };
        let clocks = ClockSlot::logical(lamport, Some(vector));
        NodeHost::new(true).handle(place, node, clocks, f, &mut recorder);
        recorder.effects
    }

    fn complete(n: usize) -> Topology {
        Topology::build(&TopologyKind::Complete, n, &mut reparti_core::rng(0)).expect("complete graph")
    }

    #[test]
    fn a_send_is_stamped_with_the_incremented_clock() {
        let topo = complete(3);
        let mut node = LogicalClocks { events: 1, send_prob: 1.0 }.init(&NodeSetup::new(NodeId(1), 2, 3));
        let (mut l, mut v) = (4, vec![0, 4, 0]);
        let eff = run(&mut node, &topo, &mut l, &mut v, |s, c| {
            s.on_input(Input::Send { to: NodeId(2), text: "hi".into() }, c)
        });
        let sends: Vec<_> = eff.iter().filter(|e| matches!(e, Effect::Send { .. })).collect();
        assert_eq!(sends.len(), 1);
        let Effect::Send { to, lamport, vector, msg } = sends[0] else { unreachable!() };
        assert_eq!((*to, *lamport, msg.content.as_str()), (NodeId(2), 5, "hi"));
        assert_eq!(vector.as_deref(), Some(&[0u64, 5, 0][..]));
        assert!(eff.contains(&Effect::Output { key: "sends", value: OutputValue::Int(1) }));
        assert_eq!(node.sent, 1);
    }

    #[test]
    fn broadcast_sends_one_stamped_copy_per_neighbour_with_increasing_stamps() {
        let topo = complete(4);
        let mut node = LogicalClocks { events: 1, send_prob: 1.0 }.init(&NodeSetup::new(NodeId(0), 1, 4));
        let (mut l, mut v) = (0, vec![0; 4]);
        let eff = run(&mut node, &topo, &mut l, &mut v, |s, c| s.on_input(Input::Broadcast { text: "b".into() }, c));
        let stamps: Vec<(NodeId, u64)> = eff
            .iter()
            .filter_map(|e| if let Effect::Send { to, lamport, .. } = e { Some((*to, *lamport)) } else { None })
            .collect();
        assert_eq!(stamps, vec![(NodeId(1), 1), (NodeId(2), 2), (NodeId(3), 3)], "each send is an event");
        assert!(eff.contains(&Effect::Output { key: "sends", value: OutputValue::Int(3) }));
    }

    #[test]
    fn sends_to_non_neighbours_are_refused() {
        let topo = Topology::build(&TopologyKind::Ring, 4, &mut reparti_core::rng(0)).expect("ring");
        let mut node = LogicalClocks { events: 1, send_prob: 1.0 }.init(&NodeSetup::new(NodeId(0), 1, 4));
        let (mut l, mut v) = (0, vec![0; 4]);
        for to in [NodeId(2), NodeId(0), NodeId(99)] {
            let eff = run(&mut node, &topo, &mut l, &mut v, |s, c| s.on_input(Input::Send { to, text: "x".into() }, c));
            assert!(!eff.iter().any(|e| matches!(e, Effect::Send { .. } | Effect::Output { .. })));
        }
        assert_eq!(node.sent, 0);
    }

    #[test]
    fn the_delivery_checks_accept_the_receive_rule_and_reject_violations() {
        // Apply the engine's receive rule and feed the result to the properties.
        let (mut l, mut v) = (2u64, vec![0, 2, 0]);
        let (stamp, stamp_v) = (7u64, vec![7u64, 0, 0]);
        clock::merge(&mut l, Some(&mut v), 1, stamp, Some(&stamp_v));
        let d = Delivery {
            from: NodeId(0),
            to: NodeId(1),
            send_lamport: stamp,
            recv_lamport: l,
            send_vector: Some(&stamp_v),
            recv_vector: Some(&v),
        };
        assert_eq!(lamport_condition(&d), Ok(()));
        assert_eq!(vector_condition(&d), Ok(()));
        // A receiver that forgot the max: C(receive) = 3 ≤ 7.
        let bad = Delivery { recv_lamport: 3, recv_vector: Some(&[0, 3, 0]), ..d };
        assert!(lamport_condition(&bad).is_err());
        assert!(vector_condition(&bad).is_err());
        // No vectors kept: the vector property does not apply.
        let no_v = Delivery { send_vector: None, recv_vector: None, ..bad };
        assert_eq!(vector_condition(&no_v), Ok(()));
    }

    #[test]
    fn workload_sends_only_to_neighbours_and_respects_the_probability() {
        let topo = Topology::build(&TopologyKind::Ring, 5, &mut reparti_core::rng(0)).expect("ring");
        let idents: Vec<u64> = (1..=5).collect();
        let setup = WorkloadSetup { n: 5, idents: &idents, topology: &topo };
        let all_sends = LogicalClocks { events: 20, send_prob: 1.0 }.workload(&setup, &mut reparti_core::rng(3));
        assert_eq!(all_sends.len(), 100);
        for s in &all_sends {
            let Input::Send { to, .. } = &s.input else { panic!("send_prob = 1 sends every time") };
            assert_eq!(to.0, (s.node.0 + 1) % 5, "a ring node's only neighbour is its successor");
            assert!(s.at >= 0.0);
        }
        let none = LogicalClocks { events: 20, send_prob: 0.0 }.workload(&setup, &mut reparti_core::rng(3));
        assert!(none.iter().all(|s| s.input == Input::Local));
        let half = LogicalClocks { events: 200, send_prob: 0.5 }.workload(&setup, &mut reparti_core::rng(3));
        let k = half.iter().filter(|s| matches!(s.input, Input::Send { .. })).count();
        assert!((400..600).contains(&k), "about half of 1000 events send, got {k}");
    }

    #[test]
    fn send_prob_outside_zero_one_is_refused() {
        let mut p = Params::resolve("logical-clocks", PARAMS, &[]).expect("defaults");
        p.set("send_prob", "1.5");
        assert!(LogicalClocks::from_params(&p).is_err());
        p.set("send_prob", "0.25");
        assert!(LogicalClocks::from_params(&p).is_ok());
    }
}
