//! Transports: how a node's bytes travel, as UDP datagrams or TCP frames, through an
//! optional model of a lossy link.
//!
//! A [`Transport`] moves opaque units of bytes (an encoded, maybe sealed, envelope) to
//! and from socket addresses; what is inside is the business of the layers above. Each
//! unit given to [`Transport::send`] arrives, if it arrives, as one unit from
//! [`Transport::recv`]:
//!
//! * **UDP**: one datagram per unit. Nothing is guaranteed: loss, duplication and
//!   reordering are the reliable layer's problem.
//! * **TCP**: one frame per unit (4-byte big-endian length, then the bytes) over a kept
//!   connection per destination; see [TCP details](#tcp-details) below. Order is kept on
//!   each connection; a frame can still be lost when a connection breaks.
//!
//! Sending never fails loudly: errors are counted in [`TransportStats`] and reported as
//! a `tracing` warning (on stderr, in the CLI) once per peer and kind of problem, because
//! one unreachable peer must not stop a node, and the reliable layer retransmits what
//! matters.
//!
//! [`Faults`] turn the link into a lossy one on the sending side (drops, duplicates,
//! delays, reordering), seeded, so a run can be repeated. On TCP they apply to frames
//! the same way, modelling a lossy link under the reliable layer.
//!
//! # TCP details
//!
//! The `SocketAddr` that [`Transport::recv`] returns with a TCP frame is the address the
//! connection came from: the sender's ephemeral port, not its listening address (so do
//! not reply to it); [`Transport::recv_with_origin`] also says which connection, for a
//! receiver that holds each connection to the sender it first claimed. Incoming frames
//! over [`MAX_FRAME`] close their connection; so does a connection cut mid-frame, losing
//! the part received. What strangers can make a listener hold — connections, silence,
//! bytes of incomplete frames — is bounded by [`TcpLimits`] (see `tcp_in`).
//!
//! ```
//! use reparti_net::transport::{Faults, Transport, TransportKind};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let loopback = "127.0.0.1:0".parse().unwrap(); // port 0: any free port
//! let a = Transport::bind(TransportKind::Tcp, loopback, Faults::default()).await?;
//! let mut b = Transport::bind("tcp".parse().unwrap(), loopback, Faults::default()).await?;
//! a.send(b.local_addr(), b"hello".to_vec()).await;
//! let (bytes, _connection) = b.recv().await?;
//! assert_eq!(bytes, b"hello");
//! assert_eq!(b.stats().received, 1);
//! # Ok::<(), reparti_net::NetError>(())
//! # }).unwrap();
//! ```

mod faults;
mod link_delay;
mod outbound;
mod schedule;
mod shared;
mod tcp;
mod tcp_in;
mod tcp_limits;
mod udp;

pub use faults::{Faults, REORDER_HOLD};
pub use link_delay::LinkDelay;
pub use shared::TransportStats;
pub use tcp_limits::TcpLimits;
pub use udp::RECV_BUFFER;

use crate::error::NetError;
use faults::{Injector, Step};
use outbound::Outbound;
use schedule::Job;
use shared::{bump, lock, Shared};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use udp::{BlockingUdp, UdpPort};

/// The largest unit [`Transport::send`] accepts, and the largest TCP frame a peer may
/// announce: 128 KiB, room for a [`MAX_DATAGRAM`](crate::wire::MAX_DATAGRAM) envelope
/// after sealing (a Fernet token is about 4/3 of its plaintext).
pub const MAX_FRAME: usize = 128 * 1024;

/// Which protocol a transport speaks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum TransportKind {
    /// UDP datagrams (what the labs' Python scripts speak).
    #[default]
    Udp,
    /// TCP, length-prefixed frames.
    Tcp,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Udp => "udp",
            TransportKind::Tcp => "tcp",
        })
    }
}

impl FromStr for TransportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "udp" => Ok(TransportKind::Udp),
            "tcp" => Ok(TransportKind::Tcp),
            other => Err(format!("unknown transport {other:?}: use `udp` or `tcp`")),
        }
    }
}

/// Where a datagram or frame came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The sender's address: for UDP, the socket it sent from; for TCP, the address the
    /// connection came from (an ephemeral port).
    pub addr: SocketAddr,
    /// For TCP, the connection's number, unique for the transport's life.
    pub connection: Option<u64>,
}

/// A bound UDP socket or TCP listener, with its background tasks (TCP readers and
/// writers, the fault scheduler), which stop when it is dropped.
pub struct Transport {
    kind: TransportKind,
    shared: Arc<Shared>,
    outbound: Outbound,
    inbound: Inbound,
    faults: Option<FaultPath>,
}

