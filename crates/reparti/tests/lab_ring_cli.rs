//! TP3's token ring as the lab sheet writes it: `reparti node token-ring LOCAL_PORT
//! PREV_PORT [jeton]` and `python3 examples/python/token_ring_node.py PORT_LOCAL
//! PORT_PREV [jeton]`, real processes on loopback. Nobody is told its successor; the
//! token goes round; a message goes to any port hop by hop; what goes wrong is said,
//! and a ring that lost its token does not exit 0.
//!
//! Every wait is for a line the node prints (or for its exit), bounded; no test sleeps
//! for a fixed time. Every child is killed when its guard drops.

mod common;

use common::{free_ports, python_ready, usage_error};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any one wait may take: generous, for a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(40);

/// Idle time of automatic-mode nodes: they stop after this long with nothing received.
const IDLE_MS: &str = "4000";

/// One running node: its output read line by line as it comes; killed when dropped.
struct Node {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<(bool, String)>,
    /// Every line so far, with whether it came on stderr.
    seen: Vec<(bool, String)>,
    readers: Vec<JoinHandle<()>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        // Already exited: kill fails harmlessly; wait reaps either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a node ended.
struct Ended {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Node {
    fn spawn(name: &str, mut cmd: Command) -> Node {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let (tx, lines) = channel();
        let mut readers = Vec::new();
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout"));
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr"));
        for (is_err, stream) in [(false, out), (true, err)] {
            let tx = tx.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if tx.send((is_err, line)).is_err() {
                        break;
                    }
                }
            }));
        }
        let stdin = child.stdin.take();
        Node { name: name.to_string(), child, stdin, lines, seen: Vec::new(), readers }
    }

    /// Waits until `count` lines (either stream) contain `needle`; returns the last one.
    fn wait_for_nth(&mut self, needle: &str, count: usize) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let matching: Vec<&String> = self.seen.iter().map(|(_, l)| l).filter(|l| l.contains(needle)).collect();
            if matching.len() >= count {
                return matching[count - 1].clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{} never printed {needle:?} (x{count}); it printed:\n{}", self.name, self.transcript())
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{} ended without printing {needle:?} (x{count}); it printed:\n{}",
                    self.name,
                    self.transcript()
                ),
            }
        }
    }

    fn wait_for(&mut self, needle: &str) -> String {
        self.wait_for_nth(needle, 1)
    }

    /// Types a console line.
    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap_or_else(|e| panic!("{} does not read its console: {e}", self.name));
        stdin.flush().expect("flush");
    }

    /// Closes the console and waits (bounded) for the node to exit.
    fn end(&mut self) -> Ended {
        self.stdin = None;
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll") {
                break status;
            }
            assert!(Instant::now() < deadline, "{} did not stop; it printed:\n{}", self.name, self.transcript());
            // Reading what comes meanwhile doubles as the pause between polls.
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(20)) {
                self.seen.push(line);
            }
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.seen.extend(self.lines.try_iter());
        let text = |err: bool| -> String {
            self.seen.iter().filter(|(e, _)| *e == err).map(|(_, l)| format!("{l}\n")).collect()
        };
        Ended { code: status.code(), stdout: text(false), stderr: text(true) }
    }

    fn transcript(&self) -> String {
        self.seen.iter().map(|(err, l)| format!("  {}{l}\n", if *err { "[err] " } else { "" })).collect()
    }
}

fn reparti(name: &str, args: &[String]) -> Node {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
    cmd.args(["node", "token-ring"]).args(args);
    Node::spawn(name, cmd)
}

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/python/token_ring_node.py")
}

fn python(name: &str, args: &[String]) -> Node {
    let mut cmd = Command::new("python3");
    cmd.arg(example()).args(args);
    Node::spawn(name, cmd)
}

fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let out = Command::new(assert_cmd::cargo::cargo_bin("reparti")).args(["keygen", "-o"]).arg(&key).output();
    assert!(out.is_ok_and(|o| o.status.success()), "keygen works");
    key
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(ToString::to_string).collect()
}

/// The JSON summary at the end of stdout: reparti's pretty object, or Python's last line.
fn summary(ended: &Ended, who: &str) -> Value {
    let text = ended.stdout.trim();
    let start = if text.starts_with('{') { 0 } else { text.rfind('\n').map_or(0, |i| i + 1) };
    serde_json::from_str(&text[start..]).unwrap_or_else(|e| panic!("{who} printed no JSON summary ({e}): {text}"))
}

