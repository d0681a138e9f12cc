//! The trace format: JSON Lines, one header, one line per event, one closing line.
//!
//! Documented for users in `docs/TRACE.md`. Simulations, model-checker counterexamples
//! and the merged traces of real runs all use it, so every picture, replay and merge
//! tool reads one format.

use crate::clock::ClockMode;
use crate::context::OutputValue;
use crate::user_file;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

/// The version written in every header; readers refuse a newer one.
pub const TRACE_VERSION: u32 = 1;

/// The first line of a trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceHeader {
    /// Always `"reparti"`: tells a trace from any other JSON Lines file.
    pub trace: String,
    /// The format version, [`TRACE_VERSION`].
    pub version: u32,
    /// Which engine wrote it: `sim`, `check` or `net`.
    pub engine: String,
    /// The algorithm's name.
    pub algorithm: String,
    /// Its parameters.
    pub params: BTreeMap<String, String>,
    /// The seed.
    pub seed: u64,
    /// The topology, as named on the command line.
    pub topology: String,
    /// The number of nodes.
    pub nodes: usize,
    /// Every node's identity, by position.
    pub idents: Vec<u64>,
    /// The network model, as the engine describes it.
    pub network: serde_json::Value,
    /// Which clocks the events carry.
    pub clocks: ClockMode,
    /// The algorithm's message type names.
    pub message_types: Vec<String>,
    /// Those of `message_types` that a control layer adds (a snapshot's MARKER): the
    /// pictures draw them apart from the application's basic messages. Absent when the
    /// algorithm is not a layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_types: Vec<String>,
    /// The intervals the algorithm declares (`AlgorithmSpec::spans`), which the pictures
    /// draw as bars; absent when it declares none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<Span>,
    /// The port each node listened on, by position, for a real run's merged trace
    /// (`reparti run`): a replay tells each node its port again. Absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    /// Every node's hardware clock (offset and drift), by position, when the algorithm
    /// reads physical clocks; absent otherwise. A replay builds the same clocks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub physical_clocks: Vec<crate::physical_clock::ClockSetting>,
}

/// An interval on a node's lane between two outputs, as a trace header names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// What the bar shows.
    pub label: String,
    /// The output key that opens it.
    pub opens: String,
    /// The output key that closes it.
    pub closes: String,
}

/// What a header says about the run, beyond the algorithm itself.
pub struct RunDescription<'a> {
    /// Which engine writes the trace: `sim`, `check` or `net`.
    pub engine: &'a str,
    /// The resolved parameters.
    pub params: &'a crate::Params,
    /// The seed.
    pub seed: u64,
    /// The topology.
    pub topology: &'a crate::Topology,
    /// Every node's identity, by position.
    pub idents: &'a [u64],
    /// The network model, as the engine describes it.
    pub network: serde_json::Value,
    /// Which clocks the events carry.
    pub clocks: ClockMode,
}

impl TraceHeader {
    /// The header of a trace of algorithm `A`: the one builder every engine uses.
    pub fn describe<A: crate::Algorithm>(run: RunDescription<'_>) -> TraceHeader {
        use crate::process::{Message, Process};
        let spec = A::spec();
        TraceHeader {
            trace: "reparti".into(),
            version: TRACE_VERSION,
            engine: run.engine.into(),
            algorithm: spec.name.into(),
            params: run.params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            seed: run.seed,
            topology: run.topology.kind().to_string(),
            nodes: run.topology.len(),
            idents: run.idents.to_vec(),
            network: run.network,
            clocks: run.clocks,
            message_types: <<A::Node as Process>::Msg as Message>::kinds().iter().map(|s| s.to_string()).collect(),
            control_types: <<A::Node as Process>::Msg as Message>::control_kinds()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            spans: spec
                .spans
                .iter()
                .map(|s| Span { label: s.label.into(), opens: s.opens.into(), closes: s.closes.into() })
                .collect(),
            ports: Vec::new(),
            physical_clocks: Vec::new(),
        }
    }
}

/// What happened at an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The node started.
    Start,
    /// The node sent a message (`msg`, `to`, `type`, `payload`).
    Send,
    /// The node received a message (`msg`, `from`).
    Receive,
    /// The network lost a message (`msg`, `reason`).
    Drop,
    /// The network duplicated a message (`msg`, `from`, `to`): it will be received twice.
    Duplicate,
    /// A timer fired (`timer`).
    Timer,
    /// An external input arrived (`payload`).
    Input,
    /// The node made a value observable (`key`, `value`).
    Output,
    /// The node crashed.
    Crash,
    /// The node logged a line (`text`).
    Log,
    /// The node performed a local event it declared (`Context::local_event`): its
    /// clocks advanced by one and nothing was sent.
    Local,
    /// The node corrected its physical clock (`adjust`, the change; `text`, `step` or
    /// `slew`; `over`, a slew's duration).
    Clock,
}

