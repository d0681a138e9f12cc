//! The runtime: drives one node of an algorithm over UDP, with tokio.
//!
//! [`run_node`] binds the node's address and runs its [`Process`] from four sources of
//! events, one at a time, exactly as the simulator would: datagrams from the other
//! nodes, the node's own timers, external inputs from a channel (a console, a test), and
//! an idle deadline that ends the run. Every handler runs to completion before its
//! effects are applied: sends are encoded ([`crate::wire`]), sealed when a key is given
//! ([`crate::secure`]) and sent to the destination's address; outputs and logs go into
//! the [`NodeReport`] returned at the end.
//!
//! Clocks follow [`reparti_core::clock`]: a local event (start, timer, input) ticks, the
//! [`Context`](reparti_core::Context) stamps each send, a receive merges the stamp.
//! Vector clocks are kept when there are at most [`VECTOR_LIMIT`] nodes.
//!
//! Datagrams are hostile input: one that does not open under the key, does not decode,
//! names an unknown sender or is meant for another node is dropped, counted by reason in
//! [`Drops`] and reported on stderr; it never stops the node.
//!
//! Not here yet (issue 4): TCP, the reliable channel layer, fault injection, writing the
//! trace to a file and merging the nodes' traces (trace events carry no message id, since
//! the envelope has none to match a receive with its send).

mod node;

use crate::secure::Key;
use crate::wire::Wire;
use node::Runner;
use reparti_core::trace::TraceEvent;
use reparti_core::{Algorithm, NodeId, NodeSetup, OutputValue, Process, Topology};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Vector clocks are kept up to this many nodes: beyond, each datagram would carry
/// hundreds of bytes of stamps.
pub const VECTOR_LIMIT: usize = 64;

/// Receive errors in a row after which the socket is taken to be broken, so that a
/// persistent error ends the run instead of spinning.
const MAX_RECV_ERRORS: u32 = 100;

/// An algorithm's message type.
pub type Msg<A> = <<A as Algorithm>::Node as Process>::Msg;
/// An algorithm's external input type.
pub type Input<A> = <<A as Algorithm>::Node as Process>::Input;

/// How one node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// This node's position.
    pub me: NodeId,
    /// Every node's address, by position (`addrs[me]` is ours).
    pub addrs: Vec<SocketAddr>,
    /// The encoding of the datagrams we send (we read both).
    pub wire: Wire,
    /// Seal and open every datagram with this key.
    pub key: Option<Key>,
    /// With a key: refuse tokens older than this many seconds (`None`: any age).
    pub ttl: Option<u64>,
    /// Stop after this long with nothing received and no timer pending.
    pub idle_stop: Duration,
    /// Collect trace events into the report.
    pub trace: bool,
}

impl NodeConfig {
    /// JSON, no key, a 60 s TTL (Python's usual), 500 ms of idleness, no trace.
    pub fn new(me: NodeId, addrs: Vec<SocketAddr>) -> Self {
        NodeConfig {
            me,
            addrs,
            wire: Wire::Json,
            key: None,
            ttl: Some(60),
            idle_stop: Duration::from_millis(500),
            trace: false,
        }
    }
}

/// Datagrams dropped on receipt, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    /// Not a Fernet token, failing authentication (wrong key, tampering), or expired.
    pub crypto: u64,
    /// Not a valid envelope for this algorithm (`crate::wire::WireError`), or a vector
    /// clock of the wrong length.
    pub wire: u64,
    /// `from` is not a node of the run.
    pub unknown_sender: u64,
    /// `to` is another node.
    pub wrong_destination: u64,
}

impl Drops {
    /// All drops.
    pub fn total(&self) -> u64 {
        self.crypto + self.wire + self.unknown_sender + self.wrong_destination
    }
}

/// What a node did, returned when it stops.
pub struct NodeReport<A: Algorithm> {
    /// Its position.
    pub me: NodeId,
    /// Its final state.
    pub node: A::Node,
    /// Its outputs, in order.
    pub outputs: Vec<(&'static str, OutputValue)>,
    /// Its log lines, in order.
    pub logs: Vec<String>,
    /// Datagrams sent, by message type (indexed like `Message::KINDS`).
    pub sent_by_type: Vec<u64>,
    /// Datagrams received and delivered, by message type.
    pub received_by_type: Vec<u64>,
    /// Datagrams dropped on receipt.
    pub dropped: Drops,
    /// Sends that failed (unencodable message, unknown destination, socket error).
    pub send_errors: u64,
    /// The final Lamport clock.
    pub lamport: u64,
    /// The final vector clock, when kept.
    pub vector: Option<Vec<u64>>,
    /// The trace events, when asked for (`t` in ms since the node started).
    pub trace: Option<Vec<TraceEvent>>,
}

impl<A: Algorithm> NodeReport<A> {
    /// Datagrams sent of the named type (`"ELECT"`).
    pub fn sent_of(&self, kind: &str) -> u64 {
        kind_count::<A>(&self.sent_by_type, kind)
    }

    /// Datagrams received of the named type.
    pub fn received_of(&self, kind: &str) -> u64 {
        kind_count::<A>(&self.received_by_type, kind)
    }

    /// Every value output under `key`, in order.
    pub fn outputs_of<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a OutputValue> + 'a {
        self.outputs.iter().filter(move |(k, _)| *k == key).map(|(_, v)| v)
    }
}

