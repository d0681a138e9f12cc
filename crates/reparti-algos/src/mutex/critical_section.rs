//! What every mutual-exclusion algorithm shares, written once: the request workload and
//! its parameters, the console's `request`/`release`, the stay in the critical section
//! (its timer and its `enter_cs`/`exit_cs` outputs, drawn as bars), the safety invariant
//! "at most one node in the CS", the liveness check "every request was served", and the
//! number of CS entries the message-count formulas are written in.
//!
//! An algorithm of this chapter keeps only its own logic: it stores a [`Stay`], embeds
//! the request bookkeeping [`Requests`] in its node, lets the node implement
//! [`MutexNode`] (which reads the bookkeeping) and [`CsProcess`] (whose provided
//! `on_cs_input`/`on_cs_timer` answer the console and the CS timer, given the
//! algorithm's `request` and `release`), and hands these pieces to its `AlgorithmSpec`
//! and `Algorithm` impl.

use rand::Rng as _;
use reparti_core::{
    AlgorithmSpec, Chapter, Command, Context, Invariant, NodeId, ParamError, ParamSpec, Params, Process, RunFacts,
    ScheduledInput, SpanSpec, Terminal, Timer, WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};

/// The output made on entering the critical section; its value names the entry.
pub const ENTER_CS: &str = "enter_cs";
/// The output made on leaving it, with the same value.
pub const EXIT_CS: &str = "exit_cs";
/// The timer that ends a stay in the critical section.
pub const CS_TIMER: Timer = "cs";

/// The parameters of the request workload.
/// Critical-section requests per node: the chapter's workload, the same for every algorithm.
pub const REQUESTS: ParamSpec =
    ParamSpec::int("requests", "2", 0, 100_000, "critical-section requests per node (workload)");
/// The stay in the critical section, the same for every algorithm.
pub const CS_TIME: ParamSpec = ParamSpec::int(
    "cs_time",
    "1",
    0,
    1_000_000,
    "whole time units spent in the critical section (milliseconds on a real network)",
);

/// The chapter's parameters; an algorithm with its own adds them after these two.
pub const PARAMS: &[ParamSpec] = &[REQUESTS, CS_TIME];

/// The console's commands: `request` and `release`, as [`Input`].
pub const COMMANDS: &[Command] = &[
    Command { word: "request", variant: "Request", args: &[], help: "ask for the critical section" },
    Command { word: "release", variant: "Release", args: &[], help: "leave the critical section now" },
];

/// The critical section, drawn as a bar on a node's lane from `enter_cs` to `exit_cs`.
pub const SPANS: &[SpanSpec] = &[SpanSpec { label: "critical section", opens: ENTER_CS, closes: EXIT_CS }];

/// The spec every algorithm of the chapter starts from: the request workload's
/// parameters, the complete graph, 5 nodes by default, `request`/`release` at the
/// console, the critical section drawn as a bar. Complete it with struct-update syntax.
pub const fn spec(name: &'static str, summary: &'static str) -> AlgorithmSpec {
    AlgorithmSpec {
        params: PARAMS,
        topologies: &["complete"],
        default_nodes: 5,
        commands: COMMANDS,
        spans: SPANS,
        ..AlgorithmSpec::new(name, Chapter::Mutex, summary)
    }
}

/// Requests from outside: the console's `request` and `release`, and the workload's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Ask for the critical section (queued if a request is already under way).
    Request,
    /// Leave the critical section now instead of waiting for `cs_time`.
    Release,
}

/// The request workload and the length of a stay in the critical section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stay {
    /// Requests per node.
    pub requests: u32,
    /// Time units spent in the critical section.
    pub cs_time: u32,
}

impl Stay {
    /// Reads [`PARAMS`].
    pub fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Stay { requests: params.get("requests")?, cs_time: params.get("cs_time")? })
    }

    /// Each node's `requests` requests at uniform times in `[0, 2·requests·cs_time)`.
    /// Serving everyone takes `n·requests·cs_time`, so for n ≥ 3 requests overlap, many
    /// arrive while the node is still waiting (and are queued), and deferral happens.
    pub fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        let window = 2.0 * self.requests as f64 * (self.cs_time.max(1)) as f64;
        let mut inputs = Vec::with_capacity(setup.n * self.requests as usize);
        for i in 0..setup.n {
            let mut times: Vec<f64> = (0..self.requests).map(|_| rng.gen_range(0.0..window)).collect();
            times.sort_by(f64::total_cmp);
            inputs.extend(times.into_iter().map(|at| ScheduledInput {
                at,
                node: NodeId(i as u32),
                input: Input::Request,
            }));
        }
        inputs
    }
}

/// Enters: outputs `enter_cs` = `entry` and sets the timer that ends the stay after
/// `cs_time` time units.
pub fn enter<M: Clone>(ctx: &mut Context<'_, M>, entry: String, cs_time: u32) {
    ctx.output(ENTER_CS, entry);
    ctx.set_timer(CS_TIMER, cs_time as f64);
}

/// Leaves: outputs `exit_cs` = `entry` (a `release` input also cancels the timer).
pub fn exit<M: Clone>(ctx: &mut Context<'_, M>, entry: String) {
    ctx.output(EXIT_CS, entry);
}

