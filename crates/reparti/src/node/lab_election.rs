//! TP7's shape: `reparti node chang-roberts-lab PORT --nodes N [--registry BDD.txt]`,
//! the sheet's election run as its nodes run it, over TP4's registry file.
//!
//! Each process is one node. It listens on PORT (a port on 127.0.0.1, or `HOST:PORT`; 0
//! picks a free one) and:
//!
//! 1. **registers** its address in the registry file ([`reparti_labs::mesh::registry`],
//!    the mesh's `BDD.txt` format and lock), and holds its port bound from then on;
//! 2. **draws its own identity** at random (OS-seeded hashing, the time, the process id:
//!    no shared seed, no `--ids`; the catalogue algorithm itself draws nothing) and prints
//!    `ID = …`;
//! 3. **waits** until the file lists N members (at most `--wait-ms`, 60 s by default;
//!    then one line saying how many came, and exit 1);
//! 4. **forms the ring** from the file: members sorted by port (then IP), a node's
//!    position is its rank, its successor the next port round the ring — the ring of
//!    [`reparti_labs::ring::from_registry`], which TP4's token ring
//!    (`reparti node token-ring [PORT]`) forms the same way;
//! 5. **runs the catalogue algorithm** `chang-roberts-lab` over the real runtime
//!    ([`reparti_net::plan`], with the reliable layer, `--key-file` and the other link
//!    flags as for any node), with its drawn identity as `own_ident` and its real port as
//!    `Port_elect`;
//! 6. once it has **seen its leader twice** (the sheet's end), and nothing has arrived
//!    for `--idle-ms` with everything it sent acknowledged, prints `Leader_ID = …` and
//!    `Leader_Port = …` (the leader's real port) and removes its line from the file.
//!
//! A node that has not seen its leader twice within `--wait-ms` of the start exits 1 with
//! one line saying so. A port already registered and in use is a usage error (exit 2),
//! as for the mesh.
//!
//! **Earlier runs.** The file is read afresh at every look, never cached. A node removes
//! its line when it stops, whether it finished or not; a node that was killed leaves its
//! line behind, so a registering node drops every line whose address it can bind: nobody
//! holds that port, the line is stale. Each node of a run holds its port from its
//! registration to its end, so no line of the run itself is dropped. Lines of other hosts
//! cannot be checked and are kept. More than N live members (a mesh member or another run
//! sharing the file) is an error naming them: give each election its own `--registry`.

use super::args::NodeArgs;
use crate::error::usage;
use crate::resolve::{Setup, SetupFlags};
use reparti_algos::election::chang_roberts_lab::Node as LabNode;
use reparti_algos::election::ChangRobertsLab;
use reparti_core::{AlgorithmSpec, NodeId};
use reparti_labs::ring::from_registry::{render, ring_order, wait_for_members, Registration, WaitError};
use reparti_net::plan::{self, Controls, NodePlan, NodeSettings, PlanError, Start};
use reparti_net::runtime::{Control, Show};
use reparti_net::transport::TransportKind;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// The only algorithm with TP7's shape.
pub const LAB_ELECTION_ALGORITHM: &str = "chang-roberts-lab";

/// The registry file when --registry is not given: TP4's name.
const DEFAULT_REGISTRY: &str = "BDD.txt";

/// How long to wait for the members, and then for the election, without --wait-ms.
const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// How often the registry is read while waiting for the members: a person starts the
/// nodes by hand, so a twentieth of a second is instant, and costs nothing.
const REGISTRY_POLL: Duration = Duration::from_millis(50);

/// How often the node is asked whether it is done.
const WATCH_PERIOD: Duration = Duration::from_millis(20);

/// Identities are drawn in 1..=MAX_IDENT: readable, and two nodes of a lab drawing the
/// same one (which the sheet's algorithm cannot break) has odds about n²/2·10⁻⁹.
const MAX_IDENT: u64 = 1_000_000_000;

/// How the shape is written, for error messages.
const SHAPE: &str = "chang-roberts-lab PORT --nodes N [--registry FILE]";

