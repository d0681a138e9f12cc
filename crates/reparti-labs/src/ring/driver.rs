//! The UDP driver of a lab node: one socket for everything, the console's lines, and a
//! timer, all fed to the sans-IO [`RingNode`]; its effects become datagrams (sealed
//! when there is a key) and lines for the caller to print. The registry ring's node
//! ([`run_registry`]) also gets the registry's readings, and removes its line when it
//! leaves.

use super::from_registry::{Registration, RegistryError, Watch};
use super::node::{Effect, Event, Level, RingNode, Setup};
use super::report::RingReport;
use super::wire;
use super::{RegistryRingConfig, RingConfig, RingError};
use reparti_net::runtime::bind;
use reparti_net::secure::{self, Key, SecureError};
use reparti_net::NetError;
use std::borrow::Cow;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The largest UDP payload over IPv4: a sealed datagram must fit.
const MAX_UDP_PAYLOAD: usize = 65_507;

/// Receive errors in a row after which the socket is taken to be broken, so that a
/// persistent error ends the node instead of spinning.
const MAX_RECV_ERRORS: u32 = 100;

/// Binds `cfg.listen` and runs the node until `quit`, or until it has understood no
/// datagram for `cfg.idle` once the console (if any) has closed. `console` carries the lines typed;
/// `say` prints the node's lines. Returns the node's report at the end.
pub async fn run(
    cfg: RingConfig,
    console: Option<mpsc::UnboundedReceiver<String>>,
    say: impl FnMut(Level, &str),
) -> Result<RingReport, RingError> {
    let socket = bind(cfg.listen).await.map_err(RingError::Bind)?;
    let addr =
        socket.local_addr().map_err(|e| RingError::Bind(NetError::Bind { addr: cfg.listen, detail: e.to_string() }))?;
    if addr.port() == 0 {
        return Err(RingError::Config("port 0 names no node: give the port to listen on".into()));
    }
    let setup = Setup {
        me: addr.port(),
        addr,
        predecessor: Some(cfg.predecessor),
        jeton: cfg.jeton,
        laps: cfg.laps,
        hold: None,
    };
    let link = Link { socket, key: cfg.key, ttl: cfg.ttl, send_errors: 0, deregister: false };
    serve(RingNode::new(setup), link, cfg.sends, cfg.idle, console, None, say).await
}

/// Runs a node of the registry ring on the port `registration` holds, until `quit`
/// (and its leaving is done); its line is removed on every way out.
pub async fn run_registry(
    cfg: RegistryRingConfig,
    mut registration: Registration,
    console: Option<mpsc::UnboundedReceiver<String>>,
    say: impl FnMut(Level, &str),
) -> Result<RingReport, RingError> {
    let addr = registration.addr;
    let bound = registration.take_socket().ok_or_else(|| RingError::Config("the registration holds no port".into()))?;
    let socket = bound.set_nonblocking(true).and_then(|()| UdpSocket::from_std(bound)).map_err(|e| {
        RingError::Socket { addr, detail: format!("cannot hand the registered port to the runtime: {e}") }
    })?;
    let setup = Setup {
        me: addr.port(),
        addr,
        predecessor: None,
        // The first node of the ring makes the token; nobody else ever does.
        jeton: registration.others.is_empty(),
        laps: None,
        hold: cfg.hold,
    };
    let (changes, readings) = mpsc::unbounded_channel();
    let _watcher = Watch::new(registration.path(), addr, true).in_thread(cfg.period, changes);
    let link = Link { socket, key: cfg.key, ttl: cfg.ttl, send_errors: 0, deregister: false };
    let membership = Membership { registration, readings: Some(readings) };
    serve(RingNode::new(setup), link, cfg.sends, None, console, Some(membership), say).await
}

/// What the registry ring's driver has more: its line, and the readings of the file.
struct Membership {
    registration: Registration,
    /// `None` once the watching thread has ended.
    readings: Option<mpsc::UnboundedReceiver<Result<Vec<SocketAddr>, RegistryError>>>,
}

impl Membership {
    /// Removes our line; the members left (as last read, if the file fails us now).
    fn leave(&mut self, node: &RingNode, say: &mut impl FnMut(Level, &str)) -> Vec<SocketAddr> {
        self.registration.leave().unwrap_or_else(|e| {
            say(Level::Warning, &format!("{e}; our line may stay behind (the next reading drops it)"));
            node.members().to_vec()
        })
    }
}

