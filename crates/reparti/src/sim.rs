//! `reparti sim`: one simulated run (or many, with `--runs`).

use crate::cli::{SimArgs, VectorChoice};
use crate::error::usage;
use crate::resolve::{self, Setup, SetupFlags, Subject};
use crate::simulate::memory::Room;
use crate::simulate::simulate_and_draw;
use crate::summary;
use reparti_sim::{Delay, Fault, NetworkModel, SimConfig, Stop, VectorClocks};
use std::io::IsTerminal;
use std::process::ExitCode;

pub fn run(args: &SimArgs) -> anyhow::Result<ExitCode> {
    let subject = args.algorithm.as_deref().map(resolve::subject);
    // A scenario file in place of the algorithm: it describes the whole run.
    if let Some(Subject::Scenario(path)) = &subject {
        return crate::scenario::run_sim(path, args);
    }
    if let Some(path) = &args.replay {
        return crate::replay::run(path, args.json);
    }
    let Some(Subject::Algorithm(name)) = subject else {
        return Err(usage("name an algorithm (see `reparti list`) or give --replay TRACE"));
    };
    if reparti_algos::is_guarded(name) {
        return crate::stabilize::sim(name, args);
    }
    if args.stab.any() {
        return Err(usage(format!(
            "--daemon, --choice, --start and --corrupt are for self-stabilizing algorithms ({}), not {name}",
            guarded_names()
        )));
    }
    let setup = Setup::resolve(name, flags(args))?;
    let cfg = config(args, &setup)?;
    if let Some(note) = resolve::fifo_note(&setup.spec, cfg.network.fifo, "--no-fifo") {
        eprintln!("{note}");
    }
    // A run that never quiesces (a token that circulates for ever) ends at Ctrl-C with
    // its report and its trace so far, and many runs with the figures of those done.
    let _ = crate::interrupt::catch(
        "interrupted: finishing the report of what ran so far (press Ctrl-C again to quit at once)",
        "Ctrl-C will stop the run without a report",
    );
    crate::viz::check_skew_plot(args.plot.as_deref(), setup.spec.reads_physical_clock, name, args.runs)?;
    if args.runs > 1 {
        return crate::runs::run_many(args, name, &cfg);
    }
    let progress = !args.no_progress && std::io::stderr().is_terminal();
    let room = Room::resolve(args.max_memory);
    let report = crate::history_file::with_history(args.trace.clone(), args.history.as_deref(), |trace| {
        crate::viz::with_skew_plot(trace, args.plot.as_deref(), |trace| {
            simulate_and_draw(name, cfg, trace, args.viz.as_deref(), progress, room)
        })
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", summary::render(&report));
        if let Some(path) = &args.trace {
            println!("trace written to {}", path.display());
        }
    }
    Ok(if report.stop == Stop::Interrupted {
        ExitCode::from(crate::interrupt::INTERRUPTED_STATUS)
    } else if report.all_good() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The flags `sim` shares with the other commands.
fn flags(args: &SimArgs) -> SetupFlags<'_> {
    SetupFlags {
        topology: args.topology.as_deref(),
        ids: &args.ids,
        params: &args.param,
        file_params: Vec::new(),
        nodes: args.nodes,
        seed: args.seed,
    }
}

/// The simulation configuration: the resolved setup and the simulator's own flags,
/// refusing malformed ones.
fn config(args: &SimArgs, setup: &Setup) -> anyhow::Result<SimConfig> {
    let delay: Delay = args.delay.parse().map_err(|e: reparti_sim::network::NetworkError| usage(e.to_string()))?;
    let mut faults = Vec::new();
    for c in &args.crash {
        faults.push(Fault::parse_crash(c).map_err(|e| usage(e.to_string()))?);
    }
    for p in &args.partition {
        faults.push(Fault::parse_partition(p).map_err(|e| usage(e.to_string()))?);
    }
    for l in &args.link_delay {
        faults.push(Fault::parse_link_delay(l).map_err(|e| usage(e.to_string()))?);
    }
    crate::clock_flags::refuse_unread(&args.clocks, setup.spec.reads_physical_clock, setup.spec.name)?;
    Ok(SimConfig {
        nodes: setup.nodes,
        topology: setup.topology.clone(),
        ids: setup.ids.clone(),
        seed: setup.seed,
        network: NetworkModel { fifo: !args.no_fifo, delay, loss: args.loss, dup: args.dup, sync: args.sync },
        faults,
        params: setup.params.clone(),
        max_events: args.max_events,
        max_time: args.max_time,
        vector_clocks: match args.vector_clocks {
            VectorChoice::Auto => VectorClocks::Auto,
            VectorChoice::On => VectorClocks::On,
            VectorChoice::Off => VectorClocks::Off,
        },
        stop_at_violation: !args.keep_going,
        inputs: Vec::new(),
        no_workload: false,
        ports: Vec::new(),
        clocks: args.clocks.config()?,
    })
}

/// The self-stabilizing algorithms' names, for the line that refuses their flags.
pub fn guarded_names() -> String {
    let names: Vec<&str> = reparti_algos::names().into_iter().filter(|n| reparti_algos::is_guarded(n)).collect();
    names.join(", ")
}
