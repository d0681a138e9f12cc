//! Who a datagram really comes from: its source address against the address registered
//! for the node it claims to be, and, with a key, which registered peers send only
//! datagrams that fail authentication.
//!
//! Without a key, anything that fills `from` correctly would otherwise pass for that
//! node. The source address is the one thing a remote forger cannot choose freely:
//!
//! * **UDP**: a node sends from the socket it listens on, so a datagram claiming node
//!   `k` must come from node `k`'s registered address (the Python lab scripts do the
//!   same: they send from their bound port).
//! * **TCP**: a connection comes from an ephemeral port, so only the host is checked;
//!   and a connection speaks for the first node it names, for good (a later frame
//!   naming another node on it is refused).
//!
//! Hosts compare loosely where a node cannot know better: IPv4-mapped IPv6 addresses
//! are their IPv4 address, every loopback address is one host (a node listening on
//! `localhost` may answer from 127.0.0.1 or ::1), and a node registered under an
//! unspecified address (`0.0.0.0`) may send from any host.

use crate::transport::Origin;
use reparti_core::NodeId;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// TCP connections whose sender is remembered. Connections are numbered for good and
/// the transport keeps far fewer open at once: forgetting the oldest beyond this only
/// forgets connections long closed.
const BOUND_CONNECTIONS: usize = 1024;

pub(super) struct Peers {
    /// Each node's registered address, canonical, by position.
    addrs: Vec<SocketAddr>,
    /// The node at each registered address (UDP attribution).
    by_addr: BTreeMap<SocketAddr, NodeId>,
    /// The node each TCP connection first spoke for.
    bound: BTreeMap<u64, NodeId>,
    /// With a key, by position: datagrams from its registered address that failed
    /// authentication, and that opened.
    failed: Vec<u64>,
    opened: Vec<u64>,
    /// With a key: every datagram that opened.
    pub(super) authentic: u64,
}

impl Peers {
    pub(super) fn new(addrs: &[SocketAddr], keyed: bool) -> Peers {
        let addrs: Vec<SocketAddr> = addrs.iter().map(|a| canonical(*a)).collect();
        let by_addr = addrs.iter().enumerate().map(|(i, a)| (*a, NodeId(i as u32))).collect();
        let n = if keyed { addrs.len() } else { 0 };
        Peers { addrs, by_addr, bound: BTreeMap::new(), failed: vec![0; n], opened: vec![0; n], authentic: 0 }
    }

    /// Why a datagram claiming to be from `from` cannot be, if it cannot.
    pub(super) fn misfit(&mut self, from: NodeId, origin: Origin) -> Option<String> {
        let registered = *self.addrs.get(from.index())?;
        let seen = canonical(origin.addr);
        if !same_host(seen.ip(), registered.ip()) {
            return Some(format!(
                "it claims to be node {from}, registered at {registered}, but comes from another host"
            ));
        }
        match origin.connection {
            None if seen.port() != registered.port() => Some(format!(
                "it claims to be node {from}, which sends from {registered}, but comes from port {}",
                seen.port()
            )),
            None => None,
            Some(connection) => {
                let first = *self.bound.entry(connection).or_insert(from);
                if self.bound.len() > BOUND_CONNECTIONS {
                    self.bound.pop_first();
                }
                (first != from)
                    .then(|| format!("it claims to be node {from} on a TCP connection that spoke for node {first}"))
            }
        }
    }

    /// Notes a datagram that opened under the key.
    pub(super) fn opened(&mut self, origin: Origin) {
        self.authentic += 1;
        if let Some(k) = self.position(origin) {
            self.opened[k] += 1;
        }
    }

    /// Notes a datagram that failed authentication.
    pub(super) fn failed(&mut self, origin: Origin) {
        if let Some(k) = self.position(origin) {
            self.failed[k] += 1;
        }
    }

    /// The registered node a keyed UDP datagram came from, by its exact address.
    fn position(&self, origin: Origin) -> Option<usize> {
        if self.failed.is_empty() || origin.connection.is_some() {
            return None;
        }
        self.by_addr.get(&canonical(origin.addr)).map(|k| k.index())
    }

