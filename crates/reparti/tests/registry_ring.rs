//! TP4 exercise 3: `reparti node token-ring [PORT] [jeton] --registry FILE`, the token
//! ring formed from the registry file, as real processes on loopback: nodes started with
//! their port only (or none), a node joining and nodes leaving (`quit`, Ctrl-C) while the
//! token circulates, a node killed; and the mistakes, one line each.
//!
//! One token is judged from the nodes' own lines: every pass of the token is numbered
//! (`token #N passed to P` at the sender, `TOKEN #N from P` at the receiver), so with one
//! token the numbers seen by all nodes together run 1, 2, 3, ... each once, every
//! reception matching a send; two tokens would repeat numbers, a lost one would stop them.
//!
//! Every wait is for lines the nodes print (or for their exit), bounded by [`PATIENCE`];
//! no test sleeps for a fixed time. Children are killed by PID when the test ends.

mod common;

use common::{free_ports, usage_error};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

/// How long any one wait may take: generous, for a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// Automatic mode: each holder keeps the token this long.
const HOLD_MS: &str = "hold_ms=100";

/// A node's line, tagged with the node's name and whether it came on stderr.
type Line = (String, bool, String);

/// The nodes of one test, their lines gathered in one log as they come.
struct Lab {
    registry: String,
    children: BTreeMap<String, (Child, Option<ChildStdin>)>,
    tx: Sender<Line>,
    rx: Receiver<Line>,
    log: Vec<Line>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (child, _) in self.children.values_mut() {
            // Already exited: kill fails harmlessly; wait reaps either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Lab {
    fn new(dir: &Path) -> Lab {
        let (tx, rx) = channel();
        let registry = dir.join("BDD.txt").display().to_string();
        Lab { registry, children: BTreeMap::new(), tx, rx, log: Vec::new() }
    }

    /// Starts `reparti node token-ring ARGS --registry FILE --interactive` as `name`.
    fn start(&mut self, name: &str, args: &[&str]) {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
        cmd.args(["node", "token-ring"]).args(args).args(["--registry", &self.registry, "--interactive"]);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout"));
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr"));
        for (is_err, stream) in [(false, out), (true, err)] {
            let (tx, name) = (self.tx.clone(), name.to_string());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send((name.clone(), is_err, line)).is_err() {
                        return;
                    }
                }
            });
        }
        let stdin = child.stdin.take();
        self.children.insert(name.to_string(), (child, stdin));
    }

    /// Waits until `done` holds of the log; says what was printed if it never does.
    fn wait_until(&mut self, what: &str, done: impl Fn(&[Line]) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(&self.log) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => self.log.push(line),
                Err(_) => panic!("never saw {what}; the nodes printed:\n{}", self.transcript()),
            }
        }
    }

    /// Waits for a line of `name` containing `needle`; returns it.
    fn wait_for(&mut self, name: &str, needle: &str) -> String {
        self.wait_until(&format!("{name}: {needle:?}"), |log| {
            log.iter().any(|(n, _, l)| n == name && l.contains(needle))
        });
        let found = self.log.iter().find(|(n, _, l)| n == name && l.contains(needle));
        found.map(|(_, _, l)| l.clone()).unwrap_or_default()
    }

    /// Types a console line at `name`.
    fn type_line(&mut self, name: &str, line: &str) {
        let stdin = self.children.get_mut(name).and_then(|(_, s)| s.as_mut()).expect("a running node with a console");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("{name} reads no console: {e}"));
    }

    /// Sends SIGINT (what Ctrl-C sends) to `name`, by its PID.
    fn interrupt(&mut self, name: &str) {
        let pid = self.children[name].0.id().to_string();
        let status = Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
        assert!(status.success(), "cannot signal {name}");
    }

    /// Kills `name` (SIGKILL, by PID): no chance to leave cleanly.
    fn kill(&mut self, name: &str) {
        let (child, _) = self.children.get_mut(name).expect("a node");
        child.kill().expect("kill");
        child.wait().expect("reap");
    }

    /// Waits (bounded) for `name` to exit; its exit code.
    fn exit_code(&mut self, name: &str) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (child, _) = self.children.get_mut(name).expect("a node");
            if let Some(status) = child.try_wait().expect("poll") {
                // The last lines may still be on their way: the summary is read by waiting for it.
                return status.code();
            }
            assert!(Instant::now() < deadline, "{name} did not stop; the nodes printed:\n{}", self.transcript());
            // Reading what comes meanwhile doubles as the pause between polls.
            if let Ok(line) = self.rx.recv_timeout(Duration::from_millis(20)) {
                self.log.push(line);
            }
        }
    }

    /// The lines of `name`.
    fn lines_of(&self, name: &str) -> Vec<&str> {
        self.log.iter().filter(|(n, _, _)| n == name).map(|(_, _, l)| l.as_str()).collect()
    }

    fn transcript(&self) -> String {
        self.log.iter().map(|(n, err, l)| format!("  {n}{}: {l}\n", if *err { " [err]" } else { "" })).collect()
    }
}

