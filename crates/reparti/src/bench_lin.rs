//! `reparti bench --lin`: how fast `reparti lin` judges histories of 10³ to 10⁵
//! operations over 1, 10 and 100 keys, with and without anomalies.
//!
//! The histories come from the simulator, not from a generator written for the
//! benchmark: ten clients over Kaashoek's fixed-sequencer total-order broadcast
//! (`tob-sequencer`), random delays (`uniform:1,10`), half reads. With ordered reads
//! (`read=ordered`) every history is linearizable, and each client keeps an operation
//! outstanding most of the time, so up to ten operations overlap on a key — the shape of
//! Jepsen's etcd histories. With local reads (`read=local`) replicas answer from their
//! copy, and stale reads make the history not linearizable: the anomalies.
//!
//! Each history is checked in a fresh process (so the peak memory is that check's
//! alone), on one thread, the parts of the history checked key after key.

use crate::cli::BenchArgs;
use crate::error::usage;
use crate::measure::{measure_in_child, proc_status};
use anyhow::Context as _;
use reparti_core::user_file::{read_text, HISTORY};
use reparti_lin::{check, read_history, Budget, Model, Verdict};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Clients (one per node) in every generated history.
const CLIENTS: u64 = 10;
/// Operations in the histories measured.
const SIZES: [u64; 3] = [1_000, 10_000, 100_000];
/// Keys the operations spread over.
const KEYS: [u64; 3] = [1, 10, 100];
/// A check longer than this is reported as unknown.
const TIME_LIMIT: Duration = Duration::from_secs(300);

/// One history's check.
#[derive(Serialize, Deserialize)]
struct Measure {
    operations: usize,
    keys: usize,
    /// The most operations open at one instant.
    max_concurrent: usize,
    verdict: String,
    check_seconds: f64,
    /// Resident memory once the history is read, before the check.
    baseline_rss_bytes: u64,
    peak_rss_bytes: u64,
}

/// One line of the table: a generated history and its check.
#[derive(Serialize)]
struct Case {
    anomalies: bool,
    history: PathBuf,
    #[serde(flatten)]
    measure: Measure,
}

/// Checks one history file in this process (`--one-lin FILE`) and prints the measure.
pub fn measure_one(path: &Path) -> anyhow::Result<ExitCode> {
    let text = read_text(path, HISTORY).map_err(|e| usage(e.to_string()))?;
    let history = read_history(&text).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    drop(text);
    let baseline = proc_status("VmHWM:");
    let started = Instant::now();
    let budget = Budget { deadline: Some(started + TIME_LIMIT), ..Budget::default() };
    let report = check(&history, Model::CasRegister, &budget, 1).map_err(|e| usage(e.to_string()))?;
    let check_seconds = started.elapsed().as_secs_f64();
    let verdict = match report.verdict() {
        Verdict::Linearizable => "linearizable",
        Verdict::NotLinearizable => "not linearizable",
        Verdict::Unknown => "unknown",
    };
    let m = Measure {
        operations: history.operations.len(),
        keys: report.keys.len(),
        max_concurrent: max_concurrent(&history.operations),
        verdict: verdict.into(),
        check_seconds,
        baseline_rss_bytes: baseline,
        peak_rss_bytes: proc_status("VmHWM:"),
    };
    println!("{}", serde_json::to_string(&m)?);
    Ok(ExitCode::SUCCESS)
}

/// The most operations open at one instant.
fn max_concurrent(ops: &[reparti_lin::Operation]) -> usize {
    let mut events: Vec<(f64, i32)> = ops.iter().flat_map(|o| [(o.called, 1), (o.end(), -1)]).collect();
    // Returns before calls at equal times: a client that answers a local read and asks
    // again at the same instant has one operation open, not two.
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut open, mut most) = (0i32, 0i32);
    for (_, d) in events {
        open += d;
        most = most.max(open);
    }
    most as usize
}

/// Generates a history with the simulator into `dir`.
fn generate(dir: &Path, ops: u64, keys: u64, anomalies: bool, seed: u64) -> anyhow::Result<PathBuf> {
    let read = if anomalies { "local" } else { "ordered" };
    let path = dir.join(format!("tob-{ops}-ops-{keys}-keys-{read}-reads.jsonl"));
    let exe = std::env::current_exe().context("cannot find the reparti executable to simulate with")?;
    let status = std::process::Command::new(exe)
        .args(["sim", "tob-sequencer", "-n", &CLIENTS.to_string(), "--seed", &seed.to_string()])
        .args(["--delay", "uniform:1,10", "-p", &format!("ops={}", ops / CLIENTS), "-p", &format!("keys={keys}")])
        .args(["-p", &format!("read={read}"), "--history"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot start the simulator")?;
    // Local reads make the run's history property fail: exit status 1 is expected there.
    if !path.exists() {
        anyhow::bail!("the simulator wrote no history ({status}) for {ops} operations over {keys} keys");
    }
    Ok(path)
}

pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let dir = std::env::temp_dir().join(format!("reparti-bench-lin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    eprintln!(
        "reparti lin on histories the simulator writes to {} (tob-sequencer, {CLIENTS} clients, \
         delay uniform:1,10, half reads), one thread, each check in a fresh process",
        dir.display()
    );
    let mut cases = Vec::new();
    for anomalies in [false, true] {
        for &ops in &SIZES {
            for &keys in &KEYS {
                let history = generate(&dir, ops, keys, anomalies, args.seed)?;
                let arg = history.to_string_lossy().into_owned();
                let measure: Measure =
                    measure_in_child(&["bench", "--one-lin", &arg], &format!("{ops} operations over {keys} keys"))?;
                if !args.json {
                    println!(
                        "{:>7} ops, {:>3} keys, {:<7} reads (≤ {:>2} concurrent): {:<16} in {:>8.3} s, peak RSS {:>6.1} MB ({:>6.1} MB for the check)",
                        measure.operations,
                        measure.keys,
                        if anomalies { "local" } else { "ordered" },
                        measure.max_concurrent,
                        measure.verdict,
                        measure.check_seconds,
                        measure.peak_rss_bytes as f64 / 1e6,
                        measure.peak_rss_bytes.saturating_sub(measure.baseline_rss_bytes) as f64 / 1e6,
                    );
                }
                cases.push(Case { anomalies, history, measure });
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cases)?);
    }
    eprintln!("the histories stay in {} (compare other checkers on them)", dir.display());
    Ok(ExitCode::SUCCESS)
}
