//! `reparti node`: a cluster of real OS processes on loopback, and its usage errors.
//!
//! Each cluster test starts one child per node and holds them in a guard that kills and
//! reaps whatever is still running when it is dropped, on success, failure or panic, so no
//! process outlives the test; every wait is bounded.

mod common;

use common::{free_addrs, reparti, usage_error, Cluster};
use serde_json::Value;
use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bound on a whole cluster: start delay + a few ms of election + the idle stop, with room
/// for a loaded machine.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs an `n`-node Chang–Roberts cluster (desc identities) and returns each node's
/// standard output.
fn run_cluster(n: usize, extra: &[&str]) -> Vec<String> {
    let addrs = free_addrs(n);
    let peers = addrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let mut cluster = Cluster(Vec::new());
    for i in 0..addrs.len() {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
        cmd.args(["node", "chang-roberts", "--me", &i.to_string(), "--peers", &peers]);
        cmd.args(["--ids", "desc", "--idle-ms", "1500"]).args(extra);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cluster.0.push(cmd.spawn().expect("spawn reparti node"));
    }
    let deadline = Instant::now() + LIMIT;
    let mut statuses = vec![None; cluster.0.len()];
    while statuses.iter().any(Option::is_none) {
        assert!(Instant::now() < deadline, "the cluster did not stop within {LIMIT:?}");
        for (child, status) in cluster.0.iter_mut().zip(&mut statuses) {
            if status.is_none() {
                *status = child.try_wait().expect("poll child");
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut reports = Vec::new();
    for (i, (child, status)) in cluster.0.iter_mut().zip(&statuses).enumerate() {
        let (mut out, mut err) = (String::new(), String::new());
        if let Some(mut s) = child.stdout.take() {
            s.read_to_string(&mut out).expect("read stdout");
        }
        if let Some(mut s) = child.stderr.take() {
            s.read_to_string(&mut err).expect("read stderr");
        }
        assert!(status.is_some_and(|s| s.success()), "node {i} failed: {err}");
        reports.push(out);
    }
    reports
}

/// Runs a 4-node cluster with `--json` and parses each node's report.
fn json_cluster(extra: &[&str]) -> Vec<Value> {
    let args: Vec<&str> = ["--json"].iter().chain(extra).copied().collect();
    run_cluster(4, &args)
        .iter()
        .enumerate()
        .map(|(i, out)| serde_json::from_str(out).unwrap_or_else(|e| panic!("node {i} JSON ({e}): {out}")))
        .collect()
}

/// Every node learns leader 4, exactly one is the leader, and desc identities cost
/// 4 + 3 + 2 + 1 = 10 ELECT messages with all nodes initiating.
fn check_election(reports: &[Value]) {
    let mut leaders = 0;
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r["me"], i as u64);
        let outs: Vec<&Value> = r["outputs"].as_array().expect("outputs").iter().collect();
        assert_eq!(outs.len(), 1, "node {i} outputs once: {outs:?}");
        assert_eq!(outs[0]["key"], "leader");
        assert_eq!(outs[0]["value"], 4, "node {i}");
        assert_eq!(r["send_errors"], 0);
        if r["state"]["role"].as_str().is_some_and(|role| role.eq_ignore_ascii_case("leader")) {
            leaders += 1;
            assert_eq!(r["identity"], 4, "the leader is the maximum");
        }
        let drops: u64 = r["dropped"].as_object().expect("drops").values().filter_map(Value::as_u64).sum();
        assert_eq!(drops, 0, "node {i} dropped datagrams");
    }
    assert_eq!(leaders, 1, "exactly one leader");
    let elect: u64 = reports.iter().filter_map(|r| r["sent"]["ELECT"].as_u64()).sum();
    let received: u64 = reports.iter().filter_map(|r| r["received"]["ELECT"].as_u64()).sum();
    let elected: u64 = reports.iter().filter_map(|r| r["sent"]["ELECTED"].as_u64()).sum();
    assert_eq!(elect, 10, "desc worst case: n(n+1)/2 ELECT");
    assert_eq!(received, 10, "nothing lost on loopback");
    assert_eq!(elected, 4);
}

#[test]
fn four_processes_elect_the_maximum() {
    check_election(&json_cluster(&[]));
}

#[test]
fn four_processes_elect_over_encrypted_datagrams() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("cluster.key");
    reparti().args(["keygen", "-o"]).arg(&key).assert().success();
    let key = key.to_str().expect("a UTF-8 temp path");
    check_election(&json_cluster(&["--key-file", key]));
}

