//! Loopback ports for multi-process tests, handed out so that two tests never get the
//! same one.
//!
//! A port found by binding port 0 and letting go is free only "a moment ago": the kernel
//! may hand it to any other socket bound on port 0 or connecting out — a node's sending
//! socket, a TCP client, another test's helper — before the node under test binds it.
//! On a loaded 2-core machine that moment is long enough to lose. So the ports here come
//! from below the kernel's ephemeral range (32768–60999 by default on Linux), which it
//! never hands out by itself: only an explicit bind can take one, and within one test
//! binary a counter makes each handed out once. Binaries running side by side start at
//! offsets derived from their process ids, and every port is still checked free (UDP and
//! TCP) before it is handed out.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

/// The reserved block: well above the well-known and registered services people run on
/// a development machine (5000s, 8000s), and below the ephemeral range.
const FIRST: u32 = 20_000;
const COUNT: u32 = 12_000;

/// How far into the block this binary has handed out, from its starting offset.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// One port of the block no other test has been given, free right now for UDP and TCP.
pub fn free_port() -> u16 {
    // Spread binaries over the block so concurrent ones rarely meet; the check below
    // settles the rare meeting.
    let start = (std::process::id() % 50) * (COUNT / 50);
    loop {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(k < COUNT, "the test port block (20000–31999) is used up");
        let port = u16::try_from(FIRST + (start + k) % COUNT).expect("below 32000");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if UdpSocket::bind(addr).is_ok() && TcpListener::bind(addr).is_ok() {
            return port;
        }
    }
}

/// `n` distinct free loopback ports.
pub fn free_ports(n: usize) -> Vec<u16> {
    (0..n).map(|_| free_port()).collect()
}

/// `n` distinct free loopback addresses.
pub fn free_addrs(n: usize) -> Vec<SocketAddr> {
    free_ports(n).into_iter().map(|p| SocketAddr::from(([127, 0, 0, 1], p))).collect()
}

/// `n` free loopback addresses joined for `--peers`.
pub fn free_peers(n: usize) -> String {
    free_addrs(n).iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}