    /// The nodes that sent only datagrams failing authentication, with how many.
    pub(super) fn unauthentic(&self) -> Vec<(NodeId, u64)> {
        self.failed
            .iter()
            .zip(&self.opened)
            .enumerate()
            .filter(|(_, (failed, opened))| **failed > 0 && **opened == 0)
            .map(|(k, (failed, _))| (NodeId(k as u32), *failed))
            .collect()
    }
}

/// An IPv4-mapped IPv6 address as its IPv4 address; anything else as it is.
fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V6(v6) => SocketAddr::new(v6.to_canonical(), addr.port()),
        IpAddr::V4(_) => addr,
    }
}

/// Whether a datagram seen from `seen` can come from a node registered at `registered`.
fn same_host(seen: IpAddr, registered: IpAddr) -> bool {
    seen == registered || registered.is_unspecified() || (seen.is_loopback() && registered.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp(addr: &str) -> Origin {
        Origin { addr: addr.parse().expect("address"), connection: None }
    }

    fn tcp(addr: &str, connection: u64) -> Origin {
        Origin { addr: addr.parse().expect("address"), connection: Some(connection) }
    }

    fn peers(addrs: &[&str]) -> Peers {
        let addrs: Vec<SocketAddr> = addrs.iter().map(|a| a.parse().expect("address")).collect();
        Peers::new(&addrs, true)
    }

    #[test]
    fn udp_datagrams_come_from_their_nodes_address() {
        let mut p = peers(&["127.0.0.1:5000", "10.0.0.2:5001", "0.0.0.0:5002", "[::1]:5003"]);
        assert_eq!(p.misfit(NodeId(0), udp("127.0.0.1:5000")), None);
        assert_eq!(p.misfit(NodeId(0), udp("[::ffff:127.0.0.1]:5000")), None, "IPv4-mapped");
        assert_eq!(p.misfit(NodeId(0), udp("[::1]:5000")), None, "loopback is one host");
        assert!(p.misfit(NodeId(0), udp("127.0.0.1:6000")).is_some_and(|w| w.contains("port 6000")));
        assert_eq!(p.misfit(NodeId(1), udp("10.0.0.2:5001")), None);
        assert!(p.misfit(NodeId(1), udp("10.0.0.3:5001")).is_some_and(|w| w.contains("another host")));
        assert!(p.misfit(NodeId(1), udp("127.0.0.1:5001")).is_some(), "not a loopback registration");
        assert_eq!(p.misfit(NodeId(2), udp("192.168.1.9:5002")), None, "registered as 0.0.0.0: any host");
        assert_eq!(p.misfit(NodeId(3), udp("127.0.0.1:5003")), None, "localhost may be either family");
    }

    #[test]
    fn a_tcp_connection_speaks_for_the_first_node_it_names() {
        let mut p = peers(&["127.0.0.1:5000", "127.0.0.1:5001", "10.0.0.2:5002"]);
        assert_eq!(p.misfit(NodeId(0), tcp("127.0.0.1:41000", 1)), None, "any port");
        assert_eq!(p.misfit(NodeId(0), tcp("127.0.0.1:41000", 1)), None);
        assert!(p.misfit(NodeId(1), tcp("127.0.0.1:41000", 1)).is_some_and(|w| w.contains("spoke for node 0")));
        assert_eq!(p.misfit(NodeId(1), tcp("127.0.0.1:41001", 2)), None, "another connection");
        assert!(p.misfit(NodeId(2), tcp("127.0.0.1:41002", 3)).is_some(), "the host is still checked");
    }

    #[test]
    fn peers_sending_only_unauthentic_datagrams_are_named() {
        let mut p = peers(&["127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.1:5002"]);
        p.failed(udp("127.0.0.1:5000"));
        p.failed(udp("127.0.0.1:5000"));
        p.failed(udp("127.0.0.1:5001"));
        p.opened(udp("127.0.0.1:5001"));
        p.failed(udp("127.0.0.1:9999"));
        assert_eq!(p.unauthentic(), vec![(NodeId(0), 2)], "node 1 also sent one that opened");
        assert_eq!(p.authentic, 1);
    }
}
