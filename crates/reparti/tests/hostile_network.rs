//! Real `reparti node` processes under hostile traffic, on loopback: a flood of junk,
//! forged senders, a datagram replayed from another run, and a member with the wrong
//! key. Each test plays the supervisor of `reparti run` itself (`--supervised`: it reads
//! `READY`, sends `PEERS`, watches `STATUS`, sends `STOP`), so it knows when the nodes
//! are listening and when the run is over without sleeping on a guess.
//!
//! Counts are bounded (thousands of datagrams, not millions) and every wait is bounded
//! by [`LIMIT`]; the figures of a million-datagram flood are in docs/RELIABILITY.md.

mod common;

use common::reparti;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(30);

/// Refusals said one by one on stderr, and traced one by one (reparti_net::runtime's
/// SAID_IN_FULL and REFUSALS_IN_FULL).
const SAID_IN_FULL: usize = 10;
const TRACED_IN_FULL: usize = 16;

/// One supervised node process; killed and reaped when dropped.
struct Node {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    addr: SocketAddr,
    stderr: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts node `me` of `n` (`reparti node ALGO --supervised`), stderr into `dir`, and
/// waits for its `READY ADDR`.
fn start(dir: &Path, algorithm: &str, me: usize, n: usize, extra: &[&str]) -> Node {
    let stderr = dir.join(format!("node-{me}.err"));
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
    cmd.args(["node", algorithm, "--me", &me.to_string(), "--nodes", &n.to_string(), "--supervised", "--json"]);
    if !extra.contains(&"--listen") {
        cmd.args(["--listen", "127.0.0.1:0"]);
    }
    cmd.args(extra);
    let err = std::fs::File::create(&stderr).expect("stderr file");
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(err).spawn().expect("spawn reparti node");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let stdin = child.stdin.take();
    let ready = lines.recv_timeout(LIMIT).expect("the node says READY in time");
    let addr = ready.strip_prefix("READY ").expect("READY ADDR").parse().expect("an address");
    Node { child, stdin, lines, addr, stderr }
}

/// Tells every node the address list: the start.
fn peers(nodes: &mut [Node]) {
    let list: Vec<String> = nodes.iter().map(|n| n.addr.to_string()).collect();
    let line = format!("PEERS {}\n", list.join(","));
    for node in nodes.iter_mut() {
        let stdin = node.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).and_then(|()| stdin.flush()).expect("write PEERS");
    }
}

