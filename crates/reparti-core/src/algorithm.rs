//! The [`Algorithm`] trait: a [`Process`] plus everything engines need to know about it.

use crate::expect::{Expectation, RunFacts};
use crate::id::NodeId;
use crate::params::{ParamError, ParamSpec, Params};
use crate::process::{NodeSetup, Process};
use crate::property::Properties;
use crate::topology::Topology;
use crate::Rng;
use serde::Serialize;
use std::fmt;

/// The course chapters algorithms are grouped by.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Chapter {
    /// Sockets, token rings, flow control, FIFO, rendezvous.
    Communication,
    /// Logical, vector and physical clocks.
    Time,
    /// Distributed mutual exclusion.
    Mutex,
    /// Snapshots, termination and deadlock detection.
    Observation,
    /// Leader election.
    Election,
    /// Distributed shared memory and linearizability.
    Memory,
    /// Self-stabilization.
    Selfstab,
}

impl Chapter {
    /// The chapter's title.
    pub fn title(self) -> &'static str {
        match self {
            Chapter::Communication => "Communication",
            Chapter::Time => "Time",
            Chapter::Mutex => "Mutual exclusion",
            Chapter::Observation => "Observation",
            Chapter::Election => "Election",
            Chapter::Memory => "Distributed shared memory",
            Chapter::Selfstab => "Self-stabilization",
        }
    }
}

impl fmt::Display for Chapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// What an algorithm says about itself.
#[derive(Clone, Debug, Serialize)]
pub struct AlgorithmSpec {
    /// Its command-line name, e.g. `chang-roberts`.
    pub name: &'static str,
    /// Its chapter.
    pub chapter: Chapter,
    /// One line saying what it does.
    pub summary: &'static str,
    /// Its parameters, with defaults.
    pub params: &'static [ParamSpec],
    /// The topology kinds it accepts, by name; the first is the default.
    pub topologies: &'static [&'static str],
    /// The node count used when none is given.
    pub default_nodes: usize,
    /// Whether it needs FIFO channels to be correct.
    pub needs_fifo: bool,
    /// Whether its handlers or properties read clocks: engines then keep vector clocks
    /// (when n is small enough) and the model checker keeps the stamps in its states.
    /// An algorithm that does not declare it cannot read them (`Context::lamport`
    /// panics saying so).
    pub reads_clocks: bool,
    /// Whether its handlers read or correct the node's physical clock
    /// (`Context::clock`, `set_clock`, `slew_clock`): the simulator and real nodes then
    /// keep one per node (see [`crate::physical_clock`]), and the model checker refuses
    /// the algorithm, since it cannot enumerate continuous time.
    pub reads_physical_clock: bool,
    /// The console commands its nodes accept, each naming a variant of its `Input`; a
    /// node's console `help` lists these and nothing else of the algorithm's.
    pub commands: &'static [Command],
    /// Intervals the space-time diagram draws as bars on a node's lane, each opened and
    /// closed by an output key (a critical section: `enter_cs` … `exit_cs`).
    pub spans: &'static [SpanSpec],
}

impl AlgorithmSpec {
    /// A spec with the usual defaults — no parameters, a ring, 4 nodes, non-FIFO
    /// channels, no clocks read, no console commands, no bars — to be completed with
    /// struct-update syntax: `AlgorithmSpec { params: PARAMS, ..AlgorithmSpec::new(...) }`.
    pub const fn new(name: &'static str, chapter: Chapter, summary: &'static str) -> Self {
        AlgorithmSpec {
            name,
            chapter,
            summary,
            params: &[],
            topologies: &["ring"],
            default_nodes: 4,
            needs_fifo: false,
            reads_clocks: false,
            reads_physical_clock: false,
            commands: &[],
            spans: &[],
        }
    }

    /// The console command typed as `word`, if the algorithm has one.
    pub fn command(&self, word: &str) -> Option<&'static Command> {
        self.commands.iter().find(|c| c.word.eq_ignore_ascii_case(word))
    }
}

/// A console command: a word typed at a running node, and the `Input` it becomes.
///
/// The input is built as serde's form of the algorithm's `Input` enum: a command with
/// no argument is the bare variant name (`"Request"`), one with arguments a struct
/// variant whose fields are the arguments (`{"Send": {"to": 2, "text": "hi"}}`).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Command {
    /// The word typed (`send`).
    pub word: &'static str,
    /// The `Input` variant it makes (`Send`).
    pub variant: &'static str,
    /// Its arguments, in the order they are typed.
    pub args: &'static [CommandArg],
    /// One line saying what it does.
    pub help: &'static str,
}

/// One argument of a [`Command`].
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CommandArg {
    /// The input field it fills.
    pub field: &'static str,
    /// What is typed.
    pub kind: ArgKind,
}

