//! `reparti sim --runs K`: K seeds in parallel, min/mean/max of every figure.
//!
//! The figures are aggregated as runs finish, in seed order (so the means are the same
//! sums, in the same order, whatever the threads do), and a run's whole report is kept
//! only when `--json` prints them all. Memory is judged first: one run's estimate
//! decides how many run at once (at most one per thread), and with `--json` the K
//! reports must fit too — measured on the first run's report — or the command says so
//! in one line before running the others.

use crate::cli::SimArgs;
use crate::error::{usage, Interrupted};
use crate::simulate::memory::{refuse_if_too_large, Room};
use crate::simulate::simulate_watched;
use crate::summary::thousands;
use rayon::prelude::*;
use reparti_core::machine_memory::human_bytes;
use reparti_core::{Algorithm, AlgorithmVisitor};
use reparti_sim::{Footprint, Report, SimConfig, Stop};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

/// Runs handed to the threads at once; their reports are folded in before the next.
const BATCH: u64 = 256;

#[derive(Serialize, Default, Clone, Copy)]
struct Spread {
    min: f64,
    mean: f64,
    max: f64,
}

/// One figure over the runs so far: what its min/mean/max need, not its values.
#[derive(Clone, Copy)]
struct Column {
    min: f64,
    max: f64,
    sum: f64,
    count: u64,
}

impl Column {
    fn new() -> Self {
        Column { min: f64::INFINITY, max: f64::NEG_INFINITY, sum: 0.0, count: 0 }
    }

    fn add(&mut self, v: f64) {
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.count += 1;
    }

    fn spread(&self) -> Spread {
        Spread { min: self.min, mean: self.sum / self.count.max(1) as f64, max: self.max }
    }
}

#[derive(Serialize, Default)]
struct Tally {
    held: u64,
    failed: u64,
    unchecked: u64,
}

impl Tally {
    fn add(&mut self, holds: Option<bool>) {
        match holds {
            Some(true) => self.held += 1,
            Some(false) => self.failed += 1,
            None => self.unchecked += 1,
        }
    }
}

/// Everything the summary says, folded in one report at a time.
#[derive(Default)]
struct Aggregate {
    columns: BTreeMap<String, Column>,
    properties: BTreeMap<String, Tally>,
    expected: BTreeMap<String, Tally>,
    all_good: bool,
    /// The first run's topology and node count, for the title.
    shape: Option<(String, usize)>,
}

impl Aggregate {
    fn new() -> Self {
        Aggregate { all_good: true, ..Aggregate::default() }
    }

