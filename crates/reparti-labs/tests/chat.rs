//! The TP1/TP2 chat over loopback: TCP clients served in turn, UDP both ways, IPv6,
//! a fixed client port, and the errors a user meets (port in use, refused, bad address).
//! Every server runs in a thread with a bounded number of dialogues, and every wait is
//! bounded, so a broken server fails a test instead of hanging it.

use reparti_labs::chat::{self, ChatError, ClientConfig, Server, Transport, MAX_LINE};
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// A server in a thread that stops after `max` dialogues; its log comes back through `done`.
struct Running {
    addr: SocketAddr,
    done: mpsc::Receiver<(Result<usize, ChatError>, String)>,
}

impl Running {
    fn start(addr: &str, transport: Transport, max: usize) -> Running {
        let addr: SocketAddr = addr.parse().expect("a literal address");
        let server = Server::bind(addr, transport).expect("loopback port 0 is free");
        let addr = server.local_addr();
        let (tx, done) = mpsc::channel();
        thread::spawn(move || {
            let mut log = Vec::new();
            let served = server.serve_clients(Some(max), &mut log);
            let _ = tx.send((served, String::from_utf8_lossy(&log).into_owned()));
        });
        Running { addr, done }
    }

    /// Waits (bounded) for the server to finish its dialogues; returns its log.
    fn finish(self, expected: usize) -> String {
        let (served, log) = self.done.recv_timeout(WAIT).expect("server finished its dialogues in time");
        assert_eq!(served.expect("server ran without error"), expected, "log:\n{log}");
        log
    }
}

fn config(server: SocketAddr, transport: Transport) -> ClientConfig {
    ClientConfig { server, transport, bind_port: None, timeout: Duration::from_secs(5) }
}

/// Runs one client dialogue over `input`; returns what it printed.
fn talk(cfg: &ClientConfig, input: &[u8]) -> Result<String, ChatError> {
    let mut out = Vec::new();
    chat::run_client(cfg, Cursor::new(input.to_vec()), &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A port that was free a moment ago (bound then released).
fn free_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind port 0");
    let port = socket.local_addr().expect("bound").port();
    // Also free for TCP, or pick again: the tests use it for either.
    match TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => port,
        Err(_) => free_port(),
    }
}

#[test]
fn tcp_server_serves_two_clients_in_turn() {
    let server = Running::start("127.0.0.1:0", Transport::Tcp, 2);
    let cfg = config(server.addr, Transport::Tcp);

    // First client: held open by hand, so the second must wait for its turn.
    let first = TcpStream::connect(server.addr).expect("first client connects");
    first.set_read_timeout(Some(WAIT)).expect("timeout set");
    let mut first_in = BufReader::new(first.try_clone().expect("clone"));
    let mut first_out = first;
    let mut answer = String::new();
    first_out.write_all(b"un\n").expect("send");
    first_in.read_line(&mut answer).expect("ack of the first line");
    assert_eq!(answer, "ack: un\n");

    let (tx, second) = mpsc::channel();
    let cfg2 = cfg.clone();
    thread::spawn(move || {
        let _ = tx.send(talk(&cfg2, "salut\nça va\n\nnot sent\n".as_bytes()));
    });
    // While the first dialogue lasts, the second client gets no answer.
    assert!(
        second.recv_timeout(Duration::from_millis(300)).is_err(),
        "second client answered during the first dialogue"
    );

    first_out.write_all(b"FIN\n").expect("send fin");
    answer.clear();
    first_in.read_line(&mut answer).expect("ack of FIN");
    assert_eq!(answer, "ack: FIN\n");
    answer.clear();
    // After fin the server closes the connection (it closes first, by design).
    assert_eq!(first_in.read_line(&mut answer).expect("clean close"), 0);

    let out = second.recv_timeout(WAIT).expect("second client served after the first").expect("dialogue ok");
    let acks: Vec<&str> = out.lines().filter(|l| l.starts_with("ack:")).collect();
    // The empty line is acknowledged and ends the dialogue: "not sent" never goes out.
    assert_eq!(acks, ["ack: salut", "ack: ça va", "ack: "], "client printed:\n{out}");

    let log = server.finish(2);
    let first_end = log.find("ended the dialogue").expect("first dialogue ended");
    let second_line = log.find("says: salut").expect("second client heard");
    assert!(first_end < second_line, "second client served before the first ended:\n{log}");
    assert_eq!(log.matches("connected").count(), 2, "{log}");
    assert!(!log.contains("not sent"), "{log}");
}

#[test]
fn tcp_fin_in_any_case_and_odd_input() {
    let server = Running::start("127.0.0.1:0", Transport::Tcp, 2);
    let cfg = config(server.addr, Transport::Tcp);
    // Non-UTF-8 bytes and a Windows line end; then "Fin" in mixed case ends it.
    let out = talk(&cfg, b"caf\xe9\r\nFin\nafter\n").expect("dialogue ok");
    assert!(out.contains("ack: caf\u{FFFD}\n"), "{out}");
    assert!(out.contains("ack: Fin\n") && !out.contains("after"), "{out}");
    // A line too long for one datagram is refused by the client, which goes on.
    let mut input = vec![b'x'; MAX_LINE + 10];
    input.extend_from_slice(b"\nsuite\n");
    let out = talk(&cfg, &input).expect("dialogue ok");
    assert!(out.contains(&format!("line longer than {MAX_LINE} bytes: not sent")), "{out}");
    assert!(out.contains("ack: suite\n"), "{out}");
    let log = server.finish(2);
    // The second client reached the end of its input without fin: still a finished dialogue.
    assert!(log.contains("left without saying fin"), "{log}");
}

