//! The chat client: sends each line of its input, prints each answer. Over TCP it speaks
//! as its server speaks (see [`Framing`]), and it never waits without bound for a server
//! that will not close.

use super::framing::{Framing, Incoming, Message, Next};
use super::{bind_error, decode_line, is_end, read_line, ChatError, Transport, MAX_LINE, RECV_BUF};
use std::io::{self, BufRead, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// How a client reaches its server.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The server's address.
    pub server: SocketAddr,
    /// TCP or UDP, as the server.
    pub transport: Transport,
    /// Bind the client to this local port (the lab's 62000) instead of any free one.
    pub bind_port: Option<u16>,
    /// How long to wait for a TCP connection, for a UDP answer, and, once a TCP dialogue
    /// has ended (`fin`, an empty line, the end of input), for the server's answer and its
    /// close; then the client says so in one line and closes itself. During a TCP dialogue
    /// the client waits for each answer without limit (saying so once this long has
    /// passed): the server serves one client at a time, or its user may be typing, and a
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
    match cfg.transport {
        Transport::Tcp => {
            let stream = connect_tcp(cfg, local)?;
            greet(cfg, stream.local_addr().map_err(lost)?, output)?;
            let mut chat = TcpChat { cfg, incoming: Incoming::new(stream), framing: Framing::Line, answered: 0 };
            chat.run(&mut input, output)?;
            Ok(chat.answered)
        }
        Transport::Udp => {
            let socket = UdpSocket::bind(local).map_err(|e| bind_error(local, e, "--bind-port"))?;
            // Connected, so the kernel reports a closed port (ICMP) as "refused" and drops
            // datagrams from anyone but the server.
            socket.connect(server).map_err(|e| ChatError::Unreachable { addr: server, cause: e })?;
            socket.set_read_timeout(Some(cfg.timeout)).map_err(lost)?;
            greet(cfg, socket.local_addr().map_err(lost)?, output)?;
            let mut answered = 0;
            while let Some(line) = next_line(&mut input, output)? {
                let answer = udp_exchange(&socket, &line, cfg)?;
                writeln!(output, "{answer}").map_err(ChatError::Output)?;
                answered += 1;
                if is_end(&line) {
                    break;
                }
            }
            Ok(answered)
        }
    }
}

fn greet<W: Write>(cfg: &ClientConfig, from: SocketAddr, output: &mut W) -> Result<(), ChatError> {
    writeln!(output, "connected to {} from {from} ({})", cfg.server, cfg.transport.name()).map_err(ChatError::Output)
}

/// The next line to send, skipping (and saying so) lines too long to send.
fn next_line<R: BufRead, W: Write>(input: &mut R, output: &mut W) -> Result<Option<String>, ChatError> {
    while let Some((line, cut)) = read_line(input).map_err(ChatError::Input)? {
        if !cut {
            return Ok(Some(line));
        }
        writeln!(output, "line longer than {MAX_LINE} bytes: not sent").map_err(ChatError::Output)?;
    }
    Ok(None)
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

/// Sends one line as a datagram and returns the server's answer.
fn udp_exchange(socket: &UdpSocket, line: &str, cfg: &ClientConfig) -> Result<String, ChatError> {
    let addr = cfg.server;
    let udp_error = |e: io::Error| match e.kind() {
        io::ErrorKind::ConnectionRefused => ChatError::Refused { addr, transport: Transport::Udp },
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ChatError::NoAnswer { addr, timeout: cfg.timeout },
        _ => ChatError::Lost { addr, cause: e },
    };
    socket.send(line.as_bytes()).map_err(udp_error)?;
    let mut buf = vec![0u8; RECV_BUF];
    let n = socket.recv(&mut buf).map_err(udp_error)?;
    Ok(decode_line(&buf[..n]).0)
}

/// A TCP dialogue in progress.
struct TcpChat<'a> {
    cfg: &'a ClientConfig,
    incoming: Incoming,
    /// How our messages go: lines, until the server answers bare. A server that answers
    /// without a newline is a sheet-style script, which compares what it receives with
    /// `fin` as it is: a newline would keep it from seeing the end of the dialogue.
    framing: Framing,
    answered: usize,
}

