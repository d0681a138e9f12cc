//! `reparti node`: one node of an algorithm as its own OS process, talking UDP.
//!
//! Every node of a cluster is started with the same algorithm, peers list, topology,
//! identities, parameters and seed, so [`Instance::new`] gives each the same identities
//! and workload without any exchange: a node only keeps its own identity and applies its
//! own share of the workload, at the scheduled times (in ms since it started). It runs
//! until it has been idle for `--idle-ms`, then prints a summary (or `--json`).
//!
//! Separate processes do not start at the same instant, and a datagram sent to a port
//! nobody has bound yet is lost; so the node binds its socket first and waits
//! `--start-delay-ms` before running the algorithm, while the socket queues whatever the
//! faster peers already send.
//!
//! Not here yet (issue 4 §2): `--listen`/`--cluster FILE`, the labs' positional shapes,
//! registry-based meshes and the interactive console.

mod console;
mod lab;

use crate::sim::find_algorithm;
use crate::usage;
use clap::Args;
use reparti_core::{
    Algorithm, AlgorithmVisitor, IdAssignment, Instance, Message, NodeId, NodeSetup, OutputValue, Params, TopologyKind,
};
use reparti_net::runtime::{bind, run_node_on, Msg, NetError, NodeConfig, NodeReport};
use reparti_net::secure::Key;
use reparti_net::wire::Wire;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// The algorithm to run (see `reparti list`); every node of the cluster runs the same.
    pub algorithm: String,

    /// This node's position in --peers (0-based).
    #[arg(long)]
    pub me: usize,

    /// Every node's UDP address, in position order, this node's own included (at --me),
    /// e.g. 127.0.0.1:5000,127.0.0.1:5001,127.0.0.1:5002. Their number is n.
    #[arg(long, value_name = "ADDR,ADDR,...", value_delimiter = ',', required = true)]
    pub peers: Vec<String>,

    /// Topology [default: the algorithm's first accepted one]; the same on every node.
    #[arg(short, long)]
    pub topology: Option<String>,

    /// Identity assignment: random (seeded), asc, desc or a list 3,1,2; the same on every node.
    #[arg(long, default_value = "random")]
    pub ids: String,

    /// Seed of identities and workload: give every node the same one, so they agree.
    #[arg(short, long, default_value_t = 1)]
    pub seed: u64,

    /// An algorithm parameter, e.g. --param initiators=0. Repeatable.
    #[arg(short, long, value_name = "K=V")]
    pub param: Vec<String>,

    /// Encoding of the datagrams this node sends: json (what Python speaks) or binary.
    #[arg(long, default_value = "json")]
    pub wire: String,

    /// Encrypt and authenticate every datagram with this Fernet key (`reparti keygen -o F`).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// Stop after this many milliseconds with nothing received and no timer pending.
    #[arg(long, default_value_t = 1000)]
    pub idle_ms: u64,

    /// Wait this many milliseconds between binding the port and starting the algorithm,
    /// so that the other nodes' processes have bound theirs before the first messages.
    #[arg(long, default_value_t = 500)]
    pub start_delay_ms: u64,

    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// What the node did, as printed.
#[derive(Serialize)]
struct Summary {
    algorithm: &'static str,
    me: u32,
    n: usize,
    identity: u64,
    addr: SocketAddr,
    /// Outputs in order, as `{key, value}`.
    outputs: Vec<OutputEntry>,
    sent: BTreeMap<&'static str, u64>,
    received: BTreeMap<&'static str, u64>,
    dropped: BTreeMap<&'static str, u64>,
    send_errors: u64,
    lamport: u64,
    vector: Option<Vec<u64>>,
    /// The node's final state, as the algorithm serialises it.
    state: serde_json::Value,
}

#[derive(Serialize)]
struct OutputEntry {
    key: &'static str,
    value: serde_json::Value,
}

