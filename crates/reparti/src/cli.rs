//! The command line, as clap sees it. Each flag's help is written to teach.

pub use crate::bench_args::BenchArgs;
use crate::chat::ChatArgs;
use crate::lin::LinArgs;
use crate::node::NodeArgs;
use crate::run::merge_traces::MergeArgs;
use crate::run::RunArgs;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// reparti — write a distributed algorithm once; simulate it, check it, run it, see it.
///
/// Start with `reparti list` to see the algorithms, then for instance
/// `reparti sim chang-roberts --nodes 1000` to elect a leader on a simulated ring.
#[derive(Parser, Debug)]
#[command(
    name = "reparti",
    version,
    about = "Write a distributed algorithm once; simulate it (sim), model-check it (check), run it on real \
             processes (run, node), and see its runs (viz, topo, eval).",
    long_about = None,
    propagate_version = true,
    after_help = "Start with `reparti list` (the algorithms, by course chapter), then \
                  `reparti sim chang-roberts --nodes 1000`. Every command teaches its flags: `reparti sim --help`.\n\
                  The same names mean the same thing in every command: -n/--nodes, -t/--topology, -s/--seed, \
                  -p/--param K=V, --ids, --loss, --delay, --trace FILE, -o/--output FILE, --viz FILE, --json."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the algorithms by course chapter, with their parameters and topologies.
    List(ListArgs),
    /// Simulate an algorithm: a seeded discrete-event run, its properties checked after
    /// every event, its message counts compared with theory.
    Sim(Box<SimArgs>),
    /// Model-check an algorithm: explore every interleaving of a small instance, prove
    /// its properties or print the shortest run that breaks one.
    Check(Box<CheckArgs>),
    /// Draw a trace: a space-time diagram (an interactive HTML page or an SVG), or export
    /// it as a ShiViz log.
    Viz(VizArgs),
    /// Draw a topology, as Graphviz DOT or SVG.
    Topo(TopoArgs),
    /// Measure message counts (and rounds) over a range of sizes and seeds, and plot them
    /// against the algorithm's expected counts.
    Eval(EvalArgs),
    /// Print a new Fernet key (TP8): give it to every node with --key-file to encrypt and
    /// authenticate their traffic; Python's `cryptography.fernet` reads it too.
    Keygen(KeygenArgs),
    /// Measure the simulator's speed and memory (Chang–Roberts on huge rings).
    Bench(BenchArgs),
    /// The labs' first client and server (TP1 TCP, TP2 UDP): a line dialogue, each line
    /// answered with an acknowledgement, until the client says `fin` or an empty line.
    Chat(ChatArgs),
    /// Run one node of an algorithm as this process, over UDP or TCP: start one per
    /// address of --peers or --cluster FILE (same algorithm, ids and seed on each), and
    /// each prints what it did. Also the labs' shapes: `node token-ring 5001 5003 jeton`
    /// (TP3), `node mesh 5001` (TP4).
    Node(Box<NodeArgs>),
    /// Run a whole cluster of real processes on this machine: one `reparti node` per node
    /// on free local ports, their traces merged and checked like a simulation's.
    Run(Box<RunArgs>),
    /// Is this history linearizable? Reads a history of client operations (reparti's
    /// JSON Lines, or a Jepsen log), checks it key by key against a sequential object,
    /// and prints a witness order or the operation that cannot be placed.
    Lin(LinArgs),
    /// Merge the traces that nodes wrote (`reparti node --trace`), on one machine or
    /// many, into one run consistent with happens-before, and check it like a simulation.
    Merge(MergeArgs),
    /// Parameter sweeps: `sweep plan` writes a grid of sim or check runs as a job list that
    /// GNU parallel, a Slurm array or a Kubernetes indexed Job runs as is; `sweep merge`
    /// gathers their results into one CSV (and, with --plot, an SVG plot). See docs/SCALE.md.
    Sweep(crate::sweep::SweepArgs),
    /// Swarm verification: K diversified bitstate searches of one instance (shuffled
    /// depth-first, random walks, different hash seeds) as a job directory, and a merge
    /// naming the first and the shortest counterexample (`swarm plan`, `swarm merge`).
    Swarm(crate::swarm::SwarmArgs),
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Write the key to FILE (created with owner-only permissions) instead of printing it.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VizArgs {
    /// The trace to draw (written by `sim --trace`, `check --trace`, or a real run).
    pub trace: PathBuf,

    /// Where to write the picture: FILE.html (interactive viewer) or FILE.svg (static).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also (or only) write a ShiViz log to FILE.
    #[arg(long, value_name = "FILE")]
    pub shiviz: Option<PathBuf>,

    /// Draw time downwards (one vertical line per node) instead of left to right.
    #[arg(long)]
    pub vertical: bool,

    /// Place events by Lamport clock instead of by time (every arrow then points forward).
    #[arg(long)]
    pub lamport: bool,

    /// Draw the skew plot to FILE.svg: every node's clock offset from real time (a trace
    /// of an algorithm that reads physical clocks).
    #[arg(long, value_name = "FILE")]
    pub skew: Option<PathBuf>,

    /// Draw the wait-for graph at the first deadlock declaration instead, cycle
    /// highlighted (with -o FILE.svg; a trace of wait-for+chandy-misra-haas).
    #[arg(long)]
    pub wait_for: bool,
}

