//! `reparti bench --checker`: the model checker's speed and memory.
//!
//! Each case runs in a fresh child process, so that the peak resident memory reported
//! is that case's alone.

use crate::cli::BenchArgs;
use crate::measure::{measure_in_child, proc_status};
use crate::summary::{rate, thousands};
use anyhow::Context as _;
use reparti_check::{CheckConfig, CheckReport, NetworkKind};
use reparti_core::{Algorithm, AlgorithmVisitor, IdAssignment};
use serde::{Deserialize, Serialize};
use std::process::ExitCode;

/// One measured case: (algorithm, nodes, parameters).
type Case = (&'static str, usize, &'static [(&'static str, &'static str)]);

/// The measured cases.
const CASES: &[Case] =
    &[("chang-roberts", 8, &[]), ("chang-roberts", 9, &[]), ("ricart-agrawala", 3, &[("requests", "2")])];

#[derive(Serialize, Deserialize)]
struct Measure {
    algorithm: String,
    nodes: usize,
    threads: usize,
    unique_states: u64,
    states: u64,
    seconds: f64,
    states_per_sec: f64,
    bytes_per_state: f64,
    frontier_peak_bytes: usize,
    peak_rss_bytes: u64,
    complete: bool,
    all_properties_hold: bool,
}

struct Run(CheckConfig);

impl AlgorithmVisitor for Run {
    type Output = anyhow::Result<CheckReport>;
    fn visit<A: Algorithm>(self) -> anyhow::Result<CheckReport> {
        reparti_check::check::<A>(&self.0, false, &|_| {}, None).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

fn measure_one(spec: &str) -> anyhow::Result<Measure> {
    let parts: Vec<&str> = spec.split(':').collect();
    let [name, nodes, threads] = parts.as_slice() else { anyhow::bail!("expected ALGORITHM:NODES:THREADS") };
    let (nodes, threads): (usize, usize) = (nodes.parse()?, threads.parse()?);
    let params = CASES
        .iter()
        .find(|(n, k, _)| n == name && *k == nodes)
        .map(|(_, _, p)| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .unwrap_or_default();
    let cfg = CheckConfig {
        nodes: Some(nodes),
        ids: IdAssignment::Desc,
        network: NetworkKind::Unordered,
        threads,
        liveness: false,
        params,
        ..CheckConfig::default()
    };
    let r = reparti_algos::visit(name, Run(cfg)).context("unknown algorithm")??;
    Ok(Measure {
        algorithm: name.to_string(),
        nodes,
        threads,
        unique_states: r.unique_states,
        states: r.states,
        seconds: r.seconds,
        states_per_sec: r.states_per_sec,
        bytes_per_state: r.bytes_per_state,
        frontier_peak_bytes: r.frontier_peak_bytes,
        peak_rss_bytes: proc_status("VmHWM:"),
        complete: r.complete,
        all_properties_hold: r.all_good(),
    })
}

pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(spec) = &args.one_check {
        println!("{}", serde_json::to_string(&measure_one(spec)?)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut results = Vec::new();
    eprintln!(
        "bench --checker: {} models, each on 1 and 2 threads in its own process; about a minute in a release build, \
         far longer in a debug one (a line per measurement follows)",
        CASES.len()
    );
    for (name, nodes, _) in CASES {
        for threads in [1, 2] {
            if args.json {
                eprintln!("… {name} n={nodes}, {}", crate::summary::count(threads, "thread", "threads"));
            }
            let m: Measure = measure_in_child(
                &["bench", "--one-check", &format!("{name}:{nodes}:{threads}")],
                &format!("{name} n={nodes}"),
            )?;
            if !args.json {
                println!(
                    "{name:<16} n={nodes} unordered, {threads} thread{}: {:>11} unique states ({:>11} generated) in {:>7.3} s = {}states/s; {:.1} bytes/state visited; frontier peak {:.1} MB; peak RSS {:.1} MB; {}",
                    if threads == 1 { "" } else { "s" },
                    thousands(m.unique_states),
                    thousands(m.states),
                    m.seconds,
                    rate(m.states_per_sec),
                    m.bytes_per_state,
                    m.frontier_peak_bytes as f64 / 1e6,
                    m.peak_rss_bytes as f64 / 1e6,
                    if m.complete && m.all_properties_hold { "complete, all properties hold" } else { "INCOMPLETE OR FAILED" }
                );
            }
            results.push(m);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    Ok(ExitCode::SUCCESS)
}
