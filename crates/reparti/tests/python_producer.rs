//! The Python producer (examples/python/producer.py, TP5 exercise 2 written the sheet's
//! way with `threading.Event`) joins a reparti consumer and a reparti producer through
//! the registry file and the documented wire format, plain and Fernet-sealed: its items
//! wait for the token, fill the consumer's memory ("memory full"), and every item of both
//! producers is consumed exactly once, in its producer's order.
//!
//! Skipped, saying why, only when python3 (with `cryptography`, for the sealed run) is
//! absent; CI installs both (`.ci/run`). No fixed sleep: every step waits for a line.

mod common;
mod tp5_terminal;

use common::{python_ready, reparti, Cluster};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use tp5_terminal::{consumed, data_values, free_ports, quit, Terminal};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/python/producer.py")
}

fn python_producer_with_reparti(key: Option<&Path>) {
    let dir = tempfile::tempdir().expect("scratch folder");
    let key_args: Vec<String> = key.map(|k| vec!["--key-file".into(), k.display().to_string()]).unwrap_or_default();
    // The consumer on the highest port; the reparti producer (#1) and Python (#2) below it.
    let ports = free_ports(3);
    let (reparti_port, python_port, consumer) = (ports[0], ports[1], ports[2].to_string());
    let mut cluster = Cluster(Vec::new());
    let with_key = |mut args: Vec<String>| {
        args.extend(key_args.iter().cloned());
        args
    };
    let mut c = Terminal::start(
        &mut cluster,
        dir.path(),
        "reparti consumer",
        &with_key(vec![
            consumer.clone(),
            "consumer".into(),
            "--nodes".into(),
            "3".into(),
            "--wake-ms".into(),
            "100".into(),
        ]),
    );
    let mut p1 = Terminal::start(
        &mut cluster,
        dir.path(),
        "reparti producer",
        &with_key(vec![reparti_port.to_string(), consumer.clone(), "--nodes".into(), "3".into()]),
    );
    let mut py = Command::new("python3");
    py.current_dir(dir.path()).arg(example()).args([&python_port.to_string(), &consumer, "--nodes", "3"]);
    py.args(["--items", "21,22,23,24", "--interactive"]).args(&key_args);
    let mut p2 = Terminal::spawn(&mut cluster, "python producer", py);

    c.expect("console", |l| l.starts_with("console: type `help`"));
    p1.expect("console", |l| l.starts_with("console: type `help`"));
    p2.expect("ready", |l| l.starts_with("ready"));
    let order = format!("the token goes {consumer} → {reparti_port} → {python_port} → {consumer} (this node is #2)");
    assert!(
        p2.seen.contains(&format!("consumer {consumer}, producers {reparti_port}, {python_port}; {order}")),
        "{:?}",
        p2.seen
    );
    // The items given on the command line are queued before the token can arrive.
    assert!(p2.seen.iter().any(|l| l == "produced 24: waiting for the token (4 items queued)"), "{:?}", p2.seen);
    for v in [11, 12] {
        p1.type_line(&format!("produce {v}"));
    }

    p2.expect("the token arriving", |l| l == "token: sending 4 waiting items");
    p2.expect("memory full", |l| l.starts_with("memory full"));
    c.expect("memory full", |l| l == "[node 0] memory = full (3 items): emptying it");
    p2.expect("RESUME", |l| l.starts_with("memory emptied (RESUME)"));
    p2.expect("its last item stored", |l| l == "stored 24 (item #3)");
    c.expect_nth(6, "every item consumed", |l| l.starts_with("[node 0] consumed = "));

    let eaten = consumed(&c);
    for (p, n) in [(1u32, 2u32), (2, 4)] {
        let mine: Vec<u32> = eaten.iter().filter(|(q, _)| *q == p).map(|(_, s)| *s).collect();
        assert_eq!(mine, (0..n).collect::<Vec<_>>(), "producer {p}'s items, each once, in order: {eaten:?}");
    }
    let values = data_values(&c);
    let from_python: Vec<i64> = values.range((2, 0)..(3, 0)).map(|(_, v)| *v).collect();
    assert_eq!(from_python, vec![21, 22, 23, 24], "Python's items as it produced them");

    // Python first: it leaves once the token has left it.
    quit(&mut p2, &mut cluster, 2);
    let summary: Value = serde_json::from_str(p2.seen.last().expect("a summary")).expect("its last line is JSON");
    assert_eq!((summary["stored"].as_u64(), summary["queued"].as_u64()), (Some(4), Some(0)), "{summary}");
    assert_eq!(summary["has_token"], false);
    assert_eq!(summary["dropped"], 0, "every datagram understood: {summary}");
    assert!(summary["fulls"].as_u64() >= Some(1), "{summary}");
    quit(&mut p1, &mut cluster, 1);
    quit(&mut c, &mut cluster, 0);
    assert!(c.seen.contains(&"consumed 6 items; the memory holds 0".to_string()), "{:?}", c.seen);
    let left = std::fs::read_to_string(dir.path().join("BDD.txt")).expect("the registry");
    assert_eq!(left.trim(), "", "every node, Python's included, removed its line");
}

#[test]
fn a_python_producer_joins_a_reparti_consumer() {
    if python_ready(false) {
        python_producer_with_reparti(None);
    }
}

#[test]
fn a_python_producer_joins_an_encrypted_reparti_lab() {
    if !python_ready(true) {
        return;
    }
    let dir = tempfile::tempdir().expect("scratch folder");
    let key = dir.path().join("lab.key");
    reparti().args(["keygen", "-o"]).arg(&key).assert().success();
    python_producer_with_reparti(Some(&key));
}
