//! The TP4 mesh: members that find each other without a fixed list, and talk with
//! messages stamped with Lamport and vector clocks (TP6).
//!
//! Each member is a process (or a task) with one UDP socket for everything it sends and
//! receives. It learns who the others are from a **registry file** (TP4's `BDD.txt`) or
//! from a **seed** member, keeps that list up to date as members come and go, and can
//! send a text to one member or to all. [`MeshNode`] is one member; its
//! [`MeshNode::next_event`] reports arrivals, departures, messages and refused datagrams.
//!
//! # The mesh protocol
//!
//! Every datagram is one JSON object in UTF-8, sealed with Fernet when the members share
//! a key, exactly as `docs/PROTOCOL.md` describes for the algorithms' envelope:
//!
//! ```json
//! {"v":1,"from":"127.0.0.1:5001","type":"MSG","body":{"content":"hello","clock":3,"vclock":{"127.0.0.1:5001":3,"127.0.0.1:5002":1}}}
//! ```
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `v` | integer | the format version, `1`; any other is refused |
//! | `from` | string `"IP:PORT"` | the sender's address: its identity in the mesh, and where answers go |
//! | `type` | string | `HELLO`, `PEERS`, `BYE` or `MSG` |
//! | `body` | JSON | per type, below; left out (or `null`) when the type has none |
//!
//! The algorithms' envelope has integer `from`/`to` positions and a `lamport` field; a
//! mesh has no positions (members are named by address, and `to` is where the datagram
//! went), and its one clocked message carries its stamps in the body, as TP6's message
//! object has `content` and `clock`. Unknown extra fields are ignored.
//!
//! | `type` | `body` | sent by, when | the receiver |
//! |---|---|---|---|
//! | `HELLO` | none | a newcomer, to every member it read in the registry (TP4's `introduce_self`) | records `from` as a member (`registry_in_list`); no answer |
//! | `HELLO` | `{"ask_peers":true}` | a newcomer, to its seed, repeated until answered | records `from`, answers `PEERS` with itself and every member it knows; if `from` is new, sends `PEERS` `[from]` to each of those members |
//! | `PEERS` | `["127.0.0.1:5001", ...]` | a seed: its answer, or news of a newcomer | records the sender and every listed address (but its own) |
//! | `BYE` | none | a leaving member, to every member it knows and every one in the registry | forgets `from` |
//! | `MSG` | `{"content":"...","clock":H,"vclock":{"IP:PORT":N,...}}` | a member sending a text | applies TP6's receive rules, delivers the text |
//!
//! In a `MSG`, `content` is the text (the sheet's name; `text`, reparti's name for it
//! before, is still accepted on receipt, so older members and scripts keep working),
//! `clock` the sender's Lamport stamp and `vclock` its vector clock (below). `vclock` may
//! be left out (or `null`) by a member that keeps only a Lamport clock (TP6 exercise 1):
//! the receiver then merges nothing and still ticks its own entry.
//!
//! ## Joining through the registry file
//!
//! Under an exclusive lock on the file, held only while it is read and appended: read the
//! members (`creat_my_list`); bind our address; if it is already listed (`verif_port_exist`)
//! and cannot be bound, a running member has it: refuse with [`MeshError::AddressTaken`];
//! if it is listed but bindable, the line is stale (a member that did not leave): reuse
//! it; otherwise append it (`add_port`). Unlock, then `HELLO` every member read.
//! Because the lock orders joins, of two members joining at once the second reads the
//! first's line and greets it: every pair ends up knowing each other.
//!
//! A line is `HOST:PORT`, or a bare port as the Python lab writes it, taken on our own
//! host; blank lines, `#` comments and other text are skipped and kept.
//!
//! ## Joining through a seed
//!
//! The newcomer binds its address and sends `HELLO {"ask_peers":true}` to the seed (any
//! running member), repeating it a few times until the seed's `PEERS` answer arrives
//! ([`MeshError::SeedSilent`] otherwise). The seed, not the newcomer, introduces the
//! newcomer to the others: it handles datagrams one at a time, so of two newcomers the
//! second is either listed to the first or told about it — the seed orders joins as the
//! lock orders them in the registry file. The first member is started without a seed, or
//! with itself as seed. The members listed in the answer are the newcomer's starting view
//! ([`MeshNode::peers`]), not `Joined` events.
//!
//! ## Leaving
//!
//! [`MeshNode::leave`] removes our line from the registry file (under the lock) and says
//! `BYE` to every member it knows and every member still in the file: a newcomer that
//! read our line just before we removed it has appended its own, so it hears the `BYE`.
//! A member that stops without leaving (killed) stays in the others' lists and the file;
//! the next member to join on its address reuses the line.
//!
//! ## Clocks (TP6)
//!
//! Each member has a Lamport clock `HL`, starting at 0. A local event
//! ([`MeshNode::local_event`]) does `HL += 1`; sending a `MSG` does `HL += 1` and stamps
//! the message with the new `HL` (a broadcast is one send event: every copy carries the
//! same stamp); receiving `(M, H)` does `HL = max(HL, H) + 1`. `HELLO`, `PEERS` and `BYE`
//! are the mesh's own plumbing, not events of the application: they leave clocks alone.
//!
//! Each member also has a vector clock `V` (exercise 2), ticked at the same events.
//! Membership changes and members are named by address, so `V` is not an array by
//! position but a map from address to count, absent entries being 0
//! ([`VectorClock`]): it starts empty (`{}`, all zeros); a local event and a send do
//! `V[me] += 1`, and a send stamps the message with `V` (`vclock`); receiving `(M, W)`
//! does `V = max(V, W)` entry by entry, then `V[me] += 1`. Its entries always come in
//! address order (a `BTreeMap`), on the wire and on screen. `e → f` exactly when
//! `V(e) < V(f)`. The field is named `vclock` because `clock` is taken by the Lamport
//! stamp, which the sheet names so, and a member that keeps both sends both.
//!
//! [`MeshNode::clocks`] reads both clocks at once; [`MeshNode::tick`],
//! [`MeshNode::send_stamped`] and [`MeshNode::broadcast_stamped`] return both after the
//! event, and [`MeshNode::next_stamped_event`] gives each message's [`Receipt`]: the
//! sender's stamps and ours after the receive. ([`MeshNode::local_event`],
//! [`MeshNode::send`], [`MeshNode::broadcast`] and [`MeshNode::next_event`] are the same
//! with the Lamport clock alone.)
//!
//! ## What is refused
//!
//! A datagram that does not open under the key ([`DropReason::Crypto`]) or is not a mesh
//! message as above ([`DropReason::Malformed`]) is dropped, counted in [`MeshStats`] and
//! reported as a [`MeshEvent::Dropped`] naming the cause; it never stops the member. A
//! `MSG` from an address that never said `HELLO` is delivered, without making it a member.
//!
//! ## A Python member
//!
//! ```python
//! import json, socket
//! sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
//! sock.bind(("127.0.0.1", 6000))
//! me, member = "127.0.0.1:6000", ("127.0.0.1", 5001)
//! send = lambda kind, body=None: sock.sendto(json.dumps({"v": 1, "from": me, "type": kind, "body": body}).encode(), member)
//! send("HELLO", {"ask_peers": True})          # 5001 answers PEERS and introduces us
//! print(json.loads(sock.recvfrom(65536)[0]))  # {"v": 1, "from": "127.0.0.1:5001", "type": "PEERS", "body": [...]}
//! send("MSG", {"content": "bonjour", "clock": 1, "vclock": {me: 1}})
//! send("BYE")
//! ```

