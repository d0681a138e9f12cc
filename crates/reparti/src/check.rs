//! `reparti check`: the model checker from the command line.

use crate::cli::{CheckArgs, NetworkChoice, StrategyChoice};
use crate::error::usage;
use crate::resolve::{self, Setup, SetupFlags};
use crate::summary::{rate, thousands};
use anyhow::Context as _;
use indicatif::ProgressBar;
use reparti_check::{CheckConfig, CheckError, CheckReport, NetworkKind, Progress, Strategy};
use reparti_core::{Algorithm, AlgorithmVisitor};
use std::fmt::Write as _;
use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;

struct Check<'a> {
    cfg: CheckConfig,
    compare: bool,
    bar: Option<&'a ProgressBar>,
    trace: Option<&'a mut dyn Write>,
}

impl AlgorithmVisitor for Check<'_> {
    type Output = anyhow::Result<CheckReport>;
    fn visit<A: Algorithm>(self) -> anyhow::Result<CheckReport> {
        let bar = self.bar;
        let progress = move |p: &Progress| {
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
        reparti_check::check::<A>(&self.cfg, self.compare, &progress, self.trace).map_err(|e| match e {
            CheckError::Trace(io) => anyhow::Error::new(io).context("cannot write the counterexample trace"),
            other => usage(other.to_string()),
        })
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
        wide_fingerprints: args.wide,
        por: args.por,
        symmetry: args.symmetry,
        liveness: !args.no_liveness,
        liveness_limit: args.liveness_limit,
        params: setup.params,
    })
}

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    // A scenario file in place of the algorithm: its [check] table gives the configuration.
    let scenario = crate::scenario::for_check(args)?;
    let (name, cfg) = match &scenario {
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
    let bar = (!args.no_progress && std::io::stderr().is_terminal()).then(crate::progress::spinner);
    // --viz draws the counterexample from its trace: through --trace-out, or a scratch file.
    if let Some(picture) = &args.viz {
        reparti_viz::Format::from_path(picture).map_err(|e| usage(format!("--viz {e}")))?;
    }
    let scratch = (args.viz.is_some() && args.trace_out.is_none()).then(crate::viz::scratch_trace);
    let trace_path = args.trace_out.clone().or_else(|| scratch.clone());
    let mut file = match &trace_path {
        Some(p) => Some(BufWriter::new(std::fs::File::create(p).with_context(|| {
            format!("cannot create the trace file {} (check the folder exists and is writable)", p.display())
        })?)),
        None => None,
    };
    let trace = file.as_mut().map(|f| f as &mut dyn Write);
    let report = reparti_algos::visit(name, Check { cfg, compare: args.compare_reductions, bar: bar.as_ref(), trace })
        .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))?;
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
    if let Some(p) = &scratch {
        let _ = std::fs::remove_file(p);
    }
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
    Ok(match &scenario {
        Some(s) => s.exit_code(&report),
        None if report.all_good() => ExitCode::SUCCESS,
        None => ExitCode::from(1),
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
        "{} on a {} of {} nodes · ids {:?} · {} network{} · {} search, {} thread(s)",
        r.algorithm,
        r.topology,
        r.nodes,
        r.idents,
        r.network,
        if faults.is_empty() { String::new() } else { format!(" ({})", faults.join(", ")) },
        r.strategy,
        r.threads
    );
    let status = if r.complete {
        "the whole reachable space".to_string()
    } else {
        format!("stopped: {:?}", r.stop).to_lowercase()
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
            if let Some((before, after)) = &s.change {
                let _ = writeln!(o, "       node {}: {before}\n            → {after}", s.node);
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
    let _ = writeln!(
        o,
        "\nverdict: {}",
        if r.all_good() { "all properties hold" } else { "SOMETHING FAILED (see ✗ above)" }
    );
    o
}
