//! One member's shared half: its socket, its view of the mesh and its clocks (Lamport
//! and vector), used both by the [`super::MeshNode`] handle (sends) and by the task that
//! receives and answers datagrams.

use super::message::{self, MeshMessage};
use super::vclock::VectorClock;
use super::{Clocks, DropReason, MeshError, MeshEvent, MeshStats, Receipt};
use reparti_net::secure::{self, Key};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, Notify};

/// The largest UDP payload over IPv4: a sealed message must fit in one datagram.
const MAX_UDP_PAYLOAD: usize = 65_507;

/// Receive errors in a row after which the socket is taken to be broken, so that a
/// persistent error ends the task instead of spinning.
const MAX_RECV_ERRORS: u32 = 100;

/// What changes as the mesh lives.
pub(super) struct State {
    pub(super) peers: BTreeSet<SocketAddr>,
    pub(super) clock: u64,
    pub(super) vclock: VectorClock,
    pub(super) stats: MeshStats,
    /// The seed whose `PEERS` answer `join` is waiting for: the members it lists are the
    /// starting view, not news, so they raise no `Joined` event.
    pub(super) awaiting_seed: Option<SocketAddr>,
}

pub(super) struct Member {
    pub(super) me: SocketAddr,
    socket: UdpSocket,
    key: Option<Key>,
    ttl: Option<u64>,
    state: Mutex<State>,
    /// Woken when the awaited seed has answered.
    pub(super) seed_answered: Notify,
}

impl Member {
    pub(super) fn new(socket: UdpSocket, me: SocketAddr, key: Option<Key>, ttl: Option<u64>, state: State) -> Self {
        Member { me, socket, key, ttl, state: Mutex::new(state), seed_answered: Notify::new() }
    }

    /// The state, even if a thread panicked while holding it: every update leaves it
    /// consistent, so there is nothing to protect by refusing.
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Both clocks, read together.
    pub(super) fn clocks(&self) -> Clocks {
        let state = self.state();
        Clocks { lamport: state.clock, vector: state.vclock.clone() }
    }

    /// The datagram carrying `msg`: encoded, sealed with the key if any, size-checked.
    pub(super) fn datagram(&self, msg: &MeshMessage) -> Result<Vec<u8>, MeshError> {
        let plain = message::encode(self.me, msg);
        if plain.len() > reparti_net::wire::MAX_DATAGRAM {
            return Err(MeshError::TooLong { bytes: plain.len() });
        }
        let bytes = match &self.key {
            Some(key) => secure::seal(key, &plain),
            None => plain,
        };
        if bytes.len() > MAX_UDP_PAYLOAD {
            return Err(MeshError::TooLong { bytes: bytes.len() });
        }
        Ok(bytes)
    }

    /// Sends a ready datagram; a failure is counted and returned.
    pub(super) async fn send_datagram(&self, to: SocketAddr, bytes: &[u8]) -> Result<(), MeshError> {
        match self.socket.send_to(bytes, to).await {
            Ok(_) => Ok(()),
            Err(e) => {
                self.state().stats.send_errors += 1;
                Err(MeshError::Send { to, detail: e.to_string() })
            }
        }
    }

    /// Encodes and sends one message.
    pub(super) async fn send(&self, to: SocketAddr, msg: &MeshMessage) -> Result<(), MeshError> {
        let bytes = self.datagram(msg)?;
        self.send_datagram(to, &bytes).await
    }

