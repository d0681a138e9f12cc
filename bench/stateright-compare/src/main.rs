//! # stateright-compare: reparti's model checker against Stateright's, on one model
//!
//! Issue #19: "compare with Stateright yourselves, in the repository". This program
//! explores the same Chang–Roberts state space with both checkers and prints, for each
//! ring size, the unique states each found (asserted equal), their wall-clock times,
//! unique states per second and the ratio Stateright time / reparti time.
//!
//! ```sh
//! cargo run --release --manifest-path bench/stateright-compare/Cargo.toml -- --nodes 8
//! cargo run --release --manifest-path bench/stateright-compare/Cargo.toml -- --nodes 6,7,8 --threads 2 --json
//! ```
//!
//! It is not part of the workspace (its Cargo.toml has its own `[workspace]`), so the
//! default build never compiles Stateright; `reparti bench --checker` runs it as above.
//!
//! **The model.** Chang–Roberts on a unidirectional ring of `n`, identities n, n−1, …, 1
//! (the worst case), every node an initiator, unordered reliable channels.
//!
//! * *reparti* checks the library's own `chang-roberts` through `reparti_check::check`,
//!   configured as `reparti bench --checker` does: breadth-first, `--ids desc
//!   --network unordered --no-liveness`, 64-bit fingerprints, no reduction. Per new
//!   state it checks the invariant *at most one leader*; per quiescent state the
//!   terminal properties *exactly one leader, the maximum*, *every node knows the
//!   leader*, *every other node is lost* (and no deadlock).
//! * *Stateright* 0.31 checks [`ring_model::ChangRoberts`], a direct `stateright::Model`
//!   of the same transition system (its module doc says how it matches reparti's state
//!   by state), with `checker().threads(T).spawn_bfs().join()`. Its two `always`
//!   properties are the same checks: *at most one leader* on every state, and
//!   *quiescent implies the election ended correctly* (the three terminal properties).
//!
//! Both fingerprint states in 64 bits. Stateright's BFS also keeps, per state, its
//! parent's fingerprint and, per queued state, the action path from the start (how it
//! rebuilds counterexamples); reparti keeps neither and re-searches for a path when it
//! needs one. That bookkeeping is part of what is compared: it is how each one works.
//!
//! **The measure.** Each checker runs in a fresh child process of this program (the
//! hidden `--one CHECKER:N:THREADS`), reparti first, so each starts on an empty heap and
//! reports its own peak memory. Time is the wall clock around the call that starts the
//! search and returns its result (model set-up excluded). The program exits 1 if the
//! unique state counts differ or a checker found a violation, 2 on a wrong command line.

mod measure;
mod ring_model;

use measure::{Measure, Which};
use serde_json::{json, Value};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: stateright-compare [--nodes N[,N...]]... [--threads T] [--json]";

/// What the command line asks for.
struct Options {
    sizes: Vec<usize>,
    threads: usize,
    json: bool,
    /// Measure one checker in this process and print its JSON line.
    one: Option<(Which, usize, usize)>,
}

fn parse_count(flag: &str, word: &str, least: usize) -> Result<usize, String> {
    match word.trim().parse::<usize>() {
        Ok(v) if v >= least => Ok(v),
        _ => Err(format!("{flag} takes a whole number of at least {least}, not '{word}'")),
    }
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut opts = Options { sizes: Vec::new(), threads: 1, json: false, one: None };
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let mut value = |flag: &str| words.next().cloned().ok_or(format!("{flag} needs a value; {USAGE}"));
        match word.as_str() {
            "--nodes" | "-n" => {
                for part in value("--nodes")?.split(',') {
                    // A ring of one node sends to itself: not the algorithm's setting.
                    opts.sizes.push(parse_count("--nodes", part, 2)?);
                }
            }
            "--threads" => opts.threads = parse_count("--threads", &value("--threads")?, 1)?,
            "--json" => opts.json = true,
            "--one" => {
                let spec = value("--one")?;
                let parts: Vec<&str> = spec.split(':').collect();
                let [which, n, threads] = parts.as_slice() else {
                    return Err(format!("--one takes CHECKER:NODES:THREADS, not '{spec}'"));
                };
                let which = Which::parse(which).ok_or(format!("unknown checker '{which}': reparti or stateright"))?;
                opts.one = Some((which, parse_count("--one", n, 2)?, parse_count("--one", threads, 1)?));
            }
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument '{other}'; {USAGE}")),
        }
    }
    if opts.sizes.is_empty() {
        opts.sizes.push(8);
    }
    Ok(opts)
}

