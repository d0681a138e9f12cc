//! `reparti check`: the model checker from the command line.
//!
//! Exit status: 0 when the whole space was explored and every property checked holds;
//! 1 when a property fails (also when found by a search that was cut short: a
//! violation is real however little was explored); 2 for a usage error; 3 when the
//! search was cut short (state or time limit, memory budget, Ctrl-C, depth bound,
//! random walks) and found no violation, which proves nothing. A scenario file exits
//! by its expectations, and 3 when they are met but the memory budget or Ctrl-C cut
//! the search short (no scenario asks for those).

use crate::cli::{CheckArgs, NetworkChoice, StrategyChoice};
use crate::error::usage;
use crate::resolve::{self, Setup, SetupFlags};
use crate::summary::{rate, thousands};
use anyhow::Context as _;
use indicatif::ProgressBar;
use reparti_check::memory::human_bytes;
use reparti_check::{
    BitstateConfig, CheckConfig, CheckError, CheckReport, MemoryBudget, NetworkKind, Progress, StopReason, Strategy,
};
use reparti_core::{Algorithm, AlgorithmVisitor};
use std::fmt::Write as _;
use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit status of a search cut short with no violation found: neither 0, which
/// would claim the properties hold, nor 1, which would claim one fails.
const INCOMPLETE: u8 = 3;

/// More nodes than the range the help recommends (3 to 6): the space may not fit, so
/// the memory budget is said before the search starts.
const LARGE: usize = 6;

/// Without a terminal (output piped, a CI log), a line on stderr this often instead of
/// the spinner, so a long search is never silent.
const PLAIN_PROGRESS_EVERY: f64 = 10.0;

struct Check<'a> {
    cfg: CheckConfig,
    compare: bool,
    bar: Option<&'a ProgressBar>,
    /// Print a plain progress line every [`PLAIN_PROGRESS_EVERY`] seconds (no terminal).
    plain_progress: bool,
    trace: Option<&'a mut dyn Write>,
    /// Whether the budget line was printed (at the start, or once the search grew).
    budget_said: &'a AtomicBool,
    /// The line said at the start for a large instance, once the model is accepted.
    large_line: Option<&'a str>,
    growing_line: &'a str,
}

impl AlgorithmVisitor for Check<'_> {
    type Output = anyhow::Result<CheckReport>;
    fn visit<A: Algorithm>(self) -> anyhow::Result<CheckReport> {
        let bar = self.bar;
        let budget = self.cfg.max_memory.unwrap_or(u64::MAX);
        let (said, line) = (self.budget_said, self.growing_line);
        let plain = self.plain_progress;
        // The next plain line is due at this many seconds (as f64 bits: the closure is shared by threads).
        let next_line = std::sync::atomic::AtomicU64::new(PLAIN_PROGRESS_EVERY.to_bits());
        let progress = move |p: &Progress| {
            let due = f64::from_bits(next_line.load(Ordering::Relaxed));
            if plain && p.seconds >= due {
                let next = (p.seconds / PLAIN_PROGRESS_EVERY).floor() * PLAIN_PROGRESS_EVERY + PLAIN_PROGRESS_EVERY;
                if next_line
                    .compare_exchange(due.to_bits(), next.to_bits(), Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    eprintln!(
                        "… {:.0} s: {} unique states, depth {}, {}states/s (Ctrl-C stops with a partial report)",
                        p.seconds,
                        thousands(p.unique),
                        p.depth,
                        rate(p.unique as f64 / p.seconds.max(1e-9))
                    );
                }
            }
            // A search that turns out large says its budget once, a quarter of the way.
            if p.memory_bytes >= budget / 4 && !said.swap(true, Ordering::Relaxed) {
                match bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
            if let Some(bar) = bar {
                bar.set_message(format!(
                    "{} states, {} unique, depth {}, {}states/s",
                    thousands(p.states),
                    thousands(p.unique),
                    p.depth,
                    rate(p.unique as f64 / p.seconds.max(1e-9))
                ));
            }
        };
        let refused = |e: CheckError| match e {
            CheckError::Trace(io) => anyhow::Error::new(io).context("cannot write the counterexample trace"),
            other => usage(other.to_string()),
        };
        // Said after the model is accepted, so that a refusal stays one line.
        if let Some(line) = self.large_line {
            reparti_check::validate::<A>(&self.cfg).map_err(refused)?;
            self.budget_said.store(true, Ordering::Relaxed);
            eprintln!("{line}");
        }
        reparti_check::check::<A>(&self.cfg, self.compare, &progress, self.trace).map_err(refused)
    }
}

/// The flags `check` shares with the other commands.
fn flags(args: &CheckArgs) -> SetupFlags<'_> {
    SetupFlags {
        topology: args.topology.as_deref(),
        ids: &args.ids,
        params: &args.param,
        file_params: Vec::new(),
        nodes: Some(args.nodes),
        seed: args.seed,
    }
}

