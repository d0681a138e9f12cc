//! `reparti run FILE.toml`: a scenario's experiment on real processes, judged by the
//! scenario's expectations exactly as `reparti sim FILE.toml` judges a simulation.
//!
//! What a scenario says of the algorithm, its parameters, the topology, identities,
//! seed and node count carries over unchanged; the network's loss and duplication
//! become faults injected into the transport, with the reliable layer off (the
//! algorithm is to face them, as in the simulation). What only a simulator can do is refused
//! with a line saying so: scheduled crashes and partitions, delays of given channels,
//! synchronous rounds, and inputs at given times (real nodes draw their workload from
//! the seed). Simulated delays have no meaning on a real network and are ignored.

use super::args::RunArgs;
use super::execute::execute;
use crate::error::usage;
use crate::scenario::{expect, plan, Scenario};
use reparti_core::IdAssignment;
use std::path::Path;
use std::process::ExitCode;
use toml::Spanned;

pub fn run(path: &Path, args: &RunArgs) -> anyhow::Result<ExitCode> {
    if args.topology.is_some() || !args.param.is_empty() || args.ids != "random" {
        return Err(usage(
            "--topology, --ids and --param cannot be combined with a scenario file: set them in the scenario instead (docs/SCENARIOS.md)",
        ));
    }
    let s = Scenario::load(path)?;
    let nodes = match args.nodes {
        Some(0) => return Err(usage("--nodes must be at least 1")),
        Some(n) => Some(Spanned::new(s.file.algorithm.span(), n)),
        None => None,
    };
    let plan = plan::sim_plan(&s.file, nodes).map_err(|e| s.error(&e))?;
    let cfg = &plan.config;
    let simulated_only = [
        (!cfg.faults.is_empty(), "scheduled faults ([faults]: crashes, partitions, delayed channels)"),
        (!cfg.inputs.is_empty(), "inputs at given times ([workload] inputs)"),
        (cfg.network.sync, "synchronous rounds"),
    ];
    if let Some((_, what)) = simulated_only.iter().find(|(on, _)| *on) {
        return Err(usage(format!(
            "{}: {what} can only be simulated; use `reparti sim {}`, or remove them for a real run",
            s.path, s.path
        )));
    }
    let mut real = RunArgs {
        algorithm: plan.algorithm.clone(),
        nodes: cfg.nodes,
        topology: cfg.topology.as_ref().map(ToString::to_string),
        ids: ids_text(&cfg.ids),
        seed: cfg.seed,
        param: cfg.params.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        ..args.clone()
    };
    // A scenario's lossy or duplicating network is what the algorithm must face: the
    // faults go into the transport, with no reliable layer to hide them.
    if cfg.network.loss > 0.0 || cfg.network.dup > 0.0 {
        real.link.loss = cfg.network.loss;
        real.link.dup = cfg.network.dup;
        real.link.reliable = "off".into();
    }
    let outcome = execute(&real)?;
    let outcomes = expect::judge_sim(&plan.expect, outcome.report());
    if args.json {
        let out = serde_json::json!({
            "run": outcome.json(),
            "scenario": s.path,
            "expectations": outcomes,
            "expectations_met": expect::all_met(&outcomes),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", outcome.render());
        print!("{}", expect::render(&s.path, s.file.description.as_deref(), &outcomes, &[]));
    }
    Ok(if expect::all_met(&outcomes) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// An identity assignment as `--ids` writes it.
fn ids_text(ids: &IdAssignment) -> String {
    match ids {
        IdAssignment::List(list) => list.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}
