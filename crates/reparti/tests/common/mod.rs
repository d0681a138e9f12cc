//! What the command-line tests share: running the binary, reading its JSON, and
//! asserting a usage error (exit 2, one line on stderr, nothing on stdout, no panic).
#![allow(dead_code)] // each test binary uses a different subset

mod ports;
#[allow(unused_imports)] // each test binary uses a different subset
pub use ports::{free_addrs, free_peers, free_port, free_ports};

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// The `reparti` binary under test.
pub fn reparti() -> Command {
    Command::cargo_bin("reparti").expect("the reparti binary is built for tests")
}

/// Runs a command that must succeed and print one JSON document.
pub fn json_of(args: &[&str]) -> Value {
    let out = reparti().args(args).output().expect("reparti runs");
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON document")
}

/// Runs reparti expecting a usage error: exit status 2, one line on stderr, nothing on
/// stdout, no panic; returns stderr.
pub fn usage_error(args: &[&str]) -> String {
    let out = reparti().args(args).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?} should exit 2, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed a report anyway");
    stderr
}

/// Child processes killed and reaped when dropped — on success, failure or panic — so no
/// process outlives a test.
pub struct Cluster(pub Vec<std::process::Child>);

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.0 {
            // Already exited: kill fails harmlessly; wait reaps either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether `python3` (with `cryptography` when `crypto`) runs here; says why not.
pub fn python_ready(crypto: bool) -> bool {
    let check = if crypto { "import cryptography" } else { "pass" };
    match std::process::Command::new("python3").args(["-c", check]).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            eprintln!("skipped: python3 cannot `{check}` ({})", String::from_utf8_lossy(&out.stderr).trim());
            false
        }
        Err(e) => {
            eprintln!("skipped: cannot run python3 ({e})");
            false
        }
    }
}

/// The node processes (not their supervisor) whose command line mentions `dir`.
pub fn nodes_of(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|raw| {
                    let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
                    cmdline.contains(&needle) && cmdline.contains("--supervised")
                })
                .unwrap_or(false)
        })
        .filter(|pid| {
            // A zombie already exited; only its parent's reaping is missing.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
                .unwrap_or(false)
        })
        .collect()
}

