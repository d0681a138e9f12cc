//! What goes into the sans-IO node ([`super::node::RingNode`]) and what comes out:
//! who it is, the events it handles, the effects it asks its driver for.

use super::console::Command;
use super::wire::{Envelope, Port};
use std::net::SocketAddr;

/// Who this node is in the ring.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Our port: our name.
    pub me: Port,
    /// The address we listen on (for the reports).
    pub addr: SocketAddr,
    /// Where our predecessor listens; its port is its name.
    pub predecessor: SocketAddr,
    /// Started with the token (the sheet's `jeton`).
    pub jeton: bool,
    /// `None`: manual mode, the token moves on `release`. `Some(k)`: automatic mode,
    /// every holder passes it on at once, and it rests at the jeton node after `k` laps.
    pub laps: Option<u32>,
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
    /// Time passed: repeat `SUCCESSOR` if it is due ([`super::RingNode::next_wakeup`]).
    Tick,
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
}