/// The request bookkeeping every node of the chapter keeps, whatever its algorithm.
/// Plain fields in a fixed order, so a node embedding it stays hashable and its states
/// compare exactly as they did with the fields written out.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Requests {
    /// Requesting (or in the CS).
    pub requesting: bool,
    /// In the critical section.
    pub in_cs: bool,
    /// Requests received while one was under way, not yet issued.
    pub queued: u32,
    /// Request inputs accepted.
    pub asked: u32,
    /// Critical sections completed.
    pub served: u32,
}

impl Requests {
    /// A request under way, in the CS, or queued: the node is not at rest.
    pub fn busy(&self) -> bool {
        self.requesting || self.in_cs || self.queued > 0
    }

    /// The bookkeeping as the liveness check reports it.
    pub fn describe(&self) -> String {
        format!("requesting: {}, in CS: {}, queued: {}", self.requesting, self.in_cs, self.queued)
    }

    /// Leaving the CS: the request is served.
    pub fn leave(&mut self) {
        self.in_cs = false;
        self.requesting = false;
        self.served += 1;
    }

    /// Takes one queued request, if any: true when the algorithm should issue it now.
    pub fn take_queued(&mut self) -> bool {
        let any = self.queued > 0;
        if any {
            self.queued -= 1;
        }
        any
    }
}

/// The console's and the timer's part of a node, the same for every algorithm: an
/// algorithm supplies only `request` and `release`, and calls `on_cs_input` and
/// `on_cs_timer` from its `Process` impl.
pub trait CsProcess: MutexNode {
    /// The bookkeeping, to update.
    fn requests_mut(&mut self) -> &mut Requests;
    /// Starts a request (the algorithm's own messages).
    fn request(&mut self, ctx: &mut Context<'_, Self::Msg>);
    /// Leaves the CS and issues the next queued request, if any.
    fn release(&mut self, ctx: &mut Context<'_, Self::Msg>);

    /// The CS timer ends the stay.
    fn on_cs_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Self::Msg>) {
        if timer == CS_TIMER && self.requests().in_cs {
            self.release(ctx);
        }
    }

    /// `request`: queued if one is already under way; `release`: leaves now if in the CS.
    fn on_cs_input(&mut self, input: Input, ctx: &mut Context<'_, Self::Msg>) {
        match input {
            Input::Request => {
                let requests = self.requests_mut();
                requests.asked += 1;
                if requests.requesting {
                    requests.queued += 1;
                } else {
                    self.request(ctx);
                }
            }
            Input::Release if self.requests().in_cs => {
                ctx.cancel_timer(CS_TIMER);
                self.release(ctx);
            }
            Input::Release => ctx.log("release: not in the critical section"),
        }
    }
}

/// What the shared properties read of a node.
pub trait MutexNode: Process {
    /// The node's request bookkeeping.
    fn requests(&self) -> &Requests;
    /// In the critical section now.
    fn in_cs(&self) -> bool {
        self.requests().in_cs
    }
    /// Requests accepted so far.
    fn asked(&self) -> u32 {
        self.requests().asked
    }
    /// Critical sections completed so far.
    fn served(&self) -> u32 {
        self.requests().served
    }
    /// Why the node is not at rest (a request under way or queued, replies owed), if so.
    fn unfinished(&self) -> Option<String>;
}

fn in_cs_count<N: MutexNode>(s: &N) -> u64 {
    s.in_cs() as u64
}

fn no_message<M>(_: &M) -> u64 {
    0
}

/// Safety: at most one node in the critical section, after every event.
pub fn mutual_exclusion<N: MutexNode>() -> Invariant<N> {
    Invariant::<N>::count(
        "mutual exclusion: at most one node in the critical section",
        in_cs_count::<N>,
        no_message::<N::Msg>,
        0,
        1,
    )
}

fn all_served<N: MutexNode>(w: &World<'_, N>) -> Result<(), String> {
    for (i, s) in w.nodes.iter().enumerate() {
        if w.crashed.get(i).copied().unwrap_or(false) {
            continue;
        }
        if s.served() != s.asked() {
            return Err(format!("node {i} asked {} time(s) but was served {} time(s)", s.asked(), s.served()));
        }
        if let Some(why) = s.unfinished() {
            return Err(format!("node {i}: {why}"));
        }
    }
    Ok(())
}

/// Liveness, at quiescence: every request was served and every node is at rest.
pub fn every_request_served<N: MutexNode>() -> Terminal<N> {
    Terminal::<N>::new("every request was served", all_served::<N>)
}

/// The number of critical-section entries of a run: what the cost formulas count in.
pub fn entries(facts: &RunFacts<'_>) -> f64 {
    facts.output_count(ENTER_CS) as f64
}

/// The value output on entering and leaving, for algorithms whose entries are ordered
/// by (timestamp, identity): `"ts.id"`.
pub fn entry_text(ts: u64, id: u64) -> String {
    format!("{ts}.{id}")
}

/// Reads back an [`entry_text`]: `(ts, id)`.
pub fn parse_entry(text: &str) -> Option<(u64, u64)> {
    let (ts, id) = text.split_once('.')?;
    Some((ts.parse().ok()?, id.parse().ok()?))
}
