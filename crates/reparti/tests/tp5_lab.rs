//! TP5 as a student runs it: `reparti node producer-consumer PORT consumer --nodes 3` in
//! one terminal, `reparti node producer-consumer PORT CONSUMER_PORT --nodes 3` in two
//! others, the three meeting through one registry file, each driven through its console.
//!
//! Items typed at the producers wait for the token ("waiting = for the token"), leave
//! when it arrives ("token = sending 4 waiting items"), fill the consumer's memory
//! ("memory = full"), and are consumed exactly once each, in each producer's order.
//!
//! No fixed sleep: every step waits for the line that says the last one happened, within
//! `tp5_terminal::LIMIT` (generous, for a loaded machine; nothing is timed). The children are held in
//! [`Cluster`], which kills them by PID and reaps them on every way out.

mod common;
mod tp5_terminal;

use common::{usage_error, Cluster};
use std::path::Path;
use tp5_terminal::{consumed, data_values, free_ports, quit, Terminal};

/// The console is attached: the node runs.
fn console_up(line: &str) -> bool {
    line.starts_with("console: type `help`")
}

/// Starts the consumer on `ports[2]` and producers on `ports[0]` and `ports[1]` (so the
/// consumer is not the lowest port: its position comes from its role, not its port).
fn start_lab(cluster: &mut Cluster, dir: &Path, ports: &[u16], consumer_flags: &[&str]) -> [Terminal; 3] {
    let consumer = ports[2].to_string();
    let mut c_args = vec![consumer.clone(), "consumer".into(), "--nodes".into(), "3".into()];
    c_args.extend(consumer_flags.iter().map(ToString::to_string));
    let c = Terminal::start(cluster, dir, "consumer", &c_args);
    let p = |port: u16| vec![port.to_string(), consumer.clone(), "--nodes".into(), "3".into()];
    let p1 = Terminal::start(cluster, dir, "producer 1", &p(ports[0]));
    let p2 = Terminal::start(cluster, dir, "producer 2", &p(ports[1]));
    let mut terminals = [c, p1, p2];
    for t in &mut terminals {
        t.expect("console", console_up);
        let order = format!("the token goes {} → {} → {} → {}", ports[2], ports[0], ports[1], ports[2]);
        assert!(t.seen.iter().any(|l| l.contains(&order)), "{}: the order {order}:\n{}", t.name, t.seen.join("\n"));
    }
    terminals
}

fn quit_all(terminals: &mut [Terminal; 3], cluster: &mut Cluster) {
    // The producers first, while the token rests at the consumer or goes round.
    for i in [1, 2, 0] {
        quit(&mut terminals[i], cluster, i);
    }
}

