//! The space-time diagram as a layout model, independent of how it is drawn.
//!
//! [`layout`] turns a [`Trace`] into lanes (one per node), dots (one per event), arrows
//! (one per delivery, loss or message still in flight), critical-section bars and a
//! message-type palette. Positions are in axis units (simulated time, or Lamport time on
//! request) plus a *slot*: the rank of an event among the events of its lane at the same
//! position, so that a receive and the sends it triggered at the same instant do not sit
//! on top of each other. The SVG and HTML renderers only scale these numbers.
//!
//! A huge trace would be an unreadable smear, so at most [`Options::max_events`] events
//! and [`Options::max_nodes`] lanes are laid out; [`Elision`] says what was left out.

use crate::snapshot_cut::{self, Cut};
use crate::{describe, kind_name, number, subtitle, thousands};
use reparti_core::trace::{EventKind, Trace, TraceEvent};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Above this many events, only the first ones are drawn.
pub const MAX_EVENTS: usize = 2_000;
/// Above this many nodes, only the first lanes are drawn.
pub const MAX_NODES: usize = 64;

/// Colour-blind-safe colours (Okabe–Ito first, then Tol's muted), one per message type
/// in the order the header lists them: the same algorithm always gets the same colours.
pub const PALETTE: [&str; 10] =
    ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#999933", "#332288", "#44AA99"];

/// What the along-the-lane axis measures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Axis {
    /// The event's time `t` (simulated time, or milliseconds in a real run).
    #[default]
    Time,
    /// The event's Lamport clock (network events sit one past the message's stamp).
    Lamport,
}

/// How to lay a trace out.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Time or Lamport clock along the lanes.
    pub axis: Axis,
    /// Time runs downwards (one column per node) instead of left to right.
    pub vertical: bool,
    /// Draw at most this many events (the first ones).
    pub max_events: usize,
    /// Draw at most this many lanes (nodes `0..max_nodes`).
    pub max_nodes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { axis: Axis::Time, vertical: false, max_events: MAX_EVENTS, max_nodes: MAX_NODES }
    }
}

/// A place along a lane: the axis value and the rank among same-place events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pos {
    /// Time or Lamport clock.
    pub at: f64,
    /// 0 for the first event of the lane at `at`, 1 for the next, …
    pub slot: u32,
}

/// One node's line.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// The node's position.
    pub node: u32,
    /// Its identity, when the header gives one.
    pub ident: Option<u64>,
    /// Where the node crashed: the lane stops there.
    pub crash: Option<Pos>,
    /// The node's last value for each output key (the keys that open and close the
    /// header's spans left out: they are drawn as bars).
    pub outputs: Vec<(String, String)>,
}

impl Lane {
    /// `n3 · id 7`, as printed next to the lane.
    pub fn label(&self) -> String {
        match self.ident {
            Some(id) => format!("n{} · id {id}", self.node),
            None => format!("n{}", self.node),
        }
    }
}

/// How an event is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// start, timer, input, log: a small grey dot.
    Local,
    /// A send: a dot in the message type's colour.
    Send,
    /// A receive: a dot in the message type's colour.
    Receive,
    /// An output: a highlighted square with its value.
    Output,
    /// A message lost by the network: a red cross.
    Drop,
    /// A message the network duplicated: a dashed ring.
    Duplicate,
    /// The node crashed: a large cross that ends the lane.
    Crash,
    /// The node corrected its physical clock: a small diamond.
    Clock,
}

/// One event.
#[derive(Clone, Debug, PartialEq)]
pub struct Dot {
    /// Index into `trace.events`.
    pub event: usize,
    /// The event's `i`.
    pub i: u64,
    /// Its lane.
    pub node: u32,
    /// Where along the lane.
    pub pos: Pos,
    /// How to draw it.
    pub mark: Mark,
    /// The message type's index in [`Layout::types`], for message events.
    pub ty: Option<usize>,
    /// A short label drawn next to it (outputs: `leader = 7`).
    pub label: Option<String>,
    /// A one-line description (tooltips).
    pub title: String,
}

