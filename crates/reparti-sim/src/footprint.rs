//! How much memory a run will need, estimated from its configuration before anything
//! is allocated, so that a run that cannot fit is refused in one line instead of
//! aborting minutes later (or being killed by the kernel).
//!
//! The estimate adds up what the engine allocates for a run of n nodes, with the sizes
//! of the algorithm's own types:
//!
//! * per node: the node's state (`size_of`), its identity, Lamport clock, causal-chain
//!   length, crash flag, message counter and timer list;
//! * the topology's adjacency (4 bytes per node and per channel; the complete graph is
//!   implicit), or, while it is built, the per-node lists it is built from;
//! * the event queue: every node's start event, then a message in flight per channel
//!   out of each node (up to two per node), and every workload input waiting for its
//!   time — in a double-ended queue that grows by doubling (constant delays) or a
//!   calendar queue's buckets (random delays);
//! * the workload: how many inputs per node the algorithm draws, measured by drawing it
//!   for a few nodes, each counted twice (the drawn list and its queue entry) plus its
//!   text (its JSON length stands in for what it owns on the heap);
//! * vector clocks when kept: n entries per node and per message in flight (n² × 16);
//! * the FIFO table when random delays need one: one slot per channel used;
//! * the process itself (about 32 MiB).
//!
//! What it cannot know: heap memory a node's state grows into as the run goes, and how
//! many messages are in flight at once beyond two per node — an algorithm that
//! broadcasts on a complete graph can have n² (see docs/RELIABILITY.md).

use crate::config::{SimConfig, VectorClocks, AUTO_VECTOR_LIMIT};
use crate::engine::{Event, Input, Msg};
use crate::network::{Delay, Fault};
use crate::queue::Queued;
use crate::SimError;
use reparti_core::{Algorithm, IdAssignment, Instance, ScheduledInput, Timers, Topology, TopologyKind};
use std::mem::size_of;

/// What the process takes before the run allocates anything (binary, allocator, stacks).
const BASELINE: f64 = 32.0 * 1024.0 * 1024.0;

/// Nodes of the small instances drawn to measure the workload: the first size the
/// topology (and a parameter that names a node) accepts.
const SAMPLE_SIZES: [usize; 4] = [4, 9, 16, 64];

/// Inputs whose JSON is measured to estimate what an input owns on the heap.
const SAMPLE_INPUTS: usize = 256;

/// The FIFO table keeps a dense slot per channel up to this many channels (as
/// `crate::fifo` does), a hash map entry per channel used beyond.
const DENSE_FIFO_LIMIT: f64 = (1u64 << 24) as f64;

/// The memory a run will need, and the shape of that need, to say how many nodes fit.
#[derive(Clone, Debug)]
pub struct Footprint {
    /// The node count the estimate is for.
    pub nodes: usize,
    /// The estimated peak, in bytes.
    pub bytes: u64,
    /// The largest share of it.
    pub largest: Share,
    /// Workload inputs per node (measured on a small instance).
    pub inputs_per_node: f64,
    model: Model,
}

/// The parts of a run's memory, to say which dominates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Share {
    /// Node states, clocks and counters.
    Nodes,
    /// The topology's adjacency (or the lists it is built from).
    Topology,
    /// The event queue: start events and messages in flight.
    Queue,
    /// The workload's inputs.
    Workload,
    /// Vector clocks, per node and per message.
    VectorClocks,
    /// The FIFO table.
    Fifo,
    /// The program itself, before the run allocates anything.
    Program,
}

impl std::fmt::Display for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Share::Nodes => "node states and clocks",
            Share::Topology => "the topology",
            Share::Queue => "the event queue",
            Share::Workload => "the workload",
            Share::VectorClocks => "vector clocks",
            Share::Fifo => "the FIFO table",
            Share::Program => "the program itself",
        })
    }
}