/// Runs one TP7 node to its end; exit 1 if it could not finish.
pub fn run_election(args: &NodeArgs, spec: AlgorithmSpec) -> anyhow::Result<ExitCode> {
    let (listen, n, registry) = shape(args)?;
    let wait = args.wait_ms.map_or(DEFAULT_WAIT, Duration::from_millis);
    // Not interactive: TP7's node has nothing to be told, it reports when it is done.
    let mut settings = settings(args, spec.clone(), n, &[], false)?;
    let mut registration = register(&registry, listen)?;
    let me = registration.addr;
    println!("registered {me} in {} ({n} nodes expected)", registry.display());
    let ident = draw_identity();
    println!("ID = {ident}");
    let ring = ring_order(wait_for(&registration, n, wait)?);
    let position = ring.iter().position(|a| *a == me).unwrap_or(0);
    println!("ring by port: {} (this node is #{position})", render(&ring));

    settings.me = NodeId(u32::try_from(position).map_err(|_| usage("too many nodes"))?);
    settings.addrs = ring;
    settings.listen = me;
    let mut plan = NodePlan::new(&spec, settings);
    plan.own_ident = Some(ident);
    // This node decides when it is over (see `watch`), not the runtime's idleness: a node
    // waiting for a slow predecessor is idle, yet not done.
    plan.cfg.never_idle = true;
    let idle = Duration::from_millis(args.idle_ms);
    // The port is handed over to the runtime: nobody registers between now and then
    // (every member is in), so nobody can take the line for a stale one.
    drop(registration.take_socket());
    let ran = plan::run::<ChangRobertsLab>(plan, |controls| watch(controls, idle, wait)).map_err(plan_error)?;
    let node = &ran.report.node;
    let given_up = ran.report.reliable.as_ref().map_or(0, |r| r.given_up);
    if !node.done() {
        return Err(anyhow::anyhow!(
            "the election did not end within {} s: this node never saw a leader twice (its best is {} on port {}); start all {n} nodes with the same --registry, or raise --wait-ms",
            wait.as_secs(),
            node.leader_id(),
            node.leader_port()
        ));
    }
    println!("Leader_ID = {}", node.leader_id());
    println!("Leader_Port = {}", node.leader_port());
    if given_up > 0 {
        eprintln!("warning: {given_up} message(s) were never acknowledged: a node of the ring stopped early");
    }
    Ok(ExitCode::SUCCESS)
}

/// PORT, N and the registry file, checked; the flags that mean nothing here refused.
fn shape(args: &NodeArgs) -> anyhow::Result<(SocketAddr, usize, PathBuf)> {
    let port = match args.lab_args.as_slice() {
        [port] => port,
        other => {
            return Err(usage(format!(
                "TP7's shape is `reparti node {SHAPE}`, got {:?}: e.g. `reparti node chang-roberts-lab 5001 --nodes 3`",
                other.join(" ")
            )))
        }
    };
    let listen = lab_addr(port)?;
    let n = match args.nodes {
        Some(n) if n >= 1 => n,
        Some(_) => return Err(usage("--nodes must be at least 1")),
        None => {
            return Err(usage(format!(
                "give the number of nodes of the election with --nodes N: each node waits until the registry lists N (`reparti node {SHAPE}`)"
            )))
        }
    };
    let refuse = |why: &str| Err(usage(why.to_string()));
    if !args.peers.is_empty() || args.cluster.is_some() || args.me.is_some() || args.listen.is_some() {
        return refuse("TP7's shape finds the nodes in the registry file: drop --peers, --cluster, --me and --listen");
    }
    if args.ids.is_some() || args.seed.is_some() {
        return refuse("in TP7's shape each node draws its own identity: drop --ids and --seed");
    }
    if args.supervised || args.interactive || args.json || args.trace.is_some() || !args.send.is_empty() {
        return refuse("TP7's shape prints ID, Leader_ID and Leader_Port only: drop --supervised, --interactive, --json, --trace and --send (`reparti run chang-roberts-lab` has them)");
    }
    let registry = args.registry.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_REGISTRY));
    Ok((listen, n, registry))
}

/// A port (on 127.0.0.1) or `HOST:PORT`.
fn lab_addr(text: &str) -> anyhow::Result<SocketAddr> {
    let text = text.trim();
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u16>() {
            Ok(port) => Ok(SocketAddr::from(([127, 0, 0, 1], port))),
            Err(_) => Err(usage(format!("PORT {text} is not a port: ports are 0..65535 (0 picks a free one)"))),
        };
    }
    super::addr::parse_addr(text, "PORT")
}

