//! A TCP listener under hostile connections, on loopback: silent and dripping ones
//! ("slow loris") are closed, more connections than the cap close the idlest, and
//! incomplete frames cannot hold more than the budget; through all of it, a real peer's
//! frames still arrive.
//!
//! Every wait is bounded by [`LIMIT`]; the limits under test are made small so that the
//! test takes milliseconds of them, not minutes. Conditions are polled (the listener's
//! counters, a socket seeing its end), never slept on.

use reparti_net::transport::{Faults, TcpLimits, Transport, TransportKind};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn listener(limits: TcpLimits) -> Transport {
    Transport::bind_with(TransportKind::Tcp, loopback(), Faults::default(), limits).await.expect("bind a loopback port")
}

/// Waits until the listener closes `stream`: a read sees its end (or a reset).
async fn closed_by_the_listener(mut stream: TcpStream) {
    let mut buf = [0u8; 16];
    loop {
        match timeout(LIMIT, stream.read(&mut buf)).await.expect("the listener closes the connection in time") {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// A real peer (another transport) sends `text`; the listener receives it.
async fn a_real_peer_gets_through(server: &mut Transport, text: &[u8]) {
    let peer = Transport::bind(TransportKind::Tcp, loopback(), Faults::default()).await.expect("bind");
    peer.send(server.local_addr(), text.to_vec()).await;
    let (bytes, _) = timeout(LIMIT, server.recv()).await.expect("the frame arrives in time").expect("received");
    assert_eq!(bytes, text);
}

/// Polls the listener's counters until `ready` holds.
async fn until(server: &Transport, what: &str, ready: impl Fn(&reparti_net::transport::TransportStats) -> bool) {
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !ready(&server.stats()) {
        assert!(tokio::time::Instant::now() < deadline, "{what}: {:?}", server.stats());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_dripping_connections_are_closed_and_the_listener_keeps_accepting() {
    let limits = TcpLimits {
        idle_timeout: Duration::from_millis(200),
        frame_timeout: Duration::from_millis(300),
        ..TcpLimits::default()
    };
    let mut server = listener(limits).await;
    let addr = server.local_addr();
    // One connection says nothing at all.
    let silent = TcpStream::connect(addr).await.expect("connect");
    // One announces a 100-byte frame and drips it, a byte every 50 ms: never silent for
    // the idle timeout, but far too slow for the frame's.
    let dripping = TcpStream::connect(addr).await.expect("connect");
    let (read_half, mut write_half) = dripping.into_split();
    let drip = tokio::spawn(async move {
        let _ = write_half.write_all(&[0, 0, 0, 100]).await;
        for _ in 0..100 {
            if write_half.write_all(&[1]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    closed_by_the_listener(silent).await;
    let mut read_half = read_half;
    let mut buf = [0u8; 1];
    let end = timeout(LIMIT, read_half.read(&mut buf)).await.expect("the dripping connection is closed in time");
    assert!(matches!(end, Ok(0) | Err(_)), "{end:?}");
    drip.abort();
    until(&server, "both counted", |s| s.idle_closed >= 2).await;
    a_real_peer_gets_through(&mut server, b"still accepting").await;
    assert_eq!(server.stats().connections, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_close_the_idlest_and_a_real_peer_gets_through() {
    const CAP: usize = 8;
    const HOGS: usize = 40;
    let limits = TcpLimits { max_connections: CAP, ..TcpLimits::default() };
    let mut server = listener(limits).await;
    let addr = server.local_addr();
    let mut hogs = Vec::new();
    for _ in 0..HOGS {
        hogs.push(TcpStream::connect(addr).await.expect("the kernel completes the handshake"));
    }
    // Accepted after every hog: the cap is full of silent connections when it comes.
    a_real_peer_gets_through(&mut server, b"a real frame").await;
    let stats = server.stats();
    assert_eq!(stats.connections, HOGS as u64 + 1);
    // The idlest go first, the oldest among equals: the first HOGS + 1 - CAP hogs.
    let evicted = HOGS + 1 - CAP;
    assert_eq!(stats.evicted, evicted as u64, "{stats:?}");
    for hog in hogs.drain(..evicted) {
        closed_by_the_listener(hog).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incomplete_frames_hold_no_more_than_the_budget() {
    const HOGS: usize = 10;
    // Each hog announces the largest frame and sends 20 KiB of it, which the listener
    // takes in 16 KiB steps: 32 KiB each, so a 64 KiB budget holds two of them.
    let limits = TcpLimits { max_buffered: 64 * 1024, ..TcpLimits::default() };
    let mut server = listener(limits).await;
    let addr = server.local_addr();
    let mut hogs = JoinSet::new();
    for _ in 0..HOGS {
        let mut hog = TcpStream::connect(addr).await.expect("connect");
        let announced = (reparti_net::transport::MAX_FRAME as u32 - 1).to_be_bytes();
        hog.write_all(&announced).await.expect("write");
        hog.write_all(&vec![7u8; 20 * 1024]).await.expect("write");
        hogs.spawn(closed_by_the_listener(hog));
    }
    // The older frames make room for the newer: all but two hogs are closed.
    until(&server, "the budget makes room", |s| s.over_budget >= (HOGS - 2) as u64).await;
    for _ in 0..HOGS - 2 {
        timeout(LIMIT, hogs.join_next()).await.expect("in time").expect("a hog").expect("no panic");
    }
    // The budget is full of two hogs' frames; a real frame still gets its bytes.
    a_real_peer_gets_through(&mut server, b"small and whole").await;
    assert!(server.stats().over_budget > (HOGS - 2) as u64, "the real frame closed one more hog");
    hogs.abort_all();
}