enum Inbound {
    Udp {
        socket: Arc<UdpPort>,
        buf: Vec<u8>,
        errors_in_a_row: u32,
    },
    /// Read by blocking (`recv_timeout`), not through the event loop.
    UdpBlocking {
        socket: Arc<BlockingUdp>,
        errors_in_a_row: u32,
    },
    Tcp {
        frames: mpsc::Receiver<tcp_in::Incoming>,
    },
}

/// The fault injector and the queue to the scheduler that sends what it delays.
struct FaultPath {
    injector: Arc<Mutex<Injector>>,
    later: mpsc::UnboundedSender<(Instant, Job)>,
}

impl Transport {
    /// Binds `addr` (IPv4 or IPv6; port 0 picks a free port) for `kind`, with `faults`
    /// applied to everything sent, and a TCP listener's default [`TcpLimits`]. Errors
    /// name the address and the fix.
    pub async fn bind(kind: TransportKind, addr: SocketAddr, faults: Faults) -> Result<Transport, NetError> {
        Transport::bind_with(kind, addr, faults, TcpLimits::default()).await
    }

    /// [`bind`](Self::bind), with these limits on what connections may hold (TCP only).
    pub async fn bind_with(
        kind: TransportKind,
        addr: SocketAddr,
        faults: Faults,
        limits: TcpLimits,
    ) -> Result<Transport, NetError> {
        faults.validate().map_err(NetError::Config)?;
        let (outbound, inbound, shared) = match kind {
            TransportKind::Udp => {
                let socket = Arc::new(UdpPort::bind(addr).map_err(|e| bind_error(kind, addr, e))?);
                let local = socket.local_addr().map_err(|e| bind_error(kind, addr, e))?;
                let inbound =
                    Inbound::Udp { socket: socket.clone(), buf: vec![0; udp::RECV_BUFFER], errors_in_a_row: 0 };
                (Outbound::Udp(socket), inbound, Shared::new(local))
            }
            TransportKind::Tcp => {
                let listener = TcpListener::bind(addr).await.map_err(|e| bind_error(kind, addr, e))?;
                let local = listener.local_addr().map_err(|e| bind_error(kind, addr, e))?;
                let shared = Shared::new(local);
                let (tx, frames) = mpsc::channel(tcp_in::INCOMING_QUEUE);
                let listening = tcp_in::Listening::new(shared.clone(), limits);
                shared.tasks.spawn(tcp_in::accept_loop(listener, tx, listening));
                let outbound = Outbound::Tcp(Arc::new(tcp::Connections::new(shared.clone())));
                (outbound, Inbound::Tcp { frames }, shared)
            }
        };
        Ok(Transport::assemble(kind, shared, outbound, inbound, faults))
    }

    /// Binds a UDP socket that this thread will read by blocking in it
    /// ([`recv_timeout`](Self::recv_timeout)), for a node that waits for nothing else:
    /// two system calls per message received and answered, against four through the
    /// event loop. Still call it from within a tokio runtime: injected faults are sent
    /// late by a task, which must run on another thread (a multi-threaded runtime).
    pub async fn bind_blocking_udp(addr: SocketAddr, faults: Faults) -> Result<Transport, NetError> {
        faults.validate().map_err(NetError::Config)?;
        let kind = TransportKind::Udp;
        let socket = Arc::new(BlockingUdp::bind(addr).map_err(|e| bind_error(kind, addr, e))?);
        let local = socket.local_addr().map_err(|e| bind_error(kind, addr, e))?;
        let inbound = Inbound::UdpBlocking { socket: socket.clone(), errors_in_a_row: 0 };
        Ok(Transport::assemble(kind, Shared::new(local), Outbound::UdpBlocking(socket), inbound, faults))
    }

    fn assemble(
        kind: TransportKind,
        shared: Arc<Shared>,
        outbound: Outbound,
        inbound: Inbound,
        faults: Faults,
    ) -> Transport {
        let faults = if faults.is_none() {
            None
        } else {
            let injector = Arc::new(Mutex::new(Injector::new(faults)));
            let (later, jobs) = mpsc::unbounded_channel();
            shared.tasks.spawn(schedule::run(jobs, outbound.clone(), injector.clone(), shared.clone()));
            Some(FaultPath { injector, later })
        };
        Transport { kind, shared, outbound, inbound, faults }
    }

    /// Whether this transport is read by blocking ([`Transport::bind_blocking_udp`]).
    pub fn is_blocking(&self) -> bool {
        matches!(self.inbound, Inbound::UdpBlocking { .. })
    }

