//! The labs' first client and server (TP1 over TCP, TP2 over UDP): a line dialogue.
//!
//! A client reads lines from its input and sends them one by one; the server prints each
//! line with the sender's address and answers `ack: <line>`, which the client prints. The
//! dialogue ends when the client sends `fin` (any case) or an empty line. The TCP server
//! serves one client at a time, like the lab, then accepts the next; the UDP server answers
//! datagrams from any client. Blocking `std::net` sockets: one dialogue at a time needs
//! nothing more.
//!
//! On the wire a TCP line ends with `\n`; a UDP datagram is one line without it. Lines
//! are bytes, shown lossily as UTF-8, and are capped at [`MAX_LINE`] bytes so that every
//! line, and its acknowledgement, fits in one UDP datagram.
//!
//! Every failure the user can fix (port in use, server refused, bad address) is a
//! [`ChatError`] whose message is one line naming the cause and the fix.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

/// The longest line sent or acknowledged, in bytes: its acknowledgement (`ack: ` + line)
/// must still fit in the largest IPv4 UDP payload, 65 507 bytes.
pub const MAX_LINE: usize = 65_000;

/// Receive buffer: one byte more than any UDP payload, so nothing is ever cut silently.
const RECV_BUF: usize = 65_536;

/// TCP (TP1, connected) or UDP (TP2, datagrams).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TP1: a TCP connection per client, lines ending with `\n`.
    Tcp,
    /// TP2: UDP datagrams, one line each.
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
    /// The lines to send could not be read.
    #[error("cannot read the input: {0}")]
    Input(io::Error),
    /// The answers or the log could not be written.
    #[error("cannot write the output: {0}")]
    Output(io::Error),
}

impl ChatError {
    /// A mistake in what the user typed (exit status 2), rather than in the world (1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ChatError::BadAddress { .. } => true,
            // --bind named an address this machine does not have.
            ChatError::Bind { cause, .. } => cause.kind() == io::ErrorKind::AddrNotAvailable,
            _ => false,
        }
    }
}

/// Whether a line ends the dialogue: `fin` in any case, or an empty line.
pub fn is_end(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.eq_ignore_ascii_case("fin")
}

/// The server's answer to one line.
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

/// One line's bytes as text: newline stripped, invalid UTF-8 replaced, at most
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

/// A listening chat server, TCP or UDP.
#[derive(Debug)]
pub struct Server {
    socket: ServerSocket,
    addr: SocketAddr,
}

