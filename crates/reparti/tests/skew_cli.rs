//! The skew plot end to end: `reparti sim ALGO --plot FILE.svg` and `reparti viz TRACE
//! --skew FILE.svg` on Cristian and Berkeley, the clock readings in the space-time
//! pictures, and every refusal in one line with exit status 2.

use std::path::Path;

mod common;
use common::{reparti, usage_error};

fn ok(args: &[&str]) -> String {
    let out = reparti().args(args).output().expect("reparti runs");
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn sim_plot_draws_one_line_per_node_and_every_correction() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let plot = dir.path().join("cristian.svg");
    let out = ok(&["sim", "cristian", "--nodes", "4", "--plot", s(&plot)]);
    assert!(out.contains(&format!("skew plot written to {}", plot.display())), "{out}");
    let svg = std::fs::read_to_string(&plot).expect("the plot");
    let panels = svg.matches("class=\"panel\"").count();
    assert!((1..=2).contains(&panels), "{panels} panels");
    assert_eq!(svg.matches("class=\"node-line\"").count(), 4 * panels);
    // Three clients step their clocks once each at least, the server never: every step
    // of the trace is marked in the first panel, with its bound.
    let steps = svg.matches("class=\"mark step\"").count();
    assert!(steps >= 3, "{steps} steps marked");
    assert!(svg.matches("class=\"bound\"").count() >= 3);
    assert_eq!(svg.matches("class=\"mark slew\"").count(), 0, "Cristian steps, never slews");
    // Nothing but the plot is left behind (the trace it was drawn from was a scratch one).
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("readable").collect();
    assert_eq!(left.len(), 1);
}

#[test]
fn a_scenario_draws_its_plot_too() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let plot = dir.path().join("berkeley.svg");
    let scenario = format!("{}/../../scenarios/time-berkeley.toml", env!("CARGO_MANIFEST_DIR"));
    let out = ok(&["sim", &scenario, "--plot", s(&plot)]);
    assert!(out.contains("expectations met"), "{out}");
    let svg = std::fs::read_to_string(&plot).expect("the scenario's plot is written");
    assert!(svg.matches("class=\"node-line\"").count() >= 6, "one line per node of the scenario");
    // A scenario of an algorithm without physical clocks refuses it, as `sim ALGO` does.
    let other = format!("{}/../../scenarios/time-clocks.toml", env!("CARGO_MANIFEST_DIR"));
    let stderr = usage_error(&["sim", &other, "--plot", s(&plot)]);
    assert!(stderr.contains("does not read them"), "{stderr}");
}

#[test]
fn viz_skew_draws_the_same_plot_from_the_trace() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (trace, a, b) = (dir.path().join("b.jsonl"), dir.path().join("a.svg"), dir.path().join("b.svg"));
    ok(&["sim", "berkeley", "--nodes", "4", "--trace", s(&trace), "--plot", s(&a)]);
    let out = ok(&["viz", s(&trace), "--skew", s(&b)]);
    assert_eq!(out.trim(), format!("skew plot written to {}", b.display()), "--skew alone writes no page");
    let (a, b) = (std::fs::read_to_string(&a).expect("a"), std::fs::read_to_string(&b).expect("b"));
    assert_eq!(a, b);
    assert!(a.matches("class=\"mark slew\"").count() >= 3, "Berkeley's slaves slew");
    // The space-time pictures show the corrections and the readings too.
    let (svg, html) = (dir.path().join("st.svg"), dir.path().join("st.html"));
    ok(&["viz", s(&trace), "-o", s(&svg)]);
    ok(&["viz", s(&trace), "-o", s(&html)]);
    let svg = std::fs::read_to_string(&svg).expect("svg");
    assert!(svg.contains("class=\"event clock\"") && svg.contains("clock correction"));
    assert!(svg.contains(" · clock "), "event tooltips carry the clock reading");
    let html = std::fs::read_to_string(&html).expect("html");
    assert!(html.contains("\"clock\":") && html.contains("physical clock"));
}

#[test]
fn refusals_are_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let svg = dir.path().join("x.svg");
    let html = dir.path().join("x.html");
    let trace = dir.path().join("lc.jsonl");
    let _ = reparti().args(["sim", "logical-clocks", "--trace", s(&trace)]).output().expect("reparti runs");
    let cases: [(&[&str], &str); 4] = [
        (&["sim", "logical-clocks", "--plot", s(&svg)], "does not read them"),
        (&["sim", "cristian", "--plot", s(&html)], "name the file .svg"),
        (&["sim", "cristian", "--plot", s(&svg), "--runs", "2"], "drop --runs or --plot"),
        (
            &["viz", s(&trace), "--skew", s(&svg)],
            "error: this trace has no physical clock readings: its algorithm does not read physical clocks",
        ),
    ];
    for (args, says) in cases {
        let e = usage_error(args);
        assert!(e.contains(says), "{args:?}: {e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: {e}");
    }
    assert!(!svg.exists() && !html.exists());
}
