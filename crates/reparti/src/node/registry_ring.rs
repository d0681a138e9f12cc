//! TP4 exercise 3: TP3's token ring without its command-line arguments —
//! `reparti node token-ring [PORT] [jeton] [--registry BDD.txt]`.
//!
//! **What.** Each process is one node of [`reparti_labs::ring`]. It registers itself in
//! the registry file as TP4's mesh does ([`reparti_labs::ring::from_registry`], shared
//! with TP7's election), on PORT, or without one on the next free port after the
//! highest listed. The ring is the registry's members ordered by port: each node reads
//! its predecessor and successor there, and reads the file again ten times a second, so
//! the ring re-forms when a node joins or leaves.
//!
//! **Source.** The lab sheets, TP3 (the ring) and TP4 (`BDD.txt`, "then remove the
//! command-line arguments by using the file").
//!
//! **How it runs here.** The first node (the registry lists no live node) makes the
//! token; `jeton` is accepted there only, as a node joining a running ring would make a
//! second token. Manual mode by default (`release` passes it on); `--param hold_ms=MS`
//! passes it on after MS ms at each node, for as long as the ring runs. Every token
//! pass is numbered (`token #N passed to …`, `TOKEN #N from …`), so the lines of all the
//! nodes show one token: each number once. `quit` or Ctrl-C (or SIGTERM) leaves
//! cleanly: the line is removed, the token passed on, every member told (`LEAVE`, see
//! [`reparti_labs::ring`]); a second Ctrl-C stops at once. The node never stops on its
//! own (`--idle-ms` is ignored): a lone node waits for others.
//!
//! **Pitfalls.** A node killed (`kill -9`) leaves its line: the next reading of any node
//! drops it (nobody holds its port) and the ring closes over it, but a token it held, or
//! that was on its way to it, is lost; the ring goes on without one until all its nodes
//! are stopped and started again.
//!
//! **Properties.** One token throughout, joins and leaves one at a time included
//! (`reparti-labs`' `ring::registry_tests` plays random schedules with late readings;
//! `tests/registry_ring.rs` real processes). **Costs.** Per pass one `TOKEN`; per
//! leave 2(n−1) datagrams (`LEAVE`, `LEAVE_OK`); per node ten readings of the file a
//! second.

use super::args::NodeArgs;
use super::lab_ring::{automatic_param, print_report, refuse_unused_flags, runtime, say_to_console, scripted_sends};
use crate::error::usage;
use crate::interrupt::INTERRUPTED_STATUS;
use reparti_core::AlgorithmSpec;
use reparti_labs::ring::from_registry::{render, Registration};
use reparti_labs::ring::{self, RegistryRingConfig, RingError};
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// The registry file when --registry is not given: TP4's name.
const DEFAULT_REGISTRY: &str = "BDD.txt";

/// How the shape is written, for error messages.
const SHAPE: &str = "token-ring [PORT] [jeton] [--registry FILE]";

/// Whether the arguments are this shape's: at most a port and `jeton` (TP3's shape has
/// a second port), and with no arguments at all, none of the algorithm node's address
/// flags either.
pub fn is_registry_shape(args: &NodeArgs) -> bool {
    match args.lab_args.as_slice() {
        [] => args.peers.is_empty() && args.cluster.is_none() && !args.supervised,
        [_] => true,
        [_, second] => is_jeton(second),
        _ => false,
    }
}

fn is_jeton(word: &str) -> bool {
    word.eq_ignore_ascii_case("jeton") || word.eq_ignore_ascii_case("token")
}

