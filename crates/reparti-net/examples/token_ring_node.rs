//! One token-ring node in a process of its own, through the same plan and runtime as
//! `reparti node token-ring`, for quick A/B measurements of the network runtime: this
//! example builds in a minute where the whole CLI takes half an hour, so a change to the
//! runtime can be measured before the CLI is rebuilt (`reparti bench --net` stays the
//! published figure).
//!
//! ```sh
//! cargo build --profile measure -p reparti-net --example token_ring_node
//! # one process per node; every node gets the same list of addresses:
//! token_ring_node ME ADDR,ADDR,... LAPS SENDS [tcp] [unreliable] [binary] [key=FILE]
//! ```
//!
//! `LAPS` token laps (ring mode: SENDS 0), or one lap and `SENDS` data messages per node
//! (a one-way stream between two nodes). Prints one JSON line: when the node started and
//! last delivered (ms since the Unix epoch) and what it received, by kind, from which a
//! script takes the rate over all nodes (first start to last delivery).

use reparti_algos::communication::TokenRing;
use reparti_core::{Algorithm, IdAssignment, Message, NodeId};
use reparti_net::plan::{self, NodePlan, NodeSettings, Start};
use reparti_net::secure::Key;
use reparti_net::transport::{Faults, TransportKind};
use reparti_net::wire::Wire;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("token_ring_node: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<String, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: token_ring_node ME ADDR,ADDR,... LAPS SENDS [tcp] [unreliable] [binary] [key=FILE]";
    let [me, addrs, laps, sends, options @ ..] = args.as_slice() else { return Err(usage.into()) };
    let me: u32 = me.parse().map_err(|e| format!("ME {me}: {e}; {usage}"))?;
    let addrs: Vec<SocketAddr> = addrs
        .split(',')
        .map(|a| a.parse().map_err(|e| format!("address {a}: {e}; {usage}")))
        .collect::<Result<_, _>>()?;
    let listen = *addrs.get(me as usize).ok_or_else(|| format!("node {me} has no address in the list; {usage}"))?;
    let (mut transport, mut reliable, mut key, mut wire) = (TransportKind::Udp, Some(10), None, Wire::Json);
    for option in options {
        match option.as_str() {
            "tcp" => transport = TransportKind::Tcp,
            "unreliable" => reliable = None,
            "binary" => wire = Wire::Binary,
            other => match other.strip_prefix("key=") {
                Some(path) => key = Some(Key::from_file(std::path::Path::new(path)).map_err(|e| e.to_string())?),
                None => return Err(format!("unknown option {other}; {usage}")),
            },
        }
    }
    let settings = NodeSettings {
        me: NodeId(me),
        n: addrs.len(),
        addrs,
        listen,
        params: vec![("laps".into(), laps.clone()), ("sends".into(), sends.clone())],
        topology: None,
        ids: IdAssignment::Asc,
        seed: 1,
        transport,
        wire,
        key,
        faults: Faults::default(),
        reliable,
        idle_stop: Duration::from_millis(300),
        trace: false,
        interactive: false,
        // Time for every process of the ring to bind before the first token.
        start: Start::After(Duration::from_millis(300)),
    };
    let plan = NodePlan::new(&TokenRing::spec(), settings);
    let ran = plan::run::<TokenRing>(plan, |_| {}).map_err(|e| e.to_string())?;
    let kinds = <<TokenRing as Algorithm>::Node as reparti_core::Process>::Msg::kinds();
    let received: serde_json::Map<String, serde_json::Value> = kinds
        .iter()
        .zip(&ran.report.received_by_type)
        .map(|(kind, count)| (kind.to_string(), serde_json::Value::from(*count)))
        .collect();
    let line = serde_json::json!({
        "me": me,
        "started_unix_ms": ran.started_unix_ms,
        "last_delivery_unix_ms": ran.report.last_delivery_ms.map(|ms| ran.started_unix_ms + ms),
        "received": received,
        "transport": ran.report.transport,
        "retransmitted": ran.report.reliable.as_ref().map(|r| r.retransmitted),
        "timeouts": ran.report.reliable.as_ref().map(|r| r.timeouts),
        "fast_retransmits": ran.report.reliable.as_ref().map(|r| r.fast_retransmits),
    });
    Ok(line.to_string())
}
