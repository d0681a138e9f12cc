//! TP5's shape: `reparti node producer-consumer PORT consumer --nodes N` in one terminal,
//! `reparti node producer-consumer PORT CONSUMER_PORT --nodes N` in each of the others:
//! the sheet's producers and consumer, one process each, meeting through TP4's registry.
//!
//! **What.** One consumer and N−1 producers run the catalogue algorithm
//! `producer-consumer` on the real runtime. A person types `produce 42` at a producer's
//! console; the item waits for the token (`waiting = for the token (1 item queued)`),
//! leaves the moment the token arrives (`token = sending 3 waiting items`), and the
//! consumer says `memory = full (3 items): emptying it` when an item fills its memory.
//!
//! **Source.** TP5 of the lab sheets: "the node must identify the consumer's port";
//! "the node that initialises the token is the consumer"; the producers are on TP4's
//! mesh. Exercise 2's `threading.Event` is the algorithm's `waiting`/`token` outputs
//! here (and `examples/python/producer.py`, written the sheet's way).
//!
//! ```text
//! start:  bind PORT, register it in the file (TP4's BDD.txt, locked; stale lines dropped)
//! wait:   until the file lists N members, the consumer among them
//! order:  the consumer is position 0 (it creates the token); the producers follow by
//!         port, so the token goes C → lowest port → … → highest port → C
//! run:    the catalogue algorithm over the real runtime, a console on stdin, every
//!         delivered message and output printed; at the consumer, a resting token is
//!         sent round again after --wake-ms (the algorithm's `wake`, typed for you)
//! stop:   `quit` (or the end of the input); the line leaves the file
//! ```
//!
//! **How it runs here.** The registry is the ring-from-registry code that TP4's token
//! ring and TP7's election share ([`reparti_labs::ring::from_registry`]); the node is
//! [`reparti_net::plan`]'s, the console [`super::attach`]'s, as for every
//! `reparti node ALGO --interactive`. Lab defaults, each overridden by `--param`:
//! `items=0` (the items are the ones typed), `quota=1000` (the sheet's holder writes "as
//! many as it wants until memory full"), `drain_time=1000` (emptying the memory takes a
//! second, long enough to watch).
//!
//! **Pitfalls.** Every producer must name the same consumer, and only one node may say
//! `consumer`: the nodes cannot check each other's roles (the file holds addresses only),
//! and two that disagree on the positions refuse each other's messages. A producer that
//! quits while holding the token takes it away: the others then wait for ever (it says so
//! and exits 1). The token is not passed while nobody types: it rests at the consumer
//! between the wakes, so an item typed at a producer waits up to --wake-ms.
//!
//! **Properties.** The algorithm's (one token, at most one DATA in transit, at most N
//! items in the memory, every item consumed once in its producer's order); this shape
//! adds that every node computes the same positions from the same file and the same
//! consumer (`crates/reparti/tests/tp5_lab.rs` checks it on three processes).
//!
//! **Costs.** One registry read every 50 ms while waiting; then the algorithm's own
//! messages, plus one revolution of the token per --wake-ms while the producers are idle.

use super::args::NodeArgs;
use super::attach;
use super::lab_election::{self, ask};
use crate::error::usage;
use reparti_algos::communication::producer_consumer::{Input as PcInput, Node as PcNode};
use reparti_algos::communication::ProducerConsumer;
use reparti_core::{AlgorithmSpec, NodeId};
use reparti_labs::ring::from_registry::Registration;
use reparti_net::plan::{self, NodePlan, PlanError};
use reparti_net::runtime::{Control, Show};
use reparti_net::NetError;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::mpsc;

/// The only algorithm with TP5's shape.
pub const LAB_PRODUCERS_ALGORITHM: &str = "producer-consumer";

/// The registry file when --registry is not given: TP4's name.
const DEFAULT_REGISTRY: &str = "BDD.txt";

/// How long to wait for the members without --wait-ms.
const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// How long the token rests at the consumer before it goes round again, without --wake-ms.
const DEFAULT_WAKE: Duration = Duration::from_secs(1);

/// How often the consumer looks whether its token rests.
const WATCH_PERIOD: Duration = Duration::from_millis(50);

/// The lab's parameters, before the user's `--param`s (which win).
const LAB_DEFAULTS: &[(&str, &str)] = &[("items", "0"), ("quota", "1000"), ("drain_time", "1000")];

/// How the shape is written, for error messages.
const SHAPE: &str = "producer-consumer PORT consumer --nodes N  (or PORT CONSUMER_PORT for a producer)";

/// What this node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// It creates the token and owns the memory.
    Consumer,
    /// It writes into the memory of the consumer at this address.
    Producer { consumer: SocketAddr },
}

/// The command line, checked.
struct Shape {
    listen: SocketAddr,
    role: Role,
    n: usize,
    registry: PathBuf,
}