pub fn run(args: &NodeArgs) -> anyhow::Result<ExitCode> {
    let spec = find_algorithm(&args.algorithm)?;
    let addrs = args.peers.iter().map(|p| parse_addr(p)).collect::<anyhow::Result<Vec<_>>>()?;
    let n = addrs.len();
    if args.me >= n {
        return Err(usage(format!(
            "--me {} is out of range: --peers lists {n} nodes, so --me must be 0..{}",
            args.me,
            n.saturating_sub(1)
        )));
    }
    let me = u32::try_from(args.me).map_err(|_| usage(format!("--me {} is too large", args.me)))?;
    let topology = match &args.topology {
        Some(t) => Some(t.parse::<TopologyKind>().map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    let ids: IdAssignment = args.ids.parse().map_err(|e: reparti_core::idents::IdError| usage(e.to_string()))?;
    let params = args
        .param
        .iter()
        .map(|p| Params::parse_pair(p).map_err(|e| usage(e.to_string())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let wire: Wire = args.wire.parse().map_err(|e: String| usage(format!("--wire: {e}")))?;
    let key = match &args.key_file {
        Some(path) => Some(Key::from_file(path).map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    let mut cfg = NodeConfig::new(NodeId(me), addrs);
    cfg.wire = wire;
    cfg.key = key;
    cfg.idle_stop = Duration::from_millis(args.idle_ms);
    let job = NodeRun {
        cfg,
        params,
        topology,
        ids,
        seed: args.seed,
        start_delay: Duration::from_millis(args.start_delay_ms),
    };
    let summary = reparti_algos::visit(spec.name, job)
        .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{}'", args.algorithm))))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", render(&summary));
    }
    Ok(ExitCode::SUCCESS)
}

/// `HOST:PORT`, an IP literal or a resolvable name; the first address it resolves to.
fn parse_addr(text: &str) -> anyhow::Result<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = |why: String| {
        usage(format!("--peers: '{text}' is not a UDP address ({why}); write HOST:PORT, e.g. 127.0.0.1:5000"))
    };
    text.to_socket_addrs().map_err(|e| bad(e.to_string()))?.next().ok_or_else(|| bad("it resolves to nothing".into()))
}

struct NodeRun {
    cfg: NodeConfig,
    params: Vec<(String, String)>,
    topology: Option<TopologyKind>,
    ids: IdAssignment,
    seed: u64,
    start_delay: Duration,
}

impl AlgorithmVisitor for NodeRun {
    type Output = anyhow::Result<Summary>;
    fn visit<A: Algorithm>(self) -> anyhow::Result<Summary> {
        let n = self.cfg.addrs.len();
        let inst = Instance::<A>::new(&self.params, self.topology.as_ref(), n, &self.ids, self.seed)
            .map_err(|e| usage(e.to_string()))?;
        if inst.topology.len() != n {
            return Err(usage(format!(
                "the topology has {} nodes but --peers lists {n}: give one address per node",
                inst.topology.len()
            )));
        }
        let me = self.cfg.me;
        let identity = inst.idents.get(me.index()).copied().ok_or_else(|| usage("--me has no identity"))?;
        let setup = NodeSetup { me, ident: identity, n };
        let addr = self.cfg.addrs[me.index()];
        // Only this node's inputs: every node drew the same workload from the same seed.
        let mine: Vec<_> = inst.workload.into_iter().filter(|w| w.node == me).collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow::anyhow!("cannot start the tokio runtime: {e}"))?;
        let report: NodeReport<A> = rt.block_on(async {
            let socket = bind(addr).await.map_err(net_error)?;
            tokio::time::sleep(self.start_delay).await;
            let (tx, rx) = mpsc::channel(mine.len().max(1));
            let started = tokio::time::Instant::now();
            // Fed from a task, so that an input scheduled at t waits for t without holding
            // up the node; the task ends (closing the channel) once every input is in, and
            // the runtime drops it if the node stops first.
            tokio::spawn(async move {
                for w in mine {
                    let at = Duration::try_from_secs_f64(w.at.max(0.0) / 1000.0).unwrap_or(Duration::ZERO);
                    tokio::time::sleep_until(started + at).await;
                    if tx.send(w.input).await.is_err() {
                        break;
                    }
                }
            });
            run_node_on(socket, &inst.algorithm, setup, &inst.topology, self.cfg, rx).await.map_err(net_error)
        })?;
        Ok(summarise(A::spec().name, n, identity, addr, report))
    }
}

/// Binding and configuration errors are the caller's to fix (exit 2); a socket that
/// keeps failing mid-run is a runtime failure (exit 1).
fn net_error(e: NetError) -> anyhow::Error {
    match e {
        NetError::Bind { .. } | NetError::Config(_) => usage(e.to_string()),
        other => anyhow::Error::new(other),
    }
}

fn summarise<A: Algorithm>(
    algorithm: &'static str,
    n: usize,
    identity: u64,
    addr: SocketAddr,
    r: NodeReport<A>,
) -> Summary {
    let by_kind = |counts: &[u64]| -> BTreeMap<&'static str, u64> {
        Msg::<A>::KINDS.iter().zip(counts).map(|(k, c)| (*k, *c)).collect()
    };
    let outputs = r
        .outputs
        .iter()
        .map(|(key, v)| OutputEntry {
            key,
            value: match v {
                OutputValue::Int(i) => serde_json::Value::from(*i),
                OutputValue::Text(s) => serde_json::Value::from(s.as_str()),
            },
        })
        .collect();
    let dropped = BTreeMap::from([
        ("crypto", r.dropped.crypto),
        ("wire", r.dropped.wire),
        ("unknown_sender", r.dropped.unknown_sender),
        ("wrong_destination", r.dropped.wrong_destination),
    ]);
    Summary {
        algorithm,
        me: r.me.0,
        n,
        identity,
        addr,
        outputs,
        sent: by_kind(&r.sent_by_type),
        received: by_kind(&r.received_by_type),
        dropped,
        send_errors: r.send_errors,
        lamport: r.lamport,
        vector: r.vector,
        state: serde_json::to_value(&r.node).unwrap_or(serde_json::Value::Null),
    }
}

fn render(s: &Summary) -> String {
    use std::fmt::Write;
    let counts = |m: &BTreeMap<&str, u64>| {
        let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v}")).collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "{} node {} of {} (identity {}) on {}", s.algorithm, s.me, s.n, s.identity, s.addr);
    for o in &s.outputs {
        // Text without its JSON quotes: `leader = 5`, `token = held`.
        match o.value.as_str() {
            Some(text) => writeln!(out, "{} = {text}", o.key),
            None => writeln!(out, "{} = {}", o.key, o.value),
        }
        .ok();
    }
    let _ = writeln!(out, "sent: {}", counts(&s.sent));
    let _ = writeln!(out, "received: {}", counts(&s.received));
    let drops: BTreeMap<&str, u64> = s.dropped.iter().filter(|(_, v)| **v > 0).map(|(k, v)| (*k, *v)).collect();
    let _ = writeln!(out, "dropped: {}", counts(&drops));
    if s.send_errors > 0 {
        let _ = writeln!(out, "send errors: {}", s.send_errors);
    }
    let _ = writeln!(out, "lamport clock: {}", s.lamport);
    out
}
