//! The way out to the network: a UDP socket or the TCP connections, behind one `emit`
//! that `send` and the delay scheduler share. Kept apart from [`super::shared`], which
//! the transports themselves use, so that no module of the transport depends on a
//! module that depends on it.

use super::shared::{bump, Shared};
use super::tcp::Connections;
use super::udp::{BlockingUdp, UdpPort};
use std::net::SocketAddr;
use std::sync::Arc;

/// The way out to the network, shared by `send` and the delay scheduler.
#[derive(Clone)]
pub enum Outbound {
    Udp(Arc<UdpPort>),
    UdpBlocking(Arc<BlockingUdp>),
    Tcp(Arc<Connections>),
}

impl Outbound {
    /// Sends one datagram now (UDP) or queues one frame for the destination's writer
    /// (TCP). Failures are counted and reported, never returned: the layer above
    /// retransmits what matters.
    pub fn emit(&self, shared: &Shared, to: SocketAddr, bytes: Vec<u8>) {
        let sent = match self {
            Outbound::Udp(socket) => socket.send_to(&bytes, to),
            Outbound::UdpBlocking(socket) => socket.send_to(&bytes, to),
            Outbound::Tcp(connections) => return connections.enqueue(to, bytes),
        };
        match sent {
            Ok(_) => bump(&shared.counters.sent),
            Err(e) => shared.send_failed(to, &format!("cannot send a UDP datagram of {} bytes: {e}", bytes.len())),
        }
    }
}
