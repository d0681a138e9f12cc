//! `reparti bench --net`: real processes on this machine, side by side in one run —
//! reparti's token ring, the Python lab node (examples/python, through
//! bench/python_ring.py) and a raw C ring (bench/c_ring.c: plain `sendto`/`recvfrom`,
//! the machine's floor for a process-per-node ring).
//!
//! For reparti, `N` supervised `reparti node token-ring` processes pass the token for a
//! fixed number of hops (`laps = hops / N`, no data messages); the throughput is the
//! tokens delivered over the span from the first node's start to the last delivery, both
//! read from the nodes' own summaries (wall clock of one machine). "One way" streams data
//! messages between two processes (the token ring's data messages, `laps = 1`), over UDP
//! and over TCP. The C and
//! Python programs run for a fixed time and print one JSON line each.
//!
//! To say where the time goes, the per-message costs inside a reparti node are measured
//! in-process too: encoding and decoding an envelope, and sealing and opening it.

use crate::run::cluster::Cluster;
use anyhow::Context as _;
use reparti_algos::communication::token_ring::Msg as RingMsg;
use reparti_core::NodeId;
use reparti_net::secure::{open, seal, Key};
use reparti_net::wire::{decode, encode, Envelope, Wire};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// The median run of `repeat` (by throughput), with the slowest and fastest beside it,
/// or the first error.
fn median(repeat: usize, mut measure: impl FnMut() -> anyhow::Result<Row>) -> anyhow::Result<Row> {
    let mut runs = Vec::with_capacity(repeat.max(1));
    for _ in 0..repeat.max(1) {
        runs.push(measure()?);
    }
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    let (slowest, fastest) = (runs[0].per_second, runs[runs.len() - 1].per_second);
    let mid = runs.len() / 2;
    let mut row = runs.swap_remove(mid);
    (row.slowest, row.fastest) = (slowest, fastest);
    if repeat > 1 {
        // The spread says whether a figure is stable, as much as the median says what it is.
        let spread = 100.0 * (fastest - slowest) / row.per_second.max(f64::MIN_POSITIVE);
        let range = format!("{}–{}", crate::summary::rate(slowest).trim(), crate::summary::rate(fastest).trim());
        row.note = format!("{} (median of {repeat}, {range}, spread {spread:.0} %)", row.note).trim_start().to_string();
    }
    Ok(row)
}

/// One measured line of the table.
#[derive(Serialize, Clone)]
struct Row {
    implementation: String,
    mode: String,
    /// udp or tcp.
    transport: String,
    nodes: usize,
    encrypted: bool,
    /// Token hops (ring) or messages received (one way) per second: the median run's.
    per_second: f64,
    /// The slowest and the fastest of the runs (the same as `per_second` for one run).
    slowest: f64,
    fastest: f64,
    /// Microseconds per hop or per message.
    us_each: f64,
    /// Delivered reliably (acknowledged and retransmitted), which a one-way stream is
    /// compared with a reliable one for.
    acknowledged: bool,
    note: String,
}

/// Options of the network benchmark.
pub struct NetBench {
    /// Each figure is the median of this many runs (the machine's other work makes
    /// single runs of process rings vary by a fourth or more).
    pub repeat: usize,
    pub hops: u64,
    pub seconds: f64,
    pub c_source: PathBuf,
    pub python_ring: PathBuf,
    pub json: bool,
}

/// One line on stderr as a measurement starts (stdout keeps the table, or the JSON).
fn stage(what: &str) {
    eprintln!("… {what}");
}

