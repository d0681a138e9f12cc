//! The runtime: drives one node of an algorithm over a real network, with tokio.
//!
//! [`run_node`] binds the node's address and runs its [`Process`] from four sources of
//! events, one at a time, exactly as the simulator would: datagrams or frames from the
//! other nodes (through a [`Transport`]: UDP or TCP, with optional injected faults), the
//! node's own timers, [`Control`]s from a channel (external inputs from a console or a
//! workload, and questions such as "what is your clock?"), and an idle deadline that ends
//! the run. Every handler runs to completion before its effects are applied: sends are
//! numbered per channel, encoded ([`crate::wire`]), sealed when a key is given
//! ([`crate::secure`]) and handed to the transport; outputs and logs go into the
//! [`NodeReport`] returned at the end.
//!
//! With [`NodeConfig::reliable`], the [reliable layer](crate::reliable) stands between
//! the algorithm and the transport: it acknowledges, retransmits, suppresses duplicates
//! and, for algorithms that need it, delivers in FIFO order; a node is idle only once
//! everything it sent has been acknowledged.
//!
//! Two drivers run the same node logic: [`run_node_on`], an event loop that waits
//! on every source at once (any transport), and [`run_node_blocking`], which waits in
//! `recvfrom` itself on its own thread (UDP): two system calls per message received and
//! answered instead of four, which is what a process-per-node ring pays for
//! (`docs/PERFORMANCE.md`).
//!
//! Clocks follow [`reparti_core::clock`]: a local event (start, timer, input) ticks, the
//! [`Context`](reparti_core::Context) stamps each send, a delivery merges the stamp.
//! Vector clocks are kept when there are at most [`VECTOR_LIMIT`] nodes.
//!
//! Datagrams are hostile input: one that does not open under the key, does not decode,
//! names an unknown sender, is meant for another node, belongs to another run
//! ([`NodeConfig::run_id`]) or comes from an address other than its sender's
//! (module `peers`) is dropped and counted by reason in [`Drops`]; it never stops the node,
//! and it is not activity that keeps an idle node up. The first few refusals are
//! reported as `tracing` warnings (on stderr, in the CLI), the rest summed up once a
//! second ([`SUMMARY_EVERY`]); the first few are traced in full, the rest summed up in one
//! line ([`REFUSALS_IN_FULL`]): a flood costs neither memory nor trace nor stderr in proportion.
//!
//! The trace is kept in memory ([`NodeConfig::trace`]) or streamed to a file as the node
//! runs ([`NodeConfig::trace_file`]).

mod blocking;
mod node;
mod peers;
mod real_time;
mod receive;
mod refusals;
mod report;
mod tracer;

pub use blocking::{run_node_blocking, CONTROL_POLL};

pub use refusals::{SAID_IN_FULL, SUMMARY_EVERY};
pub use report::{Drops, NodeReport};
pub use tracer::{TraceFile, REFUSALS_IN_FULL};

// Re-exported where it was first defined, so that `runtime::NetError` still names it.
pub use crate::error::NetError;

use crate::reliable::ReliableConfig;
use crate::secure::Key;
use crate::transport::{Faults, Transport, TransportKind};
use crate::wire::{RunId, Wire};
use node::Runner;
use reparti_core::{Algorithm, NodeId, NodeSetup, Process, Topology};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Vector clocks are kept up to this many nodes: beyond, each datagram would carry
/// hundreds of bytes of stamps.
pub const VECTOR_LIMIT: usize = 64;

/// An algorithm's message type.
pub type Msg<A> = <<A as Algorithm>::Node as Process>::Msg;
/// An algorithm's external input type.
pub type Input<A> = <<A as Algorithm>::Node as Process>::Input;

/// What a console (or a test) can ask of a running node.
#[derive(Debug)]
pub enum Control<I> {
    /// An external input for the algorithm (`request`, `release`, `send`, ...).
    Input(I),
    /// A question, answered in text on the channel.
    Show(Show, oneshot::Sender<String>),
    /// Stop now, as if idle.
    Quit,
}

/// What [`Control::Show`] asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// The Lamport and vector clocks.
    Clock,
    /// Every node's address, and which are this node's neighbours.
    Peers,
    /// The algorithm's state, as it serialises it.
    State,
    /// For a supervisor detecting the end of a run: `IDLE SENT DELIVERED`, where `IDLE`
    /// is 1 when no timer is pending and nothing is unacknowledged, and the two counts
    /// are the algorithm's messages sent and delivered so far.
    Status,
}

