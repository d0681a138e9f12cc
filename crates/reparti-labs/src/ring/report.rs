//! What a lab node says about itself: at `state`, and when it stops (as text, or as
//! JSON with `--json`). The counters live here so that the node and its report agree.

use super::wire::{Port, RingMessage};
use serde::Serialize;

/// Datagrams by type, sent or received.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// `SUCCESSOR` announcements.
    #[serde(rename = "SUCCESSOR")]
    pub successor: u64,
    /// `SUCCESSOR_OK` answers.
    #[serde(rename = "SUCCESSOR_OK")]
    pub successor_ok: u64,
    /// `TOKEN`s.
    #[serde(rename = "TOKEN")]
    pub token: u64,
    /// `DATA`, originated and relayed alike.
    #[serde(rename = "DATA")]
    pub data: u64,
    /// `LEAVE`s (the registry ring).
    #[serde(rename = "LEAVE")]
    pub leave: u64,
    /// `LEAVE_OK` answers (the registry ring).
    #[serde(rename = "LEAVE_OK")]
    pub leave_ok: u64,
}

impl Counts {
    /// Counts one message of `msg`'s type.
    pub fn count(&mut self, msg: &RingMessage) {
        let slot = match msg {
            RingMessage::Successor => &mut self.successor,
            RingMessage::SuccessorOk => &mut self.successor_ok,
            RingMessage::Token(_) => &mut self.token,
            RingMessage::Leave => &mut self.leave,
            RingMessage::LeaveOk => &mut self.leave_ok,
            RingMessage::Data(_) => &mut self.data,
        };
        *slot = slot.saturating_add(1);
    }
}

/// Datagrams refused or thrown away, by cause.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// Did not open under our key (another key, no key, tampered, too old).
    pub key: u64,
    /// Not a lab ring envelope.
    pub malformed: u64,
    /// Addressed to another port than ours.
    pub misaddressed: u64,
    /// A `TOKEN` arriving while we already held one: the ring had two.
    pub duplicate_token: u64,
    /// A `DATA` that crossed [`super::node::MAX_HOPS`] links: its origin has left the ring.
    pub circling: u64,
}

impl Dropped {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.key + self.malformed + self.misaddressed + self.duplicate_token + self.circling
    }
}

/// A text delivered here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivered {
    /// Who wrote it.
    pub origin: Port,
    /// Who handed it to us: our predecessor, the last hop.
    pub from: Port,
    /// Links it crossed.
    pub hops: u32,
    /// Our Lamport clock after receiving it.
    pub lamport: u64,
    /// The text.
    pub text: String,
}

/// A text we sent that came back round the ring: no node listens on its port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Undeliverable {
    /// The port nobody has.
    pub dest: Port,
    /// Links it crossed: the ring's size.
    pub hops: u32,
    /// The text.
    pub text: String,
}

/// A text waiting for the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Queued {
    /// Its destination.
    pub dest: Port,
    /// The text.
    pub text: String,
}

/// The node's state when the report was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct State {
    /// Whether this node holds the token.
    pub has_token: bool,
    /// Our successor's port, once it has announced itself.
    pub successor: Option<Port>,
    /// Whether our predecessor has answered our `SUCCESSOR`.
    pub predecessor_answered: bool,
    /// Times the token came back to the jeton node (0 elsewhere).
    pub laps_done: u32,
    /// Our Lamport clock.
    pub lamport: u64,
    /// Texts waiting for the token.
    pub queued: Vec<Queued>,
    /// Datagrams (texts to relay or originate, the token) waiting for our successor.
    pub waiting_for_successor: usize,
    /// The registry ring: the members as last read, by port (empty in TP3's ring).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ring: Vec<Port>,
    /// The registry ring: the token's passes, as last seen here.
    pub token_passes: u64,
}

/// Everything a lab node reports: what `--json` prints when it stops.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RingReport {
    /// Our port: our name in the ring.
    pub port: Port,
    /// The address we listened on.
    pub addr: String,
    /// Our predecessor's port (`null`: the registry ring, alone).
    pub predecessor: Option<Port>,
    /// Whether we were started with the token (`jeton`).
    pub jeton: bool,
    /// Automatic mode's laps (`--param laps=K`); `null` in manual mode.
    pub laps: Option<u32>,
    /// The registry ring's automatic mode: how long each holder keeps the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_ms: Option<u64>,
    /// Where we stand.
    pub state: State,
    /// Datagrams sent, by type.
    pub sent: Counts,
    /// Datagrams received (and readable), by type.
    pub received: Counts,
    /// Texts we wrote and sent.
    pub originated: u64,
    /// Texts we passed on for others.
    pub relayed: u64,
    /// Texts delivered here.
    pub delivered: Vec<Delivered>,
    /// Our texts that came back: no node listens on their port.
    pub undeliverable: Vec<Undeliverable>,
    /// Datagrams refused or thrown away.
    pub dropped: Dropped,
    /// Sends the socket refused.
    pub send_errors: u64,
    /// What went wrong for the ring, one line each, with what to check. Any: exit 1.
    pub problems: Vec<String>,
}

impl RingReport {
    /// The report as a few lines of text, `verb` saying when (`stopped`, `now`).
    pub fn render(&self, verb: &str) -> String {
        let s = &self.state;
        let token = match (s.has_token, self.jeton) {
            (true, true) => "holds the token (the jeton node)",
            (true, false) => "holds the token",
            (false, true) => "does not hold the token (the jeton node)",
            (false, false) => "does not hold the token",
        };
        let mode = match (self.laps, self.hold_ms) {
            (Some(k), _) if self.jeton => format!("automatic mode, {} of {k} laps", s.laps_done),
            (Some(_), _) => "automatic mode".to_string(),
            (None, Some(ms)) => format!("automatic mode, held {ms} ms at each node"),
            (None, None) => "manual mode".to_string(),
        };
        let successor = s.successor.map_or("not announced yet".to_string(), |p| p.to_string());
        let answered = if s.predecessor_answered { "" } else { " (has not answered yet)" };
        let predecessor = self.predecessor.map_or("none".to_string(), |p| p.to_string());
        let mut out = format!(
            "node {} {verb}: {token}, {mode}; predecessor {predecessor}{answered}, successor {successor}; lamport {}\n",
            self.port, s.lamport
        );
        if !s.ring.is_empty() {
            let ring: Vec<String> = s.ring.iter().map(ToString::to_string).collect();
            out += &format!(
                "  ring from the registry: {}; the token's passes so far: {}\n",
                ring.join(" → "),
                s.token_passes
            );
        }
        out += &format!(
            "  tokens: {} received, {} passed; texts: {} originated, {} delivered here, {} relayed, {} came back\n",
            self.received.token,
            self.sent.token,
            self.originated,
            self.delivered.len(),
            self.relayed,
            self.undeliverable.len()
        );
        if !s.queued.is_empty() || s.waiting_for_successor > 0 {
            out += &format!(
                "  waiting: {} for the token, {} for the successor\n",
                s.queued.len(),
                s.waiting_for_successor
            );
        }
        let d = &self.dropped;
        out += &match d.total() {
            0 => "  dropped: none".to_string(),
            n => format!(
                "  dropped: {n} ({} not opening with our key, {} malformed, {} addressed to another port, {} duplicate tokens, {} circling)",
                d.key, d.malformed, d.misaddressed, d.duplicate_token, d.circling
            ),
        };
        if self.send_errors > 0 {
            out += &format!("; send errors: {}", self.send_errors);
        }
        out.push('\n');
        out
    }
}
