//! What the TP5 tests with real processes share: a node's console driven like a
//! terminal (lines typed on stdin, every line printed kept), waits bounded by [`LIMIT`]
//! that wait for a line, never for a time.
#![allow(dead_code)] // each test binary uses a different subset

pub use super::common::free_ports;
use super::common::Cluster;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Bound on every wait: each takes milliseconds; this is for a loaded 2-core machine.
pub const LIMIT: Duration = Duration::from_secs(90);

/// One terminal: what is typed, and every line printed so far.
pub struct Terminal {
    pub name: String,
    pub stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Terminal {
    /// Starts `reparti node producer-consumer ARGS… --interactive` in `dir`.
    pub fn start(cluster: &mut Cluster, dir: &Path, name: &str, args: &[String]) -> Terminal {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
        cmd.current_dir(dir).args(["node", "producer-consumer"]).args(args).arg("--interactive");
        Terminal::spawn(cluster, name, cmd)
    }

    /// Starts `cmd` with its stdin and stdout piped to this terminal.
    pub fn spawn(cluster: &mut Cluster, name: &str, mut cmd: Command) -> Terminal {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        cluster.0.push(child);
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Terminal { name: name.to_string(), stdin, lines, seen: Vec::new() }
    }

    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("the console is open");
        writeln!(stdin, "{line}").and_then(|()| stdin.flush()).expect("the node reads its console");
    }

    /// Waits for the `count`-th line (counting from the start) that satisfies `wanted`.
    pub fn expect_nth(&mut self, count: usize, what: &str, wanted: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + LIMIT;
        while self.seen.iter().filter(|l| wanted(l)).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "{}: no {what} (#{count}) within {LIMIT:?}; it printed:\n{}",
                    self.name,
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub fn expect(&mut self, what: &str, wanted: impl Fn(&str) -> bool) {
        self.expect_nth(1, what, wanted);
    }

    /// Every line up to the end of the output (the node has been told to quit).
    pub fn drain(&mut self) {
        let deadline = Instant::now() + LIMIT;
        while let Ok(line) = self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            self.seen.push(line);
        }
    }

    pub fn count(&self, wanted: impl Fn(&str) -> bool) -> usize {
        self.seen.iter().filter(|l| wanted(l)).count()
    }
}

/// Types `quit` at the `i`-th process of `cluster` (this terminal's), reads its output to
/// the end and waits for it to exit successfully.
pub fn quit(terminal: &mut Terminal, cluster: &mut Cluster, i: usize) {
    terminal.type_line("quit");
    terminal.stdin = None;
    terminal.drain();
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = cluster.0[i].try_wait().expect("poll") {
            break status;
        }
        assert!(Instant::now() < deadline, "{} did not stop on `quit`", terminal.name);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{} failed:\n{}", terminal.name, terminal.seen.join("\n"));
}

/// `(producer, seq)` of each `[node 0] consumed = P#S` line the consumer printed, in order.
pub fn consumed(c: &Terminal) -> Vec<(u32, u32)> {
    c.seen
        .iter()
        .filter_map(|l| l.strip_prefix("[node 0] consumed = "))
        .filter_map(|item| item.split_once('#'))
        .map(|(p, s)| (p.parse().expect("a producer"), s.parse().expect("a number")))
        .collect()
}

/// `(producer, seq) → value` of each DATA the consumer received; none twice.
pub fn data_values(c: &Terminal) -> BTreeMap<(u32, u32), i64> {
    let mut values = BTreeMap::new();
    for line in c.seen.iter().filter(|l| l.starts_with("[node 0] DATA from node ")) {
        let sender = line["[node 0] DATA from node ".len()..].split(' ').next().and_then(|p| p.parse().ok());
        let from: u32 = sender.expect("a sender");
        let field = |name: &str| -> i64 {
            let at = line.find(&format!("\"{name}\":")).expect("the field") + name.len() + 3;
            line[at..].split([',', '}']).next().and_then(|v| v.parse().ok()).expect("a number")
        };
        let seq = u32::try_from(field("seq")).expect("a seq");
        assert!(values.insert((from, seq), field("value")).is_none(), "DATA {from}#{seq} arrived twice: {line}");
    }
    values
}