/// How one node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// This node's position.
    pub me: NodeId,
    /// Every node's address, by position (`addrs[me]` is ours, as the others reach it).
    pub addrs: Vec<SocketAddr>,
    /// UDP or TCP.
    pub transport: TransportKind,
    /// Faults injected into everything this node sends.
    pub faults: Faults,
    /// The encoding of the datagrams we send (we read both).
    pub wire: Wire,
    /// Seal and open every datagram with this key.
    pub key: Option<Key>,
    /// With a key: refuse tokens older than this many seconds (`None`: any age).
    pub ttl: Option<u64>,
    /// The reliable channel layer, or `None` for raw datagrams.
    pub reliable: Option<ReliableConfig>,
    /// Stop after this long with nothing received, no timer pending and nothing
    /// unacknowledged.
    pub idle_stop: Duration,
    /// Never stop for idleness (an interactive node stops on [`Control::Quit`]).
    pub never_idle: bool,
    /// Collect trace events into the report, in memory.
    pub trace: bool,
    /// Stream trace events to this file instead, as they happen (`reparti node --trace`).
    pub trace_file: Option<TraceFile>,
    /// This run's identity: stamped on everything the node sends, and required of
    /// everything it accepts (what carries another run's, or none, is dropped as
    /// `another_run`). `None`: the node neither stamps nor checks, as before runs had
    /// identities (and as the Python lab scripts expect).
    pub run_id: Option<RunId>,
    /// Print every delivered message (sender, type, body, both clocks) and output on
    /// stdout, for a person at a console.
    pub echo: bool,
    /// For the labs' rings where a node knows only its successor's address: take every
    /// incoming message as sent by this node and addressed to us.
    pub incoming_from: Option<NodeId>,
    /// Every node's hardware clock, by position, for an algorithm that reads physical
    /// clocks (this node's is `[me]`; the others go in the trace's header, so that the
    /// merged run replays with every clock). Empty: an undrifted clock at offset 0.
    pub physical_clocks: Vec<reparti_core::ClockSetting>,
    /// The run's epoch, in ms since 1970: real time is measured from it, alike on every
    /// node of the run (`None`: from this node's start).
    pub clock_epoch_unix_ms: Option<f64>,
}

impl NodeConfig {
    /// UDP, JSON, no faults, no key, a 60 s TTL (Python's usual), no reliable layer,
    /// 500 ms of idleness, no trace, no run identity, no echo.
    pub fn new(me: NodeId, addrs: Vec<SocketAddr>) -> Self {
        NodeConfig {
            me,
            addrs,
            transport: TransportKind::Udp,
            faults: Faults::default(),
            wire: Wire::Json,
            key: None,
            ttl: Some(60),
            reliable: None,
            idle_stop: Duration::from_millis(500),
            never_idle: false,
            trace: false,
            trace_file: None,
            run_id: None,
            echo: false,
            incoming_from: None,
            physical_clocks: Vec::new(),
            clock_epoch_unix_ms: None,
        }
    }
}

/// The node's position, the topology and the address list must agree.
fn check_setup(setup: &NodeSetup, topology: &Topology, cfg: &NodeConfig) -> Result<(), NetError> {
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
    Ok(())
}

/// A timer that is moved rather than rebuilt: `set` resets it only when its time changes.
struct Alarm {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    at: Option<Instant>,
}

impl Alarm {
    fn new() -> Alarm {
        // Parked far away until set.
        let far = Instant::now() + Duration::from_secs(365 * 86_400);
        Alarm { sleep: Box::pin(tokio::time::sleep_until(far)), at: None }
    }

    fn set(&mut self, at: Option<Instant>) {
        if at != self.at {
            if let Some(t) = at {
                self.sleep.as_mut().reset(t);
            }
            self.at = at;
        }
    }

    fn armed(&self) -> bool {
        self.at.is_some()
    }

    /// Completes when the alarm rings; it must be set again before it can ring again.
    async fn ring(&mut self) {
        self.sleep.as_mut().await;
        self.at = None;
    }
}

/// Binds a UDP socket, with an error that names the port and the fix (for the nodes that
/// do not go through a [`Transport`], such as the TP4 mesh).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::UdpSocket, NetError> {
    tokio::net::UdpSocket::bind(addr).await.map_err(|e| crate::transport::bind_error(TransportKind::Udp, addr, e))
}

/// Binds `cfg.addrs[cfg.me]` with `cfg.transport` and runs the node there; see
/// [`run_node_on`].
pub async fn run_node<A: Algorithm>(
    alg: &A,
    setup: NodeSetup,
    topology: &Topology,
    cfg: NodeConfig,
    control: mpsc::Receiver<Control<Input<A>>>,
) -> Result<NodeReport<A>, NetError> {
    let addr = *cfg
        .addrs
        .get(cfg.me.index())
        .ok_or_else(|| NetError::Config(format!("node {} has no address in a list of {}", cfg.me, cfg.addrs.len())))?;
    let transport = Transport::bind(cfg.transport, addr, cfg.faults.clone()).await?;
    run_node_on(transport, alg, setup, topology, cfg, control).await
}

/// At most this many waiting datagrams are read before a due retransmission (see the
/// loops): enough for a window's acknowledgements, too few to hold a retransmission back.
pub(crate) const MAX_READ_BEFORE_RETRANSMITTING: usize = 1024;

