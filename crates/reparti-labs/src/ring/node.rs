//! The lab node as a state machine, without sockets or clocks of its own (sans-IO):
//! [`RingNode::handle`] takes one [`Event`] (the start, a datagram and where it came
//! from, a console line, a tick of time) and returns the [`Effect`]s (datagrams to send,
//! lines to say, stop). The UDP driver ([`super::run`]) feeds it; the tests feed it
//! by hand. Time is a [`Duration`] since the start, given with every event.
//!
//! The registry ring (TP4 exercise 3: `Setup::predecessor` is `None`) shares all of it
//! but how a node learns its neighbours and how it leaves (`node/membership.rs`).

pub use super::events::{Effect, Event, Level, Setup};

use super::console::{self, Command, HELP};
use super::report::{Counts, Delivered, Dropped, Queued, Undeliverable};
use super::wire::{self, Data, Envelope, Port, RingMessage};
use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

/// The first wait before `SUCCESSOR` is said again; it doubles after each unanswered
/// try, up to [`ANNOUNCE_MAX`], so a predecessor started by hand a minute later still
/// hears us within a second, without flooding it meanwhile.
const ANNOUNCE_FIRST: Duration = Duration::from_millis(100);
const ANNOUNCE_MAX: Duration = Duration::from_secs(1);

mod membership;
mod reporting;

/// Links a `DATA` may cross before it is dropped. Its origin takes it back after one
/// lap, so only a text whose origin has left the ring gets this far; without a limit it
/// would circle for ever.
pub const MAX_HOPS: u32 = 1024;

/// One node of the lab ring.
#[derive(Debug)]
pub struct RingNode {
    setup: Setup,
    /// TP3's, as given; the registry ring's, as the registry says (`None`: alone).
    predecessor: Option<(Port, SocketAddr)>,
    successor: Option<(Port, SocketAddr)>,
    /// The registry ring: the members as last read, in ring order.
    members: Vec<SocketAddr>,
    /// Nodes that said `LEAVE`: hidden from `members` until a reading without them, so
    /// that a reading made before they removed their line cannot bring them back.
    departed: BTreeSet<SocketAddr>,
    /// The registry ring: our line is gone; `LEAVE` waits for our predecessor's answer.
    leaving: Option<membership::Leaving>,
    /// The registry ring: the token's passes so far, as last seen here.
    token_pass: u64,
    /// The registry ring's automatic mode: when the token held here leaves.
    release_at: Option<Duration>,
    /// The time of the event being handled.
    now: Duration,
    /// Our `SUCCESSOR` is unanswered: repeat it at `next_announce`.
    awaiting_predecessor: bool,
    next_announce: Duration,
    announce_wait: Duration,
    has_token: bool,
    /// `release` (or automatic mode) asked for the token to leave; it leaves after the
    /// texts waiting in `outbox`, as soon as the successor is known.
    release_pending: bool,
    laps_done: u32,
    lamport: u64,
    /// Texts typed without the token: they leave when it arrives.
    queued: VecDeque<Queued>,
    /// DATA to send to the successor (ours, or relayed), waiting until it is known.
    outbox: VecDeque<Data>,
    /// Whether we said that the successor is awaited (once per wait).
    told_waiting: bool,
    sent: Counts,
    received: Counts,
    originated: u64,
    relayed: u64,
    delivered: Vec<Delivered>,
    undeliverable: Vec<Undeliverable>,
    dropped: Dropped,
    passed_to: Option<Port>,
    out: Vec<Effect>,
}

impl RingNode {
    /// A node that has not started yet.
    pub fn new(setup: Setup) -> RingNode {
        let predecessor = setup.predecessor.map(|addr| (addr.port(), addr));
        RingNode {
            setup,
            predecessor,
            successor: None,
            members: Vec::new(),
            departed: BTreeSet::new(),
            leaving: None,
            token_pass: 0,
            release_at: None,
            now: Duration::ZERO,
            awaiting_predecessor: false,
            next_announce: Duration::ZERO,
            announce_wait: ANNOUNCE_FIRST,
            has_token: false,
            release_pending: false,
            laps_done: 0,
            lamport: 0,
            queued: VecDeque::new(),
            outbox: VecDeque::new(),
            told_waiting: false,
            sent: Counts::default(),
            received: Counts::default(),
            originated: 0,
            relayed: 0,
            delivered: Vec::new(),
            undeliverable: Vec::new(),
            dropped: Dropped::default(),
            passed_to: None,
            out: Vec::new(),
        }
    }