/// What every lab node that meets through the registry (TP5's, TP7's) is given, from
/// the flags: the link, the parameters (the lab's `lab_defaults` under the `--param`s),
/// the timings. The position and the addresses come from the registry later.
pub(super) fn settings(
    args: &NodeArgs,
    spec: AlgorithmSpec,
    n: usize,
    lab_defaults: &[(&str, &str)],
    interactive: bool,
) -> anyhow::Result<NodeSettings> {
    let setup = Setup::for_spec(
        spec,
        SetupFlags {
            topology: args.topology.as_deref(),
            // No lab gives identities: TP7 replaces them by the drawn one (`own_ident`).
            ids: "asc",
            params: &args.param,
            // Taken before the flags, so that every --param wins over them.
            file_params: lab_defaults.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            nodes: Some(n),
            seed: 1,
        },
    )?;
    // A topology that n nodes cannot make (a ring of one) is said before registering.
    setup.build(n)?;
    let transport = args.transport.as_deref().unwrap_or("udp");
    let transport: TransportKind = transport.parse().map_err(|e| usage(format!("--transport: {e}")))?;
    Ok(NodeSettings {
        me: NodeId(0),
        n,
        addrs: Vec::new(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        params: setup.params,
        topology: setup.topology,
        ids: setup.ids,
        seed: setup.seed,
        transport,
        wire: args.link.wire()?,
        key: args.link.key()?,
        faults: args.link.faults(setup.seed)?,
        reliable: args.link.reliable()?.then_some(args.give_up_after),
        idle_stop: Duration::from_millis(args.idle_ms),
        trace: false,
        interactive,
        start: Start::After(Duration::from_millis(args.start_delay_ms)),
    })
}

/// A random identity in 1..=MAX_IDENT. `RandomState` is keyed from the operating
/// system's randomness; the time and the process id make two nodes started in the same
/// instant differ even where it is not.
fn draw_identity() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.write_u32(std::process::id());
    1 + h.finish() % MAX_IDENT
}

/// Waits until the file lists `n` members, ours among them, for at most `limit`, saying
/// each new count; the members come in ring order. A file that cannot be read is the
/// caller's to fix (exit 2); too few or too many members, a failure of the run (exit 1).
pub(super) fn wait_for(registration: &Registration, n: usize, limit: Duration) -> anyhow::Result<Vec<SocketAddr>> {
    let progress = |k: usize| println!("{k} of {n} nodes registered");
    wait_for_members(registration, n, limit, REGISTRY_POLL, progress).map_err(|e| match e {
        WaitError::File(e) => usage(e.to_string()),
        other => anyhow::Error::new(other),
    })
}

/// Registers `listen` in the file (the shared [`Registration`], which drops stale lines).
pub(super) fn register(path: &Path, listen: SocketAddr) -> anyhow::Result<Registration> {
    let registration = Registration::join(path, Some(listen)).map_err(|e| usage(e.to_string()))?;
    if !registration.stale.is_empty() {
        let stale: Vec<String> = registration.stale.iter().map(ToString::to_string).collect();
        println!("dropped {} stale line(s) of an earlier run: {}", stale.len(), stale.join(", "));
    }
    Ok(registration)
}

/// Stops the node once it has seen its leader twice, everything it sent is acknowledged
/// and nothing has arrived for `idle` (its successor may still need a relay until then);
/// or, done or not, `limit` after the start.
fn watch(controls: Controls<ChangRobertsLab>, idle: Duration, limit: Duration) {
    let tx = controls.sender;
    tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        let mut quiet_since = started;
        let mut last_delivered = None;
        loop {
            tokio::time::sleep(WATCH_PERIOD).await;
            let (Some(status), Some(state)) = (ask(&tx, Show::Status).await, ask(&tx, Show::State).await) else {
                return; // the node has stopped
            };
            // `IDLE SENT DELIVERED`: IDLE is 1 when nothing is unacknowledged.
            let fields: Vec<&str> = status.split_whitespace().collect();
            let settled = fields.first() == Some(&"1");
            let delivered = fields.get(2).copied().map(str::to_string);
            if delivered != last_delivered {
                last_delivered = delivered;
                quiet_since = tokio::time::Instant::now();
            }
            let done = serde_json::from_str::<LabNode>(&state).is_ok_and(|node| node.done());
            if (done && settled && quiet_since.elapsed() >= idle) || started.elapsed() >= limit {
                let _ = tx.send(Control::Quit).await;
                return;
            }
        }
    });
}

/// Asks the node a question; `None` once it has stopped.
pub(super) async fn ask<I>(tx: &mpsc::Sender<Control<I>>, what: Show) -> Option<String> {
    let (reply, answer) = oneshot::channel();
    tx.send(Control::Show(what, reply)).await.ok()?;
    answer.await.ok()
}

/// A plan that does not fit is the caller's to fix (exit 2); anything else, among which
/// a port taken between the registration and the start, is a failure of the run (exit 1).
fn plan_error(e: PlanError) -> anyhow::Error {
    match e {
        PlanError::Setup(msg) => usage(msg),
        other => anyhow::Error::new(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_drawn_in_range_and_differ() {
        let drawn: Vec<u64> = (0..50).map(|_| draw_identity()).collect();
        assert!(drawn.iter().all(|id| (1..=MAX_IDENT).contains(id)));
        let distinct: std::collections::BTreeSet<u64> = drawn.iter().copied().collect();
        assert!(distinct.len() > 45, "{drawn:?}");
    }
}
