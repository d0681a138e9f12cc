//! Merging the traces that real nodes write into one trace of the whole run.
//!
//! A node started by `reparti run` sees only itself: its trace (`reparti node --trace`)
//! has times in milliseconds since *it* started, and its sends and receives carry no
//! global message id, only `seq`, the message's number on its channel `from → to`.
//! [`merge`] turns N such traces into one trace in the common format (`docs/TRACE.md`)
//! that draws, replays (`reparti_sim::replay`) and checks like a simulated one:
//!
//! * **Matching.** Each receive is matched with its send by `(from, to, seq)`.
//! * **Order.** The merged order is a topological order of happens-before: every node's
//!   events stay in its own order, a send comes before its receives. Among the nodes
//!   whose next event may come, the one with the earliest time (`start_offset_ms` plus
//!   the local time), then the lowest node number, goes first, so the result also reads
//!   well on a time axis. Clock skew never breaks the order, it only moves an event later.
//! * **Handlers stay whole.** A trigger (`start`, `receive`, `timer`, `input`, `crash`)
//!   and the sends, outputs and logs its handler made are emitted together. Replay
//!   re-executes each trigger's handler at once and numbers the messages in the order
//!   their handlers ran; keeping handlers whole makes that order the order of the `send`
//!   lines, so the ids given here (0, 1, 2… in order of the sends) are replay's own.
//! * **Times.** `t` = `start_offset_ms` + local time, then raised to the previous event's
//!   `t` where needed, so times never go backwards along the trace.
//! * **What the network did.** A message received twice (no dedup layer) gets a
//!   `duplicate` event right after its send (both receives name the same id); one sent
//!   and never received (lost, or its receiver stopped first) gets a `drop` event with
//!   reason [`LOST`], at the end of the trace, where replay takes it out of flight.
//! * **Refused datagrams.** A node's own `drop` events (a datagram refused on receipt:
//!   `crypto`, `wire`, `unknown_sender`, `wrong_destination`) are not algorithm messages
//!   and have no `seq`; they become `log` events reading `dropped a datagram: REASON`
//!   (and the sender, when known). Kept as `drop`s they would need a message id, and
//!   replay would look for that message in flight and fail.
//! * **The closing line** says `stop` = [`DEFAULT_STOP`] (the nodes went quiet); a caller
//!   that stopped the run otherwise (a time limit) sets `trace.end` itself.
//!
//! The result depends only on the traces given, not on the order they are passed in:
//! every choice is made on ordered keys.

use reparti_core::trace::{EventKind, Trace, TraceEnd, TraceEvent, TraceHeader};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The `stop` the merged trace's closing line carries.
pub const DEFAULT_STOP: &str = "quiescence";

/// The `reason` of the `drop` made for a message that was sent and never received.
pub const LOST: &str = "lost";

/// One node's trace, as `reparti node --trace` wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeTrace {
    /// The node's number, `0..n`.
    pub node: u32,
    /// Its events, in the order it recorded them (`t` in ms since it started).
    pub events: Vec<TraceEvent>,
    /// When the node started, in ms since the run's start, as the supervisor measured it;
    /// 0 if unknown.
    pub start_offset_ms: f64,
}

