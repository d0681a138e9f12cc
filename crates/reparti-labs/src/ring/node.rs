//! The lab node as a state machine, without sockets or clocks of its own (sans-IO):
//! [`RingNode::handle`] takes one [`Event`] (the start, a datagram and where it came
//! from, a console line, a tick of time) and returns the [`Effect`]s (datagrams to send,
//! lines to say, stop). The UDP driver ([`super::run`]) feeds it; the tests feed it
//! by hand. Time is a [`Duration`] since the start, given with every event.

pub use super::events::{Effect, Event, Level, Setup};

use super::console::{self, Command, HELP};
use super::report::{Counts, Delivered, Dropped, Queued, RingReport, State, Undeliverable};
use super::wire::{self, Data, Envelope, Port, RingMessage};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

/// The first wait before `SUCCESSOR` is said again; it doubles after each unanswered
/// try, up to [`ANNOUNCE_MAX`], so a predecessor started by hand a minute later still
/// hears us within a second, without flooding it meanwhile.
const ANNOUNCE_FIRST: Duration = Duration::from_millis(100);
const ANNOUNCE_MAX: Duration = Duration::from_secs(1);

/// Links a `DATA` may cross before it is dropped. Its origin takes it back after one
/// lap, so only a text whose origin has left the ring gets this far; without a limit it
/// would circle for ever.
pub const MAX_HOPS: u32 = 1024;

