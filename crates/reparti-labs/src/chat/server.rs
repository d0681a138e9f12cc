//! The chat server: binds (IPv6 addresses on IPv6 only), then holds one TCP dialogue
//! after another, or answers UDP datagrams, each message answered automatically or by
//! its user.

use super::framing::{Framing, Incoming, Next};
use super::{ack, bind_error, decode_line, is_end, read_line, ChatError, Transport, MAX_LINE, RECV_BUF};
use socket2::{Domain, Socket, Type};
use std::io::{self, BufRead, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};

/// Who answers the clients' messages.
#[derive(Debug)]
pub enum Answer<R> {
    /// The automatic `ack: <message>`, at once.
    Ack,
    /// The server's user types each reply, one line of `input` per message (TP1's
    /// exercise 3: a dialogue). A prompt goes to the log before each; with `echo` the
    /// reply is written after it, so that a log whose replies come from a pipe or a file
    /// reads the same as a terminal's. The client's `fin` is still acknowledged
    /// automatically: there is nothing to say to a client that leaves. When `input` ends,
    /// the server stops.
    Typed {
        /// Where the replies are typed.
        input: R,
        /// Write each reply to the log after the prompt (when `input` is not a terminal).
        echo: bool,
    },
}

impl<R: BufRead> Answer<R> {
    /// The answer to one message from `peer`; `None` when the typed replies have run out.
    fn reply<W: Write>(&mut self, peer: SocketAddr, message: &str, log: &mut W) -> Result<Option<String>, ChatError> {
        let (input, echo) = match self {
            Answer::Ack => return Ok(Some(ack(message))),
            Answer::Typed { input, echo } => (input, *echo),
        };
        loop {
            write!(log, "your reply to {peer}: ").and_then(|()| log.flush()).map_err(ChatError::Output)?;
            let Some((reply, cut)) = read_line(input).map_err(ChatError::Input)? else {
                writeln!(log).map_err(ChatError::Output)?;
                return Ok(None);
            };
            if echo {
                writeln!(log, "{reply}").map_err(ChatError::Output)?;
            }
            if cut {
                writeln!(log, "(reply cut to {MAX_LINE} bytes)").map_err(ChatError::Output)?;
            }
            // An empty reply cannot be sent to a sheet-style client (`send(b"")` sends
            // nothing, and it would wait for ever), nor read as an answer by reparti's.
            if reply.is_empty() {
                writeln!(log, "an empty reply cannot be sent: the client waits for one, type some text")
                    .map_err(ChatError::Output)?;
                continue;
            }
            return Ok(Some(reply));
        }
    }
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

/// How one turn of the server loop went.
enum Turn {
    /// A dialogue (or a UDP client's) has ended.
    Ended,
    /// Nothing ended: a failed accept, or a UDP message in the middle of a dialogue.
    Going,
    /// The typed replies have run out: the server stops, after this many dialogues ended
    /// in this turn (the TCP one it closed, or none).
    Stop(usize),
}

/// How a TCP dialogue ended, as far as the client goes.
enum Fate {
    SaidFin,
    Left,
    Lost(io::Error),
    NoMoreReplies,
}

impl Server {
    /// Listens on `addr` (port 0 picks a free port; see [`Server::local_addr`]). An IPv6
    /// address listens on IPv6 only, so that an IPv4 client is refused.
    pub fn bind(addr: SocketAddr, transport: Transport) -> Result<Server, ChatError> {
        let stream = transport == Transport::Tcp;
        let socket = bind_socket(addr, stream).map_err(|e| bind_error(addr, e, "--port"))?;
        let local = socket.local_addr().map_err(|e| ChatError::Bind { addr, cause: e, hint: "retry" })?;
        // An IP socket's address is an IP address; `addr` only stands in for the impossible.
        let local = local.as_socket().unwrap_or(addr);
        let socket = if stream { ServerSocket::Tcp(socket.into()) } else { ServerSocket::Udp(socket.into()) };
        Ok(Server { addr: local, socket })
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

    /// Serves until `max` dialogues have ended (forever with `None`), answering each
    /// message with `ack: <message>` and logging it with its sender to `log`; returns how
    /// many ended. See [`Server::serve_answering`].
    pub fn serve_clients<W: Write>(&self, max: Option<usize>, log: &mut W) -> Result<usize, ChatError> {
        self.serve_answering(max, &mut Answer::<io::Empty>::Ack, log)
    }

    /// Serves until `max` dialogues have ended (forever with `None`), or until typed
    /// replies run out; returns how many ended. Over TCP a dialogue ends with `fin`, an
    /// empty line, or the client leaving; over UDP with `fin` or an empty datagram. A
    /// client's failure is logged and the server goes on to the next one.
    pub fn serve_answering<R: BufRead, W: Write>(
        &self,
        max: Option<usize>,
        answer: &mut Answer<R>,
        log: &mut W,
    ) -> Result<usize, ChatError> {
        let mut ended = 0;
        while max != Some(ended) {
            let turn = match &self.socket {
                ServerSocket::Tcp(listener) => serve_tcp_client(listener, answer, log)?,
                ServerSocket::Udp(socket) => serve_datagram(socket, self.addr, answer, log)?,
            };
            match turn {
                Turn::Ended => ended += 1,
                Turn::Going => {}
                Turn::Stop(closed) => {
                    writeln!(log, "no more replies to type (end of input): the server stops")
                        .map_err(ChatError::Output)?;
                    return Ok(ended + closed);
                }
            }
        }
        Ok(ended)
    }
}

/// A bound socket, listening if `stream`. Through socket2 rather than std, which cannot
/// set `IPV6_V6ONLY` before binding: without it `[::]` also takes IPv4 clients on most
/// systems, and TP1's exercise 4 (IPv4 against IPv6) would show nothing.
fn bind_socket(addr: SocketAddr, stream: bool) -> io::Result<Socket> {
    let ty = if stream { Type::STREAM } else { Type::DGRAM };
    let socket = Socket::new(Domain::for_address(addr), ty, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    if stream && cfg!(unix) {
        // As std's TcpListener::bind does on Unix: a server restarted at once can bind
        // again while its last connections are in TIME_WAIT.
        socket.set_reuse_address(true)?;
    }
    socket.bind(&addr.into())?;
    if stream {
        socket.listen(128)?;
    }
    Ok(socket)
}

/// Accepts one client and holds the dialogue with it.
fn serve_tcp_client<R: BufRead, W: Write>(
    listener: &TcpListener,
    answer: &mut Answer<R>,
    log: &mut W,
) -> Result<Turn, ChatError> {
    let (stream, peer) = match listener.accept() {
        Ok(client) => client,
        // A client that gave up before being accepted, or a lack of file descriptors, is
        // that client's problem: the server goes on.
        Err(e) => {
            writeln!(log, "accept failed: {e}").map_err(ChatError::Output)?;
            return Ok(Turn::Going);
        }
    };
    writeln!(log, "{peer} connected").map_err(ChatError::Output)?;
    let fate = tcp_dialogue(stream, peer, answer, log)?;
    match &fate {
        Fate::SaidFin => writeln!(log, "{peer} ended the dialogue"),
        Fate::Left => writeln!(log, "{peer} left without saying fin"),
        Fate::Lost(e) => writeln!(log, "{peer} lost: {e}"),
        Fate::NoMoreReplies => writeln!(log, "closing the dialogue with {peer}"),
    }
    .map_err(ChatError::Output)?;
    Ok(if matches!(fate, Fate::NoMoreReplies) { Turn::Stop(1) } else { Turn::Ended })
    // The stream drops here: the server closes first, so the TIME_WAIT state stays on this
    // side and a client bound with --bind-port can reconnect at once.
}

/// One dialogue; the error is our own log's or input's, the client's fate is the value.
fn tcp_dialogue<R: BufRead, W: Write>(
    stream: TcpStream,
    peer: SocketAddr,
    answer: &mut Answer<R>,
    log: &mut W,
) -> Result<Fate, ChatError> {
    let mut incoming = Incoming::new(stream);
    loop {
        let message = match incoming.next(None) {
            Ok(Next::Message(m)) => m,
            Ok(Next::Closed) => return Ok(Fate::Left),
            // Without a deadline there is no timeout; were there one, the client is gone.
            Ok(Next::TimedOut) => return Ok(Fate::Lost(io::ErrorKind::TimedOut.into())),
            Err(e) => return Ok(Fate::Lost(e)),
        };
        log_said(log, peer, &message.text, message.cut)?;
        if is_end(&message.text) {
            // A sheet-style client may close right after `send(b"fin")`: a failed write
            // then changes nothing, the dialogue is over either way.
            let _ = incoming.stream().write_all(&message.framing.encode(&ack(&message.text)));
            return Ok(Fate::SaidFin);
        }
        let Some(reply) = answer.reply(peer, &message.text, log)? else {
            return Ok(Fate::NoMoreReplies);
        };
        if let Err(e) = incoming.stream().write_all(&message.framing.encode(&reply)) {
            return Ok(Fate::Lost(e));
        }
    }
}

/// Logs one received message with its sender, the way both transports show it.
fn log_said<W: Write>(log: &mut W, peer: SocketAddr, line: &str, cut: bool) -> Result<(), ChatError> {
    let note = if cut { " (cut: line too long)" } else { "" };
    writeln!(log, "{peer} says: {line}{note}").map_err(ChatError::Output)
}

/// Answers one datagram.
fn serve_datagram<R: BufRead, W: Write>(
    socket: &UdpSocket,
    addr: SocketAddr,
    answer: &mut Answer<R>,
    log: &mut W,
) -> Result<Turn, ChatError> {
    use io::ErrorKind::{ConnectionRefused, ConnectionReset, Interrupted};
    let mut buf = vec![0u8; RECV_BUF];
    let (n, peer) = match socket.recv_from(&mut buf) {
        Ok(got) => got,
        // An ICMP error about an earlier answer (its client has gone) is no reason to stop.
        Err(e) if matches!(e.kind(), ConnectionRefused | ConnectionReset | Interrupted) => return Ok(Turn::Going),
        Err(e) => return Err(ChatError::Lost { addr, cause: e }),
    };
    let (line, cut) = decode_line(&buf[..n]);
    log_said(log, peer, &line, cut)?;
    let end = is_end(&line);
    let reply = if end {
        ack(&line)
    } else {
        match answer.reply(peer, &line, log)? {
            Some(reply) => reply,
            None => return Ok(Turn::Stop(0)),
        }
    };
    // A datagram is its own framing: the answer goes without a newline.
    if let Err(e) = socket.send_to(Framing::Bare.encode(&reply).as_slice(), peer) {
        writeln!(log, "cannot answer {peer}: {e}").map_err(ChatError::Output)?;
    }
    if end {
        writeln!(log, "{peer} ended the dialogue").map_err(ChatError::Output)?;
        return Ok(Turn::Ended);
    }
    Ok(Turn::Going)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor, Read};
    use std::time::Duration;

    /// Serves one TCP dialogue in a thread with typed replies; returns what a raw client
    /// read back for `sent` (written at once) and the server's log.
    fn typed_dialogue(replies: &str, sent: &[&[u8]], echo: bool) -> (Vec<String>, String, usize) {
        let server = Server::bind("127.0.0.1:0".parse().expect("literal"), Transport::Tcp).expect("bind loopback");
        let addr = server.local_addr();
        let replies = replies.to_string();
        let handle = std::thread::spawn(move || {
            let mut log = Vec::new();
            let mut answer = Answer::Typed { input: Cursor::new(replies.into_bytes()), echo };
            let served = server.serve_answering(Some(1), &mut answer, &mut log).expect("served");
            (served, String::from_utf8_lossy(&log).into_owned())
        });
        let client = TcpStream::connect(addr).expect("connect");
        client.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut reader = BufReader::new(client.try_clone().expect("clone"));
        let mut got = Vec::new();
        for message in sent {
            (&client).write_all(message).expect("send");
            let mut buf = vec![0u8; 1024];
            let n = reader.read(&mut buf).expect("answer");
            if n == 0 {
                break;
            }
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        let (served, log) = handle.join().expect("server thread");
        (got, log, served)
    }

    #[test]
    fn typed_replies_answer_in_the_framing_they_were_spoken_to() {
        let (got, log, served) = typed_dialogue("\nsalut\nbien, et toi ?\n", &[b"bonjour\n", b"ca va", b"FIN"], true);
        assert_eq!(got, ["salut\n", "bien, et toi ?", "ack: FIN"], "log:\n{log}");
        assert_eq!(served, 1);
        assert!(log.contains("says: bonjour\nyour reply to 127.0.0.1:"), "{log}");
        assert!(log.contains("an empty reply cannot be sent"), "{log}");
        assert!(log.contains(": bien, et toi ?\n") && log.contains("ended the dialogue"), "{log}");
    }

    #[test]
    fn the_server_stops_when_its_replies_run_out() {
        let (got, log, served) = typed_dialogue("seule\n", &[b"un\n", b"deux\n"], false);
        assert_eq!(got, ["seule\n"], "log:\n{log}");
        assert_eq!(served, 1);
        assert!(!log.contains(": seule"), "no echo asked:\n{log}");
        assert!(log.contains("no more replies to type (end of input): the server stops"), "{log}");
    }

    #[test]
    fn an_ipv6_server_refuses_ipv4_clients() {
        let server = match Server::bind("[::]:0".parse().expect("literal"), Transport::Tcp) {
            Ok(server) => server,
            Err(e) => return eprintln!("skipped: no IPv6 here ({e})"),
        };
        let port = server.local_addr().port();
        if TcpStream::connect(("::1", port)).is_err() {
            return eprintln!("skipped: no IPv6 loopback here");
        }
        let refused = TcpStream::connect(("127.0.0.1", port)).expect_err("IPv6 only");
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused, "{refused}");
    }
}
