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
//!
//! **The workload** ([`PARAMS`], the same for every algorithm, so that runs compare):
//! each node asks `requests` times and stays `cs_time` in the critical section.
//!
//! * `load` = 0 (the default): each node's requests at uniform times in
//!   `[0, 2·requests·cs_time)`, a burst in which requests overlap and deferral happens.
//! * `load` = ρ > 0, the *offered load*: each node's requests arrive as a Poisson
//!   process of mean gap `n·max(cs_time, 1)/ρ`, so that all n nodes together ask for ρ
//!   critical sections per `cs_time`. ρ ≪ 1: requests are rare and mostly find the CS
//!   free (a token stays idle where it was, permissions stay with their last user);
//!   ρ ≥ 1: the CS is saturated and requests queue. The sweep `reparti eval … --vary
//!   load=…` draws the chapter's costs against it.
//!
//! Both are drawn from the run's seed: the same seed gives the same requests to every
//! algorithm.
//!
//! **What is measured**: a node outputs `request` (its K-th ask, 1, 2, …) when it
//! accepts a request input, queued or issued at once, then `enter_cs` and `exit_cs` for
//! that request's stay, in that order. From `request` to `enter_cs` is the request's
//! wait, to `exit_cs` its response time; from one `exit_cs` to the next `enter_cs` while
//! someone waits is the synchronization delay (`reparti eval … --per enter_cs --since
//! request`).

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
/// The output made when a request input is accepted; its value is the node's K-th ask.
pub const REQUEST: &str = "request";
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

/// The offered load ρ: 0 keeps the burst workload; ρ > 0 makes each node's requests a
/// Poisson process of mean gap n·max(cs_time, 1)/ρ (see the [module doc](self)).
pub const LOAD: ParamSpec = ParamSpec::real(
    "load",
    "0",
    0.0,
    1000.0,
    "offered load ρ: 0 = requests in a burst at the start; ρ > 0 = Poisson arrivals, ρ CS per cs_time in all (≥ 1 saturates)",
);

/// The chapter's parameters; an algorithm with its own adds them after these.
pub const PARAMS: &[ParamSpec] = &[REQUESTS, CS_TIME, LOAD];

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
#[derive(Clone, Copy, Debug)]
pub struct Stay {
    /// Requests per node.
    pub requests: u32,
    /// Time units spent in the critical section.
    pub cs_time: u32,
    /// The offered load ρ (0: the burst workload).
    pub load: f64,
}

// By the load's bits, so that `Stay` stays `Eq` (a load is never NaN: the parameter is
// range-checked).
impl PartialEq for Stay {
    fn eq(&self, other: &Self) -> bool {
        (self.requests, self.cs_time, self.load.to_bits()) == (other.requests, other.cs_time, other.load.to_bits())
    }
}
impl Eq for Stay {}

impl Stay {
    /// `requests` per node, `cs_time` each, in the burst workload (load 0).
    pub const fn new(requests: u32, cs_time: u32) -> Self {
        Stay { requests, cs_time, load: 0.0 }
    }

    /// Reads [`PARAMS`]; an algorithm whose parameters lack `load` gets the burst.
    pub fn from_params(params: &Params) -> Result<Self, ParamError> {
        let load = if params.raw(LOAD.name).is_some() { params.get(LOAD.name)? } else { 0.0 };
        Ok(Stay { requests: params.get("requests")?, cs_time: params.get("cs_time")?, load })
    }

