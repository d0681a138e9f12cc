//! Running one node: the flags resolved into a [`Plan`], then the algorithm's node bound,
//! started (after a delay, or when the supervisor says so), fed its workload and console
//! commands, and its trace written when it stops.

use super::summary::{summarise, Summary};
use super::{console, load_cluster, parse_addr, NodeArgs};
use crate::usage;
use reparti_core::trace::{TraceHeader, TraceWriter, TRACE_VERSION};
use reparti_core::{Algorithm, AlgorithmSpec, AlgorithmVisitor, ClockMode, IdAssignment, Instance, Message, NodeId};
use reparti_core::{NodeSetup, TopologyKind};
use reparti_net::reliable::ReliableConfig;
use reparti_net::runtime::{
    run_node_blocking, run_node_on, Control, Input, Msg, NetError, NodeConfig, NodeReport, Show, VECTOR_LIMIT,
};
use reparti_net::transport::{Transport, TransportKind};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a node may hold an acknowledgement back so that one covers a burst: on a
/// ring passing tens of thousands of tokens a second, one in a dozen messages is then
/// acknowledged, and the retransmission timeout (50 ms) is far above it.
const ACK_DELAY: Duration = Duration::from_millis(2);

/// How often a supervised node looks at its status: rarely enough to cost nothing
/// (each look wakes the node), often enough that the end of a run is seen at once.
const STATUS_PERIOD: Duration = Duration::from_millis(10);
use tokio::sync::{mpsc, oneshot};

/// Everything a node needs to run, checked.
pub struct Plan {
    /// The number of nodes.
    pub n: usize,
    pub cfg: NodeConfig,
    pub listen: SocketAddr,
    pub params: Vec<(String, String)>,
    pub topology: Option<TopologyKind>,
    pub ids: IdAssignment,
    pub seed: u64,
    pub start_delay: Duration,
    /// Under `reparti run`: the address list comes on stdin.
    pub supervised: bool,
    pub trace_path: Option<PathBuf>,
    pub interactive: bool,
}

impl Plan {
    pub fn from_args(args: &NodeArgs, spec: AlgorithmSpec) -> anyhow::Result<Plan> {
        let cluster = load_cluster(args)?;
        let peers: Vec<String> = match &cluster {
            Some(c) => c.nodes.clone(),
            None => args.peers.clone(),
        };
        let (n, addrs) = if args.supervised {
            let n = args.nodes.unwrap_or(0);
            if n == 0 {
                return Err(usage("--nodes must be at least 1"));
            }
            (n, Vec::new())
        } else {
            if peers.is_empty() {
                return Err(usage(
                    "give every node's address with --peers A0,A1,... or --cluster FILE (or use the lab shape: reparti node token-ring 5001 5002 jeton)",
                ));
            }
            let addrs = peers.iter().map(|p| parse_addr(p, "--peers")).collect::<anyhow::Result<Vec<_>>>()?;
            (addrs.len(), addrs)
        };
        let listen = match &args.listen {
            Some(l) => Some(parse_addr(l, "--listen")?),
            None if args.supervised => Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            None => None,
        };
        let me = match (args.me, listen) {
            (Some(me), _) => me,
            (None, Some(l)) => addrs.iter().position(|a| *a == l).ok_or_else(|| {
                usage(format!("--listen {l} is not in the address list: give --me, this node's position"))
            })?,
            (None, None) => return Err(usage("give --me, this node's position in the address list (0-based)")),
        };
        if me >= n {
            return Err(usage(format!(
                "--me {me} is out of range: there are {n} nodes, so --me must be 0..{}",
                n.saturating_sub(1)
            )));
        }
        let listen = match listen {
            Some(l) => l,
            None => addrs[me],
        };
        let me_id = NodeId(u32::try_from(me).map_err(|_| usage(format!("--me {me} is too large")))?);
        let topology = match args.topology.as_ref().or(cluster.as_ref().and_then(|c| c.topology.as_ref())) {
            Some(t) => Some(t.parse::<TopologyKind>().map_err(|e| usage(e.to_string()))?),
            None => None,
        };
        let ids_text = args.ids.clone().or(cluster.as_ref().and_then(|c| c.ids.clone())).unwrap_or("random".into());
        let ids: IdAssignment = ids_text.parse().map_err(|e: reparti_core::idents::IdError| usage(e.to_string()))?;
        let seed = args.seed.or(cluster.as_ref().and_then(|c| c.seed)).unwrap_or(1);
        // The cluster file's parameters, overridden by the command line's.
        let mut params: BTreeMap<String, String> =
            cluster.as_ref().map(|c| c.param_pairs()).unwrap_or_default().into_iter().collect();
        for p in &args.param {
            let (k, v) = reparti_core::Params::parse_pair(p).map_err(|e| usage(e.to_string()))?;
            params.insert(k, v);
        }
        let transport_text =
            args.transport.clone().or(cluster.as_ref().and_then(|c| c.transport.clone())).unwrap_or("udp".into());
        let transport: TransportKind = transport_text.parse().map_err(|e| usage(format!("--transport: {e}")))?;
        let wire = args.link.wire()?;
        let key = args.link.key()?;
        // Each node draws its own fault pattern, repeatable from the run's seed.
        let fault_seed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(me as u64);
        let faults = args.link.faults(fault_seed)?;
        let reliable = args.link.reliable()?.then(|| ReliableConfig {
            fifo: spec.needs_fifo,
            ack_delay: ACK_DELAY,
            give_up_after: Some(args.give_up_after),
            ..ReliableConfig::default()
        });
        let interactive = !args.supervised && (args.interactive || std::io::stdin().is_terminal());
        let mut cfg = NodeConfig::new(me_id, addrs);
        cfg.transport = transport;
        cfg.faults = faults;
        cfg.wire = wire;
        cfg.key = key;
        cfg.reliable = reliable;
        cfg.idle_stop = Duration::from_millis(args.idle_ms);
        cfg.trace = args.trace.is_some();
        cfg.echo = interactive;
        // A supervised node is stopped by its supervisor, which sees the whole run.
        cfg.never_idle = interactive || args.supervised;
        Ok(Plan {
            n,
            cfg,
            listen,
            params: params.into_iter().collect(),
            topology,
            ids,
            seed,
            start_delay: Duration::from_millis(args.start_delay_ms),
            supervised: args.supervised,
            trace_path: args.trace.clone(),
            interactive,
        })
    }
}

