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
//!
//! The event-loop driver (TCP) had the same fault in another form: its biased choice
//! takes controls before frames, so the acknowledgements queued behind a stream of
//! inputs; the second test runs two of our nodes over TCP, each on its own runtime and
//! thread, as two processes would.

mod common;

use common::{loopback, IDLE};
use reparti_algos::communication::token_ring::{Input, TokenRing};
use reparti_core::{IdAssignment, Instance, NodeId, NodeSetup, TopologyKind};
use reparti_net::reliable::ReliableConfig;
use reparti_net::runtime::{run_node_blocking, run_node_on, Control, NodeConfig};
use reparti_net::transport::{Faults, Transport, TransportKind};
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

/// A node's runtime and its bound transport: bound on the runtime that will run the node,
/// since a TCP transport's accept loop and readers are tasks of the runtime it is bound on.
fn bound_tcp() -> (tokio::runtime::Runtime, Transport) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let transport = rt.block_on(Transport::bind(TransportKind::Tcp, loopback(), Faults::default())).expect("bind");
    (rt, transport)
}

/// Runs one node on its own runtime, in a thread of its own, as a process would.
fn node_thread(
    (rt, transport): (tokio::runtime::Runtime, Transport),
    inst: &Instance<TokenRing>,
    cfg: NodeConfig,
    inputs: Vec<Input>,
) -> std::thread::JoinHandle<reparti_net::runtime::NodeReport<TokenRing>> {
    let me = cfg.me;
    let (alg, topology) = (inst.algorithm.clone(), inst.topology.clone());
    let setup = NodeSetup::new(me, inst.idents[me.index()], 2);
    let (tx, rx) = mpsc::channel(inputs.len() + 1);
    for input in inputs {
        assert!(tx.try_send(Control::Input(input)).is_ok(), "the channel holds every input");
    }
    std::thread::spawn(move || {
        // Kept open, so that the node stops when idle rather than when its inputs end.
        let _inputs = tx;
        rt.block_on(run_node_on(transport, &alg, setup, &topology, cfg, rx)).expect("the node runs")
    })
}

/// The same over TCP, on the event-loop driver, whose biased choice prefers controls to
/// frames: node 1 is a node of ours, acknowledging every 8th message at once.
#[test]
fn a_tcp_node_applying_a_long_stream_of_inputs_reads_its_acknowledgements_before_any_timeout() {
    let params = [("laps".to_string(), "0".to_string()), ("sends".to_string(), "0".to_string())];
    let inst = Instance::<TokenRing>::new(&params, Some(&TopologyKind::Ring), 2, &IdAssignment::Asc, 1)
        .expect("a valid instance");
    let (sender_node, receiver_node) = (bound_tcp(), bound_tcp());
    let addrs: Vec<SocketAddr> = vec![sender_node.1.local_addr(), receiver_node.1.local_addr()];
    let slow = Duration::from_millis(100);
    let config = |me: NodeId| {
        let mut cfg = NodeConfig::new(me, addrs.clone());
        cfg.transport = TransportKind::Tcp;
        cfg.reliable = Some(ReliableConfig { initial_rto: slow, min_rto: slow, ..ReliableConfig::default() });
        cfg.idle_stop = IDLE;
        cfg
    };
    let stream = (0..SENDS).map(|k| Input::Send { to: NodeId(1), text: format!("message {k}") }).collect();
    let receiver = node_thread(receiver_node, &inst, config(NodeId(1)), Vec::new());
    let sender = node_thread(sender_node, &inst, config(NodeId(0)), stream);
    let sent = sender.join().expect("node 0's thread");
    let received = receiver.join().expect("node 1's thread");

    assert_eq!(received.received_of("DATA"), SENDS as u64, "every message arrived once");
    let stats = sent.reliable.expect("the reliable layer was on");
    assert_eq!(stats.timeouts, 0, "a timer expired with its acknowledgements unread: {stats:?}");
    assert_eq!(stats.retransmitted, 0, "messages sent again though acknowledged: {stats:?}");
}
