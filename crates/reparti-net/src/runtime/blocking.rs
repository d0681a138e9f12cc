//! The blocking driver: one node on this thread, waiting in `recvfrom` itself.
//!
//! Through an event loop a node makes four system calls per message received and
//! answered (`epoll_wait`, `recvfrom`, `sendto`, and the `recvfrom` that finds the socket
//! empty before it may sleep); blocking in `recvfrom` makes it two, as a plain C node
//! would, and lets the kernel wake the node directly. Everything else is the event-loop
//! driver's ([`super::run_node_on`]): the same [`Runner`], handlers, clocks, reliable
//! layer and reports.
//!
//! Controls (inputs, a console's questions, `quit`) reach a node asleep in `recvfrom`
//! through its socket: a task forwards each one and, if the node said it was going to
//! sleep, sends it a one-byte wake-up datagram from a socket of its own (recognised by
//! its address, never delivered). A node that is busy gets no wake-ups: a stream of
//! inputs costs one datagram per sleep, not one per input.
//! Timers and the reliable layer's deadlines are kept to the millisecond. That task,
//! and those a node relies on — a workload feeder, a supervisor's status probe, the
//! delayed copies of injected faults — run on another thread: give a handle to a
//! multi-threaded tokio runtime.

use super::node::Runner;
use super::{check_setup, Control, Input, NodeConfig, NodeReport, LOOK_WHILE_BUSY, MAX_READ_BEFORE_RETRANSMITTING};
use crate::error::NetError;
use crate::transport::{Origin, Transport};
use reparti_core::{Algorithm, NodeSetup, Topology};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, error::TryRecvError};
use tokio::time::Instant;

/// The longest a node waits in `recvfrom` with nothing due (a wake-up datagram could be
/// lost, in theory, even on loopback: this bounds the delay of a control then).
pub const CONTROL_POLL: Duration = Duration::from_millis(10);

/// What a wake-up datagram carries.
const WAKE: [u8; 1] = [0];

/// Runs one node on a transport bound with [`Transport::bind_blocking_udp`], on this
/// thread, until it has been idle for `cfg.idle_stop` or is told to quit; see
/// [`super::run_node_on`] for the rest.
pub fn run_node_blocking<A: Algorithm>(
    transport: Transport,
    alg: &A,
    setup: NodeSetup,
    topology: &Topology,
    cfg: NodeConfig,
    control: mpsc::Receiver<Control<Input<A>>>,
    runtime: &tokio::runtime::Handle,
) -> Result<NodeReport<A>, NetError> {
    if !transport.is_blocking() {
        return Err(NetError::Config("run_node_blocking needs a transport from Transport::bind_blocking_udp".into()));
    }
    check_setup(&setup, topology, &cfg)?;
    let asleep = Arc::new(AtomicBool::new(false));
    let (mut control, waker) = forward_controls(control, transport.local_addr(), Arc::clone(&asleep), runtime)?;
    let node = alg.init(&setup);
    let mut runner = Runner::<A>::new(node, topology, &cfg, transport)?;
    runner.start();
    let mut control_open = true;
    let mut last_event = Instant::now();
    let mut last_datagram = last_event;
    let mut buf = vec![0; crate::transport::RECV_BUFFER];
    // When the socket was last read, so that a stream of controls does not keep it unread.
    let mut last_look = last_event;
    loop {
        if let Some(e) = runner.fatal.take() {
            return Err(NetError::Config(e));
        }
        // Controls first, as the event-loop driver prefers them to datagrams.
        while control_open {
            match control.try_recv() {
                Ok(Control::Input(input)) => {
                    runner.input(input);
                    last_event = Instant::now();
                    if last_event.saturating_duration_since(last_look) >= LOOK_WHILE_BUSY && !runner.reliable_idle() {
                        // A stream of inputs (a workload's sends) keeps the node from
                        // reading, and an acknowledgement left unread for a timeout's
                        // length makes the reliable layer take its messages for lost.
                        read_waiting(&mut runner, &mut buf, waker, &mut last_datagram, &mut last_event)?;
                        last_look = Instant::now();
                    }
                }
                Ok(Control::Show(what, reply)) => {
                    let _ = reply.send(runner.show(what));
                }
                Ok(Control::Quit) => return runner.finish(),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => control_open = false,
            }
        }
        let now = Instant::now();
        let next_timer = runner.next_timer();
        if let Some((timer, at)) = next_timer {
            if at <= now {
                runner.fire(timer);
                last_event = now;
                continue;
            }
        }
        let next_reliable = runner.next_reliable_deadline();
        if next_reliable.is_some_and(|at| at <= now) {
            if runner.retransmission_due() {
                read_waiting(&mut runner, &mut buf, waker, &mut last_datagram, &mut last_event)?;
            }
            // Retransmitting is not activity (see the event-loop driver).
            runner.poll_reliable();
            continue;
        }
        let idle = next_timer.is_none() && runner.reliable_idle() && !cfg.never_idle;
        let idle_at = last_event + cfg.idle_stop;
        if idle && now >= idle_at {
            break;
        }
        // Sleep in recvfrom until the next thing to do. Two timeouts only, so that the
        // socket's is rarely set again: 1 ms while datagrams flow or something is due
        // soon (deadlines are then met within a millisecond), else CONTROL_POLL.
        let soonest = [next_timer.map(|(_, at)| at), next_reliable, idle.then_some(idle_at)]
            .into_iter()
            .flatten()
            .min()
            .map(|at| at.saturating_duration_since(now));
        let busy = now.saturating_duration_since(last_datagram) < CONTROL_POLL;
        let wait =
            if busy || soonest.is_some_and(|d| d < CONTROL_POLL) { Duration::from_millis(1) } else { CONTROL_POLL };
        // Say we sleep, then look once more: a control forwarded after this look finds
        // `asleep` set and wakes us; one forwarded before it is seen here.
        asleep.store(true, Ordering::SeqCst);
        if !control.is_empty() {
            asleep.store(false, Ordering::SeqCst);
            continue;
        }
        let received = runner.transport.recv_timeout(&mut buf, wait);
        asleep.store(false, Ordering::SeqCst);
        match received? {
            Some((len, peer)) => {
                take_datagram(&mut runner, &buf[..len], peer, waker, &mut last_datagram, &mut last_event);
                last_look = last_datagram;
            }
            None => last_look = Instant::now(),
        }
    }
    runner.finish()
}

