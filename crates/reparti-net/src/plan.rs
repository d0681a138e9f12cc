//! One real node, from a checked plan to its report: everything `reparti node` does
//! between reading its flags and printing what happened.
//!
//! A [`NodePlan`] is made from [`NodeSettings`] — what the command line (or a cluster
//! file) resolved — and the algorithm's declaration (the reliable layer delivers in FIFO
//! order when the algorithm needs it). [`run`] then:
//!
//! 1. builds the algorithm's instance exactly as every engine does, so that every node
//!    of a cluster, given the same parameters, topology, identities and seed, draws the
//!    same identities and workload without exchanging anything;
//! 2. binds the transport and waits for the start: a fixed delay (so that the other
//!    processes have bound their ports before the first messages), or a supervisor's
//!    address list ([`Start::WhenTold`]);
//! 3. queues this node's share of the workload — the inputs due at the start before any
//!    datagram, as the simulator applies them at time 0, the later ones at their time in
//!    milliseconds since the start — and hands the caller the control channel (a console,
//!    a supervisor's questions);
//! 4. runs the node until it stops, streaming its trace to [`NodePlan::trace_file`] as it
//!    goes (the header written at the start, when what it says is known), and returns
//!    its report with what a summary of it needs ([`Ran`]).
//!
//! What stays with the caller is its own input and output: reading a console or a
//! supervisor's lines, printing.

use crate::error::NetError;
use crate::reliable::ReliableConfig;
use crate::runtime::{run_node_blocking, run_node_on, Control, Input, NodeConfig, NodeReport, TraceFile, VECTOR_LIMIT};
use crate::secure::Key;
use crate::transport::{Faults, Transport, TransportKind};
use crate::wire::Wire;
use reparti_core::trace::{RunDescription, TraceHeader};
use reparti_core::{Algorithm, AlgorithmSpec, ClockMode, IdAssignment, Instance, NodeId, NodeSetup, TopologyKind};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// How long a node may hold an acknowledgement back so that one covers a burst: on a
/// ring passing tens of thousands of tokens a second, one in a dozen messages is then
/// acknowledged, and the retransmission timeout (50 ms at first, never under 10 ms once
/// round trips are measured) is well above it. A message out of order is acknowledged
/// at once.
pub const ACK_DELAY: Duration = Duration::from_millis(2);

/// How many controls (inputs, questions) may wait for the node before a sender waits.
const CONTROL_QUEUE: usize = 256;

/// How the node learns the others' addresses and when it starts.
pub enum Start {
    /// The addresses are known: wait this long after binding, so that the other nodes'
    /// processes have bound theirs before the first messages.
    After(Duration),
    /// Once bound, ask for every node's address, by position (a supervisor hands them
    /// out once every node has bound): the function gets this node's bound address and
    /// runs on a thread of its own, since it may wait on a pipe.
    WhenTold(AskAddresses),
}

/// The question [`Start::WhenTold`] asks: this node's bound address in, every node's
/// address out.
pub type AskAddresses = Box<dyn FnOnce(SocketAddr) -> Result<Vec<SocketAddr>, PlanError> + Send>;

/// What the command line resolved for one node: its place in the cluster, the instance
/// every node builds alike, and how its messages travel.
pub struct NodeSettings {
    /// This node's position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: usize,
    /// Every node's address, by position (empty until a supervisor gives them).
    pub addrs: Vec<SocketAddr>,
    /// The address to bind.
    pub listen: SocketAddr,
    /// The algorithm's parameters, as `K=V` pairs (a later pair overrides an earlier one).
    pub params: Vec<(String, String)>,
    /// The topology (`None`: the algorithm's first accepted one).
    pub topology: Option<TopologyKind>,
    /// How identities are assigned.
    pub ids: IdAssignment,
    /// The seed of identities, workload and this node's injected faults.
    pub seed: u64,
    /// UDP or TCP.
    pub transport: TransportKind,
    /// The encoding of what this node sends.
    pub wire: Wire,
    /// Seal and open every datagram with this key.
    pub key: Option<Key>,
    /// Faults injected into what this node sends (their seed is drawn from `seed` and
    /// the position, see [`fault_seed`]).
    pub faults: Faults,
    /// The reliable layer, giving a message up after this many retransmissions without
    /// progress; `None`: raw datagrams.
    pub reliable: Option<u32>,
    /// Stop after this long with nothing received, no timer pending and nothing
    /// unacknowledged.
    pub idle_stop: Duration,
    /// Collect trace events into the report.
    pub trace: bool,
    /// A person types at this node: print what it receives, and never stop for idleness.
    pub interactive: bool,
    /// When and how it starts.
    pub start: Start,
}

