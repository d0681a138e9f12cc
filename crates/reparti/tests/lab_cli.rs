//! The labs' shapes of `reparti node`: TP3's `token-ring LOCAL NEXT [jeton]` ring of
//! processes that know only their successor, and the console of an algorithm node.

mod common;

use common::{usage_error, Cluster};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `n` loopback ports that were free a moment ago.
fn free_ports(n: usize) -> Vec<u16> {
    let sockets: Vec<UdpSocket> = (0..n).map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind")).collect();
    sockets.iter().map(|s| s.local_addr().expect("bound").port()).collect()
}

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
fn tp3_ring_of_processes_that_know_only_their_successor() {
    let ports = free_ports(4);
    let mut cluster = Cluster(Vec::new());
    for i in 0..ports.len() {
        let (local, next) = (ports[i].to_string(), ports[(i + 1) % ports.len()].to_string());
        let mut cmd = reparti_cmd();
        cmd.args(["node", "token-ring", &local, &next]);
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
fn the_console_passes_the_token_and_answers_questions() {
    let ports = free_ports(2);
    let mut cluster = Cluster(Vec::new());
    for i in 0..2 {
        let (local, next) = (ports[i].to_string(), ports[(i + 1) % 2].to_string());
        let mut cmd = reparti_cmd();
        cmd.args(["node", "token-ring", &local, &next]);
        if i == 0 {
            cmd.arg("jeton");
        }
        cmd.args(["--interactive", "--json", "--start-delay-ms", "300"]);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cluster.0.push(cmd.spawn().expect("spawn"));
    }
    let say = |child: &mut Child, text: &str| {
        child.stdin.as_mut().expect("stdin").write_all(text.as_bytes()).expect("write");
    };
    std::thread::sleep(Duration::from_millis(600));
    // Node 0 holds the token (TP3's manual mode): release passes it to node 1, which
    // releases it back; then both answer questions and quit.
    say(&mut cluster.0[0], "clock\nrelease\n");
    std::thread::sleep(Duration::from_millis(300));
    say(&mut cluster.0[1], "state\nrelease\npeers\nbogus\nquit\n");
    std::thread::sleep(Duration::from_millis(300));
    say(&mut cluster.0[0], "help\nquit\n");
    let outs = outputs(&mut cluster);
    assert!(outs[0].contains("lamport 1"), "clock answers: {}", outs[0]);
    assert!(outs[0].contains("release"), "help lists the commands: {}", outs[0]);
    assert!(outs[1].contains("TOKEN from node 1"), "a received message prints with its sender: {}", outs[1]);
    assert!(outs[1].contains("lamport"), "and its clocks: {}", outs[1]);
    assert!(outs[1].contains("has_token"), "state answers: {}", outs[1]);
    assert!(outs[1].contains("(this node)"), "peers answers: {}", outs[1]);
    assert!(outs[1].contains("help"), "an unknown command says how to get help: {}", outs[1]);
    // Each printed a JSON summary last: the token went 0 → 1 → 0.
    let last_json = |out: &str| -> Value {
        let start = out.rfind("\n{").map_or(0, |i| i + 1);
        serde_json::from_str(&out[start..]).expect("a JSON summary at the end")
    };
    let (a, b) = (last_json(&outs[0]), last_json(&outs[1]));
    assert_eq!((a["sent"]["TOKEN"].as_u64(), b["sent"]["TOKEN"].as_u64()), (Some(1), Some(1)));
    assert_eq!((a["state"]["has_token"].as_bool(), b["state"]["has_token"].as_bool()), (Some(true), Some(false)));
}

#[test]
fn lab_shape_mistakes_are_one_line() {
    let e = usage_error(&["node", "chang-roberts", "5001", "5002"]);
    assert!(e.contains("token-ring"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001"]);
    assert!(e.contains("LOCAL_PORT NEXT_PORT"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "jetons"]);
    assert!(e.contains("jeton"), "{e}");
    let e = usage_error(&["node", "token-ring", "5001", "5002", "--peers", "127.0.0.1:1,127.0.0.1:2"]);
    assert!(e.contains("--peers"), "{e}");
}
