//! TP3's shape: `reparti node token-ring LOCAL_PORT PREV_PORT [jeton]`, the lab sheet's
//! `node.py port_local port_prec [jeton]`.
//!
//! Each process is one node of [`reparti_labs::ring`]: it listens on LOCAL_PORT, is told
//! its predecessor PREV_PORT (a port on 127.0.0.1, or HOST:PORT), finds its successor by
//! itself, and starts with the token if `jeton` is given. Nodes are named by their port;
//! `send PORT TEXT` writes to any port, hop by hop. By default the token moves when the
//! console says `release` (TP3's `menu_send`); `--param laps=K` passes it on
//! automatically and stops it at the `jeton` node after K laps. `--send PORT:TEXT`
//! scripts a `send`. The node prints what happens, then a summary (`--json`: one JSON
//! object, the narrative on stderr), and exits 1 with one line per problem when the
//! ring lost its token or something it was asked to send never left.
//!
//! The algorithm nodes' flags that would mean something else here (`--peers`,
//! `--transport tcp`, `--wire binary`, injected faults, `--trace`, ...) are refused.
//! `--start-delay-ms`, `--reliable` and `--give-up-after` are ignored: the `SUCCESSOR`
//! handshake replaces the start delay, the lab ring has no acknowledgements, and their
//! defaults cannot be told apart from values typed.
//!
//! With at most one port (and `jeton`), the same command is TP4 exercise 3's ring,
//! formed from the registry file: [`super::registry_ring`].

use super::addr::parse_addr;
use super::args::NodeArgs;
use super::lab::read_stdin_lines;
use crate::error::usage;
use reparti_core::AlgorithmSpec;
use reparti_labs::ring::{self, Level, RingConfig, RingError, RingReport};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// The only algorithm with TP3's shape.
pub const LAB_RING_ALGORITHM: &str = "token-ring";

/// How the shape is written, for error messages.
const SHAPE: &str = "LOCAL_PORT PREV_PORT [jeton]";

/// Runs one lab node to its end; exit 1 if the ring has a problem to report.
pub fn run_ring(args: &NodeArgs, spec: AlgorithmSpec) -> anyhow::Result<ExitCode> {
    let cfg = config(args, spec)?;
    let console = (args.interactive || std::io::stdin().is_terminal()).then(read_stdin_lines);
    let report = runtime()?.block_on(ring::run(cfg, console, say_to_console(args.json))).map_err(|e| match e {
        RingError::Socket { .. } => anyhow::Error::new(e),
        other => usage(other.to_string()),
    })?;
    print_report(&report, args.json)
}

/// Where a lab node's lines go. With --json, stdout carries the summary alone;
/// everything else goes to stderr.
pub(super) fn say_to_console(json: bool) -> impl FnMut(Level, &str) {
    move |level: Level, line: &str| match level {
        Level::Info if json => eprintln!("{line}"),
        Level::Info => println!("{line}"),
        Level::Warning => eprintln!("warning: {line}"),
        Level::Error => eprintln!("error: {line}"),
    }
}

/// The single-threaded runtime a lab node runs on.
pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the tokio runtime: {e}"))
}

