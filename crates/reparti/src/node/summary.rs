//! What `reparti node` prints when it stops: a few readable lines, or one JSON object
//! (`--json`) that `reparti run` reads back; and what kept the node from finishing its
//! algorithm ([`Summary::problems`]), each said on stderr, making the exit status 1.

use reparti_core::{Algorithm, Message, OutputValue};
use reparti_net::runtime::{Msg, NodeReport};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// What the node did, as printed.
#[derive(Serialize)]
pub struct Summary {
    pub algorithm: &'static str,
    pub me: u32,
    pub n: usize,
    pub identity: u64,
    pub addr: SocketAddr,
    /// When the algorithm started, in ms since the Unix epoch (how `reparti run` lines
    /// the nodes' traces up on one time axis).
    pub started_unix_ms: f64,
    /// When the last message was delivered here, in ms since the Unix epoch.
    pub last_delivery_unix_ms: Option<f64>,
    /// Outputs in order, as `{key, value}`.
    pub outputs: Vec<OutputEntry>,
    pub sent: BTreeMap<&'static str, u64>,
    pub received: BTreeMap<&'static str, u64>,
    pub dropped: BTreeMap<&'static str, u64>,
    pub send_errors: u64,
    /// The transport's counters (datagrams or frames, injected faults).
    pub transport: serde_json::Value,
    /// The reliable layer's counters, when it was on.
    pub reliable: Option<serde_json::Value>,
    pub lamport: u64,
    pub vector: Option<Vec<u64>>,
    /// The node's final state, as the algorithm serialises it.
    pub state: serde_json::Value,
    /// Why the node could not finish its algorithm, one line each (empty: it could).
    #[serde(skip)]
    pub problems: Vec<String>,
}

#[derive(Serialize)]
pub struct OutputEntry {
    key: &'static str,
    value: serde_json::Value,
}

pub fn summarise<A: Algorithm>(
    algorithm: &'static str,
    n: usize,
    identity: u64,
    addr: SocketAddr,
    started_unix_ms: f64,
    keyed: bool,
    r: &NodeReport<A>,
) -> Summary {
    let by_kind = |counts: &[u64]| -> BTreeMap<&'static str, u64> {
        Msg::<A>::kinds().iter().zip(counts).map(|(k, c)| (*k, *c)).collect()
    };
    let outputs = r
        .outputs
        .iter()
        .map(|(key, v)| OutputEntry {
            key,
            value: match v {
                OutputValue::Int(i) => serde_json::Value::from(*i),
                OutputValue::Text(s) => serde_json::Value::from(s.as_str()),
            },
        })
        .collect();
    let dropped = BTreeMap::from(r.dropped.by_reason());
    let reliable = r.reliable.map(|s| {
        serde_json::json!({
            "sent": s.sent,
            "retransmitted": s.retransmitted,
            "acks_sent": s.acks_sent,
            "acks_received": s.acks_received,
            "bad_acks": s.bad_acks,
            "duplicates_suppressed": s.duplicates_suppressed,
            "out_of_order": s.out_of_order,
            "delivered": s.delivered,
            "refused": s.refused,
            "given_up": s.given_up,
        })
    });
    Summary {
        algorithm,
        me: r.me.0,
        n,
        identity,
        addr,
        started_unix_ms,
        last_delivery_unix_ms: r.last_delivery_ms.map(|ms| started_unix_ms + ms),
        outputs,
        sent: by_kind(&r.sent_by_type),
        received: by_kind(&r.received_by_type),
        dropped,
        send_errors: r.send_errors,
        transport: serde_json::to_value(r.transport).unwrap_or(serde_json::Value::Null),
        reliable,
        lamport: r.lamport,
        vector: r.vector.clone(),
        state: serde_json::to_value(&r.node).unwrap_or(serde_json::Value::Null),
        problems: problems(keyed, r),
    }
}

/// What kept the node from finishing its algorithm: messages given up, and traffic it
/// could not open — all of it (its own key is then the likely culprit), or all of some
/// peers' (one side has another key). Datagrams from strangers that fail authentication
/// are junk, not a problem of the run: only counted.
fn problems<A: Algorithm>(keyed: bool, r: &NodeReport<A>) -> Vec<String> {
    let mut out = Vec::new();
    let given_up = r.reliable.map_or(0, |s| s.given_up);
    if given_up > 0 {
        out.push(format!(
            "{given_up} message(s) were never acknowledged and were given up: is every peer running and reachable (see the lines above)?"
        ));
    }
    // Last: the line a supervisor quotes is a node's last, and this one names the cause.
    let crypto = r.dropped.crypto;
    if keyed && crypto > 0 && r.authentic == 0 {
        out.push(format!(
            "this node's key is probably wrong: all {crypto} datagram(s) it received failed authentication, and none opened; give every node the same --key-file"
        ));
    } else if keyed && !r.unauthentic_peers.is_empty() {
        let peers: Vec<String> =
            r.unauthentic_peers.iter().map(|(node, count)| format!("node {node} ({count})")).collect();
        out.push(format!(
            "every datagram from {} failed authentication: that node, or this one, uses another key; give every node the same --key-file",
            peers.join(", ")
        ));
    }
    out
}

pub fn render(s: &Summary) -> String {
    use std::fmt::Write;
    let counts = |m: &BTreeMap<&str, u64>| {
        let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v}")).collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "{} node {} of {} (identity {}) on {}", s.algorithm, s.me, s.n, s.identity, s.addr);
    for o in &s.outputs {
        // Text without its JSON quotes: `leader = 5`, `token = held`.
        match o.value.as_str() {
            Some(text) => writeln!(out, "{} = {text}", o.key),
            None => writeln!(out, "{} = {}", o.key, o.value),
        }
        .ok();
    }
    let _ = writeln!(out, "sent: {}", counts(&s.sent));
    let _ = writeln!(out, "received: {}", counts(&s.received));
    let drops: BTreeMap<&str, u64> = s.dropped.iter().filter(|(_, v)| **v > 0).map(|(k, v)| (*k, *v)).collect();
    let _ = writeln!(out, "dropped: {}", counts(&drops));
    if s.send_errors > 0 {
        let _ = writeln!(out, "send errors: {}", s.send_errors);
    }
    if let Some(r) = &s.reliable {
        let _ = writeln!(
            out,
            "reliable layer: {} retransmitted, {} duplicates suppressed, {} acknowledgements sent",
            r["retransmitted"], r["duplicates_suppressed"], r["acks_sent"]
        );
    }
    let _ = writeln!(out, "lamport clock: {}", s.lamport);
    out
}