    /// Receives and handles datagrams until the socket breaks; dropping `events` then
    /// tells the handle that nothing more will come.
    pub(super) async fn receive_loop(&self, events: mpsc::Sender<Queued>) {
        let mut buf = vec![0u8; 1 << 16];
        let mut errors_in_a_row = 0u32;
        loop {
            match self.socket.recv_from(&mut buf).await {
                Ok((len, src)) => {
                    errors_in_a_row = 0;
                    let bytes = buf.get(..len).unwrap_or_default();
                    self.handle(bytes, src, &events).await;
                }
                Err(e) => {
                    self.state().stats.recv_errors += 1;
                    // Some systems report an ICMP "port unreachable" for an earlier send
                    // (to a member that is gone) on the next receive: not our socket's fault.
                    let about_a_send =
                        matches!(e.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused);
                    if !about_a_send {
                        errors_in_a_row += 1;
                        if errors_in_a_row >= MAX_RECV_ERRORS {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }
    }

    async fn handle(&self, bytes: &[u8], src: SocketAddr, events: &mpsc::Sender<Queued>) {
        let plain = match &self.key {
            Some(key) => match secure::open(key, bytes, self.ttl) {
                Ok(plain) => Cow::Owned(plain),
                Err(e) => return self.refuse(src, DropReason::Crypto, e.to_string(), events),
            },
            None => Cow::Borrowed(bytes),
        };
        let (from, msg) = match message::decode(&plain) {
            Ok(decoded) => decoded,
            Err(why) => return self.refuse(src, DropReason::Malformed, why, events),
        };
        if from == self.me {
            // Our own address in a list, or an echo: nothing to learn about ourselves.
            return;
        }
        match msg {
            MeshMessage::Hello { ask_peers } => {
                let (is_new, others) = {
                    let mut state = self.state();
                    let is_new = state.peers.insert(from);
                    (is_new, state.peers.iter().filter(|p| **p != from).copied().collect::<Vec<_>>())
                };
                if is_new {
                    emit(&self.state, events, MeshEvent::Joined(from));
                }
                if ask_peers {
                    // Acting as the seed. Answering a repeated HELLO again covers a lost
                    // answer; introducing only a new member keeps repeats cheap. Failures
                    // are counted by `send`; the newcomer asks again if nothing arrives.
                    let mut listing = vec![self.me];
                    listing.extend(&others);
                    let _ = self.send(from, &MeshMessage::Peers(listing)).await;
                    if is_new {
                        for other in others {
                            let _ = self.send(other, &MeshMessage::Peers(vec![from])).await;
                        }
                    }
                }
            }
            MeshMessage::Peers(listed) => {
                let (answers_join, added) = {
                    let mut state = self.state();
                    let answers_join = state.awaiting_seed == Some(from);
                    if answers_join {
                        state.awaiting_seed = None;
                    }
                    // Whoever sends PEERS is a member too, listed or not.
                    let added: Vec<SocketAddr> = std::iter::once(from)
                        .chain(listed)
                        .filter(|addr| *addr != self.me && state.peers.insert(*addr))
                        .collect();
                    (answers_join, added)
                };
                if answers_join {
                    self.seed_answered.notify_one();
                } else {
                    for addr in added {
                        emit(&self.state, events, MeshEvent::Joined(addr));
                    }
                }
            }
            MeshMessage::Bye => {
                let was_known = self.state().peers.remove(&from);
                if was_known {
                    emit(&self.state, events, MeshEvent::Left(from));
                }
            }
            MeshMessage::Msg { text, clock } => self.deliver(from, text, clock, None, events),
            MeshMessage::Stamped { text, clock, vclock } => self.deliver(from, text, clock, Some(vclock), events),
        }
    }

    /// Applies TP6's receive rules to a `MSG` and delivers it. A message without a vector
    /// clock (from a member keeping only Lamport's) is merged as the zero vector: the
    /// receive is still an event of ours, so our own entry still ticks.
    fn deliver(
        &self,
        from: SocketAddr,
        text: String,
        stamp: u64,
        vstamp: Option<VectorClock>,
        events: &mpsc::Sender<Queued>,
    ) {
        let after = {
            let mut state = self.state();
            // On receipt of (M, H): HL = max(HL, H) + 1.
            state.clock = state.clock.max(stamp).saturating_add(1);
            // And of (M, W): V = max(V, W) entry by entry, then V[me] + 1.
            if let Some(w) = &vstamp {
                state.vclock.merge(w);
            }
            state.vclock.tick(self.me);
            Clocks { lamport: state.clock, vector: state.vclock.clone() }
        };
        let event = MeshEvent::Message { from, text, lamport: stamp, clock: after.lamport };
        let receipt = Receipt { lamport: stamp, vector: vstamp, after };
        emit_with(&self.state, events, event, Some(receipt));
    }

    fn refuse(&self, src: SocketAddr, reason: DropReason, detail: String, events: &mpsc::Sender<Queued>) {
        {
            let mut state = self.state();
            match reason {
                DropReason::Crypto => state.stats.dropped_crypto += 1,
                DropReason::Malformed => state.stats.dropped_malformed += 1,
            }
        }
        emit(&self.state, events, MeshEvent::Dropped { from: src, reason, detail });
    }
}

/// An event on its way to the handle, with a message's clocks.
pub(super) type Queued = (MeshEvent, Option<Receipt>);

/// Queues an event without clocks for the handle.
fn emit(state: &Mutex<State>, events: &mpsc::Sender<Queued>, event: MeshEvent) {
    emit_with(state, events, event, None);
}

/// Queues an event for the handle. A handle that does not read its events must not make
/// the member hoard memory: past the channel's capacity, events are counted and lost
/// (the state they report is still applied).
fn emit_with(state: &Mutex<State>, events: &mpsc::Sender<Queued>, event: MeshEvent, receipt: Option<Receipt>) {
    if let Err(mpsc::error::TrySendError::Full(_)) = events.try_send((event, receipt)) {
        state.lock().unwrap_or_else(PoisonError::into_inner).stats.events_lost += 1;
    }
}