/// Waits for the end of the run as `reparti run` sees it — every node idle with nothing
/// to come, every message sent delivered, at least `deliveries` of them — then stops
/// every node and returns their JSON summaries and exit statuses.
fn run_to_end(nodes: &mut [Node], deliveries: u64) -> Vec<(Value, ExitStatus)> {
    let deadline = Instant::now() + LIMIT;
    let mut status: Vec<Option<[u64; 4]>> = vec![None; nodes.len()];
    loop {
        for (i, node) in nodes.iter().enumerate() {
            while let Ok(line) = node.lines.try_recv() {
                let fields: Vec<u64> = line
                    .strip_prefix("STATUS ")
                    .into_iter()
                    .flat_map(|s| s.split(' '))
                    .filter_map(|f| f.parse().ok())
                    .collect();
                if let [idle, sent, delivered, pending] = fields[..] {
                    status[i] = Some([idle, sent, delivered, pending]);
                }
            }
        }
        let all: Vec<[u64; 4]> = status.iter().flatten().copied().collect();
        let sent: u64 = all.iter().map(|s| s[1]).sum();
        let delivered: u64 = all.iter().map(|s| s[2]).sum();
        if all.len() == nodes.len()
            && all.iter().all(|s| s[0] == 1 && s[3] == 0)
            && sent == delivered
            && delivered >= deliveries
        {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not end in time: {status:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    for node in nodes.iter_mut() {
        let stdin = node.stdin.as_mut().expect("stdin open");
        stdin.write_all(b"STOP\n").and_then(|()| stdin.flush()).expect("write STOP");
    }
    nodes
        .iter_mut()
        .map(|node| {
            let mut text = String::new();
            while let Ok(line) = node.lines.recv_timeout(LIMIT) {
                if !line.starts_with("STATUS ") {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            let exit = node.child.wait().expect("the node exits");
            let summary = serde_json::from_str(&text).unwrap_or_else(|e| panic!("a JSON summary ({e}): {text}"));
            (summary, exit)
        })
        .collect()
}

/// Chang–Roberts with descending identities over `n` nodes: everyone learns leader `n`
/// with n(n+1)/2 ELECT and n ELECTED messages.
fn check_election(n: u64, summaries: &[(Value, ExitStatus)]) {
    for (i, (s, exit)) in summaries.iter().enumerate() {
        assert!(exit.success(), "node {i} exited with {exit}");
        assert_eq!(s["outputs"][0]["value"], n, "node {i} elected the maximum: {s}");
    }
    let sum = |field: &str, kind: &str| summaries.iter().filter_map(|(s, _)| s[field][kind].as_u64()).sum::<u64>();
    assert_eq!((sum("sent", "ELECT"), sum("received", "ELECT")), (n * (n + 1) / 2, n * (n + 1) / 2));
    assert_eq!((sum("sent", "ELECTED"), sum("received", "ELECTED")), (n, n));
}

fn dropped(summary: &Value, reason: &str) -> u64 {
    summary["dropped"][reason].as_u64().unwrap_or_else(|| panic!("no {reason} count: {summary}"))
}

fn trace_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("the trace is written");
    text.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect()
}

#[test]
fn a_flood_of_junk_leaves_the_trace_small_and_stderr_short() {
    const JUNK: usize = 3000;
    let dir = tempfile::tempdir().expect("temp dir");
    let traces: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("node-{i}.jsonl"))).collect();
    let mut nodes: Vec<Node> = (0..3)
        .map(|i| {
            let trace = traces[i].to_str().expect("utf-8");
            start(dir.path(), "chang-roberts", i, 3, &["--ids", "desc", "--trace", trace])
        })
        .collect();
    peers(&mut nodes);
    let started = Instant::now();
    let flooder = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let junk: [&[u8]; 3] = [
        b"\x00\xffnot an envelope at all",
        br#"{"v":1,"from":1,"to":0,"lamport":1,"type":"NOPE","body":null}"#,
        br#"{"v":7,"from":2,"to":0,"lamport":1,"type":"ELECT","body":{"ELECT":9}}"#,
    ];
    for k in 0..JUNK {
        flooder.send_to(junk[k % junk.len()], nodes[0].addr).expect("send on loopback");
        // Paced a little, so that the node's receive buffer does not drop most of it
        // before the node reads it.
        if k % 50 == 49 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let summaries = run_to_end(&mut nodes, 9);
    let elapsed = started.elapsed();
    check_election(3, &summaries);
    let refused = dropped(&summaries[0].0, "wire");
    assert!(refused > 100, "most of the flood reached the node: {refused} of {JUNK}");

    // The trace: the first 16 refusals in full, one line for the rest, and the run.
    let events = trace_lines(&traces[0]);
    assert_eq!(events[0]["trace"], "reparti", "the header comes first");
    assert!(events.last().expect("lines")["stop"].is_string(), "the closing line comes last");
    let drops = events.iter().filter(|e| e["kind"] == "drop").count();
    assert_eq!(drops, TRACED_IN_FULL);
    let rest = format!("refused {} more datagram(s)", refused - TRACED_IN_FULL as u64);
    assert!(events.iter().any(|e| e["text"].as_str().is_some_and(|t| t.contains(&rest))), "a line says {rest:?}");
    let size = std::fs::metadata(&traces[0]).expect("trace").len();
    assert!(size < 16 * 1024, "the trace stays small: {size} bytes");

    // Stderr: the plaintext notice once, the first refusals, then at most one line a
    // second (and a last one).
    let stderr = std::fs::read_to_string(&nodes[0].stderr).expect("stderr");
    assert_eq!(stderr.matches("runs without --key-file").count(), 1, "{stderr}");
    let lines = stderr.lines().count();
    let bound = 1 + SAID_IN_FULL + 1 + elapsed.as_secs() as usize + 2;
    assert!(lines <= bound, "{lines} lines on stderr for {refused} refusals (at most {bound}):\n{stderr}");

    // The nodes' traces still merge into the run.
    let paths: Vec<&str> = traces.iter().map(|p| p.to_str().expect("utf-8")).collect();
    let merged = reparti().arg("merge").args(&paths).arg("--json").output().expect("runs");
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
}

#[test]
fn forged_senders_are_dropped_and_the_run_keeps_its_counts() {
    const FORGED: u64 = 50;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut nodes: Vec<Node> = (0..4).map(|i| start(dir.path(), "chang-roberts", i, 4, &["--ids", "desc"])).collect();
    // Node 3's ELECT(1000), numbered as node 3 would, sent from another address: taken
    // for node 3's, it would elect 1000. Queued before the start: all of it is read.
    let forger = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for seq in 1..=FORGED {
        let forged =
            format!(r#"{{"v":1,"from":3,"to":0,"lamport":1,"seq":{seq},"type":"ELECT","body":{{"ELECT":1000}}}}"#);
        forger.send_to(forged.as_bytes(), nodes[0].addr).expect("send on loopback");
    }
    peers(&mut nodes);
    let summaries = run_to_end(&mut nodes, 10 + 4);
    check_election(4, &summaries);
    assert_eq!(dropped(&summaries[0].0, "wrong_source"), FORGED);
    let stderr = std::fs::read_to_string(&nodes[0].stderr).expect("stderr");
    assert!(stderr.contains("claims to be node 3"), "{stderr}");
}

fn keygen(path: &Path) {
    let out = reparti().args(["keygen", "-o", path.to_str().expect("utf-8")]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_datagram_replayed_from_another_run_is_dropped_as_such() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("lab.key");
    keygen(&key);
    let key = key.to_str().expect("utf-8");
    // Run A: nodes 0 and 1, and a socket standing in for node 2 that records what node 1
    // sends it, sealed with the key and run A's identity.
    let capture = UdpSocket::bind("127.0.0.1:0").expect("bind");
    capture.set_read_timeout(Some(LIMIT)).expect("timeout");
    let port = capture.local_addr().expect("bound").port();
    let run_a = ["--ids", "desc", "--key-file", key, "--run-id", "run-a"];
    let mut first: Vec<Node> = (0..2).map(|i| start(dir.path(), "chang-roberts", i, 3, &run_a)).collect();
    let list = format!("PEERS {},{},{}\n", first[0].addr, first[1].addr, capture.local_addr().expect("bound"));
    for node in &mut first {
        let stdin = node.stdin.as_mut().expect("stdin");
        stdin.write_all(list.as_bytes()).and_then(|()| stdin.flush()).expect("write PEERS");
    }
    let mut buf = vec![0u8; 65_536];
    let (len, _) = capture.recv_from(&mut buf).expect("node 1 sends to node 2");
    let captured = buf[..len].to_vec();
    assert!(captured.starts_with(b"gAAAAA"), "a Fernet token");
    drop(first);
    drop(capture);

    // Run B, same key, node 2 on the port the token was captured on: the replay opens
    // under the key, but is run A's.
    let run_b = ["--ids", "desc", "--key-file", key, "--run-id", "run-b"];
    let mut nodes: Vec<Node> = (0..2).map(|i| start(dir.path(), "chang-roberts", i, 3, &run_b)).collect();
    let listen = format!("127.0.0.1:{port}");
    let third: Vec<&str> = run_b.iter().copied().chain(["--listen", &listen]).collect();
    nodes.push(start(dir.path(), "chang-roberts", 2, 3, &third));
    UdpSocket::bind("127.0.0.1:0").expect("bind").send_to(&captured, nodes[2].addr).expect("replay");
    peers(&mut nodes);
    let summaries = run_to_end(&mut nodes, 9);
    check_election(3, &summaries);
    assert_eq!(dropped(&summaries[2].0, "another_run"), 1);
    assert_eq!(dropped(&summaries[2].0, "crypto"), 0, "the replay is authentic: only its run gives it away");
    let stderr = std::fs::read_to_string(&nodes[2].stderr).expect("stderr");
    assert!(stderr.contains("belongs to run run-a"), "{stderr}");
}

#[test]
fn reparti_run_gives_each_run_its_own_identity() {
    let ids: Vec<Vec<Value>> = (0..2)
        .map(|_| {
            let dir = tempfile::tempdir().expect("temp dir");
            let keep = dir.path().to_str().expect("utf-8");
            let out = reparti().args(["run", "chang-roberts", "--nodes", "3", "--keep", keep]).output().expect("runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            (0..3)
                .map(|i| trace_lines(&dir.path().join(format!("node-{i}.jsonl")))[0]["network"]["run_id"].clone())
                .collect()
        })
        .collect();
    for run in &ids {
        assert!(run[0].is_string() && run.iter().all(|id| *id == run[0]), "one identity per run: {run:?}");
    }
    assert_ne!(ids[0][0], ids[1][0], "a fresh one each run");
}

#[test]
fn the_member_with_the_wrong_key_says_so_and_no_stuck_node_exits_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (good, wrong) = (dir.path().join("good.key"), dir.path().join("wrong.key"));
    keygen(&good);
    keygen(&wrong);
    let sockets: Vec<UdpSocket> = (0..3).map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind")).collect();
    let peers = sockets.iter().map(|s| s.local_addr().expect("bound").to_string()).collect::<Vec<_>>().join(",");
    drop(sockets);
    let mut children: Vec<Child> = (0..3)
        .map(|i| {
            let key = if i == 0 { &wrong } else { &good };
            Command::new(assert_cmd::cargo::cargo_bin("reparti"))
                .args(["node", "chang-roberts", "--me", &i.to_string(), "--peers", &peers, "--ids", "desc"])
                // Four retransmissions (about 1.5 s): time enough for a node started late
                // on a loaded machine to receive what it cannot open.
                .args(["--key-file", key.to_str().expect("utf-8"), "--give-up-after", "4"])
                .args(["--start-delay-ms", "500", "--idle-ms", "500"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let deadline = Instant::now() + LIMIT;
    let mut exits = vec![None; 3];
    while exits.iter().any(Option::is_none) {
        assert!(Instant::now() < deadline, "the nodes did not stop in time");
        for (child, exit) in children.iter_mut().zip(&mut exits) {
            if exit.is_none() {
                *exit = child.try_wait().expect("poll");
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stderr: Vec<String> = children
        .iter_mut()
        .map(|c| {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut c.stderr.take().expect("stderr"), &mut text).expect("read");
            text
        })
        .collect();
    for (i, exit) in exits.iter().enumerate() {
        assert_eq!(exit.and_then(|e| e.code()), Some(1), "node {i} could not finish: {}", stderr[i]);
    }
    let last = |i: usize| stderr[i].lines().last().unwrap_or("").to_string();
    assert!(last(0).contains("key is probably wrong"), "node 0 says its key is wrong: {}", stderr[0]);
    assert!(last(1).contains("every datagram from node 0"), "node 1 names node 0: {}", stderr[1]);
    assert!(stderr[2].contains("never acknowledged"), "node 2's messages to node 0: {}", stderr[2]);
    assert!(stderr.iter().all(|s| !s.contains("panicked")));
}
