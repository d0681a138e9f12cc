//! The message-passing form of a guarded algorithm: state exchange.
//!
//! The standard transformation (Dolev, *Self-Stabilization*, 2000, §4.2; Katz and
//! Perry 1993): every node sends its state to its out-neighbours every `period` time
//! units and evaluates its guards on the last state received from each neighbour. It
//! is an ordinary [`Algorithm`], so the simulator, the model checker and real
//! processes run it unchanged.
//!
//! **What it preserves.** A node moves at most once per period, and only once it has
//! heard from every in-neighbour since its last move (the freshness rule): when a
//! period is longer than a message delay, what a node reads is at most one move old,
//! and the run is one of the state-reading algorithm under the distributed daemon with
//! reads of the previous step. Lost messages only delay a move (the next period sends
//! the state again), so convergence needs only that some messages get through. What
//! is *not* preserved: a state still in transit when its sender moves again is a stale
//! read; algorithms that stabilize under the distributed daemon (the K-state ring with
//! K ≥ n, the BFS tree) tolerate it, and closure holds because a legitimate
//! configuration's privileged nodes never read a neighbour that is about to move.
//!
//! A node's memory can be corrupted from its console (`corrupt SEED`: the state
//! becomes one drawn from its domain by SEED) or on a schedule (`corrupt=K`,
//! `corrupt_at=T`): the run shows the system re-stabilize.

use super::{privileges, Guarded, RuleSet};
use crate::algorithm::{Algorithm, AlgorithmSpec, ArgKind, Command, CommandArg, ScheduledInput, WorkloadSetup};
use crate::context::Context;
use crate::expect::{Expectation, RunFacts};
use crate::id::NodeId;
use crate::params::{ParamError, ParamKind, ParamSpec, Params};
use crate::process::{Message, NodeSetup, Process};
use crate::property::{Properties, Terminal};
use crate::topology::Topology;
use crate::Rng;
use serde::{Deserialize, Serialize};

/// The exchange's own parameters, added to the algorithm's.
pub const EXCHANGE_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "period",
        default: "20",
        help: "time units between two state messages of a node (longer than a delay: fresher reads)",
        kind: ParamKind::Int { min: 1, max: 1_000_000 },
    },
    ParamSpec {
        name: "periods",
        default: "60",
        help: "how many periods each node runs before it stops (the run then ends)",
        kind: ParamKind::Int { min: 1, max: 1_000_000 },
    },
    ParamSpec {
        name: "corrupt",
        default: "0",
        help: "how many nodes have their state overwritten with an arbitrary one at corrupt_at",
        kind: ParamKind::Int { min: 0, max: 1_000_000 },
    },
    ParamSpec {
        name: "corrupt_at",
        default: "600",
        help: "when (time units) the corrupt nodes are overwritten",
        kind: ParamKind::Int { min: 0, max: 1_000_000_000 },
    },
];

const TICK: &str = "exchange";

/// A guarded algorithm run by message passing.
pub struct Exchange<G: Guarded> {
    params: Params,
    period: f64,
    periods: u32,
    corrupt: usize,
    corrupt_at: f64,
    /// Built once the topology is known ([`Algorithm::fit_topology`]).
    algo: Option<G>,
    /// The topology's channels, for the message count.
    channels: usize,
}

/// A node of the exchange: its state, what it last heard, and the algorithm itself
/// (small: sizes and, for graph algorithms, the adjacency), since handlers see only
/// the node.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ExchangeNode<G: Guarded> {
    algo: G,
    me: NodeId,
    /// The configuration as this node knows it: its own state, and each neighbour's
    /// last state received (others are never read).
    view: Vec<G::State>,
    /// In-neighbours heard from since this node last moved.
    fresh: Vec<bool>,
    /// The number of the last state received from each node: a state overtaken by a
    /// newer one (reordered, retransmitted) is stale and ignored.
    heard: Vec<u32>,
    /// How many states this node has sent.
    sent: u32,
    period: u32,
    periods_left: u32,
}

impl<G: Guarded> ExchangeNode<G> {
    /// This node's own state.
    pub fn state(&self) -> &G::State {
        &self.view[self.me.index()]
    }
}

/// A node's state, sent to its out-neighbours.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct StateMsg<G: Guarded> {
    /// The sender's count of states sent, this one included.
    pub seq: u32,
    /// Its state.
    pub state: G::State,
}

impl<G: Guarded> Message for StateMsg<G> {
    fn kinds() -> &'static [&'static str] {
        &["STATE"]
    }
    fn kind(&self) -> usize {
        0
    }
}

/// What can be done to a running node from outside.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum ExchangeInput {
    /// A transient fault: the node's state becomes the one SEED picks from its domain.
    Corrupt {
        /// Picks the new state (the same seed, the same state).
        seed: u64,
    },
}

impl<G: Guarded> ExchangeNode<G> {
    fn send_state(&mut self, ctx: &mut Context<'_, StateMsg<G>>) {
        self.sent += 1;
        let targets: Vec<NodeId> = ctx.neighbours().into_iter().collect();
        for to in targets {
            ctx.send(to, StateMsg { seq: self.sent, state: self.state().clone() });
        }
    }

    /// Whether this node has heard from every node it reads since it last moved.
    fn heard_everyone(&self) -> bool {
        self.algo.reads(self.me).iter().all(|j| self.fresh.get(j.index()).copied().unwrap_or(true))
    }
}

