//! The labs' shapes of `reparti node`: TP3's `token-ring LOCAL PREV [jeton]` ring of
//! processes that know only their predecessor, in automatic mode, and the one-line
//! mistakes of the lab shapes. The console, Python interoperation and the sheet's
//! exercises are in `lab_ring_cli.rs`.

mod common;

use common::{free_ports, usage_error, Cluster};
use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn reparti_cmd() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("reparti"))
}

/// Waits for every child (bounded) and returns their stdout.
fn outputs(cluster: &mut Cluster) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut outs = Vec::new();
    for (i, child) in cluster.0.iter_mut().enumerate() {
        loop {
            if let Some(status) = child.try_wait().expect("poll") {
                let mut out = String::new();
                child.stdout.take().expect("stdout").read_to_string(&mut out).expect("read");
                let mut err = String::new();
                child.stderr.take().expect("stderr").read_to_string(&mut err).expect("read");
                assert!(status.success(), "node {i} failed: {err}");
                outs.push(out);
                break;
            }
            assert!(Instant::now() < deadline, "node {i} did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    outs
}

#[test]
fn tp3_ring_of_processes_that_know_only_their_predecessor() {
    let ports = free_ports(4);
    let mut cluster = Cluster(Vec::new());
    for i in 0..ports.len() {
        let n = ports.len();
        let (local, prev) = (ports[i].to_string(), ports[(i + n - 1) % n].to_string());
        let mut cmd = reparti_cmd();
        cmd.args(["node", "token-ring", &local, &prev]);
        if i == 0 {
            cmd.arg("jeton");
        }
        cmd.args(["--param", "laps=5", "--idle-ms", "800", "--json"]);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cluster.0.push(cmd.spawn().expect("spawn"));
    }
    let reports: Vec<Value> =
        outputs(&mut cluster).iter().map(|o| serde_json::from_str(o).expect("a JSON summary")).collect();
    // The token went round the four processes five times and rests at the `jeton` node.
    let sent: u64 = reports.iter().map(|r| r["sent"]["TOKEN"].as_u64().unwrap_or(0)).sum();
    let received: u64 = reports.iter().map(|r| r["received"]["TOKEN"].as_u64().unwrap_or(0)).sum();
    assert_eq!((sent, received), (20, 20));
    let holders: Vec<usize> =
        reports.iter().enumerate().filter(|(_, r)| r["state"]["has_token"] == true).map(|(i, _)| i).collect();
    assert_eq!(holders, vec![0], "one token, back at the node started with `jeton`");
}

#[test]
fn lab_shape_mistakes_are_one_line() {
    let e = usage_error(&["node", "chang-roberts", "5001", "5002"]);
    assert!(e.contains("token-ring"), "{e}");
    // One port alone is TP4 exercise 3's ring from the registry (tests/registry_ring.rs).
    let e = usage_error(&["node", "token-ring", "5001", "5002", "5003", "5004"]);
    assert!(e.contains("LOCAL_PORT PREV_PORT"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "jetons"]);
    assert!(e.contains("jeton"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "--peers", "127.0.0.1:1,127.0.0.1:2"]);
    assert!(e.contains("--peers"), "{e}");
}
