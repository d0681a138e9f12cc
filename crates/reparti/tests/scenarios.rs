//! Scenario files end to end: every file of the course pack runs and meets its stated
//! expectations; a wrong expectation exits 1 and is named; a malformed file exits 2 with
//! its line and column; flags override or are refused; `reparti list` shows the pack;
//! the full example of docs/SCENARIOS.md runs.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The repository root: the CLI is run from there in the docs, so the tests do too.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn reparti() -> Command {
    let mut c = Command::cargo_bin("reparti").expect("the reparti binary is built for tests");
    c.current_dir(root());
    c
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = reparti().args(args).output().expect("reparti runs");
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{args:?} panicked: {}", run.stderr);
    run
}

/// The pack's files, sorted.
fn pack() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Which commands a file is for: `check` with a `[check]` table, `sim` without one or
/// with an `[expect]` table too (the rule docs/SCENARIOS.md states).
fn commands(text: &str) -> Vec<&'static str> {
    let t: toml::Table = text.parse().expect("every pack file is valid TOML");
    let mut v = Vec::new();
    if !t.contains_key("check") || t.contains_key("expect") {
        v.push("sim");
    }
    if t.contains_key("check") {
        v.push("check");
    }
    v
}

#[test]
fn every_scenario_in_the_pack_meets_its_expectations() {
    let files = pack();
    assert!(files.len() >= 12, "the pack has {} files", files.len());
    for path in &files {
        let rel = format!("scenarios/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or_default());
        let text = std::fs::read_to_string(path).expect("readable");
        assert!(text.starts_with('#'), "{rel} starts with a comment header");
        assert!(text.contains("Watch for"), "{rel} says what to watch for");
        assert!(text.contains("\ndescription = "), "{rel} has a one-line description");
        for command in commands(&text) {
            let r = run(&[command, &rel, "--no-progress"]);
            assert_eq!(r.code, Some(0), "reparti {command} {rel}\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
            assert!(r.stdout.contains(&format!("expectations ({rel})")), "{rel}: {}", r.stdout);
            assert!(r.stdout.contains("expectations met"), "{rel}: {}", r.stdout);
            let section = r.stdout.split("\nexpectations (").nth(1).unwrap_or_default();
            assert!(!section.contains('✗'), "{rel} shows an unmet expectation:\n{}", r.stdout);
        }
    }
}

#[test]
fn the_pack_covers_the_labs_and_chapters_and_its_index_lists_every_file() {
    let names: Vec<String> =
        pack().iter().filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(String::from)).collect();
    for wanted in [
        "tp3-token-ring.toml",
        "tp6-logical-clocks.toml",
        "tp7-chang-roberts-lab.toml",
        "communication-token-loss.toml",
        "time-clocks.toml",
        "mutex-ricart-agrawala.toml",
        "mutex-lamport.toml",
        "election-chang-roberts-worst.toml",
        "election-chang-roberts-best.toml",
        "election-chang-roberts-single.toml",
        "election-chang-roberts-crash.toml",
        "election-franklin.toml",
        "election-franklin-broken.toml",
        "check-franklin-broken.toml",
    ] {
        assert!(names.iter().any(|n| n == wanted), "the pack misses {wanted}");
    }
    let index = std::fs::read_to_string(root().join("scenarios/README.md")).expect("scenarios/README.md");
    for n in &names {
        assert!(index.contains(&format!("`{n}`")), "scenarios/README.md does not list {n}");
    }
}

#[test]
fn demonstrations_of_failure_really_fail_and_are_expected_to() {
    // The lost token: the summary shows the violation, the scenario still passes.
    let r = run(&["sim", "scenarios/communication-token-loss.toml"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(r.stdout.contains("✗ exactly one token"), "{}", r.stdout);
    assert!(r.stdout.contains("✓ \"exactly one token\" is violated"), "{}", r.stdout);
    // The checker's counterexample for the broken Franklin, 8 steps.
    let r = run(&["check", "scenarios/check-franklin-broken.toml", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).expect("--json prints JSON");
    assert_eq!(j["expectations_met"], true);
    assert_eq!(j["counterexample"]["steps"].as_array().map(Vec::len), Some(8));
    assert_eq!(j["algorithm"], "franklin");
}

fn temp_scenario(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).expect("written");
    p.to_string_lossy().into_owned()
}

#[test]
fn a_wrong_expectation_exits_1_and_is_named() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let worst = std::fs::read_to_string(root().join("scenarios/election-chang-roberts-worst.toml")).expect("readable");
    let wrong = worst.replace("ELECT = 36", "ELECT = 35");
    assert_ne!(wrong, worst, "the pack file still expects 36 ELECT");
    let f = temp_scenario(&dir, "wrong.toml", &wrong);
    let r = run(&["sim", &f]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(r.stdout.contains("✗ ELECT messages sent = 35 (observed: 36)"), "{}", r.stdout);
    assert!(r.stdout.contains("1 of 9 expectations NOT met: ELECT messages sent = 35"), "{}", r.stdout);
    // The run itself was fine: only the scenario's claim was wrong.
    assert!(r.stdout.contains("verdict: all properties hold"), "{}", r.stdout);

    // A property expected to fail that holds.
    let f = temp_scenario(
        &dir,
        "holds.toml",
        "algorithm = \"chang-roberts\"\n[topology]\nnodes = 5\n[expect]\nfail = [\"at most one leader\"]\n",
    );
    let r = run(&["sim", &f, "--json"]);
    assert_eq!(r.code, Some(1));
    let j: serde_json::Value = serde_json::from_str(&r.stdout).expect("--json prints JSON");
    assert_eq!(j["expectations_met"], false);
    assert_eq!(j["expectations"][0]["expected"], "\"at most one leader\" is violated");
    assert_eq!(j["expectations"][0]["observed"], "holds");
    assert_eq!(j["messages"]["by_type"]["ELECTED"], 5, "the usual report is still there");

    // A check that expects no counterexample on the broken Franklin.
    let broken = std::fs::read_to_string(root().join("scenarios/check-franklin-broken.toml")).expect("readable");
    let f = temp_scenario(&dir, "cx.toml", &broken.replace("counterexample = true", "counterexample = false"));
    let r = run(&["check", &f]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(r.stdout.contains("✗ no counterexample is found (observed: found (8 steps))"), "{}", r.stdout);
}

/// Runs `sim` (or `check`) on a malformed file: exit 2, no panic, and the error names
/// the file's `line:col` and draws the line with a caret under the mistake.
fn malformed(command: &str, text: &str, line_col: &str, words: &[&str]) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let f = temp_scenario(&dir, "bad.toml", text);
    let r = run(&[command, &f]);
    assert_eq!(r.code, Some(2), "{text}\nstdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "nothing runs: {}", r.stdout);
    assert!(r.stderr.contains(&format!("bad.toml:{line_col}")), "{text}\nexpected {line_col} in:\n{}", r.stderr);
    assert!(r.stderr.contains('┬') || r.stderr.contains('^'), "a caret under the mistake:\n{}", r.stderr);
    for w in words {
        assert!(r.stderr.contains(w), "{text}\nexpected '{w}' in:\n{}", r.stderr);
    }
}

#[test]
fn malformed_scenarios_exit_2_at_line_and_column() {
    malformed("sim", "algorithm = \"franklin\"\n[topology]\nids = \"desc\n", "3:12", &["ids = \"desc"]);
    malformed(
        "sim",
        "algorithm = \"franklin\"\n[topology]\nnodes = 4\nidz = \"desc\"\n",
        "4:1",
        &["unknown field `idz`", "docs/SCENARIOS.md"],
    );
    malformed("sim", "algorithm = \"chang-robert\"\n", "1:13", &["unknown algorithm", "did you mean 'chang-roberts'"]);
    malformed(
        "sim",
        "algorithm = \"chang-roberts\"\n[topology]\nnodes = 8\n\n[[faults.crash]]\nnode = 9\nat = 10\n",
        "6:8",
        &["node 9 does not exist", "0..7"],
    );
    malformed(
        "sim",
        "algorithm = \"ricart-agrawala\"\n[workload]\ninputs = [\n  { at = 4, node = 2, input = \"Request\" },\n  { at = 5, node = 1, input = \"Enter\" },\n]\n",
        "5:31",
        &["unknown variant `Enter`", "expected `Request` or", "not an input of this algorithm"],
    );
    malformed("sim", "algorithm = \"franklin\"\n[expect]\nfail = [\"one leader\"]\n", "3:9", &["unknown property"]);
    malformed("check", "algorithm = \"franklin\"\n[check]\nstrategy = \"astar\"\n", "3:12", &["unknown strategy"]);
}

#[test]
fn flags_override_the_scenario_or_are_refused() {
    let f = "scenarios/election-chang-roberts-worst.toml";
    // --seed only changes randomness the worst case does not have: still 36 ELECT.
    let r = run(&["sim", f, "--seed", "5", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).expect("--json prints JSON");
    assert_eq!(j["seed"], 5);
    assert_eq!(j["scenario"], f);
    // --nodes changes the experiment's size; the file's exact counts then fail.
    let r = run(&["sim", f, "--nodes", "5"]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    assert!(r.stdout.contains("✗ ELECT messages sent = 36 (observed: 15)"), "{}", r.stdout);
    // Flags that would change the experiment are refused, on one line, exit 2.
    for (args, flag) in [
        (vec!["sim", f, "--loss", "0.1"], "--loss"),
        (vec!["sim", f, "--param", "initiators=0"], "--param"),
        (vec!["sim", f, "--ids", "asc"], "--ids"),
        (vec!["check", "scenarios/check-franklin.toml", "--network", "fifo"], "--network"),
    ] {
        let r = run(&args);
        assert_eq!(r.code, Some(2), "{args:?}");
        assert!(r.stderr.contains(&format!("{flag} cannot be combined with a scenario file")), "{}", r.stderr);
    }
    // --nodes 4 is check's default value, yet typed it overrides the file's 3 nodes
    // (whose identity list then no longer fits: an error at the list).
    let r = run(&["check", "scenarios/check-franklin.toml", "--nodes", "4"]);
    assert_eq!(r.code, Some(2), "{}", r.stdout);
    assert!(r.stderr.contains("3 identities for 4 nodes"), "{}", r.stderr);
    // A simulation-only scenario has nothing for the checker.
    let r = run(&["check", "scenarios/tp3-token-ring.toml"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("no [check] table"), "{}", r.stderr);
    // A missing file is a usage error too.
    let r = run(&["sim", "scenarios/no-such-file.toml"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("cannot read the scenario file"), "{}", r.stderr);
}

#[test]
fn a_scenario_run_writes_its_trace() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let trace = dir.path().join("tp3.jsonl");
    let t = trace.to_string_lossy().into_owned();
    let r = run(&["sim", "scenarios/tp3-token-ring.toml", "--trace", &t]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    let text = std::fs::read_to_string(&trace).expect("the trace is written");
    let header: serde_json::Value =
        serde_json::from_str(text.lines().next().unwrap_or_default()).expect("a JSON header line");
    assert_eq!(header["algorithm"], "token-ring");
    // The scenario's inputs are in the trace: two sends and five releases.
    assert_eq!(text.matches("\"kind\":\"input\"").count(), 7, "{text}");
}

#[test]
fn list_shows_the_scenarios_with_their_descriptions() {
    let r = run(&["list"]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("\nScenarios (scenarios/"), "{}", r.stdout);
    for path in pack() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let text = std::fs::read_to_string(&path).expect("readable");
        let t: toml::Table = text.parse().expect("valid TOML");
        let description = t.get("description").and_then(|d| d.as_str()).unwrap_or_default();
        let line = r.stdout.lines().find(|l| l.contains(&name)).unwrap_or_else(|| panic!("list misses {name}"));
        assert!(line.contains(description), "{line}");
        assert!(line.contains(&format!("[{}]", commands(&text).join(", "))), "{line}");
    }
    // The JSON catalogue is unchanged: algorithms only, no scenario among them.
    let r = run(&["list", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let names: Vec<&str> = j.as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names.len(), reparti_algos::names().len(), "{names:?}");
    assert!(names.iter().all(|n| reparti_algos::find(n).is_some()), "{names:?}");
}

#[test]
fn the_full_example_of_the_documentation_runs() {
    let doc = std::fs::read_to_string(root().join("docs/SCENARIOS.md")).expect("docs/SCENARIOS.md");
    let example = doc
        .split("## A full example")
        .nth(1)
        .and_then(|s| s.split("```toml\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("the documentation ends with a full example");
    for table in ["[params]", "[topology]", "[network]", "[[faults.crash]]", "[[faults.partition]]"] {
        assert!(example.contains(table), "the full example misses {table}");
    }
    for table in ["[[faults.delay]]", "[workload]", "[limits]", "[expect]", "[check]", "[check.expect]"] {
        assert!(example.contains(table), "the full example misses {table}");
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let f = temp_scenario(&dir, "full.toml", example);
    for command in ["sim", "check"] {
        let r = run(&[command, &f]);
        assert_eq!(r.code, Some(0), "{command}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("expectations met"), "{}", r.stdout);
    }
}