/// Bytes as a function of the node count; everything else is fixed by the run.
#[derive(Clone, Copy, Debug)]
struct Model {
    /// Per node, held all run long (state, clocks, counters, timers).
    per_node: f64,
    /// The topology: adjacency per node, and what building it takes per node.
    topology: TopologyCost,
    /// Workload inputs per node.
    inputs_per_node: f64,
    /// Per input: its slot in the drawn list and what it owns on the heap.
    input_bytes: f64,
    /// Whether the inputs are queued (not when the run drops its workload).
    inputs_queued: bool,
    /// Per queued event.
    queue_item: f64,
    /// Random delays: the calendar queue, whose buckets hold up to twice their entries.
    calendar: bool,
    /// Vector clocks are kept.
    vectors: bool,
    /// FIFO bookkeeping is needed (random delays on FIFO channels).
    fifo: bool,
    /// Inputs given by a scenario and crash events, queued whatever n is.
    extra_events: f64,
}

#[derive(Clone, Copy, Debug)]
enum TopologyCost {
    /// Adjacency `offsets + targets`: 4 bytes per node and `channels_per_node` × 4.
    Csr { channels_per_node: f64, built_from_lists: bool, random_edges: bool },
    /// The complete graph: nothing stored, n(n−1) channels.
    Complete,
    /// A ring: nothing stored, one or two channels per node.
    Ring { channels_per_node: f64 },
}

impl TopologyCost {
    fn channels(&self, n: f64) -> f64 {
        match self {
            TopologyCost::Csr { channels_per_node, .. } => channels_per_node * n,
            TopologyCost::Complete => n * (n - 1.0),
            TopologyCost::Ring { channels_per_node } => channels_per_node * n,
        }
    }

    /// Messages in flight per node, as estimated: one per channel out of it, up to
    /// two (a ring's first round; an algorithm that broadcasts on a denser graph can
    /// have more, which only the run's watch catches).
    fn in_flight_per_node(&self, n: f64) -> f64 {
        (self.channels(n) / n.max(1.0)).clamp(1.0, 2.0)
    }

    /// Bytes held all run long.
    fn held(&self, n: f64) -> f64 {
        match self {
            TopologyCost::Csr { channels_per_node, .. } => 4.0 * n + 4.0 * channels_per_node * n,
            TopologyCost::Complete | TopologyCost::Ring { .. } => 0.0,
        }
    }

    /// Bytes at the peak of building it: the adjacency, plus a list per node (24 bytes
    /// and a heap block of at least 32), plus a random graph's edge set.
    fn building(&self, n: f64) -> f64 {
        match self {
            TopologyCost::Csr { channels_per_node, built_from_lists, random_edges } => {
                let lists = if *built_from_lists { n * (24.0 + 32.0) + 4.0 * channels_per_node * n } else { 0.0 };
                let edges = if *random_edges { 4.0 * n + 16.0 * channels_per_node * n } else { 0.0 };
                self.held(n) + lists + edges
            }
            TopologyCost::Complete | TopologyCost::Ring { .. } => 0.0,
        }
    }
}

impl Model {
    /// The estimated peak for `n` nodes, and its largest share.
    fn bytes(&self, n: f64) -> (f64, Share) {
        let inputs = self.inputs_per_node * n;
        let queued_inputs = if self.inputs_queued { inputs } else { 0.0 };
        let in_flight = n * self.topology.in_flight_per_node(n);
        let queued = (in_flight + queued_inputs + self.extra_events).max(1.0);
        let slots = if self.calendar {
            2.0 * queued
        } else {
            // A VecDeque doubles: its capacity is the next power of two.
            queued.log2().ceil().exp2()
        };
        // The queue's slots, shared out between what fills them: the inputs waiting for
        // their time belong to the workload's share.
        let per_entry = slots * self.queue_item / queued;
        let queue = (in_flight + self.extra_events) * per_entry;
        let workload = inputs * self.input_bytes + queued_inputs * per_entry;
        // Each node's clock and each message in flight (about one per node) carry n entries.
        let vectors = if self.vectors { 2.0 * n * n * 8.0 } else { 0.0 };
        let fifo = if self.fifo {
            let used = self.topology.channels(n).min(n + inputs);
            if self.topology.channels(n) <= DENSE_FIFO_LIMIT {
                self.topology.channels(n) * 8.0
            } else {
                used * 32.0
            }
        } else {
            0.0
        };
        let shares = [
            (Share::Nodes, self.per_node * n),
            (Share::Topology, self.topology.held(n)),
            (Share::Queue, queue),
            (Share::Workload, workload),
            (Share::VectorClocks, vectors),
            (Share::Fifo, fifo),
        ];
        let running: f64 = shares.iter().map(|(_, b)| b).sum();
        let peak = running.max(self.topology.building(n)) + BASELINE;
        let largest = shares
            .iter()
            .chain(&[(Share::Program, BASELINE)])
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(Share::Program, |(s, _)| *s);
        (peak, largest)
    }
}

