//! The TP3 token ring as the lab sheet builds it: `node.py port_local port_prec [jeton]`.
//!
//! Each node is a process with one UDP socket. It is told two things only: its own port
//! and its **predecessor**'s. A node's name **is** its port, as the sheet names nodes.
//! The node started with `jeton` holds the token; only the token holder may originate a
//! message; a message may be for **any** port, and travels hop by hop along the ring
//! (the sheet's advanced exercise), so nobody needs the whole ring. Nobody is told its
//! successor either (exercise 3): a starting node tells its predecessor "I am your
//! successor", and that is how each node learns where the token goes.
//!
//! [`RingNode`] is the protocol as a state machine without I/O (events in, effects out);
//! [`run`] drives it over UDP with a console. `reparti node token-ring LOCAL PREV [jeton]`
//! and the lab shape of `examples/python/token_ring_node.py` speak this protocol, so
//! Rust and Python lab nodes form one ring.
//!
//! # The protocol
//!
//! Every datagram is one JSON object in UTF-8, sealed with Fernet when the nodes share
//! a key ([`reparti_net::secure`], byte for byte what Python's `cryptography` reads),
//! in the spirit of `docs/PROTOCOL.md`'s envelope, with ports for positions:
//!
//! ```json
//! {"v":1,"from":5001,"to":5002,"lamport":4,"type":"DATA","body":{"origin":5001,"dest":5003,"hops":1,"text":"hi"}}
//! ```
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `v` | integer | the format version, `1`; any other is refused |
//! | `from` | integer 1..65535 | the sender's port: its name |
//! | `to` | integer 1..65535 | the receiver's port; a datagram for another port is dropped |
//! | `lamport` | integer | the sender's Lamport clock (below) |
//! | `type` | string | `SUCCESSOR`, `SUCCESSOR_OK`, `TOKEN` or `DATA`; the registry ring adds `LEAVE` and `LEAVE_OK` |
//! | `body` | object | `DATA`: `{"origin":PORT,"dest":PORT,"hops":N,"text":"..."}`; the registry ring's `TOKEN`: `{"pass":N}`; left out otherwise |
//!
//! Fields may come in any order; unknown extra fields are ignored.
//!
//! | `type` | sent by, when | the receiver |
//! |---|---|---|
//! | `SUCCESSOR` | a starting node, to its predecessor; repeated (after 0.1 s, 0.2 s, ... then every second) until answered | records `from` as its successor, at the datagram's source address; answers `SUCCESSOR_OK` (every time: a repeat means the answer was lost); sends what waited for a successor |
//! | `SUCCESSOR_OK` | a node, to the one that said `SUCCESSOR` | stops repeating `SUCCESSOR` (from its predecessor only) |
//! | `TOKEN` | the holder, to its successor, on `release` (manual mode) or at once (automatic mode) | now holds the token: sends the texts queued for it; in automatic mode passes it on, unless it is the jeton node and the laps are done |
//! | `DATA` | the holder (`hops` 1), or a node relaying (`hops` + 1), to its successor | `dest` is its port: delivers; `origin` is its port: the text came back, no node listens on `dest`: drops it, counts it, says so; otherwise relays it, `hops` + 1 — relaying needs no token |
//!
//! A holder that does not know its successor yet keeps the token (and the texts) and
//! says it waits; they leave when the successor announces itself. Of two `SUCCESSOR`s
//! from different ports the last wins, with a warning. A `TOKEN` arriving at a holder is
//! a second token: dropped and counted. A `DATA` past [`MAX_HOPS`] hops (its origin has
//! left the ring) is dropped and counted.
//!
//! ## Clocks (TP6)
//!
//! A Lamport clock starts at 0. A local event adds 1: the node's local events are the
//! `send` requests (typed or scripted). Sending a `TOKEN` or a `DATA` (originated or
//! relayed) adds 1, then stamps the datagram; receiving one takes `max(ours, stamp) + 1`.
//! `SUCCESSOR` and `SUCCESSOR_OK` are the ring's plumbing: they carry the clock as it is
//! and leave both clocks alone.
//!
//! ## Stopping
//!
//! A node stops on `quit`, or after `idle` without a datagram it understood (refused
//! ones, such as a neighbour's under another key, do not count) once its console, if
//! any, has closed. Its [`RingReport`] lists the ring's problems: the jeton node without
//! the token (the token was lost), a node stopping with the token, in automatic mode a
//! node that never had it or a jeton node whose laps were not done, texts never sent, a
//! predecessor that never answered. The command line exits 1 when there is any.
//!
//! A node that restarts learns its successor again only when the successor says
//! `SUCCESSOR` again, which a node does only while starting: restart the successor too.
//!
//! # The ring from the registry (TP4 exercise 3)
//!
//! `reparti node token-ring [PORT] [jeton]` needs no predecessor: the node registers in
//! the registry file and reads both neighbours there ([`from_registry`], the ring TP7's
//! election forms too), by port, round the ring; it reads the file again ten times a
//! second, so the ring re-forms when a node joins or leaves. [`run_registry`] drives it.
//! The first node (no live node listed) makes the token, and only it; a joiner is
//! spliced in by its neighbours' next reading. Nobody says `SUCCESSOR`. Every `TOKEN`
//! carries its pass number, `{"pass":N}`, printed at both ends, so the lines of all the
//! nodes show whether there was one token (each number once) or two. Automatic mode is
//! `hold` (each holder keeps the token that long, for as long as the ring runs); laps
//! have no meaning in a ring whose first node may leave.
//!
//! | `type` | sent by, when | the receiver |
//! |---|---|---|
//! | `LEAVE` | a leaving node (`quit`, Ctrl-C), once its line is removed and the token passed on, to every member left; repeated until answered, for 10 s at most | forgets the sender at once, also in readings of the file made before the line went; answers `LEAVE_OK` (every time) |
//! | `LEAVE_OK` | a member, to the leaving node | one member fewer to wait for; when none is left, the node stops |
//!
//! Why every member, not only the predecessor: a member that has not read the file
//! since a join may still take the leaving node for its successor; after its
//! `LEAVE_OK` it never sends there again, and a token it sent before arrives first and is
//! passed on (one socket to one socket on one host keeps its order). A node that is
//! killed leaves its line, which the next reading drops (nobody holds its port); a
//! token it held, or that was on its way to it, is lost, and the ring goes on without
//! one. Two neighbours leaving at the same instant can lose a token in flight between
//! them: leave one at a time.