#[derive(Debug)]
enum ServerSocket {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

impl Server {
    /// Listens on `addr` (port 0 picks a free port; see [`Server::local_addr`]).
    pub fn bind(addr: SocketAddr, transport: Transport) -> Result<Server, ChatError> {
        let err = |e| bind_error(addr, e, "--port");
        let socket = match transport {
            Transport::Tcp => ServerSocket::Tcp(TcpListener::bind(addr).map_err(err)?),
            Transport::Udp => ServerSocket::Udp(UdpSocket::bind(addr).map_err(err)?),
        };
        let local = match &socket {
            ServerSocket::Tcp(s) => s.local_addr(),
            ServerSocket::Udp(s) => s.local_addr(),
        };
        Ok(Server { addr: local.map_err(|e| ChatError::Bind { addr, cause: e, hint: "retry" })?, socket })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The transport it serves.
    pub fn transport(&self) -> Transport {
        match self.socket {
            ServerSocket::Tcp(_) => Transport::Tcp,
            ServerSocket::Udp(_) => Transport::Udp,
        }
    }

    /// Serves until `max` dialogues have ended (forever with `None`), logging each line
    /// with its sender to `log`; returns how many ended. Over TCP a dialogue ends with
    /// `fin`, an empty line, or the client leaving; over UDP with `fin` or an empty
    /// datagram. A client's failure is logged and the server goes on to the next one.
    pub fn serve_clients<W: Write>(&self, max: Option<usize>, log: &mut W) -> Result<usize, ChatError> {
        let mut ended = 0;
        while max != Some(ended) {
            let done = match &self.socket {
                ServerSocket::Tcp(listener) => serve_tcp_client(listener, log)?,
                ServerSocket::Udp(socket) => serve_datagram(socket, self.addr, log)?,
            };
            ended += usize::from(done);
        }
        Ok(ended)
    }
}

/// Accepts one client and holds the dialogue with it; `true` once a dialogue is over.
fn serve_tcp_client<W: Write>(listener: &TcpListener, log: &mut W) -> Result<bool, ChatError> {
    let (stream, peer) = match listener.accept() {
        Ok(client) => client,
        // A client that gave up before being accepted, or a lack of file descriptors, is
        // that client's problem: the server goes on.
        Err(e) => {
            writeln!(log, "accept failed: {e}").map_err(ChatError::Output)?;
            return Ok(false);
        }
    };
    writeln!(log, "{peer} connected").map_err(ChatError::Output)?;
    match tcp_dialogue(stream, peer, log)? {
        Ok(true) => writeln!(log, "{peer} ended the dialogue"),
        Ok(false) => writeln!(log, "{peer} left without saying fin"),
        Err(e) => writeln!(log, "{peer} lost: {e}"),
    }
    .map_err(ChatError::Output)?;
    Ok(true)
    // The stream drops here: the server closes first, so the TIME_WAIT state stays on this
    // side and a client bound with --bind-port can reconnect at once.
}

/// The inner result is the client's fate (`true`: said fin), the outer one our own log's.
fn tcp_dialogue<W: Write>(stream: TcpStream, peer: SocketAddr, log: &mut W) -> Result<io::Result<bool>, ChatError> {
    let mut reader = match stream.try_clone() {
        Ok(s) => BufReader::new(s),
        Err(e) => return Ok(Err(e)),
    };
    let mut writer = stream;
    loop {
        let (line, cut) = match read_line(&mut reader) {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(Ok(false)),
            Err(e) => return Ok(Err(e)),
        };
        log_said(log, peer, &line, cut)?;
        if let Err(e) = writer.write_all(format!("{}\n", ack(&line)).as_bytes()) {
            return Ok(Err(e));
        }
        if is_end(&line) {
            return Ok(Ok(true));
        }
    }
}

/// Logs one received line with its sender, the way both transports show it.
fn log_said<W: Write>(log: &mut W, peer: SocketAddr, line: &str, cut: bool) -> Result<(), ChatError> {
    let note = if cut { " (cut: line too long)" } else { "" };
    writeln!(log, "{peer} says: {line}{note}").map_err(ChatError::Output)
}

/// Answers one datagram; `true` if it ended its sender's dialogue.
fn serve_datagram<W: Write>(socket: &UdpSocket, addr: SocketAddr, log: &mut W) -> Result<bool, ChatError> {
    use io::ErrorKind::{ConnectionRefused, ConnectionReset, Interrupted};
    let mut buf = vec![0u8; RECV_BUF];
    let (n, peer) = match socket.recv_from(&mut buf) {
        Ok(got) => got,
        // An ICMP error about an earlier answer (its client has gone) is no reason to stop.
        Err(e) if matches!(e.kind(), ConnectionRefused | ConnectionReset | Interrupted) => return Ok(false),
        Err(e) => return Err(ChatError::Lost { addr, cause: e }),
    };
    let (line, cut) = decode_line(&buf[..n]);
    log_said(log, peer, &line, cut)?;
    if let Err(e) = socket.send_to(ack(&line).as_bytes(), peer) {
        writeln!(log, "cannot answer {peer}: {e}").map_err(ChatError::Output)?;
    }
    let end = is_end(&line);
    if end {
        writeln!(log, "{peer} ended the dialogue").map_err(ChatError::Output)?;
    }
    Ok(end)
}

/// How a client reaches its server.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The server's address.
    pub server: SocketAddr,
    /// TCP or UDP, as the server.
    pub transport: Transport,
    /// Bind the client to this local port (the lab's 62000) instead of any free one.
    pub bind_port: Option<u16>,
    /// How long to wait for a TCP connection or a UDP answer. A connected TCP client waits
    /// for its answers without limit: the server serves one client at a time, and a
    /// client waiting its turn is not a failure.
    pub timeout: Duration,
}

/// Holds one dialogue: sends each line of `input`, writes each answer to `output`, stops
/// after `fin`, an empty line, or the end of input. Returns how many lines were answered.
pub fn run_client<R: BufRead, W: Write>(cfg: &ClientConfig, mut input: R, output: &mut W) -> Result<usize, ChatError> {
    let server = cfg.server;
    let local = SocketAddr::new(
        if server.is_ipv4() { Ipv4Addr::UNSPECIFIED.into() } else { Ipv6Addr::UNSPECIFIED.into() },
        cfg.bind_port.unwrap_or(0),
    );
    let lost = |e| ChatError::Lost { addr: server, cause: e };
    let mut channel = match cfg.transport {
        Transport::Tcp => {
            let stream = connect_tcp(cfg, local)?;
            let reader = BufReader::new(stream.try_clone().map_err(lost)?);
            Channel::Tcp(stream, reader)
        }
        Transport::Udp => {
            let socket = UdpSocket::bind(local).map_err(|e| bind_error(local, e, "--bind-port"))?;
            // Connected, so the kernel reports a closed port (ICMP) as "refused" and drops
            // datagrams from anyone but the server.
            socket.connect(server).map_err(|e| ChatError::Unreachable { addr: server, cause: e })?;
            socket.set_read_timeout(Some(cfg.timeout)).map_err(lost)?;
            Channel::Udp(socket)
        }
    };
    let from = match &channel {
        Channel::Tcp(s, _) => s.local_addr(),
        Channel::Udp(s) => s.local_addr(),
    };
    let from = from.map_err(lost)?;
    writeln!(output, "connected to {server} from {from} ({})", cfg.transport.name()).map_err(ChatError::Output)?;
    let mut answered = 0;
    let mut said_fin = false;
    while let Some((line, cut)) = read_line(&mut input).map_err(ChatError::Input)? {
        if cut {
            writeln!(output, "line longer than {MAX_LINE} bytes: not sent").map_err(ChatError::Output)?;
            continue;
        }
        let answer = channel.exchange(&line, cfg)?;
        writeln!(output, "{answer}").map_err(ChatError::Output)?;
        answered += 1;
        if is_end(&line) {
            said_fin = true;
            break;
        }
    }
    if let Channel::Tcp(stream, reader) = &mut channel {
        if !said_fin {
            // Input ended without fin: tell the server, which is waiting for a next line.
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
        // Then let the server close first (it does after fin): the TIME_WAIT state stays
        // on its side, and this --bind-port can be used again at once. Errors no longer matter.
        let _ = io::copy(reader, &mut io::sink());
    }
    Ok(answered)
}

fn connect_tcp(cfg: &ClientConfig, local: SocketAddr) -> Result<TcpStream, ChatError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let server = cfg.server;
    let unreachable = |e| ChatError::Unreachable { addr: server, cause: e };
    let socket = Socket::new(Domain::for_address(server), Type::STREAM, Some(Protocol::TCP)).map_err(unreachable)?;
    if cfg.bind_port.is_some() {
        socket.bind(&local.into()).map_err(|e| bind_error(local, e, "--bind-port"))?;
    }
    match socket.connect_timeout(&server.into(), cfg.timeout) {
        Ok(()) => Ok(socket.into()),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            Err(ChatError::Refused { addr: server, transport: Transport::Tcp })
        }
        Err(e) => Err(unreachable(e)),
    }
}