impl AlgorithmVisitor for Plan {
    type Output = anyhow::Result<Summary>;
    fn visit<A: Algorithm>(mut self) -> anyhow::Result<Summary> {
        let n = self.n;
        let inst = Instance::<A>::new(&self.params, self.topology.as_ref(), n, &self.ids, self.seed)
            .map_err(|e| usage(e.to_string()))?;
        if inst.topology.len() != n {
            return Err(usage(format!(
                "the topology has {} nodes but the address list has {n}: give one address per node",
                inst.topology.len()
            )));
        }
        let me = self.cfg.me;
        let identity = inst.idents.get(me.index()).copied().ok_or_else(|| usage("--me has no identity"))?;
        let setup = NodeSetup { me, ident: identity, n };
        // Only this node's inputs: every node drew the same workload from the same seed.
        let mine: Vec<_> = inst.workload.iter().filter(|w| w.node == me).cloned().collect();
        // Over UDP the node waits in `recvfrom` itself on this thread (two system calls a
        // message instead of four), while one worker thread runs the tasks around it;
        // over TCP everything runs on this thread's event loop.
        let blocking = self.cfg.transport == TransportKind::Udp;
        let rt = if blocking {
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()
        } else {
            tokio::runtime::Builder::new_current_thread().enable_all().build()
        }
        .map_err(|e| anyhow::anyhow!("cannot start the tokio runtime: {e}"))?;
        let (transport, rx, addr, started_unix_ms) = rt.block_on(async {
            let transport = if blocking {
                Transport::bind_blocking_udp(self.listen, self.cfg.faults.clone()).await
            } else {
                Transport::bind(self.cfg.transport, self.listen, self.cfg.faults.clone()).await
            }
            .map_err(net_error)?;
            let local = transport.local_addr();
            if self.supervised {
                self.cfg.addrs = handshake(local, n).await?;
            } else {
                tokio::time::sleep(self.start_delay).await;
            }
            let (tx, rx) = mpsc::channel(256);
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
            if self.supervised {
                supervise::<A>(tx.clone(), pending_inputs);
            }
            if self.interactive {
                spawn_console::<A>(tx, self.cfg.addrs.clone());
            } else {
                drop(tx);
            }
            let started_unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3);
            let addr = self.cfg.addrs.get(me.index()).copied().unwrap_or(local);
            Ok::<_, anyhow::Error>((transport, rx, addr, started_unix_ms))
        })?;
        let cfg = self.cfg.clone();
        let report: NodeReport<A> = if blocking {
            run_node_blocking(transport, &inst.algorithm, setup, &inst.topology, cfg, rx, rt.handle())
        } else {
            rt.block_on(run_node_on(transport, &inst.algorithm, setup, &inst.topology, cfg, rx))
        }
        .map_err(net_error)?;
        if let Some(path) = &self.trace_path {
            let kind = self.topology.as_ref().map_or_else(|| inst.spec.topologies[0].to_string(), ToString::to_string);
            let header = TraceHeader {
                trace: "reparti".into(),
                version: TRACE_VERSION,
                engine: "node".into(),
                algorithm: inst.spec.name.into(),
                params: inst.params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                seed: self.seed,
                topology: kind,
                nodes: n,
                idents: inst.idents.clone(),
                network: serde_json::json!({
                    "transport": self.cfg.transport.to_string(),
                    "me": me.0,
                    "addr": addr,
                    "started_unix_ms": started_unix_ms,
                }),
                clocks: if n <= VECTOR_LIMIT { ClockMode::LamportAndVector } else { ClockMode::Lamport },
                message_types: Msg::<A>::KINDS.iter().map(|s| s.to_string()).collect(),
            };
            write_trace(path, &header, &report)?;
        }
        Ok(summarise(A::spec().name, n, identity, addr, started_unix_ms, &report))
    }
}

