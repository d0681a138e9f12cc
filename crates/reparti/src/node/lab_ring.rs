//! TP3's shape: `reparti node token-ring LOCAL_PORT NEXT_PORT [jeton]`.
//!
//! In the lab each node knows two ports only, its own and its successor's, never the
//! size of the ring. Such a node runs the token ring as if the ring had two nodes: itself
//! (position 0, on LOCAL_PORT) and "the next one" (position 1, on NEXT_PORT), and takes
//! every message it receives as coming from its predecessor. The token goes round a ring
//! of any number of such processes, each passing it to its own successor; `jeton` gives
//! this node the token at the start. By default the token stays with a node until the
//! console says `release` (TP3's `menu_send`); `--param laps=K` passes it on
//! automatically and stops it at the `jeton` node after K laps.
//!
//! The reliable layer is off in this shape: acknowledgements would go to the successor,
//! not to the sender. Data messages need the whole ring (`--peers`), since a node that
//! knows only its successor cannot address anyone else.

use super::addr::parse_addr;
use super::args::NodeArgs;
use super::drive::NodeRun;
use super::link::LinkFlags;
use crate::error::usage;
use reparti_core::{AlgorithmSpec, IdAssignment, NodeId, TopologyKind};
use std::net::SocketAddr;

/// The only algorithm with TP3's shape.
const LAB_RING_ALGORITHM: &str = "token-ring";

/// A port (`5001`, on 127.0.0.1) or a whole address.
fn lab_addr(text: &str, what: &str) -> anyhow::Result<SocketAddr> {
    match text.parse::<u16>() {
        Ok(port) => Ok(SocketAddr::from(([127, 0, 0, 1], port))),
        Err(_) => parse_addr(text, what),
    }
}

/// The plan of a TP3 node: a two-node view of the ring, the token at `jeton`.
pub fn ring_plan(args: &NodeArgs, spec: AlgorithmSpec) -> anyhow::Result<NodeRun> {
    if spec.name != LAB_RING_ALGORITHM {
        return Err(usage(format!(
            "the lab shape LOCAL_PORT NEXT_PORT [jeton] is TP3's token ring: write `reparti node token-ring {}`; for {} give every address with --peers",
            args.lab_args.join(" "),
            spec.name
        )));
    }
    let (local, next, jeton) = match args.lab_args.as_slice() {
        [local, next] => (local, next, false),
        [local, next, j] if j.eq_ignore_ascii_case("jeton") || j.eq_ignore_ascii_case("token") => (local, next, true),
        other => {
            return Err(usage(format!(
            "token-ring takes LOCAL_PORT NEXT_PORT [jeton], got {:?}: e.g. `reparti node token-ring 5001 5002 jeton`",
            other.join(" ")
        )))
        }
    };
    let local = lab_addr(local, "LOCAL_PORT")?;
    let next = lab_addr(next, "NEXT_PORT")?;
    if !args.peers.is_empty() || args.cluster.is_some() || args.me.is_some() {
        return Err(usage("the lab shape names the ports itself: drop --peers, --cluster and --me"));
    }
    // The two-node view: this node is 0, its successor 1; the token starts at 0 only
    // with `jeton`. `laps = 0` is TP3's manual mode, unless the command line says otherwise.
    let mut lab_args = args.param.clone();
    lab_args.retain(|p| !p.starts_with("holder="));
    lab_args.push(format!("holder={}", if jeton { 0 } else { 1 }));
    if !lab_args.iter().any(|p| p.starts_with("laps=")) {
        lab_args.push("laps=0".into());
    }
    // No drawn workload: a node that knows only its successor has no one else to write to.
    lab_args.retain(|p| !p.starts_with("sends="));
    lab_args.push("sends=0".into());
    let patched = NodeArgs {
        lab: None,
        algorithm: args.algorithm.clone(),
        lab_args: Vec::new(),
        me: Some(0),
        peers: vec![local.to_string(), next.to_string()],
        cluster: None,
        listen: args.listen.clone(),
        topology: Some(TopologyKind::Ring.to_string()),
        ids: Some(IdAssignment::Asc.to_string()),
        seed: args.seed,
        param: lab_args,
        transport: args.transport.clone(),
        link: LinkFlags { reliable: "off".into(), ..args.link.clone() },
        give_up_after: args.give_up_after,
        idle_ms: args.idle_ms,
        start_delay_ms: args.start_delay_ms,
        trace: args.trace.clone(),
        interactive: args.interactive,
        json: args.json,
        supervised: false,
        nodes: None,
    };
    let mut node = NodeRun::from_args(&patched, spec)?;
    node.plan.cfg.incoming_from = Some(NodeId(1));
    // In manual mode a node waits for its console; automatic laps end by idleness.
    let manual = patched.param.iter().any(|p| p == "laps=0");
    node.plan.cfg.never_idle = manual && node.interactive;
    Ok(node)
}