/// Everything a node needs to run, checked.
pub struct NodePlan {
    /// The number of nodes.
    pub n: usize,
    /// How the runtime drives the node (callers may adjust it, as the labs' rings do).
    pub cfg: NodeConfig,
    /// The address to bind.
    pub listen: SocketAddr,
    /// The algorithm's parameters, as `K=V` pairs.
    pub params: Vec<(String, String)>,
    /// The topology (`None`: the algorithm's first accepted one).
    pub topology: Option<TopologyKind>,
    /// How identities are assigned.
    pub ids: IdAssignment,
    /// The seed of identities and workload.
    pub seed: u64,
    /// When and how it starts.
    pub start: Start,
    /// This node's own identity, instead of the one `ids` assigns it: a lab node that
    /// draws its identity itself (TP7) knows no one else's.
    pub own_ident: Option<u64>,
    /// Stream the node's trace to this file (`docs/TRACE.md`, engine `node`), as it runs.
    pub trace_file: Option<PathBuf>,
}

/// Each node draws its own fault pattern, repeatable from the run's seed: two nodes
/// given the same faults do not drop the same messages.
pub fn fault_seed(seed: u64, me: NodeId) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(u64::from(me.0))
}

impl NodePlan {
    /// The plan for `spec`'s node: the runtime's configuration made from `s`.
    pub fn new(spec: &AlgorithmSpec, s: NodeSettings) -> NodePlan {
        let supervised = matches!(s.start, Start::WhenTold(_));
        let mut cfg = NodeConfig::new(s.me, s.addrs);
        cfg.transport = s.transport;
        cfg.faults = Faults { seed: fault_seed(s.seed, s.me), ..s.faults };
        cfg.wire = s.wire;
        cfg.key = s.key;
        cfg.reliable = s.reliable.map(|give_up_after| ReliableConfig {
            fifo: spec.needs_fifo,
            ack_delay: ACK_DELAY,
            give_up_after: Some(give_up_after),
            ..ReliableConfig::default()
        });
        cfg.idle_stop = s.idle_stop;
        cfg.trace = s.trace;
        cfg.echo = s.interactive;
        // A console's node stops when told; a supervised one is stopped by its
        // supervisor, which sees the whole run.
        cfg.never_idle = s.interactive || supervised;
        NodePlan {
            n: s.n,
            cfg,
            listen: s.listen,
            params: s.params,
            topology: s.topology,
            ids: s.ids,
            seed: s.seed,
            start: s.start,
            own_ident: None,
            trace_file: None,
        }
    }
}

/// A node trace's header: the run as the node sees it, and, under `network`, what
/// `reparti merge` needs to line the nodes up (its position, address and start time),
/// and the run's identity (`null` without one).
fn node_header<A: Algorithm>(
    instance: &Instance<A>,
    seed: u64,
    cfg: &NodeConfig,
    addr: SocketAddr,
    started_unix_ms: f64,
) -> TraceHeader {
    let mut header = TraceHeader::describe::<A>(RunDescription {
        engine: "node",
        params: &instance.params,
        seed,
        topology: &instance.topology,
        idents: &instance.idents,
        network: serde_json::json!({
            "transport": cfg.transport.to_string(),
            "me": cfg.me.0,
            "addr": addr,
            "started_unix_ms": started_unix_ms,
            "run_id": cfg.run_id.as_ref().map(ToString::to_string),
        }),
        clocks: if instance.topology.len() <= VECTOR_LIMIT { ClockMode::LamportAndVector } else { ClockMode::Lamport },
    });
    if A::spec().reads_physical_clock {
        header.physical_clocks = cfg.physical_clocks.clone();
    }
    header
}

/// Why a plan could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The plan does not make an instance (a parameter, the topology, the identities,
    /// the number of addresses): the caller's to fix.
    #[error("{0}")]
    Setup(String),
    /// Binding, configuring or running the node failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// What starts the node failed: the async runtime, or learning the addresses.
    #[error("{0}")]
    Start(String),
}

/// What the caller may attach to a node about to start.
pub struct Controls<A: Algorithm> {
    /// Sends the node inputs and questions; dropping it leaves the node to its workload.
    pub sender: mpsc::Sender<Control<Input<A>>>,
    /// This node's workload inputs not yet handed to it (a run is not over while some
    /// are still due).
    pub pending_inputs: Arc<AtomicUsize>,
    /// Every node's address, by position.
    pub addrs: Vec<SocketAddr>,
}

