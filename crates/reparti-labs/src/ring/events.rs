//! What goes into the sans-IO node ([`super::node::RingNode`]) and what comes out:
//! who it is, the events it handles, the effects it asks its driver for.

use super::console::Command;
use super::wire::{Envelope, Port};
use std::net::SocketAddr;
use std::time::Duration;

/// Who this node is in the ring.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Our port: our name.
    pub me: Port,
    /// The address we listen on (for the reports).
    pub addr: SocketAddr,
    /// TP3: where our predecessor listens, as given (its port is its name); the node
    /// finds its successor by the `SUCCESSOR` handshake. `None`: the registry ring, whose
    /// registry tells both neighbours ([`Event::Members`]).
    pub predecessor: Option<SocketAddr>,
    /// Started with the token (the sheet's `jeton`; the registry ring's first node).
    pub jeton: bool,
    /// TP3's automatic mode: `Some(k)`, every holder passes the token on at once, and it
    /// rests at the jeton node after `k` laps. `None` (and no `hold`): manual mode, the
    /// token moves on `release`.
    pub laps: Option<u32>,
    /// The registry ring's automatic mode: every holder keeps the token this long, then
    /// passes it on, for as long as the ring runs.
    pub hold: Option<Duration>,
}

/// What happens to the node.
#[derive(Clone, Debug)]
pub enum Event<'a> {
    /// The socket is bound: announce ourselves, take the token if `jeton`.
    Start,
    /// A datagram arrived from `src`, already opened if the ring is encrypted.
    Datagram {
        /// The UDP source: where our successor listens, if this is its `SUCCESSOR`.
        src: SocketAddr,
        /// The JSON text.
        plain: &'a [u8],
    },
    /// A datagram from `src` did not open under our key; `why` says so for the user.
    Unopened {
        /// The UDP source.
        src: SocketAddr,
        /// The reason, one line.
        why: String,
    },
    /// A console line, as typed.
    Console(&'a str),
    /// A command already understood (a scripted `send`, [`super::parse_send_spec`]).
    Command(Command),
    /// Time passed: repeat `SUCCESSOR` or `LEAVE`, or pass the token on, if it is due
    /// ([`super::RingNode::next_wakeup`]).
    Tick,
    /// The registry ring: the members listed now, in ring order.
    Members(&'a [SocketAddr]),
    /// The registry ring: our line is removed ([`Effect::Deregister`] was done); the
    /// members left. The node passes the token on, tells the others, then stops.
    Deregistered(&'a [SocketAddr]),
}

/// How much a line matters: where and how the driver prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// What happened: printed as is.
    Info,
    /// Something went wrong in the ring, or a datagram was refused.
    Warning,
    /// A console command was refused.
    Error,
}

/// What the node asks its driver to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send this envelope to this address (sealed by the driver if there is a key).
    Send {
        /// Where.
        to: SocketAddr,
        /// What.
        envelope: Envelope,
    },
    /// Tell the user.
    Say(Level, String),
    /// `quit` was typed: stop.
    Quit,
    /// The registry ring: `quit` was typed; remove our line from the registry, then
    /// answer with [`Event::Deregistered`].
    Deregister,
}
