//! What `reparti run` does around the processes: checks the flags before starting
//! anything, builds each node's command line, and afterwards merges the nodes' traces,
//! replays the merged trace through the simulator and reports.

use super::args::RunArgs;
use super::cluster::Finished;
use super::merge_traces::{merge_files, replay};
use super::trace_file::write_trace;
use crate::error::usage;
use crate::resolve::{Setup, SetupFlags};
use crate::summary;
use reparti_core::trace::Trace;
use reparti_net::transport::{Faults, TransportKind};
use reparti_net::wire::Wire;
use reparti_sim::Report;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A validated run: every flag checked, the node command line ready.
pub struct Job {
    algorithm: &'static str,
    /// The number of nodes.
    pub n: usize,
    transport: TransportKind,
    wire: Wire,
    reliable: bool,
    encrypted: bool,
    faults: Faults,
    /// The flags every node gets, after `node ALGO`.
    common: Vec<String>,
}

impl Job {
    pub fn from_args(args: &RunArgs) -> anyhow::Result<Job> {
        let setup = Setup::resolve(
            &args.algorithm,
            SetupFlags {
                topology: args.topology.as_deref(),
                ids: &args.ids,
                params: &args.param,
                file_params: Vec::new(),
                nodes: args.nodes,
                seed: args.seed,
            },
        )?;
        let n = setup.nodes.unwrap_or(setup.spec.default_nodes);
        // Before the instance is built: building a ring of 10^8 nodes is itself too big.
        super::limits::check_cluster_fits(n)?;
        if !(args.timeout > 0.0 && args.timeout.is_finite()) {
            return Err(usage(format!("--timeout {} must be a positive number of seconds", args.timeout)));
        }
        let transport: TransportKind = args.transport.parse().map_err(|e| usage(format!("--transport: {e}")))?;
        args.link.check()?;
        let wire = args.link.wire()?;
        let reliable = args.link.reliable()?;
        let faults = args.link.faults(args.seed)?;
        // The same instance the nodes will build: a bad topology or id list is reported
        // once, here, instead of by every node.
        let built = setup.build(n)?;
        if built.topology.len() != n {
            return Err(usage(format!(
                "the topology has {} nodes, not {n}: pass --nodes {}",
                built.topology.len(),
                built.topology.len()
            )));
        }

        let mut common = vec![
            "--nodes".to_string(),
            n.to_string(),
            "--ids".into(),
            args.ids.clone(),
            "--seed".into(),
            args.seed.to_string(),
            "--transport".into(),
            transport.to_string(),
            "--idle-ms".into(),
            args.idle_ms.to_string(),
        ];
        if let Some(t) = &args.topology {
            common.extend(["--topology".into(), t.clone()]);
        }
        for p in &args.param {
            common.extend(["--param".into(), p.clone()]);
        }
        common.extend(args.link.to_args());
        crate::clock_flags::refuse_unread(&args.clocks, setup.spec.reads_physical_clock, setup.spec.name)?;
        if setup.spec.reads_physical_clock {
            // Checked here once, rather than by every node.
            args.clocks.config()?.settings(n, args.seed).map_err(usage)?;
            common.extend(args.clocks.to_args());
            // One epoch for the whole run: every node measures real time from it.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64() * 1e3);
            common.push(format!("--clock-epoch={now}"));
        }
        let encrypted = args.link.key_file.is_some();
        Ok(Job { algorithm: setup.spec.name, n, transport, wire, reliable, encrypted, faults, common })
    }

    /// Node `i`'s arguments: supervised, on any free loopback port, tracing into `dir`.
    pub fn node_args(&self, i: usize, dir: &Path) -> Vec<String> {
        let mut a = vec!["node".to_string(), self.algorithm.to_string(), "--me".into(), i.to_string()];
        a.extend(["--listen".into(), "127.0.0.1:0".into(), "--supervised".into(), "--json".into()]);
        a.extend(["--trace".into(), trace_path(dir, i).display().to_string()]);
        a.extend(self.common.iter().cloned());
        a
    }
}

fn trace_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("node-{i}.jsonl"))
}

/// What only a real run shows, beside the simulator's report.
#[derive(Serialize)]
pub struct Real {
    processes: usize,
    transport: String,
    wire: String,
    encrypted: bool,
    reliable: bool,
    injected: serde_json::Value,
    wall_seconds: f64,
    addresses: Vec<String>,
    /// The replay of the merged trace followed every step (the real nodes did what the
    /// state machines do).
    replay_steps: u64,
    /// Per node: its summary as it printed it (counts, drops, transport and reliable
    /// layer statistics).
    nodes: Vec<serde_json::Value>,
}

/// The merged, replayed run.
pub struct Outcome {
    report: Report,
    real: Real,
    merged: Trace,
}

#[derive(Serialize)]
pub struct JsonOut<'a> {
    #[serde(flatten)]
    pub report: &'a Report,
    pub real: &'a Real,
}