mod join;
mod member;
pub mod message;
pub mod registry;
mod vclock;

#[cfg(test)]
mod clock_tests;

pub use vclock::VectorClock;

use join::{join_through_registry, join_through_seed, on_registry};
use member::{Member, Queued, State};
use message::MeshMessage;
use registry::LockedRegistry;
use reparti_net::secure::Key;
use reparti_net::NetError;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events waiting for [`MeshNode::next_event`] beyond which new ones are counted in
/// [`MeshStats::events_lost`] instead of queued.
pub const EVENT_BUFFER: usize = 4096;

/// How many times a newcomer says `HELLO` to its seed within [`MeshConfig::join_timeout`].
const SEED_ATTEMPTS: u32 = 5;

/// How to join a mesh.
#[derive(Clone, Debug)]
pub struct MeshConfig {
    /// Our UDP address, which is also our name in the mesh: give one the others can
    /// reach (`127.0.0.1:5001`), not `0.0.0.0`. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Join through this registry file (created if missing).
    pub registry: Option<PathBuf>,
    /// Join through this member. Neither a registry nor a seed (or ourselves as seed):
    /// start a mesh alone, waiting for others to say `HELLO`.
    pub seed: Option<SocketAddr>,
    /// Seal and open every datagram with this key.
    pub key: Option<Key>,
    /// With a key: refuse tokens older than this many seconds (`None`: any age).
    pub ttl: Option<u64>,
    /// How long a newcomer waits for its seed's answer, all attempts included.
    pub join_timeout: Duration,
}

