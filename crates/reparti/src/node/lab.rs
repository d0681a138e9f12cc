//! The labs' shapes of `reparti node`; here TP4's mesh member, `reparti node mesh PORT`:
//! `node.py port_local` of the lab, joining through the registry file `BDD.txt` (or a
//! seed member), printing what happens in the mesh one line per event, and taking
//! console commands (TP4's `broadcast`, TP6's clocks) from standard input.
//!
//! Both of TP6's clocks are shown wherever one is: `clock 3, vclock {"127.0.0.1:5001":3}`
//! after `clock`, `local`, a send and a broadcast (the stamps the message carried), and on
//! each message received, the sender's stamps then ours after the receive rules:
//! `from 127.0.0.1:5002 (clock 4, vclock {…}; now clock 5, vclock {…}): TEXT`.
//!
//! The mesh itself is [`reparti_labs::mesh`]; this module turns flags into a
//! [`MeshConfig`], events into lines and console lines into sends. Lines typed are parsed
//! by [`super::console::parse`], so `send` takes a port, `#I` or `HOST:PORT` as it does
//! for algorithm nodes.

use super::console::{self, Command, Show};
use crate::error::usage;
use clap::Args;
use reparti_labs::mesh::{Clocks, MeshConfig, MeshError, MeshEvent, MeshNode, Receipt};
use reparti_net::secure::Key;
use serde::Deserialize;
use std::io::{BufRead, IsTerminal};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The registry file when neither --registry nor --join is given: TP4's name.
const DEFAULT_REGISTRY: &str = "BDD.txt";

#[derive(Args, Debug)]
pub struct MeshArgs {
    /// This member's UDP port, as in the lab's `node.py port_local` (0 picks a free one).
    pub port: u16,

    /// The registry file the members share (TP4's BDD.txt), created if missing
    /// [default: BDD.txt].
    #[arg(long, value_name = "FILE", conflicts_with = "join")]
    pub registry: Option<PathBuf>,

    /// Join through this running member (a "seed" member) instead of a registry file:
    /// HOST:PORT, or a port on --host. The first member gives its own address (or no
    /// --join and no --registry). `--seed ADDR` is read too.
    #[arg(long, value_name = "ADDR", alias = "seed")]
    pub join: Option<String>,

    /// The address to listen on, which is also this member's name in the mesh: one the
    /// others can reach.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,

    /// Encrypt and authenticate every datagram with this Fernet key (`reparti keygen -o F`).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// Read console commands from standard input even when it is not a terminal.
    #[arg(long)]
    pub interactive: bool,

    /// Leave the mesh after this many milliseconds (for scripts and tests).
    #[arg(long, value_name = "MS")]
    pub for_ms: Option<u64>,

    /// Send this text to every member once joined (for scripts).
    #[arg(long, value_name = "TEXT")]
    pub broadcast: Option<String>,
}

/// The console commands of a mesh member, one per line.
const MESH_HELP: &str = "broadcast TEXT              send TEXT to every member\n\
send PORT|#I|HOST:PORT TEXT send TEXT to one member (#I: its position in `peers`)\n\
local                       a local event: advance both clocks\n\
peers                       list the members\n\
clock                       show the Lamport and vector clocks\n\
state                       show address, members, clocks and counters\n\
help, ?                     show this list\n\
quit, exit, fin             leave the mesh and stop";

/// The commands a mesh member takes besides the node's own, as [`console::parse`] reads them.
const MESH_COMMANDS: &[reparti_core::Command] = &[
    reparti_core::Command {
        word: "send",
        variant: "Send",
        args: reparti_core::TO_AND_TEXT,
        help: "send TEXT to one member",
    },
    reparti_core::Command {
        word: "broadcast",
        variant: "Broadcast",
        args: &[reparti_core::CommandArg { field: "text", kind: reparti_core::ArgKind::Text }],
        help: "send TEXT to every member",
    },
    reparti_core::Command { word: "local", variant: "Local", args: &[], help: "a local event" },
];

/// The console inputs a mesh member acts on, read from [`console::parse`]'s JSON form.
#[derive(Deserialize)]
enum MeshInput {
    Send { to: usize, text: String },
    Broadcast { text: String },
    Local,
}

/// Whether the session goes on after a console line.
enum Flow {
    Continue,
    Quit,
}

pub fn run_mesh(args: &MeshArgs) -> anyhow::Result<ExitCode> {
    let key = match &args.key_file {
        Some(path) => Some(Key::from_file(path).map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    let seed = args.join.as_deref().map(|text| parse_seed(text, args.host)).transpose()?;
    let registry = match seed {
        Some(_) => None,
        None => Some(args.registry.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_REGISTRY))),
    };
    let cfg = MeshConfig { registry, seed, key, ..MeshConfig::new(SocketAddr::new(args.host, args.port)) };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the tokio runtime: {e}"))?;
    rt.block_on(session(args, cfg))?;
    Ok(ExitCode::SUCCESS)
}

/// `--seed`: a port on `host`, `IP:PORT`, or a resolvable `NAME:PORT`.
fn parse_seed(text: &str, host: IpAddr) -> anyhow::Result<SocketAddr> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(host, port));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = |why: String| {
        usage(format!(
            "--join '{text}' is not a member's address ({why}): write HOST:PORT, e.g. 127.0.0.1:5000, or a port"
        ))
    };
    text.to_socket_addrs().map_err(|e| bad(e.to_string()))?.next().ok_or_else(|| bad("it resolves to nothing".into()))
}

/// A mistake in how the member was started (exit 2), or a failure while it ran (exit 1).
fn mesh_error(e: MeshError) -> anyhow::Error {
    match e {
        MeshError::Send { .. } => anyhow::Error::new(e),
        other => usage(other.to_string()),
    }
}