mod console;
mod driver;
mod events;
pub mod from_registry;
pub mod node;
pub mod report;
pub mod wire;

#[cfg(test)]
mod registry_tests;
#[cfg(test)]
mod tests;

pub use console::{parse as parse_command, parse_send_spec, Command, HELP, MAX_TEXT};
pub use driver::{run, run_registry};
pub use node::{Effect, Event, Level, RingNode, Setup, MAX_HOPS};
pub use report::RingReport;

use reparti_net::secure::Key;
use reparti_net::NetError;
use std::net::SocketAddr;
use std::time::Duration;
use thiserror::Error;

/// How to run one lab node.
#[derive(Clone, Debug)]
pub struct RingConfig {
    /// The address to listen on; its port is the node's name.
    pub listen: SocketAddr,
    /// Where the predecessor listens.
    pub predecessor: SocketAddr,
    /// Start with the token.
    pub jeton: bool,
    /// `None`: manual mode; `Some(k)`: automatic, `k` laps.
    pub laps: Option<u32>,
    /// Seal and open every datagram with this key.
    pub key: Option<Key>,
    /// With a key: refuse tokens older than this many seconds.
    pub ttl: Option<u64>,
    /// Stop after this long with nothing received, once no console is open.
    pub idle: Option<Duration>,
    /// Commands to run after the start (scripted `send`s).
    pub sends: Vec<Command>,
}

impl RingConfig {
    /// A manual-mode node without the token, key or scripted sends; 60 s TTL; idle 1 s.
    pub fn new(listen: SocketAddr, predecessor: SocketAddr) -> RingConfig {
        RingConfig {
            listen,
            predecessor,
            jeton: false,
            laps: None,
            key: None,
            ttl: Some(60),
            idle: Some(Duration::from_secs(1)),
            sends: Vec::new(),
        }
    }
}

/// How to run one node of the registry ring (TP4 exercise 3); its port and its line
/// come with its [`from_registry::Registration`].
#[derive(Clone, Debug)]
pub struct RegistryRingConfig {
    /// `None`: manual mode; `Some(d)`: automatic, every holder keeps the token `d`.
    pub hold: Option<Duration>,
    /// Seal and open every datagram with this key.
    pub key: Option<Key>,
    /// With a key: refuse tokens older than this many seconds.
    pub ttl: Option<u64>,
    /// Commands to run after the start (scripted `send`s).
    pub sends: Vec<Command>,
    /// How often the registry is read.
    pub period: Duration,
}

impl RegistryRingConfig {
    /// Manual mode, no key, a 60 s TTL, the registry read ten times a second.
    pub fn new() -> RegistryRingConfig {
        RegistryRingConfig {
            hold: None,
            key: None,
            ttl: Some(60),
            sends: Vec::new(),
            period: Duration::from_millis(100),
        }
    }
}

impl Default for RegistryRingConfig {
    fn default() -> Self {
        RegistryRingConfig::new()
    }
}

/// Why a lab node could not run. Each message names the cause and the fix.
#[derive(Debug, Error)]
pub enum RingError {
    /// Our port cannot be bound (in use, not ours, privileged).
    #[error(transparent)]
    Bind(NetError),
    /// The configuration cannot work.
    #[error("bad lab ring configuration: {0}")]
    Config(String),
    /// The socket keeps failing.
    #[error("receiving on {addr} keeps failing ({detail}): check the network interface, then start the node again")]
    Socket {
        /// Our address.
        addr: SocketAddr,
        /// The last error.
        detail: String,
    },
}