/// The checker's own name for a channel model.
pub fn network_kind(choice: NetworkChoice) -> NetworkKind {
    match choice {
        NetworkChoice::Fifo => NetworkKind::Fifo,
        NetworkChoice::Unordered => NetworkKind::Unordered,
        NetworkChoice::Lossy => NetworkKind::Lossy,
        NetworkChoice::Duplicating => NetworkKind::Duplicating,
    }
}

/// The check configuration: the resolved setup and the checker's own flags.
fn config(args: &CheckArgs, setup: Setup) -> anyhow::Result<CheckConfig> {
    if args.threads == 0 {
        return Err(usage("--threads must be at least 1"));
    }
    let bitstate = bitstate_of(args, None)?;
    Ok(CheckConfig {
        nodes: setup.nodes,
        network: resolve::check_network(&setup.spec, args.network.map(network_kind)),
        topology: setup.topology,
        ids: setup.ids,
        seed: setup.seed,
        max_drops: args.max_drops,
        max_dups: args.max_dups,
        max_crashes: args.max_crashes,
        strategy: match args.strategy {
            StrategyChoice::Bfs => Strategy::Bfs,
            StrategyChoice::Dfs => Strategy::Dfs,
            StrategyChoice::Random => Strategy::Random { walks: args.walks, depth: args.depth },
        },
        threads: args.threads,
        max_depth: args.max_depth,
        max_states: args.max_states,
        max_seconds: args.max_seconds,
        max_memory: args.max_memory,
        interrupt: None,
        wide_fingerprints: args.wide,
        por: args.por,
        symmetry: args.symmetry,
        liveness: !args.no_liveness,
        liveness_limit: args.liveness_limit,
        params: setup.params,
        bitstate,
        search_seed: args.search_seed,
    })
}

/// The bitstate search `--bitstate`, `--hash-functions` and `--hash-seed` ask for, over
/// `from_file` (a scenario's): a flag given wins, the rest is the file's.
pub fn bitstate_of(args: &CheckArgs, from_file: Option<BitstateConfig>) -> anyhow::Result<Option<BitstateConfig>> {
    if !(1..=16).contains(&args.hash_functions) {
        return Err(usage(format!(
            "--hash-functions {} is out of range; give 1 to 16 bits per state (3 is SPIN's default)",
            args.hash_functions
        )));
    }
    let Some(bytes) = args.bitstate.or(from_file.map(|b| b.bytes)) else {
        if args.hash_seed != 0 || args.hash_functions != 3 {
            return Err(usage("--hash-seed and --hash-functions shape a bitstate search; add --bitstate SIZE"));
        }
        return Ok(None);
    };
    let base = from_file.unwrap_or(BitstateConfig::new(bytes));
    Ok(Some(BitstateConfig {
        bytes,
        hash_functions: if args.hash_functions != 3 { args.hash_functions } else { base.hash_functions },
        hash_seed: if args.hash_seed != 0 { args.hash_seed } else { base.hash_seed },
    }))
}

