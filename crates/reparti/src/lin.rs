//! `reparti lin HISTORY --model M`: is a history of client operations linearizable?
//!
//! Reads reparti's history format or a Jepsen log (`reparti_lin::read`), checks it key
//! by key (`reparti_lin::check`) within a time and memory budget, and prints, for each
//! key, a witness order or the longest linearizable prefix and the operation that cannot
//! be placed after it. Exit status: 0 linearizable, 1 not, 2 bad input, 3 unknown.

use crate::error::usage;
use clap::Args;
use reparti_core::user_file::{read_text, HISTORY};
use reparti_lin::{
    check, check_sequentially, read_history, Budget, KeyResult, Model, Operation, Outcome, Report, Verdict,
};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `reparti lin HISTORY --model M`.
#[derive(Args, Debug)]
#[command(
    after_help = "Exit status: 0 linearizable, 1 not linearizable, 2 bad input, 3 unknown (the budget ran out).\n\
Formats (told apart by the first line): reparti's, one JSON object a line\n  \
{\"client\":3,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"x\",\"value\":[1,4],\"t\":12.5}\n\
Jepsen's log lines\n  INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\n\
and Jepsen's EDN operation maps\n  {:process 3, :type :invoke, :f :cas, :key \"x\", :value [1 4]}\n\
type: invoke, then ok (done), fail (certainly not done: left out) or info (unknown: pending)."
)]
pub struct LinArgs {
    /// The history file, or a reparti trace (its clients' calls and returns are read).
    pub history: PathBuf,

    /// The sequential object: register, cas-register, kv (a cas-register per key), queue
    /// or set.
    #[arg(long, value_name = "MODEL", default_value = "cas-register")]
    pub model: String,

    /// linearizable (real-time order between clients counts; checked key by key) or
    /// sequential (only each client's own order counts; the whole history at once).
    #[arg(long, value_name = "CONDITION", default_value = "linearizable")]
    pub consistency: String,

    /// Give up after this many seconds and say "unknown".
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub time_limit: f64,

    /// Give up after remembering this many configurations (the search's memory) and say
    /// "unknown".
    #[arg(long, value_name = "N", default_value_t = 50_000_000)]
    pub max_configurations: usize,

    /// Threads checking keys in parallel (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,

    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,

    /// Draw the failing key's part (else the first key's) to FILE.svg: one lane per
    /// client, operations as bars from call to completion, the longest linearizable
    /// prefix numbered and the operation that cannot be placed in red.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The exit status of a history whose verdict is unknown (the budget ran out).
const UNKNOWN_STATUS: u8 = 3;

pub fn run(args: &LinArgs) -> anyhow::Result<ExitCode> {
    let model: Model = args.model.parse().map_err(|e: String| usage(format!("--model: {e}")))?;
    if !["linearizable", "sequential"].contains(&args.consistency.as_str()) {
        return Err(usage(format!("--consistency {}: expected linearizable or sequential", args.consistency)));
    }
    if !(args.time_limit > 0.0 && args.time_limit.is_finite()) {
        return Err(usage(format!("--time-limit {}: give a positive number of seconds", args.time_limit)));
    }
    if args.threads == Some(0) || args.max_configurations == 0 {
        return Err(usage("--threads and --max-configurations must be at least 1"));
    }
    if let Some(path) = args.output.as_ref().filter(|p| p.extension().and_then(|e| e.to_str()) != Some("svg")) {
        return Err(usage(format!("-o {}: the picture is SVG; name it FILE.svg", path.display())));
    }
    let text = read_text(&args.history, HISTORY).map_err(|e| usage(e.to_string()))?;
    // A reparti trace holds its history: read it from the calls and returns.
    let text = if is_trace(&text) {
        let trace = reparti_core::trace::read_trace(text.as_bytes())
            .map_err(|e| usage(format!("{} is not a reparti trace: {e}", args.history.display())))?;
        crate::history_file::jsonl(&trace)?.0
    } else {
        text
    };
    let history = read_history(&text).map_err(|e| usage(format!("{}: {e}", args.history.display())))?;
    let started = Instant::now();
    let budget = Budget {
        deadline: Some(started + Duration::from_secs_f64(args.time_limit)),
        max_configurations: args.max_configurations,
    };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let sequential = args.consistency == "sequential";
    let report = if sequential {
        check_sequentially(&history, model, &budget)
    } else {
        check(&history, model, &budget, threads)
    }
    .map_err(|e| usage(format!("{}: {e}", args.history.display())))?;
    let condition = if sequential { "sequentially consistent" } else { "linearizable" };
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.output {
        draw(&report, condition, path)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&as_json(&report, model, elapsed)).unwrap_or_default());
    } else {
        print!("{}", render(&report, model, condition, history.operations.len(), elapsed));
    }
    Ok(match report.verdict() {
        Verdict::Linearizable => ExitCode::SUCCESS,
        Verdict::NotLinearizable => ExitCode::from(1),
        Verdict::Unknown => ExitCode::from(UNKNOWN_STATUS),
    })
}