impl MeshConfig {
    /// No registry, no seed, no key, a 60 s TTL, 2 s to join through a seed.
    pub fn new(listen: SocketAddr) -> Self {
        MeshConfig {
            listen,
            registry: None,
            seed: None,
            key: None,
            ttl: Some(60),
            join_timeout: Duration::from_secs(2),
        }
    }
}

/// What happened in the mesh, in the order the member saw it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MeshEvent {
    /// A member we did not know joined (a `HELLO`, or a seed's news).
    Joined(SocketAddr),
    /// A member we knew left (`BYE`).
    Left(SocketAddr),
    /// A text arrived.
    Message {
        /// The sender.
        from: SocketAddr,
        /// The text.
        text: String,
        /// The sender's stamp `H`.
        lamport: u64,
        /// Our clock after receiving it: `max(ours, H) + 1`.
        clock: u64,
    },
    /// A datagram was refused.
    Dropped {
        /// Where it came from (its UDP source, since its `from` may be unreadable).
        from: SocketAddr,
        /// Why, in short.
        reason: DropReason,
        /// Why, in full: the cause and what to check.
        detail: String,
    },
}

/// A member's two clocks at one instant.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Clocks {
    /// The Lamport clock `HL`.
    pub lamport: u64,
    /// The vector clock `V`.
    pub vector: VectorClock,
}

/// The clocks of a received message: the sender's stamps, and ours after TP6's receive
/// rules.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Receipt {
    /// The sender's Lamport stamp `H`.
    pub lamport: u64,
    /// The sender's vector stamp `W`; `None` from a member that keeps no vector clock.
    pub vector: Option<VectorClock>,
    /// Our clocks after receiving it: `max(HL, H) + 1` and `max(V, W)` with our entry + 1.
    pub after: Clocks,
}

/// Why a datagram was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DropReason {
    /// Not a Fernet token under our key, or expired: another key, no key, or tampering.
    Crypto,
    /// Not a mesh message: not JSON, another version or type, a bad field.
    Malformed,
}

/// Counters since the member joined.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MeshStats {
    /// Datagrams refused by the key.
    pub dropped_crypto: u64,
    /// Datagrams that were not mesh messages.
    pub dropped_malformed: u64,
    /// Sends that failed at the socket.
    pub send_errors: u64,
    /// Receives that failed at the socket.
    pub recv_errors: u64,
    /// Events not queued because nobody read the earlier ones.
    pub events_lost: u64,
}