impl Footprint {
    /// The estimated peak for `n` nodes of the same run.
    pub fn bytes_for(&self, n: usize) -> u64 {
        to_bytes(self.model.bytes(n as f64).0)
    }

    /// The most nodes (up to this run's count) whose estimate is at most `room` bytes;
    /// 0 when not even one node fits (the workload alone is too large).
    pub fn nodes_within(&self, room: u64) -> usize {
        let (mut lo, mut hi) = (0usize, self.nodes);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.bytes_for(mid) <= room {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }
}

fn to_bytes(b: f64) -> u64 {
    if b >= u64::MAX as f64 {
        u64::MAX
    } else {
        b as u64
    }
}

/// Estimates what running `A` as `cfg` configures will need at its peak, without
/// allocating it. An error means the run cannot be set up at all; the run itself then
/// says why, in its own words.
pub fn estimate<A: Algorithm>(cfg: &SimConfig, traced: bool) -> Result<Footprint, SimError> {
    let spec = A::spec();
    let kind = match &cfg.topology {
        Some(k) => k.clone(),
        None => spec.topologies[0].parse().map_err(|e| SimError::Setup(reparti_core::SetupError::Topology(e)))?,
    };
    let (n, topology) = match &kind {
        // An edge list is bounded by its file's size: build it to know its shape.
        TopologyKind::File { .. } => {
            let t = Topology::build(&kind, 0, &mut reparti_core::rng(cfg.seed))
                .map_err(|e| SimError::Setup(reparti_core::SetupError::Topology(e)))?;
            let per_node = t.channel_count() as f64 / t.len().max(1) as f64;
            (t.len(), TopologyCost::Csr { channels_per_node: per_node, built_from_lists: true, random_edges: false })
        }
        _ => {
            let n = cfg.nodes.unwrap_or(spec.default_nodes);
            (n, topology_cost(&kind, n))
        }
    };
    let (inputs_per_node, input_heap) = sample_workload::<A>(cfg, &kind);

    let mut network = cfg.network.clone();
    if network.sync {
        network.delay = Delay::Const { value: 1.0 };
        network.fifo = true;
    }
    let random_delays = !matches!(network.delay, Delay::Const { .. });
    let delayed = cfg.faults.iter().any(|f| matches!(f, Fault::DelayMessage { .. } | Fault::LinkDelay { .. }));
    let vectors = match cfg.vector_clocks {
        VectorClocks::On => true,
        VectorClocks::Off => false,
        VectorClocks::Auto => (spec.reads_clocks || traced) && n <= AUTO_VECTOR_LIMIT,
    };
    let crashes = cfg.faults.iter().filter(|f| matches!(f, Fault::Crash { .. })).count();
    let queued = size_of::<Queued<Event<Msg<A>, Input<A>>>>() as f64;
    let model = Model {
        per_node: (size_of::<A::Node>() + 8 + 8 + 4 + 1 + 4 + size_of::<Timers<u64>>()) as f64,
        topology,
        inputs_per_node,
        input_bytes: size_of::<ScheduledInput<Input<A>>>() as f64 + input_heap,
        inputs_queued: !cfg.no_workload,
        // A calendar queue entry is the event and its key, the time's bits and the
        // sequence number: the size of a `Queued`.
        queue_item: queued,
        calendar: random_delays,
        vectors,
        fifo: network.fifo && (delayed || random_delays),
        extra_events: (cfg.inputs.len() + crashes) as f64,
    };
    let (bytes, largest) = model.bytes(n as f64);
    Ok(Footprint { nodes: n, bytes: to_bytes(bytes), largest, inputs_per_node, model })
}

/// The adjacency a generated topology of `n` nodes stores.
fn topology_cost(kind: &TopologyKind, n: usize) -> TopologyCost {
    let nf = n as f64;
    let tree_like = 2.0 * (nf - 1.0).max(0.0) / nf.max(1.0);
    let (channels_per_node, built_from_lists, random_edges) = match kind {
        TopologyKind::Complete => return TopologyCost::Complete,
        TopologyKind::Ring => return TopologyCost::Ring { channels_per_node: 1.0 },
        TopologyKind::BidirRing => return TopologyCost::Ring { channels_per_node: 2.0 },
        TopologyKind::Line | TopologyKind::Star | TopologyKind::Tree => (tree_like, true, false),
        TopologyKind::Grid | TopologyKind::Torus => (4.0, true, false),
        TopologyKind::Hypercube => (nf.max(2.0).log2(), true, false),
        TopologyKind::Random { degree } => ((*degree as f64).max(tree_like), true, true),
        // Built from the file itself in `estimate`.
        TopologyKind::File { .. } => (2.0, true, false),
    };
    TopologyCost::Csr { channels_per_node, built_from_lists, random_edges }
}

/// Draws the workload for a few nodes: how many inputs per node, and about how many
/// heap bytes each owns (the mean JSON length of the first few). No small instance of
/// the run (a parameter naming node 100, say) counts as no workload: the run's watch
/// still stops it if it outgrows the memory.
fn sample_workload<A: Algorithm>(cfg: &SimConfig, kind: &TopologyKind) -> (f64, f64) {
    // A file's topology is already known; its workload is sampled on a ring.
    let kind = match kind {
        TopologyKind::File { .. } => TopologyKind::Ring,
        k => k.clone(),
    };
    for k in SAMPLE_SIZES {
        if let Ok(instance) = Instance::<A>::new(&cfg.params, Some(&kind), k, &IdAssignment::Asc, cfg.seed) {
            let w = &instance.workload;
            let sampled = w.iter().take(SAMPLE_INPUTS);
            let heap: usize = sampled.clone().map(|s| serde_json::to_string(&s.input).map_or(0, |j| j.len())).sum();
            let heap = heap as f64 / sampled.count().max(1) as f64;
            return (w.len() as f64 / k as f64, heap);
        }
    }
    (0.0, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::NetworkModel;
    use reparti_core::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
    struct Ping;
    impl Message for Ping {
        fn kinds() -> &'static [&'static str] {
            &["PING"]
        }
        fn kind(&self) -> usize {
            0
        }
    }

    #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
    struct Node {
        got: u64,
    }

    impl Process for Node {
        type Msg = Ping;
        type Input = String;
        fn on_start(&mut self, ctx: &mut Context<'_, Ping>) {
            ctx.broadcast(Ping)
        }
        fn on_message(&mut self, _: NodeId, _: Ping, _: &mut Context<'_, Ping>) {
            self.got += 1
        }
    }

    /// Pings its successor; `inputs` texts of 40 bytes per node as its workload.
    struct Pings {
        inputs: usize,
    }

    const PARAMS: &[ParamSpec] = &[ParamSpec::int("inputs", "0", 0, 1000, "inputs per node")];

    impl Algorithm for Pings {
        type Node = Node;
        fn spec() -> AlgorithmSpec {
            AlgorithmSpec {
                name: "pings",
                chapter: Chapter::Communication,
                summary: "",
                params: PARAMS,
                topologies: &["ring", "complete", "torus"],
                default_nodes: 4,
                needs_fifo: false,
                reads_clocks: false,
                reads_physical_clock: false,
                commands: &[],
                spans: &[],
            }
        }
        fn from_params(p: &Params) -> Result<Self, ParamError> {
            Ok(Pings { inputs: p.get("inputs")? })
        }
        fn init(&self, _: &NodeSetup) -> Node {
            Node { got: 0 }
        }
        fn properties(&self) -> Properties<Node> {
            Properties::default()
        }
        fn workload(&self, setup: &WorkloadSetup<'_>, _: &mut Rng) -> Vec<ScheduledInput<String>> {
            (0..setup.n * self.inputs)
                .map(|k| ScheduledInput { at: k as f64, node: NodeId((k % setup.n) as u32), input: "x".repeat(38) })
                .collect()
        }
    }

    fn cfg(n: usize, inputs: usize) -> SimConfig {
        SimConfig { params: vec![("inputs".into(), inputs.to_string())], ..SimConfig::with_nodes(n) }
    }

    #[test]
    fn the_estimate_grows_with_the_nodes_and_says_how_many_fit() {
        let small = estimate::<Pings>(&cfg(1_000, 0), false).expect("estimates");
        let large = estimate::<Pings>(&cfg(1_000_000, 0), false).expect("estimates");
        assert!(small.bytes < large.bytes);
        assert_eq!(large.bytes_for(1_000), small.bytes);
        // Each node costs its state, clocks and counters, a ring's adjacency and a queue
        // slot (a power of two of them): between 80 and 300 bytes here.
        let per_node = (large.bytes - BASELINE as u64) as f64 / 1e6;
        assert!((80.0..300.0).contains(&per_node), "{per_node} bytes per node");
        let room = large.bytes_for(250_000);
        let fit = large.nodes_within(room);
        assert!(large.bytes_for(fit) <= room && large.bytes_for(fit + 1) > room, "{fit}");
        assert_eq!(large.nodes_within(u64::MAX), 1_000_000);
        assert_eq!(large.nodes_within(0), 0);
    }

    #[test]
    fn the_workload_is_measured_on_a_small_instance() {
        let fp = estimate::<Pings>(&cfg(1_000_000, 100), false).expect("estimates");
        assert_eq!(fp.inputs_per_node, 100.0);
        assert_eq!(fp.largest, Share::Workload);
        // 10^8 inputs of at least their slot and their 40-byte text (JSON: 38 + quotes).
        assert!(fp.bytes > 100_000_000 * (size_of::<ScheduledInput<String>>() as u64 + 40), "{}", fp.bytes);
        let none = estimate::<Pings>(&SimConfig { no_workload: true, ..cfg(1_000_000, 100) }, false);
        assert!(none.expect("estimates").bytes < fp.bytes, "a dropped workload is not queued");
    }

    #[test]
    fn vector_clocks_cost_n_squared() {
        let on = |n| estimate::<Pings>(&SimConfig { vector_clocks: VectorClocks::On, ..cfg(n, 0) }, false);
        let (a, b) = (on(1_000).expect("estimates"), on(2_000).expect("estimates"));
        assert_eq!(b.largest, Share::VectorClocks);
        let (a, b) = (a.bytes as f64 - BASELINE, b.bytes as f64 - BASELINE);
        assert!(b > 3.5 * a, "{a} → {b}");
        // Automatic clocks are kept only for traced runs of at most 256 nodes.
        let auto = estimate::<Pings>(&cfg(2_000, 0), true).expect("estimates");
        assert_ne!(auto.largest, Share::VectorClocks);
    }

    #[test]
    fn random_delays_and_dense_graphs_are_counted() {
        let ring = estimate::<Pings>(&cfg(100_000, 0), false).expect("estimates");
        let uniform = SimConfig {
            network: NetworkModel { delay: Delay::Uniform { min: 1.0, max: 3.0 }, ..NetworkModel::default() },
            ..cfg(100_000, 0)
        };
        let random = estimate::<Pings>(&uniform, false).expect("estimates");
        assert!(random.bytes > ring.bytes, "a calendar queue and a FIFO table cost more");
        let complete = SimConfig { topology: Some(TopologyKind::Complete), ..cfg(100_000, 0) };
        let complete = estimate::<Pings>(&complete, false).expect("estimates");
        assert!(complete.bytes > ring.bytes, "two messages in flight per node, not one");
        // A torus is sampled on a size it accepts (9 nodes), not the first size tried.
        let torus = SimConfig { topology: Some(TopologyKind::Torus), ..cfg(10_000, 3) };
        assert_eq!(estimate::<Pings>(&torus, false).expect("estimates").inputs_per_node, 3.0);
    }
}