/// Whether `text` is a reparti trace (its header says `"trace":"reparti"`).
fn is_trace(text: &str) -> bool {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str::<serde_json::Value>(first)
        .is_ok_and(|v| v.get("trace").and_then(|t| t.as_str()) == Some("reparti"))
}

/// Writes the picture of the part worth seeing: the first that is not linearizable, else
/// the first unknown, else the first.
fn draw(report: &Report, condition: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let worst = report
        .keys
        .iter()
        .find(|k| matches!(k.outcome, Outcome::NotLinearizable { .. }))
        .or_else(|| report.keys.iter().find(|k| matches!(k.outcome, Outcome::Unknown { .. })))
        .or_else(|| report.keys.first());
    let Some(part) = worst else { return Ok(()) };
    std::fs::write(path, reparti_lin::picture::svg(part, condition)).map_err(|e| {
        anyhow::anyhow!("cannot write {}: {e}; check the directory exists and is writable", path.display())
    })
}

fn verdict_word(v: Verdict, condition: &str) -> String {
    match v {
        Verdict::Linearizable => condition.to_string(),
        Verdict::NotLinearizable => format!("NOT {condition}"),
        Verdict::Unknown => "unknown (the budget ran out before an answer)".to_string(),
    }
}

fn key_name(k: &KeyResult) -> String {
    k.key.as_ref().map_or("the object".to_string(), |key| format!("key {key}"))
}

/// The operation with id `id` among a key's operations.
fn op(k: &KeyResult, id: usize) -> Option<&Operation> {
    k.operations.iter().find(|o| o.id == id)
}

/// The human report: the verdict, then each key that is not linearizable (or unknown)
/// in detail, and the witness of a small linearizable history.
fn render(report: &Report, model: Model, condition: &str, operations: usize, elapsed: f64) -> String {
    // Pending operations are said, since the verdict placed them anywhere or nowhere.
    let pending = report.keys.iter().flat_map(|k| &k.operations).filter(|o| o.pending()).count();
    let pending = if pending > 0 { format!(" ({pending} pending)") } else { String::new() };
    let mut out = format!(
        "{} operations{pending} over {} key(s), model {model}: {} ({elapsed:.3} s)\n",
        operations,
        report.keys.len(),
        verdict_word(report.verdict(), condition)
    );
    for k in &report.keys {
        match &k.outcome {
            Outcome::Linearizable { order } if report.keys.len() == 1 && order.len() <= 20 => {
                out.push_str(&format!("witness order for {}:\n", key_name(k)));
                for id in order {
                    if let Some(o) = op(k, *id) {
                        out.push_str(&format!("  {o}\n"));
                    }
                }
            }
            Outcome::Linearizable { .. } => {}
            Outcome::NotLinearizable { prefix, blocked, involved } => {
                out.push_str(&format!(
                    "{}: {} operations; the longest prefix that can be ordered places {} of them:\n",
                    key_name(k),
                    k.operations.len(),
                    prefix.len()
                ));
                for id in prefix.iter().skip(prefix.len().saturating_sub(10)) {
                    if let Some(o) = op(k, *id) {
                        out.push_str(&format!("  {o}\n"));
                    }
                }
                if let Some(o) = op(k, *blocked) {
                    out.push_str(&format!("  then no operation can be placed before this one completes:\n  ✗ {o}\n"));
                }
                let others: Vec<&Operation> =
                    involved.iter().filter(|id| *id != blocked).filter_map(|id| op(k, *id)).collect();
                if !others.is_empty() {
                    out.push_str("  among the operations invoked by then and not yet placed:\n");
                    for o in others.iter().take(10) {
                        out.push_str(&format!("    {o}\n"));
                    }
                }
            }
            Outcome::Unknown { reason } => out.push_str(&format!("{}: unknown: {reason}\n", key_name(k))),
        }
    }
    out
}

fn as_json(report: &Report, model: Model, elapsed: f64) -> serde_json::Value {
    let verdict = match report.verdict() {
        Verdict::Linearizable => "linearizable",
        Verdict::NotLinearizable => "not-linearizable",
        Verdict::Unknown => "unknown",
    };
    let keys: Vec<serde_json::Value> = report
        .keys
        .iter()
        .map(|k| {
            let mut v = json!({"key": k.key, "operations": k.operations.len()});
            match &k.outcome {
                Outcome::Linearizable { order } => {
                    v["verdict"] = json!("linearizable");
                    v["order"] = json!(order);
                }
                Outcome::NotLinearizable { prefix, blocked, involved } => {
                    v["verdict"] = json!("not-linearizable");
                    v["prefix"] = json!(prefix);
                    v["blocked"] = json!(blocked);
                    v["blocked_line"] = json!(op(k, *blocked).map(|o| o.line));
                    v["involved"] = json!(involved);
                }
                Outcome::Unknown { reason } => {
                    v["verdict"] = json!("unknown");
                    v["reason"] = json!(reason);
                }
            }
            v
        })
        .collect();
    json!({"model": model.to_string(), "verdict": verdict, "seconds": elapsed, "keys": keys})
}