/// Runs one TP5 node until `quit`; exit 1 if it stopped with the token or with items
/// never stored.
pub fn run_producers(args: &NodeArgs, spec: AlgorithmSpec) -> anyhow::Result<ExitCode> {
    let Shape { listen, role, n, registry } = shape(args)?;
    let wait = args.wait_ms.map_or(DEFAULT_WAIT, Duration::from_millis);
    let wake = args.wake_ms.map_or(DEFAULT_WAKE, Duration::from_millis);
    let interactive = args.interactive || std::io::stdin().is_terminal();
    let mut settings = lab_election::settings(args, spec.clone(), n, LAB_DEFAULTS, interactive)?;
    let mut registration = lab_election::register(&registry, listen)?;
    let me = registration.addr;
    let consumer = match role {
        Role::Consumer => me,
        Role::Producer { consumer } => consumer,
    };
    match role {
        Role::Consumer => println!("consumer {me}, registered in {} ({n} nodes expected)", registry.display()),
        Role::Producer { .. } => {
            println!(
                "producer {me} for the consumer {consumer}, registered in {} ({n} nodes expected)",
                registry.display()
            )
        }
    }
    let members = wait_for(&registration, n, consumer, wait)?;
    let order = positions(members, consumer);
    let position = order.iter().position(|a| *a == me).unwrap_or(0);
    println!("{} (this node is #{position})", describe(&order));

    settings.me = NodeId(u32::try_from(position).map_err(|_| usage("too many nodes"))?);
    settings.addrs = order;
    settings.listen = me;
    let mut plan = NodePlan::new(&spec, settings);
    // A lab node shows everything and stops when told, console or not.
    plan.cfg.echo = true;
    plan.cfg.never_idle = true;
    // Every member is in: nobody registers now, so nobody takes our line for a stale one
    // while the runtime binds the port again.
    drop(registration.take_socket());
    let ran = plan::run::<ProducerConsumer>(plan, |controls| {
        if role == Role::Consumer && !wake.is_zero() {
            wake_resting_token(controls.sender.clone(), wake);
        }
        attach::attach(controls, false, interactive);
    })
    .map_err(plan_error)?;
    drop(registration);
    Ok(report(&ran.report.node, role))
}

/// PORT, the role, N and the registry file, checked; the flags that mean nothing here
/// refused.
fn shape(args: &NodeArgs) -> anyhow::Result<Shape> {
    let (port, role) = match args.lab_args.as_slice() {
        [port, role] => (port, role),
        [port] => {
            return Err(usage(format!(
                "say what the node on {port} is: `reparti node producer-consumer {port} consumer --nodes N` for the consumer, or `reparti node producer-consumer {port} CONSUMER_PORT --nodes N` for a producer"
            )))
        }
        other => {
            return Err(usage(format!(
                "TP5's shape is `reparti node {SHAPE}`, got {:?}: e.g. `reparti node producer-consumer 5000 consumer --nodes 3`",
                other.join(" ")
            )))
        }
    };
    let listen = lab_addr(port, "PORT")?;
    let role = match role.to_ascii_lowercase().as_str() {
        "consumer" | "consommateur" => Role::Consumer,
        _ => Role::Producer { consumer: lab_addr(role, "CONSUMER_PORT")? },
    };
    if role == (Role::Producer { consumer: listen }) {
        return Err(usage(format!(
            "{listen} is this producer's own address: give the consumer's port second, or `consumer` if this node is the consumer"
        )));
    }
    let n = match args.nodes {
        Some(n) if n >= 2 => n,
        Some(n) => return Err(usage(format!("--nodes {n}: TP5 needs the consumer and at least one producer (--nodes 2 or more)"))),
        None => {
            return Err(usage(format!(
                "give the number of nodes, the consumer included, with --nodes N: each node waits until the registry lists N (`reparti node {SHAPE}`)"
            )))
        }
    };
    if !args.peers.is_empty() || args.cluster.is_some() || args.me.is_some() || args.listen.is_some() {
        return Err(usage(
            "TP5's shape finds the nodes in the registry file: drop --peers, --cluster, --me and --listen",
        ));
    }
    if args.supervised || args.json || args.trace.is_some() || !args.send.is_empty() || args.ids.is_some() {
        return Err(usage(
            "TP5's shape prints what happens as it happens: drop --supervised, --json, --trace, --send and --ids (`reparti run producer-consumer` has them)",
        ));
    }
    let registry = args.registry.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_REGISTRY));
    Ok(Shape { listen, role, n, registry })
}

/// A port (on 127.0.0.1; 0 picks a free one) or `HOST:PORT`.
fn lab_addr(text: &str, what: &str) -> anyhow::Result<SocketAddr> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u16>() {
            Ok(port) => Ok(SocketAddr::from(([127, 0, 0, 1], port))),
            Err(_) => Err(usage(format!("{what} {text} is not a port: ports are 0..65535"))),
        };
    }
    if !text.contains(':') {
        return Err(usage(format!(
            "{what} '{text}' is neither a port nor HOST:PORT (the second word is `consumer` or the consumer's port)"
        )));
    }
    super::addr::parse_addr(text, what)
}