    /// Handles one event at time `now` (since the start); returns what to do.
    pub fn handle(&mut self, now: Duration, event: Event<'_>) -> Vec<Effect> {
        self.now = now;
        match event {
            Event::Start => self.start(now),
            Event::Datagram { src, plain } => match wire::decode(plain) {
                Ok(envelope) => self.receive(src, envelope),
                Err(why) => {
                    self.dropped.malformed += 1;
                    let n = self.dropped.malformed;
                    self.refused(n, format!("dropped a datagram from {src}: {why}"));
                }
            },
            Event::Unopened { src, why } => {
                self.dropped.key += 1;
                let n = self.dropped.key;
                self.refused(n, format!("dropped a datagram from {src}: {why}"));
            }
            Event::Console(line) => match console::parse(line) {
                Ok(Some(command)) => self.command(command),
                Ok(None) => {}
                Err(why) => self.say(Level::Error, why),
            },
            Event::Command(command) => self.command(command),
            Event::Tick => {
                if self.awaiting_predecessor && now >= self.next_announce {
                    self.announce(now);
                }
                if self.release_at.is_some_and(|at| now >= at) {
                    self.release_at = None;
                    self.release_pending = self.has_token;
                    self.flush();
                }
                self.leave_tick(now);
            }
            Event::Members(members) => self.members_read(members),
            Event::Deregistered(members) => self.deregistered(members),
        }
        std::mem::take(&mut self.out)
    }

    /// When the node wants a [`Event::Tick`]: while its `SUCCESSOR` is unanswered.
    pub fn next_wakeup(&self) -> Option<Duration> {
        let announce = self.awaiting_predecessor.then_some(self.next_announce);
        [announce, self.release_at, self.leave_wakeup()].into_iter().flatten().min()
    }

    /// Whether this node holds the token.
    pub fn has_token(&self) -> bool {
        self.has_token
    }

    /// Datagrams received and understood so far: what tells the driver the ring is
    /// alive (refused ones, such as a neighbour's under another key, do not).
    pub fn heard(&self) -> u64 {
        let r = &self.received;
        r.successor + r.successor_ok + r.token + r.data + r.leave + r.leave_ok
    }

    /// Our address.
    pub fn addr(&self) -> SocketAddr {
        self.setup.addr
    }

    /// The registry ring: the members as last read, in ring order.
    pub fn members(&self) -> &[SocketAddr] {
        &self.members
    }

    /// Our Lamport clock.
    pub fn lamport(&self) -> u64 {
        self.lamport
    }

    fn start(&mut self, now: Duration) {
        let s = &self.setup;
        let token = if s.jeton { "holds the token (jeton)" } else { "waits for the token" };
        let mode = match (s.laps, s.hold) {
            (Some(k), _) => format!("automatic mode, {k} laps"),
            (None, Some(hold)) => format!("automatic mode, each holder keeps it {} ms", hold.as_millis()),
            (None, None) => "manual mode, type help".to_string(),
        };
        let ring = match s.predecessor {
            Some(pred) => format!("predecessor {} at {pred}", pred.port()),
            None => "the ring comes from the registry".to_string(),
        };
        let line = format!("node {} listening on {}; {ring}; {token}; {mode}", s.me, s.addr);
        self.say(Level::Info, line);
        if self.setup.predecessor.is_some() {
            self.announce(now);
        }
        if self.setup.jeton {
            self.has_token = true;
            self.got_token();
        }
    }

    /// Says `SUCCESSOR` to our predecessor and schedules the next try.
    fn announce(&mut self, now: Duration) {
        let Some((pred, to)) = self.predecessor else { return };
        self.awaiting_predecessor = true;
        self.send_now(to, pred, RingMessage::Successor);
        self.next_announce = now + self.announce_wait;
        self.announce_wait = (self.announce_wait * 2).min(ANNOUNCE_MAX);
    }

    fn receive(&mut self, src: SocketAddr, env: Envelope) {
        if env.to != self.setup.me {
            self.dropped.misaddressed += 1;
            let n = self.dropped.misaddressed;
            let line = format!(
                "dropped a {} from {src}: addressed to port {}, not to this node ({}): check the ports the nodes were given",
                env.msg.kind(),
                env.to,
                self.setup.me
            );
            return self.refused(n, line);
        }
        self.received.count(&env.msg);
        match env.msg {
            RingMessage::Successor => self.successor_announced(env.from, src),
            RingMessage::SuccessorOk => self.predecessor_answered(env.from),
            RingMessage::Token(pass) => {
                // TP6's receive rule, for the two messages that are the application's.
                self.lamport = self.lamport.max(env.lamport).saturating_add(1);
                self.token_arrived(env.from, pass);
            }
            RingMessage::Leave => self.leave_heard(env.from, src),
            RingMessage::LeaveOk => self.leave_answered(src),
            RingMessage::Data(data) => {
                self.lamport = self.lamport.max(env.lamport).saturating_add(1);
                self.data_arrived(env.from, data);
            }
        }
    }