#[derive(Args, Debug)]
pub struct TopoArgs {
    /// An algorithm: draw its default topology (or the one --topology names).
    pub algorithm: Option<String>,

    /// The topology to draw.
    #[arg(short, long)]
    pub topology: Option<String>,

    /// Number of nodes.
    #[arg(short, long, default_value_t = 8)]
    pub nodes: usize,

    /// Seed (random graphs).
    #[arg(short, long, default_value_t = 1)]
    pub seed: u64,

    /// Where to write: FILE.svg or FILE.dot (DOT on standard output without it).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The algorithm to evaluate; name several to compare them on one workload, per unit
    /// of work (see --per): `eval credit-flow credit-ring --per consumed --since produced`.
    #[arg(required = true, value_name = "ALGORITHM")]
    pub algorithms: Vec<String>,

    /// Sizes: A..B (powers of two from A to B, e.g. 4..1024) or a list 4,8,16
    /// [default: 4..256; comparing: 2,3,4,5; self-stabilizing: 3,4,5,6,7,8,16,…,256].
    #[arg(short, long)]
    pub nodes: Option<String>,

    /// Compare per unit of work: the output that marks one unit done (`consumed`,
    /// `enter_cs`); the plot shows messages per unit, one curve per algorithm.
    #[arg(long, value_name = "OUTPUT")]
    pub per: Option<String>,

    /// With --per: a unit's wait is the simulated time from this output to its --per
    /// output (`produced`); matched by the unit's name `P#K` (node P's K-th), else the
    /// K-th of each at the same node.
    #[arg(long, value_name = "OUTPUT", requires = "per")]
    pub since: Option<String>,

    /// With --per: sweep one parameter at one size instead of n, e.g. `--vary
    /// load=0.05,0.2,1,2` (positive numbers; the x axis is the parameter).
    #[arg(long, value_name = "PARAM=V1,V2,…")]
    pub vary: Option<String>,

    /// With --per: each run on real processes (a `reparti run` cluster over UDP on this
    /// machine) instead of the simulator; times in milliseconds. Try --runs 3.
    #[arg(long)]
    pub on_processes: bool,

    /// Clock synchronization: sweep drift (ppm) or delay jitter and plot the precision
    /// reached against the bound the algorithm claims, e.g. --precision drift=10,100,1000.
    #[arg(long, value_name = "drift=…|jitter=…", conflicts_with_all = ["per", "vary", "on_processes"])]
    pub precision: Option<String>,

    /// Seeds per size (random identities) for the mean curve.
    #[arg(long, default_value_t = 20)]
    pub runs: u64,

    /// First seed.
    #[arg(short, long, default_value_t = 1)]
    pub seed: u64,

    /// Message delay of every run: const:D, uniform:A,B or exp:MEAN (channels stay FIFO).
    #[arg(long, default_value = "const:1", value_name = "DELAY")]
    pub delay: String,

    /// An algorithm parameter, e.g. --param initiators=0. Repeatable.
    #[arg(short, long, value_name = "K=V")]
    pub param: Vec<String>,