/// `READY ADDR` on stdout, then `PEERS A0,A1,...` from stdin.
async fn handshake(local: SocketAddr, n: usize) -> anyhow::Result<Vec<SocketAddr>> {
    println!("READY {local}");
    std::io::stdout().flush().ok();
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| anyhow::anyhow!("the handshake failed: {e}"))?
    .map_err(|e| anyhow::anyhow!("cannot read the peers from stdin: {e}"))?;
    let list = line.trim().strip_prefix("PEERS ").ok_or_else(|| {
        anyhow::anyhow!("expected `PEERS A0,A1,...` on stdin, got {:?} (--supervised is for reparti run)", line.trim())
    })?;
    let addrs = list.split(',').map(|a| super::parse_addr(a, "PEERS")).collect::<anyhow::Result<Vec<_>>>()?;
    if addrs.len() != n {
        anyhow::bail!("PEERS lists {} addresses for {n} nodes", addrs.len());
    }
    Ok(addrs)
}

/// Under `reparti run`, the supervisor decides when the run is over (it sees every
/// node): this node reports `STATUS IDLE SENT DELIVERED PENDING_INPUTS` on stdout each
/// time it changes, stops on `STOP`, and exits at once if stdin closes (the supervisor is
/// gone: no node outlives its run).
fn supervise<A: Algorithm>(tx: mpsc::Sender<Control<Input<A>>>, pending_inputs: Arc<AtomicUsize>) {
    let quit = tx.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        loop {
            line.clear();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(k) if k > 0 => {
                    if line.trim() == "STOP" {
                        let _ = quit.blocking_send(Control::Quit);
                    }
                }
                _ => std::process::exit(3),
            }
        }
    });
    tokio::spawn(async move {
        let mut last = String::new();
        loop {
            // Read before asking: an input counted as fed is then already queued ahead of
            // the question, so the answer includes its effects.
            let pending = pending_inputs.load(Ordering::SeqCst);
            let (reply, answer) = oneshot::channel();
            if tx.send(Control::Show(Show::Status, reply)).await.is_err() {
                return;
            }
            let Ok(status) = answer.await else { return };
            let status = format!("{status} {pending}");
            if status != last {
                println!("STATUS {status}");
                std::io::stdout().flush().ok();
                last = status;
            }
            tokio::time::sleep(STATUS_PERIOD).await;
        }
    });
}

/// Reads console commands from stdin on a thread of its own, turning them into controls.
fn spawn_console<A: Algorithm>(tx: mpsc::Sender<Control<Input<A>>>, addrs: Vec<SocketAddr>) {
    println!("console: type `help` for the commands");
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            match console::parse(&line, &addrs) {
                Ok(None) => {}
                Ok(Some(console::Command::Input(json))) => match serde_json::from_value::<Input<A>>(json) {
                    Ok(input) => {
                        if tx.blocking_send(Control::Input(input)).is_err() {
                            return;
                        }
                    }
                    Err(_) => println!("{} has no such command: type `help`", A::spec().name),
                },
                Ok(Some(console::Command::Show(what))) => {
                    let (reply, answer) = oneshot::channel();
                    if tx.blocking_send(Control::Show(show(what), reply)).is_err() {
                        return;
                    }
                    if let Ok(text) = answer.blocking_recv() {
                        println!("{text}");
                    }
                }
                Ok(Some(console::Command::Help)) => println!("{}", console::help()),
                Ok(Some(console::Command::Quit)) => break,
                Err(e) => println!("{e}"),
            }
        }
        let _ = tx.blocking_send(Control::Quit);
    });
}

fn show(what: console::Show) -> Show {
    match what {
        console::Show::Clock => Show::Clock,
        console::Show::Peers => Show::Peers,
        console::Show::State => Show::State,
    }
}

fn write_trace<A: Algorithm>(path: &PathBuf, header: &TraceHeader, report: &NodeReport<A>) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).map_err(|e| {
        usage(format!("cannot create the trace file {} ({e}): check the folder exists and is writable", path.display()))
    })?;
    let mut w = TraceWriter::new(std::io::BufWriter::new(file), header)?;
    for e in report.trace.iter().flatten() {
        w.event(e)?;
    }
    w.finish("quiescence", None)?;
    Ok(())
}

/// Binding and configuration errors are the caller's to fix (exit 2); a socket that
/// keeps failing mid-run is a runtime failure (exit 1).
fn net_error(e: NetError) -> anyhow::Error {
    match e {
        NetError::Bind { .. } | NetError::Config(_) => usage(e.to_string()),
        other => anyhow::Error::new(other),
    }
}