#[test]
fn three_terminals_items_wait_for_the_token_fill_the_memory_and_are_consumed_once_in_order() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let ports = free_ports(3);
    let mut cluster = Cluster(Vec::new());
    // --wake-ms 0: the token rests at the consumer until `wake`, so that the items typed
    // meanwhile certainly wait for it.
    let mut t = start_lab(&mut cluster, dir.path(), &ports, &["--wake-ms", "0", "--param", "drain_time=200"]);
    t[0].expect("the token's first revolution", |l| l == "[node 0] lap = 1");

    let typed: [&[i64]; 3] = [&[], &[11, 12, 13, 14], &[21, 22]];
    for p in [1, 2] {
        for (k, v) in typed[p].iter().enumerate() {
            t[p].type_line(&format!("produce {v}"));
            let waiting =
                format!("[node {p}] waiting = for the token ({} item{} queued)", k + 1, if k == 0 { "" } else { "s" });
            t[p].expect(&waiting.clone(), move |l| l == waiting);
        }
    }
    assert_eq!(t[0].count(|l| l.contains("DATA from")), 0, "nothing was written without the token");

    t[0].type_line("wake");
    t[1].expect("the token arriving", |l| l == "[node 1] token = sending 4 waiting items");
    t[2].expect("the token arriving", |l| l == "[node 2] token = sending 2 waiting items");
    // 11 12 13 fill the memory of 3; then 14, 21, 22 fill it again.
    let full = |l: &str| l == "[node 0] memory = full (3 items): emptying it";
    t[0].expect_nth(2, "memory full", full);
    t[1].expect("FULL at the producer", |l| l.starts_with("[node 1] FULL from node 0"));
    t[0].expect_nth(6, "every item consumed", |l| l.starts_with("[node 0] consumed = "));

    let order = consumed(&t[0]);
    let expected: Vec<(u32, u32)> = vec![(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)];
    assert_eq!(order, expected, "each item once, in each producer's order");
    let values = data_values(&t[0]);
    for p in [1u32, 2] {
        let written: Vec<i64> = values.range((p, 0)..(p + 1, 0)).map(|(_, v)| *v).collect();
        assert_eq!(written, typed[p as usize], "producer {p}'s items, as typed");
    }

    quit_all(&mut t, &mut cluster);
    assert!(t[0].seen.iter().any(|l| l == "consumed 6 items; the memory holds 0"), "{}", t[0].seen.join("\n"));
    assert!(t[1].seen.iter().any(|l| l == "produced 4 items, 4 stored at the consumer"));
    assert_eq!(t[0].count(full), 2, "the memory filled exactly twice");
    let left = std::fs::read_to_string(dir.path().join("BDD.txt")).expect("the registry");
    assert_eq!(left.trim(), "", "every node removed its line");
}

#[test]
fn by_default_the_token_comes_round_by_itself_and_typed_items_reach_the_consumer() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let ports = free_ports(3);
    let mut cluster = Cluster(Vec::new());
    let mut t = start_lab(&mut cluster, dir.path(), &ports, &["--wake-ms", "100"]);
    // The token rested after its first revolution, and the consumer sent it round again
    // by itself: nobody types `wake` in this test.
    t[0].expect("a wake without `wake` typed", |l| l == "[node 0] wake = 1");
    for v in [1, 2, 3, 4] {
        t[2].type_line(&format!("produce {v}"));
    }
    t[0].expect("memory full", |l| l.starts_with("[node 0] memory = full"));
    t[0].expect_nth(4, "every item consumed", |l| l.starts_with("[node 0] consumed = 2#"));
    assert_eq!(consumed(&t[0]), vec![(2, 0), (2, 1), (2, 2), (2, 3)]);
    quit_all(&mut t, &mut cluster);
}

#[test]
fn a_lab_node_started_wrong_says_so_in_one_line() {
    let e = usage_error(&["node", "producer-consumer", "5000", "--nodes", "3"]);
    assert!(e.contains("5000 consumer --nodes N") && e.contains("CONSUMER_PORT"), "{e}");
    let e = usage_error(&["node", "producer-consumer", "5000", "consumer"]);
    assert!(e.contains("--nodes N"), "{e}");
    let e = usage_error(&["node", "producer-consumer", "5001", "5001", "--nodes", "3"]);
    assert!(e.contains("own address"), "{e}");
    let e = usage_error(&["node", "producer-consumer", "5001", "consumr", "--nodes", "3"]);
    assert!(e.contains("neither a port nor HOST:PORT"), "{e}");
    let e = usage_error(&["node", "producer-consumer", "5000", "consumer", "--nodes", "1"]);
    assert!(e.contains("at least one producer"), "{e}");
    let e = usage_error(&["node", "producer-consumer", "5000", "consumer", "--nodes", "3", "--peers", "127.0.0.1:1"]);
    assert!(e.contains("drop --peers"), "{e}");
    let e = usage_error(&["node", "producer-consumer", "5000", "consumer", "--nodes", "3", "--param", "buffer=0"]);
    assert!(e.contains("buffer"), "{e}");
    let e =
        usage_error(&["node", "chang-roberts", "--peers", "127.0.0.1:1,127.0.0.1:2", "--me", "0", "--wake-ms", "5"]);
    assert!(e.contains("--wake-ms is for TP5"), "{e}");
}