/// The one line that says the memory budget and where it comes from.
fn budget_line(budget: &MemoryBudget, nodes: usize, large: bool) -> String {
    let what =
        if large { format!("{nodes} nodes is a large instance") } else { "the search is growing large".to_string() };
    format!(
        "note: {what}; the check stops with a partial report when its visited set and frontier reach the memory budget of {budget}"
    )
}

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    if reparti_algos::is_guarded(&args.algorithm) {
        return crate::stabilize::check(args);
    }
    if args.daemon.any() {
        return Err(usage(format!(
            "--daemon and --choice are for self-stabilizing algorithms ({}), not {}",
            crate::sim::guarded_names(),
            args.algorithm
        )));
    }
    // A scenario file in place of the algorithm: its [check] table gives the configuration.
    let scenario = crate::scenario::for_check(args)?;
    let (name, mut cfg) = match &scenario {
        Some(s) => (s.algorithm.as_str(), s.config.clone()),
        None => {
            let setup = Setup::resolve(&args.algorithm, flags(args))?;
            let cfg = config(args, setup.clone())?;
            let fifo = cfg.network == NetworkKind::Fifo;
            let choice = format!("--network {}", cfg.network);
            if let Some(note) = resolve::fifo_note(&setup.spec, fifo, &choice) {
                eprintln!("{note}");
            }
            (setup.spec.name, cfg)
        }
    };
    // Resolved here rather than in the checker, so that the line below and the report
    // show the same budget.
    let budget = MemoryBudget::resolve(args.max_memory.or(cfg.max_memory));
    cfg.max_memory = Some(budget.bytes);
    // Before anything is said: a test (or a person) that sees the first line may press Ctrl-C.
    cfg.interrupt = crate::interrupt::catch(
        "interrupted: finishing the partial report (press Ctrl-C again to quit at once)",
        "Ctrl-C will stop the check without a report",
    );
    let nodes = cfg.nodes.unwrap_or(4);
    let large = (nodes > LARGE).then(|| budget_line(&budget, nodes, true));
    let growing = budget_line(&budget, nodes, false);
    let budget_said = AtomicBool::new(false);
    let terminal = std::io::stderr().is_terminal();
    let bar = (!args.no_progress && terminal).then(crate::progress::spinner);
    // --viz draws the counterexample from its trace: through --trace, or a scratch file.
    if let Some(picture) = &args.viz {
        reparti_viz::Format::from_path(picture).map_err(|e| usage(format!("--viz {e}")))?;
    }
    let scratch =
        ((args.viz.is_some() || args.history.is_some()) && args.trace_out.is_none()).then(crate::viz::scratch_trace);
    let trace_path = args.trace_out.clone().or_else(|| scratch.clone());
    let mut file = match &trace_path {
        Some(p) => Some(BufWriter::new(std::fs::File::create(p).with_context(|| {
            format!("cannot create the trace file {} (check the folder exists and is writable)", p.display())
        })?)),
        None => None,
    };
    let trace = file.as_mut().map(|f| f as &mut dyn Write);
    let check = Check {
        cfg,
        compare: args.compare_reductions,
        bar: bar.as_ref(),
        plain_progress: !args.no_progress && !terminal,
        trace,
        budget_said: &budget_said,
        large_line: large.as_deref(),
        growing_line: &growing,
    };
    let report =
        reparti_algos::visit(name, check).unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))?;
    if let Some(f) = file.as_mut() {
        f.flush().context("cannot write the counterexample trace")?;
    }
    drop(file);
    let drawn = match (&args.viz, &trace_path, &report.counterexample) {
        (Some(picture), Some(trace), Some(_)) => Some(crate::viz::draw(trace, picture)),
        (Some(_), _, None) => {
            eprintln!("note: no counterexample, so nothing to draw (--viz draws the run that breaks a property)");
            None
        }
        _ => None,
    };
    let history = match (&args.history, &trace_path, &report.counterexample) {
        (Some(history), Some(trace), Some(_)) => Some(crate::history_file::write_from_file(trace, history)),
        (Some(_), _, None) => {
            eprintln!(
                "note: no counterexample, so no history to write (--history writes the run that breaks a property)"
            );
            None
        }
        _ => None,
    };
    if let Some(p) = &scratch {
        let _ = std::fs::remove_file(p);
    }
    history.transpose()?;
    if let Some(drawn) = drawn {
        drawn?;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.json {
        match &scenario {
            Some(s) => s.print_json(&report)?,
            None => println!("{}", serde_json::to_string_pretty(&report)?),
        }
    } else {
        print!("{}", render(&report));
        if let (Some(p), Some(_)) = (&args.trace_out, &report.counterexample) {
            println!("counterexample trace written to {} (replay: reparti sim --replay {})", p.display(), p.display());
        }
        if let Some(s) = &scenario {
            print!("{}", s.render(&report));
        }
    }
    let cut_short = report.cut_short.is_some();
    Ok(match &scenario {
        // The scenario's expectations judge its own limits (`complete = false`, say);
        // the memory budget and Ctrl-C are no part of any scenario.
        Some(s) => {
            let code = s.exit_code(&report);
            let outside = cut_short && matches!(report.stop, StopReason::Memory | StopReason::Interrupted);
            if outside && code == ExitCode::SUCCESS {
                ExitCode::from(INCOMPLETE)
            } else {
                code
            }
        }
        None if !report.all_good() => ExitCode::from(1),
        None if cut_short => ExitCode::from(INCOMPLETE),
        None => ExitCode::SUCCESS,
    })
}

fn mark(h: Option<bool>) -> &'static str {
    match h {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "–",
    }
}