pub fn gather(job: &Job, dir: &Path, addrs: &[String], finished: Finished) -> anyhow::Result<Outcome> {
    let mut nodes = Vec::with_capacity(job.n);
    for (i, out) in finished.outputs.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(out.trim())
            .map_err(|e| anyhow::anyhow!("node {i} printed an unreadable summary ({e}): {}", out.trim()))?;
        nodes.push(v);
    }
    let paths: Vec<PathBuf> = (0..job.n).map(|i| trace_path(dir, i)).collect();
    let mut merged = merge_files(&paths).map_err(|e| anyhow::anyhow!("gathering the nodes' traces: {e}"))?;
    let injected = serde_json::json!({
        "drop": job.faults.drop,
        "dup": job.faults.dup,
        "delay": job.faults.delay.map(|d| d.describe()),
        "reorder": job.faults.reorder,
    });
    merged.header.network = serde_json::json!({
        "transport": job.transport.to_string(),
        "wire": job.wire.to_string(),
        "encrypted": job.encrypted,
        "reliable": job.reliable,
        "injected": injected,
    });
    // The replay must tell each node the port it really had (TP7 carries it).
    merged.header.ports =
        addrs.iter().filter_map(|a| a.parse::<std::net::SocketAddr>().ok()).map(|a| a.port()).collect();
    if merged.header.ports.len() != job.n {
        merged.header.ports.clear();
    }
    let (mut report, steps) = replay(&merged)?;
    report.wall_seconds = finished.elapsed.as_secs_f64();
    report.events_per_sec = if report.wall_seconds > 0.0 { report.events as f64 / report.wall_seconds } else { 0.0 };
    let real = Real {
        processes: job.n,
        transport: job.transport.to_string(),
        wire: job.wire.to_string(),
        encrypted: job.encrypted,
        reliable: job.reliable,
        injected,
        wall_seconds: finished.elapsed.as_secs_f64(),
        addresses: addrs.to_vec(),
        replay_steps: steps,
        nodes,
    };
    Ok(Outcome { report, real, merged })
}

impl Outcome {
    /// The run's report, as a simulation's.
    pub fn report(&self) -> &Report {
        &self.report
    }

    pub fn print(self, args: &RunArgs) -> anyhow::Result<ExitCode> {
        if let Some(path) = &args.trace {
            write_trace(&self.merged, path)?;
        }
        if let Some(path) = &args.history {
            crate::history_file::write(&self.merged, path)?;
        }
        if let Some(picture) = &args.viz {
            let (path, scratch) = match &args.trace {
                Some(p) => (p.clone(), false),
                None => (crate::viz::scratch_trace(), true),
            };
            if scratch {
                write_trace(&self.merged, &path)?;
            }
            let drawn = crate::viz::draw(&path, picture);
            if scratch {
                let _ = std::fs::remove_file(&path);
            }
            drawn?;
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&self.json())?);
        } else {
            print!("{}", self.render());
            if let Some(path) = &args.trace {
                println!("merged trace written to {}", path.display());
            }
        }
        Ok(if self.report.all_good() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    }

    /// What `--json` prints.
    pub fn json(&self) -> JsonOut<'_> {
        JsonOut { report: &self.report, real: &self.real }
    }

    pub fn render(&self) -> String {
        let r = &self.real;
        let sum = |key: &str, sub: &str| -> u64 {
            r.nodes.iter().filter_map(|n| n.get(key).and_then(|v| v.get(sub)).and_then(serde_json::Value::as_u64)).sum()
        };
        let mut network = format!(
            "network: {} real processes over {} ({}{}) · reliable layer {}",
            r.processes,
            r.transport.to_uppercase(),
            r.wire,
            if r.encrypted { ", Fernet-encrypted" } else { "" },
            if r.reliable { "on" } else { "off" }
        );
        let f = &self.real.injected;
        let mut injected = Vec::new();
        for key in ["drop", "dup"] {
            if f[key].as_f64().unwrap_or(0.0) > 0.0 {
                injected.push(format!("{key} {}", f[key]));
            }
        }
        if let Some(d) = f["delay_ms"].as_array() {
            injected.push(format!("delay {}..{} ms", d[0], d[1]));
        }
        if f["reorder"].as_bool() == Some(true) {
            injected.push("reorder".into());
        }
        if !injected.is_empty() {
            network.push_str(&format!(" · injected: {}", injected.join(", ")));
        }
        let text = summary::render(&self.report);
        let mut out = String::new();
        for line in text.lines() {
            if line.starts_with("network: ") {
                out.push_str(&network);
            } else if line.starts_with("clocks kept: ") {
                let vector = self.merged.header.clocks == reparti_core::ClockMode::LamportAndVector;
                out.push_str(if vector {
                    "clocks kept: Lamport and vector, by every node, stamped on every message"
                } else {
                    "clocks kept: Lamport, by every node (vector clocks above 64 nodes would weigh down every message)"
                });
            } else if line.starts_with("speed: ") {
                out.push_str(&format!(
                    "real network: {} datagrams/frames sent, {} retransmitted, {} duplicates suppressed, {} injected drops, {} injected duplicates, {} refused on receipt\nwall time: {:.3} s (the merged trace replays in the simulator: {} steps, same outputs and counts)",
                    sum("transport", "sent"),
                    sum("reliable", "retransmitted"),
                    sum("reliable", "duplicates_suppressed"),
                    sum("transport", "injected_drops"),
                    sum("transport", "injected_dups"),
                    r.nodes.iter().map(refused).sum::<u64>(),
                    r.wall_seconds,
                    r.replay_steps
                ));
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        out
    }
}

fn refused(node: &serde_json::Value) -> u64 {
    node.get("dropped")
        .and_then(serde_json::Value::as_object)
        .map_or(0, |m| m.values().filter_map(serde_json::Value::as_u64).sum())
}