/// Reads the datagrams already waiting, without sleeping, before a retransmission timer
/// is believed: a node kept busy (a long handler, a stream of inputs) has not read the
/// acknowledgements that came meanwhile, which a kernel's TCP would have. Bounded, so
/// that a flood cannot hold a due retransmission back for ever.
fn read_waiting<A: Algorithm>(
    runner: &mut Runner<A>,
    buf: &mut [u8],
    waker: SocketAddr,
    last_datagram: &mut Instant,
    last_event: &mut Instant,
) -> Result<(), NetError> {
    for _ in 0..MAX_READ_BEFORE_RETRANSMITTING {
        let Some((len, peer)) = runner.transport.try_recv(buf)? else { break };
        take_datagram(runner, &buf[..len], peer, waker, last_datagram, last_event);
    }
    Ok(())
}

/// Hands one datagram to the node, unless it is the control forwarder's wake-up.
fn take_datagram<A: Algorithm>(
    runner: &mut Runner<A>,
    bytes: &[u8],
    peer: SocketAddr,
    waker: SocketAddr,
    last_datagram: &mut Instant,
    last_event: &mut Instant,
) {
    if peer == waker && bytes == WAKE {
        return;
    }
    *last_datagram = Instant::now();
    // A refused datagram is not news (see the event-loop driver).
    if runner.datagram_at(bytes, Origin { addr: peer, connection: None }, last_datagram.into_std()) {
        *last_event = *last_datagram;
    }
}

/// Forwards controls to an unbounded channel the node drains, waking it with a datagram
/// for each; returns that channel and the address the wake-ups come from.
fn forward_controls<I: Send + 'static>(
    mut control: mpsc::Receiver<Control<I>>,
    node: SocketAddr,
    asleep: Arc<AtomicBool>,
    runtime: &tokio::runtime::Handle,
) -> Result<(mpsc::UnboundedReceiver<Control<I>>, SocketAddr), NetError> {
    // The node may listen on every interface (0.0.0.0): wake it on its loopback.
    let (here, target) = if node.is_ipv4() {
        let ip = if node.ip().is_unspecified() { Ipv4Addr::LOCALHOST.into() } else { node.ip() };
        (SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), SocketAddr::new(ip, node.port()))
    } else {
        let ip = if node.ip().is_unspecified() { Ipv6Addr::LOCALHOST.into() } else { node.ip() };
        (SocketAddr::from((Ipv6Addr::LOCALHOST, 0)), SocketAddr::new(ip, node.port()))
    };
    let bad = |e: std::io::Error| NetError::Config(format!("cannot open the node's wake-up socket: {e}"));
    let socket = UdpSocket::bind(here).map_err(bad)?;
    let from = socket.local_addr().map_err(bad)?;
    let (tx, rx) = mpsc::unbounded_channel();
    // What is queued already (inputs due at the start) is handed over now, so that the
    // node applies it before any datagram, as the simulator applies time-0 inputs first.
    while let Ok(c) = control.try_recv() {
        let _ = tx.send(c);
    }
    runtime.spawn(async move {
        while let Some(c) = control.recv().await {
            if tx.send(c).is_err() {
                return;
            }
            if asleep.swap(false, Ordering::SeqCst) {
                // Lost on a full buffer at worst: the node looks again within CONTROL_POLL.
                let _ = socket.send_to(&WAKE, target);
            }
        }
    });
    Ok((rx, from))
}
