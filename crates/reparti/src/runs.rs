//! `reparti sim --runs K`: K seeds in parallel, min/mean/max of every figure.

use crate::cli::SimArgs;
use crate::error::usage;
use crate::simulate::simulate;
use crate::summary::thousands;
use rayon::prelude::*;
use reparti_sim::{Report, SimConfig};
use serde::Serialize;
use std::collections::BTreeMap;
use std::process::ExitCode;

#[derive(Serialize, Default, Clone, Copy)]
struct Spread {
    min: f64,
    mean: f64,
    max: f64,
}

#[derive(Serialize, Default)]
struct Tally {
    held: u64,
    failed: u64,
    unchecked: u64,
}

#[derive(Serialize)]
struct Summary<'a> {
    algorithm: &'a str,
    runs: u64,
    seeds: [u64; 2],
    figures: BTreeMap<String, Spread>,
    properties: BTreeMap<String, Tally>,
    expected: BTreeMap<String, Tally>,
    reports: &'a [Report],
}

fn spread(values: &[f64]) -> Spread {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Spread { min, mean: values.iter().sum::<f64>() / values.len().max(1) as f64, max }
}

fn tally(t: &mut Tally, holds: Option<bool>) {
    match holds {
        Some(true) => t.held += 1,
        Some(false) => t.failed += 1,
        None => t.unchecked += 1,
    }
}

pub fn run_many(args: &SimArgs, name: &str, cfg: &SimConfig) -> anyhow::Result<ExitCode> {
    if args.trace.is_some() {
        return Err(usage("--trace writes one run's trace; drop --runs or --trace"));
    }
    let seeds: Vec<u64> = (0..args.runs).map(|k| cfg.seed.wrapping_add(k)).collect();
    let reports = seeds
        .par_iter()
        .map(|&seed| simulate(name, SimConfig { seed, ..cfg.clone() }, None, false))
        .collect::<anyhow::Result<Vec<Report>>>()?;

    let mut columns: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut put = |k: &str, v: f64| columns.entry(k.to_string()).or_default().push(v);
    for r in &reports {
        put("messages", r.messages.total as f64);
        for (k, v) in &r.messages.by_type {
            put(&format!("messages.{k}"), *v as f64);
        }
        put("events", r.events as f64);
        put("time", r.time);
        put("longest_causal_chain", r.longest_causal_chain as f64);
        if let Some(x) = r.rounds {
            put("rounds", x as f64);
        }
        put("events_per_sec", r.events_per_sec);
    }
    let figures: BTreeMap<String, Spread> = columns.iter().map(|(k, v)| (k.clone(), spread(v))).collect();
    let mut properties: BTreeMap<String, Tally> = BTreeMap::new();
    let mut expected: BTreeMap<String, Tally> = BTreeMap::new();
    for r in &reports {
        for p in &r.properties {
            tally(properties.entry(p.name.clone()).or_default(), p.holds);
        }
        for (k, e) in &r.expected {
            tally(expected.entry(format!("{k}: {}", e.expectation.formula)).or_default(), e.holds);
        }
    }
    let all_good = reports.iter().all(Report::all_good);
    let summary = Summary {
        algorithm: name,
        runs: args.runs,
        seeds: [seeds[0], *seeds.last().unwrap_or(&seeds[0])],
        figures,
        properties,
        expected,
        reports: &reports,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        let first = &reports[0];
        println!(
            "{} on a {} of {} nodes · {} runs, seeds {}..={}",
            name,
            first.topology,
            thousands(first.nodes as u64),
            args.runs,
            summary.seeds[0],
            summary.seeds[1]
        );
        println!("\n  {:<28} {:>14} {:>14} {:>14}", "figure", "min", "mean", "max");
        for (k, s) in &summary.figures {
            println!("  {k:<28} {:>14.1} {:>14.1} {:>14.1}", s.min, s.mean, s.max);
        }
        println!("\n  {:<48} {:>6} {:>6} {:>9}", "property / expected count", "held", "failed", "unchecked");
        for (k, t) in summary.properties.iter().chain(&summary.expected) {
            println!("  {k:<48} {:>6} {:>6} {:>9}", t.held, t.failed, t.unchecked);
        }
        println!(
            "\nverdict: {}",
            if all_good { "all properties hold in every run" } else { "SOMETHING FAILED in some run" }
        );
    }
    Ok(if all_good { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