    fn add(&mut self, r: &Report) {
        let mut put = |k: &str, v: f64| self.columns.entry(k.to_string()).or_insert_with(Column::new).add(v);
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
        for p in &r.properties {
            self.properties.entry(p.name.clone()).or_default().add(p.holds);
        }
        for (k, e) in &r.expected {
            self.expected.entry(format!("{k}: {}", e.expectation.formula)).or_default().add(e.holds);
        }
        self.all_good &= r.all_good();
        self.shape.get_or_insert_with(|| (r.topology.clone(), r.nodes));
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    algorithm: &'a str,
    /// Runs finished (fewer than asked when interrupted).
    runs: u64,
    /// Stopped by Ctrl-C before every run asked for was done.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    interrupted: bool,
    seeds: [u64; 2],
    figures: BTreeMap<String, Spread>,
    properties: &'a BTreeMap<String, Tally>,
    expected: &'a BTreeMap<String, Tally>,
    reports: &'a [Report],
}

pub fn run_many(args: &SimArgs, name: &str, cfg: &SimConfig) -> anyhow::Result<ExitCode> {
    if args.trace.is_some() {
        return Err(usage("--trace writes one run's trace; drop --runs or --trace"));
    }
    if args.history.is_some() {
        return Err(usage("--history writes one run's history; drop --runs or --history"));
    }
    let runs = args.runs;
    let room = Room::resolve(args.max_memory);
    let threads = rayon::current_num_threads().max(1);
    // One run must fit; as many run at once as fit side by side, one per thread at most.
    let at_once = match room {
        Some(room) => match fits(name, cfg, room)? {
            Some(fp) => (room.bytes / fp.bytes.max(1)).clamp(1, threads as u64) as usize,
            None => threads,
        },
        None => threads,
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(at_once).build()?;
    let one = |k: u64| simulate_watched(name, SimConfig { seed: cfg.seed.wrapping_add(k), ..cfg.clone() }, room);

    let mut agg = Aggregate::new();
    let first = one(0)?;
    if first.stop == Stop::Interrupted {
        return Err(Interrupted("interrupted before the first run ended: no figures to report".into()).into());
    }
    if args.json {
        if let Some(room) = room {
            refuse_if_reports_too_large(runs, &first, room)?;
        }
    }
    agg.add(&first);
    let mut kept = Vec::new();
    if args.json {
        kept.push(first);
    }
    let mut next = 1;
    // Runs that ended on their own: an interrupted one is half a run, kept out of the
    // figures.
    let mut finished = 1u64;
    while next < runs && !crate::interrupt::requested() {
        let end = next.saturating_add(BATCH).min(runs);
        let batch: Vec<Report> =
            pool.install(|| (next..end).into_par_iter().map(one).collect::<anyhow::Result<_>>())?;
        for r in batch.into_iter().filter(|r| r.stop != Stop::Interrupted) {
            finished += 1;
            agg.add(&r);
            if args.json {
                kept.push(r);
            }
        }
        next = end;
    }

    let interrupted = finished < runs;
    // The seeds of the runs launched (when interrupted, a few of them did not finish).
    let seeds = [cfg.seed, cfg.seed.wrapping_add(next.min(runs).saturating_sub(1))];
    let figures: BTreeMap<String, Spread> = agg.columns.iter().map(|(k, c)| (k.clone(), c.spread())).collect();
    if args.json {
        let summary = Summary {
            algorithm: name,
            runs: finished,
            interrupted,
            seeds,
            figures,
            properties: &agg.properties,
            expected: &agg.expected,
            reports: &kept,
        };
        // Written as it is serialized: K reports need not be one string in memory too.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
        out.flush()?;
    } else {
        let (topology, nodes) = agg.shape.clone().unwrap_or_default();
        println!(
            "{} on a {} · {} runs, seeds {}..={}",
            name,
            crate::summary::topology_of(&topology, nodes),
            finished,
            seeds[0],
            seeds[1]
        );
        if interrupted {
            println!("interrupted: {finished} of the {runs} runs asked for finished; the figures are theirs");
        }
        println!("\n  {:<28} {:>14} {:>14} {:>14}", "figure", "min", "mean", "max");
        for (k, s) in &figures {
            println!("  {k:<28} {:>14.1} {:>14.1} {:>14.1}", s.min, s.mean, s.max);
        }
        println!("\n  {:<48} {:>6} {:>6} {:>9}", "property / expected count", "held", "failed", "unchecked");
        for (k, t) in agg.properties.iter().chain(&agg.expected) {
            println!("  {k:<48} {:>6} {:>6} {:>9}", t.held, t.failed, t.unchecked);
        }
        println!(
            "\nverdict: {}",
            if agg.all_good { "all properties hold in every run" } else { "SOMETHING FAILED in some run" }
        );
    }
    Ok(if interrupted {
        ExitCode::from(crate::interrupt::INTERRUPTED_STATUS)
    } else if agg.all_good {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One run's estimate, refused when even one does not fit.
fn fits(name: &str, cfg: &SimConfig, room: Room) -> anyhow::Result<Option<Footprint>> {
    struct Fits<'a> {
        name: &'a str,
        cfg: &'a SimConfig,
        room: Room,
    }
    impl AlgorithmVisitor for Fits<'_> {
        type Output = anyhow::Result<Option<Footprint>>;
        fn visit<A: Algorithm>(self) -> Self::Output {
            refuse_if_too_large::<A>(self.name, self.cfg, false, self.room)
        }
    }
    reparti_algos::visit(name, Fits { name, cfg, room })
        .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))
}

/// Refuses `--json` for `runs` runs whose reports (each about as large as `first`)
/// would not fit in `room`. A report in memory is counted as twice its JSON text: its
/// strings and maps carry about as much overhead as the text has punctuation.
fn refuse_if_reports_too_large(runs: u64, first: &Report, room: Room) -> anyhow::Result<()> {
    let text = serde_json::to_vec(first).map_or(0, |v| v.len()) as u64;
    let each = std::mem::size_of::<Report>() as u64 + 2 * text;
    let total = each.saturating_mul(runs);
    if total <= room.bytes {
        return Ok(());
    }
    Err(usage(format!(
        "--runs {} --json would keep {} reports of about {} each, {} in all, but {}; use fewer runs (about {} fit) or drop --json (the summary keeps no reports)",
        thousands(runs),
        thousands(runs),
        human_bytes(each),
        human_bytes(total),
        room.says(),
        thousands(room.bytes / each.max(1))
    )))
}
