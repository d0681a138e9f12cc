//! UDP: one datagram per unit, on one socket for sending and receiving.

use crate::runtime::NetError;
use std::net::SocketAddr;
use tokio::net::UdpSocket;

/// Large enough for any UDP datagram (at most 65 507 bytes of payload over IPv4, 65 527
/// over IPv6 without jumbograms), so none is ever cut short.
pub const RECV_BUFFER: usize = 65_536;

/// Receive errors in a row after which the socket is taken to be broken, so that a
/// persistent error ends the run instead of spinning (as in the runtime).
const MAX_RECV_ERRORS: u32 = 100;

/// The next datagram. Cancel-safe: `recv_from` is, and the error count only changes
/// once it has completed.
pub async fn recv(
    socket: &UdpSocket,
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