    /// Where to write: FILE.svg (plot), FILE.csv or FILE.json (the table).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Self-stabilizing algorithms: the checker's exact worst case for small n beside
    /// the simulator's random starts for large n, under this daemon.
    #[command(flatten)]
    pub daemon: crate::stab_flags::DaemonFlags,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print the catalogue as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Whether to keep vector clocks (O(n) per message).
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum VectorChoice {
    /// When the algorithm reads clocks or a trace is written, and n ≤ 256.
    Auto,
    /// Always.
    On,
    /// Never: Lamport clocks only.
    Off,
}

#[derive(Args, Debug)]
pub struct SimArgs {
    /// The algorithm to run (see `reparti list`), or a scenario file (FILE.toml, see
    /// docs/SCENARIOS.md) that describes the whole run and its expectations; not needed
    /// with --replay.
    #[arg(required_unless_present = "replay")]
    pub algorithm: Option<String>,

    /// Run the algorithm over the FIFO layer (sequence numbers and a hold-back queue, so
    /// FIFO channels on a network that reorders); the same as naming it `NAME+fifo`.
    /// Its window: --param fifo_window=W.
    #[arg(long)]
    pub fifo_layer: bool,

    /// Replay a trace (a model checker's counterexample, or a simulation's trace):
    /// follow its schedule step by step and check the properties along the way.
    #[arg(long, value_name = "TRACE")]
    pub replay: Option<PathBuf>,

    /// Number of nodes [default: the algorithm's own].
    #[arg(short, long)]
    pub nodes: Option<usize>,

    /// Topology: ring, bidir-ring, complete, line, star, tree, grid, torus, hypercube,
    /// random[:DEGREE], file:PATH [default: the algorithm's first accepted one].
    #[arg(short, long)]
    pub topology: Option<String>,

    /// Identity assignment: random (a seeded permutation of 1..n), asc, desc (decreasing
    /// along the direction messages travel: Chang–Roberts' worst case), or a list 3,1,2.
    /// The default is random here, a typical run; `check` defaults to desc, one fixed
    /// instance (the worst case of the ring elections).
    #[arg(long, default_value = "random")]
    pub ids: String,

    /// Seed of every random choice: the same seed gives the same trace, byte for byte.
    #[arg(short, long, default_value_t = 1)]
    pub seed: u64,

    /// Deliver messages on each channel in the order they were sent (the default).
    #[arg(long, overrides_with = "no_fifo")]
    pub fifo: bool,

    /// Let messages on one channel overtake each other (needs a random --delay to matter);
    /// for an algorithm that assumes FIFO channels, a note says it may break.
    #[arg(long)]
    pub no_fifo: bool,

    /// Message delay: const:D, uniform:A,B or exp:MEAN.
    #[arg(long, default_value = "const:1", value_name = "DELAY")]
    pub delay: String,

    /// Probability that a message is lost, in [0, 1].
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = probability)]
    pub loss: f64,

    /// Probability that a message is delivered twice, in [0, 1].
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = probability)]
    pub dup: f64,

    /// Synchronous rounds: messages sent in round r arrive at the start of round r+1.
    #[arg(long)]
    pub sync: bool,

    /// Crash node NODE at time T (crash-stop), e.g. --crash 3@10. Repeatable.
    #[arg(long, value_name = "NODE@T")]
    pub crash: Vec<String>,

    /// Cut nodes A,B,… from the others during [T1, T2), e.g. --partition 1,2@5..20. Repeatable.
    #[arg(long, value_name = "NODES@T1..T2")]
    pub partition: Vec<String>,

    /// Give the channel FROM>TO its own delay (an asymmetric path), e.g. --link-delay 0>1=const:5. Repeatable.
    #[arg(long, value_name = "FROM>TO=DELAY")]
    pub link_delay: Vec<String>,

    #[command(flatten)]
    pub clocks: crate::clock_flags::ClockFlags,

    #[command(flatten)]
    pub stab: crate::stab_flags::StabFlags,

    /// An algorithm parameter, e.g. --param initiators=0. Repeatable.
    #[arg(short, long, value_name = "K=V")]
    pub param: Vec<String>,

    /// Write the trace (JSON Lines, see docs/TRACE.md) to FILE.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// Write the history of the clients' operations (shared-memory algorithms) to FILE,
    /// one JSON object a line, as `reparti lin` reads it (docs/TRACE.md, "Histories").
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

    /// Stop after this many events.
    #[arg(long)]
    pub max_events: Option<u64>,

    /// Stop at this simulated time.
    #[arg(long)]
    pub max_time: Option<f64>,

    /// Keep vector clocks: auto, on, off.
    #[arg(long, value_enum, default_value_t = VectorChoice::Auto)]
    pub vector_clocks: VectorChoice,

    /// Run on after an invariant is violated instead of stopping there.
    #[arg(long)]
    pub keep_going: bool,

    /// Run K seeds (seed, seed+1, …) in parallel and print min/mean/max of each figure
    /// (K at least 1).
    #[arg(long, default_value_t = 1, value_parser = at_least_one_run)]
    pub runs: u64,

    /// Refuse a run (or stop it) that would take more than SIZE of memory, e.g. 512M or
    /// 4G [default: the memory available when it starts].
    #[arg(long, value_name = "SIZE", value_parser = reparti_core::machine_memory::parse_size)]
    pub max_memory: Option<u64>,

    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,

    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,

    /// Draw the run as a space-time diagram (FILE.html or FILE.svg).
    #[arg(long, value_name = "FILE")]
    pub viz: Option<PathBuf>,

    /// Draw the skew plot to FILE.svg: every node's clock offset from real time, its
    /// corrections and bounds (algorithms that read physical clocks).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

