//! `needs_fifo` acts, end to end: `reparti check` explores FIFO channels by default for an
//! algorithm that declares it needs them (unordered ones for the others), and choosing
//! channels that may reorder for such an algorithm — `check --network unordered|lossy|
//! duplicating`, `sim --no-fifo` — prints exactly one line on stderr saying so.
//!
//! Every algorithm of the catalogue is tried, by what `reparti list --json` says it
//! declares, so each declaration is held to its behaviour. (The resolution itself, for a
//! spec that declares FIFO, is unit-tested in `src/resolve.rs`.)

use serde_json::Value;

mod common;
use common::{json_of, reparti};

/// Every algorithm's name and whether it declares it needs FIFO channels.
fn catalogue() -> Vec<(String, bool)> {
    catalogue_with(false)
}

/// The same, restricted to the algorithms the checker takes (`checkable`): those that
/// read physical clocks are refused by it (tested in their own CLI tests). Channels are
/// a question of the message-passing model only: the self-stabilizing algorithms, which
/// `sim` and `check` run in the state-reading model, refuse channel flags there (tested
/// in `selfstab_cli.rs`); their state exchange numbers its states, so it assumes no
/// order of its channels.
fn catalogue_with(checkable: bool) -> Vec<(String, bool)> {
    let specs = json_of(&["list", "--json"]);
    let specs = specs.as_array().expect("a list of algorithms");
    assert!(!specs.is_empty());
    for s in specs {
        let model = s["model"].as_str().expect("each algorithm names its model");
        assert!(matches!(model, "message-passing" | "state-reading"), "{model}");
    }
    specs
        .iter()
        .filter(|s| s["model"] == "message-passing")
        .filter(|s| !checkable || s["reads_physical_clock"] != Value::Bool(true))
        .map(|s| {
            let name = s["name"].as_str().expect("a name").to_string();
            (name, s["needs_fifo"].as_bool().expect("needs_fifo is declared"))
        })
        .collect()
}

/// Runs reparti; returns its JSON report and its stderr.
fn run(args: &[&str]) -> (Value, String) {
    let out = reparti().args(args).output().expect("reparti runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    // 3: a search cut short (here on purpose) with no violation found.
    assert!(matches!(out.status.code(), Some(0 | 1 | 3)), "{args:?}: {stderr}");
    (serde_json::from_slice(&out.stdout).expect("--json prints one JSON document"), stderr)
}

/// A check cut short at once: only its configuration matters here.
const SHORT_CHECK: [&str; 5] = ["--max-states", "1", "--no-liveness", "--json", "--no-progress"];

#[test]
fn the_checker_defaults_to_fifo_channels_exactly_for_the_algorithms_that_need_them() {
    for (name, needs_fifo) in catalogue_with(true) {
        let mut args = vec!["check", name.as_str()];
        args.extend(SHORT_CHECK);
        let (report, stderr) = run(&args);
        let want = if needs_fifo { "fifo" } else { "unordered" };
        assert_eq!(report["network"], want, "{name}: needs_fifo = {needs_fifo}");
        assert!(!stderr.contains("assumes FIFO"), "{name}: no note for the default: {stderr}");
    }
}

#[test]
fn choosing_reordering_channels_says_so_in_one_line_when_the_algorithm_needs_fifo() {
    let checkable = catalogue_with(true);
    for (name, needs_fifo) in catalogue() {
        let note = format!("note: {name} assumes FIFO channels;");
        let networks: &[&str] = if checkable.iter().any(|(c, _)| *c == name) {
            &["unordered", "lossy", "duplicating", "fifo"]
        } else {
            &[]
        };
        for &network in networks.iter().filter(|&&n| n != "fifo") {
            let mut args = vec!["check", name.as_str(), "--network", network];
            args.extend(SHORT_CHECK);
            let (report, stderr) = run(&args);
            assert_eq!(report["network"], network, "{name}: an explicit choice stands");
            let notes: Vec<&str> = stderr.lines().filter(|l| l.contains("assumes FIFO")).collect();
            if needs_fifo {
                assert_eq!(notes, [format!("{note} --network {network} may break it")], "{name}: {stderr}");
            } else {
                assert!(notes.is_empty(), "{name} assumes nothing of its channels: {stderr}");
            }
        }
        if networks.contains(&"fifo") {
            let mut args = vec!["check", name.as_str(), "--network", "fifo"];
            args.extend(SHORT_CHECK);
            let (_, stderr) = run(&args);
            assert!(!stderr.contains("assumes FIFO"), "{name}: FIFO asked for, nothing to say: {stderr}");
        }

        let (_, stderr) = run(&["sim", &name, "--no-fifo", "--max-events", "10", "--json", "--no-progress"]);
        let notes: Vec<&str> = stderr.lines().filter(|l| l.contains("assumes FIFO")).collect();
        if needs_fifo {
            assert_eq!(notes, [format!("{note} --no-fifo may break it")], "{name}: {stderr}");
        } else {
            assert!(notes.is_empty(), "{name}: {stderr}");
        }
        let (_, stderr) = run(&["sim", &name, "--max-events", "10", "--json", "--no-progress"]);
        assert!(!stderr.contains("assumes FIFO"), "{name}: the simulator's default is FIFO: {stderr}");
    }
}

#[test]
fn the_help_says_the_default_network_depends_on_the_algorithm() {
    let out = reparti().args(["check", "--help"]).output().expect("reparti runs");
    let help = String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("[default: fifo for an algorithm that assumes FIFO channels, unordered for the others]"),
        "{help}"
    );
    let out = reparti().args(["sim", "--help"]).output().expect("reparti runs");
    let help = String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("for an algorithm that assumes FIFO channels, a note says it may break"), "{help}");
}
