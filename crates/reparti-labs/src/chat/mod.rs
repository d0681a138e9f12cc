//! The labs' first client and server (TP1 over TCP, TP2 over UDP): a dialogue.
//!
//! A client reads lines from its input and sends them one by one; the server prints each
//! message with the sender's address and answers it — with `ack: <message>` by default,
//! or with a reply its user types ([`Answer::Typed`], TP1's exercise 3, where "the screens
//! of both machines show the dialogue"). The dialogue ends when the client sends `fin`
//! (any case) or an empty line. The TCP server serves one client at a time, like the lab,
//! then accepts the next; the UDP server answers datagrams from any client. Blocking
//! `std::net` sockets: one dialogue at a time needs nothing more.
//!
//! On the wire reparti ends a TCP message with `\n`, but it also understands the lab
//! sheet's own Python scripts, which `send(msg.encode())` with no newline and read with
//! `recv(1024)`: a newline still ends a message, and bytes without one end a message when
//! the peer pauses ([`QUIET`]). Each side answers in the framing it was spoken to in (see
//! [`Framing`]). A UDP datagram is one message. Messages are bytes, shown lossily as
//! UTF-8, and are capped at [`MAX_LINE`] bytes so that every message, and its
//! acknowledgement, fits in one UDP datagram.
//!
//! An IPv6 server address listens on IPv6 only (`IPV6_V6ONLY`), so that TP1's exercise 4
//! shows the difference: an IPv4 client is refused.
//!
//! The client never hangs on a peer that will not close: after `fin` (or the end of its
//! input) it waits [`ClientConfig::timeout`] for the server's answer and close, then says
//! so in one line and closes itself.
//!
//! Every failure the user can fix (port in use, server refused, bad address) is a
//! [`ChatError`] whose message is one line naming the cause and the fix.

mod client;
mod framing;
mod server;

pub use client::{run_client, ClientConfig};
pub use framing::{Framing, QUIET};
pub use server::{Answer, Server};

use std::io::{self, BufRead, Read};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// The longest message sent or acknowledged, in bytes: its acknowledgement (`ack: ` +
/// message) must still fit in the largest IPv4 UDP payload, 65 507 bytes.
pub const MAX_LINE: usize = 65_000;

/// Receive buffer: one byte more than any UDP payload, so nothing is ever cut silently.
const RECV_BUF: usize = 65_536;

/// TCP (TP1, connected) or UDP (TP2, datagrams).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TP1: a TCP connection per client, messages ending with `\n` (or bare, see [`Framing`]).
    Tcp,
    /// TP2: UDP datagrams, one message each.
    Udp,
}

impl Transport {
    /// "TCP" or "UDP".
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP",
            Transport::Udp => "UDP",
        }
    }

    /// What to add to a `reparti chat` command line for this transport.
    fn flag(self) -> &'static str {
        match self {
            Transport::Tcp => "",
            Transport::Udp => " --udp",
        }
    }
}

/// Why a chat could not start or go on. Each message is one line: the cause, then the fix.
/// The I/O error is a `cause` field, not a `source`: it is already in the message, and an
/// error chain would print it a second time.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The port to bind is taken by another program.
    #[error("port {port} is already in use: choose another with {flag}, or stop the program using it")]
    PortInUse {
        /// The port.
        port: u16,
        /// The option that chooses it (`--port`, `--bind-port`).
        flag: &'static str,
    },
    /// Any other reason the address cannot be bound.
    #[error("cannot bind {addr}: {cause}; {hint}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The system's error.
        cause: io::Error,
        /// What to do about it.
        hint: &'static str,
    },
    /// Nothing listens at the server's address.
    #[error("{addr} refused the connection: no {} server listens there; start one with `reparti chat serve{} --port {}` or check the address", .transport.name(), .transport.flag(), .addr.port())]
    Refused {
        /// The server's address.
        addr: SocketAddr,
        /// The transport tried.
        transport: Transport,
    },
    /// The server's address cannot be reached (no route, timeout of the connection).
    #[error("cannot reach {addr}: {cause}; check the host, the port and the network")]
    Unreachable {
        /// The server's address.
        addr: SocketAddr,
        /// The system's error.
        cause: io::Error,
    },
    /// A UDP server did not answer in time.
    #[error("no answer from {addr} within {} s: is `reparti chat serve --udp --port {}` running there?", .timeout.as_secs_f64(), .addr.port())]
    NoAnswer {
        /// The server's address.
        addr: SocketAddr,
        /// How long the client waited.
        timeout: Duration,
    },
    /// The address typed is not `HOST:PORT`.
    #[error("bad address '{input}': {why}; write HOST:PORT, e.g. 127.0.0.1:5000 or [::1]:5000")]
    BadAddress {
        /// What was typed.
        input: String,
        /// What is wrong with it.
        why: String,
    },
    /// The connection or the socket failed during the dialogue.
    #[error("connection with {addr} lost: {cause}")]
    Lost {
        /// The other side's address.
        addr: SocketAddr,
        /// The system's error.
        cause: io::Error,
    },
    /// The lines to send (or the replies to type) could not be read.
    #[error("cannot read the input: {0}")]
    Input(io::Error),
    /// The answers or the log could not be written.
    #[error("cannot write the output: {0}")]
    Output(io::Error),
}