/// The arguments of the usual `send` command: a destination node, then a text
/// (`send 5002 hello`), filling an input variant's `to` and `text` fields.
pub const TO_AND_TEXT: &[CommandArg] =
    &[CommandArg { field: "to", kind: ArgKind::Node }, CommandArg { field: "text", kind: ArgKind::Text }];

/// What a console argument is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgKind {
    /// A node: a port one node listens on, `#I` (a position) or `HOST:PORT`.
    Node,
    /// A whole number.
    Int,
    /// The rest of the line (must come last).
    Text,
}

/// An interval on a node's lane, between two outputs: drawn as a bar by the pictures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SpanSpec {
    /// What the bar shows (`critical section`).
    pub label: &'static str,
    /// The output key that opens it.
    pub opens: &'static str,
    /// The output key that closes it.
    pub closes: &'static str,
}

/// Which renamings of the nodes leave an algorithm's behaviour unchanged.
///
/// A model checker may then store one state per class of renamed states (symmetry
/// reduction). Declaring a symmetry is a promise: the nodes' initial states are alike
/// (up to the renaming), handlers never look at identities or positions except through
/// node ids they rename with `rename_nodes`, every node gets the same workload, and every
/// property is invariant under the renaming.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Symmetry {
    /// Nodes are not interchangeable (the default: identities usually break symmetry).
    None,
    /// Rotations of a ring: node i may be renamed i+k mod n.
    Rotations,
    /// Any permutation (an anonymous complete graph).
    Full,
}

/// An external input scheduled by a workload.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledInput<I> {
    /// When (simulated time; engines that ignore time keep only the per-node order).
    pub at: f64,
    /// Which node receives it.
    pub node: NodeId,
    /// The input.
    pub input: I,
}

/// What a workload generator may look at.
pub struct WorkloadSetup<'a> {
    /// The number of nodes.
    pub n: usize,
    /// Every node's identity, by position.
    pub idents: &'a [u64],
    /// The topology.
    pub topology: &'a Topology,
}

/// A distributed algorithm: its node, its declarations, its properties and its costs.
///
/// Engines are generic over `Algorithm`; the command line reaches them through an
/// [`AlgorithmVisitor`], so that neither engines nor algorithms name each other.
pub trait Algorithm: Sized + Send + Sync + 'static {
    /// The node's state machine.
    type Node: Process;

    /// The algorithm's self-description.
    fn spec() -> AlgorithmSpec;

    /// Builds the algorithm from resolved parameters.
    fn from_params(params: &Params) -> Result<Self, ParamError>;

    /// Whether the parameters suit an instance of `n` nodes (a buffer of 4 slots shared
    /// by 7 producers does not); `Err` says why and what to give instead, in one line.
    /// Every engine asks before it builds anything, so a mismatch is a usage error
    /// (exit 2), never a run that fails for a reason the user cannot see.
    fn check_size(&self, _n: usize) -> Result<(), String> {
        Ok(())
    }

    /// Called once the topology is built, before any node: an algorithm that needs the
    /// whole graph (a self-stabilizing BFS tree's legitimacy, a guarded algorithm's
    /// neighbourhoods) keeps what it needs. `Err` is a usage error, like
    /// [`Algorithm::check_size`]'s.
    fn fit_topology(&mut self, _topology: &Topology) -> Result<(), String> {
        Ok(())
    }

    /// The initial state of one node.
    fn init(&self, setup: &NodeSetup) -> Self::Node;

    /// External inputs to apply during the run (requests, sends, elections).
    fn workload(
        &self,
        _setup: &WorkloadSetup<'_>,
        _rng: &mut Rng,
    ) -> Vec<ScheduledInput<<Self::Node as Process>::Input>> {
        Vec::new()
    }

    /// The properties every engine checks.
    fn properties(&self) -> Properties<Self::Node>;

    /// Properties of the run's history of client operations (shared-memory
    /// algorithms, see [`crate::history`]): judged when the run is over.
    fn history_properties(&self) -> Vec<crate::history::HistoryProperty> {
        Vec::new()
    }

    /// The message counts the literature predicts for this run.
    fn expected(&self, _facts: &RunFacts<'_>) -> Vec<Expectation> {
        Vec::new()
    }

    /// Which renamings of the nodes leave the algorithm unchanged (see [`Symmetry`]).
    fn symmetry(&self) -> Symmetry {
        Symmetry::None
    }
}

/// A piece of engine-side code that works for any algorithm.
///
/// The algorithm catalogue calls `visit::<A>()` for the algorithm named on the command
/// line; the visitor, written on the command-line side, hands `A` to an engine.
pub trait AlgorithmVisitor {
    /// What the visit produces.
    type Output;
    /// Runs with the algorithm `A`.
    fn visit<A: Algorithm>(self) -> Self::Output;
}
