//! A node kept busy by a long stream of inputs still reads its acknowledgements.
//!
//! A workload's sends arrive as inputs, and the blocking driver applies inputs before
//! datagrams. Before it looked at its socket during such a stream, the first window's
//! acknowledgement sat unread until the retransmission timer expired: every one-way
//! stream began with a timeout, a retransmission of a message already received, and a
//! window cut to one. Here the peer is a plain UDP socket of the test that acknowledges
//! every message at once and the window is small enough for its socket buffer, so a
//! message it receives twice can only come from a timer that expired with its
//! acknowledgement unread. The timeouts are long (100 ms) and the stream longer (50,000
//! inputs, queued before the node starts): only a stall of the test's own thread for a
//! whole timeout could make a sound driver retransmit.

mod common;

use common::{loopback, IDLE};
use reparti_algos::communication::token_ring::{Input, TokenRing};
use reparti_core::{IdAssignment, Instance, NodeId, NodeSetup, TopologyKind};
use reparti_net::reliable::ReliableConfig;
use reparti_net::runtime::{run_node_blocking, Control, NodeConfig};
use reparti_net::transport::{Faults, Transport};
use std::collections::BTreeSet;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Inputs queued before the node starts: each sends one message while the node holds
/// the token, so the stream outlasts the timeout many times over.
const SENDS: usize = 50_000;

/// What the peer learnt: every `seq` received and how many arrived a second time.
struct PeerLog {
    seen: BTreeSet<u64>,
    twice: Vec<u64>,
}

/// Acknowledges every numbered message from node 0 at once, as node 1, until told to stop.
fn acknowledging_peer(socket: UdpSocket, stop: Arc<AtomicBool>) -> PeerLog {
    let mut log = PeerLog { seen: BTreeSet::new(), twice: Vec::new() };
    let mut upto = 0;
    let mut buf = vec![0; 65536];
    socket.set_read_timeout(Some(Duration::from_millis(50))).expect("a read timeout");
    while !stop.load(Ordering::SeqCst) {
        let Ok((len, from)) = socket.recv_from(&mut buf) else { continue };
        let Ok(datagram) = serde_json::from_slice::<serde_json::Value>(&buf[..len]) else { continue };
        let Some(seq) = datagram["seq"].as_u64() else { continue };
        if !log.seen.insert(seq) {
            log.twice.push(seq);
        }
        while log.seen.contains(&(upto + 1)) {
            upto += 1;
        }
        let ack = serde_json::json!({ "v": 1, "from": 1, "to": 0, "ack": upto });
        socket.send_to(ack.to_string().as_bytes(), from).expect("an acknowledgement sent");
    }
    log
}

#[test]
fn a_node_applying_a_long_stream_of_inputs_reads_its_acknowledgements_before_any_timeout() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    // Manual mode (laps = 0): node 0 keeps the token, so each input sends at once.
    let params = [("laps".to_string(), "0".to_string()), ("sends".to_string(), "0".to_string())];
    let inst = Instance::<TokenRing>::new(&params, Some(&TopologyKind::Ring), 2, &IdAssignment::Asc, 1)
        .expect("a valid instance");
    let transport = rt.block_on(Transport::bind_blocking_udp(loopback(), Faults::default())).expect("bind");
    let peer = UdpSocket::bind(loopback()).expect("bind the peer");
    let addrs: Vec<SocketAddr> = vec![transport.local_addr(), peer.local_addr().expect("the peer's address")];

    let (tx, rx) = mpsc::channel(SENDS + 1);
    for k in 0..SENDS {
        let input = Input::Send { to: NodeId(1), text: format!("message {k}") };
        assert!(tx.try_send(Control::Input(input)).is_ok(), "the channel holds every input");
    }
    let mut cfg = NodeConfig::new(NodeId(0), addrs);
    let slow = Duration::from_millis(100);
    // A window the peer's default socket buffer always holds: no message is lost, so
    // none is sent twice unless a timer expires.
    cfg.reliable =
        Some(ReliableConfig { initial_rto: slow, min_rto: slow, max_in_flight: 64, ..ReliableConfig::default() });
    cfg.idle_stop = IDLE;
    let setup = NodeSetup::new(NodeId(0), inst.idents[0], 2);

    let stop = Arc::new(AtomicBool::new(false));
    let peer_stop = Arc::clone(&stop);
    let peer_thread = std::thread::spawn(move || acknowledging_peer(peer, peer_stop));
    let handle = rt.handle().clone();
    let node = std::thread::spawn(move || {
        // Kept open, so that the node stops when idle rather than when its inputs end.
        let _inputs = tx;
        run_node_blocking(transport, &inst.algorithm, setup, &inst.topology, cfg, rx, &handle)
    });
    let report = node.join().expect("the node thread").expect("the node runs");
    stop.store(true, Ordering::SeqCst);
    let log = peer_thread.join().expect("the peer thread");

    let all: BTreeSet<u64> = (1..=SENDS as u64).collect();
    assert_eq!(log.seen, all, "every message reached the peer");
    let stats = report.reliable.expect("the reliable layer was on");
    assert!(
        log.twice.is_empty(),
        "messages sent again though acknowledged at once: {} ({:?}…), {stats:?}",
        log.twice.len(),
        &log.twice[..log.twice.len().min(10)]
    );
    assert_eq!(stats.timeouts, 0, "a timer expired with its acknowledgement unread: {stats:?}");
}
