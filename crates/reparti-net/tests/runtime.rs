//! The UDP runtime on loopback: whole clusters of nodes as tasks of one tokio runtime.
//!
//! Every node's socket is bound (on port 0) before any node starts, so no datagram meets
//! a closed port; every test is bounded by a timeout, and every node task is awaited (or
//! aborted on timeout), so no task or socket outlives its test.

use reparti_algos::communication::TokenRing;
use reparti_algos::election::chang_roberts::Role;
use reparti_algos::election::{hops_to_next_larger, ChangRoberts};
use reparti_core::{Algorithm, IdAssignment, Instance, NodeId, NodeSetup, OutputValue};
use reparti_net::reliable::ReliableConfig;
use reparti_net::runtime::{bind, run_node, run_node_on, Control, NetError, NodeConfig, NodeReport};
use reparti_net::secure::{seal, Key};
use reparti_net::transport::{Faults, Transport, TransportKind};
use reparti_net::wire::{encode, Envelope, Wire};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

mod common;
use common::{instance, loopback, run_cluster, run_cluster_with, IDLE, LIMIT};

/// Checks one Chang–Roberts run with every node an initiator.
fn check_election(idents: &[u64], reports: &[NodeReport<ChangRoberts>]) {
    let n = idents.len() as u64;
    let max = *idents.iter().max().expect("nodes");
    for r in reports {
        let leaders: Vec<&OutputValue> = r.outputs_of("leader").collect();
        assert_eq!(leaders, vec![&OutputValue::from(max)], "node {} outputs leader = max once", r.me);
        assert_eq!(r.node.leader(), Some(max));
        assert_eq!(r.send_errors, 0);
        // Every event traced, the start first.
        let trace = r.trace.as_ref().expect("trace asked for");
        assert_eq!(trace.first().map(|e| e.kind), Some(reparti_core::trace::EventKind::Start));
    }
    let winners: Vec<NodeId> = reports.iter().filter(|r| r.node.role() == Role::Leader).map(|r| r.me).collect();
    assert_eq!(winners.len(), 1, "exactly one leader, got {winners:?}");
    let elect: u64 = reports.iter().map(|r| r.sent_of("ELECT")).sum();
    let elected: u64 = reports.iter().map(|r| r.sent_of("ELECTED")).sum();
    assert_eq!(elect, hops_to_next_larger(idents).iter().sum::<u64>(), "ELECT = the all-initiators count");
    assert_eq!(elected, n, "ELECTED = n");
    // Nothing lost on loopback: everything sent was received.
    let received: u64 = reports.iter().map(|r| r.received_of("ELECT") + r.received_of("ELECTED")).sum();
    assert_eq!(received, elect + elected);
}