/// Runs `--one CHECKER:N:THREADS` in a fresh copy of this program and reads its line.
fn measure_in_child(which: Which, n: usize, threads: usize) -> Result<Measure, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program to rerun it: {e}"))?;
    let spec = format!("{}:{n}:{threads}", which.name());
    let out = Command::new(exe)
        .args(["--one", &spec])
        .output()
        .map_err(|e| format!("cannot start the measuring process: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "measuring {} n={n} failed: {}",
            which.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .as_ref()
        .and_then(Measure::from_json)
        .ok_or(format!("measuring {} n={n} printed no result", which.name()))
}

/// One size, both checkers: the JSON line, and whether the counts agreed and both held.
fn compare(n: usize, threads: usize) -> Result<(Value, bool), String> {
    eprintln!("… n={n}: reparti");
    let r = measure_in_child(Which::Reparti, n, threads)?;
    eprintln!("… n={n}: Stateright");
    let s = measure_in_child(Which::Stateright, n, threads)?;
    let equal = r.unique_states == s.unique_states;
    let rate = |m: &Measure| m.unique_states as f64 / m.seconds.max(1e-9);
    let line = json!({
        "algorithm": "chang-roberts",
        "ids": "desc",
        "network": "unordered",
        "n": n,
        "threads": threads,
        "states": if equal { json!(r.unique_states) } else { Value::Null },
        "counts_equal": equal,
        "reparti_states": r.unique_states,
        "stateright_states": s.unique_states,
        "reparti_generated": r.generated,
        "stateright_generated": s.generated,
        "reparti_seconds": r.seconds,
        "reparti_search_seconds": r.search_seconds,
        "stateright_seconds": s.seconds,
        "reparti_states_per_sec": rate(&r),
        "stateright_states_per_sec": rate(&s),
        "ratio": s.seconds / r.seconds.max(1e-9),
        "reparti_peak_rss_bytes": r.peak_rss_bytes,
        "stateright_peak_rss_bytes": s.peak_rss_bytes,
        "reparti_holds": r.complete_and_holds,
        "stateright_holds": s.complete_and_holds,
    });
    Ok((line, equal && r.complete_and_holds && s.complete_and_holds))
}

/// The human-readable lines for one size.
fn describe(v: &Value) -> String {
    let f = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let u = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let mb = |k: &str| u(k) as f64 / 1e6;
    let verdict = |k: &str| if v.get(k).and_then(Value::as_bool) == Some(true) { "all hold" } else { "FAILED" };
    let counts = if v.get("counts_equal").and_then(Value::as_bool) == Some(true) {
        format!("{} unique states, equal", u("states"))
    } else {
        format!("COUNTS DIFFER: reparti {} unique states, Stateright {}", u("reparti_states"), u("stateright_states"))
    };
    format!(
        "chang-roberts n={} unordered, {} thread(s): {counts}\n  reparti    {:>8.3} s  {:>10.0} states/s  peak RSS {:>8.1} MB  properties {}\n  Stateright {:>8.3} s  {:>10.0} states/s  peak RSS {:>8.1} MB  properties {}\n  ratio Stateright/reparti: {:.2}",
        u("n"),
        u("threads"),
        f("reparti_seconds"),
        f("reparti_states_per_sec"),
        mb("reparti_peak_rss_bytes"),
        verdict("reparti_holds"),
        f("stateright_seconds"),
        f("stateright_states_per_sec"),
        mb("stateright_peak_rss_bytes"),
        verdict("stateright_holds"),
        f("ratio"),
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_options(&args) {
        Ok(o) => o,
        Err(why) => {
            eprintln!("stateright-compare: {why}");
            return ExitCode::from(2);
        }
    };
    if let Some((which, n, threads)) = opts.one {
        return match measure::run(which, n, threads) {
            Ok(m) => {
                println!("{}", m.to_json());
                ExitCode::SUCCESS
            }
            Err(why) => {
                eprintln!("stateright-compare: {why}");
                ExitCode::FAILURE
            }
        };
    }
    let mut all_agree = true;
    for &n in &opts.sizes {
        match compare(n, opts.threads) {
            Ok((line, agree)) => {
                all_agree &= agree;
                if opts.json {
                    println!("{line}");
                } else {
                    println!("{}", describe(&line));
                }
            }
            Err(why) => {
                eprintln!("stateright-compare: {why}");
                return ExitCode::FAILURE;
            }
        }
    }
    if all_agree {
        ExitCode::SUCCESS
    } else {
        eprintln!("stateright-compare: the checkers disagree (state counts or properties): see above");
        ExitCode::FAILURE
    }
}
