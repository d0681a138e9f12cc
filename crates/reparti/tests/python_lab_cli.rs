//! The Python lab node (examples/python/token_ring_node.py) joins a ring of real
//! `reparti node token-ring` processes through the documented protocol, with and
//! without Fernet encryption: the token goes round exactly `laps · n` times, is never
//! duplicated, and every data message arrives once — the same outcome as a ring of
//! reparti nodes only.

mod common;

use common::{free_peers, python_ready, Cluster};
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/python/token_ring_node.py")
}

/// The last line of a finished child's stdout, as JSON.
fn last_json(child: &mut Child, who: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("poll") {
            break s;
        }
        assert!(Instant::now() < deadline, "{who} did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("read");
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("read");
    assert!(status.success(), "{who} failed: {err}");
    let text = out.trim();
    // reparti prints one pretty JSON object; the Python node ends with one JSON line.
    let start =
        if text.starts_with('{') && who.starts_with("reparti") { 0 } else { text.rfind('\n').map_or(0, |i| i + 1) };
    serde_json::from_str(&text[start..]).unwrap_or_else(|e| panic!("{who} printed no JSON summary ({e}): {text}"))
}

fn python_joins_a_reparti_ring(key: Option<&std::path::Path>) {
    const LAPS: u64 = 3;
    let peers = free_peers(4);
    let key_args: Vec<String> = key.map(|k| vec!["--key-file".into(), k.display().to_string()]).unwrap_or_default();
    let mut cluster = Cluster(Vec::new());
    // The Python node at position 2, with two data messages of its own to send.
    let mut py = Command::new("python3");
    py.arg(example()).args(["--me", "2", "--peers", &peers, "--laps", &LAPS.to_string(), "--idle-ms", "3000"]);
    py.args(["--send", "0:hello-from-python", "--send", "3:bonjour"]).args(&key_args);
    cluster.0.push(py.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn python3"));
    for me in [0, 1, 3] {
        let mut node = Command::new(assert_cmd::cargo::cargo_bin("reparti"));
        node.args(["node", "token-ring", "--me", &me.to_string(), "--peers", &peers, "--ids", "asc", "--seed", "1"]);
        node.args(["--param", &format!("laps={LAPS}"), "--reliable", "off", "--json"]);
        node.args(["--start-delay-ms", "1000", "--idle-ms", "2000"]).args(&key_args);
        cluster.0.push(node.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn"));
    }
    let python = last_json(&mut cluster.0[0], "python");
    let nodes: Vec<Value> = (1..4).map(|i| last_json(&mut cluster.0[i], &format!("reparti node #{i}"))).collect();
    let tokens_sent: u64 = nodes.iter().map(|r| r["sent"]["TOKEN"].as_u64().unwrap_or(0)).sum::<u64>()
        + python["tokens_sent"].as_u64().unwrap_or(0);
    let tokens_received: u64 = nodes.iter().map(|r| r["received"]["TOKEN"].as_u64().unwrap_or(0)).sum::<u64>()
        + python["tokens_received"].as_u64().unwrap_or(0);
    assert_eq!((tokens_sent, tokens_received), (LAPS * 4, LAPS * 4), "laps·n tokens, none lost or duplicated");
    let holders =
        nodes.iter().filter(|r| r["state"]["has_token"] == true).count() + usize::from(python["has_token"] == true);
    assert_eq!(holders, 1, "one token at the end");
    assert_eq!(nodes[0]["state"]["has_token"], true, "resting at the holder, node 0");
    // The reparti nodes' seeded workload (3 each, to random nodes) plus Python's 2, each
    // delivered exactly once; the Python node's own arrive where it sent them.
    let delivered: usize = nodes.iter().map(|r| r["state"]["delivered"].as_array().map_or(0, Vec::len)).sum::<usize>()
        + python["delivered"].as_array().map_or(0, Vec::len);
    assert_eq!(delivered, 3 * 3 + 2);
    // Python's two arrive at nodes 0 and 3, from origin 2, after 2 and 1 hops.
    let from_python = |r: &Value| -> Vec<u64> {
        let all = r["state"]["delivered"].as_array().cloned().unwrap_or_default();
        all.iter().filter(|d| d["origin"] == 2).filter_map(|d| d["hops"].as_u64()).collect()
    };
    assert_eq!(from_python(&nodes[0]), vec![2], "node 0 got Python's message after 2 hops");
    assert_eq!(from_python(&nodes[2]), vec![1], "node 3 got Python's message after 1 hop");
    let drops: u64 = nodes
        .iter()
        .flat_map(|r| r["dropped"].as_object().cloned().unwrap_or_default().into_values())
        .filter_map(|v| v.as_u64())
        .sum::<u64>()
        + python["dropped"].as_u64().unwrap_or(0);
    assert_eq!(drops, 0, "every datagram understood on both sides");
}

#[test]
fn a_python_lab_node_joins_a_reparti_token_ring() {
    if python_ready(false) {
        python_joins_a_reparti_ring(None);
    }
}

#[test]
fn a_python_lab_node_joins_an_encrypted_reparti_token_ring() {
    if !python_ready(true) {
        return;
    }
    let dir = tempfile::tempdir().expect("scratch folder");
    let key = dir.path().join("key");
    let out = Command::new(assert_cmd::cargo::cargo_bin("reparti")).args(["keygen", "-o"]).arg(&key).output();
    assert!(out.is_ok_and(|o| o.status.success()), "keygen works");
    python_joins_a_reparti_ring(Some(&key));
}
