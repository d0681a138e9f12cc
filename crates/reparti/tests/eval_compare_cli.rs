//! `reparti eval A B C … --per OUTPUT --since OUTPUT`: several algorithms on one
//! workload, per unit of work. The four flow-control designs compared per item
//! consumed: the figures each design's own formulas predict, the waits measured, the
//! table, the plot, the JSON and CSV; then the mistakes a comparison invites, each one
//! line and exit 2.

mod common;

use common::{reparti, usage_error};
use serde_json::Value;

const FOUR: [&str; 4] = ["credit-flow", "credit-allocator", "credit-ring", "producer-consumer"];

/// Compares the four designs on 3 items per producer and 4 slots, at n = 2 and 4.
fn compare(output: &std::path::Path) -> (String, std::process::ExitStatus) {
    let out = reparti()
        .arg("eval")
        .args(FOUR)
        .args(["--nodes", "2,4", "--runs", "2", "-p", "buffer=4", "-p", "items=3"])
        .args(["--per", "consumed", "--since", "produced", "-o"])
        .arg(output)
        .output()
        .expect("reparti runs");
    assert!(out.stderr.is_empty() || !String::from_utf8_lossy(&out.stderr).contains("panicked"));
    (String::from_utf8_lossy(&out.stdout).to_string(), out.status)
}

fn curve<'a>(c: &'a Value, algorithm: &str) -> &'a Vec<Value> {
    let curves = c["curves"].as_array().expect("curves");
    let found =
        curves.iter().find(|k| k["algorithm"] == algorithm).unwrap_or_else(|| panic!("no curve for {algorithm}"));
    found["sizes"].as_array().expect("sizes")
}

#[test]
fn the_four_flow_control_designs_per_item_consumed() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let json = dir.path().join("flow.json");
    let (stdout, status) = compare(&json);
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("every property and every asserted count held in all runs"), "{stdout}");
    for algorithm in FOUR {
        assert!(stdout.contains(algorithm), "{algorithm}: {stdout}");
    }
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("written")).expect("JSON");
    assert_eq!((c["per"].as_str(), c["since"].as_str()), (Some("consumed"), Some("produced")));
    for algorithm in FOUR {
        let sizes = curve(&c, algorithm);
        assert_eq!(sizes.len(), 2, "{algorithm}");
        for (m, n) in sizes.iter().zip([2u64, 4]) {
            let what = format!("{algorithm} n={n}");
            // 3 items per producer, every one consumed, in every run.
            assert_eq!(m["units"].as_f64(), Some(3.0 * (n - 1) as f64), "{what}");
            assert_eq!(m["unmatched"], 0, "{what}: every consumed item was matched with its production");
            let wait = m["wait"]["mean"].as_f64().expect("a wait");
            assert!(wait > 0.0, "{what}: {wait}");
        }
    }
    let per_unit = |algorithm: &str, i: usize| curve(&c, algorithm)[i]["per_unit"]["mean"].as_f64().expect("per unit");
    for i in 0..2 {
        // Static quotas, credit returned one slot at a time (batch = 1): DATA + CREDIT.
        assert_eq!(per_unit("credit-flow", i), 2.0);
        // TP5's token: DATA and its ACK or FULL per item, plus RESUMEs and token hops.
        assert!(per_unit("producer-consumer", i) > 2.0, "{}", per_unit("producer-consumer", i));
        // Allocation: DATA, plus an ASK and its GRANT per grant of up to k slots.
        let allocator = per_unit("credit-allocator", i);
        assert!((1.0..=3.0).contains(&allocator), "{allocator}");
        // The ring: DATA plus n token hops per lap.
        assert!(per_unit("credit-ring", i) > 1.0);
    }
    let by_type = &curve(&c, "credit-flow")[0]["by_type"];
    assert_eq!((by_type["DATA"].as_f64(), by_type["CREDIT"].as_f64()), (Some(1.0), Some(1.0)));
}

#[test]
fn the_plot_has_a_panel_for_messages_and_one_for_waits_and_the_csv_a_row_per_design_and_size() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let svg = dir.path().join("flow.svg");
    let (stdout, status) = compare(&svg);
    assert!(status.success(), "{stdout}");
    let picture = std::fs::read_to_string(&svg).expect("the plot is written");
    assert_eq!(picture.matches("<g class=\"plot\"").count(), 2, "two panels");
    // Titles are escaped in SVG: ' is &#39;.
    assert!(picture.contains("messages per &#39;consumed&#39;"), "the messages panel's title");
    assert!(picture.contains("mean wait from &#39;produced&#39; to &#39;consumed&#39;"), "the waits panel's title");
    for algorithm in FOUR {
        assert!(picture.contains(algorithm), "{algorithm} has no curve");
    }
    let csv = dir.path().join("flow.csv");
    let (_, status) = compare(&csv);
    assert!(status.success());
    let text = std::fs::read_to_string(&csv).expect("the table is written");
    assert_eq!(text.lines().count(), 1 + 4 * 2, "{text}");
    assert!(text.starts_with("algorithm,n,units,per_unit_min"), "{text}");
}

#[test]
fn one_algorithm_with_per_no_wait_and_random_delays() {
    let out = reparti()
        .args(["eval", "credit-flow", "--nodes", "2,3", "--runs", "3", "-p", "batch=2", "--per", "consumed"])
        .args(["--delay", "exp:2"])
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("comparing per 'consumed'") && !stdout.contains("wait produced"), "{stdout}");
    assert!(stdout.contains("delay exp:2 · 3 runs per size"), "{stdout}");
    assert!(stdout.contains("every property and every asserted count held in all runs"), "{stdout}");
}

#[test]
fn the_mistakes_of_a_comparison_are_one_line_and_exit_2() {
    let base = ["eval", "credit-flow", "credit-allocator", "credit-ring", "producer-consumer"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> { base.iter().chain(extra).copied().collect() };
    // A parameter one of them lacks: named, with the algorithm that lacks it.
    let e = usage_error(&with(&["--per", "consumed", "-p", "drain_time=2"]));
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("credit-flow has no parameter 'drain_time'") && e.contains("every -p applies"), "{e}");
    let e = usage_error(&with(&["--per", "consumed", "-p", "ask=2"]));
    assert!(e.contains("has no parameter 'ask'"), "{e}");
    // Several algorithms without a unit to compare them by.
    let e = usage_error(&with(&[]));
    assert!(e.contains("--per OUTPUT"), "{e}");
    // Too few slots for the largest size: refused before anything runs.
    let e = usage_error(&with(&["--per", "consumed", "--nodes", "2,8", "-p", "buffer=4"]));
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("at --nodes 8") && e.contains("buffer=4"), "{e}");
    for extra in [
        vec!["credit-flow", "--per", "consumed"],
        vec!["--per", "consumed", "--nodes", "9..4"],
        vec!["--per", "consumed", "--runs", "0"],
        vec!["--per", "consumed", "-o", "plot.png"],
        vec!["--per", "consumed", "--delay", "sometimes"],
    ] {
        let e = usage_error(&with(&extra));
        assert_eq!(e.trim().lines().count(), 1, "{extra:?}: {e}");
    }
    let e = usage_error(&["eval", "credit-flow", "credit-alocator", "--per", "consumed"]);
    assert!(e.contains("credit-alocator"), "{e}");
}