/// Runs one node of the registry ring to its end; exit 1 if it lost the token or left
/// texts unsent.
pub fn run_registry_ring(args: &NodeArgs, _spec: AlgorithmSpec) -> anyhow::Result<ExitCode> {
    let (listen, jeton) = shape(args)?;
    refuse_unused_flags(args)?;
    if args.wait_ms.is_some() {
        return Err(usage("--wait-ms is for TP7's election: the registry ring runs until `quit` or Ctrl-C"));
    }
    let cfg = config(args, listen.map(|a| a.port()))?;
    let path = args.registry.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_REGISTRY));
    let registration = Registration::join(&path, listen).map_err(|e| usage(e.to_string()))?;
    if jeton && !registration.others.is_empty() {
        let mut running: Vec<SocketAddr> = registration.others.clone();
        running.sort();
        return Err(usage(format!(
            "the ring in {} already runs ({}): its first node made the token, and a second would break mutual exclusion; start this node without jeton",
            path.display(),
            render(&running)
        )));
    }
    let mut line = format!("registered {} in {}", registration.addr, path.display());
    if !registration.stale.is_empty() {
        let stale: Vec<String> = registration.stale.iter().map(ToString::to_string).collect();
        line += &format!(" (dropped {} stale line(s): {})", stale.len(), stale.join(", "));
    }
    // Printed where the node's lines go, so that it comes first.
    say_to_console(args.json)(ring::Level::Info, &line);
    let commands = commands(args.interactive || std::io::stdin().is_terminal());
    let say = say_to_console(args.json);
    let report =
        runtime()?.block_on(ring::run_registry(cfg, registration, Some(commands), say)).map_err(|e| match e {
            RingError::Socket { .. } => anyhow::Error::new(e),
            other => usage(other.to_string()),
        })?;
    print_report(&report, args.json)
}

/// PORT (on 127.0.0.1, or HOST:PORT; none: the next free one) and `jeton`.
fn shape(args: &NodeArgs) -> anyhow::Result<(Option<SocketAddr>, bool)> {
    let (port, jeton) = match args.lab_args.as_slice() {
        [] => (None, false),
        [one] if is_jeton(one) => (None, true),
        [port] => (Some(port), false),
        [port, j] if is_jeton(j) => (Some(port), true),
        other => {
            return Err(usage(format!(
                "the registry ring takes `reparti node {SHAPE}`, got {:?}: e.g. `reparti node token-ring 5001`",
                other.join(" ")
            )))
        }
    };
    let listen = match port {
        Some(text) => Some(super::lab_ring::lab_addr(text, "PORT")?),
        None => None,
    };
    Ok((listen, jeton))
}

/// The flags that mean something here: `--param hold_ms=MS`, `--send`, `--key-file`.
/// `me` is our port, once known (a send to ourselves is refused then).
fn config(args: &NodeArgs, me: Option<u16>) -> anyhow::Result<RegistryRingConfig> {
    if args.param.iter().any(|p| p.starts_with("laps=")) {
        return Err(usage(
            "--param laps: the registry ring's first node may leave, so it counts no laps; use --param hold_ms=MS to pass the token on automatically",
        ));
    }
    let hold = automatic_param(
        args,
        "hold_ms",
        "give milliseconds, e.g. hold_ms=500 (0: manual mode)",
        "the registry ring takes hold_ms=MS only (automatic mode; without it the console's `release` moves the token)",
    )?;
    let sends = scripted_sends(args, me.unwrap_or(0))?;
    Ok(RegistryRingConfig {
        hold: hold.map(Duration::from_millis),
        key: args.link.key()?,
        sends,
        ..RegistryRingConfig::new()
    })
}

/// The node's commands: the console's lines (when there is one) and `quit` on Ctrl-C or
/// SIGTERM, so that a stopped node leaves the ring cleanly. The channel never closes:
/// the node runs until it leaves.
fn commands(console: bool) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    if console {
        let typed = tx.clone();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines().map_while(Result::ok) {
                if typed.send(line).is_err() {
                    return;
                }
            }
        });
    }
    let signalled = AtomicBool::new(false);
    let installed = ctrlc::set_handler(move || {
        if signalled.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(INTERRUPTED_STATUS));
        }
        eprintln!("stopping: leaving the ring (Ctrl-C again stops at once)");
        let _ = tx.send("quit".to_string());
    });
    if let Err(e) = installed {
        eprintln!("note: Ctrl-C stops this node without leaving the ring cleanly (cannot catch the signal: {e})");
    }
    rx
}