pub fn run(opts: &NetBench) -> anyhow::Result<ExitCode> {
    let scratch = tempfile::tempdir().context("cannot create a scratch folder")?;
    let key = scratch.path().join("key");
    std::fs::write(&key, Key::generate().as_text()).context("cannot write a scratch key")?;
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    // Several minutes of silence would look like a hang: say what comes, then each stage.
    eprintln!(
        "bench --net: rings of 8 and 2 processes and one-way streams, reparti then raw C then the Python lab node, \
         the median of {} runs each; this takes several minutes (a line per measurement follows)",
        opts.repeat.max(1)
    );
    for n in [8, 2] {
        for encrypted in [false, true] {
            let k = encrypted.then_some(key.as_path());
            let what = if encrypted { "Fernet" } else { "plaintext" };
            stage(&format!("reparti ring of {n}, {what}, reliable layer on"));
            rows.push(median(opts.repeat, || reparti_ring(n, opts.hops, k, true, scratch.path()))?);
            stage(&format!("reparti ring of {n}, {what}, reliable layer off"));
            rows.push(median(opts.repeat, || reparti_ring(n, opts.hops, k, false, scratch.path()))?);
        }
    }
    for transport in ["udp", "tcp"] {
        for k in [None, Some(key.as_path())] {
            let what = if k.is_some() { "Fernet" } else { "plaintext" };
            stage(&format!("reparti one way over {transport}, {what}"));
            rows.push(median(opts.repeat, || reparti_oneway(opts.hops, k, transport, scratch.path()))?);
        }
    }
    match build_c(&opts.c_source, scratch.path()) {
        Ok(binary) => {
            let secs = opts.seconds.to_string();
            for n in ["8", "2"] {
                stage(&format!("raw C ring of {n}"));
                rows.push(median(opts.repeat, || external(&binary, &["ring", n, &secs], "C (raw sockets)"))?);
            }
            stage("raw C one way");
            rows.push(median(opts.repeat, || external(&binary, &["oneway", &secs], "C (raw sockets)"))?);
            // The floor for reparti's reliable stream: the same stream made reliable in
            // the simplest way (cumulative acks, the same window), so that the ratio
            // compares like with like.
            stage("raw C one way, acknowledged");
            rows.push(median(opts.repeat, || external(&binary, &["oneway-acked", &secs], "C (raw sockets)"))?);
        }
        Err(why) => skipped.push(format!("C ring: {why}")),
    }
    if opts.python_ring.exists() {
        let py = |args: &[&str]| -> anyhow::Result<Row> {
            stage(&format!("Python lab node: {}", args.join(" ")));
            let mut all = vec![opts.python_ring.display().to_string()];
            all.extend(args.iter().map(|s| s.to_string()));
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            median(opts.repeat, || external(Path::new("python3"), &refs, "Python lab node"))
        };
        let secs = opts.seconds.to_string();
        let key_text = key.display().to_string();
        for n in ["8", "2"] {
            match py(&["ring", n, &secs]) {
                Ok(r) => rows.push(r),
                Err(e) => skipped.push(format!("Python ring: {e}")),
            }
            match py(&["ring", n, &secs, "--key-file", &key_text]) {
                Ok(r) => rows.push(r),
                Err(e) => skipped.push(format!("Python ring, encrypted: {e}")),
            }
        }
        for extra in [vec![], vec!["--key-file", key_text.as_str()]] {
            let mut args = vec!["oneway", secs.as_str()];
            args.extend(extra);
            match py(&args) {
                Ok(r) => rows.push(r),
                Err(e) => skipped.push(format!("Python one way: {e}")),
            }
        }
    } else {
        skipped.push(format!("Python ring: {} not found (run from the repository's root)", opts.python_ring.display()));
    }
    let costs = in_process_costs();
    if opts.json {
        let out = serde_json::json!({ "rows": rows, "in_process_us": costs, "skipped": skipped });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", render(&rows, &costs, &skipped));
    }
    Ok(ExitCode::SUCCESS)
}

/// `n` reparti nodes passing the token `hops` times.
fn reparti_ring(n: usize, hops: u64, key: Option<&Path>, reliable: bool, dir: &Path) -> anyhow::Result<Row> {
    let laps = (hops / n as u64).max(1);
    let params = [format!("laps={laps}"), "sends=0".to_string()];
    let nodes = run_nodes(n, &params, key, reliable, "udp", dir)?;
    let tokens = sum(&nodes, "received", "TOKEN");
    let span = span_seconds(&nodes)?;
    Ok(Row {
        implementation: "reparti".into(),
        mode: "ring".into(),
        transport: "udp".into(),
        nodes: n,
        encrypted: key.is_some(),
        per_second: tokens as f64 / span,
        slowest: tokens as f64 / span,
        fastest: tokens as f64 / span,
        us_each: span * 1e6 / tokens.max(1) as f64,
        acknowledged: reliable,
        note: if reliable { "reliable layer on".into() } else { "reliable layer off".into() },
    })
}