/// One event line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// The event's index in the trace, from 0.
    pub i: u64,
    /// Simulated (or real, in ms since the run began) time.
    pub t: f64,
    /// The node the event happened at (for a drop, the intended receiver).
    pub node: u32,
    /// What happened.
    pub kind: EventKind,
    /// The message's id, unique in the trace (send, receive, drop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<u64>,
    /// The message's sequence number on its channel `from → to`, from 1 (send, receive;
    /// written by real network nodes, whose traces have no global message ids: merging
    /// them matches each receive with its send by `(from, to, seq)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The sender (receive, drop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    /// The receiver (send, drop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<u32>,
    /// The message type (send, receive, drop).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub msg_type: Option<String>,
    /// The message (send, receive) or input (input) as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub payload: Option<serde_json::Value>,
    /// The timer's name (timer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<String>,
    /// The output's key (output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The output's value (output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<OutputValue>,
    /// Why a message was dropped (drop): `loss`, `crashed`, `partition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A log line (log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The node's Lamport clock after the event (for a send: the stamp it carries).
    pub lamport: u64,
    /// The node's vector clock after the event, when kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vc: Option<Vec<u64>>,
    /// The node's physical clock reading at the event (after the handler's own
    /// corrections), when the algorithm reads physical clocks; `t` is then real time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<f64>,
    /// A clock correction's change, in time units (clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjust: Option<f64>,
    /// A slew's duration, in time units (clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<f64>,
    /// Real time at the event, in ms since the run's epoch, when it is not `t`: a real
    /// node's trace of an algorithm that reads physical clocks (its `t` is its own
    /// elapsed time, which merging shifts). A replay reads the clocks at this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real: Option<f64>,
}

impl TraceEvent {
    /// An event with only the common fields set.
    pub fn new(i: u64, t: f64, node: u32, kind: EventKind, lamport: u64) -> Self {
        TraceEvent {
            i,
            t,
            node,
            kind,
            msg: None,
            seq: None,
            from: None,
            to: None,
            msg_type: None,
            payload: None,
            timer: None,
            key: None,
            value: None,
            reason: None,
            text: None,
            lamport,
            vc: None,
            clock: None,
            adjust: None,
            over: None,
            real: None,
        }
    }
}

/// A field that is present is `Some`, even when it is `null` (a unit message's payload).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// The last line of a complete trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEnd {
    /// Why the run stopped: `quiescence`, `time`, `events`, `violation`.
    pub stop: String,
    /// How many events the trace holds.
    pub events: u64,
    /// The first violated property, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<String>,
}

