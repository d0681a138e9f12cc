//! The ShiViz export re-checked against ShiViz's own rules, on hand-written traces and
//! on real simulator runs (losses, duplicates, crashes, reordering), and checked to
//! describe exactly the trace's happens-before relation.

mod common;

use common::shiviz_rules::{check_rules, check_trace, parse};
use reparti_core::trace::EventKind;
use reparti_viz::shiviz::{self, PARSER_REGEX};

#[test]
fn hand_written_traces_export_valid_logs() {
    for (name, trace) in
        [("election3", common::election3()), ("faulty4", common::faulty4()), ("mutex3", common::mutex3())]
    {
        check_trace(name, &trace);
        check_trace(&format!("{name} without vector clocks"), &common::without_vectors(trace));
    }
}

#[test]
fn simulated_traces_export_valid_logs() {
    let runs = common::simulated();
    let has = |kind: EventKind| runs.iter().any(|(_, t)| t.events.iter().any(|e| e.kind == kind));
    assert!(has(EventKind::Drop) && has(EventKind::Duplicate) && has(EventKind::Crash), "the runs cover every fault");
    for (name, trace) in &runs {
        check_trace(name, trace);
    }
}

#[test]
fn copying_the_traces_clocks_would_break_the_rules() {
    // Why the export recomputes clocks: the trace's own vector clocks do not tick on
    // outputs, so a host's entry repeats, which ShiViz rejects.
    let trace = common::election3();
    let mut log = format!("{PARSER_REGEX}\n\n");
    for e in &trace.events {
        let vc = e.vc.as_ref().expect("hand-written traces keep vector clocks");
        let entries: Vec<String> =
            vc.iter().enumerate().filter(|(_, &c)| c > 0).map(|(h, c)| format!("\"n{h}\":{c}")).collect();
        log.push_str(&format!("n{} {{{}}}\nx\n", e.node, entries.join(",")));
    }
    let entries = parse(&log).expect("well-formed");
    let err = check_rules(&entries).expect_err("a repeated own entry");
    assert!(err.contains("gap or a repeat"), "{err}");
}

#[test]
fn the_log_says_what_happened_to_each_message() {
    let log = shiviz::export(&common::faulty4()).expect("small");
    assert!(log.starts_with("(?<host>\\S*) (?<clock>{.*})\\n(?<event>.*)\n\n"), "{log}");
    assert!(log.contains("send PING #0 to n1: {\"Ping\":1}, lost (loss)"), "{log}");
    assert!(log.contains("send PING #1 to n2: {\"Ping\":2}, duplicated by the network"), "{log}");
    assert!(log.contains("send PONG #2 to n3: {\"Pong\":2}, lost (crashed)"), "{log}");
    assert!(log.contains("\nn3 {\"n3\":3}\ncrash @ t=2.5\n"), "{log}");
    assert!(log.contains("start (identity 40)"), "{log}");
    assert_eq!(log.matches("receive PING #1 from n1").count(), 2, "a duplicated message is received twice");
    assert!(!log.contains("\ndrop ") && !log.contains("\nduplicate "), "network events belong to no host");
}

#[test]
fn the_checker_catches_impermissible_clocks() {
    let log = shiviz::export(&common::election3()).expect("small");
    let entries = parse(&log).expect("well-formed");
    check_rules(&entries).expect("the export is valid");
    // A clock naming an event its host has not reached yet.
    let mut bad = parse(&log).expect("well-formed");
    bad[6].clock.insert("n0".into(), 9);
    assert!(check_rules(&bad).expect_err("n0:9 is out of reach").contains("has only reached"));
    // A clock that forgets what one of its parents knew: find an entry whose clock shows
    // host h through another host g's event, and lower h.
    let lookup = |h: &str, c: u64| entries.iter().filter(|e| e.host == h).nth(c as usize - 1).map(|e| &e.clock);
    let (at, h) = entries
        .iter()
        .enumerate()
        .find_map(|(a, e)| {
            e.clock.iter().filter(|(g, _)| **g != e.host).find_map(|(g, &c)| {
                let theirs = lookup(g, c)?;
                theirs
                    .iter()
                    .find(|(h, &x)| **h != e.host && *h != g && e.clock.get(*h) == Some(&x))
                    .map(|(h, _)| (a, h.clone()))
            })
        })
        .expect("election3 has transitive knowledge");
    let mut bad = parse(&log).expect("well-formed");
    if let Some(c) = bad[at].clock.get_mut(&h) {
        *c -= 1;
    }
    bad[at].clock.retain(|_, c| *c > 0);
    assert!(check_rules(&bad).expect_err("forgets a parent's knowledge").contains("impermissible"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any well-formed run, with any mix of losses, duplicates and crashes, exports a log
    /// ShiViz accepts and that describes the run's causality exactly.
    #[test]
    fn random_runs_export_valid_logs(
        n in 2usize..6,
        ops in proptest::collection::vec((0u8..8, 0u32..1000, 0u32..1000), 0..80),
    ) {
        let trace = common::random_trace(n, &ops);
        check_trace("random", &trace);
    }
}
