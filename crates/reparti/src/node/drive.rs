//! `reparti node ALGO`: the flags (and a cluster file) resolved into the plan that
//! [`reparti_net::plan`] runs (which streams the trace to its file as the node runs),
//! and the console and the supervisor attached ([`super::attach`]).

use super::addr::parse_addr;
use super::args::NodeArgs;
use super::attach;
use super::cluster_file::ClusterFile;
use super::summary::{summarise, Summary};
use crate::error::usage;
use crate::resolve::{self, Setup, SetupFlags};
use reparti_core::{Algorithm, AlgorithmSpec, AlgorithmVisitor, NodeId};
use reparti_net::plan::{self, NodePlan, NodeSettings, PlanError, Ran, Start};
use reparti_net::transport::TransportKind;
use reparti_net::wire::RunId;
use reparti_net::NetError;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// A node to run, and what the command line does around it.
pub struct NodeRun {
    /// What reparti-net runs.
    pub plan: NodePlan,
    /// A console reads stdin.
    pub interactive: bool,
    /// Under `reparti run`: the supervisor's protocol on stdin and stdout.
    pub supervised: bool,
}

impl NodeRun {
    /// Resolves the flags, and the cluster file's settings under them.
    pub fn from_args(args: &NodeArgs, spec: AlgorithmSpec) -> anyhow::Result<NodeRun> {
        let cluster = args.cluster.as_deref().map(ClusterFile::load).transpose()?;
        let peers: &[String] = match &cluster {
            Some(c) => &c.nodes,
            None => &args.peers,
        };
        let (n, addrs) = if args.supervised {
            let n = resolve::nodes(Some(args.nodes.unwrap_or(0)))?.unwrap_or(0);
            (n, Vec::new())
        } else {
            if peers.is_empty() {
                return Err(usage(
                    "give every node's address with --peers A0,A1,... or --cluster FILE (or use the lab shape: reparti node token-ring LOCAL_PORT PREV_PORT jeton)",
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
        let me = NodeId(u32::try_from(me).map_err(|_| usage(format!("--me {me} is too large")))?);
        // The command line wins over the cluster file, flag by flag.
        let file = cluster.as_ref();
        let setup = Setup::for_spec(
            spec,
            SetupFlags {
                topology: args.topology.as_deref().or(file.and_then(|c| c.topology.as_deref())),
                ids: args.ids.as_deref().or(file.and_then(|c| c.ids.as_deref())).unwrap_or("random"),
                params: &args.param,
                file_params: file.map(ClusterFile::param_pairs).unwrap_or_default(),
                nodes: Some(n),
                seed: args.seed.or(file.and_then(|c| c.seed)).unwrap_or(1),
            },
        )?;
        let transport = args.transport.as_deref().or(file.and_then(|c| c.transport.as_deref())).unwrap_or("udp");
        let transport: TransportKind = transport.parse().map_err(|e| usage(format!("--transport: {e}")))?;
        let run_id = args
            .run_id
            .as_deref()
            .or(file.and_then(|c| c.run_id.as_deref()))
            .map(|r| RunId::new(r).map_err(|e| usage(format!("--run-id {r:?}: {e}"))))
            .transpose()?;
        if let Some(path) = &args.trace {
            // Created now, so that a bad path is said before anything binds; the node
            // writes it from its start.
            check_trace_path(path)?;
        }
        let interactive = !args.supervised && (args.interactive || std::io::stdin().is_terminal());
        let start = if args.supervised {
            Start::WhenTold(Box::new(move |local| attach::handshake(local, n)))
        } else {
            Start::After(Duration::from_millis(args.start_delay_ms))
        };
        let settings = NodeSettings {
            me,
            n,
            addrs,
            listen,
            params: setup.params,
            topology: setup.topology,
            ids: setup.ids,
            seed: setup.seed,
            transport,
            wire: args.link.wire()?,
            key: args.link.key()?,
            // The plan gives each node its own fault seed, drawn from the run's.
            faults: args.link.faults(setup.seed)?,
            reliable: args.link.reliable()?.then_some(args.give_up_after),
            idle_stop: Duration::from_millis(args.idle_ms),
            // Streamed to the file by the plan, not kept in memory.
            trace: false,
            interactive,
            start,
        };
        crate::clock_flags::refuse_unread(&args.clocks, setup.spec.reads_physical_clock, setup.spec.name)?;
        let mut plan = NodePlan::new(&setup.spec, settings);
        if setup.spec.reads_physical_clock {
            // Every node draws every clock alike from the seed: its own to run with, the
            // others for its trace's header, so that the merged run replays with all.
            plan.cfg.physical_clocks = args.clocks.config()?.settings(n, setup.seed).map_err(usage)?;
            if let Some(epoch) = args.clock_epoch {
                if !epoch.is_finite() {
                    return Err(usage(format!("--clock-epoch {epoch} must be a time in ms since 1970")));
                }
            }
            plan.cfg.clock_epoch_unix_ms = args.clock_epoch;
        }
        plan.trace_file = args.trace.clone();
        plan.cfg.run_id = run_id;
        Ok(NodeRun { plan, interactive, supervised: args.supervised })
    }
}

fn check_trace_path(path: &Path) -> anyhow::Result<()> {
    std::fs::File::create(path).map(drop).map_err(|e| {
        usage(format!("cannot create the trace file {} ({e}): check the folder exists and is writable", path.display()))
    })
}

/// Said once, when the node starts: without a key anyone who reaches the port reads
/// everything, and can forge messages from any address a peer sends from.
const PLAINTEXT_NOTICE: &str = "note: this node runs without --key-file: its messages are neither encrypted nor authenticated (datagrams from unregistered addresses are dropped, but a forger who can send from a peer's address is believed); give every node the same --key-file (`reparti keygen -o lab.key`) to fix that";

impl AlgorithmVisitor for NodeRun {
    type Output = anyhow::Result<Summary>;
    fn visit<A: Algorithm>(self) -> anyhow::Result<Summary> {
        let NodeRun { plan, interactive, supervised } = self;
        let (n, keyed) = (plan.n, plan.cfg.key.is_some());
        let ran: Ran<A> = plan::run(plan, |controls| {
            // Bound and about to start: past every mistake that is said in one line.
            if !keyed {
                eprintln!("{PLAINTEXT_NOTICE}");
            }
            attach::attach(controls, supervised, interactive)
        })
        .map_err(plan_error)?;
        Ok(summarise(A::spec().name, n, ran.identity, ran.addr, ran.started_unix_ms, keyed, &ran.report))
    }
}

/// A plan that does not fit, or an address that cannot be bound, is the caller's to fix
/// (exit 2); a socket that keeps failing mid-run, or a start that fails, is a runtime
/// failure (exit 1).
fn plan_error(e: PlanError) -> anyhow::Error {
    match e {
        PlanError::Setup(msg) => usage(msg),
        PlanError::Net(NetError::Bind { .. } | NetError::Config(_)) => usage(e.to_string()),
        PlanError::Net(other) => anyhow::Error::new(other),
        PlanError::Start(msg) => anyhow::anyhow!(msg),
    }
}