/// Why joining, sending or leaving failed. Each message names the cause and the fix.
#[derive(Debug, Error)]
pub enum MeshError {
    /// The configuration cannot work.
    #[error("bad mesh configuration: {0}")]
    Config(String),
    /// Our address cannot be bound.
    #[error(transparent)]
    Bind(NetError),
    /// Our address is registered and bound: a member is running there.
    #[error("{addr} is already in the registry {} and in use ({detail}): a member runs there; pick another port, or stop that member", registry.display())]
    AddressTaken {
        /// The address.
        addr: SocketAddr,
        /// The registry file.
        registry: PathBuf,
        /// Why binding failed.
        detail: String,
    },
    /// The registry file cannot be read, locked or written.
    #[error("cannot use the registry file {} ({detail}): check that its directory exists and is writable, or use another file", path.display())]
    Registry {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        detail: String,
    },
    /// The seed never answered.
    #[error("the seed {seed} did not answer within {} ms: check that a member runs there (with the same key, if any)", waited.as_millis())]
    SeedSilent {
        /// The seed.
        seed: SocketAddr,
        /// How long we waited.
        waited: Duration,
    },
    /// The message does not fit in one datagram.
    #[error("the message makes a {bytes}-byte datagram, over UDP's limit (64 KiB before encryption, 65 507 bytes after): send a shorter text")]
    TooLong {
        /// The datagram's size.
        bytes: usize,
    },
    /// The socket refused a send.
    #[error("cannot send to {to}: {detail}")]
    Send {
        /// The destination.
        to: SocketAddr,
        /// The socket error.
        detail: String,
    },
}

/// One member of a mesh. Dropping it stops receiving without saying `BYE`; call
/// [`MeshNode::leave`] to leave properly.
pub struct MeshNode {
    member: Arc<Member>,
    events: mpsc::Receiver<Queued>,
    receiver: JoinHandle<()>,
    registry: Option<PathBuf>,
}

impl Drop for MeshNode {
    fn drop(&mut self) {
        self.receiver.abort();
    }
}

impl MeshNode {
    /// Binds `cfg.listen` and joins the mesh through the registry file or the seed (see
    /// the module documentation). Returns once the member knows the others.
    pub async fn join(cfg: MeshConfig) -> Result<MeshNode, MeshError> {
        match (&cfg.registry, cfg.seed) {
            (Some(_), Some(_)) => {
                Err(MeshError::Config("give a registry file or a seed, not both: they are two ways to join".into()))
            }
            (Some(path), None) => join_through_registry(path.clone(), cfg).await,
            (None, _) => join_through_seed(cfg).await,
        }
    }

    /// Our address: our name in the mesh.
    pub fn addr(&self) -> SocketAddr {
        self.member.me
    }

    /// The members we know, ourselves excluded, in address order.
    pub fn peers(&self) -> Vec<SocketAddr> {
        self.member.state().peers.iter().copied().collect()
    }

    /// Our Lamport clock.
    pub fn clock(&self) -> u64 {
        self.member.state().clock
    }

    /// Our vector clock.
    pub fn vclock(&self) -> VectorClock {
        self.member.state().vclock.clone()
    }

    /// Both our clocks, read at the same instant.
    pub fn clocks(&self) -> Clocks {
        self.member.clocks()
    }

    /// Counters since we joined.
    pub fn stats(&self) -> MeshStats {
        self.member.state().stats
    }

    /// A local event (TP6's `lamport_local_event`): ticks both clocks; returns the new
    /// Lamport clock.
    pub fn local_event(&self) -> u64 {
        self.tick().lamport
    }

    /// A local event: `HL += 1` and `V[me] += 1`; returns both clocks after it.
    pub fn tick(&self) -> Clocks {
        let mut state = self.member.state();
        state.clock = state.clock.saturating_add(1);
        state.vclock.tick(self.member.me);
        Clocks { lamport: state.clock, vector: state.vclock.clone() }
    }

    /// Sends `text` to `to` (a member or not); returns the Lamport stamp it carried.
    pub async fn send(&self, to: SocketAddr, text: &str) -> Result<u64, MeshError> {
        Ok(self.send_stamped(to, text).await?.lamport)
    }