    fn successor_announced(&mut self, port: Port, addr: SocketAddr) {
        match self.successor {
            Some(known) if known == (port, addr) => {}
            Some((old, _)) => self.say(
                Level::Warning,
                format!("successor is now {port} ({addr}), was {old}: if {old} still runs, two nodes name {} as their predecessor", self.setup.me),
            ),
            None => self.say(Level::Info, format!("successor {port} ({addr})")),
        }
        self.successor = Some((port, addr));
        self.told_waiting = false;
        // Answered every time: a repeated SUCCESSOR means our last answer was lost.
        self.send_now(addr, port, RingMessage::SuccessorOk);
        self.flush();
    }

    fn predecessor_answered(&mut self, port: Port) {
        let pred = self.predecessor.map_or(0, |(p, _)| p);
        if port != pred {
            let line = format!("{port} answered SUCCESSOR_OK, but our predecessor is {pred}: ignored");
            return self.say(Level::Warning, line);
        }
        if self.awaiting_predecessor {
            self.awaiting_predecessor = false;
            self.say(Level::Info, format!("predecessor {port} answered: this node is its successor"));
        }
    }

    fn token_arrived(&mut self, from: Port, pass: Option<u64>) {
        if self.has_token {
            self.dropped.duplicate_token += 1;
            let line =
                format!("a second token arrived from {from} while this node holds one: the ring had two; kept one");
            return self.say(Level::Warning, line);
        }
        self.has_token = true;
        if let Some(pred) = self.setup.predecessor.map(|a| a.port()).filter(|p| *p != from) {
            // The registry ring's neighbours change under way: a token from the former
            // predecessor is no mistake there.
            let line = format!("the token came from {from}, not from our predecessor {pred}: check the nodes' ports");
            self.say(Level::Warning, line);
        }
        if self.setup.predecessor.is_none() {
            self.token_pass = pass.unwrap_or(self.token_pass.saturating_add(1));
            if self.leaving.is_some() {
                let line = format!(
                    "TOKEN #{} from {from} (lamport {}): this node is leaving, passed on",
                    self.token_pass, self.lamport
                );
                self.say(Level::Info, line);
                self.release_pending = true;
                return self.flush();
            }
            let hint = if self.setup.hold.is_none() { ": this node may send; `release` passes it on" } else { "" };
            self.say(Level::Info, format!("TOKEN #{} from {from} (lamport {}){hint}", self.token_pass, self.lamport));
            return self.got_token();
        }
        if self.setup.jeton {
            self.laps_done = self.laps_done.saturating_add(1);
        }
        let hint = if self.setup.laps.is_none() { ": this node may send; `release` passes it on" } else { "" };
        self.say(Level::Info, format!("TOKEN from {from} (lamport {}){hint}", self.lamport));
        self.got_token();
    }

    /// We hold the token: what was typed without it leaves, and in automatic mode the
    /// token follows unless its laps are done at the jeton node.
    fn got_token(&mut self) {
        while let Some(q) = self.queued.pop_front() {
            self.originate(q.dest, q.text);
        }
        if let Some(laps) = self.setup.laps {
            if self.setup.jeton && self.laps_done >= laps {
                self.say(Level::Info, format!("the token rests here after {laps} laps"));
            } else {
                self.release_pending = true;
            }
        }
        if let Some(hold) = self.setup.hold {
            self.release_at = Some(self.now + hold);
        }
        self.flush();
    }

    fn data_arrived(&mut self, from: Port, data: Data) {
        let me = self.setup.me;
        if data.dest == me {
            let line = format!(
                "message from {} via {from} (hops {}, lamport {}): {}",
                data.origin, data.hops, self.lamport, data.text
            );
            self.say(Level::Info, line);
            let Data { origin, hops, text, .. } = data;
            self.delivered.push(Delivered { origin, from, hops, lamport: self.lamport, text });
        } else if data.origin == me {
            let line = format!(
                "no node of the ring listens on port {}: {:?} came back after {} hops",
                data.dest, data.text, data.hops
            );
            self.say(Level::Warning, line);
            self.undeliverable.push(Undeliverable { dest: data.dest, hops: data.hops, text: data.text });
        } else if data.hops >= MAX_HOPS {
            self.dropped.circling += 1;
            let line = format!(
                "dropped a message from {} for {} after {} hops: its origin is no longer in the ring",
                data.origin, data.dest, data.hops
            );
            self.say(Level::Warning, line);
        } else {
            // Relaying needs no token: the token is the right to originate, not to forward.
            self.outbox.push_back(Data { hops: data.hops + 1, ..data });
            self.flush();
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Send { dest, text } => self.request_send(dest, text),
            Command::Release => {
                if !self.has_token {
                    self.say(Level::Error, "this node does not hold the token: nothing to release".into());
                } else if self.release_pending {
                    self.say(
                        Level::Info,
                        "the token is already on its way out: it leaves once the successor is known".into(),
                    );
                } else {
                    self.release_pending = true;
                    self.flush();
                }
            }
            Command::State => {
                let text = self.report().render("now");
                self.say(Level::Info, text.trim_end().to_string());
            }
            Command::Help => self.say(Level::Info, HELP.to_string()),
            Command::Quit if self.setup.predecessor.is_none() => {
                if self.leaving.is_none() {
                    self.out.push(Effect::Deregister);
                }
            }
            Command::Quit => self.out.push(Effect::Quit),
        }
    }