/// Starts a, b and c, one after the other (each once registered), on free ports given
/// on their command lines, a with `first` after its port, b and c with `then`; their
/// ports by name.
fn start_three(lab: &mut Lab, first: &[&str], then: &[&str]) -> BTreeMap<String, u16> {
    let mut ports = BTreeMap::new();
    for (name, port) in ["a", "b", "c"].iter().zip(free_ports(3)) {
        let port = port.to_string();
        let mut args = vec![port.as_str()];
        args.extend(if *name == "a" { first } else { then });
        lab.start(name, &args);
        let line = lab.wait_for(name, "registered ");
        ports.insert(name.to_string(), registered_port(&line));
    }
    ports
}

/// `ring P1 → P2 → ... → P1`, the ports sorted: how a node shows the ring.
fn ring_line(ports: &[u16]) -> String {
    let mut sorted = ports.to_vec();
    sorted.sort_unstable();
    let listed: Vec<String> = sorted.iter().map(ToString::to_string).collect();
    format!("ring {} → {}", listed.join(" → "), sorted[0])
}

/// The port a node registered on, from its `registered ADDR in FILE` line.
fn registered_port(line: &str) -> u16 {
    let addr = line.strip_prefix("registered ").and_then(|rest| rest.split_whitespace().next());
    let port = addr.and_then(|a| a.rsplit(':').next()).and_then(|p| p.parse().ok());
    port.unwrap_or_else(|| panic!("not a registration line: {line}"))
}

/// The number after `#` in a token line, and the port after `from`/`to`.
fn token_line(line: &str) -> Option<(bool, u64, u16)> {
    let (received, rest) = if let Some(rest) = line.strip_prefix("TOKEN #") {
        (true, rest)
    } else {
        (false, line.strip_prefix("token #")?)
    };
    let mut words = rest.split_whitespace();
    let n = words.next()?.parse().ok()?;
    let peer = words.nth(if received { 1 } else { 2 })?.trim_end_matches(':').parse().ok()?;
    Some((received, n, peer))
}

/// How many token receptions `name` printed so far.
fn receptions(log: &[Line], name: &str) -> usize {
    log.iter().filter(|(n, _, l)| n == name && l.starts_with("TOKEN #")).count()
}

/// The highest pass number printed by any node so far.
fn highest_pass(log: &[Line]) -> u64 {
    log.iter().filter_map(|(_, _, l)| token_line(l)).map(|(_, n, _)| n).max().unwrap_or(0)
}

/// One token throughout: the passes sent, by all nodes, are numbered 1..=M each once;
/// so are the receptions; each reception matches the send of the same number, from the
/// node it names to the node that printed it. Returns M.
fn assert_one_token(lab: &Lab, ports: &BTreeMap<String, u16>) -> u64 {
    let mut sent: BTreeMap<u64, (u16, u16)> = BTreeMap::new();
    let mut received: BTreeMap<u64, (u16, u16)> = BTreeMap::new();
    for (name, _, line) in &lab.log {
        let Some((is_reception, n, peer)) = token_line(line) else { continue };
        let me = ports[name];
        let (book, pair) = if is_reception { (&mut received, (peer, me)) } else { (&mut sent, (me, peer)) };
        assert!(book.insert(n, pair).is_none(), "pass #{n} seen twice: two tokens\n{}", lab.transcript());
    }
    let m = sent.len() as u64;
    assert_eq!(sent.keys().copied().collect::<Vec<_>>(), (1..=m).collect::<Vec<_>>(), "passes {}", lab.transcript());
    assert_eq!(received, sent, "every pass was received, by the node it was sent to\n{}", lab.transcript());
    m
}