/// A whole trace, read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The header.
    pub header: TraceHeader,
    /// The events, in order.
    pub events: Vec<TraceEvent>,
    /// The closing line, absent if the writer was cut short.
    pub end: Option<TraceEnd>,
}

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// Reading failed.
    #[error("cannot read the trace: {0}")]
    Io(#[from] io::Error),
    /// A line is not what the format says.
    #[error("trace line {line}: {why}")]
    Format {
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
}

/// Writes a trace line by line.
pub struct TraceWriter<W: Write> {
    out: W,
    events: u64,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace with its header.
    pub fn new(mut out: W, header: &TraceHeader) -> io::Result<Self> {
        serde_json::to_writer(&mut out, header)?;
        out.write_all(b"\n")?;
        Ok(TraceWriter { out, events: 0 })
    }

    /// Writes one event.
    pub fn event(&mut self, e: &TraceEvent) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, e)?;
        self.out.write_all(b"\n")?;
        self.events += 1;
        Ok(())
    }

    /// Writes the closing line and flushes.
    pub fn finish(mut self, stop: &str, violation: Option<String>) -> io::Result<W> {
        let end = TraceEnd { stop: stop.to_string(), events: self.events, violation };
        serde_json::to_writer(&mut self.out, &end)?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a whole trace.
///
/// A trace is untrusted input: each line is read within a cap
/// ([`user_file::TRACE_HEADER_LINE`], [`user_file::TRACE_EVENT_LINE`]), so a header of
/// gigabytes is refused without being held whole, and events are parsed straight into
/// their types rather than through a generic JSON tree (which costs tens of bytes per
/// number of a vector clock).
pub fn read_trace(mut input: impl BufRead) -> Result<Trace, TraceError> {
    let mut buf = Vec::new();
    let header: TraceHeader = match next_line(&mut input, &mut buf, 1, user_file::TRACE_HEADER_LINE)? {
        Some(line) => serde_json::from_str(line).map_err(|e| TraceError::Format {
            line: 1,
            why: format!("not a reparti trace header ({e}); traces are written by `reparti sim --trace FILE`"),
        })?,
        None => return Err(TraceError::Format { line: 1, why: "the file is empty".into() }),
    };
    if header.trace != "reparti" || header.version > TRACE_VERSION {
        return Err(TraceError::Format {
            line: 1,
            why: format!(
                "format '{}' version {} is not one this reparti reads (version ≤ {TRACE_VERSION})",
                header.trace, header.version
            ),
        });
    }
    // Whatever reads a trace (pictures, replays, merges) sizes its tables by the header,
    // so the header must agree with itself and every event with it.
    if header.idents.len() != header.nodes {
        return Err(TraceError::Format {
            line: 1,
            why: format!(
                "the header says {} nodes but gives {} identities (`idents` has one per node)",
                header.nodes,
                header.idents.len()
            ),
        });
    }
    let mut events = Vec::new();
    let mut end = None;
    let mut number = 1;
    loop {
        number += 1;
        let Some(line) = next_line(&mut input, &mut buf, number, user_file::TRACE_EVENT_LINE)? else { break };
        if line.trim().is_empty() {
            continue;
        }
        if end.is_some() {
            return Err(TraceError::Format { line: number, why: "an event after the closing line".into() });
        }
        let format = |e: serde_json::Error| TraceError::Format { line: number, why: e.to_string() };
        if is_closing_line(line) {
            end = Some(serde_json::from_str(line).map_err(format)?);
        } else {
            let event: TraceEvent = serde_json::from_str(line).map_err(format)?;
            check_event(&event, header.nodes).map_err(|why| TraceError::Format { line: number, why })?;
            events.push(event);
        }
    }
    Ok(Trace { header, events, end })
}

/// The next line as text, `None` at the end; a line over `limit` or not UTF-8 is a
/// format error at line `number`.
fn next_line<'b>(
    input: &mut impl BufRead,
    buf: &'b mut Vec<u8>,
    number: usize,
    limit: user_file::Limit,
) -> Result<Option<&'b str>, TraceError> {
    let cap = usize::try_from(limit.bytes).unwrap_or(usize::MAX);
    match user_file::read_line_capped(input, buf, cap)? {
        user_file::Line::End => Ok(None),
        user_file::Line::TooLong => Err(TraceError::Format {
            line: number,
            why: format!(
                "the line is longer than {}, the most a {} may be ({}); this is not a trace reparti wrote, or it is damaged",
                crate::machine_memory::human_bytes(limit.bytes),
                limit.what,
                limit.why
            ),
        }),
        user_file::Line::Read => std::str::from_utf8(buf).map(Some).map_err(|e| TraceError::Format {
            line: number,
            why: format!("the line is not UTF-8 text (byte {} starts an invalid sequence)", e.valid_up_to()),
        }),
    }
}

/// Whether a line is the closing line: a JSON object with a `stop` field. Read without
/// building the object (the other fields are skipped, not kept); anything else is
/// parsed as an event, which says what is wrong with it.
fn is_closing_line(line: &str) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        stop: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Probe>(line).is_ok_and(|p| p.stop.is_some())
}

/// An event fits a run of `nodes` nodes: it happens at one of them, its vector clock has
/// one entry per node, and what it receives comes from one of them. (A send's `to` may
/// name no node: that message is dropped, `no such node`; a refused datagram's `from` is
/// whatever its sender claimed.)
fn check_event(e: &TraceEvent, nodes: usize) -> Result<(), String> {
    if e.node as usize >= nodes {
        return Err(format!("an event at node {}, but the header's nodes are 0..{nodes}", e.node));
    }
    if let Some(vc) = &e.vc {
        if vc.len() != nodes {
            return Err(format!("a vector clock of {} entries, but the header says {nodes} nodes", vc.len()));
        }
    }
    match (e.kind, e.from) {
        (EventKind::Receive, Some(from)) if from as usize >= nodes => {
            Err(format!("a message received from node {from}, but the header's nodes are 0..{nodes}"))
        }
        _ => Ok(()),
    }
}