/// Two reparti nodes streaming data messages to each other, one direction at a time, over
/// `transport` (udp or tcp).
fn reparti_oneway(messages: u64, key: Option<&Path>, transport: &str, dir: &Path) -> anyhow::Result<Row> {
    let params = ["laps=1".to_string(), format!("sends={}", messages / 2)];
    let nodes = run_nodes(2, &params, key, true, transport, dir)?;
    let data = sum(&nodes, "received", "DATA");
    let span = span_seconds(&nodes)?;
    Ok(Row {
        implementation: "reparti".into(),
        mode: "one way".into(),
        transport: transport.into(),
        nodes: 2,
        encrypted: key.is_some(),
        per_second: data as f64 / span,
        slowest: data as f64 / span,
        fastest: data as f64 / span,
        us_each: span * 1e6 / data.max(1) as f64,
        acknowledged: true,
        note: "data messages, reliable layer on".into(),
    })
}

fn run_nodes(
    n: usize,
    params: &[String],
    key: Option<&Path>,
    reliable: bool,
    transport: &str,
    dir: &Path,
) -> anyhow::Result<Vec<Value>> {
    let mut common: Vec<String> = ["--nodes", &n.to_string(), "--listen", "127.0.0.1:0", "--supervised", "--json"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    common.extend(["--ids".into(), "asc".into(), "--reliable".into(), if reliable { "on" } else { "off" }.into()]);
    common.extend(["--transport".into(), transport.into()]);
    for p in params {
        common.extend(["--param".into(), p.clone()]);
    }
    if let Some(k) = key {
        common.extend(["--key-file".into(), k.display().to_string()]);
    }
    let mut cluster = Cluster::spawn(n, dir, None, |i| {
        let mut a = vec!["node".to_string(), "token-ring".into(), "--me".into(), i.to_string()];
        a.extend(common.iter().cloned());
        a
    })?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let addrs = cluster.wait_ready(deadline, Duration::from_secs(300))?;
    cluster.start(&addrs)?;
    let finished = cluster.wait_all(deadline, Duration::from_millis(500), Duration::from_secs(300))?;
    finished
        .outputs
        .iter()
        .map(|o| serde_json::from_str::<Value>(o.trim()).context("a node printed no summary"))
        .collect()
}

fn sum(nodes: &[Value], field: &str, kind: &str) -> u64 {
    nodes.iter().filter_map(|n| n[field][kind].as_u64()).sum()
}

/// From the first start to the last delivery, in seconds.
fn span_seconds(nodes: &[Value]) -> anyhow::Result<f64> {
    let start = nodes.iter().filter_map(|n| n["started_unix_ms"].as_f64()).fold(f64::INFINITY, f64::min);
    let end = nodes.iter().filter_map(|n| n["last_delivery_unix_ms"].as_f64()).fold(f64::NEG_INFINITY, f64::max);
    if !(start.is_finite() && end.is_finite() && end > start) {
        anyhow::bail!("the nodes delivered nothing: no span to measure");
    }
    Ok((end - start) / 1e3)
}

/// Compiles the C ring with the system's C compiler.
fn build_c(source: &Path, dir: &Path) -> Result<PathBuf, String> {
    if !source.exists() {
        return Err(format!("{} not found (run from the repository's root)", source.display()));
    }
    let binary = dir.join("c_ring");
    let status = Command::new("cc").args(["-O2", "-o"]).arg(&binary).arg(source).status();
    match status {
        Ok(s) if s.success() => Ok(binary),
        Ok(s) => Err(format!("cc failed ({s})")),
        Err(e) => Err(format!("no C compiler (cc: {e}); install gcc")),
    }
}

/// Runs a C or Python benchmark program and reads its JSON line.
fn external(program: &Path, args: &[&str], name: &str) -> anyhow::Result<Row> {
    let out = Command::new(program).args(args).output().with_context(|| format!("cannot run {}", program.display()))?;
    if !out.status.success() {
        anyhow::bail!("{} {args:?} failed: {}", program.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("the program printed no JSON line")?;
    let ring = v["mode"] == "ring";
    let acknowledged = v["mode"] == "oneway-acked";
    let per_second = if ring { v["hops_per_s"].as_f64() } else { v["received_per_s"].as_f64() }.unwrap_or(0.0);
    Ok(Row {
        implementation: name.into(),
        transport: "udp".into(),
        mode: if ring { "ring".into() } else { "one way".into() },
        nodes: v["n"].as_u64().unwrap_or(2) as usize,
        encrypted: v["encrypted"].as_bool().unwrap_or(false),
        per_second,
        slowest: per_second,
        fastest: per_second,
        us_each: if per_second > 0.0 { 1e6 / per_second } else { 0.0 },
        acknowledged,
        note: if ring {
            String::new()
        } else if acknowledged {
            format!("acknowledged, window {}, {} retransmitted", v["window"], v["retransmitted"])
        } else {
            format!("unacknowledged, loss {}", v["loss"])
        },
    })
}

/// What one message costs inside a node, in microseconds: encode + decode of a TOKEN
/// envelope (JSON and binary), and seal + open with Fernet.
fn in_process_costs() -> Value {
    const ROUNDS: u32 = 20_000;
    let env = Envelope {
        from: NodeId(3),
        to: NodeId(4),
        lamport: 1234,
        vc: Some(vec![17; 8]),
        seq: Some(99),
        body: RingMsg::Token,
    };
    let time = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        for _ in 0..ROUNDS {
            f();
        }
        started.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS)
    };
    let json = time(&mut || {
        let bytes = encode(&env, Wire::Json);
        std::hint::black_box(decode::<RingMsg>(&bytes).ok());
    });
    let binary = time(&mut || {
        let bytes = encode(&env, Wire::Binary);
        std::hint::black_box(decode::<RingMsg>(&bytes).ok());
    });
    let key = Key::generate();
    let plain = encode(&env, Wire::Json);
    let fernet = time(&mut || {
        let token = seal(&key, &plain);
        std::hint::black_box(open(&key, &token, Some(60)).ok());
    });
    serde_json::json!({ "json_encode_decode": json, "binary_encode_decode": binary, "fernet_seal_open": fernet })
}

fn render(rows: &[Row], costs: &Value, skipped: &[String]) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    // A ring is compared with the raw C ring; a stream with the C stream that is
    // acknowledged as it is or not.
    let floor = |row: &Row| {
        rows.iter().find(|c| {
            let like = if row.mode == "ring" { c.nodes == row.nodes } else { c.acknowledged == row.acknowledged };
            c.implementation.starts_with('C') && c.mode == row.mode && c.transport == row.transport && like
        })
    };
    let _ = writeln!(
        o,
        "{:<18} {:<8} {:<4} {:>5} {:<10} {:>14} {:>10} {:>8}  note",
        "implementation", "mode", "link", "nodes", "crypto", "per second", "µs each", "% of C"
    );
    for r in rows {
        let pct = floor(r).map_or("".to_string(), |c| format!("{:.0} %", 100.0 * r.per_second / c.per_second));
        let _ = writeln!(
            o,
            "{:<18} {:<8} {:<4} {:>5} {:<10} {:>14} {:>10.1} {:>8}  {}",
            r.implementation,
            r.mode,
            r.transport,
            r.nodes,
            if r.encrypted { "Fernet" } else { "plaintext" },
            crate::summary::rate(r.per_second).trim().to_string(),
            r.us_each,
            pct,
            r.note
        );
    }
    let _ = writeln!(
        o,
        "\ninside a node, per message: JSON encode+decode {:.2} µs, binary {:.2} µs, Fernet seal+open {:.2} µs",
        costs["json_encode_decode"].as_f64().unwrap_or(0.0),
        costs["binary_encode_decode"].as_f64().unwrap_or(0.0),
        costs["fernet_seal_open"].as_f64().unwrap_or(0.0)
    );
    for s in skipped {
        let _ = writeln!(o, "skipped: {s}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(per_second: f64) -> Row {
        Row {
            implementation: "reparti".into(),
            mode: "ring".into(),
            transport: "udp".into(),
            nodes: 8,
            encrypted: false,
            per_second,
            slowest: per_second,
            fastest: per_second,
            us_each: 1e6 / per_second,
            acknowledged: true,
            note: "reliable layer on".into(),
        }
    }

    #[test]
    fn a_figure_is_the_median_run_with_the_spread_of_all_runs() {
        let mut rates = [30_000.0, 50_000.0, 40_000.0, 45_000.0, 20_000.0].into_iter();
        let median = median(5, || Ok(row(rates.next().unwrap_or(0.0)))).expect("five runs");
        assert_eq!((median.per_second, median.slowest, median.fastest), (40_000.0, 20_000.0, 50_000.0));
        assert!(median.note.contains("median of 5"), "{}", median.note);
        assert!(median.note.contains("spread 75 %"), "{}", median.note);
        let once = super::median(1, || Ok(row(7.0))).expect("one run");
        assert_eq!((once.slowest, once.fastest, once.note.as_str()), (7.0, 7.0, "reliable layer on"));
    }
}