/// While controls keep a node busy and messages await their acknowledgements, the
/// socket is read at least this often (well under the reliable layer's shortest
/// timeout). Only then: time-0 inputs are otherwise all applied before any datagram.
pub(crate) const LOOK_WHILE_BUSY: Duration = Duration::from_millis(1);

/// Runs one node on an already bound transport until it has been idle for
/// `cfg.idle_stop` (nothing received, no timer pending, nothing unacknowledged), or is
/// told to quit, then returns its report.
///
/// Binding first lets a caller bind every node (on port 0, say) before any starts, so
/// that no early datagram meets a closed port. Controls are read until the channel
/// closes; neither an open nor a closed channel keeps the node from its idle stop.
/// Dropping the future stops the node and closes its socket.
pub async fn run_node_on<A: Algorithm>(
    transport: Transport,
    alg: &A,
    setup: NodeSetup,
    topology: &Topology,
    cfg: NodeConfig,
    mut control: mpsc::Receiver<Control<Input<A>>>,
) -> Result<NodeReport<A>, NetError> {
    check_setup(&setup, topology, &cfg)?;
    let node = alg.init(&setup);
    let mut runner = Runner::<A>::new(node, topology, &cfg, transport)?;
    runner.start();
    if let Some(e) = runner.fatal.take() {
        return Err(NetError::Config(e));
    }

    let mut control_open = true;
    let mut last_event = Instant::now();
    // Three alarms, kept across turns of the loop and moved only when their time
    // changes: building and registering a fresh timer on every datagram costs a
    // measurable share of a hop.
    let mut timer_alarm = Alarm::new();
    let mut reliable_alarm = Alarm::new();
    let mut idle_alarm = Alarm::new();
    // When what waits was last read, so that a stream of controls does not keep it unread.
    let mut last_look = last_event;
    loop {
        let next_timer = runner.next_timer();
        timer_alarm.set(next_timer.map(|(_, at)| at));
        reliable_alarm.set(runner.next_reliable_deadline());
        let idle = next_timer.is_none() && runner.reliable_idle() && !cfg.never_idle;
        // Idleness is checked lazily: the alarm stays where it was and, when it rings
        // too early (something happened since), moves to the new deadline.
        if !idle_alarm.armed() {
            idle_alarm.set(Some(last_event + cfg.idle_stop));
        }
        // Biased, in this order: a due timer first (there are few, so they cannot starve
        // the rest, and a timer must not wait behind a flood of datagrams), then the
        // reliable layer's acknowledgements and retransmissions, then controls (a
        // console's or a workload's, queued before the peers' traffic arrives, as the
        // simulator applies them at their time), then datagrams, then idleness.
        tokio::select! {
            biased;
            _ = timer_alarm.ring(), if timer_alarm.armed() => {
                if let Some((timer, _)) = next_timer {
                    runner.fire(timer);
                }
            }
            _ = reliable_alarm.ring(), if reliable_alarm.armed() => {
                if runner.retransmission_due() {
                    read_waiting(&mut runner);
                }
                runner.poll_reliable();
                // Retransmitting is not activity: a node whose peers are gone must not
                // stay up for ever because it keeps retransmitting.
                continue;
            }
            c = control.recv(), if control_open => match c {
                Some(Control::Input(input)) => {
                    runner.input(input);
                    if last_look.elapsed() >= LOOK_WHILE_BUSY && !runner.reliable_idle() {
                        // A stream of controls always wins the biased choice below it:
                        // without a look, the acknowledgements that came meanwhile
                        // would sit unread until a timeout took the messages for lost.
                        read_waiting(&mut runner);
                        last_look = Instant::now();
                    }
                }
                Some(Control::Show(what, reply)) => {
                    let _ = reply.send(runner.show(what));
                    continue;
                }
                Some(Control::Quit) => break,
                None => control_open = false,
            },
            received = runner.transport.recv_with_origin() => {
                let (bytes, origin) = received?;
                // A refused datagram is not news: a flood of junk must not keep an
                // idle node up for ever.
                if !runner.datagram(&bytes, origin) {
                    continue;
                }
            }
            _ = idle_alarm.ring(), if idle => {
                let deadline = last_event + cfg.idle_stop;
                if Instant::now() >= deadline {
                    break;
                }
                idle_alarm.set(Some(deadline));
                continue;
            }
        }
        if let Some(e) = runner.fatal.take() {
            return Err(NetError::Config(e));
        }
        last_event = Instant::now();
    }
    runner.finish()
}

/// Hands the node the datagrams or frames already waiting, without waiting for more,
/// before a retransmission timer is believed or while controls keep it busy. Bounded, so
/// that a flood cannot hold a due retransmission back for ever.
fn read_waiting<A: Algorithm>(runner: &mut Runner<A>) {
    for _ in 0..MAX_READ_BEFORE_RETRANSMITTING {
        let Some((bytes, origin)) = runner.transport.try_recv_with_origin() else { break };
        runner.datagram(&bytes, origin);
    }
}
