//! UDP: one datagram per unit, on one socket for sending and receiving.
//!
//! The socket is registered with the event loop for *reading only*. tokio's own
//! `UdpSocket` also asks for write readiness, and on Linux every datagram sent then
//! wakes the loop once more for nothing (an edge of EPOLLOUT): on a token ring, where a
//! node sends one datagram per wake-up, that is a third of all system calls. Sends go
//! straight to the non-blocking socket instead; a datagram that finds the send buffer
//! full is lost, as UDP allows (the reliable layer retransmits it).
//!
//! [`BlockingUdp`] is the same socket for a node that waits in `recvfrom` itself rather
//! than in an event loop: two system calls a hop instead of four.

use crate::error::NetError;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Large enough for any UDP datagram (at most 65 507 bytes of payload over IPv4, 65 527
/// over IPv6 without jumbograms), so none is ever cut short.
pub const RECV_BUFFER: usize = 65_536;

/// The socket buffers asked for, each way. A burst of small datagrams larger than the
/// receive buffer is lost on one machine before the receiver wakes (Linux's default,
/// 208 KiB, holds a few hundred: each costs its own bookkeeping), and the reliable layer
/// then retransmits it. The kernel caps the request at `net.core.rmem_max` and
/// `wmem_max`, quietly: on a machine where those are small, the congestion window
/// (`reliable/outgoing.rs`) is what keeps a sender within the buffer.
pub const SOCKET_BUFFER: usize = 4 << 20;

/// Asks for [`SOCKET_BUFFER`] bytes of send and receive buffer: a hint, never an error
/// (the default buffers work, only less well under bursts).
fn enlarge_buffers(socket: &std::net::UdpSocket) {
    let socket = socket2::SockRef::from(socket);
    for result in [socket.set_recv_buffer_size(SOCKET_BUFFER), socket.set_send_buffer_size(SOCKET_BUFFER)] {
        if let Err(e) = result {
            tracing::debug!("reparti transport: cannot enlarge a socket buffer: {e}");
        }
    }
}

/// Receive errors in a row after which the socket is taken to be broken, so that a
/// persistent error ends the run instead of spinning (as in the runtime).
pub const MAX_RECV_ERRORS: u32 = 100;

/// A bound UDP socket, readable through the event loop.
pub struct UdpPort {
    fd: AsyncFd<std::net::UdpSocket>,
}

impl UdpPort {
    /// Binds `addr` (non-blocking) and registers it for reading.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpPort> {
        let socket = std::net::UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        enlarge_buffers(&socket);
        // SAFETY: a std `UdpSocket` owns its descriptor: it stays open and the same for
        // the socket's whole life, which is the `AsyncFd`'s (it owns the socket).
        let fd = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) };
        Ok(UdpPort { fd: fd.map_err(|e| e.into_parts().1)? })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.get_ref().local_addr()
    }

    /// Sends one datagram, without waiting (a full send buffer is an error).
    pub fn send_to(&self, bytes: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.fd.get_ref().send_to(bytes, to)
    }

    /// The next datagram into `buf`. Cancel-safe: waiting for readability is, and the
    /// read itself does not wait.
    async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        loop {
            let mut ready = self.fd.readable().await?;
            match ready.try_io(|fd| fd.get_ref().recv_from(buf)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}

/// The next datagram. Cancel-safe: `recv_from` is, and the error count only changes
/// once it has completed.
pub async fn recv(
    socket: &UdpPort,
    buf: &mut [u8],
    errors_in_a_row: &mut u32,
    local: SocketAddr,
) -> Result<(Vec<u8>, SocketAddr), NetError> {
    loop {
        match socket.recv_from(buf).await {
            Ok((len, peer)) => {
                *errors_in_a_row = 0;
                return Ok((buf[..len].to_vec(), peer));
            }
            Err(source) => {
                // UDP reports some errors (an ICMP refusal, a full buffer) on the next
                // receive: they concern one datagram, not the socket, unless they persist.
                *errors_in_a_row += 1;
                if *errors_in_a_row >= MAX_RECV_ERRORS {
                    *errors_in_a_row = 0;
                    return Err(NetError::Recv { addr: local, source });
                }
                if *errors_in_a_row == 1 {
                    tracing::warn!("reparti transport {local}: receive error: {source}");
                }
            }
        }
    }
}

/// A UDP socket read by blocking in `recvfrom`, with a timeout, by a node that has
/// nothing else to wait for.
pub struct BlockingUdp {
    socket: std::net::UdpSocket,
    /// The read timeout in force, to set it only when it changes.
    timeout: std::sync::Mutex<Option<Duration>>,
}

impl BlockingUdp {
    pub fn bind(addr: SocketAddr) -> io::Result<BlockingUdp> {
        let socket = std::net::UdpSocket::bind(addr)?;
        enlarge_buffers(&socket);
        Ok(BlockingUdp { socket, timeout: std::sync::Mutex::new(None) })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Sends one datagram (on a blocking socket a full buffer waits, briefly).
    pub fn send_to(&self, bytes: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.socket.send_to(bytes, to)
    }

    /// A datagram already waiting in the socket, into `buf`; `None` at once when there
    /// is none (the socket stays blocking for [`recv_from`](Self::recv_from)).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<Option<(usize, SocketAddr)>> {
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the kernel only writes
        // received bytes into the buffer, never uninitialised ones.
        let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) };
        match socket2::SockRef::from(&self.socket).recv_from_with_flags(uninit, libc::MSG_DONTWAIT) {
            // Only IP sockets are bound here, so the address is one.
            Ok((len, from)) => Ok(from.as_socket().map(|addr| (len, addr))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The next datagram into `buf`, or `None` once `timeout` (at least 1 ms) has passed.
    pub fn recv_from(&self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<(usize, SocketAddr)>> {
        let timeout = timeout.max(Duration::from_millis(1));
        {
            let mut current = super::shared::lock(&self.timeout);
            if *current != Some(timeout) {
                self.socket.set_read_timeout(Some(timeout))?;
                *current = Some(timeout);
            }
        }
        match self.socket.recv_from(buf) {
            Ok(got) => Ok(Some(got)),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