    /// For a blocking transport: the next datagram into `buf` (its length and sender), or
    /// `None` after `timeout` (at least 1 ms). The caller keeps one buffer of
    /// [`RECV_BUFFER`] bytes, so that receiving allocates nothing. An event-loop transport
    /// answers `None` at once: use [`recv`](Self::recv).
    pub fn recv_timeout(
        &mut self,
        buf: &mut [u8],
        timeout: std::time::Duration,
    ) -> Result<Option<(usize, SocketAddr)>, NetError> {
        self.recv_blocking(buf, Some(timeout))
    }

    /// For a blocking transport: a datagram already waiting, or `None` at once. A node
    /// that was busy for a while reads what came meanwhile before it believes a
    /// retransmission timer: the acknowledgement may be waiting there.
    pub fn try_recv(&mut self, buf: &mut [u8]) -> Result<Option<(usize, SocketAddr)>, NetError> {
        self.recv_blocking(buf, None)
    }

    fn recv_blocking(
        &mut self,
        buf: &mut [u8],
        wait: Option<std::time::Duration>,
    ) -> Result<Option<(usize, SocketAddr)>, NetError> {
        let Inbound::UdpBlocking { socket, errors_in_a_row } = &mut self.inbound else { return Ok(None) };
        let local = self.shared.local;
        let received = match wait {
            Some(timeout) => socket.recv_from(buf, timeout),
            None => socket.try_recv_from(buf),
        };
        match received {
            Ok(Some((len, peer))) => {
                *errors_in_a_row = 0;
                bump(&self.shared.counters.received);
                Ok(Some((len, peer)))
            }
            Ok(None) => Ok(None),
            // UDP reports some errors on the next read (an ICMP refusal of an earlier
            // datagram, a network gone down for a while): they concern a datagram or a
            // moment, not the socket, unless they persist — as in the event-loop path.
            Err(source) => {
                *errors_in_a_row += 1;
                if *errors_in_a_row >= udp::MAX_RECV_ERRORS {
                    *errors_in_a_row = 0;
                    return Err(NetError::Recv { addr: local, source });
                }
                if *errors_in_a_row == 1 {
                    tracing::warn!("reparti transport {local}: receive error: {source}");
                }
                // Do not spin on a persistent error: wait as a timeout would have.
                if wait.is_some() {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Ok(None)
            }
        }
    }

    /// The bound address (with the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// The protocol.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// Sends `bytes` to `to` as one datagram or frame, through the faults. Returns at once
    /// for delayed copies, and for TCP, where a writer task per destination does the
    /// writing. Failures are counted and reported once per peer, never returned.
    ///
    /// Not cancel-safe: a send cancelled midway may lose its datagram (or a held one).
    pub async fn send(&self, to: SocketAddr, bytes: Vec<u8>) {
        self.send_now(to, bytes);
    }

    /// [`send`](Self::send), without an `await`: sending never waits (a UDP datagram that
    /// finds the send buffer full is lost, as UDP allows; TCP frames and delayed copies
    /// are queued for tasks).
    pub fn send_now(&self, to: SocketAddr, bytes: Vec<u8>) {
        let counters = &self.shared.counters;
        if bytes.len() > MAX_FRAME {
            bump(&counters.oversize);
            let detail = format!("refused to send {} bytes, over the limit of {MAX_FRAME}", bytes.len());
            self.shared.report_once(to, "oversize", &detail);
            return;
        }
        let Some(faults) = &self.faults else {
            return self.outbound.emit(&self.shared, to, bytes);
        };
        let plan = lock(&faults.injector).plan(to, bytes);
        if plan.dropped {
            bump(&counters.injected_drops);
            return;
        }
        if plan.duplicated {
            bump(&counters.injected_dups);
        }
        for step in plan.steps {
            match step {
                Step::Now(bytes) => self.outbound.emit(&self.shared, to, bytes),
                Step::After(delay, bytes) => {
                    bump(&counters.delayed);
                    // Fails only once the scheduler is stopped, when nothing is sent any more.
                    let _ = faults.later.send((Instant::now() + delay, Job::Emit { to, bytes }));
                }
                Step::Held { id } => {
                    bump(&counters.reordered);
                    let _ = faults.later.send((Instant::now() + REORDER_HOLD, Job::Release { to, id }));
                }
            }
        }
    }

    /// The next datagram or frame received, with the address it came from (for TCP, the
    /// connection's: see the [module documentation](self#tcp-details)).
    ///
    /// Cancel-safe: when used in `tokio::select!` and another branch wins, nothing is lost.
    /// Errors only when the socket keeps failing (the node should stop).
    pub async fn recv(&mut self) -> Result<(Vec<u8>, SocketAddr), NetError> {
        self.recv_with_origin().await.map(|(bytes, origin)| (bytes, origin.addr))
    }

    /// [`recv`](Self::recv), saying which TCP connection a frame came on.
    pub async fn recv_with_origin(&mut self) -> Result<(Vec<u8>, Origin), NetError> {
        let addr = self.shared.local;
        let received = match &mut self.inbound {
            Inbound::Udp { socket, buf, errors_in_a_row } => {
                let (bytes, from) = udp::recv(socket, buf, errors_in_a_row, addr).await?;
                (bytes, Origin { addr: from, connection: None })
            }
            // Read by `recv_timeout`: nothing ever comes this way.
            Inbound::UdpBlocking { .. } => std::future::pending().await,
            Inbound::Tcp { frames } => match frames.recv().await {
                Some(frame) => frame,
                // The accept loop never gives up: only a transport being dropped gets here.
                None => return Err(NetError::Recv { addr, source: io::Error::other("the TCP listener stopped") }),
            },
        };
        bump(&self.shared.counters.received);
        Ok(received)
    }

    /// A frame already waiting, if any, without waiting for one: what lets a node kept
    /// busy by a stream of controls read its acknowledgements. TCP only: UDP on the event
    /// loop is read by [`Transport::recv_with_origin`] alone (a read error there is the
    /// socket's to report), and streams run UDP nodes on the blocking driver, which reads
    /// with [`Transport::try_recv`].
    pub fn try_recv_with_origin(&mut self) -> Option<(Vec<u8>, Origin)> {
        let Inbound::Tcp { frames } = &mut self.inbound else { return None };
        let frame = frames.try_recv().ok()?;
        bump(&self.shared.counters.received);
        Some(frame)
    }

    /// The counters so far.
    pub fn stats(&self) -> TransportStats {
        self.shared.counters.snapshot()
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("kind", &self.kind)
            .field("local_addr", &self.shared.local)
            .field("faults", &self.faults.is_some())
            .finish_non_exhaustive()
    }
}

/// Stops every background task: connections and the listener close, and frames still
/// queued or delayed are lost.
impl Drop for Transport {
    fn drop(&mut self) {
        self.shared.tasks.stop();
    }
}

/// The error for a failed bind, in the form of [`crate::runtime::bind`]'s, naming the
/// protocol since UDP and TCP ports are separate.
pub(crate) fn bind_error(kind: TransportKind, addr: SocketAddr, e: io::Error) -> NetError {
    let protocol = kind.to_string().to_uppercase();
    let detail = match e.kind() {
        io::ErrorKind::AddrInUse => {
            format!("{protocol} port {} is already in use: stop whatever holds it, or pick another port", addr.port())
        }
        io::ErrorKind::AddrNotAvailable => {
            format!("{} is not an address of this machine: use one of its addresses, or 0.0.0.0", addr.ip())
        }
        io::ErrorKind::PermissionDenied => {
            format!("{protocol} port {} needs privileges: use a port above 1023", addr.port())
        }
        _ => format!("{protocol}: {e}"),
    };
    NetError::Bind { addr, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_and_print_as_their_cli_names() {
        for kind in [TransportKind::Udp, TransportKind::Tcp] {
            assert_eq!(kind.to_string().parse::<TransportKind>(), Ok(kind));
        }
        assert!("sctp".parse::<TransportKind>().unwrap_err().contains("use `udp` or `tcp`"));
    }

    #[tokio::test]
    async fn transports_and_their_futures_move_between_threads() {
        let faults = Faults { reorder: true, ..Faults::default() };
        let mut transport = Transport::bind(TransportKind::Tcp, "127.0.0.1:0".parse().unwrap(), faults).await.unwrap();
        let to = transport.local_addr();
        let task = tokio::spawn(async move {
            transport.send(to, b"to myself".to_vec()).await;
            transport.recv().await.map(|(bytes, _)| bytes)
        });
        assert_eq!(task.await.unwrap().unwrap(), b"to myself");
    }

    #[tokio::test]
    async fn bad_faults_are_refused_at_bind() {
        let faults = Faults { drop: 2.0, ..Faults::default() };
        let err = Transport::bind(TransportKind::Udp, "127.0.0.1:0".parse().unwrap(), faults).await.unwrap_err();
        assert!(err.to_string().contains("between 0 and 1"), "{err}");
    }
}
