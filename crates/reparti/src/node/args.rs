//! The flags of `reparti node`, as clap sees them.

use super::lab;
use super::link::LinkFlags;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct NodeArgs {
    #[command(subcommand)]
    pub lab: Option<LabShape>,

    /// The algorithm to run (see `reparti list`); every node of the cluster runs the same.
    pub algorithm: Option<String>,

    /// TP3's shape, for token-ring: LOCAL_PORT PREV_PORT [jeton] (this node listens on
    /// LOCAL_PORT, its predecessor on PREV_PORT; `jeton` starts it with the token).
    /// TP4 exercise 3's, for token-ring: [PORT] [jeton] (the ring is formed from
    /// --registry, by port; no PORT: the next free one; the first node holds the token).
    /// TP7's, for chang-roberts-lab: PORT, with --nodes N (the nodes meet through
    /// --registry, each draws its own identity). TP5's, for producer-consumer: PORT
    /// consumer, or PORT CONSUMER_PORT for a producer, with --nodes N.
    #[arg(value_name = "LAB_ARGS")]
    pub lab_args: Vec<String>,

    /// The lab token rings (token-ring LOCAL_PORT PREV_PORT, or [PORT]): send TEXT to the
    /// node on PORT once this node holds the token (PORT:TEXT). Repeatable.
    #[arg(long, value_name = "PORT:TEXT")]
    pub send: Vec<String>,

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

    #[command(flatten)]
    pub clocks: crate::clock_flags::ClockFlags,

    /// Physical clocks: the run's epoch in ms since 1970, the same on every node, from
    /// which real time is measured (default: this node's start). `reparti run` gives it.
    #[arg(long, value_name = "UNIX_MS")]
    pub clock_epoch: Option<f64>,

    /// With the reliable layer: give a message up after this many retransmissions without
    /// progress (with the backoff, about 19 s for 12), so that a node whose peer is gone
    /// ends, saying so, instead of retransmitting for ever.
    #[arg(long, default_value_t = 12, value_name = "N")]
    pub give_up_after: u32,

    /// Stop after this many milliseconds with nothing received, no timer pending and
    /// nothing unacknowledged.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub idle_ms: u64,

    /// Wait this many milliseconds between binding the port and starting the algorithm,
    /// so that the other nodes' processes have bound theirs before the first messages.
    #[arg(long, default_value_t = 500)]
    pub start_delay_ms: u64,

    /// This run's identity (1 to 64 characters, no spaces): stamped inside everything the
    /// node sends, and required of everything it accepts, so that datagrams of another
    /// run (a replay, a leftover node) are dropped. Give every node the same one, or
    /// none (`reparti run` draws a fresh one for each run).
    #[arg(long, value_name = "RUN")]
    pub run_id: Option<String>,

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

    /// With --supervised: the number of nodes (the addresses come on stdin). In TP5's and
    /// TP7's shapes (producer-consumer PORT ROLE, chang-roberts-lab PORT): how many nodes
    /// to wait for in the registry, the consumer included.
    #[arg(short, long)]
    pub nodes: Option<usize>,

    /// TP5's and TP7's shapes, and token-ring [PORT]: the registry file the nodes meet
    /// through (TP4's BDD.txt), created if missing [default: BDD.txt].
    #[arg(long, value_name = "FILE")]
    pub registry: Option<PathBuf>,

    /// TP5's and TP7's shapes: how long to wait for --nodes members in the registry
    /// (TP7: then for the election to end) [default: 60000].
    #[arg(long, value_name = "MS")]
    pub wait_ms: Option<u64>,

    /// TP5's shape (producer-consumer PORT consumer|CONSUMER_PORT): at the consumer,
    /// send a resting token round again after this many milliseconds, so that items
    /// typed at a producer leave without anyone typing `wake` (0: only on `wake`)
    /// [default: 1000].
    #[arg(long, value_name = "MS")]
    pub wake_ms: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum LabShape {
    /// TP4's mesh: members find each other through a registry file (BDD.txt) or a seed
    /// node, introduce themselves to everyone, and broadcast.
    Mesh(lab::MeshArgs),
}
