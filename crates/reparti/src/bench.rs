//! `reparti bench`: the simulator's speed and memory on Chang–Roberts over huge rings.
//!
//! Each size runs in a fresh child process, so that the peak resident memory it reports
//! belongs to that size alone.

use crate::cli::BenchArgs;
use crate::error::usage;
use crate::measure::{measure_in_child, proc_status};
use crate::simulate::simulate;
use crate::summary::{rate, thousands};
use reparti_core::{IdAssignment, TopologyKind};
use reparti_sim::{NetworkModel, SimConfig};
use serde::{Deserialize, Serialize};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Serialize, Deserialize)]
struct Measure {
    nodes: usize,
    delay: String,
    deliveries: u64,
    events: u64,
    run_seconds: f64,
    setup_and_run_seconds: f64,
    deliveries_per_sec: f64,
    events_per_sec: f64,
    baseline_rss_bytes: u64,
    peak_rss_bytes: u64,
    bytes_per_node: f64,
    all_properties_hold: bool,
    /// The plain Python heapq simulator's run of the same size (`--compare-python`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    python: Option<PythonSide>,
}

/// The Python side of one size, and how many times faster reparti was.
#[derive(Serialize, Deserialize)]
struct PythonSide {
    deliveries: u64,
    seconds: f64,
    deliveries_per_sec: f64,
    peak_rss_bytes: u64,
    reparti_speedup: f64,
}

fn measure_one(n: usize, args: &BenchArgs) -> anyhow::Result<Measure> {
    let delay = args.delay.parse().map_err(|e: reparti_sim::network::NetworkError| usage(e.to_string()))?;
    let cfg = SimConfig {
        nodes: Some(n),
        topology: Some(TopologyKind::Ring),
        ids: IdAssignment::Random,
        seed: args.seed,
        network: NetworkModel { delay, fifo: !args.no_fifo, ..NetworkModel::default() },
        ..SimConfig::default()
    };
    let baseline = proc_status("VmRSS:");
    let started = Instant::now();
    let r = simulate("chang-roberts", cfg, None, false)?;
    let total = started.elapsed().as_secs_f64();
    let peak = proc_status("VmHWM:");
    Ok(Measure {
        nodes: n,
        delay: args.delay.clone(),
        deliveries: r.messages.delivered,
        events: r.events,
        run_seconds: r.wall_seconds,
        setup_and_run_seconds: total,
        deliveries_per_sec: r.messages.delivered as f64 / r.wall_seconds.max(1e-9),
        events_per_sec: r.events_per_sec,
        baseline_rss_bytes: baseline,
        peak_rss_bytes: peak,
        bytes_per_node: peak.saturating_sub(baseline) as f64 / n as f64,
        all_properties_hold: r.all_good(),
        python: None,
    })
}

pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    if args.net {
        return crate::bench_net::run(&crate::bench_net::NetBench {
            repeat: args.repeat,
            hops: args.hops,
            seconds: args.seconds,
            c_source: "bench/c_ring.c".into(),
            python_ring: "bench/python_ring.py".into(),
            json: args.json,
        });
    }
    if let Some(path) = &args.one_lin {
        return crate::bench_lin::measure_one(path);
    }
    if args.lin {
        return crate::bench_lin::run(args);
    }
    if args.checker || args.one_check.is_some() {
        return crate::bench_check::run(args);
    }
    if let Some(n) = args.one {
        println!("{}", serde_json::to_string(&measure_one(n, args)?)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut results = Vec::new();
    let python = args.compare_python.then(crate::bench_python::unavailable);
    if let Some(Some(why)) = &python {
        eprintln!("{why}");
    }
    let channels = if args.no_fifo { " non-FIFO" } else { "" };
    for &n in &args.nodes {
        let (size, seed) = (n.to_string(), args.seed.to_string());
        let mut child = vec!["bench", "--one", &size, "--delay", &args.delay, "--seed", &seed];
        if args.no_fifo {
            child.push("--no-fifo");
        }
        let mut m: Measure = measure_in_child(&child, &format!("{n} nodes"))?;
        if !args.json {
            println!(
                "chang-roberts, ring of {:>9} nodes, random ids, delay {}{channels}: {:>11} deliveries in {:.3} s = {}deliveries/s; peak RSS {:.1} MB = {:.0} bytes/node; properties {}",
                thousands(n as u64),
                m.delay,
                thousands(m.deliveries),
                m.run_seconds,
                rate(m.deliveries_per_sec),
                m.peak_rss_bytes as f64 / 1e6,
                m.bytes_per_node,
                if m.all_properties_hold { "hold" } else { "FAILED" }
            );
        }
        if let Some(None) = python {
            let p = crate::bench_python::measure(n, &args.delay, !args.no_fifo, args.seed)?;
            let speedup = m.deliveries_per_sec / p.deliveries_per_sec.max(1e-9);
            if !args.json {
                println!(
                    "python heapq,  ring of {:>9} nodes, random ids, delay {}{channels}: {:>11} deliveries in {:.3} s = {}deliveries/s; peak RSS {:.1} MB; reparti runs at {speedup:.1}× its rate",
                    thousands(n as u64),
                    m.delay,
                    thousands(p.deliveries),
                    p.seconds,
                    rate(p.deliveries_per_sec),
                    p.peak_rss_bytes as f64 / 1e6,
                );
            }
            m.python = Some(PythonSide {
                deliveries: p.deliveries,
                seconds: p.seconds,
                deliveries_per_sec: p.deliveries_per_sec,
                peak_rss_bytes: p.peak_rss_bytes,
                reparti_speedup: speedup,
            });
        }
        results.push(m);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    Ok(ExitCode::SUCCESS)
}
