//! `reparti sweep merge DIR`: a job directory's results as one CSV, one row per job that
//! wrote a result: its grid columns (grid.json, in their order), then its result's main
//! figures, flattened. A job without a readable result is named in a warning and left
//! out, never a panic: a sweep on a cluster is merged while stragglers still run.
//! With `--plot`, the same rows are also drawn ([`super::plot`]).
//!
//! A result is read by its shape, not by the engine named in the grid, so that any job
//! producer's `sim --json` or `check --json` lines merge the same way.

use super::plot::PlotRequest;
use super::read::{read_job_dir, Loaded};
use super::MergeArgs;
use anyhow::Context;
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;

/// One merged row: the job's index, its cells by column name (in the order found).
struct Row {
    index: u64,
    cells: Vec<(String, String)>,
}

/// A counterexample some check job found.
struct Found {
    index: u64,
    property: String,
    steps: Option<u64>,
}

pub fn run(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let (columns, jobs) = read_job_dir(&args.dir)?;

    let mut rows = Vec::new();
    let (mut missing, mut unreadable, mut failing) = (0usize, 0usize, Vec::new());
    let mut found: Vec<Found> = Vec::new();
    for job in &jobs {
        let index = job.index;
        let result = match &job.result {
            Loaded::Result(v) => v,
            Loaded::Missing(path) => {
                missing += 1;
                eprintln!("warning: job {index}: no result ({} is missing): not run yet, or lost", path.display());
                continue;
            }
            Loaded::Unreadable(path) => {
                unreadable += 1;
                eprintln!("warning: job {index}: {} is not a result{}", path.display(), why_failed(path));
                continue;
            }
        };
        let mut cells: Vec<(String, String)> =
            columns.iter().map(|c| (c.clone(), cell(&job.params[c.as_str()]))).collect();
        let figures = figures(result);
        if figures.iter().any(|(k, v)| k.starts_with("prop_") && v == "fail") {
            failing.push(index);
        }
        if let Some(cx) = result.get("counterexample").filter(|c| !c.is_null()) {
            let steps = cx["steps"].as_array().map(|s| s.len() as u64).or(cx["steps"].as_u64());
            found.push(Found { index, property: cx["property"].as_str().unwrap_or("?").to_string(), steps });
        }
        for (k, v) in figures {
            // A figure never hides a grid column of the same name.
            let k = if columns.contains(&k) { format!("result_{k}") } else { k };
            cells.push((k, v));
        }
        rows.push(Row { index, cells });
    }

    // The header: the grid's columns, then every figure in the order first met (rows go
    // by job index and each result's figures in a fixed order, so this is deterministic).
    let mut header: Vec<String> = columns.clone();
    header.insert(0, "job".to_string());
    for row in &rows {
        for (k, _) in &row.cells {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    // The plot before the CSV: a mistaken --y refuses the merge before anything is written.
    let plotted = match &args.plot {
        Some(path) => {
            let cells: Vec<&[(String, String)]> = rows.iter().map(|r| r.cells.as_slice()).collect();
            let request = PlotRequest { path, x: args.x.as_deref(), y: args.y.as_deref() };
            Some(super::plot::write(&request, &columns, &header, &cells)?)
        }
        None => None,
    };
    let sink: Box<dyn std::io::Write> = match &args.output {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut csv = csv::Writer::from_writer(sink);
    csv.write_record(&header)?;
    for row in &rows {
        let record = header.iter().map(|h| {
            if h == "job" {
                return row.index.to_string();
            }
            row.cells.iter().find(|(k, _)| k == h).map(|(_, v)| v.clone()).unwrap_or_default()
        });
        csv.write_record(record)?;
    }
    csv.flush()?;
    drop(csv);

    let mut summary = vec![format!(
        "{} of {} jobs merged, {missing} missing, {unreadable} unreadable; {} with a failed property{}",
        rows.len(),
        jobs.len(),
        failing.len(),
        listed(&failing)
    )];
    if let Some(first) = found.iter().min_by_key(|f| f.index) {
        summary.push(format!(
            "{} counterexample(s); the first: job {} ({} violated)",
            found.len(),
            first.index,
            first.property
        ));
        if let Some(short) = found.iter().filter(|f| f.steps.is_some()).min_by_key(|f| (f.steps, f.index)) {
            summary.push(format!(
                "the shortest: job {} ({} violated in {} steps)",
                short.index,
                short.property,
                short.steps.unwrap_or(0)
            ));
        }
    }
    if let Some(path) = &args.output {
        summary.push(format!("CSV written to {} ({} rows, {} columns)", path.display(), rows.len(), header.len()));
    }
    summary.extend(plotted);
    for line in summary {
        // With the CSV on stdout, the summary keeps out of its way.
        if args.output.is_some() {
            println!("{line}");
        } else {
            eprintln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Job indices, at most ten, for the summary: ` (jobs 3, 7)`.
fn listed(indices: &[u64]) -> String {
    if indices.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = indices.iter().take(10).map(u64::to_string).collect();
    let more = if indices.len() > 10 { ", …" } else { "" };
    format!(" (jobs {}{more})", shown.join(", "))
}

/// Why a job wrote no JSON, from the first line of its stderr file, if it has one.
fn why_failed(json: &Path) -> String {
    let err = json.with_extension("err");
    let first =
        std::fs::read_to_string(&err).ok().and_then(|t| t.lines().find(|l| !l.trim().is_empty()).map(str::to_string));
    match first {
        Some(line) => format!(" (the job failed: {line})"),
        None => " (empty or cut short: the job failed or is still running)".to_string(),
    }
}

/// A JSON value as one CSV cell: strings bare, null empty.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A name as a column name a spreadsheet or pandas takes as is: every run of characters
/// other than letters and digits becomes one `_` ("at most one leader" → at_most_one_leader).
fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// A verdict (`holds`: true, false or null) as pass, fail or unknown.
fn verdict(v: &Value) -> String {
    match v.as_bool() {
        Some(true) => "pass".into(),
        Some(false) => "fail".into(),
        None => "unknown".into(),
    }
}

/// The main scalar figures of a result, in a fixed order.
fn figures(r: &Value) -> Vec<(String, String)> {
    // A figure the result lacks (or null, like `rounds` of an asynchronous run) is an
    // empty cell, so that every row of one engine has the same columns.
    let take = |out: &mut Vec<(String, String)>, name: &str, v: &Value| out.push((name.to_string(), cell(v)));
    let mut out = Vec::new();
    if r.get("unique_states").is_some() {
        // A model check.
        for k in ["unique_states", "states", "max_depth", "seconds", "states_per_sec", "complete", "stop"] {
            take(&mut out, k, &r[k]);
        }
        properties(r, &mut out);
        let cx = r.get("counterexample").filter(|c| !c.is_null());
        out.push(("counterexample".into(), if cx.is_some() { "yes" } else { "no" }.into()));
        out.push(("counterexample_property".into(), cx.map(|c| cell(&c["property"])).unwrap_or_default()));
        let steps = cx.and_then(|c| {
            c["steps"].as_array().map(|s| s.len().to_string()).or(c["steps"].as_u64().map(|s| s.to_string()))
        });
        out.push(("counterexample_steps".into(), steps.unwrap_or_default()));
        // Bitstate hashing, when the checker used it (optional: older results lack it).
        if let Some(bits) = r.get("bitstate").and_then(Value::as_object) {
            for (k, v) in bits {
                if !v.is_object() && !v.is_array() {
                    out.push((format!("bitstate_{}", slug(k)), cell(v)));
                }
            }
        }
    } else if r.get("messages").is_some_and(Value::is_object) {
        // A simulated run.
        let m = &r["messages"];
        take(&mut out, "stop", &r["stop"]);
        out.push(("messages".into(), cell(&m["total"])));
        for k in ["delivered", "dropped", "duplicated"] {
            take(&mut out, k, &m[k]);
        }
        for k in ["time", "rounds", "events", "longest_causal_chain"] {
            take(&mut out, k, &r[k]);
        }
        if let Some(by_type) = m["by_type"].as_object() {
            for (kind, count) in by_type {
                out.push((format!("messages_{}", slug(kind)), cell(count)));
            }
        }
        properties(r, &mut out);
        if let Some(expected) = r["expected"].as_object() {
            for (name, e) in expected {
                out.push((format!("expected_{}_measured", slug(name)), cell(&e["measured"])));
                out.push((format!("expected_{}", slug(name)), verdict(&e["holds"])));
            }
        }
    } else if let Some(fields) = r.as_object() {
        // Another shape (a self-stabilizing run, a later engine): its top-level scalars.
        for (k, v) in fields {
            if !v.is_object() && !v.is_array() {
                out.push((k.clone(), cell(v)));
            }
        }
        properties(r, &mut out);
    }
    out
}

/// Each property's verdict, `prop_NAME` = pass, fail or unknown, in the result's order.
fn properties(r: &Value, out: &mut Vec<(String, String)>) {
    for p in r["properties"].as_array().into_iter().flatten() {
        if let Some(name) = p["name"].as_str() {
            out.push((format!("prop_{}", slug(name)), verdict(&p["holds"])));
        }
    }
}