/// How a message arrow ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowEnd {
    /// At the receive event.
    Received,
    /// At a drop cross.
    Dropped,
    /// Neither received nor dropped among the drawn events: a dashed stub to the end.
    InFlight,
}

/// One message copy: send to receive (a duplicated message has two), or to its loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    /// The message id.
    pub msg: u64,
    /// The type's index in [`Layout::types`].
    pub ty: usize,
    /// Sender lane.
    pub from: u32,
    /// Receiver lane.
    pub to: u32,
    /// The send's position.
    pub start: Pos,
    /// The receive's or drop's position (in flight: the end of the axis).
    pub end: Pos,
    /// How it ends.
    pub kind: ArrowEnd,
    /// Index into `trace.events` of the send.
    pub send_event: usize,
    /// Index into `trace.events` of the receive or drop.
    pub end_event: Option<usize>,
    /// A one-line description (tooltips).
    pub title: String,
}

/// An interval the algorithm declares (the trace header's `spans`: a critical section,
/// from `enter_cs` to `exit_cs`), on one lane.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// What it is (`critical section`).
    pub label: String,
    /// The lane.
    pub node: u32,
    /// Entry.
    pub from: Pos,
    /// Exit (or crash); `None` when still inside at the end of the drawing.
    pub to: Option<Pos>,
}

/// A message type and its colour.
#[derive(Clone, Debug, PartialEq)]
pub struct MsgType {
    /// The type name (`ELECT`).
    pub name: String,
    /// Its colour.
    pub colour: &'static str,
    /// How many messages of this type the whole trace sends.
    pub sent: u64,
    /// A control layer's type (the header's `control_types`: a snapshot's MARKER), not
    /// one of the application's basic messages.
    pub control: bool,
}

/// What a huge trace's drawing leaves out.
#[derive(Clone, Debug, PartialEq)]
pub struct Elision {
    /// Events drawn.
    pub shown_events: usize,
    /// Events in the trace.
    pub total_events: usize,
    /// Lanes drawn.
    pub shown_nodes: usize,
    /// Nodes in the trace.
    pub total_nodes: usize,
    /// Sends per message type, whole trace.
    pub sends_by_type: Vec<(String, u64)>,
    /// Events per kind, whole trace.
    pub events_by_kind: Vec<(String, u64)>,
    /// The busiest nodes (node, events), whole trace, at most five.
    pub busiest: Vec<(u32, u64)>,
    /// The time of the last drawn event.
    pub shown_until: f64,
    /// Drawn messages whose other end is on a hidden lane (not drawn).
    pub hidden_lane_messages: u64,
}

impl Elision {
    /// The summary as lines of text, for the picture and the terminal.
    pub fn lines(&self) -> Vec<String> {
        let mut v = vec![format!(
            "showing {} of {} events (up to t = {}) and {} of {} nodes",
            thousands(self.shown_events as u64),
            thousands(self.total_events as u64),
            number(self.shown_until),
            self.shown_nodes,
            self.total_nodes
        )];
        let list = |pairs: &[(String, u64)]| {
            pairs.iter().map(|(k, c)| format!("{k} {}", thousands(*c))).collect::<Vec<_>>().join(", ")
        };
        v.push(format!("whole trace, messages sent by type: {}", list(&self.sends_by_type)));
        v.push(format!("whole trace, events by kind: {}", list(&self.events_by_kind)));
        let busy: Vec<String> = self.busiest.iter().map(|(n, c)| format!("n{n} {}", thousands(*c))).collect();
        v.push(format!("busiest nodes (events): {}", busy.join(", ")));
        if self.hidden_lane_messages > 0 {
            v.push(format!("{} messages to or from hidden nodes not drawn", thousands(self.hidden_lane_messages)));
        }
        v
    }
}