    /// Each node's `requests` requests: with load 0, at uniform times in
    /// `[0, 2·requests·cs_time)` — serving everyone takes `n·requests·cs_time`, so for
    /// n ≥ 3 requests overlap, many arrive while the node is still waiting (and are
    /// queued), and deferral happens; with load ρ > 0, a Poisson process of mean gap
    /// `n·max(cs_time, 1)/ρ` per node.
    pub fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        let unit = self.cs_time.max(1) as f64;
        let mean_gap = setup.n as f64 * unit / self.load;
        let window = 2.0 * self.requests as f64 * unit;
        let mut inputs = Vec::with_capacity(setup.n * self.requests as usize);
        for i in 0..setup.n {
            let times: Vec<f64> = if self.load > 0.0 {
                // Exponential gaps by inversion: 1 − U lies in (0, 1], so the log is finite.
                let mut at = 0.0;
                (0..self.requests)
                    .map(|_| {
                        at += -mean_gap * (1.0 - rng.gen::<f64>()).ln();
                        at
                    })
                    .collect()
            } else {
                let mut t: Vec<f64> = (0..self.requests).map(|_| rng.gen_range(0.0..window)).collect();
                t.sort_by(f64::total_cmp);
                t
            };
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

    /// `request`: output as the node's K-th ask, then queued if one is already under way;
    /// `release`: leaves now if in the CS.
    fn on_cs_input(&mut self, input: Input, ctx: &mut Context<'_, Self::Msg>) {
        match input {
            Input::Request => {
                let requests = self.requests_mut();
                requests.asked += 1;
                ctx.output(REQUEST, requests.asked);
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

#[cfg(test)]
mod tests {
    use super::*;
    use reparti_core::{Topology, TopologyKind};

    fn workload(stay: Stay, n: usize, seed: u64) -> Vec<ScheduledInput<Input>> {
        let topo = Topology::build(&TopologyKind::Complete, n, &mut reparti_core::rng(0)).expect("complete");
        let idents: Vec<u64> = (1..=n as u64).collect();
        stay.workload(&WorkloadSetup { n, idents: &idents, topology: &topo }, &mut reparti_core::rng(seed))
    }

    fn times(w: &[ScheduledInput<Input>], node: u32) -> Vec<f64> {
        w.iter().filter(|s| s.node == NodeId(node)).map(|s| s.at).collect()
    }

    #[test]
    fn the_load_is_read_and_defaults_to_the_burst_and_a_parameter_list_without_it_gets_the_burst() {
        let given = [("load".to_string(), "0.5".to_string()), ("cs_time".to_string(), "3".to_string())];
        let params = Params::resolve("x", PARAMS, &given).expect("valid");
        assert_eq!(Stay::from_params(&params), Ok(Stay { requests: 2, cs_time: 3, load: 0.5 }));
        let defaults = Params::resolve("x", PARAMS, &[]).expect("valid");
        assert_eq!(Stay::from_params(&defaults), Ok(Stay::new(2, 1)));
        let without = Params::resolve("x", &[REQUESTS, CS_TIME], &[]).expect("valid");
        assert_eq!(Stay::from_params(&without).map(|s| s.load), Ok(0.0));
    }

    #[test]
    fn with_a_load_each_nodes_requests_arrive_as_a_poisson_process_of_the_promised_mean_gap() {
        // ρ = 0.5 on 4 nodes with cs_time 2: each node asks every 4·2/0.5 = 16 on average.
        let stay = Stay { requests: 1000, cs_time: 2, load: 0.5 };
        let w = workload(stay, 4, 7);
        assert_eq!(w.len(), 4000);
        let mut gaps = Vec::new();
        for node in 0..4 {
            let t = times(&w, node);
            assert!(t[0] > 0.0 && t.windows(2).all(|p| p[0] < p[1]), "node {node}: increasing arrival times");
            gaps.push(t[0]);
            gaps.extend(t.windows(2).map(|p| p[1] - p[0]));
        }
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        // 4000 exponential gaps: the mean's standard deviation is 16/√4000 ≈ 0.25.
        assert!((mean - 16.0).abs() < 1.5, "mean gap {mean}");
        // Exponential, not evenly spaced: about e^-1 of the gaps exceed the mean.
        let longer = gaps.iter().filter(|&&g| g > 16.0).count() as f64 / gaps.len() as f64;
        assert!((longer - (-1f64).exp()).abs() < 0.05, "{longer}");
        assert_eq!(workload(stay, 4, 7), w, "the same seed gives the same requests");
    }

    #[test]
    fn without_a_load_requests_fall_in_the_burst_window() {
        let w = workload(Stay::new(3, 2), 4, 5);
        for node in 0..4 {
            let t = times(&w, node);
            assert_eq!(t.len(), 3);
            assert!(t.windows(2).all(|p| p[0] <= p[1]) && t.iter().all(|&x| (0.0..12.0).contains(&x)), "{t:?}");
        }
    }
}