async fn nothing(_: Vec<SocketAddr>) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chang_roberts_elects_the_max_over_udp() {
    for (ids, seed) in [(IdAssignment::Desc, 1), (IdAssignment::Random, 7), (IdAssignment::Random, 42)] {
        let inst = instance::<ChangRoberts>(5, ids, seed);
        let idents = inst.idents.clone();
        let reports = run_cluster(inst, None, nothing).await;
        check_election(&idents, &reports);
        // With 5 nodes (at most 64) vector clocks are kept, one entry per node.
        assert!(reports.iter().all(|r| r.vector.as_ref().is_some_and(|v| v.len() == 5)));
        assert!(reports.iter().all(|r| r.dropped.total() == 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chang_roberts_elects_the_max_with_fernet() {
    let inst = instance::<ChangRoberts>(5, IdAssignment::Random, 3);
    let idents = inst.idents.clone();
    let reports = run_cluster(inst, Some(Key::generate()), nothing).await;
    check_election(&idents, &reports);
    assert!(reports.iter().all(|r| r.dropped.total() == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stray_datagrams_are_dropped_and_counted() {
    let key = Key::generate();
    let inst = instance::<ChangRoberts>(5, IdAssignment::Desc, 1);
    let idents = inst.idents.clone();
    let k = key.clone();
    let reports = run_cluster(inst, Some(key), |addrs: Vec<SocketAddr>| async move {
        let stray = UdpSocket::bind(loopback()).await.expect("bind");
        let target = addrs[2];
        let env = |from: u32, to: u32| {
            let body = reparti_algos::election::chang_roberts::Msg::Elect(1_000);
            encode(&Envelope { from: NodeId(from), to: NodeId(to), lamport: 1, vc: None, seq: None, body }, Wire::Json)
        };
        // A valid token with one ciphertext character changed: its MAC no longer holds.
        let mut tampered = seal(&k, &env(1, 2));
        let middle = tampered.len() / 2;
        tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
        // A valid token from an hour ago, replayed past the 60 s TTL.
        let hour_ago = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .saturating_sub(3600);
        let datagrams: [Vec<u8>; 6] = [
            b"\x00\xffnot an envelope at all".to_vec(),
            seal(&Key::generate(), &env(1, 2)),
            tampered,
            reparti_net::secure::seal_at(&k, &env(1, 2), hour_ago),
            seal(&k, &env(99, 2)),
            seal(&k, &env(1, 3)),
        ];
        for d in &datagrams {
            stray.send_to(d, target).await.expect("send on loopback");
        }
    })
    .await;
    // The forged ELECT(1000) never got in: the election is the honest one.
    check_election(&idents, &reports);
    let d = reports[2].dropped;
    // Unreadable, wrong key, tampered, expired: crypto; then an unknown sender, and a
    // datagram meant for another node.
    assert_eq!((d.crypto, d.wire, d.unknown_sender, d.wrong_destination), (4, 0, 1, 1));
    assert!(reports.iter().enumerate().all(|(i, r)| i == 2 || r.dropped.total() == 0));
    let drops =
        reports[2].trace.as_ref().expect("trace").iter().filter(|e| e.kind == reparti_core::trace::EventKind::Drop);
    assert_eq!(drops.count(), 6, "each refused datagram is traced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_ring_delivers_every_data_message() {
    let inst = instance::<TokenRing>(5, IdAssignment::Asc, 11);
    let expected: Vec<(NodeId, NodeId)> = inst
        .workload
        .iter()
        .map(|w| match &w.input {
            reparti_algos::communication::token_ring::Input::Send { to, .. } => (w.node, *to),
            other => panic!("unexpected workload input {other:?}"),
        })
        .collect();
    assert!(!expected.is_empty());
    let reports = run_cluster(inst, None, nothing).await;
    check_token_ring(expected, &reports);
}

/// Every data message delivered exactly once where it was sent; the token went round
/// twice (default laps = 2) and rests at exactly one node.
fn check_token_ring(mut expected: Vec<(NodeId, NodeId)>, reports: &[NodeReport<TokenRing>]) {
    let mut delivered: Vec<(NodeId, NodeId)> =
        reports.iter().flat_map(|r| r.node.delivered.iter().map(move |d| (d.origin, r.me))).collect();
    expected.sort();
    delivered.sort();
    assert_eq!(delivered, expected, "every data message delivered exactly once, where it was sent");
    assert!(reports.iter().all(|r| r.node.queue.is_empty()));
    let n = reports.len() as u64;
    let tokens: u64 = reports.iter().map(|r| r.sent_of("TOKEN")).sum();
    assert_eq!(tokens, 2 * n);
    let received: u64 = reports.iter().map(|r| r.received_of("TOKEN")).sum();
    assert_eq!(received, 2 * n, "no token lost or duplicated on the way");
    assert_eq!(reports.iter().filter(|r| r.node.has_token).count(), 1);
}

/// 20 % loss, 10 % duplication and reordering on every link, under the reliable layer.
fn lossy(kind: TransportKind) -> impl Fn(&mut NodeConfig) {
    move |cfg: &mut NodeConfig| {
        cfg.transport = kind;
        cfg.faults = Faults { drop: 0.2, dup: 0.1, reorder: true, seed: cfg.me.0 as u64, ..Faults::default() };
        cfg.reliable = Some(ReliableConfig { initial_rto: Duration::from_millis(20), ..ReliableConfig::default() });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chang_roberts_elects_the_max_over_tcp() {
    let inst = instance::<ChangRoberts>(5, IdAssignment::Random, 5);
    let idents = inst.idents.clone();
    let reports = run_cluster_with(inst, None, nothing, |cfg| cfg.transport = TransportKind::Tcp).await;
    check_election(&idents, &reports);
    assert!(reports.iter().all(|r| r.transport.connections > 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elections_survive_loss_duplication_and_reordering_under_the_reliable_layer() {
    for kind in [TransportKind::Udp, TransportKind::Tcp] {
        let inst = instance::<ChangRoberts>(6, IdAssignment::Random, 9);
        let idents = inst.idents.clone();
        let reports = run_cluster_with(inst, Some(Key::generate()), nothing, lossy(kind)).await;
        check_election(&idents, &reports);
        let injected: u64 = reports.iter().map(|r| r.transport.injected_drops).sum();
        let retransmitted: u64 = reports.iter().filter_map(|r| r.reliable).map(|s| s.retransmitted).sum();
        let suppressed: u64 = reports.iter().filter_map(|r| r.reliable).map(|s| s.duplicates_suppressed).sum();
        assert!(injected > 0 && retransmitted > 0, "{kind}: faults were injected and repaired");
        assert!(suppressed > 0, "{kind}: duplicates were suppressed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_survives_loss_duplication_and_reordering_under_the_reliable_layer() {
    for kind in [TransportKind::Udp, TransportKind::Tcp] {
        let inst = instance::<TokenRing>(5, IdAssignment::Asc, 11);
        let expected: Vec<(NodeId, NodeId)> = inst
            .workload
            .iter()
            .filter_map(|w| match &w.input {
                reparti_algos::communication::token_ring::Input::Send { to, .. } => Some((w.node, *to)),
                _ => None,
            })
            .collect();
        let reports = run_cluster_with(inst, None, nothing, lossy(kind)).await;
        check_token_ring(expected, &reports);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_is_a_clear_error() {
    let held = bind(loopback()).await.expect("bind");
    let addr = held.local_addr().expect("bound");
    let inst = instance::<ChangRoberts>(2, IdAssignment::Asc, 1);
    let (_tx, rx) = mpsc::channel(1);
    let cfg = NodeConfig::new(NodeId(0), vec![addr, loopback()]);
    let setup = NodeSetup::new(NodeId(0), 1, 2);
    let run = run_node(&inst.algorithm, setup, &inst.topology, cfg, rx);
    let err = tokio::time::timeout(LIMIT, run).await.expect("bounded").err().expect("the port is taken");
    assert!(matches!(err, NetError::Bind { .. }));
    let text = err.to_string();
    assert!(text.contains(&addr.port().to_string()) && text.contains("already in use"), "{text}");
}

/// A test algorithm for timers: each node ticks 3 times, 20 ms apart, pinging its
/// successor at each tick; a second timer is set and cancelled at once.
mod ticker {
    use reparti_core::{
        Algorithm, AlgorithmSpec, Chapter, Context, Message, NodeId, NodeSetup, ParamError, Params, Process,
        Properties, Timer,
    };
    use serde::{Deserialize, Serialize};

    #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
    pub struct Ping;

    impl Message for Ping {
        fn kinds() -> &'static [&'static str] {
            &["PING"]
        }
        fn kind(&self) -> usize {
            0
        }
    }

    #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
    pub struct Node {
        pub ticks: u32,
        pub pings: u32,
    }

    impl Process for Node {
        type Msg = Ping;
        type Input = ();

        fn on_start(&mut self, ctx: &mut Context<'_, Ping>) {
            ctx.set_timer("tick", 20.0);
            ctx.set_timer("never", 10.0);
            ctx.cancel_timer("never");
        }

        fn on_message(&mut self, _from: NodeId, _msg: Ping, _ctx: &mut Context<'_, Ping>) {
            self.pings += 1;
        }

        fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Ping>) {
            ctx.output("timer", timer);
            self.ticks += 1;
            if let Some(next) = ctx.neighbours().get(0) {
                ctx.send(next, Ping);
            }
            if self.ticks < 3 {
                ctx.set_timer("tick", 20.0);
            }
        }
    }

    pub struct Ticker;

    impl Algorithm for Ticker {
        type Node = Node;
        fn spec() -> AlgorithmSpec {
            AlgorithmSpec {
                name: "ticker",
                chapter: Chapter::Time,
                summary: "test: timers",
                params: &[],
                topologies: &["ring"],
                default_nodes: 3,
                needs_fifo: false,
                reads_clocks: false,
                reads_physical_clock: false,
                commands: &[],
                spans: &[],
            }
        }
        fn from_params(_: &Params) -> Result<Self, ParamError> {
            Ok(Ticker)
        }
        fn init(&self, _: &NodeSetup) -> Node {
            Node { ticks: 0, pings: 0 }
        }
        fn properties(&self) -> Properties<Node> {
            Properties::default()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_in_order_and_cancelled_ones_do_not() {
    let inst = instance::<ticker::Ticker>(3, IdAssignment::Asc, 1);
    let started = std::time::Instant::now();
    let reports = run_cluster(inst, None, nothing).await;
    // Three ticks 20 ms apart, then IDLE of idleness: the idle stop waited for the timers.
    assert!(started.elapsed() >= Duration::from_millis(60) + IDLE);
    for r in &reports {
        let fired: Vec<&OutputValue> = r.outputs_of("timer").collect();
        assert_eq!(fired, vec![&OutputValue::from("tick"); 3], "node {}: the cancelled timer never fires", r.me);
        assert_eq!((r.node.ticks, r.node.pings), (3, 3));
        // 3 sends and 3 receives each tick (a receive takes max + 1); starting and
        // timers do not (TP6's rules): at least 6.
        assert!(r.lamport >= 6, "node {}: lamport {}", r.me, r.lamport);
        let trace = r.trace.as_ref().expect("trace");
        let times: Vec<f64> =
            trace.iter().filter(|e| e.kind == reparti_core::trace::EventKind::Timer).map(|e| e.t).collect();
        assert_eq!(times.len(), 3);
        assert!(times.windows(2).all(|w| w[1] - w[0] >= 19.0), "20 ms apart: {times:?}");
    }
}

/// What a node puts on the wire when it has a key: read raw by a socket standing in for
/// its successor, over UDP and over TCP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_on_the_wire_with_a_key() {
    use tokio::io::AsyncReadExt;
    let key = Key::generate();
    for kind in [TransportKind::Udp, TransportKind::Tcp] {
        let inst = instance::<ChangRoberts>(2, IdAssignment::Asc, 1);
        let transport = Transport::bind(kind, loopback(), Faults::default()).await.expect("bind");
        let me = transport.local_addr();
        // The successor is a raw socket that records the bytes it gets.
        let (sniffer_addr, raw): (SocketAddr, Vec<u8>) = match kind {
            TransportKind::Udp => {
                let sniffer = UdpSocket::bind(loopback()).await.expect("bind");
                let addr = sniffer.local_addr().expect("bound");
                let node = spawn_keyed_node(&inst, transport, vec![me, addr], &key);
                let mut buf = vec![0u8; 65_536];
                let (len, _) =
                    tokio::time::timeout(LIMIT, sniffer.recv_from(&mut buf)).await.expect("a datagram").expect("recv");
                node.abort();
                (addr, buf[..len].to_vec())
            }
            TransportKind::Tcp => {
                let listener = tokio::net::TcpListener::bind(loopback()).await.expect("bind");
                let addr = listener.local_addr().expect("bound");
                let node = spawn_keyed_node(&inst, transport, vec![me, addr], &key);
                let (mut conn, _) =
                    tokio::time::timeout(LIMIT, listener.accept()).await.expect("a connection").expect("accept");
                let len = conn.read_u32().await.expect("a frame length") as usize;
                let mut frame = vec![0u8; len];
                conn.read_exact(&mut frame).await.expect("a whole frame");
                node.abort();
                (addr, frame)
            }
        };
        let text = String::from_utf8_lossy(&raw);
        assert!(raw.starts_with(b"gAAAAA"), "{kind} to {sniffer_addr}: a Fernet token, not {text}");
        for word in ["ELECT", "lamport", "\"from\"", "body"] {
            assert!(!text.contains(word), "{kind}: {word:?} readable on the wire");
        }
        // Yet the successor, with the key, reads the envelope.
        let plain = reparti_net::secure::open(&key, &raw, Some(60)).expect("opens with the key");
        let env: reparti_net::wire::Envelope<reparti_algos::election::chang_roberts::Msg> =
            reparti_net::wire::decode(&plain).expect("an envelope");
        assert_eq!((env.from, env.to, env.seq), (NodeId(0), NodeId(1), Some(1)));
    }
}

fn spawn_keyed_node(
    inst: &Instance<ChangRoberts>,
    transport: Transport,
    addrs: Vec<SocketAddr>,
    key: &Key,
) -> tokio::task::JoinHandle<()> {
    let mut cfg = NodeConfig::new(NodeId(0), addrs);
    cfg.transport = transport.kind();
    cfg.key = Some(key.clone());
    cfg.reliable = Some(ReliableConfig::default());
    let setup = NodeSetup::new(NodeId(0), inst.idents[0], 2);
    let alg = ChangRoberts::from_params(
        &reparti_core::Params::resolve("chang-roberts", ChangRoberts::spec().params, &[]).expect("params"),
    )
    .expect("alg");
    let topology = inst.topology.clone();
    let (_tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let _keep_open = _tx;
        let _ = run_node_on(transport, &alg, setup, &topology, cfg, rx).await;
    })
}

/// The blocking driver (a node waiting in `recvfrom` on its own thread) elects the same
/// leader with the same counts, with faults injected by the transport's task running on
/// the runtime's worker thread, and answers its controls.
#[test]
fn the_blocking_driver_elects_under_loss_and_answers_controls() {
    use reparti_net::runtime::{run_node_blocking, Show};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let inst = instance::<ChangRoberts>(5, IdAssignment::Random, 21);
    let n = inst.topology.len();
    let transports: Vec<Transport> = rt.block_on(async {
        let mut all = Vec::new();
        for i in 0..n {
            let faults = Faults { drop: 0.2, dup: 0.1, reorder: true, seed: i as u64, ..Faults::default() };
            all.push(Transport::bind_blocking_udp(loopback(), faults).await.expect("bind"));
        }
        all
    });
    assert!(transports.iter().all(Transport::is_blocking));
    let addrs: Vec<SocketAddr> = transports.iter().map(Transport::local_addr).collect();
    let alg = Arc::new(inst.algorithm);
    let topology = Arc::new(inst.topology);
    let mut controls = Vec::new();
    let mut threads = Vec::new();
    for (i, transport) in transports.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel(16);
        controls.push(tx);
        let mut cfg = NodeConfig::new(NodeId(i as u32), addrs.clone());
        cfg.reliable = Some(ReliableConfig { initial_rto: Duration::from_millis(20), ..ReliableConfig::default() });
        cfg.idle_stop = IDLE;
        cfg.trace = true;
        let setup = NodeSetup::new(NodeId(i as u32), inst.idents[i], n);
        let (alg, topology) = (Arc::clone(&alg), Arc::clone(&topology));
        let handle = rt.handle().clone();
        threads
            .push(std::thread::spawn(move || run_node_blocking(transport, &*alg, setup, &topology, cfg, rx, &handle)));
    }
    // A question is answered while the node runs (it is woken for it).
    let (reply, answer) = tokio::sync::oneshot::channel();
    controls[0].blocking_send(Control::Show(Show::Clock, reply)).expect("node 0 runs");
    assert!(answer.blocking_recv().expect("an answer").starts_with("lamport"));
    drop(controls);
    let reports: Vec<NodeReport<ChangRoberts>> =
        threads.into_iter().map(|t| t.join().expect("no panic").expect("the node ran")).collect();
    check_election(&inst.idents, &reports);
    let injected: u64 = reports.iter().map(|r| r.transport.injected_drops).sum();
    assert!(injected > 0, "loss was injected, and repaired");
}