#[test]
fn udp_dialogues_both_ways() {
    let server = Running::start("127.0.0.1:0", Transport::Udp, 2);
    let cfg = config(server.addr, Transport::Udp);
    let out = talk(&cfg, b"bonjour\nFIN\n").expect("udp dialogue");
    assert!(out.contains("ack: bonjour\nack: FIN\n"), "{out}");
    // A hostile datagram: the largest payload, none of it UTF-8. The server answers with a
    // cut line that still fits in one datagram.
    let raw = UdpSocket::bind("127.0.0.1:0").expect("bind");
    raw.set_read_timeout(Some(WAIT)).expect("timeout");
    raw.send_to(&vec![0xff; 65_507], server.addr).expect("send max datagram");
    let mut buf = vec![0; 70_000];
    let (n, _) = raw.recv_from(&mut buf).expect("answer to the big datagram");
    assert!(buf.starts_with(b"ack: \xef\xbf\xbd") && n <= 65_507, "{n} bytes");
    let out = talk(&cfg, b"salut\n\n").expect("udp dialogue");
    assert!(out.contains("ack: salut\nack: \n"), "{out}");
    let log = server.finish(2);
    assert!(log.contains("says: bonjour") && log.contains("(cut: line too long)"), "{log}");
}

#[test]
fn ipv6_loopback_when_available() {
    if let Err(e) = TcpListener::bind("[::1]:0") {
        eprintln!("skipped: [::1] is not bindable here ({e})");
        return;
    }
    for transport in [Transport::Tcp, Transport::Udp] {
        let server = Running::start("[::1]:0", transport, 1);
        let server_addr = chat::resolve(&format!("[::1]:{}", server.addr.port())).expect("IPv6 literal");
        let out = talk(&config(server_addr, transport), b"hello v6\nfin\n").expect("IPv6 dialogue");
        assert!(out.contains("ack: hello v6"), "{out}");
        assert!(server.finish(1).contains("[::1]:"), "IPv6 peer address logged");
    }
}

#[test]
fn bind_port_is_the_source_port_the_server_sees() {
    for transport in [Transport::Tcp, Transport::Udp] {
        let server = Running::start("127.0.0.1:0", transport, 1);
        let port = free_port();
        let cfg = ClientConfig { bind_port: Some(port), ..config(server.addr, transport) };
        let out = talk(&cfg, b"from a fixed port\nfin\n").expect("dialogue");
        assert!(out.contains(&format!("from 127.0.0.1:{port} ")), "{out}");
        let log = server.finish(1);
        assert!(log.contains(&format!("127.0.0.1:{port} says: from a fixed port")), "{transport:?}: {log}");
    }
}

#[test]
fn port_in_use_is_one_clear_line() {
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = held.local_addr().expect("bound");
    let udp_held = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let udp_addr = udp_held.local_addr().expect("bound");
    for (addr, transport) in [(addr, Transport::Tcp), (udp_addr, Transport::Udp)] {
        let err = Server::bind(addr, transport).expect_err("port is taken");
        let msg = err.to_string();
        let expected =
            format!("port {} is already in use: choose another with --port, or stop the program using it", addr.port());
        assert_eq!(msg, expected);
        assert!(!err.is_bad_input());
    }
    // A client's fixed port taken: the message names --bind-port.
    let server = Server::bind("127.0.0.1:0".parse().expect("literal"), Transport::Udp).expect("bind");
    let cfg = ClientConfig { bind_port: Some(udp_addr.port()), ..config(server.local_addr(), Transport::Udp) };
    let msg = talk(&cfg, b"x\n").expect_err("bind port taken").to_string();
    assert!(msg.contains("already in use") && msg.contains("--bind-port"), "{msg}");
}

#[test]
fn refused_silent_and_bad_addresses() {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    for transport in [Transport::Tcp, Transport::Udp] {
        let msg = talk(&config(addr, transport), b"hello\n").expect_err("nobody listens").to_string();
        assert!(msg.contains("refused") && msg.contains("reparti chat serve"), "{transport:?}: {msg}");
        assert!(!msg.contains('\n'));
    }
    // A UDP socket that never answers: the client gives up after its timeout.
    let mute = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let cfg = ClientConfig {
        timeout: Duration::from_millis(200),
        ..config(mute.local_addr().expect("bound"), Transport::Udp)
    };
    let msg = talk(&cfg, b"anyone?\n").expect_err("no answer").to_string();
    assert!(msg.starts_with("no answer from") && msg.contains("--udp"), "{msg}");

    for bad in ["localhost", "127.0.0.1:99999", "127.0.0.1:0", "[::1]", ""] {
        let err = chat::resolve(bad).err().unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert!(err.is_bad_input() && err.to_string().contains("HOST:PORT"), "{bad:?}: {err}");
    }
    assert_eq!(chat::resolve("[::1]:5000").ok(), Some("[::1]:5000".parse().expect("literal")));
}