/// The channel model the checker explores.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum NetworkChoice {
    /// Reliable FIFO channels.
    Fifo,
    /// Reliable channels that may reorder.
    Unordered,
    /// Unordered, and up to --max-drops messages may be lost.
    Lossy,
    /// Unordered, and up to --max-dups messages may be duplicated.
    Duplicating,
}

/// The search strategy.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum StrategyChoice {
    /// Breadth-first: exhaustive, shortest counterexamples, parallel (--threads).
    Bfs,
    /// Depth-first: exhaustive or bounded by --max-depth, little memory.
    Dfs,
    /// Random walks (--walks, --depth) for instances too big to exhaust.
    Random,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The algorithm to check (see `reparti list`), or a scenario file (FILE.toml, see
    /// docs/SCENARIOS.md) whose [check] table and expectations describe the check.
    pub algorithm: String,

    /// Run the algorithm over the FIFO layer (sequence numbers and a hold-back queue, so
    /// FIFO channels on a network that reorders); the same as naming it `NAME+fifo`.
    /// Its window: --param fifo_window=W.
    #[arg(long)]
    pub fifo_layer: bool,

    /// Number of nodes: keep it small, the space grows exponentially (3 to 6).
    #[arg(short, long, default_value_t = 4)]
    pub nodes: usize,

    /// Topology [default: the algorithm's first accepted one].
    #[arg(short, long)]
    pub topology: Option<String>,

    /// Identity assignment: random (seeded), asc, desc or a list 3,1,2. The default is
    /// desc here: a check explores one instance, and desc is the ring elections' worst
    /// case (`sim` defaults to random, a typical run).
    #[arg(long, default_value = "desc")]
    pub ids: String,

    /// Seed for random identities and workloads.
    #[arg(short, long, default_value_t = 1)]
    pub seed: u64,

    /// Channel model explored [default: fifo for an algorithm that assumes FIFO channels,
    /// unordered for the others].
    #[arg(long, value_enum)]
    pub network: Option<NetworkChoice>,

    /// How many messages a lossy network may lose in one run.
    #[arg(long, default_value_t = 1)]
    pub max_drops: u32,

    /// How many messages a duplicating network may duplicate in one run.
    #[arg(long, default_value_t = 1)]
    pub max_dups: u32,

    /// How many nodes may crash in one run.
    #[arg(long, default_value_t = 0)]
    pub max_crashes: u32,

    /// Search strategy.
    #[arg(long, value_enum, default_value_t = StrategyChoice::Bfs)]
    pub strategy: StrategyChoice,

    /// Random walks to take (--strategy random).
    #[arg(long, default_value_t = 1000)]
    pub walks: u64,

    /// Steps per random walk at most (--strategy random).
    #[arg(long, default_value_t = 1000)]
    pub depth: u64,

    /// Worker threads for breadth-first search.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,

    /// Do not expand states deeper than this.
    #[arg(long)]
    pub max_depth: Option<u64>,

    /// Stop cleanly after this many unique states (partial report).
    #[arg(long)]
    pub max_states: Option<u64>,

    /// Stop cleanly after this many seconds (partial report).
    #[arg(long)]
    pub max_seconds: Option<f64>,

    /// Stop cleanly (partial report) before the visited set and the frontier take more
    /// than SIZE, e.g. 512M or 4G [default: half of the available memory].
    #[arg(long, value_name = "SIZE", value_parser = reparti_check::memory::parse_size)]
    pub max_memory: Option<u64>,

    /// Partial-order reduction: explore one node's steps when that provably suffices.
    #[arg(long)]
    pub por: bool,

    /// Symmetry reduction, for algorithms that declare interchangeable nodes.
    #[arg(long)]
    pub symmetry: bool,

    /// Also count the states without the reductions, to show what they saved.
    #[arg(long)]
    pub compare_reductions: bool,

    /// 128-bit fingerprints (collisions become practically impossible).
    #[arg(long)]
    pub wide: bool,

    /// Bitstate hashing (SPIN's supertrace): the visited set as SIZE bytes of bits, e.g.
    /// 64M or 1G, a few bits per state instead of 11–16 bytes. A partial search for
    /// spaces too large for the exact table: it may take a new state for a visited one;
    /// the report estimates the coverage (aim for a hash factor above 100).
    #[arg(long, value_name = "SIZE", value_parser = reparti_check::memory::parse_size)]
    pub bitstate: Option<u64>,

    /// Bits set per state in a bitstate search.
    #[arg(long, value_name = "K", default_value_t = 3)]
    pub hash_functions: u32,

    /// Seed of the bitstate bit positions: searches with different seeds miss different
    /// states.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub hash_seed: u64,

    /// Seed of the search's own choices, the instance left as it is: the random walks'
    /// steps, and with --strategy dfs a shuffled successor order [default: --seed for
    /// walks, the model's order for dfs].
    #[arg(long, value_name = "N")]
    pub search_seed: Option<u64>,

    /// Skip the liveness checks (they build the explicit state graph).
    #[arg(long)]
    pub no_liveness: bool,

    /// Largest space on which liveness is checked.
    #[arg(long, default_value_t = 2_000_000)]
    pub liveness_limit: u64,

    /// An algorithm parameter, e.g. --param requests=2. Repeatable.
    #[arg(short, long, value_name = "K=V")]
    pub param: Vec<String>,

    /// Write the counterexample, if any, as a trace (replay it with `reparti sim --replay`).
    /// `--trace-out` is read too.
    #[arg(long = "trace", alias = "trace-out", value_name = "FILE")]
    pub trace_out: Option<PathBuf>,

    /// Write the history of the counterexample's client operations (shared-memory
    /// algorithms), if there is a counterexample, to FILE, as `reparti lin` reads it.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,

    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,

    #[command(flatten)]
    pub daemon: crate::stab_flags::DaemonFlags,

    /// Draw the counterexample, if any, as a space-time diagram (FILE.html or FILE.svg).
    #[arg(long, value_name = "FILE")]
    pub viz: Option<PathBuf>,
}

fn probability(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not a probability; give a number between 0 and 1"))
    }
}

/// Parses the command line. A negative number is read as a value (`--loss -0.1`,
/// `--nodes -3`), never as an unknown flag, so that the flag itself refuses it with its
/// own message instead of clap's misleading `unexpected argument '-0'`.
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// The command line `args` (the program's name first), parsed as [`parse`] does: what
/// `reparti sweep plan` checks each job's command with.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    fn accept_negative(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| if a.get_action().takes_values() { a.allow_negative_numbers(true) } else { a })
            .mut_subcommands(accept_negative)
    }
    let matches = accept_negative(Cli::command()).try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// `--runs K`: a whole number of runs, at least one.
fn at_least_one_run(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("0 runs would simulate nothing: give 1 or more (1 is a single run)".into()),
        Ok(k) => Ok(k),
        Err(_) => Err(format!("'{text}' is not a number of runs: give a whole number, 1 or more")),
    }
}