    /// Sends `text` to `to` (a member or not); returns both stamps it carried.
    pub async fn send_stamped(&self, to: SocketAddr, text: &str) -> Result<Clocks, MeshError> {
        let (stamps, bytes) = self.stamp(text)?;
        self.member.send_datagram(to, &bytes).await?;
        Ok(stamps)
    }

    /// Sends `text` to every member we know, all with the same stamp (one send event);
    /// returns the Lamport stamp. Every member is tried; the first failure is returned.
    pub async fn broadcast(&self, text: &str) -> Result<u64, MeshError> {
        Ok(self.broadcast_stamped(text).await?.lamport)
    }

    /// [`MeshNode::broadcast`], returning both stamps the copies carried.
    pub async fn broadcast_stamped(&self, text: &str) -> Result<Clocks, MeshError> {
        let (stamps, bytes) = self.stamp(text)?;
        let mut first_error = None;
        for peer in self.peers() {
            if let Err(e) = self.member.send_datagram(peer, &bytes).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(stamps), Err)
    }

    /// The next event, waiting for one; `None` once the socket has failed for good.
    pub async fn next_event(&mut self) -> Option<MeshEvent> {
        self.next_stamped_event().await.map(|(event, _)| event)
    }

    /// The next event with, for a message, its [`Receipt`] (both clocks, the sender's and
    /// ours after receiving it), waiting for one; `None` once the socket has failed.
    pub async fn next_stamped_event(&mut self) -> Option<(MeshEvent, Option<Receipt>)> {
        self.events.recv().await
    }

    /// Leaves: removes our line from the registry file, if any, and says `BYE` to every
    /// member known or registered. `BYE` is said even when the file cannot be updated;
    /// that error is returned afterwards.
    pub async fn leave(self) -> Result<(), MeshError> {
        self.receiver.abort();
        let me = self.member.me;
        let mut told: BTreeSet<SocketAddr> = self.member.state().peers.clone();
        let mut outcome = Ok(());
        if let Some(path) = &self.registry {
            let file = path.clone();
            match on_registry(path, move || LockedRegistry::lock(&file, me.ip())?.remove(me)).await {
                Ok(registered) => told.extend(registered),
                Err(e) => outcome = Err(e),
            }
        }
        told.remove(&me);
        let bye = self.member.datagram(&MeshMessage::Bye)?;
        for member in told {
            // Counted on failure; a member we cannot reach will not miss the BYE.
            let _ = self.member.send_datagram(member, &bye).await;
        }
        outcome
    }

    /// Ticks both clocks for a send and builds the datagram stamped with them; a message
    /// too long to send leaves the clocks alone.
    fn stamp(&self, text: &str) -> Result<(Clocks, Vec<u8>), MeshError> {
        let mut state = self.member.state();
        let clock = state.clock.saturating_add(1);
        let mut vclock = state.vclock.clone();
        vclock.tick(self.member.me);
        let msg = MeshMessage::Stamped { text: text.to_string(), clock, vclock: vclock.clone() };
        let bytes = self.member.datagram(&msg)?;
        state.clock = clock;
        state.vclock = vclock.clone();
        Ok((Clocks { lamport: clock, vector: vclock }, bytes))
    }

    /// Starts receiving on `socket` with `peers` as the starting view.
    fn start(
        socket: UdpSocket,
        me: SocketAddr,
        cfg: &MeshConfig,
        peers: BTreeSet<SocketAddr>,
        awaiting_seed: Option<SocketAddr>,
        registry: Option<PathBuf>,
    ) -> MeshNode {
        let state = State { peers, clock: 0, vclock: VectorClock::new(), stats: MeshStats::default(), awaiting_seed };
        let member = Arc::new(Member::new(socket, me, cfg.key.clone(), cfg.ttl, state));
        let (events_tx, events) = mpsc::channel(EVENT_BUFFER);
        let receiving = Arc::clone(&member);
        let receiver = tokio::spawn(async move { receiving.receive_loop(events_tx).await });
        MeshNode { member, events, receiver, registry }
    }
}
