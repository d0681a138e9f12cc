//! UDP: one datagram per unit, on one socket for sending and receiving.
//!
//! The socket is registered with the event loop for *reading only*. tokio's own
//! `UdpSocket` also asks for write readiness, and on Linux every datagram sent then
//! wakes the loop once more for nothing (an edge of EPOLLOUT): on a token ring, where a
//! node sends one datagram per wake-up, that is a third of all system calls. Sends go
//! straight to the non-blocking socket instead; a full send buffer is waited out briefly.

use crate::runtime::NetError;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Large enough for any UDP datagram (at most 65 507 bytes of payload over IPv4, 65 527
/// over IPv6 without jumbograms), so none is ever cut short.
pub const RECV_BUFFER: usize = 65_536;

/// Receive errors in a row after which the socket is taken to be broken, so that a
/// persistent error ends the run instead of spinning (as in the runtime).
const MAX_RECV_ERRORS: u32 = 100;

/// How many times a send waits for room in a full send buffer before the datagram is
/// counted as lost (UDP promises nothing; the reliable layer retransmits).
const FULL_BUFFER_RETRIES: u32 = 50;

/// A bound UDP socket, readable through the event loop.
pub struct UdpPort {
    fd: AsyncFd<std::net::UdpSocket>,
}

impl UdpPort {
    /// Binds `addr` (non-blocking) and registers it for reading.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpPort> {
        let socket = std::net::UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        // SAFETY: a std `UdpSocket` owns its descriptor: it stays open and the same for
        // the socket's whole life, which is the `AsyncFd`'s (it owns the socket).
        let fd = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) };
        Ok(UdpPort { fd: fd.map_err(|e| e.into_parts().1)? })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.get_ref().local_addr()
    }

    /// Sends one datagram; waits (briefly, a few times) while the send buffer is full.
    pub async fn send_to(&self, bytes: &[u8], to: SocketAddr) -> io::Result<usize> {
        let mut tries = 0;
        loop {
            match self.fd.get_ref().send_to(bytes, to) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && tries < FULL_BUFFER_RETRIES => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                other => return other,
            }
        }
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
                    eprintln!("reparti transport {local}: receive error: {source}");
                }
            }
        }
    }
}
