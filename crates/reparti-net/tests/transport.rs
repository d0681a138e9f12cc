//! The transports on loopback: UDP and TCP round trips, hostile TCP peers, bind errors,
//! and fault injection measured at the receiving end.
//!
//! Receivers read concurrently with the senders and senders pace themselves on what has
//! arrived, so UDP loopback loses nothing of its own and every missing datagram is one
//! the injector dropped. Every wait is bounded by [`LIMIT`].

use reparti_net::transport::{Faults, LinkDelay, Transport, TransportKind, MAX_FRAME};
use reparti_net::NetError;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};

/// Bound on any one wait.
const LIMIT: Duration = Duration::from_secs(20);

const KINDS: [TransportKind; 2] = [TransportKind::Udp, TransportKind::Tcp];

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn bind(kind: TransportKind, faults: Faults) -> Transport {
    Transport::bind(kind, loopback(), faults).await.expect("bind a loopback port")
}

/// Frame `seq` of `size` bytes (at least 4): the number, then filler.
fn numbered(seq: u32, size: usize) -> Vec<u8> {
    let mut bytes = seq.to_be_bytes().to_vec();
    bytes.resize(size.max(4), 0xA5);
    bytes
}

fn seq_of(bytes: &[u8]) -> u32 {
    u32::from_be_bytes(bytes[..4].try_into().expect("a numbered frame"))
}

/// Polls `done` until it holds, failing the test after [`LIMIT`].
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

struct Arrival {
    bytes: Vec<u8>,
    from: SocketAddr,
    at: Instant,
}

/// A transport receiving in a task of its own until told to stop.
struct Collector {
    addr: SocketAddr,
    count: Arc<AtomicU64>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<(Transport, Vec<Arrival>)>,
}