/// One node of the lab ring.
#[derive(Debug)]
pub struct RingNode {
    setup: Setup,
    successor: Option<(Port, SocketAddr)>,
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
        RingNode {
            setup,
            successor: None,
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
            }
        }
        std::mem::take(&mut self.out)
    }

    /// When the node wants a [`Event::Tick`]: while its `SUCCESSOR` is unanswered.
    pub fn next_wakeup(&self) -> Option<Duration> {
        self.awaiting_predecessor.then_some(self.next_announce)
    }

    /// Whether this node holds the token.
    pub fn has_token(&self) -> bool {
        self.has_token
    }

    /// Datagrams received and understood so far: what tells the driver the ring is
    /// alive (refused ones, such as a neighbour's under another key, do not).
    pub fn heard(&self) -> u64 {
        let r = &self.received;
        r.successor + r.successor_ok + r.token + r.data
    }

    /// Our Lamport clock.
    pub fn lamport(&self) -> u64 {
        self.lamport
    }

    /// The report, as of now; its `problems` are what would be wrong if the node
    /// stopped now. `send_errors` is the driver's to fill in.
    pub fn report(&self) -> RingReport {
        RingReport {
            port: self.setup.me,
            addr: self.setup.addr.to_string(),
            predecessor: self.setup.predecessor.port(),
            jeton: self.setup.jeton,
            laps: self.setup.laps,
            state: State {
                has_token: self.has_token,
                successor: self.successor.map(|(port, _)| port),
                predecessor_answered: !self.awaiting_predecessor,
                laps_done: self.laps_done,
                lamport: self.lamport,
                queued: self.queued.iter().cloned().collect(),
                waiting_for_successor: self.outbox.len() + usize::from(self.release_pending),
            },
            sent: self.sent.clone(),
            received: self.received.clone(),
            originated: self.originated,
            relayed: self.relayed,
            delivered: self.delivered.clone(),
            undeliverable: self.undeliverable.clone(),
            dropped: self.dropped.clone(),
            send_errors: 0,
            problems: self.problems(),
        }
    }

    fn start(&mut self, now: Duration) {
        let s = &self.setup;
        let token = if s.jeton { "holds the token (jeton)" } else { "waits for the token" };
        let mode = match s.laps {
            Some(k) => format!("automatic mode, {k} laps"),
            None => "manual mode, type help".to_string(),
        };
        let line = format!(
            "node {} listening on {}; predecessor {} at {}; {token}; {mode}",
            s.me,
            s.addr,
            s.predecessor.port(),
            s.predecessor
        );
        self.say(Level::Info, line);
        self.announce(now);
        if self.setup.jeton {
            self.has_token = true;
            self.got_token();
        }
    }

    /// Says `SUCCESSOR` to our predecessor and schedules the next try.
    fn announce(&mut self, now: Duration) {
        self.awaiting_predecessor = true;
        let (to, pred) = (self.setup.predecessor, self.setup.predecessor.port());
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
            RingMessage::Token => {
                // TP6's receive rule, for the two messages that are the application's.
                self.lamport = self.lamport.max(env.lamport).saturating_add(1);
                self.token_arrived(env.from);
            }
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
        if port != self.setup.predecessor.port() {
            let line = format!(
                "{port} answered SUCCESSOR_OK, but our predecessor is {}: ignored",
                self.setup.predecessor.port()
            );
            return self.say(Level::Warning, line);
        }
        if self.awaiting_predecessor {
            self.awaiting_predecessor = false;
            self.say(Level::Info, format!("predecessor {port} answered: this node is its successor"));
        }
    }

    fn token_arrived(&mut self, from: Port) {
        if self.has_token {
            self.dropped.duplicate_token += 1;
            let line =
                format!("a second token arrived from {from} while this node holds one: the ring had two; kept one");
            return self.say(Level::Warning, line);
        }
        let pred = self.setup.predecessor.port();
        if from != pred {
            let line = format!("the token came from {from}, not from our predecessor {pred}: check the nodes' ports");
            self.say(Level::Warning, line);
        }
        self.has_token = true;
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
                let line = format!(
                    "waiting for our successor to announce itself (the node started with {} as its predecessor): what we send leaves then",
                    self.setup.me
                );
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
            self.has_token = false;
            self.passed_to = Some(succ);
            self.tick_and_send(addr, succ, RingMessage::Token);
            self.say(Level::Info, format!("token passed to {succ} (lamport {})", self.lamport));
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

    /// What is wrong for the ring if we stop now; each line says what to check.
    fn problems(&self) -> Vec<String> {
        let s = &self.setup;
        let (me, pred) = (s.me, s.predecessor.port());
        let mut out = Vec::new();
        if self.awaiting_predecessor {
            out.push(format!(
                "our predecessor {pred} never answered SUCCESSOR: is a lab node running at {} (with the same key file)?",
                s.predecessor
            ));
        }
        if s.jeton && !self.has_token {
            let to = self.passed_to.map_or(String::from("its successor"), |p| p.to_string());
            out.push(format!(
                "the token left this node (the jeton node) for {to} and never came back: the ring lost it (a node stopped, or a datagram was lost)"
            ));
        } else if !s.jeton && self.has_token {
            out.push(if self.successor.is_none() {
                format!("this node stops with the token and no successor ever announced itself: the ring loses it (does a node name {me} as its predecessor?)")
            } else {
                "this node stops with the token: the ring loses it (type `release` before `quit`)".to_string()
            });
        }
        match s.laps {
            Some(laps) if s.jeton && self.has_token && self.laps_done < laps => out.push(format!(
                "the token made {} of its {laps} laps: it never left, no successor announced itself (does a node name {me} as its predecessor?)",
                self.laps_done
            )),
            Some(_) if !s.jeton && self.received.token == 0 => out.push(
                "this node never received the token (automatic mode): is the jeton node running, and does every node name its real predecessor?".to_string(),
            ),
            _ => {}
        }
        if !self.queued.is_empty() {
            let list: Vec<String> = self.queued.iter().map(|q| format!("to {}: {:?}", q.dest, q.text)).collect();
            out.push(format!(
                "{} message(s) queued for the token were never sent, the token never came ({})",
                self.queued.len(),
                list.join(", ")
            ));
        }
        if !self.outbox.is_empty() {
            out.push(format!(
                "{} message(s) for our successor were never sent: no node announced itself (does a node name {me} as its predecessor?)",
                self.outbox.len()
            ));
        }
        out
    }
}
