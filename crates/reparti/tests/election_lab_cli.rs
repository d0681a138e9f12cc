//! `reparti node chang-roberts-lab PORT --nodes N`: TP7's election as the sheet runs it —
//! one OS process per node, meeting through one registry file, each drawing its own
//! identity — and its errors.
//!
//! The nodes wait for each other through the registry themselves, so the test starts
//! them all and waits for them to finish: no sleep anywhere. Children are held in
//! [`Cluster`], which kills and reaps them when dropped (on success, failure or panic),
//! and every wait is bounded by [`LIMIT`].

mod common;

use common::{free_ports, reparti, usage_error, Cluster};
use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bound on a whole election: it takes about a second; this is for a loaded machine.
const LIMIT: Duration = Duration::from_secs(120);

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// One node's exit and output.
struct Finished {
    port: u16,
    ok: bool,
    out: String,
    err: String,
}

impl Finished {
    /// The number after `KEY = ` on its line.
    fn value(&self, key: &str) -> u64 {
        let prefix = format!("{key} = ");
        let line = self.out.lines().find_map(|l| l.strip_prefix(&prefix));
        line.and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("node {} printed no `{prefix}N`:\n{}\n{}", self.port, self.out, self.err))
    }
}

/// Starts one node per port in `dir`, all with `args`, and waits for every one to exit.
fn run_nodes(dir: &Path, ports: &[u16], args: &[&str]) -> Vec<Finished> {
    let mut cluster = Cluster(Vec::new());
    for port in ports {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
        cmd.current_dir(dir).args(["node", "chang-roberts-lab", &port.to_string()]).args(args);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cluster.0.push(cmd.spawn().expect("spawn reparti node"));
    }
    let deadline = Instant::now() + LIMIT;
    let mut statuses = vec![None; ports.len()];
    while statuses.iter().any(Option::is_none) {
        for (child, status) in cluster.0.iter_mut().zip(&mut statuses) {
            if status.is_none() {
                *status = child.try_wait().expect("poll a node");
            }
        }
        assert!(Instant::now() < deadline, "the nodes did not all stop within {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut finished = Vec::new();
    for ((child, status), port) in cluster.0.iter_mut().zip(statuses).zip(ports) {
        let (mut out, mut err) = (String::new(), String::new());
        child.stdout.take().expect("piped").read_to_string(&mut out).expect("read stdout");
        child.stderr.take().expect("piped").read_to_string(&mut err).expect("read stderr");
        finished.push(Finished { port: *port, ok: status.is_some_and(|s| s.success()), out, err });
    }
    finished
}

#[test]
fn four_nodes_elect_the_largest_drawn_identity_and_know_its_port() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("BDD.txt");
    let ports = free_ports(5);
    // A line left by a node of an earlier run that was killed: nobody holds its port.
    let stale = loopback(ports[4]);
    std::fs::write(&registry, format!("# an earlier run\n{stale}\n")).unwrap();
    let nodes = run_nodes(dir.path(), &ports[..4], &["--nodes", "4"]);
    for node in &nodes {
        assert!(node.ok, "node {} failed:\n{}\n{}", node.port, node.out, node.err);
    }
    let ids: Vec<u64> = nodes.iter().map(|n| n.value("ID")).collect();
    let max = *ids.iter().max().expect("four nodes");
    let winner = nodes[ids.iter().position(|id| *id == max).expect("the maximum")].port;
    for node in &nodes {
        assert_eq!(node.value("Leader_ID"), max, "node {} (ids {ids:?}):\n{}", node.port, node.out);
        assert_eq!(node.value("Leader_Port"), u64::from(winner), "node {}: the leader's real port", node.port);
    }
    let ring: Vec<String> = {
        let mut p = ports[..4].to_vec();
        p.sort();
        p.iter().map(ToString::to_string).collect()
    };
    let ring_line = format!("ring by port: {} → {}", ring.join(" → "), ring[0]);
    assert!(nodes.iter().all(|n| n.out.contains(&ring_line)), "every node forms the same ring: {ring_line}");
    let droppers =
        nodes.iter().filter(|n| n.out.contains(&format!("stale line(s) of an earlier run: {stale}"))).count();
    assert_eq!(droppers, 1, "the first node to register drops the stale line");
    let left = std::fs::read_to_string(&registry).unwrap();
    assert_eq!(left.trim(), "# an earlier run", "every node removed its line; other text is kept");
}

#[test]
fn a_node_left_alone_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_ports(1)[0];
    let nodes = run_nodes(dir.path(), &[port], &["--nodes", "2", "--wait-ms", "300"]);
    let node = &nodes[0];
    assert!(!node.ok, "{}", node.out);
    assert!(node.out.contains(&format!("registered {} in BDD.txt", loopback(port))), "{}", node.out);
    assert!(node.out.contains("ID = "), "the identity is drawn and shown at once: {}", node.out);
    assert_eq!(node.err.trim().lines().count(), 1, "{}", node.err);
    assert!(node.err.contains("only 1 of 2 nodes registered in BDD.txt"), "{}", node.err);
    assert!(!node.err.contains("panicked"), "{}", node.err);
    let left = std::fs::read_to_string(dir.path().join("BDD.txt")).unwrap();
    assert_eq!(left.trim(), "", "a node that gives up removes its line");
}