impl<G: Guarded> Process for ExchangeNode<G> {
    type Msg = StateMsg<G>;
    type Input = ExchangeInput;

    fn on_start(&mut self, ctx: &mut Context<'_, Self::Msg>) {
        ctx.output("value", self.algo.value(self.me, self.state()));
        self.send_state(ctx);
        ctx.set_timer(TICK, f64::from(self.period));
    }

    fn on_message(&mut self, from: NodeId, msg: Self::Msg, _ctx: &mut Context<'_, Self::Msg>) {
        let i = from.index();
        if i < self.view.len() && msg.seq > self.heard[i] {
            self.view[i] = msg.state;
            self.heard[i] = msg.seq;
            self.fresh[i] = true;
        }
    }

    fn on_timer(&mut self, _timer: crate::process::Timer, ctx: &mut Context<'_, Self::Msg>) {
        let rules: RuleSet = self.algo.enabled(self.me, &self.view);
        if rules != 0 && self.heard_everyone() {
            let rule = rules.trailing_zeros() as usize;
            let next = self.algo.apply(self.me, rule, &self.view);
            self.view[self.me.index()] = next;
            self.fresh.iter_mut().for_each(|f| *f = false);
            ctx.output("move", rule as i64);
            ctx.output("value", self.algo.value(self.me, self.state()));
        }
        self.send_state(ctx);
        self.periods_left = self.periods_left.saturating_sub(1);
        if self.periods_left > 0 {
            ctx.set_timer(TICK, f64::from(self.period));
        }
    }

    fn on_input(&mut self, input: ExchangeInput, ctx: &mut Context<'_, Self::Msg>) {
        let ExchangeInput::Corrupt { seed } = input;
        let mut rng = crate::rng(seed);
        let state = self.algo.random_state(self.me, &mut rng);
        self.view[self.me.index()] = state;
        ctx.output("corrupted", 1);
        ctx.output("value", self.algo.value(self.me, self.state()));
    }
}

/// The `corrupt SEED` console command.
const COMMANDS: &[Command] = &[Command {
    word: "corrupt",
    variant: "Corrupt",
    args: &[CommandArg { field: "seed", kind: ArgKind::Int }],
    help: "overwrite this node's state with an arbitrary one (SEED picks it): a transient fault",
}];

impl<G: Guarded> Algorithm for Exchange<G> {
    type Node = ExchangeNode<G>;

    fn spec() -> AlgorithmSpec {
        crate::layer::per_type::<Self, AlgorithmSpec>(|| {
            let inner = G::spec();
            let params: Vec<ParamSpec> = inner.params.iter().chain(EXCHANGE_PARAMS).copied().collect();
            AlgorithmSpec { params: Box::leak(params.into_boxed_slice()), commands: COMMANDS, ..inner }
        })
        .clone()
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Exchange {
            params: params.clone(),
            period: params.get::<f64>("period")?,
            periods: params.get("periods")?,
            corrupt: params.get("corrupt")?,
            corrupt_at: params.get::<f64>("corrupt_at")?,
            algo: None,
            channels: 0,
        })
    }

    fn fit_topology(&mut self, topology: &Topology) -> Result<(), String> {
        self.algo = Some(G::build(&self.params, topology)?);
        self.channels = topology.channel_count();
        Ok(())
    }

    fn init(&self, setup: &NodeSetup) -> ExchangeNode<G> {
        let Some(algo) = self.algo.clone() else {
            panic!("an engine built a node before fitting the topology (Instance::new does both)")
        };
        let view = algo.legitimate_start();
        // Until corrupted, nodes start legitimate; `--start`-like arbitrary starts are
        // the state-reading simulator's (and a `corrupt` at time 0 here).
        ExchangeNode {
            me: setup.me,
            fresh: vec![false; view.len()],
            heard: vec![0; view.len()],
            sent: 0,
            view,
            period: self.period as u32,
            periods_left: self.periods,
            algo,
        }
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut Rng) -> Vec<ScheduledInput<ExchangeInput>> {
        use rand::seq::SliceRandom;
        use rand::Rng as _;
        let mut nodes: Vec<usize> = (0..setup.n).collect();
        nodes.shuffle(rng);
        nodes
            .into_iter()
            .take(self.corrupt.min(setup.n))
            .map(|i| ScheduledInput {
                at: self.corrupt_at,
                node: NodeId(i as u32),
                input: ExchangeInput::Corrupt { seed: rng.gen() },
            })
            .collect()
    }

    fn expected(&self, _facts: &RunFacts<'_>) -> Vec<Expectation> {
        // Every node sends its state on each of its channels at the start and at every
        // period; nothing else is ever sent.
        let each = u64::from(self.periods) + 1;
        vec![Expectation::exact("STATE", "|E|·(periods+1)", (self.channels as u64 * each) as f64)]
    }

    fn properties(&self) -> Properties<ExchangeNode<G>> {
        let algo = self.algo.clone();
        Properties {
            invariants: Vec::new(),
            terminal: vec![Terminal::new("the configuration is legitimate at the end (re-stabilized)", move |w| {
                let Some(algo) = &algo else { return Ok(()) };
                let config: Vec<G::State> = w.nodes.iter().map(|n: &ExchangeNode<G>| n.state().clone()).collect();
                if algo.legitimate(&config) {
                    Ok(())
                } else {
                    Err(format!(
                        "not legitimate: {} privileges in {:?}; give more periods after the last fault",
                        privileges(algo, &config),
                        config
                    ))
                }
            })],
        }
    }
}