fn render(r: &CheckReport) -> String {
    let mut o = String::new();
    let faults: Vec<String> = r.faults.iter().filter(|(_, v)| **v > 0).map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(
        o,
        "{} on a {} · ids {:?} · {} network{} · {} search, {}",
        r.algorithm,
        crate::summary::topology_of(&r.topology, r.nodes),
        r.idents,
        r.network,
        if faults.is_empty() { String::new() } else { format!(" ({})", faults.join(", ")) },
        r.strategy,
        crate::summary::count(r.threads as u64, "thread", "threads")
    );
    let status = match (&r.cut_short, r.stop) {
        (Some(why), _) if !r.complete => format!("cut short ({why})"),
        (_, StopReason::Violation) => "stopped at the first violation".to_string(),
        _ => "the whole reachable space".to_string(),
    };
    let _ = writeln!(
        o,
        "explored {} unique states ({} generated), max depth {}: {status}",
        thousands(r.unique_states),
        thousands(r.states),
        r.max_depth
    );
    let _ = writeln!(
        o,
        "{:.3} s, {}states/s, {:.1} bytes/state in the visited set, {}-bit fingerprints (collision probability ≤ {:.1e})",
        r.seconds,
        rate(r.states_per_sec),
        r.bytes_per_state,
        r.fingerprint_bits,
        r.collision_probability
    );
    if let Some(b) = &r.bitstate {
        let _ = writeln!(
            o,
            "bitstate: {} of bits, {} per state, hash seed {}: hash factor {:.1}, {:.1} % of the bits set, estimated coverage {:.4} % of the states reached",
            human_bytes(b.bytes),
            b.hash_functions,
            b.hash_seed,
            b.hash_factor,
            b.fill * 100.0,
            b.estimated_coverage * 100.0
        );
    }
    let _ = writeln!(
        o,
        "memory: at most {} stored by the search (visited set, frontier or stack), of a budget of {}",
        human_bytes(r.memory_peak_bytes),
        human_bytes(r.memory_budget_bytes)
    );
    let _ = writeln!(o, "\nproperties");
    let width = r.properties.iter().map(|p| p.name.chars().count()).max().unwrap_or(0);
    for p in &r.properties {
        let pad = " ".repeat(width - p.name.chars().count());
        let _ = writeln!(o, "  {} {}{pad}  ({}: {})", mark(p.holds), p.name, p.kind, p.note);
    }
    let por = &r.partial_order_reduction;
    let _ = write!(o, "\npartial-order reduction: {}", por.note);
    if let Some(u) = por.unreduced_states {
        let _ = write!(
            o,
            " — {} states without it, {} with it ({:.1}× fewer)",
            thousands(u),
            thousands(r.unique_states),
            u as f64 / r.unique_states.max(1) as f64
        );
    }
    let sym = &r.symmetry_reduction;
    let _ = write!(o, "\nsymmetry reduction: {}", sym.note);
    if let Some(u) = sym.unreduced_states {
        let _ = write!(
            o,
            " — {} states without it ({:.1}× fewer with it)",
            thousands(u),
            u as f64 / r.unique_states.max(1) as f64
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "clocks: {}", r.clocks);
    if let Some(cx) = &r.counterexample {
        let _ = writeln!(o, "\ncounterexample: {} — {}", cx.property, cx.detail);
        let _ = writeln!(o, "  after start:");
        for s in &cx.initial {
            let _ = writeln!(o, "    {s}");
        }
        let _ = writeln!(
            o,
            "    in flight: {}",
            if cx.initial_in_flight.is_empty() { "nothing".into() } else { cx.initial_in_flight.join(", ") }
        );
        for s in &cx.steps {
            let _ = writeln!(o, "  {}. {}", s.step, s.action);
            if let Some(change) = &s.change {
                let _ = writeln!(o, "       node {}: {change}", s.node);
            }
            if !s.sent.is_empty() {
                let _ = writeln!(o, "       sends {}", s.sent.join(", "));
            }
            if !s.outputs.is_empty() {
                let _ = writeln!(o, "       outputs {}", s.outputs.join(", "));
            }
            let _ = writeln!(
                o,
                "       in flight: {}",
                if s.in_flight.is_empty() { "nothing".into() } else { s.in_flight.join(", ") }
            );
        }
    }
    let _ = writeln!(o, "\nverdict: {}", verdict(r));
    o
}

/// The last line: what was established, or that nothing was and why.
fn verdict(r: &CheckReport) -> String {
    if !r.all_good() {
        return "SOMETHING FAILED (see ✗ above)".into();
    }
    if let Some(why) = &r.cut_short {
        let fix = match r.stop {
            StopReason::MaxStates => "raise --max-states",
            StopReason::Time => "raise --max-seconds",
            StopReason::Memory => "raise --max-memory, or try fewer nodes, --por or --symmetry",
            StopReason::Depth => "raise --max-depth",
            StopReason::Walks => "use --strategy bfs or dfs to explore every state",
            StopReason::Bitstate => {
                "a larger --bitstate, other --hash-seed values (reparti swarm), or the exact table without --bitstate"
            }
            _ => "let it run to the end",
        };
        return format!(
            "no violation found in {} states — the search was cut short (reason: {why}), so no property is established ({fix})",
            thousands(r.unique_states)
        );
    }
    if r.properties.iter().all(|p| p.holds == Some(true)) {
        "all properties hold".into()
    } else {
        "every property checked holds (– marks one not checked: see why beside it)".into()
    }
}