/// Why the nodes' traces cannot be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// A node of the run has no trace.
    #[error("no trace for node {node} (the run has {nodes} nodes): pass every node's trace, an empty one if it wrote nothing")]
    MissingNode {
        /// The node.
        node: u32,
        /// How many nodes the header says the run has.
        nodes: usize,
    },
    /// Two traces claim the same node.
    #[error("two traces for node {node}: pass each node's trace once")]
    DuplicateNode {
        /// The node.
        node: u32,
    },
    /// A trace names a node the run does not have.
    #[error("a trace for node {node}, but the run has {nodes} nodes (0..{nodes}): is the header from another run?")]
    UnknownNode {
        /// The node.
        node: u32,
        /// How many nodes the header says the run has.
        nodes: usize,
    },
    /// A send or receive lacks a field merging needs.
    #[error("node {node}'s event {index} (a {kind}) has no `{field}`: merge traces written by `reparti node --trace`")]
    MissingField {
        /// The node whose trace it is.
        node: u32,
        /// The event's position in that trace, from 0.
        index: usize,
        /// `send` or `receive`.
        kind: &'static str,
        /// `seq`, `to` or `from`.
        field: &'static str,
    },
    /// An event a node's trace cannot hold.
    #[error("node {node}'s event {index}: {why}; merge traces written by `reparti node --trace`")]
    BadEvent {
        /// The node whose trace it is.
        node: u32,
        /// The event's position in that trace, from 0.
        index: usize,
        /// What is wrong.
        why: String,
    },
    /// A receive whose send is in no trace.
    #[error("node {node} received message {seq} from node {from}, which node {from}'s trace never sent: is that trace cut short, or from another run?")]
    UnmatchedReceive {
        /// The receiver.
        node: u32,
        /// The sender.
        from: u32,
        /// The message's number on its channel.
        seq: u64,
    },
    /// Two sends numbered alike on one channel.
    #[error("node {from} sent two messages numbered {seq} to node {to}: channels number their messages 1, 2, 3…; were two runs' traces mixed?")]
    DuplicateSend {
        /// The sender.
        from: u32,
        /// The receiver.
        to: u32,
        /// The repeated number.
        seq: u64,
    },
    /// Receives and sends that wait on each other.
    #[error("node {node} received message {seq} from node {from} before that message could have been sent (sends and receives form a cycle): were two runs' traces mixed?")]
    Cycle {
        /// The receiver.
        node: u32,
        /// The sender.
        from: u32,
        /// The message's number on its channel.
        seq: u64,
    },
}

/// A message's channel and number on it: `(from, to, seq)`.
type ChannelSeq = (u32, u32, u64);

/// Merges the nodes' traces into one trace under `header` (see the module doc for the
/// rules). Every node `0..header.nodes` needs exactly one trace.
pub fn merge(header: TraceHeader, nodes: Vec<NodeTrace>) -> Result<Trace, MergeError> {
    let lanes = lanes(header.nodes, nodes)?;
    let receives = index_messages(&lanes)?;
    let events = Merger::new(lanes, receives).run()?;
    let end = TraceEnd { stop: DEFAULT_STOP.to_string(), events: events.len() as u64, violation: None };
    Ok(Trace { header, events, end: Some(end) })
}

/// One node's events waiting to be merged, cut into handler groups.
struct Lane {
    node: u32,
    /// Each event with its time on the run's axis.
    events: VecDeque<(f64, TraceEvent)>,
    /// The lengths of the groups, in order: a trigger and what its handler did.
    groups: VecDeque<usize>,
}

/// Checks that every node has one trace and turns each into a [`Lane`], by node.
fn lanes(n: usize, mut traces: Vec<NodeTrace>) -> Result<Vec<Lane>, MergeError> {
    traces.sort_by_key(|t| t.node);
    for pair in traces.windows(2) {
        if pair[0].node == pair[1].node {
            return Err(MergeError::DuplicateNode { node: pair[0].node });
        }
    }
    if let Some(t) = traces.iter().find(|t| t.node as usize >= n) {
        return Err(MergeError::UnknownNode { node: t.node, nodes: n });
    }
    // Sorted, unique and in range: a gap is the first missing node.
    if let Some(k) = (0..n).find(|&k| traces.get(k).is_none_or(|t| t.node as usize != k)) {
        return Err(MergeError::MissingNode { node: k as u32, nodes: n });
    }
    traces.into_iter().map(|t| lane(n, t)).collect()
}