fn collect(mut transport: Transport) -> Collector {
    let addr = transport.local_addr();
    let count = Arc::new(AtomicU64::new(0));
    let (stop, mut stopped) = oneshot::channel::<()>();
    let counter = count.clone();
    let task = tokio::spawn(async move {
        let mut arrivals = Vec::new();
        loop {
            // `recv` is cancelled each time the stop branch wins: it must lose nothing.
            tokio::select! {
                _ = &mut stopped => break,
                received = transport.recv() => {
                    let (bytes, from) = received.expect("receiving keeps working");
                    arrivals.push(Arrival { bytes, from, at: Instant::now() });
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        (transport, arrivals)
    });
    Collector { addr, count, stop, task }
}

impl Collector {
    async fn wait_for(&self, n: u64) {
        eventually(&format!("{n} arrivals at {}", self.addr), || self.count.load(Ordering::SeqCst) >= n).await;
    }

    async fn finish(self) -> (Transport, Vec<Arrival>) {
        let _ = self.stop.send(());
        timeout(LIMIT, self.task).await.expect("the collector stops").expect("the collector does not panic")
    }
}

/// What should arrive after `sends` sends, given the injected faults.
fn expected_arrivals(sender: &Transport, sends: u64) -> u64 {
    let stats = sender.stats();
    sends - stats.injected_drops + stats.injected_dups
}

/// Sends every frame, waiting after each `window` of them until all that should have
/// arrived has, so that no socket buffer overflows.
async fn send_paced(sender: &Transport, collector: &Collector, frames: Vec<Vec<u8>>, window: usize) {
    let total = frames.len();
    for (i, frame) in frames.into_iter().enumerate() {
        sender.send(collector.addr, frame).await;
        if (i + 1) % window == 0 || i + 1 == total {
            collector.wait_for(expected_arrivals(sender, i as u64 + 1)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_of_every_size_make_the_round_trip() {
    for kind in KINDS {
        let a = bind(kind, Faults::default()).await;
        let b = collect(bind(kind, Faults::default()).await);
        let sizes = [0usize, 1, 2, 3, 100, 1400, 9000, 60 * 1024];
        let frames: Vec<Vec<u8>> =
            (0..80usize).map(|i| (0..sizes[i % sizes.len()]).map(|j| (i * 7 + j) as u8).collect()).collect();
        send_paced(&a, &b, frames.clone(), 2).await;
        eventually("every frame written", || a.stats().sent == 80).await;
        let (b, arrivals) = b.finish().await;

        let mut got: Vec<Vec<u8>> = arrivals.iter().map(|x| x.bytes.clone()).collect();
        if kind == TransportKind::Tcp {
            assert_eq!(got, frames, "TCP keeps the order");
            assert!(arrivals.iter().all(|x| x.from.ip() == a.local_addr().ip()), "from the sender's connection");
        } else {
            assert!(arrivals.iter().all(|x| x.from == a.local_addr()), "from the sender's socket");
            let mut want = frames.clone();
            want.sort();
            got.sort();
            assert_eq!(got, want, "every datagram arrives once");
        }
        assert_eq!(b.stats().received, 80);
        assert_eq!(a.stats().send_errors, 0);
    }
}

/// A burst queued at once over TCP (on one thread, nothing is written before the last
/// frame is queued) leaves in a few large writes, each of many frames and none split
/// wrongly: every frame arrives whole, once, in order, across the reader's buffer
/// boundaries, and nothing is dropped from a queue that holds a reliable window.
#[tokio::test]
async fn a_tcp_burst_is_written_in_batches_and_read_back_frame_by_frame() {
    const FRAMES: u32 = 3000;
    let a = bind(TransportKind::Tcp, Faults::default()).await;
    let b = collect(bind(TransportKind::Tcp, Faults::default()).await);
    // Sizes from 4 bytes to 3 KiB, so that frames straddle every 16 KiB read and 64 KiB write.
    let frames: Vec<Vec<u8>> = (0..FRAMES).map(|i| numbered(i, 4 + (i as usize * 37) % 3000)).collect();
    for frame in &frames {
        a.send_now(b.addr, frame.clone());
    }
    b.wait_for(u64::from(FRAMES)).await;
    let (b, arrivals) = b.finish().await;
    let got: Vec<Vec<u8>> = arrivals.into_iter().map(|x| x.bytes).collect();
    assert!(got == frames, "every frame whole, once and in order");
    let stats = a.stats();
    assert_eq!((stats.sent, stats.backlog_drops, stats.send_errors), (u64::from(FRAMES), 0, 0));
    let bytes: usize = frames.iter().map(|f| f.len() + 4).sum();
    // A write takes frames until it holds 64 KiB, so it never holds more than that and one
    // frame (3 KiB here).
    let most = 64 * 1024 + 3004;
    assert!(stats.tcp_writes >= bytes.div_ceil(most) as u64, "{} writes for {bytes} bytes", stats.tcp_writes);
    assert!(stats.tcp_writes * 20 < u64::from(FRAMES), "{} writes for {FRAMES} frames: not batched", stats.tcp_writes);
    assert_eq!(b.stats().received, u64::from(FRAMES));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_loopback_works_when_the_machine_has_it() {
    for kind in KINDS {
        let v6 = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0));
        let a = match Transport::bind(kind, v6, Faults::default()).await {
            Ok(a) => a,
            Err(e) => {
                println!("skipping the IPv6 test: [::1] cannot be bound here ({e})");
                return;
            }
        };
        let mut b = Transport::bind(kind, v6, Faults::default()).await.expect("a second [::1] port");
        assert!(b.local_addr().is_ipv6() && b.local_addr().port() != 0);
        for seq in 0..20 {
            a.send(b.local_addr(), numbered(seq, 64)).await;
            let (bytes, from) = timeout(LIMIT, b.recv()).await.expect("in time").expect("received");
            assert_eq!(bytes, numbered(seq, 64));
            assert!(from.is_ipv6());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_gives_an_error_naming_the_fix() {
    for kind in KINDS {
        let taken = bind(kind, Faults::default()).await;
        let err = Transport::bind(kind, taken.local_addr(), Faults::default()).await.unwrap_err();
        assert!(matches!(err, NetError::Bind { addr, .. } if addr == taken.local_addr()), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(&taken.local_addr().port().to_string()), "{message}");
        assert!(message.contains("already in use") && message.contains("pick another port"), "{message}");
        assert!(message.contains(&kind.to_string().to_uppercase()), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_frames_are_refused_and_counted() {
    for kind in KINDS {
        let a = bind(kind, Faults::default()).await;
        let b = collect(bind(kind, Faults::default()).await);
        a.send(b.addr, vec![7; MAX_FRAME + 1]).await;
        a.send(b.addr, b"small".to_vec()).await;
        b.wait_for(1).await;
        if kind == TransportKind::Tcp {
            // The limit itself is allowed (UDP cannot carry that much in any case).
            a.send(b.addr, vec![9; MAX_FRAME]).await;
            b.wait_for(2).await;
        }
        let (_, arrivals) = b.finish().await;
        assert_eq!(arrivals[0].bytes, b"small");
        assert!(arrivals.iter().all(|x| x.bytes.len() <= MAX_FRAME));
        assert_eq!(a.stats().oversize, 1);
    }
}

/// Connects, writes `bytes`, closes the writing half and waits for the transport to close
/// the connection.
async fn raw_client(to: SocketAddr, bytes: &[u8]) {
    let mut stream = TcpStream::connect(to).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    stream.shutdown().await.expect("shutdown");
    let mut rest = Vec::new();
    // EOF or a reset: either way the transport has let go.
    let _ = timeout(LIMIT, stream.read_to_end(&mut rest)).await.expect("the transport closes the connection");
    assert!(rest.is_empty(), "the transport never writes on incoming connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tcp_clients_are_cut_off_and_the_listener_keeps_serving() {
    let mut b = bind(TransportKind::Tcp, Faults::default()).await;
    // Announces 4 GiB: refused before anything is allocated.
    raw_client(b.local_addr(), &[0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]).await;
    // One more than the limit.
    raw_client(b.local_addr(), &((MAX_FRAME + 1) as u32).to_be_bytes()).await;
    // Announces 10 bytes, sends 3, hangs up.
    raw_client(b.local_addr(), &[0, 0, 0, 10, 1, 2, 3]).await;
    // Hangs up inside the length prefix.
    raw_client(b.local_addr(), &[0, 0]).await;
    let stats = b.stats();
    assert_eq!((stats.oversize_received, stats.truncated, stats.received), (2, 2, 0));

    // A hand-written good frame (the format of docs), then an empty one, then a transport.
    let mut raw = TcpStream::connect(b.local_addr()).await.expect("connect");
    raw.write_all(&[0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o', 0, 0, 0, 0]).await.expect("write");
    let (bytes, from) = timeout(LIMIT, b.recv()).await.expect("in time").expect("received");
    assert_eq!((bytes.as_slice(), from), (&b"hello"[..], raw.local_addr().expect("bound")));
    let (bytes, _) = timeout(LIMIT, b.recv()).await.expect("in time").expect("received");
    assert!(bytes.is_empty(), "an empty frame is delivered as such");

    let a = bind(TransportKind::Tcp, Faults::default()).await;
    a.send(b.local_addr(), b"still here".to_vec()).await;
    let (bytes, _) = timeout(LIMIT, b.recv()).await.expect("in time").expect("received");
    assert_eq!(bytes, b"still here");
    assert_eq!(b.stats().connections, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_tcp_transport_closes_its_connections_and_listener() {
    let destination = TcpListener::bind(loopback()).await.expect("bind");
    let a = bind(TransportKind::Tcp, Faults::default()).await;
    let listening = a.local_addr();
    a.send(destination.local_addr().expect("bound"), b"bye".to_vec()).await;
    let (mut incoming, _) = timeout(LIMIT, destination.accept()).await.expect("in time").expect("accepted");
    let mut frame = [0u8; 7];
    incoming.read_exact(&mut frame).await.expect("one frame");
    assert_eq!(&frame, b"\0\0\0\x03bye");

    drop(a);
    let mut rest = Vec::new();
    let _ = timeout(LIMIT, incoming.read_to_end(&mut rest)).await.expect("the writer closes its connection");
    assert!(rest.is_empty());
    let deadline = Instant::now() + LIMIT;
    while TcpStream::connect(listening).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener still accepts");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_restarted_on_the_same_port_is_reconnected_to() {
    let a = bind(TransportKind::Tcp, Faults::default()).await;
    let mut b = bind(TransportKind::Tcp, Faults::default()).await;
    let port = b.local_addr();
    a.send(port, b"first".to_vec()).await;
    assert_eq!(timeout(LIMIT, b.recv()).await.expect("in time").expect("received").0, b"first");

    drop(b);
    let deadline = Instant::now() + LIMIT;
    // The old listener closes once its task has been aborted.
    let mut b = loop {
        match Transport::bind(TransportKind::Tcp, port, Faults::default()).await {
            Ok(b) => break b,
            Err(e) => assert!(Instant::now() < deadline, "the port stays taken: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // A frame written on the dead connection may be lost, as over any real network: the
    // reliable layer resends, and so does this loop, until one comes through.
    loop {
        a.send(port, b"again".to_vec()).await;
        if let Ok(received) = timeout(Duration::from_millis(50), b.recv()).await {
            assert_eq!(received.expect("received").0, b"again");
            break;
        }
        assert!(Instant::now() < deadline, "never reconnected; {:?}", a.stats());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_probability_of_one_lets_nothing_through() {
    for kind in KINDS {
        let a = bind(kind, Faults { drop: 1.0, ..Faults::default() }).await;
        let marker = bind(kind, Faults::default()).await;
        let b = collect(bind(kind, Faults::default()).await);
        for seq in 0..100 {
            a.send(b.addr, numbered(seq, 16)).await;
        }
        marker.send(b.addr, b"marker".to_vec()).await;
        b.wait_for(1).await;
        let (_, arrivals) = b.finish().await;
        assert_eq!(arrivals.len(), 1);
        assert_eq!(arrivals[0].bytes, b"marker");
        let stats = a.stats();
        assert_eq!((stats.injected_drops, stats.sent), (100, 0));
    }
}

/// A run of numbered frames through faults: the sender, and each frame received, in
/// arrival order, with the time since it was handed to `send`.
struct FaultyRun {
    sender: Transport,
    arrivals: Vec<(u32, Duration)>,
}

impl FaultyRun {
    fn seqs(&self) -> Vec<u32> {
        self.arrivals.iter().map(|(seq, _)| *seq).collect()
    }

    fn sorted_seqs(&self) -> Vec<u32> {
        let mut seqs = self.seqs();
        seqs.sort_unstable();
        seqs
    }
}

/// Sends `n` numbered frames through `faults`, and stops receiving once all that should
/// arrive has.
async fn run_faulty(kind: TransportKind, faults: Faults, n: u32) -> FaultyRun {
    let sender = bind(kind, faults).await;
    let b = collect(bind(kind, Faults::default()).await);
    let mut sent_at = Vec::new();
    for seq in 0..n {
        sent_at.push(Instant::now());
        sender.send(b.addr, numbered(seq, 32)).await;
        if (seq + 1) % 50 == 0 || seq + 1 == n {
            b.wait_for(expected_arrivals(&sender, u64::from(seq) + 1)).await;
        }
    }
    let (_, received) = b.finish().await;
    let arrivals = received
        .iter()
        .map(|x| {
            let seq = seq_of(&x.bytes);
            (seq, x.at.saturating_duration_since(sent_at[seq as usize]))
        })
        .collect();
    FaultyRun { sender, arrivals }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifth_dropped_loses_about_a_fifth_exactly_as_counted() {
    for kind in KINDS {
        let run = run_faulty(kind, Faults { drop: 0.2, seed: 11, ..Faults::default() }, 2000).await;
        let received = run.arrivals.len() as u64;
        assert!((1450..=1750).contains(&received), "{kind}: {received} of 2000 arrived");
        assert_eq!(run.sender.stats().injected_drops, 2000 - received, "{kind}: every loss is an injected drop");
        let distinct: BTreeSet<u32> = run.seqs().into_iter().collect();
        assert_eq!(distinct.len() as u64, received, "{kind}: nothing arrives twice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_drops_the_same_frames() {
    for kind in KINDS {
        let missing = |run: FaultyRun| {
            let present: BTreeSet<u32> = run.seqs().into_iter().collect();
            (0..500).filter(|seq| !present.contains(seq)).collect::<Vec<u32>>()
        };
        let faults = |seed| Faults { drop: 0.3, seed, ..Faults::default() };
        let first = missing(run_faulty(kind, faults(42), 500).await);
        let again = missing(run_faulty(kind, faults(42), 500).await);
        let other = missing(run_faulty(kind, faults(43), 500).await);
        assert!(!first.is_empty());
        assert_eq!(first, again, "{kind}: same seed, same drops");
        assert_ne!(first, other, "{kind}: another seed, other drops");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dup_probability_of_one_doubles_everything() {
    for kind in KINDS {
        let run = run_faulty(kind, Faults { dup: 1.0, ..Faults::default() }, 200).await;
        let twice: Vec<u32> = (0..200).flat_map(|seq| [seq, seq]).collect();
        assert_eq!(run.sorted_seqs(), twice, "{kind}");
        assert_eq!(run.sender.stats().injected_dups, 200);
        eventually("every copy written", || run.sender.stats().sent == 400).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordering_changes_the_order_and_loses_nothing() {
    for kind in KINDS {
        let run = run_faulty(kind, Faults { reorder: true, seed: 5, ..Faults::default() }, 300).await;
        assert_eq!(run.sorted_seqs(), (0..300).collect::<Vec<_>>(), "{kind}: everything arrives once");
        assert_ne!(run.seqs(), run.sorted_seqs(), "{kind}: some frames overtook others");
        assert!(run.sender.stats().reordered > 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_frames_all_arrive_no_sooner_than_the_minimum() {
    let (min, max) = (Duration::from_millis(20), Duration::from_millis(40));
    for kind in KINDS {
        let run = run_faulty(
            kind,
            Faults { delay: Some(LinkDelay::Uniform { min, max }), seed: 9, ..Faults::default() },
            100,
        )
        .await;
        assert_eq!(run.sorted_seqs(), (0..100).collect::<Vec<_>>(), "{kind}: everything arrives once");
        for (seq, delay) in &run.arrivals {
            assert!(*delay >= min, "{kind}: frame {seq} arrived after {delay:?}");
        }
        assert_eq!(run.sender.stats().delayed, 100);
    }
}
