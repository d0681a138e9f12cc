//! `reparti node`: one node of an algorithm as its own OS process, over UDP or TCP.
//!
//! Every node of a cluster is started with the same algorithm, address list, topology,
//! identities, parameters and seed — on the command line (`--peers`) or from one shared
//! file (`--cluster`) — so [`Instance::new`](reparti_core::Instance::new) gives each the
//! same identities and workload without any exchange: a node only keeps its own identity
//! and applies its own share of the workload, at the scheduled times (in ms since it
//! started). It runs until it has been idle for `--idle-ms` (with the reliable layer:
//! and everything it sent acknowledged), then prints a summary (or `--json`).
//!
//! Separate processes do not start at the same instant; a node binds first and waits
//! `--start-delay-ms` before running the algorithm, while the kernel queues whatever the
//! faster peers already send. Under `reparti run` (`--supervised`) there is no guessing:
//! the node announces its bound address and starts when told ([`crate::run`]).
//!
//! The labs' shapes are kept: `reparti node token-ring 5001 5002 jeton` is TP3's
//! `node.py port_local port_next [jeton]` ([`lab`]), and `reparti node mesh 5001` is
//! TP4's mesh with its `BDD.txt` registry. With `--interactive` (or a terminal on stdin)
//! a console drives the node ([`console`]).

mod cluster_file;
mod console;
mod drive;
mod lab;
mod lab_ring;
pub mod link;
mod summary;

use crate::sim::find_algorithm;
use crate::usage;
use clap::{Args, Subcommand};
use cluster_file::ClusterFile;
use link::LinkFlags;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct NodeArgs {
    #[command(subcommand)]
    pub lab: Option<LabShape>,

    /// The algorithm to run (see `reparti list`); every node of the cluster runs the same.
    pub algorithm: Option<String>,

    /// TP3's shape, for token-ring: LOCAL_PORT NEXT_PORT [jeton] (this node listens on
    /// LOCAL_PORT, passes the token to NEXT_PORT, and starts with it if `jeton` is given).
    #[arg(value_name = "LAB_ARGS")]
    pub lab_args: Vec<String>,

    /// This node's position (0-based) in --peers or the cluster file [default: the
    /// position of --listen there].
    #[arg(long)]
    pub me: Option<usize>,

    /// Every node's address, in position order, this node's own included (at --me),
    /// e.g. 127.0.0.1:5000,127.0.0.1:5001,127.0.0.1:5002. Their number is n.
    #[arg(long, value_name = "ADDR,ADDR,...", value_delimiter = ',')]
    pub peers: Vec<String>,

    /// A TOML file naming every node's address and the run's settings (see
    /// docs/PROTOCOL.md): the same file on every machine.
    #[arg(long, value_name = "FILE", conflicts_with = "peers")]
    pub cluster: Option<PathBuf>,

    /// The address to bind, when it differs from the one the others use (0.0.0.0:5000,
    /// [::]:5000) [default: this node's address in --peers].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Topology [default: the algorithm's first accepted one]; the same on every node.
    #[arg(short, long)]
    pub topology: Option<String>,

    /// Identity assignment: random (seeded), asc, desc or a list 3,1,2; the same on every node.
    #[arg(long)]
    pub ids: Option<String>,

    /// Seed of identities and workload: give every node the same one, so they agree.
    #[arg(short, long)]
    pub seed: Option<u64>,

    /// An algorithm parameter, e.g. --param initiators=0. Repeatable.
    #[arg(short, long, value_name = "K=V")]
    pub param: Vec<String>,

    /// udp (datagrams) or tcp (length-prefixed frames).
    #[arg(long)]
    pub transport: Option<String>,

    #[command(flatten)]
    pub link: LinkFlags,

    /// With the reliable layer: give a message up after this many retransmissions without
    /// progress (with the backoff, about 19 s for 12), so that a node whose peer is gone
    /// ends, saying so, instead of retransmitting for ever.
    #[arg(long, default_value_t = 12, value_name = "N")]
    pub give_up_after: u32,

    /// Stop after this many milliseconds with nothing received, no timer pending and
    /// nothing unacknowledged.
    #[arg(long, default_value_t = 1000)]
    pub idle_ms: u64,

    /// Wait this many milliseconds between binding the port and starting the algorithm,
    /// so that the other nodes' processes have bound theirs before the first messages.
    #[arg(long, default_value_t = 500)]
    pub start_delay_ms: u64,

    /// Write this node's trace here (JSON Lines, docs/TRACE.md; `reparti run` merges them).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// Read console commands from stdin even when it is not a terminal (type `help`).
    #[arg(long)]
    pub interactive: bool,

    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,

    /// Used by `reparti run`: bind, print `READY ADDR`, read `PEERS A0,A1,...` on stdin,
    /// then run; exit as soon as stdin closes.
    #[arg(long, hide = true, requires = "nodes")]
    pub supervised: bool,

    /// With --supervised: the number of nodes (the addresses come on stdin).
    #[arg(long, hide = true)]
    pub nodes: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum LabShape {
    /// TP4's mesh: members find each other through a registry file (BDD.txt) or a seed
    /// node, introduce themselves to everyone, and broadcast.
    Mesh(lab::MeshArgs),
}

pub fn run(args: &NodeArgs) -> anyhow::Result<ExitCode> {
    if let Some(LabShape::Mesh(mesh)) = &args.lab {
        return lab::run_mesh(mesh);
    }
    let name = args.algorithm.as_deref().ok_or_else(|| {
        usage("name an algorithm (see `reparti list`), or `mesh PORT` for TP4's mesh; see `reparti node --help`")
    })?;
    let spec = find_algorithm(name)?;
    let algorithm = spec.name;
    let plan =
        if args.lab_args.is_empty() { drive::Plan::from_args(args, spec)? } else { lab_ring::ring_plan(args, spec)? };
    let summary =
        reparti_algos::visit(algorithm, plan).unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary::render(&summary));
    }
    let given_up = summary.reliable.as_ref().and_then(|r| r["given_up"].as_u64()).unwrap_or(0);
    if given_up > 0 {
        eprintln!(
            "error: {given_up} message(s) were never acknowledged and were given up: is every peer running and reachable (see the lines above)?"
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `HOST:PORT`, an IP literal (`[::1]:5000` for IPv6) or a resolvable name; the first
/// address it resolves to. `what` names the flag in errors.
pub fn parse_addr(text: &str, what: &str) -> anyhow::Result<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = |why: String| {
        usage(format!("{what}: '{text}' is not an address ({why}); write HOST:PORT, e.g. 127.0.0.1:5000 or [::1]:5000"))
    };
    text.to_socket_addrs().map_err(|e| bad(e.to_string()))?.next().ok_or_else(|| bad("it resolves to nothing".into()))
}

/// The addresses and settings of a cluster file, merged under the command line's.
fn load_cluster(args: &NodeArgs) -> anyhow::Result<Option<ClusterFile>> {
    args.cluster.as_deref().map(ClusterFile::load).transpose()
}