/// The summary (text or JSON) and one line per problem; exit 1 when there is any.
pub(super) fn print_report(report: &RingReport, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report.render("stopped"));
    }
    for problem in &report.problems {
        eprintln!("error: {problem}");
    }
    Ok(if report.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The flags, checked: the lab shape's own, and none that it would silently ignore.
fn config(args: &NodeArgs, spec: AlgorithmSpec) -> anyhow::Result<RingConfig> {
    if spec.name != LAB_RING_ALGORITHM {
        return Err(usage(format!(
            "the lab shape {SHAPE} is TP3's token ring: write `reparti node token-ring {}`; for {} give every address with --peers",
            args.lab_args.join(" "),
            spec.name
        )));
    }
    let (local, prev, jeton) = match args.lab_args.as_slice() {
        [local, prev] => (local, prev, false),
        [local, prev, j] if j.eq_ignore_ascii_case("jeton") || j.eq_ignore_ascii_case("token") => (local, prev, true),
        other => {
            return Err(usage(format!(
                "token-ring takes {SHAPE}, got {:?}: e.g. `reparti node token-ring 5001 5003 jeton` (the sheet's node.py port_local port_prec jeton), or `token-ring [PORT] [jeton]` to form the ring from the registry file",
                other.join(" ")
            )))
        }
    };
    let listen = lab_addr(local, "LOCAL_PORT")?;
    let predecessor = lab_addr(prev, "PREV_PORT")?;
    refuse_unused_flags(args)?;
    if args.registry.is_some() {
        return Err(usage(
            "--registry is for the ring formed from the registry (`reparti node token-ring [PORT] [jeton] --registry FILE`): TP3's shape is told its predecessor",
        ));
    }
    let laps = automatic_param(
        args,
        "laps",
        "give a number of laps, e.g. laps=3 (0: manual mode)",
        "the lab ring takes laps=K only (automatic mode, K laps; without it the console's `release` moves the token)",
    )?
    .map(|k| u32::try_from(k).unwrap_or(u32::MAX));
    let sends = scripted_sends(args, listen.port())?;
    Ok(RingConfig {
        jeton,
        laps,
        key: args.link.key()?,
        idle: Some(Duration::from_millis(args.idle_ms)),
        sends,
        ..RingConfig::new(listen, predecessor)
    })
}

/// The one `--param NAME=N` of a lab ring's automatic mode (`None`: manual mode, also
/// for 0); `example` is said for a value that is no number, `only` for another name.
pub(super) fn automatic_param(args: &NodeArgs, name: &str, example: &str, only: &str) -> anyhow::Result<Option<u64>> {
    let mut value = None;
    for param in &args.param {
        match param.split_once('=') {
            Some((key, v)) if key == name => {
                let n: u64 = v.trim().parse().map_err(|_| usage(format!("--param {name}={v}: {example}")))?;
                value = (n > 0).then_some(n);
            }
            _ => return Err(usage(format!("--param {param}: {only}"))),
        }
    }
    Ok(value)
}

/// The `--send PORT:TEXT`s, checked as a typed `send` is; none to this node's own port.
pub(super) fn scripted_sends(args: &NodeArgs, me: u16) -> anyhow::Result<Vec<ring::Command>> {
    let sends = args
        .send
        .iter()
        .map(|spec| ring::parse_send_spec(spec).map_err(|e| usage(format!("--send {e}"))))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if sends.iter().any(|s| matches!(s, ring::Command::Send { dest, .. } if *dest == me)) {
        return Err(usage(format!("--send: port {me} is this node; send to another port")));
    }
    Ok(sends)
}

/// A port (`5001`, on 127.0.0.1) or `HOST:PORT`; port 0 names no node.
pub(super) fn lab_addr(text: &str, what: &str) -> anyhow::Result<SocketAddr> {
    let text = text.trim();
    let addr = if text.bytes().all(|b| b.is_ascii_digit()) {
        match text.parse::<u16>() {
            Ok(port) => SocketAddr::from(([127, 0, 0, 1], port)),
            Err(_) => return Err(usage(format!("{what} {text} is not a port: ports are 1..65535"))),
        }
    } else {
        parse_addr(text, what)?
    };
    if addr.port() == 0 {
        return Err(usage(format!("{what} {text}: port 0 cannot name a node; ports are 1..65535")));
    }
    Ok(addr)
}

/// The algorithm nodes' flags that mean nothing to a lab node: refused rather than ignored.
pub(super) fn refuse_unused_flags(args: &NodeArgs) -> anyhow::Result<()> {
    let refuse = |why: &str| Err(usage(why.to_string()));
    if !args.peers.is_empty() || args.cluster.is_some() || args.me.is_some() {
        return refuse("the lab shape names the ports itself: drop --peers, --cluster and --me");
    }
    if args.listen.is_some() {
        return refuse("the lab shape listens on LOCAL_PORT, which may be HOST:PORT: drop --listen");
    }
    if args.transport.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("udp")) {
        return refuse("the lab ring speaks UDP only: drop --transport");
    }
    if args.link.wire != "json" {
        return refuse("the lab ring speaks JSON (sealed with --key-file): drop --wire");
    }
    let link = &args.link;
    if link.loss != 0.0 || link.dup != 0.0 || link.delay.is_some() || link.reorder {
        return refuse("the lab shape injects no faults: drop --loss, --dup, --delay and --reorder (stop a node to lose the token)");
    }
    if args.trace.is_some() || args.topology.is_some() || args.ids.is_some() || args.seed.is_some() {
        return refuse("the lab shape writes no trace and has no topology, identities or seed: drop --trace, --topology, --ids and --seed");
    }
    Ok(())
}