#[test]
fn text_summary_names_the_leader() {
    // Two nodes, identities 2 and 1: both learn leader 2; node 1 forwards node 0's ELECT.
    let outs = run_cluster(2, &[]);
    for (i, text) in outs.iter().enumerate() {
        assert!(text.contains(&format!("chang-roberts node {i} of 2")), "{text}");
        assert!(text.contains("leader = 2"), "{text}");
        assert!(text.contains("dropped: none"), "{text}");
    }
    assert!(outs[1].contains("sent: ELECT 2, ELECTED 1"), "{}", outs[1]);
}

#[test]
fn usage_errors_are_one_line() {
    let peers = "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4";
    let cases: [(&[&str], &str); 5] = [
        (&["node", "chang-roberts", "--me", "9", "--peers", peers], "out of range"),
        (&["node", "chang-roberts", "--me", "0", "--peers", "127.0.0.1:1,nonsense"], "nonsense"),
        (&["node", "chang-robert", "--me", "0", "--peers", peers], "unknown algorithm"),
        (&["node", "chang-roberts", "--me", "0", "--peers", peers, "--key-file", "/nonexistent/k.key"], "k.key"),
        (&["node", "chang-roberts", "--me", "0", "--peers", peers, "--wire", "xml"], "wire"),
    ];
    for (args, needle) in cases {
        let err = usage_error(args);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn a_port_in_use_is_a_usage_error() {
    let held = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let peers = format!("{},127.0.0.1:1", held.local_addr().expect("bound"));
    let err = usage_error(&["node", "chang-roberts", "--me", "0", "--peers", &peers]);
    assert!(err.contains("already in use"), "{err}");
}

#[test]
fn four_processes_elect_over_tcp() {
    check_election(&json_cluster(&["--transport", "tcp"]));
}

/// Runs four nodes from one cluster file (each told only its position) and returns their
/// JSON reports.
fn cluster_file_run(addrs: &[SocketAddr], extra: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cluster.toml");
    let nodes: Vec<String> = addrs.iter().map(|a| format!("\"{a}\"")).collect();
    let text = format!("nodes = [{}]\nids = \"desc\"\nseed = 3\n{extra}", nodes.join(", "));
    std::fs::write(&file, text).expect("write the cluster file");
    let mut cluster = Cluster(Vec::new());
    for i in 0..addrs.len() {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
        cmd.args(["node", "chang-roberts", "--cluster"]).arg(&file).args(["--me", &i.to_string(), "--json"]);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cluster.0.push(cmd.spawn().expect("spawn"));
    }
    let deadline = Instant::now() + LIMIT;
    let mut reports = Vec::new();
    for (i, child) in cluster.0.iter_mut().enumerate() {
        let status = loop {
            if let Some(s) = child.try_wait().expect("poll") {
                break s;
            }
            assert!(Instant::now() < deadline, "node {i} did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        let (mut out, mut err) = (String::new(), String::new());
        child.stdout.take().expect("stdout").read_to_string(&mut out).expect("read");
        child.stderr.take().expect("stderr").read_to_string(&mut err).expect("read");
        assert!(status.success(), "node {i} failed: {err}");
        reports.push(serde_json::from_str(&out).expect("JSON"));
    }
    reports
}

#[test]
fn a_cluster_file_names_every_node_over_tcp() {
    check_election(&cluster_file_run(&free_addrs(4), "transport = \"tcp\"\n"));
}

#[test]
fn nodes_speak_ipv6() {
    let sockets: Vec<UdpSocket> = match (0..4).map(|_| UdpSocket::bind("[::1]:0")).collect() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skipped: no IPv6 loopback here ({e})");
            return;
        }
    };
    let addrs: Vec<SocketAddr> = sockets.iter().map(|s| s.local_addr().expect("bound")).collect();
    drop(sockets);
    check_election(&cluster_file_run(&addrs, ""));
}

#[test]
fn an_unreachable_peer_is_given_up_with_a_clear_error() {
    let addrs = free_addrs(2);
    let peers = format!("{},{}", addrs[0], addrs[1]);
    // Node 1 never starts: node 0's ELECT is retransmitted, then given up.
    let out = reparti()
        .args(["node", "chang-roberts", "--me", "0", "--peers", &peers, "--give-up-after", "2"])
        .args(["--start-delay-ms", "0", "--idle-ms", "200"])
        .timeout(LIMIT)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("never acknowledged") && stderr.contains(&addrs[1].to_string()), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_bad_cluster_file_is_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cluster.toml");
    std::fs::write(&file, "nodes = [\"127.0.0.1:1\"]\ntopolgy = \"ring\"\n").expect("write");
    let path = file.to_str().expect("utf-8");
    let err = usage_error(&["node", "chang-roberts", "--cluster", path, "--me", "0"]);
    assert!(err.contains("line 2") && err.contains("topolgy"), "{err}");
    let err = usage_error(&["node", "chang-roberts", "--cluster", "/nonexistent/cluster.toml", "--me", "0"]);
    assert!(err.contains("/nonexistent/cluster.toml"), "{err}");
}