/// A node that ran: its report, and what a summary or a trace of it needs.
pub struct Ran<A: Algorithm> {
    /// What the runtime reports.
    pub report: NodeReport<A>,
    /// The instance every node built alike (its spec, parameters, identities).
    pub instance: Instance<A>,
    /// This node's identity.
    pub identity: u64,
    /// The address the others reach this node at.
    pub addr: SocketAddr,
    /// When the algorithm started, in ms since the Unix epoch.
    pub started_unix_ms: f64,
}

/// Runs the plan's node to its end; `attach` is called inside the async runtime (it
/// may spawn tasks) just before the node starts, with its control channel.
pub fn run<A: Algorithm>(plan: NodePlan, attach: impl FnOnce(Controls<A>)) -> Result<Ran<A>, PlanError> {
    let NodePlan { n, mut cfg, listen, params, topology, ids, seed, start, own_ident, trace_file } = plan;
    let instance =
        Instance::<A>::new(&params, topology.as_ref(), n, &ids, seed).map_err(|e| PlanError::Setup(e.to_string()))?;
    if instance.topology.len() != n {
        return Err(PlanError::Setup(format!(
            "the topology has {} nodes but the address list has {n}: give one address per node",
            instance.topology.len()
        )));
    }
    let me = cfg.me;
    let assigned = instance.idents.get(me.index()).copied();
    let identity =
        own_ident.or(assigned).ok_or_else(|| PlanError::Setup(format!("node {me} has no identity among {n} nodes")))?;
    // Only this node's inputs: every node drew the same workload from the same seed.
    let mine: Vec<_> = instance.workload.iter().filter(|w| w.node == me).cloned().collect();
    // Over UDP the node waits in `recvfrom` itself on this thread (two system calls a
    // message instead of four), while one worker thread runs the tasks around it; over
    // TCP everything runs on this thread's event loop.
    let blocking = cfg.transport == TransportKind::Udp;
    let rt = if blocking {
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    }
    .map_err(|e| PlanError::Start(format!("cannot start the tokio runtime: {e}")))?;
    let (transport, rx, addr, started_unix_ms) = rt.block_on(async {
        let transport = if blocking {
            Transport::bind_blocking_udp(listen, cfg.faults.clone()).await
        } else {
            Transport::bind(cfg.transport, listen, cfg.faults.clone()).await
        }?;
        let local = transport.local_addr();
        match start {
            Start::After(delay) => tokio::time::sleep(delay).await,
            Start::WhenTold(ask) => {
                cfg.addrs = tokio::task::spawn_blocking(move || ask(local))
                    .await
                    .map_err(|e| PlanError::Start(format!("the handshake failed: {e}")))??;
            }
        }
        let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
        let started = tokio::time::Instant::now();
        let feeder = tx.clone();
        let pending_inputs = Arc::new(AtomicUsize::new(mine.len()));
        let pending = Arc::clone(&pending_inputs);
        // Inputs due at the start are queued before the node starts, so that it applies
        // them before any datagram (as the simulator does at time 0), as many as the
        // channel holds; the rest are fed from a task, so that an input scheduled at t
        // waits for t without holding up the node (the runtime drops the task if the
        // node stops first).
        let mut later = Vec::new();
        for w in mine {
            // `Input` is Clone (every state type is): a full channel keeps the rest.
            if later.is_empty() && w.at <= 0.0 && tx.try_send(Control::Input(w.input.clone())).is_ok() {
                pending.fetch_sub(1, Ordering::SeqCst);
            } else {
                later.push(w);
            }
        }
        tokio::spawn(async move {
            for w in later {
                let at = Duration::try_from_secs_f64(w.at.max(0.0) / 1000.0).unwrap_or(Duration::ZERO);
                tokio::time::sleep_until(started + at).await;
                if feeder.send(Control::Input(w.input)).await.is_err() {
                    break;
                }
                pending.fetch_sub(1, Ordering::SeqCst);
            }
        });
        attach(Controls { sender: tx, pending_inputs, addrs: cfg.addrs.clone() });
        let started_unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3);
        let addr = cfg.addrs.get(me.index()).copied().unwrap_or(local);
        Ok::<_, PlanError>((transport, rx, addr, started_unix_ms))
    })?;
    if let Some(path) = trace_file {
        let header = node_header(&instance, seed, &cfg, addr, started_unix_ms);
        cfg.trace_file = Some(TraceFile { path, header });
    }
    // The port the others reach this node at: what a lab protocol calls "my port".
    let setup = NodeSetup::new(me, identity, n).on_port(addr.port());
    let report = if blocking {
        run_node_blocking(transport, &instance.algorithm, setup, &instance.topology, cfg, rx, rt.handle())
    } else {
        rt.block_on(run_node_on(transport, &instance.algorithm, setup, &instance.topology, cfg, rx))
    }?;
    Ok(Ran { report, instance, identity, addr, started_unix_ms })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reparti_algos::election::ChangRoberts;
    use reparti_core::OutputValue;
    use std::sync::mpsc as std_mpsc;

    fn settings(me: u32, n: usize, start: Start) -> NodeSettings {
        NodeSettings {
            me: NodeId(me),
            n,
            addrs: Vec::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            params: Vec::new(),
            topology: None,
            ids: IdAssignment::Asc,
            seed: 7,
            transport: TransportKind::Udp,
            wire: Wire::Json,
            key: None,
            faults: Faults::default(),
            reliable: Some(12),
            idle_stop: Duration::from_millis(300),
            trace: false,
            interactive: false,
            start,
        }
    }

    #[test]
    fn the_plan_follows_the_declaration_and_the_settings() {
        let spec = ChangRoberts::spec();
        let fifo = AlgorithmSpec { needs_fifo: true, ..spec };
        let plan = NodePlan::new(&fifo, settings(1, 3, Start::After(Duration::ZERO)));
        let reliable = plan.cfg.reliable.expect("on");
        assert!(reliable.fifo, "an algorithm that needs FIFO channels gets them from the reliable layer");
        assert_eq!((reliable.ack_delay, reliable.give_up_after), (ACK_DELAY, Some(12)));
        assert_eq!(plan.cfg.faults.seed, fault_seed(7, NodeId(1)));
        assert!(!plan.cfg.never_idle, "a node on its own stops when idle");
        let unordered = AlgorithmSpec { needs_fifo: false, ..spec };
        let plan = NodePlan::new(&unordered, settings(0, 3, Start::WhenTold(Box::new(|_| Ok(Vec::new())))));
        assert!(!plan.cfg.reliable.expect("on").fifo);
        assert!(plan.cfg.never_idle, "a supervised node is stopped by its supervisor");
        assert_ne!(fault_seed(7, NodeId(0)), fault_seed(7, NodeId(1)), "each node its own fault pattern");
    }

    #[test]
    fn a_plan_that_makes_no_instance_is_the_callers_to_fix() {
        let mut s = settings(0, 2, Start::After(Duration::ZERO));
        s.params = vec![("nonsense".into(), "1".into())];
        let e = run::<ChangRoberts>(NodePlan::new(&ChangRoberts::spec(), s), drop).err().expect("refused");
        assert!(matches!(&e, PlanError::Setup(m) if m.contains("nonsense")), "{e}");
    }

    /// Two nodes, each told the other's address once both are bound (as a supervisor
    /// does), elect the larger identity.
    #[test]
    fn two_planned_nodes_elect_a_leader() {
        let (bound_tx, bound_rx) = std_mpsc::channel::<(u32, SocketAddr)>();
        let mut lists = Vec::new();
        let mut nodes = Vec::new();
        for me in 0..2u32 {
            let (list_tx, list_rx) = std_mpsc::channel::<Vec<SocketAddr>>();
            lists.push(list_tx);
            let bound = bound_tx.clone();
            let ask: AskAddresses = Box::new(move |local| {
                bound.send((me, local)).map_err(|e| PlanError::Start(e.to_string()))?;
                list_rx.recv().map_err(|e| PlanError::Start(e.to_string()))
            });
            let plan = NodePlan::new(&ChangRoberts::spec(), settings(me, 2, Start::WhenTold(ask)));
            nodes.push(std::thread::spawn(move || {
                // The supervisor's part is played by the test: the node stops when idle.
                let mut plan = plan;
                plan.cfg.never_idle = false;
                run::<ChangRoberts>(plan, drop)
            }));
        }
        let mut addrs = vec![SocketAddr::from(([127, 0, 0, 1], 0)); 2];
        for _ in 0..2 {
            let (me, addr) = bound_rx.recv().expect("each node binds");
            addrs[me as usize] = addr;
        }
        for list in &lists {
            list.send(addrs.clone()).expect("the node waits for its list");
        }
        for (i, node) in nodes.into_iter().enumerate() {
            let ran = node.join().expect("no panic").expect("the node runs");
            assert_eq!(ran.addr, addrs[i], "a node is known by the address the others reach");
            assert_eq!(ran.identity, i as u64 + 1, "ascending identities");
            let leader = ran.report.outputs.iter().find(|(k, _)| *k == "leader").map(|(_, v)| v.clone());
            assert_eq!(leader, Some(OutputValue::Int(2)), "node {i}");
        }
    }
}
