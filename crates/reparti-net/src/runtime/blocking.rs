//! The blocking driver: one node on this thread, waiting in `recvfrom` itself.
//!
//! Through an event loop a node makes four system calls per message received and
//! answered (`epoll_wait`, `recvfrom`, `sendto`, and the `recvfrom` that finds the socket
//! empty before it may sleep); blocking in `recvfrom` makes it two, as a plain C node
//! would, and lets the kernel wake the node directly. Everything else is the event-loop
//! driver's ([`super::run_node_on`]): the same [`Runner`], handlers, clocks, reliable
//! layer and reports.
//!
//! Controls (inputs, a console's questions, `quit`) wake no socket: they are looked at
//! after every datagram and at least every [`CONTROL_POLL`]. Timers and the reliable
//! layer's deadlines are kept to the millisecond. The tasks a node relies on — a
//! workload feeder, a supervisor's status probe, the delayed copies of injected faults —
//! must run on another thread: use a multi-threaded tokio runtime.

use super::node::Runner;
use super::{check_setup, Control, Input, NetError, NodeConfig, NodeReport};
use crate::transport::Transport;
use reparti_core::{Algorithm, NodeSetup, Topology};
use std::time::Duration;
use tokio::sync::mpsc::{self, error::TryRecvError};
use tokio::time::Instant;

/// The longest a node waits in `recvfrom` before it looks at its controls.
pub const CONTROL_POLL: Duration = Duration::from_millis(10);

/// Runs one node on a transport bound with [`Transport::bind_blocking_udp`], on this
/// thread, until it has been idle for `cfg.idle_stop` or is told to quit; see
/// [`super::run_node_on`] for the rest.
pub fn run_node_blocking<A: Algorithm>(
    transport: Transport,
    alg: &A,
    setup: NodeSetup,
    topology: &Topology,
    cfg: NodeConfig,
    mut control: mpsc::Receiver<Control<Input<A>>>,
) -> Result<NodeReport<A>, NetError> {
    if !transport.is_blocking() {
        return Err(NetError::Config("run_node_blocking needs a transport from Transport::bind_blocking_udp".into()));
    }
    check_setup(&setup, topology, &cfg)?;
    let node = alg.init(&setup);
    let mut runner = Runner::<A>::new(node, topology, &cfg, transport);
    runner.start();
    let mut control_open = true;
    let mut last_event = Instant::now();
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
                }
                Ok(Control::Show(what, reply)) => {
                    let _ = reply.send(runner.show(what));
                }
                Ok(Control::Quit) => return Ok(runner.finish()),
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
            // Retransmitting is not activity (see the event-loop driver).
            runner.poll_reliable();
            continue;
        }
        let idle = next_timer.is_none() && runner.reliable_idle() && !cfg.never_idle;
        let idle_at = last_event + cfg.idle_stop;
        if idle && now >= idle_at {
            break;
        }
        // Sleep in recvfrom until the next thing to do: two timeouts only, so that the
        // socket's is rarely set again (deadlines are then met within a millisecond).
        let soonest = [next_timer.map(|(_, at)| at), next_reliable, idle.then_some(idle_at)]
            .into_iter()
            .flatten()
            .min()
            .map(|at| at.saturating_duration_since(now));
        let wait = match soonest {
            Some(d) if d < CONTROL_POLL => Duration::from_millis(1),
            _ => CONTROL_POLL,
        };
        if let Some((bytes, peer)) = runner.transport.recv_timeout(wait)? {
            runner.datagram(&bytes, peer);
            last_event = Instant::now();
        }
    }
    Ok(runner.finish())
}