impl TcpChat<'_> {
    fn lost(&self, e: io::Error) -> ChatError {
        ChatError::Lost { addr: self.cfg.server, cause: e }
    }

    fn run<R: BufRead, W: Write>(&mut self, input: &mut R, output: &mut W) -> Result<(), ChatError> {
        while let Some(line) = next_line(input, output)? {
            if is_end(&line) {
                return self.say_goodbye(&line, output);
            }
            self.incoming.stream().write_all(&self.framing.encode(&line)).map_err(|e| self.lost(e))?;
            let answer = self.await_answer(output)?;
            self.framing = answer.framing;
            self.show(&answer.text, output)?;
            self.answered += 1;
        }
        // Input ended without fin: tell the server, which is waiting for a next message.
        let _ = self.incoming.stream().shutdown(Shutdown::Write);
        self.wait_for_close(Instant::now() + self.cfg.timeout, output)
    }

    fn show<W: Write>(&self, text: &str, output: &mut W) -> Result<(), ChatError> {
        writeln!(output, "{text}").map_err(ChatError::Output)
    }

    /// The answer to the message just sent, however long it takes: the server may be
    /// serving another client, or its user typing. Says so once the timeout has passed.
    fn await_answer<W: Write>(&mut self, output: &mut W) -> Result<Message, ChatError> {
        let mut deadline = Some(Instant::now() + self.cfg.timeout);
        loop {
            match self.incoming.next(deadline).map_err(|e| self.lost(e))? {
                Next::Message(answer) => return Ok(answer),
                Next::Closed => {
                    let closed = io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection");
                    return Err(self.lost(closed));
                }
                Next::TimedOut => {
                    let secs = self.cfg.timeout.as_secs_f64();
                    writeln!(
                        output,
                        "still waiting for {}'s answer after {secs} s: it may be serving another client, or its user typing; Ctrl-C gives up",
                        self.cfg.server
                    )
                    .map_err(ChatError::Output)?;
                    deadline = None;
                }
            }
        }
    }

    /// Sends the last message (`fin` or an empty line), shows the answer if one comes in
    /// time, and lets the server close first. Nothing after `fin` is a failure: whatever
    /// happens, the dialogue is over.
    fn say_goodbye<W: Write>(&mut self, line: &str, output: &mut W) -> Result<(), ChatError> {
        let deadline = Instant::now() + self.cfg.timeout;
        if self.framing == Framing::Bare && line.is_empty() {
            // A bare empty message is no bytes at all; a sheet-style server reads the end
            // of the connection (`recv` gives b'') as its empty message.
            let _ = self.incoming.stream().shutdown(Shutdown::Write);
            return self.wait_for_close(deadline, output);
        }
        if self.incoming.stream().write_all(&self.framing.encode(line)).is_err() {
            // The server has already gone: the dialogue is over all the same.
            return Ok(());
        }
        match self.incoming.next(Some(deadline)) {
            Ok(Next::Message(answer)) => {
                self.show(&answer.text, output)?;
                self.answered += 1;
            }
            // The sheet's server closes on fin without answering; a reset says the same.
            Ok(Next::Closed) | Err(_) => return Ok(()),
            Ok(Next::TimedOut) => return self.note_open(output),
        }
        self.wait_for_close(deadline, output)
    }

    /// Waits until `deadline` for the server to close, showing anything it still says.
    /// The server closes first, so the TIME_WAIT state stays on its side and this
    /// --bind-port can be used again at once; a server that does not close is left.
    fn wait_for_close<W: Write>(&mut self, deadline: Instant, output: &mut W) -> Result<(), ChatError> {
        loop {
            match self.incoming.next(Some(deadline)) {
                Ok(Next::Message(m)) => self.show(&m.text, output)?,
                Ok(Next::Closed) | Err(_) => return Ok(()),
                Ok(Next::TimedOut) => return self.note_open(output),
            }
        }
    }

    /// One line for a server still connected when the dialogue is over; the caller then
    /// closes the connection (by dropping it).
    fn note_open<W: Write>(&self, output: &mut W) -> Result<(), ChatError> {
        let secs = self.cfg.timeout.as_secs_f64();
        writeln!(
            output,
            "{} did not close the connection within {secs} s of the end of the dialogue: closing it here (a server should close after fin; --timeout waits longer)",
            self.cfg.server
        )
        .map_err(ChatError::Output)
    }
}