/// The whole diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// `chang-roberts · sim · n = 6 · ring · seed 1`.
    pub title: String,
    /// Parameters, network and how the run stopped.
    pub subtitle: String,
    /// What the axis measures.
    pub axis: Axis,
    /// Drawn vertically.
    pub vertical: bool,
    /// One per drawn node.
    pub lanes: Vec<Lane>,
    /// One per drawn event, in trace order.
    pub dots: Vec<Dot>,
    /// One per drawn message copy.
    pub arrows: Vec<Arrow>,
    /// Critical sections.
    pub bars: Vec<Bar>,
    /// The labels of the intervals the trace header declares, drawn or not.
    pub spans: Vec<String>,
    /// Message types, palette order.
    pub types: Vec<MsgType>,
    /// Smallest and largest axis value drawn.
    pub span: (f64, f64),
    /// The largest slot used.
    pub max_slot: u32,
    /// Set when the trace was too big to draw whole.
    pub elision: Option<Elision>,
    /// A snapshot's recorded cut, when a drawn event records one.
    pub cut: Option<Cut>,
}

/// Lays a trace out.
pub fn layout(trace: &Trace, opts: &Options) -> Layout {
    let h = &trace.header;
    let n_total = h.nodes.max(trace.events.iter().map(|e| e.node as usize + 1).max().unwrap_or(0));
    let n_shown = n_total.min(opts.max_nodes.max(1));
    let types = palette(trace);
    let type_of = |name: &Option<String>| name.as_ref().and_then(|n| types.iter().position(|t| &t.name == n));
    let shown: Vec<usize> =
        (0..trace.events.len()).filter(|&k| (trace.events[k].node as usize) < n_shown).take(opts.max_events).collect();
    let last_shown = shown.last().copied().unwrap_or(0);

    // Payloads are written once, at the send: receives and drops look them up here.
    let mut sends: HashMap<u64, usize> = HashMap::new();
    for (k, e) in trace.events.iter().enumerate() {
        if e.kind == EventKind::Send {
            if let Some(m) = e.msg {
                sends.entry(m).or_insert(k);
            }
        }
    }

    let mut slots: HashMap<(u32, u64), u32> = HashMap::new();
    let mut pos_of: HashMap<usize, Pos> = HashMap::new();
    let mut lanes: Vec<Lane> = (0..n_shown as u32)
        .map(|node| Lane { node, ident: h.idents.get(node as usize).copied(), crash: None, outputs: Vec::new() })
        .collect();
    let mut dots = Vec::with_capacity(shown.len());
    let mut bars = Vec::new();
    // Open bars by (lane, span): a node may be inside several declared intervals at once.
    let mut open_cs: HashMap<(u32, usize), Pos> = HashMap::new();
    let declared = &trace.header.spans;
    let mut span = (f64::INFINITY, f64::NEG_INFINITY);
    for &k in &shown {
        let e = &trace.events[k];
        let at = match opts.axis {
            Axis::Time => e.t,
            // A drop or duplicate carries the message's stamp: put it where a receive
            // could be at the earliest, one past the stamp.
            Axis::Lamport if matches!(e.kind, EventKind::Drop | EventKind::Duplicate) => e.lamport as f64 + 1.0,
            Axis::Lamport => e.lamport as f64,
        };
        let slot = slots.entry((e.node, at.to_bits())).or_insert(0);
        let pos = Pos { at, slot: *slot };
        *slot += 1;
        span = (span.0.min(at), span.1.max(at));
        pos_of.insert(k, pos);
        let payload = e.msg.and_then(|m| sends.get(&m)).and_then(|&s| trace.events[s].payload.as_ref());
        let mark = match e.kind {
            EventKind::Send => Mark::Send,
            EventKind::Receive => Mark::Receive,
            EventKind::Output => Mark::Output,
            EventKind::Drop => Mark::Drop,
            EventKind::Duplicate => Mark::Duplicate,
            EventKind::Crash => Mark::Crash,
            EventKind::Start | EventKind::Timer | EventKind::Input | EventKind::Log | EventKind::Local => Mark::Local,
            EventKind::Clock => Mark::Clock,
        };
        let mut label = None;
        if let (EventKind::Output, Some(key)) = (e.kind, &e.key) {
            let value = e.value.as_ref().map(|v| v.to_string()).unwrap_or_default();
            label = Some(format!("{key} = {value}"));
            let opens = declared.iter().position(|d| d.opens == *key);
            let closes = declared.iter().position(|d| d.closes == *key);
            if let Some(j) = opens {
                open_cs.insert((e.node, j), pos);
            }
            if let Some(j) = closes {
                let from = open_cs.remove(&(e.node, j)).unwrap_or(Pos { at: span.0, slot: 0 });
                bars.push(Bar { label: declared[j].label.clone(), node: e.node, from, to: Some(pos) });
            }
            if opens.is_none() && closes.is_none() {
                let outputs = &mut lanes[e.node as usize].outputs;
                outputs.retain(|(k, _)| k != key);
                outputs.push((key.clone(), value));
            }
        }
        if e.kind == EventKind::Crash {
            lanes[e.node as usize].crash = Some(pos);
            for (j, d) in declared.iter().enumerate() {
                if let Some(from) = open_cs.remove(&(e.node, j)) {
                    bars.push(Bar { label: d.label.clone(), node: e.node, from, to: Some(pos) });
                }
            }
        }
        dots.push(Dot {
            event: k,
            i: e.i,
            node: e.node,
            pos,
            mark,
            ty: type_of(&e.msg_type),
            label,
            // An algorithm that reads physical clocks: the reading beside the event.
            title: match e.clock {
                Some(c) => format!("{} · clock {c:.3}", describe(e, payload, 160)),
                None => describe(e, payload, 160),
            },
        });
    }
    let mut open: Vec<((u32, usize), Pos)> = open_cs.into_iter().collect();
    open.sort_by_key(|(at, _)| *at);
    bars.extend(open.into_iter().map(|((node, j), from)| Bar {
        label: declared[j].label.clone(),
        node,
        from,
        to: None,
    }));
    if !span.0.is_finite() {
        span = (0.0, 1.0);
    }
    span.0 = span.0.min(0.0);

    let (arrows, hidden_lane_messages) = arrows(trace, &shown, &pos_of, &types, n_shown, span.1);
    let max_slot = dots.iter().map(|d| d.pos.slot).max().unwrap_or(0);
    let cut = snapshot_cut::find(trace, n_shown, &dots, &arrows, &types);
    let elision = (shown.len() < trace.events.len() || n_shown < n_total).then(|| {
        let (events_by_kind, busiest) = whole_trace_counts(trace, n_total);
        Elision {
            shown_events: shown.len(),
            total_events: trace.events.len(),
            shown_nodes: n_shown,
            total_nodes: n_total,
            sends_by_type: types.iter().map(|t| (t.name.clone(), t.sent)).collect(),
            events_by_kind,
            busiest,
            shown_until: trace.events.get(last_shown).map_or(0.0, |e| e.t),
            hidden_lane_messages,
        }
    });
    Layout {
        spans: trace.header.spans.iter().map(|d| d.label.clone()).collect(),
        title: format!("{} · {} · n = {} · {} · seed {}", h.algorithm, h.engine, h.nodes, h.topology, h.seed),
        subtitle: subtitle(trace),
        axis: opts.axis,
        vertical: opts.vertical,
        lanes,
        dots,
        arrows,
        bars,
        types,
        span,
        max_slot,
        elision,
        cut,
    }
}