fn lane(n: usize, trace: NodeTrace) -> Result<Lane, MergeError> {
    let node = trace.node;
    let offset = if trace.start_offset_ms.is_finite() { trace.start_offset_ms } else { 0.0 };
    let mut events = VecDeque::with_capacity(trace.events.len());
    let mut groups = VecDeque::new();
    for (index, mut e) in trace.events.into_iter().enumerate() {
        let bad = |why: String| MergeError::BadEvent { node, index, why };
        let missing = |kind, field| MergeError::MissingField { node, index, kind, field };
        if e.node != node {
            return Err(bad(format!("it is an event of node {}", e.node)));
        }
        let in_range = |other: u32, role: &str| {
            if (other as usize) < n {
                Ok(())
            } else {
                Err(bad(format!("a message {role} node {other}, but the nodes are 0..{n}")))
            }
        };
        // Sends, outputs and logs are what a handler does; anything else starts a new
        // step of the node (a handler's trigger, or a datagram refused between handlers).
        let starts_group = !matches!(
            e.kind,
            EventKind::Send | EventKind::Output | EventKind::Log | EventKind::Local | EventKind::Clock
        );
        match e.kind {
            EventKind::Send => {
                in_range(e.to.ok_or_else(|| missing("send", "to"))?, "to")?;
                e.seq.ok_or_else(|| missing("send", "seq"))?;
                e.msg = None;
            }
            EventKind::Receive => {
                in_range(e.from.ok_or_else(|| missing("receive", "from"))?, "from")?;
                e.seq.ok_or_else(|| missing("receive", "seq"))?;
                e.msg = None;
            }
            EventKind::Drop => e = refused_datagram(e),
            EventKind::Duplicate => {
                return Err(bad("a `duplicate`: only the network duplicates, a node records each receive".into()));
            }
            _ => {}
        }
        if starts_group || groups.is_empty() {
            groups.push_back(0);
        }
        if let Some(len) = groups.back_mut() {
            *len += 1;
        }
        let local = if e.t.is_finite() { e.t } else { 0.0 };
        let time = if (offset + local).is_finite() { offset + local } else { local };
        events.push_back((time, e));
    }
    Ok(Lane { node, events, groups })
}

/// A node's record of a datagram it refused, as a log line (see the module doc).
fn refused_datagram(e: TraceEvent) -> TraceEvent {
    let reason = e.reason.as_deref().unwrap_or("no reason given");
    let text = match (e.from, e.to) {
        (Some(from), Some(to)) if reason == reparti_core::host::NO_SUCH_NODE && from == e.node => {
            format!("dropped a message to node {to}: {reason}")
        }
        _ => match e.from {
            Some(from) => format!("dropped a datagram: {reason} (from node {from})"),
            None => format!("dropped a datagram: {reason}"),
        },
    };
    let mut log = TraceEvent::new(e.i, e.t, e.node, EventKind::Log, e.lamport);
    log.vc = e.vc;
    log.text = Some(text);
    log
}

/// The channel and number of a send or receive at `node` (checked present by [`lane`]).
fn channel_seq(e: &TraceEvent) -> Option<ChannelSeq> {
    match e.kind {
        EventKind::Send => Some((e.node, e.to?, e.seq?)),
        EventKind::Receive => Some((e.from?, e.node, e.seq?)),
        _ => None,
    }
}

/// Checks sends are numbered once and every receive has its send; returns how many
/// times each message was received.
fn index_messages(lanes: &[Lane]) -> Result<BTreeMap<ChannelSeq, u32>, MergeError> {
    let mut sends = BTreeSet::new();
    let mut receives: BTreeMap<ChannelSeq, u32> = BTreeMap::new();
    for (_, e) in lanes.iter().flat_map(|l| &l.events) {
        let Some(key) = channel_seq(e) else { continue };
        if e.kind == EventKind::Send {
            if !sends.insert(key) {
                return Err(MergeError::DuplicateSend { from: key.0, to: key.1, seq: key.2 });
            }
        } else {
            *receives.entry(key).or_default() += 1;
        }
    }
    if let Some(&(from, node, seq)) = receives.keys().find(|k| !sends.contains(k)) {
        return Err(MergeError::UnmatchedReceive { node, from, seq });
    }
    Ok(receives)
}

/// A node whose next group may be emitted, ordered by (time, node).
#[derive(Clone, Copy, Debug)]
struct Head {
    time: f64,
    node: u32,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        self.time.total_cmp(&other.time).then(self.node.cmp(&other.node))
    }
}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}

/// A message once its send is emitted.
struct Sent {
    key: ChannelSeq,
    msg_type: Option<String>,
    lamport: u64,
}

/// The topological sort: nodes whose next group is ready, nodes whose next group waits
/// for a send, and the merged trace so far.
struct Merger {
    lanes: Vec<Lane>,
    receives: BTreeMap<ChannelSeq, u32>,
    ready: BTreeSet<Head>,
    /// A receive that heads its node's lane and whose send is not out yet, by message;
    /// only the receiver can wait for a message, and one group of it at a time.
    waiting: BTreeMap<ChannelSeq, usize>,
    /// Message ids by channel and number, once sent.
    ids: BTreeMap<ChannelSeq, u64>,
    sent: Vec<Sent>,
    out: Vec<TraceEvent>,
    now: f64,
}

