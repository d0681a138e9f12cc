//! `reparti swarm merge DIR`: what a swarm found. Each member's result is the JSON report
//! of one `reparti check`; the merge names the first counterexample found (the member
//! that stopped at one soonest: the members run at once, so that is the one a user
//! waiting on the swarm sees first), the shortest (fewest steps), and the states the
//! members stored — the largest member's count and their sum, between which the union
//! lies (members overlap; only their fingerprints could say by how much, and a bitstate
//! array does not keep them).

use super::SwarmMergeArgs;
use crate::summary::thousands;
use crate::sweep::jobs::result_name;
use crate::sweep::read::{read_job_dir, Loaded};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;

/// One member's figures, from its check report.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    pub member: u64,
    pub strategy: String,
    pub states: u64,
    pub seconds: f64,
    pub stop: String,
    /// The bitstate estimate of the share of the states reached that were stored.
    pub estimated_coverage: Option<f64>,
    pub hash_factor: Option<f64>,
    /// The violated property and the counterexample's steps, when it found one.
    pub property: Option<String>,
    pub steps: Option<Vec<String>>,
}

/// What `swarm merge` reports.
#[derive(Clone, Debug, Serialize)]
pub struct SwarmSummary {
    pub members: usize,
    pub done: usize,
    /// Members whose result is missing or unreadable (not run yet, or failed).
    pub missing: Vec<u64>,
    pub results: Vec<Member>,
    /// The member that found a counterexample soonest.
    pub first: Option<u64>,
    /// The member whose counterexample is shortest (the first such, on a tie).
    pub shortest: Option<u64>,
    /// The largest member's stored states: the union holds at least this many.
    pub states_max: u64,
    /// The members' stored states summed: the union holds at most this many.
    pub states_sum: u64,
}

fn member_of(index: u64, grid_params: &Value, report: &Value) -> Option<Member> {
    let cx = report.get("counterexample").filter(|c| !c.is_null());
    Some(Member {
        member: grid_params.get("member").and_then(Value::as_u64).unwrap_or(index),
        strategy: grid_params.get("strategy").and_then(Value::as_str).unwrap_or("?").to_string(),
        states: report.get("unique_states")?.as_u64()?,
        seconds: report.get("seconds")?.as_f64()?,
        stop: report.get("stop")?.as_str()?.to_string(),
        estimated_coverage: report.pointer("/bitstate/estimated_coverage").and_then(Value::as_f64),
        hash_factor: report.pointer("/bitstate/hash_factor").and_then(Value::as_f64),
        property: cx.and_then(|c| c.get("property")).and_then(Value::as_str).map(str::to_string),
        steps: cx.and_then(|c| c.get("steps")).and_then(Value::as_array).map(|steps| {
            steps.iter().map(|s| s.get("action").and_then(Value::as_str).unwrap_or("?").to_string()).collect()
        }),
    })
}

/// Reads the swarm in `dir`.
pub fn summarize(dir: &Path) -> anyhow::Result<SwarmSummary> {
    let (_, jobs) = read_job_dir(dir)?;
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for job in &jobs {
        let member = match &job.result {
            Loaded::Result(r) => member_of(job.index, &job.params, r),
            Loaded::Missing(_) | Loaded::Unreadable(_) => None,
        };
        match member {
            Some(m) => results.push(m),
            None => {
                let path = dir.join("results").join(result_name(job.index as usize));
                eprintln!(
                    "warning: member {} has no readable result ({}): not run yet, or it failed (see its .err beside it)",
                    job.index,
                    path.display()
                );
                missing.push(job.index);
            }
        }
    }
    let found = || results.iter().filter(|m| m.steps.is_some());
    let first = found().min_by(|a, b| a.seconds.total_cmp(&b.seconds)).map(|m| m.member);
    let shortest = found().min_by_key(|m| m.steps.as_ref().map_or(usize::MAX, Vec::len)).map(|m| m.member);
    Ok(SwarmSummary {
        members: jobs.len(),
        done: results.len(),
        missing,
        first,
        shortest,
        states_max: results.iter().map(|m| m.states).max().unwrap_or(0),
        states_sum: results.iter().map(|m| m.states).sum(),
        results,
    })
}

pub fn run(a: &SwarmMergeArgs) -> anyhow::Result<ExitCode> {
    let s = summarize(&a.dir)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print!("{}", render(&s));
    }
    Ok(if s.first.is_some() {
        ExitCode::from(1)
    } else if !s.missing.is_empty() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(s: &SwarmSummary) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "{} of {} members reported", s.done, s.members);
    let _ = writeln!(o, "  member  search  states stored   seconds  stop        coverage  found");
    for m in &s.results {
        let coverage = m.estimated_coverage.map_or("–".to_string(), |c| format!("{:.2} %", c * 100.0));
        let found = match (&m.property, &m.steps) {
            (Some(p), Some(steps)) => format!("{p} ({} steps)", steps.len()),
            _ => "–".to_string(),
        };
        let _ = writeln!(
            o,
            "  {:>6}  {:<6}  {:>13}  {:>8.1}  {:<10}  {:>8}  {found}",
            m.member,
            m.strategy,
            thousands(m.states),
            m.seconds,
            m.stop,
            coverage
        );
    }
    let by = |k: Option<u64>| k.and_then(|k| s.results.iter().find(|m| m.member == k));
    match (by(s.first), by(s.shortest)) {
        (Some(f), Some(sh)) => {
            let _ = writeln!(
                o,
                "\nfirst counterexample: member {} after {:.1} s — {} ({} steps)",
                f.member,
                f.seconds,
                f.property.as_deref().unwrap_or("?"),
                f.steps.as_ref().map_or(0, Vec::len)
            );
            let steps = sh.steps.clone().unwrap_or_default();
            let _ = writeln!(
                o,
                "shortest: member {} — {} in {} steps:",
                sh.member,
                sh.property.as_deref().unwrap_or("?"),
                steps.len()
            );
            for (k, step) in steps.iter().enumerate() {
                let _ = writeln!(o, "  {}. {step}", k + 1);
            }
            let _ = writeln!(
                o,
                "(a member's steps are a path a search found, not the shortest there is: `reparti check` with --strategy bfs gives that on a small enough instance)"
            );
        }
        _ => {
            let _ = writeln!(o, "\nno counterexample found");
        }
    }
    let _ = writeln!(
        o,
        "states stored: {} by the largest member, {} by all together (their union lies between: members overlap)",
        thousands(s.states_max),
        thousands(s.states_sum)
    );
    if !s.missing.is_empty() {
        let list: Vec<String> = s.missing.iter().map(u64::to_string).collect();
        let _ = writeln!(o, "missing: member(s) {} (run them, then merge again)", list.join(", "));
    }
    if s.first.is_none() {
        let _ = writeln!(
            o,
            "verdict: no violation found — a swarm is a partial search and establishes nothing; raise --bitstate, --max-seconds or -k for more"
        );
    }
    o
}