/// Waits (bounded) until no node process of `dir` is alive.
pub fn assert_none_left(dir: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = nodes_of(dir);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: node processes left behind: {left:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `reparti node ALGO --interactive` whose stdout and stderr lines are read as they
/// come, and which is killed and reaped when dropped.
pub struct Console {
    pub child: std::process::Child,
    pub stdin: Option<std::process::ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far, for failure messages.
    pub seen: Vec<String>,
}

impl Console {
    /// Node `me` of `peers` running `algorithm` with `params` (`-p` values), a console
    /// on its stdin, and idle long enough that only `quit` ends it.
    pub fn start(algorithm: &str, me: u32, peers: &str, params: &[&str]) -> Console {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reparti"));
        command.args(["node", algorithm, "--me", &me.to_string(), "--peers", peers]);
        for param in params {
            command.args(["-p", param]);
        }
        let mut child = command
            .args(["--interactive", "--idle-ms", "20000"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the node starts");
        let (tx, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let out_tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let stdin = child.stdin.take();
        Console { child, stdin, lines, seen: Vec::new() }
    }

    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("the node reads its console");
    }

    /// Reads lines until one contains `text` (bounded: a stuck node fails the test).
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(text);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("never printed «{text}»; printed:\n{}", self.seen.join("\n"));
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `reparti run ALGO --nodes N --json` with `-p P` for each of `params`, then
/// `extra`, keeping the nodes' files in a fresh folder; checks that the run succeeded
/// with N processes and left none behind, and returns its report.
pub fn run_report(algorithm: &str, nodes: usize, params: &[&str], extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("scratch folder");
    let keep = dir.path().join("nodes");
    let keep_text = keep.display().to_string();
    let n = nodes.to_string();
    let mut args = vec!["run", algorithm, "--nodes", &n, "--json", "--timeout", "60", "--keep", &keep_text];
    for p in params {
        args.extend(["-p", p]);
    }
    args.extend_from_slice(extra);
    run_kept(&args, &keep, nodes)
}

/// Runs `reparti ARGS` (a `run --json` keeping its nodes' files in `keep`): it must
/// succeed with `nodes` processes and leave none behind; returns its report.
pub fn run_kept(args: &[&str], keep: &Path, nodes: usize) -> Value {
    let out = reparti().args(args).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{args:?} failed ({}): {stderr}{stdout}", out.status);
    assert_none_left(keep, &format!("{args:?}"));
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints one document");
    assert_eq!(report["real"]["processes"], nodes);
    report
}

/// How many messages of `kind` the run sent (0 when none).
pub fn sent(report: &Value, kind: &str) -> u64 {
    report["messages"]["by_type"][kind].as_u64().unwrap_or(0)
}

/// Every property and every expected count holds, judged (not skipped), at quiescence.
pub fn assert_all_hold(report: &Value, what: &str) {
    assert_eq!(report["stop"], "quiescence", "{what}");
    for p in report["properties"].as_array().expect("properties") {
        assert_eq!(p["holds"], true, "{what}: {} does not hold: {}", p["name"], p["detail"]);
    }
    let expected = report["expected"].as_object().expect("expected counts");
    assert!(!expected.is_empty(), "{what}: the algorithm claims counts");
    for (count, e) in expected {
        // Reference values (means over placements) are shown, never judged.
        if e["kind"] != "reference" {
            assert_eq!(e["holds"], true, "{what}: the expected count {count} is {e}");
        }
    }
}

/// The report judged exactly `properties` properties and `expected` counts, none of
/// them a reference value shown without a verdict.
pub fn assert_judged(report: &Value, what: &str, properties: usize, expected: usize) {
    let judged = report["properties"].as_array().expect("properties");
    assert_eq!(judged.len(), properties, "{what}: {judged:?}");
    let counts = report["expected"].as_object().expect("expected counts");
    assert_eq!(counts.len(), expected, "{what}");
    assert!(counts.values().all(|e| e["kind"] != "reference"), "{what}: every count is judged: {counts:?}");
}

/// The report says the run went over `link`'s transport, encrypted or not as asked.
pub fn assert_ran_on(report: &Value, link: &Link, what: &str) {
    assert_eq!(report["real"]["transport"], link.transport, "{what}");
    assert_eq!(report["real"]["encrypted"], link.encrypted, "{what}");
}

/// Each of `cases` (flags after `COMMAND ALGO`) is refused by `sim`, `check` and `run`
/// alike: exit 2, one line on stderr, nothing on stdout, no panic.
pub fn bad_inputs_are_one_line_and_exit_2(algorithm: &str, cases: &[&[&str]]) {
    for args in cases {
        for command in ["sim", "check", "run"] {
            let mut full = vec![command, algorithm];
            full.extend(args.iter().copied());
            let stderr = usage_error(&full);
            assert_eq!(stderr.trim().lines().count(), 1, "{full:?}: {stderr}");
        }
    }
}

/// `reparti check ARGS --trace FILE` finds a counterexample (exit 1) whose printout
/// holds every one of `printed`; `reparti sim --replay FILE` replays it to the same
/// violation (exit 1, `violated` printed).
pub fn caught_and_replayed(check_args: &[&str], printed: &[&str], violated: &str) {
    let dir = tempfile::tempdir().expect("scratch folder");
    let cx = dir.path().join("cx.jsonl");
    let out = reparti().arg("check").args(check_args).arg("--trace").arg(&cx).output().expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for text in printed {
        assert!(stdout.contains(text), "«{text}» not printed: {stdout}");
    }
    let replay = reparti().args(["sim", "--replay"]).arg(&cx).output().expect("reparti runs");
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1), "{text}");
    assert!(text.contains(violated), "{text}");
}

/// `reparti eval ARGS -o FILE.svg`: succeeds, every property and asserted count held in
/// all runs, each of `figures` is in the table; returns the SVG plot written.
pub fn eval_plot(args: &[&str], figures: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("scratch folder");
    let svg = dir.path().join("eval.svg");
    let out = reparti().arg("eval").args(args).arg("-o").arg(&svg).output().expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every property and every asserted count held in all runs"), "{stdout}");
    for figure in figures {
        assert!(stdout.contains(figure), "{figure}: {stdout}");
    }
    let picture = std::fs::read_to_string(&svg).expect("the plot is written");
    assert!(picture.contains("<svg"), "not an SVG");
    picture
}

/// A fresh key file for the encrypted runs, with the folder that holds it (keep it
/// alive while the runs use the key).
pub fn key_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("scratch folder");
    let key = dir.path().join("key");
    reparti().args(["keygen", "-o"]).arg(&key).assert().success();
    let key = key.display().to_string();
    (dir, key)
}

/// One link of the real-process matrix: its flags, and what the report must say of it.
pub struct Link<'a> {
    pub transport: &'static str,
    pub encrypted: bool,
    pub lossy: bool,
    pub args: Vec<&'a str>,
}

/// The matrix every algorithm runs on real processes: UDP and TCP, plain and encrypted
/// with `key`, clean and with 20 % loss and 10 % duplication plus reordering (datagrams
/// held back on UDP, random delays on TCP) under the reliable layer.
pub fn links(key: &str) -> Vec<Link<'_>> {
    let mut links = Vec::new();
    for transport in ["udp", "tcp"] {
        for encrypted in [false, true] {
            for lossy in [false, true] {
                let mut args = vec!["--transport", transport];
                if encrypted {
                    args.extend(["--key-file", key]);
                }
                if lossy {
                    args.extend(["--loss", "0.2", "--dup", "0.1"]);
                    args.extend(if transport == "udp" { vec!["--reorder"] } else { vec!["--delay", "exp:1ms"] });
                }
                links.push(Link { transport, encrypted, lossy, args });
            }
        }
    }
    links
}

/// Runs the scenario `scenarios/FILE` with `command` (`sim`, `check` or `run`) and
/// asserts that it succeeds with all of its `count` expectations met.
pub fn scenario_meets(command: &str, file: &str, count: usize) {
    let path = format!("{}/../../scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let out = reparti().args([command, &path]).output().expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{file}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("scenario: all {count} expectations met")), "{file}: {stdout}");
}

/// `reparti eval ALGO --precision SWEEP`, written as JSON and as an SVG plot: checks that
/// every run of every value held its properties and that the plot is drawn; returns the
/// table's rows (`value`, `precision_mean`, `precision_max`, `bound_max`, …).
pub fn eval_precision(algorithm: &str, sweep: &str, runs: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("scratch folder");
    let mut rows = Vec::new();
    for file in ["precision.json", "precision.svg"] {
        let out_path = dir.path().join(file);
        let out = reparti()
            .args(["eval", algorithm, "--precision", sweep, "--runs", runs, "-o"])
            .arg(&out_path)
            .output()
            .expect("reparti runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let written = std::fs::read_to_string(&out_path).expect("the output is written");
        if file.ends_with(".svg") {
            assert!(written.contains("<svg"), "not an SVG");
        } else {
            let table: Value = serde_json::from_str(&written).expect("a JSON table");
            rows = table["rows"].as_array().expect("rows").clone();
        }
    }
    for row in &rows {
        assert_eq!(row["all_good"], true, "{algorithm} {sweep}: {row}");
    }
    rows
}