impl Merger {
    fn new(lanes: Vec<Lane>, receives: BTreeMap<ChannelSeq, u32>) -> Self {
        Merger {
            lanes,
            receives,
            ready: BTreeSet::new(),
            waiting: BTreeMap::new(),
            ids: BTreeMap::new(),
            sent: Vec::new(),
            out: Vec::new(),
            now: f64::NEG_INFINITY,
        }
    }

    fn run(mut self) -> Result<Vec<TraceEvent>, MergeError> {
        for k in 0..self.lanes.len() {
            self.schedule(k);
        }
        while let Some(head) = self.ready.pop_first() {
            self.emit_group(head.node as usize);
            self.schedule(head.node as usize);
        }
        // Every receive has its send (checked before), so a node still waiting waits on a
        // send that itself comes after this receive.
        if let Some((&(from, node, seq), _)) = self.waiting.first_key_value() {
            return Err(MergeError::Cycle { node, from, seq });
        }
        self.drop_lost();
        Ok(self.out)
    }

    /// Files lane `k`'s next group as ready, or as waiting for its message's send.
    fn schedule(&mut self, k: usize) {
        let lane = &self.lanes[k];
        let Some((time, first)) = lane.events.front() else { return };
        match channel_seq(first) {
            Some(key) if first.kind == EventKind::Receive && !self.ids.contains_key(&key) => {
                self.waiting.insert(key, k);
            }
            _ => {
                self.ready.insert(Head { time: *time, node: lane.node });
            }
        }
    }

    fn emit_group(&mut self, k: usize) {
        let len = self.lanes[k].groups.pop_front().unwrap_or(0);
        for _ in 0..len {
            let Some((time, e)) = self.lanes[k].events.pop_front() else { return };
            self.emit(time, e);
        }
    }

    fn emit(&mut self, time: f64, mut e: TraceEvent) {
        self.now = self.now.max(time);
        e.t = self.now;
        match (e.kind, channel_seq(&e)) {
            (EventKind::Send, Some(key)) => {
                let id = self.sent.len() as u64;
                e.msg = Some(id);
                self.ids.insert(key, id);
                let sent = Sent { key, msg_type: e.msg_type.clone(), lamport: e.lamport };
                let t = e.t;
                self.push(e);
                // Replay turns each `duplicate` into one more copy in flight: k receives
                // need k - 1 of them, before the first receive.
                let copies = self.receives.get(&key).copied().unwrap_or(0);
                for _ in 1..copies {
                    self.push(network_event(EventKind::Duplicate, id, &sent, t));
                }
                self.sent.push(sent);
                if let Some(receiver) = self.waiting.remove(&key) {
                    self.schedule(receiver);
                }
            }
            (EventKind::Receive, Some(key)) => {
                e.msg = self.ids.get(&key).copied();
                if let (None, Some(id)) = (&e.msg_type, e.msg) {
                    e.msg_type = self.sent.get(id as usize).and_then(|s| s.msg_type.clone());
                }
                self.push(e);
            }
            _ => self.push(e),
        }
    }

    fn push(&mut self, mut e: TraceEvent) {
        e.i = self.out.len() as u64;
        self.out.push(e);
    }

    /// A `drop` for every message no node received, in order of the messages.
    fn drop_lost(&mut self) {
        let t = if self.now.is_finite() { self.now } else { 0.0 };
        let lost: Vec<TraceEvent> = (0..)
            .zip(&self.sent)
            .filter(|(_, s)| !self.receives.contains_key(&s.key))
            .map(|(id, s)| {
                let mut e = network_event(EventKind::Drop, id, s, t);
                e.reason = Some(LOST.to_string());
                e
            })
            .collect();
        for e in lost {
            self.push(e);
        }
    }
}

/// A duplicate or drop of message `id`, at its receiver, with the send's stamp and no
/// vector clock (the network is not a node).
fn network_event(kind: EventKind, id: u64, sent: &Sent, t: f64) -> TraceEvent {
    let (from, to, seq) = sent.key;
    let mut e = TraceEvent::new(0, t, to, kind, sent.lamport);
    e.msg = Some(id);
    e.seq = Some(seq);
    e.from = Some(from);
    e.to = Some(to);
    e.msg_type = sent.msg_type.clone();
    e
}