/// The members, once the file lists `n`, the consumer among them; at most `limit`.
fn wait_for(
    registration: &Registration,
    n: usize,
    consumer: SocketAddr,
    limit: Duration,
) -> anyhow::Result<Vec<SocketAddr>> {
    let members = lab_election::wait_for(registration, n, limit)?;
    if !members.contains(&consumer) {
        return Err(anyhow::anyhow!(
            "the registry {} lists {n} members but not the consumer {consumer} ({}): start it with `reparti node producer-consumer {} consumer --nodes {n}`, or give every producer the consumer's port",
            registration.path().display(),
            members.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            consumer.port()
        ));
    }
    Ok(members)
}

/// The positions: the consumer first (it creates the token), then the producers by port,
/// then IP. Every node computes the same from the same file.
fn positions(members: Vec<SocketAddr>, consumer: SocketAddr) -> Vec<SocketAddr> {
    let mut producers: Vec<SocketAddr> = members.into_iter().filter(|a| *a != consumer).collect();
    producers.sort_by_key(|a| (a.port(), a.ip()));
    producers.dedup();
    std::iter::once(consumer).chain(producers).collect()
}

/// `consumer 5000, producers 5001, 5002; the token goes 5000 → 5001 → 5002 → 5000`.
fn describe(order: &[SocketAddr]) -> String {
    let ports: Vec<String> = order.iter().map(|a| a.port().to_string()).collect();
    let (consumer, producers) = ports.split_first().map_or(("", &[][..]), |(c, p)| (c.as_str(), p));
    let noun = if producers.len() == 1 { "producer" } else { "producers" };
    format!("consumer {consumer}, {noun} {}; the token goes {} → {consumer}", producers.join(", "), ports.join(" → "))
}

/// At the consumer: once the token has rested for `wake`, type `wake` for the person, so
/// that items typed at a producer leave without a trip to the consumer's terminal.
fn wake_resting_token(tx: mpsc::Sender<Control<PcInput>>, wake: Duration) {
    tokio::spawn(async move {
        let mut resting_since = None;
        loop {
            tokio::time::sleep(WATCH_PERIOD).await;
            let Some(state) = ask(&tx, Show::State).await else { return };
            let resting = serde_json::from_str::<PcNode>(&state).is_ok_and(|c| c.has_token);
            resting_since = match (resting, resting_since) {
                (false, _) => None,
                (true, None) => Some(tokio::time::Instant::now()),
                (true, Some(since)) if since.elapsed() >= wake => {
                    if tx.send(Control::Input(PcInput::Wake)).await.is_err() {
                        return;
                    }
                    None
                }
                (true, since) => since,
            };
        }
    });
}

/// The last lines: what this node did, and what it leaves undone (exit 1).
fn report(node: &PcNode, role: Role) -> ExitCode {
    let mut problems = Vec::new();
    match role {
        Role::Consumer => {
            let total: u32 = node.consumed.iter().sum();
            println!("consumed {}; the memory holds {}", items(total as usize), node.buf.len());
            if !node.buf.is_empty() {
                problems.push(format!("{} items were stored but never consumed", node.buf.len()));
            }
        }
        Role::Producer { .. } => {
            println!("produced {}, {} stored at the consumer", items(node.produced as usize), node.stored);
            if node.has_token {
                problems.push(
                    "this producer stopped holding the token: the ring has lost it (stop the producers when the consumer holds it)"
                        .to_string(),
                );
            }
            if !node.queue.is_empty() {
                problems.push(format!("{} items typed here never reached the consumer", node.queue.len()));
            }
        }
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `1 item`, `3 items`.
fn items(count: usize) -> String {
    format!("{count} item{}", if count == 1 { "" } else { "s" })
}

/// A plan that does not fit, or a port that cannot be bound, is the caller's to fix
/// (exit 2); anything else is a failure of the run (exit 1).
fn plan_error(e: PlanError) -> anyhow::Error {
    match e {
        PlanError::Setup(msg) => usage(msg),
        PlanError::Net(NetError::Bind { .. } | NetError::Config(_)) => usage(e.to_string()),
        other => anyhow::Error::new(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_consumer_comes_first_then_the_producers_by_port() {
        let order = positions(vec![a("127.0.0.1:5002"), a("127.0.0.1:6000"), a("127.0.0.1:5001")], a("127.0.0.1:6000"));
        assert_eq!(order, vec![a("127.0.0.1:6000"), a("127.0.0.1:5001"), a("127.0.0.1:5002")]);
        assert_eq!(describe(&order), "consumer 6000, producers 5001, 5002; the token goes 6000 → 5001 → 5002 → 6000");
    }

    #[test]
    fn ports_and_addresses_are_read_and_words_refused() {
        assert_eq!(lab_addr("5000", "PORT").unwrap(), a("127.0.0.1:5000"));
        assert_eq!(lab_addr("10.0.0.2:5000", "PORT").unwrap(), a("10.0.0.2:5000"));
        assert!(lab_addr("consumr", "CONSUMER_PORT").unwrap_err().to_string().contains("neither a port"));
        assert!(lab_addr("70000", "PORT").unwrap_err().to_string().contains("not a port"));
    }
}