impl ChatError {
    /// A mistake in what the user typed (exit status 2), rather than in the world (1).
    /// A port in use is not counted here: whether it is the user's to fix is the
    /// command's decision (`reparti chat serve` says it is).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ChatError::BadAddress { .. } => true,
            // --bind named an address this machine does not have.
            ChatError::Bind { cause, .. } => cause.kind() == io::ErrorKind::AddrNotAvailable,
            _ => false,
        }
    }
}

/// Whether a message ends the dialogue: `fin` in any case, or an empty line.
pub fn is_end(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.eq_ignore_ascii_case("fin")
}

/// The server's automatic answer to one message.
pub fn ack(line: &str) -> String {
    format!("ack: {line}")
}

/// Parses `HOST:PORT` (`127.0.0.1:5000`, `[::1]:5000`, `localhost:5000`) into an address.
pub fn resolve(input: &str) -> Result<SocketAddr, ChatError> {
    let bad = |why: String| ChatError::BadAddress { input: input.to_string(), why };
    if !input.contains(':') {
        return Err(bad("no port".into()));
    }
    let addr = input.to_socket_addrs().map_err(|e| bad(e.to_string()))?.next();
    let addr = addr.ok_or_else(|| bad("the name has no address".into()))?;
    if addr.port() == 0 {
        return Err(bad("port 0 is not a port a server listens on".into()));
    }
    Ok(addr)
}

/// Explains a failed bind; `flag` is the option that chooses the port.
fn bind_error(addr: SocketAddr, e: io::Error, flag: &'static str) -> ChatError {
    let hint = match e.kind() {
        io::ErrorKind::AddrInUse => return ChatError::PortInUse { port: addr.port(), flag },
        io::ErrorKind::PermissionDenied => "ports below 1024 need administrator rights: choose a port above 1024",
        io::ErrorKind::AddrNotAvailable => "that address is not one of this machine's: choose another with --bind",
        _ if addr.is_ipv6() => "IPv6 may be off on this machine: try without --ipv6",
        _ => "check the address and the port",
    };
    ChatError::Bind { addr, cause: e, hint }
}

/// Reads one line of at most [`MAX_LINE`] bytes (without its `\n` or `\r\n`), shown
/// lossily as UTF-8. `None` at the end of input; `Some((line, true))` if the line was
/// longer and has been cut (the rest of it is skipped, so the next read is the next line).
pub fn read_line<R: BufRead>(reader: &mut R) -> io::Result<Option<(String, bool)>> {
    let mut buf = Vec::new();
    // Bounded: a peer sending one endless line cannot make us allocate without limit.
    if reader.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', &mut buf)? == 0 {
        return Ok(None);
    }
    let mut cut = false;
    if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE {
        cut = true;
        loop {
            let mut rest = Vec::new();
            let n = reader.by_ref().take(RECV_BUF as u64).read_until(b'\n', &mut rest)?;
            if n == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
    }
    let (line, clipped) = decode_line(&buf);
    Ok(Some((line, cut || clipped)))
}

/// One message's bytes as text: newline stripped, invalid UTF-8 replaced, at most
/// [`MAX_LINE`] bytes (replacement characters can make the text longer than the bytes).
fn decode_line(bytes: &[u8]) -> (String, bool) {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let mut line = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_LINE)]).into_owned();
    let mut cut = bytes.len() > MAX_LINE;
    if line.len() > MAX_LINE {
        let mut end = MAX_LINE;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        cut = true;
    }
    (line, cut)
}