    /// A `send` typed or scripted: a local event (TP6: +1); the text leaves now if we
    /// hold the token, or when it comes.
    fn request_send(&mut self, dest: Port, text: String) {
        if dest == self.setup.me {
            return self.say(Level::Error, format!("port {dest} is this node: send to another port"));
        }
        self.lamport = self.lamport.saturating_add(1);
        if self.has_token {
            self.originate(dest, text);
            self.flush();
        } else {
            self.say(Level::Info, format!("queued until the token arrives: to {dest}: {text}"));
            self.queued.push_back(Queued { dest, text });
        }
    }

    fn originate(&mut self, dest: Port, text: String) {
        self.outbox.push_back(Data { origin: self.setup.me, dest, hops: 1, text });
    }

    /// Sends what waits for the successor — texts first, then the token — if it is known.
    fn flush(&mut self) {
        let Some((succ, addr)) = self.successor else {
            let waiting = !self.outbox.is_empty() || self.release_pending;
            if waiting && !self.told_waiting {
                self.told_waiting = true;
                let line = if self.setup.predecessor.is_some() {
                    format!(
                        "waiting for our successor to announce itself (the node started with {} as its predecessor): what we send leaves then",
                        self.setup.me
                    )
                } else {
                    "alone in the ring: what we send (and the token) leaves when another node registers".to_string()
                };
                self.say(Level::Info, line);
            }
            return;
        };
        while let Some(data) = self.outbox.pop_front() {
            let (origin, dest, hops) = (data.origin, data.dest, data.hops);
            let ours = (origin == self.setup.me).then(|| data.text.clone());
            self.tick_and_send(addr, succ, RingMessage::Data(data));
            let line = match ours {
                Some(text) => {
                    self.originated += 1;
                    format!("sent to {dest} via {succ} (lamport {}): {text}", self.lamport)
                }
                None => {
                    self.relayed += 1;
                    format!("relayed a message from {origin} for {dest}, on to {succ} (hops {hops})")
                }
            };
            self.say(Level::Info, line);
        }
        if self.release_pending && self.has_token {
            self.release_pending = false;
            self.release_at = None;
            self.has_token = false;
            self.passed_to = Some(succ);
            if self.setup.predecessor.is_some() {
                self.tick_and_send(addr, succ, RingMessage::Token(None));
                self.say(Level::Info, format!("token passed to {succ} (lamport {})", self.lamport));
            } else {
                self.token_pass = self.token_pass.saturating_add(1);
                self.tick_and_send(addr, succ, RingMessage::Token(Some(self.token_pass)));
                let line = format!("token #{} passed to {succ} (lamport {})", self.token_pass, self.lamport);
                self.say(Level::Info, line);
            }
        }
    }

    /// A send of the application (TOKEN, DATA): TP6's +1, then the stamp.
    fn tick_and_send(&mut self, to: SocketAddr, port: Port, msg: RingMessage) {
        self.lamport = self.lamport.saturating_add(1);
        self.send_now(to, port, msg);
    }

    /// Sends with the clock as it is: the ring's plumbing (SUCCESSOR, SUCCESSOR_OK) is no
    /// event of the application, as the mesh's HELLO is not.
    fn send_now(&mut self, to: SocketAddr, port: Port, msg: RingMessage) {
        self.sent.count(&msg);
        let envelope = Envelope { from: self.setup.me, to: port, lamport: self.lamport, msg };
        self.out.push(Effect::Send { to, envelope });
    }

    fn say(&mut self, level: Level, line: String) {
        self.out.push(Effect::Say(level, line));
    }

    /// Warns about the 1st, 10th, 100th... refused datagram of a kind: a node with the
    /// wrong key hears every repeated SUCCESSOR, and one line says it all.
    fn refused(&mut self, count: u64, line: String) {
        let mut n = count;
        while n >= 10 && n.is_multiple_of(10) {
            n /= 10;
        }
        if n == 1 {
            let suffix = if count > 1 { format!(" ({count} so far)") } else { String::new() };
            self.say(Level::Warning, format!("{line}{suffix}"));
        }
    }
}