enum Channel {
    Tcp(TcpStream, BufReader<TcpStream>),
    Udp(UdpSocket),
}

impl Channel {
    /// Sends one line and returns the server's answer.
    fn exchange(&mut self, line: &str, cfg: &ClientConfig) -> Result<String, ChatError> {
        let addr = cfg.server;
        let lost = |e| ChatError::Lost { addr, cause: e };
        match self {
            Channel::Tcp(stream, reader) => {
                stream.write_all(format!("{line}\n").as_bytes()).map_err(lost)?;
                match read_line(reader).map_err(lost)? {
                    Some((answer, _)) => Ok(answer),
                    None => Err(lost(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"))),
                }
            }
            Channel::Udp(socket) => {
                let udp_error = |e: io::Error| match e.kind() {
                    io::ErrorKind::ConnectionRefused => ChatError::Refused { addr, transport: Transport::Udp },
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                        ChatError::NoAnswer { addr, timeout: cfg.timeout }
                    }
                    _ => lost(e),
                };
                socket.send(line.as_bytes()).map_err(udp_error)?;
                let mut buf = vec![0u8; RECV_BUF];
                let n = socket.recv(&mut buf).map_err(udp_error)?;
                Ok(decode_line(&buf[..n]).0)
            }
        }
    }
}