#[test]
fn more_live_members_than_nodes_is_an_error_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("BDD.txt");
    // Two live members (their ports are held): a mesh or another run sharing the file.
    let held: Vec<UdpSocket> = (0..2).map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind")).collect();
    let lines: Vec<String> = held.iter().map(|s| s.local_addr().unwrap().to_string()).collect();
    std::fs::write(&registry, lines.join("\n")).unwrap();
    let port = free_ports(1)[0];
    let nodes = run_nodes(dir.path(), &[port], &["--nodes", "2"]);
    let node = &nodes[0];
    assert!(!node.ok, "{}", node.out);
    assert!(node.err.contains("lists 3 members for --nodes 2"), "{}", node.err);
    assert!(lines.iter().all(|l| node.err.contains(l)), "{}", node.err);
    assert_eq!(node.err.trim().lines().count(), 1, "{}", node.err);
}

#[test]
fn usage_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("BDD.txt");
    let reg = registry.to_str().unwrap();
    // A registered port in use: a node runs there.
    let running = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let taken = running.local_addr().unwrap();
    std::fs::write(&registry, format!("{taken}\n")).unwrap();
    let taken_port = taken.port().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["node", "chang-roberts-lab", "5001"], "--nodes N"),
        (vec!["node", "chang-roberts-lab", "5001", "--nodes", "0"], "at least 1"),
        (vec!["node", "chang-roberts-lab", "5001", "--nodes", "1"], "at least 2"),
        (vec!["node", "chang-roberts-lab", "70000", "--nodes", "3"], "70000"),
        (vec!["node", "chang-roberts-lab", "5001", "5002", "--nodes", "3"], "TP7's shape"),
        (vec!["node", "chang-roberts-lab", "5001", "--nodes", "3", "--ids", "1,2,3"], "draws its own identity"),
        (vec!["node", "chang-roberts-lab", "5001", "--nodes", "3", "--peers", "127.0.0.1:1"], "drop --peers"),
        (vec!["node", "chang-roberts-lab", "5001", "--nodes", "3", "--param", "bogus=1"], "bogus"),
        (vec!["node", "chang-roberts", "--registry", "BDD.txt", "--peers", "127.0.0.1:1"], "TP7's lab shape"),
        (vec!["node", "chang-roberts-lab", &taken_port, "--nodes", "2", "--registry", reg], "already in the registry"),
    ];
    for (args, expected) in cases {
        let err = usage_error(&args);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_to_string(&registry).unwrap(), format!("{taken}\n"), "nothing registered");
    drop(running);
    // The help shows the shape's flags.
    let help = reparti().args(["node", "--help"]).output().expect("reparti runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--registry") && help.contains("--wait-ms") && help.contains("--nodes"), "{help}");
}