/// The node's loop, over a bound socket.
async fn serve(
    mut node: RingNode,
    mut link: Link,
    sends: Vec<super::Command>,
    idle: Option<Duration>,
    mut console: Option<mpsc::UnboundedReceiver<String>>,
    mut membership: Option<Membership>,
    mut say: impl FnMut(Level, &str),
) -> Result<RingReport, RingError> {
    let addr = node.addr();
    let start = Instant::now();
    let mut quit = link.apply(node.handle(Duration::ZERO, Event::Start), &mut say).await;
    for command in sends {
        quit |= link.apply(node.handle(start.elapsed(), Event::Command(command)), &mut say).await;
    }
    let mut buf = vec![0u8; 1 << 16];
    let mut last_heard = Instant::now();
    let mut errors_in_a_row = 0u32;
    while !quit {
        if std::mem::take(&mut link.deregister) {
            let left = membership.as_mut().map(|m| m.leave(&node, &mut say)).unwrap_or_default();
            quit = link.apply(node.handle(start.elapsed(), Event::Deregistered(&left)), &mut say).await;
            continue;
        }
        let wake = node.next_wakeup().map(|at| start + at);
        // A console keeps the node up (a person decides when to quit); once its input
        // ends, or without one, silence ends the node.
        let idle_at = match (&console, idle) {
            (None, Some(idle)) => Some(last_heard + idle),
            _ => None,
        };
        tokio::select! {
            received = link.socket.recv_from(&mut buf) => match received {
                Ok((len, src)) => {
                    errors_in_a_row = 0;
                    let heard = node.heard();
                    let bytes = buf.get(..len).unwrap_or_default();
                    let effects = match link.open(bytes) {
                        Ok(plain) => node.handle(start.elapsed(), Event::Datagram { src, plain: &plain }),
                        Err(why) => node.handle(start.elapsed(), Event::Unopened { src, why }),
                    };
                    // Only datagrams understood keep the node up: a neighbour repeating
                    // itself under another key must not keep it waiting for ever.
                    if node.heard() > heard {
                        last_heard = Instant::now();
                    }
                    quit = link.apply(effects, &mut say).await;
                }
                Err(e) => {
                    // Linux may report an ICMP "port unreachable" for an earlier send (to
                    // a node that is gone) on the next receive: not our socket's fault.
                    if !matches!(e.kind(), io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset) {
                        errors_in_a_row += 1;
                        if errors_in_a_row >= MAX_RECV_ERRORS {
                            return Err(RingError::Socket { addr, detail: e.to_string() });
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            },
            line = next_line(&mut console) => match line {
                Some(line) => {
                    let effects = node.handle(start.elapsed(), Event::Console(&line));
                    quit = link.apply(effects, &mut say).await;
                }
                None => {
                    // The input ended (a script piped in): idleness counts from now.
                    console = None;
                    last_heard = Instant::now();
                }
            },
            () = sleep_until(wake) => {
                quit = link.apply(node.handle(start.elapsed(), Event::Tick), &mut say).await;
            }
            reading = next_reading(&mut membership) => {
                let effects = match reading {
                    Some(Ok(members)) => node.handle(start.elapsed(), Event::Members(&members)),
                    Some(Err(e)) => {
                        say(Level::Warning, &format!("{e}; the ring stays as last read"));
                        Vec::new()
                    }
                    None => {
                        if let Some(m) = membership.as_mut() {
                            m.readings = None;
                        }
                        say(Level::Warning, "the registry is no longer read: the ring stays as last read");
                        Vec::new()
                    }
                };
                quit = link.apply(effects, &mut say).await;
            }
            () = sleep_until(idle_at) => break,
        }
    }
    let mut report = node.report();
    report.send_errors = link.send_errors;
    Ok(report)
}

/// The socket and the key: turns envelopes into datagrams and back.
struct Link {
    socket: UdpSocket,
    key: Option<Key>,
    ttl: Option<u64>,
    send_errors: u64,
    /// The node asked for its line to be removed ([`Effect::Deregister`]).
    deregister: bool,
}

impl Link {
    /// Opens a datagram under the key, if any; the error is the line the user reads.
    fn open<'a>(&self, bytes: &'a [u8]) -> Result<Cow<'a, [u8]>, String> {
        let Some(key) = &self.key else { return Ok(Cow::Borrowed(bytes)) };
        secure::open(key, bytes, self.ttl).map(Cow::Owned).map_err(|e| match e {
            SecureError::Expired { .. } | SecureError::FromTheFuture { .. } => e.to_string(),
            SecureError::Unreadable { .. } => {
                "it does not open with our key: check every node uses the same key file (this one is not encrypted)"
                    .to_string()
            }
            _ => "it does not open with our key: check every node uses the same key file".to_string(),
        })
    }

    /// Carries out the node's effects in order; returns whether it asked to stop.
    async fn apply(&mut self, effects: Vec<Effect>, say: &mut impl FnMut(Level, &str)) -> bool {
        let mut quit = false;
        for effect in effects {
            match effect {
                Effect::Send { to, envelope } => {
                    let plain = wire::encode(&envelope);
                    if let Err(why) = self.send(to, plain).await {
                        self.send_errors += 1;
                        say(Level::Warning, &format!("cannot send {} to {to}: {why}", envelope.msg.kind()));
                    }
                }
                Effect::Say(level, line) => say(level, &line),
                Effect::Quit => quit = true,
                Effect::Deregister => self.deregister = true,
            }
        }
        quit
    }

    async fn send(&self, to: SocketAddr, plain: Vec<u8>) -> Result<(), String> {
        let bytes = match &self.key {
            Some(key) => secure::seal(key, &plain),
            None => plain,
        };
        if bytes.len() > MAX_UDP_PAYLOAD {
            return Err(format!("{} bytes, over UDP's {MAX_UDP_PAYLOAD}-byte limit", bytes.len()));
        }
        self.socket.send_to(&bytes, to).await.map(drop).map_err(|e| e.to_string())
    }
}

async fn next_line(lines: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match lines {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn next_reading(membership: &mut Option<Membership>) -> Option<Result<Vec<SocketAddr>, RegistryError>> {
    match membership.as_mut().and_then(|m| m.readings.as_mut()) {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