/// The texts delivered at a node, as (origin, from, hops, text).
fn delivered(report: &Value) -> Vec<(u64, u64, u64, String)> {
    let all = report["delivered"].as_array().cloned().unwrap_or_default();
    all.iter()
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap_or(u64::MAX);
            (n("origin"), n("from"), n("hops"), d["text"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

fn total_dropped(report: &Value) -> u64 {
    report["dropped"].as_object().map_or(0, |d| d.values().filter_map(Value::as_u64).sum())
}

#[test]
fn three_lab_nodes_pass_the_token_and_deliver_to_any_port_hop_by_hop() {
    // The ring a → b → c → a. Each is told its own port and its predecessor's only;
    // `nobody` is a port no node listens on.
    let p = free_ports(4);
    let (a, b, c, nobody) = (p[0], p[1], p[2], p[3]);
    let common = |mut v: Vec<String>| {
        v.extend(strings(&["--param", "laps=2", "--idle-ms", IDLE_MS, "--json"]));
        v
    };
    // Started in the worst order: each node's predecessor after it, its successor last.
    let mut nc = reparti("c", &common(vec![c.to_string(), b.to_string()]));
    nc.wait_for("listening on");
    let mut nb = reparti("b", &common(vec![b.to_string(), a.to_string(), "--send".into(), format!("{a}:retour")]));
    nb.wait_for("listening on");
    let sends = [format!("{c}:deux-sauts"), format!("{b}:un-saut"), format!("{nobody}:personne")];
    let mut args = vec![a.to_string(), c.to_string(), "jeton".into()];
    for s in &sends {
        args.extend(["--send".to_string(), s.clone()]);
    }
    let mut na = reparti("a", &common(args));
    let (ea, eb, ec) = (na.end(), nb.end(), nc.end());
    for (who, e) in [("a", &ea), ("b", &eb), ("c", &ec)] {
        assert_eq!(e.code, Some(0), "{who} failed:\n{}", e.stderr);
    }
    let (ra, rb, rc) = (summary(&ea, "a"), summary(&eb, "b"), summary(&ec, "c"));
    // The token: two laps, and it rests at the jeton node.
    for r in [&ra, &rb, &rc] {
        assert_eq!((r["sent"]["TOKEN"].as_u64(), r["received"]["TOKEN"].as_u64()), (Some(2), Some(2)), "{r}");
        assert_eq!(total_dropped(r), 0, "{r}");
        assert_eq!(r["problems"], Value::Array(vec![]));
    }
    assert_eq!((ra["state"]["has_token"].as_bool(), ra["state"]["laps_done"].as_u64()), (Some(true), Some(2)));
    // Each text arrived where it was sent, after the right number of hops, from the
    // real last hop: a → c crosses b, b → a crosses c.
    let (a, b, c) = (u64::from(a), u64::from(b), u64::from(c));
    assert_eq!(delivered(&rc), vec![(a, b, 2, "deux-sauts".into())]);
    assert_eq!(delivered(&rb), vec![(a, a, 1, "un-saut".into())]);
    assert_eq!(delivered(&ra), vec![(b, c, 2, "retour".into())]);
    assert!(ec.stderr.contains(&format!("message from {a} via {b} (hops 2")), "{}", ec.stderr);
    assert_eq!((rb["relayed"].as_u64(), rc["relayed"].as_u64()), (Some(2), Some(2)), "relayed without the token");
    // The text for a port nobody has came back to its origin, which says so.
    assert_eq!(ra["undeliverable"][0]["dest"], u64::from(nobody));
    assert_eq!(ra["undeliverable"][0]["hops"], 3, "once round the ring of three");
    let said = format!("no node of the ring listens on port {nobody}");
    assert!(ea.stderr.contains(&said), "{}", ea.stderr);
}

/// A ring of four, Python and reparti alternating; the jeton at a Python node or at a
/// reparti one. Each node writes to the node two hops ahead, so every text crosses
/// both implementations; the jeton node also writes to a port nobody has.
fn mixed_ring(python_holds: bool, key: Option<&Path>) {
    let p = free_ports(5);
    let (ports, nobody) = (&p[..4], p[4]);
    let holder = if python_holds { 0 } else { 1 };
    let key_args: Vec<String> = key.map(|k| vec!["--key-file".into(), k.display().to_string()]).unwrap_or_default();
    let mut nodes = Vec::new();
    for i in 0..4 {
        let (me, prev, ahead) = (ports[i], ports[(i + 3) % 4], ports[(i + 2) % 4]);
        let mut args = vec![me.to_string(), prev.to_string()];
        if i == holder {
            args.push("jeton".into());
            args.extend(["--send".to_string(), format!("{nobody}:personne")]);
        }
        args.extend(["--send".to_string(), format!("{ahead}:de-{me}")]);
        args.extend(strings(&["--idle-ms", IDLE_MS]));
        args.extend(key_args.iter().cloned());
        let mut node = if i % 2 == 0 {
            args.extend(strings(&["--laps", "2"]));
            python(&format!("python {me}"), &args)
        } else {
            args.extend(strings(&["--param", "laps=2", "--json"]));
            reparti(&format!("reparti {me}"), &args)
        };
        node.wait_for("listening on");
        nodes.push(node);
    }
    let ended: Vec<Ended> = nodes.iter_mut().map(Node::end).collect();
    for (node, e) in nodes.iter().zip(&ended) {
        assert_eq!(e.code, Some(0), "{} failed:\n{}{}", node.name, e.stdout, e.stderr);
    }
    let reports: Vec<Value> = ended.iter().zip(&nodes).map(|(e, n)| summary(e, &n.name)).collect();
    for (i, r) in reports.iter().enumerate() {
        let me = u64::from(ports[i]);
        let (behind, two_behind) = (u64::from(ports[(i + 3) % 4]), u64::from(ports[(i + 2) % 4]));
        assert_eq!((r["sent"]["TOKEN"].as_u64(), r["received"]["TOKEN"].as_u64()), (Some(2), Some(2)), "{r}");
        assert_eq!(r["state"]["has_token"], i == holder, "{r}");
        assert_eq!(total_dropped(r), 0, "every datagram understood on both sides: {r}");
        assert_eq!(r["state"]["successor"], u64::from(ports[(i + 1) % 4]), "found its successor: {r}");
        assert_eq!(delivered(r), vec![(two_behind, behind, 2, format!("de-{two_behind}"))], "at {me}: {r}");
    }
    assert_eq!(reports[holder]["undeliverable"][0]["dest"], u64::from(nobody));
    assert_eq!(reports[holder]["undeliverable"][0]["hops"], 4);
}

#[test]
fn a_mixed_ring_with_the_jeton_at_a_python_node() {
    if python_ready(false) {
        mixed_ring(true, None);
    }
}

#[test]
fn a_mixed_ring_with_the_jeton_at_a_reparti_node() {
    if python_ready(false) {
        mixed_ring(false, None);
    }
}

#[test]
fn an_encrypted_mixed_ring_both_ways() {
    if !python_ready(true) {
        return;
    }
    let dir = tempfile::tempdir().expect("scratch folder");
    let key = keygen(dir.path(), "lab.key");
    mixed_ring(true, Some(&key));
    mixed_ring(false, Some(&key));
}

#[test]
fn the_console_finds_the_successor_queues_sends_and_releases_the_token() {
    let p = free_ports(3);
    let (a, b, c) = (p[0], p[1], p[2]);
    let console = |me: u16, prev: u16, jeton: bool| {
        let mut args = vec![me.to_string(), prev.to_string()];
        if jeton {
            args.push("jeton".into());
        }
        args.push("--interactive".into());
        reparti(&format!("node {me}"), &args)
    };
    // The jeton node alone: it holds the token but cannot pass it before its successor
    // has announced itself, and says so.
    let mut na = console(a, c, true);
    na.wait_for("listening on");
    na.say("help");
    na.wait_for("quit, exit, fin");
    let commands: Vec<String> = na
        .seen
        .iter()
        .filter(|(err, l)| !err && !l.starts_with(' ') && !l.starts_with("node "))
        .filter_map(|(_, l)| l.split([' ', ',']).next().map(str::to_string))
        .collect();
    assert_eq!(commands, ["send", "release", "state", "help", "quit"], "help lists what the node takes, only that");
    na.say("release");
    na.wait_for("waiting for our successor to announce itself");
    // b starts, naming a as its predecessor: a learns its successor, and the token goes.
    let mut nb = console(b, a, false);
    na.wait_for(&format!("successor {b} (127.0.0.1:{b})"));
    na.wait_for(&format!("token passed to {b}"));
    nb.wait_for(&format!("TOKEN from {a}"));
    // c starts: b learns its successor, a hears its predecessor answer.
    let mut nc = console(c, b, false);
    nb.wait_for(&format!("successor {c}"));
    na.wait_for(&format!("predecessor {c} answered"));
    // Without the token: queued; release refused; unknown commands point to help.
    nc.say(&format!("send {a} de-c"));
    nc.wait_for(&format!("queued until the token arrives: to {a}: de-c"));
    nc.say("release");
    nc.wait_for("error: this node does not hold the token");
    nc.say("broadcast hello");
    nc.wait_for("error: unknown command `broadcast`");
    // The holder writes to a, two hops away, then passes the token; c's queued text leaves.
    nb.say(&format!("send {a} de-b"));
    nb.wait_for(&format!("sent to {a} via {c}"));
    nc.wait_for(&format!("relayed a message from {b} for {a}, on to {a} (hops 2)"));
    na.wait_for(&format!("message from {b} via {c} (hops 2"));
    nb.say("release");
    nc.wait_for(&format!("TOKEN from {b}"));
    nc.wait_for(&format!("sent to {a} via {a}"));
    na.wait_for(&format!("message from {c} via {c} (hops 1"));
    nc.say("release");
    na.wait_for(&format!("TOKEN from {c}"));
    na.say("state");
    na.wait_for(&format!("node {a} now: holds the token (the jeton node)"));
    for node in [&mut na, &mut nb, &mut nc] {
        node.say("quit");
    }
    for (who, e) in [("a", na.end()), ("b", nb.end()), ("c", nc.end())] {
        assert_eq!(e.code, Some(0), "{who}: the token is home, nothing pending:\n{}", e.stderr);
        assert!(e.stdout.contains("stopped:"), "{who} prints its summary: {}", e.stdout);
    }
}

#[test]
fn a_lost_token_makes_the_jeton_node_fail_with_its_word() {
    let p = free_ports(3);
    let (a, b, c) = (p[0], p[1], p[2]);
    let start = |me: u16, prev: u16, extra: &[&str]| {
        let mut args = vec![me.to_string(), prev.to_string(), "--interactive".to_string()];
        args.extend(strings(extra));
        reparti(&format!("node {me}"), &args)
    };
    let mut na = start(a, c, &["jeton"]);
    let mut nb = start(b, a, &[]);
    let mut nc = start(c, b, &[]);
    // The ring is closed: every node heard its predecessor answer.
    na.wait_for(&format!("predecessor {c} answered"));
    nb.wait_for(&format!("predecessor {a} answered"));
    nc.wait_for(&format!("predecessor {b} answered"));
    na.say("release");
    nb.wait_for(&format!("TOKEN from {a}"));
    // b dies with the token.
    nb.child.kill().expect("kill b");
    na.say("quit");
    let ended = na.end();
    assert_eq!(ended.code, Some(1), "a ring without its token does not exit 0:\n{}", ended.stderr);
    let word = format!("error: the token left this node (the jeton node) for {b} and never came back");
    assert!(ended.stderr.contains(&word), "{}", ended.stderr);
    // c did nothing wrong: it never held the token, in manual mode.
    nc.say("quit");
    let ended = nc.end();
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
}

#[test]
fn in_automatic_mode_a_node_that_never_gets_the_token_says_so() {
    // No jeton node at all: b's predecessor a never runs.
    let p = free_ports(3);
    let (a, b, c) = (p[0], p[1], p[2]);
    let args =
        |me: u16, prev: u16| strings(&[&me.to_string(), &prev.to_string(), "--param", "laps=2", "--idle-ms", "1500"]);
    let mut nb = reparti("b", &args(b, a));
    let mut nc = reparti("c", &args(c, b));
    nb.wait_for("listening on");
    let (eb, ec) = (nb.end(), nc.end());
    assert_eq!((eb.code, ec.code), (Some(1), Some(1)), "{}{}", eb.stderr, ec.stderr);
    assert!(ec.stderr.contains("error: this node never received the token (automatic mode)"), "{}", ec.stderr);
    assert!(eb.stderr.contains(&format!("error: our predecessor {a} never answered SUCCESSOR")), "{}", eb.stderr);
}

#[test]
fn nodes_with_different_keys_say_so() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let (k1, k2) = (keygen(dir.path(), "one.key"), keygen(dir.path(), "two.key"));
    let p = free_ports(2);
    let run = |me: u16, prev: u16, key: &Path, jeton: bool| {
        let mut args = vec![me.to_string(), prev.to_string()];
        if jeton {
            args.push("jeton".into());
        }
        args.extend(strings(&["--param", "laps=1", "--idle-ms", "1500", "--key-file"]));
        args.push(key.display().to_string());
        reparti(&format!("node {me}"), &args)
    };
    let mut na = run(p[0], p[1], &k1, true);
    let mut nb = run(p[1], p[0], &k2, false);
    na.wait_for("does not open with our key: check every node uses the same key file");
    let (ea, eb) = (na.end(), nb.end());
    assert_eq!((ea.code, eb.code), (Some(1), Some(1)), "a ring that never formed fails");
    assert!(ea.stderr.contains("never answered SUCCESSOR"), "{}", ea.stderr);
}

#[test]
fn lab_shape_mistakes_are_one_line_with_exit_2() {
    // One port alone is TP4 exercise 3's ring from the registry (tests/registry_ring.rs).
    let e = usage_error(&["node", "token-ring", "5001", "5002", "5003", "5004"]);
    assert!(e.contains("LOCAL_PORT PREV_PORT [jeton]"), "{e}");
    let e = usage_error(&["node", "token-ring", "70000", "5001"]);
    assert!(e.contains("not a port"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "0"]);
    assert!(e.contains("port 0"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "jetons"]);
    assert!(e.contains("jeton"), "{e}");
    let e = usage_error(&["node", "chang-roberts", "5001", "5002"]);
    assert!(e.contains("token-ring"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "--transport", "tcp"]);
    assert!(e.contains("UDP"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "--param", "sends=3"]);
    assert!(e.contains("laps=K"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "--send", "hello"]);
    assert!(e.contains("PORT:TEXT"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "--send", "5001:moi"]);
    assert!(e.contains("this node"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "--key-file", "/nonexistent/lab.key"]);
    assert!(e.contains("keygen"), "{e}");
    let e = usage_error(&["node", "token-ring", "--me", "0", "--peers", "127.0.0.1:1,127.0.0.1:2", "--send", "1:x"]);
    assert!(e.contains("lab shape"), "{e}");
    // A port in use: one line naming it, exit 2.
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("bound").port().to_string();
    let e = usage_error(&["node", "token-ring", &port, "5001"]);
    assert!(e.contains("already in use") && e.lines().count() == 1, "{e}");
}

/// A node alone at its console, in either language: `help` lists exactly the commands
/// it takes, `send` without the token is queued and says so, and quitting with the text
/// still queued (and no predecessor ever answering) is exit 1 with a line for each.
fn a_lone_node_queues_and_reports(start: impl Fn(&[String]) -> Node) {
    let p = free_ports(3);
    let mut node = start(&[p[0].to_string(), p[1].to_string(), "--interactive".into()]);
    node.wait_for("listening on");
    node.say("help");
    node.wait_for("quit, exit, fin");
    let commands: Vec<String> = node
        .seen
        .iter()
        .filter(|(err, l)| !err && !l.starts_with(' ') && !l.starts_with("node "))
        .filter_map(|(_, l)| l.split([' ', ',']).next().map(str::to_string))
        .collect();
    assert_eq!(commands, ["send", "release", "state", "help", "quit"], "{}", node.name);
    for refused in ["broadcast hi", "request", "elect"] {
        node.say(refused);
        let word = refused.split(' ').next().unwrap_or_default();
        node.wait_for(&format!("error: unknown command `{word}`"));
    }
    node.say(&format!("send {} en attente", p[2]));
    node.wait_for(&format!("queued until the token arrives: to {}: en attente", p[2]));
    node.say("quit");
    let ended = node.end();
    assert_eq!(ended.code, Some(1), "{}: {}", node.name, ended.stderr);
    assert!(ended.stderr.contains("error: 1 message(s) queued for the token were never sent"), "{}", ended.stderr);
    assert!(ended.stderr.contains(&format!("error: our predecessor {} never answered", p[1])), "{}", ended.stderr);
}

#[test]
fn a_lone_reparti_node_queues_and_reports() {
    a_lone_node_queues_and_reports(|args| reparti("reparti", args));
}

#[test]
fn a_lone_python_node_queues_and_reports() {
    if python_ready(false) {
        a_lone_node_queues_and_reports(|args| python("python", args));
    }
}