/// One arrow per receive and per drop of a drawn send, and a stub for each drawn send
/// that is neither received nor dropped among the drawn events.
fn arrows(
    trace: &Trace,
    shown: &[usize],
    pos_of: &HashMap<usize, Pos>,
    types: &[MsgType],
    n_shown: usize,
    end: f64,
) -> (Vec<Arrow>, u64) {
    let mut send_of: HashMap<u64, usize> = HashMap::new();
    let mut ended: HashSet<u64> = HashSet::new();
    let mut out = Vec::new();
    let mut hidden = 0;
    let ty = |e: &TraceEvent| e.msg_type.as_ref().and_then(|n| types.iter().position(|t| &t.name == n)).unwrap_or(0);
    for &k in shown {
        let e = &trace.events[k];
        match (e.kind, e.msg) {
            (EventKind::Send, Some(m)) => {
                send_of.insert(m, k);
                if e.to.is_some_and(|to| to as usize >= n_shown) {
                    hidden += 1;
                }
            }
            (EventKind::Receive | EventKind::Drop, Some(m)) => {
                let Some(&s) = send_of.get(&m) else {
                    // The send is on a hidden lane (or missing from a damaged trace).
                    hidden += 1;
                    continue;
                };
                ended.insert(m);
                let send = &trace.events[s];
                let kind = if e.kind == EventKind::Drop { ArrowEnd::Dropped } else { ArrowEnd::Received };
                let (Some(&start), Some(&stop)) = (pos_of.get(&s), pos_of.get(&k)) else { continue };
                let verb = if kind == ArrowEnd::Dropped { "lost" } else { "delivered" };
                out.push(Arrow {
                    msg: m,
                    ty: ty(send),
                    from: send.node,
                    to: e.node,
                    start,
                    end: stop,
                    kind,
                    send_event: s,
                    end_event: Some(k),
                    title: format!("{}, {verb}", describe(send, send.payload.as_ref(), 160)),
                });
            }
            _ => {}
        }
    }
    let mut pending: Vec<(u64, usize)> = send_of.into_iter().filter(|(m, _)| !ended.contains(m)).collect();
    pending.sort_by_key(|&(_, s)| s);
    for (m, s) in pending {
        let send = &trace.events[s];
        let Some(to) = send.to.filter(|&to| (to as usize) < n_shown) else { continue };
        let Some(&start) = pos_of.get(&s) else { continue };
        out.push(Arrow {
            msg: m,
            ty: ty(send),
            from: send.node,
            to,
            start,
            end: Pos { at: end.max(start.at), slot: start.slot + 1 },
            kind: ArrowEnd::InFlight,
            send_event: s,
            end_event: None,
            title: format!(
                "{}, not delivered in the drawn part of the run",
                describe(send, send.payload.as_ref(), 160)
            ),
        });
    }
    (out, hidden)
}