async fn session(args: &MeshArgs, cfg: MeshConfig) -> anyhow::Result<()> {
    let how = match (&cfg.registry, cfg.seed) {
        (Some(path), _) => format!("registry {}", path.display()),
        (None, Some(seed)) => format!("seed {seed}"),
        (None, None) => "alone".to_string(),
    };
    let mut node = MeshNode::join(cfg).await.map_err(mesh_error)?;
    println!("member {} ({how}), {}", node.addr(), describe_peers(&node.peers()));
    if let Some(text) = &args.broadcast {
        broadcast(&node, text).await;
    }
    let mut lines = (args.interactive || std::io::stdin().is_terminal()).then(read_stdin_lines);
    let deadline = args.for_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
    loop {
        tokio::select! {
            event = node.next_stamped_event() => match event {
                Some((event, receipt)) => print_event(&node, event, receipt),
                None => {
                    eprintln!("error: the socket of {} keeps failing: leaving the mesh", node.addr());
                    break;
                }
            },
            line = next_line(&mut lines) => match line {
                Some(line) => {
                    if let Flow::Quit = run_command(&node, &line).await {
                        break;
                    }
                }
                // The end of the input ends the session, unless it is to last --for-ms.
                None if deadline.is_some() => lines = None,
                None => break,
            },
            () = sleep_until(deadline) => break,
        }
    }
    let addr = node.addr();
    node.leave().await.map_err(mesh_error)?;
    println!("{addr} left the mesh");
    Ok(())
}

/// Standard input's lines, read by a thread: reading a terminal blocks, which must not
/// hold up the member's (or the ring node's) events. The thread ends at end of input, or
/// at the first line after the session is over.
pub(super) fn read_stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

async fn next_line(lines: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match lines {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// `clock 3, vclock {"127.0.0.1:5001":3}`: both clocks, as every line shows them.
fn clocks(c: &Clocks) -> String {
    format!("clock {}, vclock {}", c.lamport, c.vector)
}

fn print_event(node: &MeshNode, event: MeshEvent, receipt: Option<Receipt>) {
    match event {
        MeshEvent::Joined(addr) => println!("joined {addr}"),
        MeshEvent::Left(addr) => println!("left {addr}"),
        MeshEvent::Message { from, text, lamport, clock } => match receipt {
            Some(r) => {
                // A member that keeps only a Lamport clock (TP6 exercise 1) sends no vector.
                let sent = match &r.vector {
                    Some(v) => format!("clock {}, vclock {v}", r.lamport),
                    None => format!("clock {}, no vclock", r.lamport),
                };
                println!("from {from} ({sent}; now {}): {text}", clocks(&r.after));
            }
            None => println!("from {from} (clock {lamport}; now clock {clock}): {text}"),
        },
        MeshEvent::Dropped { from, detail, .. } => {
            let stats = node.stats();
            let dropped = stats.dropped_crypto + stats.dropped_malformed;
            eprintln!("warning: dropped a datagram from {from} ({dropped} so far): {detail}");
        }
    }
}

async fn run_command(node: &MeshNode, line: &str) -> Flow {
    let peers = node.peers();
    let command = match console::parse(line, &peers, MESH_COMMANDS) {
        Ok(Some(command)) => command,
        Ok(None) => return Flow::Continue,
        Err(why) => {
            eprintln!("error: {why}");
            return Flow::Continue;
        }
    };
    match command {
        Command::Input(input) => match serde_json::from_value::<MeshInput>(input) {
            Ok(MeshInput::Send { to, text }) => match peers.get(to) {
                Some(&addr) => match node.send_stamped(addr, &text).await {
                    Ok(stamps) => println!("sent to {addr} ({}): {text}", clocks(&stamps)),
                    Err(e) => eprintln!("error: {e}"),
                },
                None => eprintln!("error: no member #{to}: type `peers` to list them"),
            },
            Ok(MeshInput::Broadcast { text }) => broadcast(node, &text).await,
            Ok(MeshInput::Local) => println!("local event ({})", clocks(&node.tick())),
            Err(_) => eprintln!(
                "error: `{}` is a command of algorithm nodes; a mesh member knows broadcast, send, local, peers, clock, state, help and quit",
                line.trim()
            ),
        },
        Command::Show(Show::Clock) => println!("{}", clocks(&node.clocks())),
        Command::Show(Show::Peers) => println!("{}", describe_peers(&peers)),
        Command::Show(Show::State) => {
            let s = node.stats();
            println!("member {}, {}, {}", node.addr(), clocks(&node.clocks()), describe_peers(&peers));
            println!(
                "dropped: {} by the key, {} malformed; send errors: {}",
                s.dropped_crypto, s.dropped_malformed, s.send_errors
            );
        }
        Command::Help => println!("{MESH_HELP}"),
        Command::Quit => return Flow::Quit,
    }
    Flow::Continue
}

async fn broadcast(node: &MeshNode, text: &str) {
    let members = match node.peers().len() {
        1 => "1 member".to_string(),
        n => format!("{n} members"),
    };
    match node.broadcast_stamped(text).await {
        Ok(stamps) => println!("broadcast to {members} ({}): {text}", clocks(&stamps)),
        Err(e) => eprintln!("error: {e}"),
    }
}

/// `2 peers: #0 127.0.0.1:5002, #1 127.0.0.1:5003`, or `no peers yet`.
fn describe_peers(peers: &[SocketAddr]) -> String {
    if peers.is_empty() {
        return "no peers yet".to_string();
    }
    let listed: Vec<String> = peers.iter().enumerate().map(|(i, p)| format!("#{i} {p}")).collect();
    let noun = if peers.len() == 1 { "peer" } else { "peers" };
    format!("{} {noun}: {}", peers.len(), listed.join(", "))
}