#[test]
fn nodes_started_with_their_port_only_keep_one_token_through_a_join_and_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let mut lab = Lab::new(dir.path());
    // The first node makes the token; the next two join it.
    let mut ports = start_three(&mut lab, &["--param", HOLD_MS], &["--param", HOLD_MS]);
    assert!(lab.wait_for("a", "node ").contains("holds the token (jeton)"));
    for name in ["b", "c"] {
        assert!(lab.wait_for(name, "node ").contains("waits for the token"), "{}", lab.transcript());
    }
    // The token goes round: each of the three receives it.
    lab.wait_until("the token at a, b and c", |log| ["a", "b", "c"].iter().all(|n| receptions(log, n) >= 1));
    // A fourth node, started with no port at all, joins while the token circulates.
    lab.start("d", &["--param", HOLD_MS]);
    let line = lab.wait_for("d", "registered ");
    ports.insert("d".into(), registered_port(&line));
    assert!(lab.wait_for("d", "node ").contains("waits for the token"), "a joiner makes no token");
    lab.wait_until("the token at d, then twice more at a", |log| {
        receptions(log, "d") >= 1 && receptions(log, "a") >= 3
    });
    // b leaves with `quit`, c with Ctrl-C, one after the other, the token moving.
    lab.type_line("b", "quit");
    assert_eq!(lab.exit_code("b"), Some(0), "b leaves cleanly\n{}", lab.transcript());
    let at_leave = highest_pass(&lab.log);
    lab.wait_until("the token at a, c and d after b left", |log| {
        ["a", "c", "d"]
            .iter()
            .all(|n| log.iter().any(|(who, _, l)| who == n && token_line(l).is_some_and(|(r, k, _)| r && k > at_leave)))
    });
    lab.interrupt("c");
    assert_eq!(lab.exit_code("c"), Some(0), "Ctrl-C leaves cleanly\n{}", lab.transcript());
    let at_leave = highest_pass(&lab.log);
    lab.wait_until("the token at a and d after c left", |log| {
        ["a", "d"]
            .iter()
            .all(|n| log.iter().any(|(who, _, l)| who == n && token_line(l).is_some_and(|(r, k, _)| r && k > at_leave)))
    });
    for name in ["a", "d"] {
        lab.type_line(name, "quit");
        assert_eq!(lab.exit_code(name), Some(0), "{name} leaves cleanly\n{}", lab.transcript());
    }
    // Each node's summary comes last: wait for all four before judging.
    lab.wait_until("four summaries", |log| log.iter().filter(|(_, _, l)| l.contains(" stopped: ")).count() == 4);
    let passes = assert_one_token(&lab, &ports);
    assert!(passes >= 10, "the token went round: {passes} passes");
    for name in ["b", "c"] {
        assert!(
            lab.lines_of(name).iter().any(|l| l.contains("nothing more comes to this node")),
            "{name} was acknowledged"
        );
    }
    let full = ring_line(&ports.values().copied().collect::<Vec<_>>());
    assert!(
        lab.lines_of("a").iter().any(|l| l.starts_with(&full)),
        "a saw the ring of four by port: {full}\n{}",
        lab.transcript()
    );
    let errors: Vec<&Line> =
        lab.log.iter().filter(|(_, err, _)| *err).filter(|(_, _, l)| !l.starts_with("stopping:")).collect();
    assert!(errors.is_empty(), "no warning, no error: {errors:?}");
    let left = std::fs::read_to_string(&lab.registry).unwrap();
    assert_eq!(left.trim(), "", "every node removed its line");
}

#[test]
fn a_killed_node_is_dropped_from_the_registry_and_the_ring_closes_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut lab = Lab::new(dir.path());
    // Manual mode: the token stays at a until `release`, so the killed node never holds it.
    let ports = start_three(&mut lab, &["jeton"], &[]);
    let (a, b, c) = (ports["a"], ports["b"], ports["c"]);
    let three = ring_line(&[a, b, c]);
    lab.wait_until("the ring of three at a and b", |log| {
        ["a", "b"].iter().all(|n| log.iter().any(|(who, _, l)| who == n && l.starts_with(&three)))
    });
    let mark = lab.log.len();
    lab.kill("c");
    let two = ring_line(&[a, b]);
    lab.wait_until("the ring of two at a and b, after the kill", |log| {
        ["a", "b"].iter().all(|n| log[mark..].iter().any(|(who, _, l)| who == n && l.starts_with(&two)))
    });
    let listed = std::fs::read_to_string(&lab.registry).unwrap();
    assert!(!listed.contains(&format!(":{c}\n")), "c's line was dropped: {listed}");
    lab.type_line("a", "release");
    lab.wait_for("b", &format!("TOKEN #1 from {a}"));
    lab.type_line("b", "release");
    lab.wait_for("a", &format!("TOKEN #2 from {b}"));
    for name in ["b", "a"] {
        lab.type_line(name, "quit");
        assert_eq!(lab.exit_code(name), Some(0), "{name}\n{}", lab.transcript());
    }
}

#[test]
fn mistakes_are_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::new(dir.path());
    let reg = lab.registry.as_str();
    // This test holds a port and lists it: to the nodes, a node runs there.
    let held = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let listed = format!("{}\n", held.local_addr().unwrap());
    std::fs::write(reg, &listed).unwrap();
    let in_use = held.local_addr().unwrap().port().to_string();
    let unwritable = format!("{}/no-such-dir/BDD.txt", dir.path().display());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![&in_use, "--registry", reg], "already in the registry"),
        (vec!["jeton", "--registry", reg], "already runs"),
        (vec!["--registry", &unwritable], "cannot use the registry file"),
        (vec!["70000", "--registry", reg], "not a port"),
        (vec!["--param", "laps=3", "--registry", reg], "hold_ms"),
        (vec!["--param", "hold_ms=soon", "--registry", reg], "milliseconds"),
        (vec!["--wait-ms", "10", "--registry", reg], "TP7"),
        (vec!["5001", "5002", "--registry", reg], "TP3's shape is told its predecessor"),
    ];
    for (args, expected) in cases {
        let mut all = vec!["node", "token-ring"];
        all.extend(&args);
        let err = usage_error(&all);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_to_string(reg).unwrap(), listed, "nothing left registered");
    drop(held);
}