/// The header's message types in order, then any other type the events name.
fn palette(trace: &Trace) -> Vec<MsgType> {
    let mut names: Vec<String> = trace.header.message_types.clone();
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    for e in &trace.events {
        if let Some(t) = &e.msg_type {
            if !names.contains(t) {
                names.push(t.clone());
            }
            if e.kind == EventKind::Send {
                *sent.entry(t.clone()).or_insert(0) += 1;
            }
        }
    }
    names
        .into_iter()
        .enumerate()
        .map(|(k, name)| MsgType {
            control: trace.header.control_types.contains(&name),
            sent: sent.get(&name).copied().unwrap_or(0),
            name,
            colour: PALETTE[k % PALETTE.len()],
        })
        .collect()
}

/// (what, how many) pairs.
type Counts<K> = Vec<(K, u64)>;

/// Events per kind, and the five busiest nodes, over the whole trace.
fn whole_trace_counts(trace: &Trace, n: usize) -> (Counts<String>, Counts<u32>) {
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut per = vec![0u64; n];
    for e in &trace.events {
        *kinds.entry(kind_name(e.kind).to_string()).or_insert(0) += 1;
        if let Some(c) = per.get_mut(e.node as usize) {
            *c += 1;
        }
    }
    let mut busy: Vec<(u32, u64)> = per.into_iter().enumerate().map(|(k, c)| (k as u32, c)).collect();
    busy.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    busy.truncate(5);
    (kinds.into_iter().collect(), busy)
}