fn kind_count<A: Algorithm>(counts: &[u64], kind: &str) -> u64 {
    use reparti_core::Message;
    Msg::<A>::KINDS.iter().position(|k| *k == kind).and_then(|i| counts.get(i)).copied().unwrap_or(0)
}

/// Why a node could not run.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The address cannot be bound.
    #[error("cannot bind UDP {addr}: {detail}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What went wrong, and the fix.
        detail: String,
    },
    /// The configuration does not fit the run.
    #[error("bad node configuration: {0}")]
    Config(String),
    /// The socket keeps failing.
    #[error("receiving on {addr} failed {MAX_RECV_ERRORS} times in a row, last: {source}")]
    Recv {
        /// Our address.
        addr: SocketAddr,
        /// The last error.
        source: io::Error,
    },
}

/// Binds a UDP socket, with an error that names the port and the fix.
pub async fn bind(addr: SocketAddr) -> Result<UdpSocket, NetError> {
    UdpSocket::bind(addr).await.map_err(|e| {
        let detail = match e.kind() {
            io::ErrorKind::AddrInUse => {
                format!("port {} is already in use: stop whatever holds it, or pick another port", addr.port())
            }
            io::ErrorKind::AddrNotAvailable => {
                format!("{} is not an address of this machine: use one of its addresses, or 0.0.0.0", addr.ip())
            }
            io::ErrorKind::PermissionDenied => {
                format!("port {} needs privileges: use a port above 1023", addr.port())
            }
            _ => e.to_string(),
        };
        NetError::Bind { addr, detail }
    })
}

/// Binds `cfg.addrs[cfg.me]` and runs the node there; see [`run_node_on`].
pub async fn run_node<A: Algorithm>(
    alg: &A,
    setup: NodeSetup,
    topology: &Topology,
    cfg: NodeConfig,
    inputs: mpsc::Receiver<Input<A>>,
) -> Result<NodeReport<A>, NetError> {
    let addr = *cfg
        .addrs
        .get(cfg.me.index())
        .ok_or_else(|| NetError::Config(format!("node {} has no address in a list of {}", cfg.me, cfg.addrs.len())))?;
    let socket = bind(addr).await?;
    run_node_on(socket, alg, setup, topology, cfg, inputs).await
}

/// Runs one node on an already bound socket until it has been idle for
/// `cfg.idle_stop` (nothing received, no timer pending), then returns its report.
///
/// Binding first lets a caller bind every node (on port 0, say) before any starts, so
/// that no early datagram meets a closed port. Inputs are read until the channel
/// closes; neither an open nor a closed channel keeps the node from its idle stop.
/// Dropping the future stops the node and closes its socket.
pub async fn run_node_on<A: Algorithm>(
    socket: UdpSocket,
    alg: &A,
    setup: NodeSetup,
    topology: &Topology,
    cfg: NodeConfig,
    mut inputs: mpsc::Receiver<Input<A>>,
) -> Result<NodeReport<A>, NetError> {
    let n = topology.len();
    if setup.me != cfg.me || setup.n != n || cfg.addrs.len() != n || cfg.me.index() >= n {
        return Err(NetError::Config(format!(
            "node {} of {} (setup: node {} of {}) with {} addresses: give one address per node of the topology",
            cfg.me,
            n,
            setup.me,
            setup.n,
            cfg.addrs.len()
        )));
    }
    let local = socket.local_addr().map_err(|e| NetError::Config(format!("the socket has no address: {e}")))?;
    let node = alg.init(&setup);
    let mut runner = Runner::<A>::new(node, topology, &cfg, &socket);
    runner.start().await;

    // Large enough for any UDP datagram (at most 65 507 bytes of payload over IPv4).
    let mut buf = vec![0u8; 65_536];
    let mut inputs_open = true;
    let mut last_event = Instant::now();
    let mut recv_errors = 0u32;
    loop {
        let next_timer = runner.next_timer();
        let idle_deadline = last_event + cfg.idle_stop;
        // Biased, in this order: a due timer first (there are few, so they cannot starve
        // the rest, and a timer must not wait behind a flood of datagrams), then inputs
        // (a console's or a workload's, queued before the peers' traffic arrives, as the
        // simulator applies them at their time), then datagrams, then idleness.
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(next_timer.map_or(idle_deadline, |(_, at)| at)), if next_timer.is_some() => {
                if let Some((timer, _)) = next_timer {
                    runner.fire(timer).await;
                }
            }
            input = inputs.recv(), if inputs_open => match input {
                Some(input) => runner.input(input).await,
                None => inputs_open = false,
            },
            received = socket.recv_from(&mut buf) => match received {
                Ok((len, peer)) => {
                    recv_errors = 0;
                    runner.datagram(&buf[..len], peer).await;
                }
                Err(source) => {
                    // UDP reports some errors (an ICMP refusal, a full buffer) on the next
                    // receive: they concern one datagram, not the socket, unless they persist.
                    recv_errors += 1;
                    if recv_errors >= MAX_RECV_ERRORS {
                        return Err(NetError::Recv { addr: local, source });
                    }
                    eprintln!("reparti node {}: receive error on {local}: {source}", cfg.me);
                }
            },
            _ = tokio::time::sleep_until(idle_deadline), if next_timer.is_none() => break,
        }
        last_event = Instant::now();
    }
    Ok(runner.finish())
}
