//! `reparti topo` and `reparti eval`, end to end: pictures on standard output and in
//! files, the evaluation's numbers against the formulas, and every refused input.

use serde_json::Value;
use std::path::Path;

mod common;
use common::reparti;

/// Runs reparti expecting success; returns standard output.
fn ok(args: &[&str]) -> String {
    let out = reparti().args(args).output().expect("reparti runs");
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()))
}

fn edge_lines(dot: &str) -> Vec<&str> {
    dot.lines().filter(|l| l.contains(" -> ")).collect()
}

fn harmonic(n: u64) -> f64 {
    (1..=n).map(|k| 1.0 / k as f64).sum()
}

#[test]
fn topo_prints_dot_on_standard_output() {
    let dot = ok(&["topo", "chang-roberts", "--nodes", "6"]);
    assert!(dot.starts_with("digraph "), "{dot}");
    let edges = edge_lines(&dot);
    assert_eq!(edges.len(), 6, "a ring of 6 has 6 channels");
    for i in 0..6 {
        assert!(edges.contains(&format!("  {i} -> {};", (i + 1) % 6).as_str()), "{dot}");
    }
    assert_eq!(dot.matches("(id ").count(), 6, "an algorithm's picture shows identities");

    let grid = ok(&["topo", "--topology", "grid", "--nodes", "9"]);
    let edges = edge_lines(&grid);
    assert_eq!(edges.len(), 12, "a 3×3 grid has 12 links");
    assert!(edges.iter().all(|l| l.ends_with("[dir=none];")), "{grid}");
    assert!(!grid.contains("(id "), "no algorithm, no identities");
}

#[test]
fn topo_writes_dot_and_svg_files() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let dot = dir.path().join("ring.dot");
    let svg = dir.path().join("ring.svg");
    let said = ok(&["topo", "franklin", "--nodes", "8", "-o", dot.to_str().expect("utf-8")]);
    assert!(said.contains("ring.dot"), "{said}");
    let text = read(&dot);
    assert_eq!(text, ok(&["topo", "franklin", "--nodes", "8"]), "the file holds what standard output shows");
    assert_eq!(edge_lines(&text).len(), 8);
    assert!(edge_lines(&text).iter().all(|l| l.contains("[dir=both]")), "a bidirectional ring shows both ways");

    ok(&["topo", "franklin", "--nodes", "8", "-o", svg.to_str().expect("utf-8")]);
    let text = read(&svg);
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    assert_eq!(text.matches("class=\"node\"").count(), 8);
    assert_eq!(text.matches("class=\"edge\"").count(), 8);
    assert_eq!(text.matches("class=\"ident\"").count(), 8);
    assert!(!text.contains("NaN"));
}

#[test]
fn topo_draws_the_same_identities_for_the_same_seed() {
    let a = ok(&["topo", "chang-roberts", "--nodes", "7", "--seed", "3"]);
    assert_eq!(a, ok(&["topo", "chang-roberts", "--nodes", "7", "--seed", "3"]));
    assert_ne!(a, ok(&["topo", "chang-roberts", "--nodes", "7", "--seed", "4"]), "another seed, other identities");
}

/// Runs `eval` writing `file` in a fresh folder, returns (stdout, file text).
fn eval(args: &[&str], file: &str) -> (String, String) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(file);
    let mut all: Vec<&str> = vec!["eval"];
    all.extend(args);
    all.extend(["-o", path.to_str().expect("utf-8")]);
    let stdout = ok(&all);
    (stdout, read(&path))
}

fn claims<'a>(size: &'a Value, figure: &str) -> Vec<&'a Value> {
    size["expected"].as_array().expect("a list of claims").iter().filter(|c| c["figure"] == figure).collect()
}

#[test]
fn eval_chang_roberts_json_meets_the_textbook() {
    let (table, json) = eval(&["chang-roberts", "--nodes", "4..32", "--runs", "4"], "cr.json");
    let v: Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["all_good"], true);
    let sizes = v["sizes"].as_array().expect("sizes");
    assert_eq!(sizes.iter().map(|s| s["n"].as_u64().unwrap_or(0)).collect::<Vec<_>>(), [4, 8, 16, 32]);
    for s in sizes {
        let n = s["n"].as_u64().expect("n");
        let (worst, best) = ((n * (n + 1) / 2) as f64, (2 * n - 1) as f64);
        let elect = &s["counts"]["ELECT"];
        assert_eq!(elect["desc"].as_f64(), Some(worst), "n={n}: decreasing identities send n(n+1)/2");
        assert_eq!(elect["asc"].as_f64(), Some(best), "n={n}: increasing identities send 2n−1");
        let r = &elect["random"];
        let (min, mean, max) = (r["min"].as_f64(), r["mean"].as_f64(), r["max"].as_f64());
        for x in [min, mean, max] {
            assert!(x.is_some_and(|x| (best..=worst).contains(&x)), "n={n}: {r}");
        }
        assert!(min <= mean && mean <= max, "n={n}: {r}");
        let elect_claims = claims(s, "ELECT");
        let reference = elect_claims
            .iter()
            .find(|c| c["kind"] == "reference" && c["formula"].as_str().is_some_and(|f| f.contains("n·H_n")))
            .unwrap_or_else(|| panic!("n={n}: no n·H_n reference in {elect_claims:?}"));
        let h = n as f64 * harmonic(n);
        assert!((reference["value_min"].as_f64().unwrap_or(0.0) - h).abs() < 1e-6, "n={n}: {reference}");
        let worst_claim = elect_claims.iter().find(|c| c["formula"] == "n(n+1)/2").expect("the worst case is declared");
        assert_eq!(worst_claim["value_max"].as_f64(), Some(worst));
        assert!(worst_claim["cases"].as_array().is_some_and(|c| c.contains(&Value::from("desc"))));
        for c in s["expected"].as_array().expect("claims") {
            assert_eq!(c["failed"], 0, "n={n}: {c}");
        }
    }
    for needle in ["n(n+1)/2", "2n−1", "n·H_n", "✓", "desc", "asc", "verdict"] {
        assert!(table.contains(needle), "the table misses {needle}:\n{table}");
    }
    assert!(!table.contains('✗'), "{table}");
}

#[test]
fn eval_writes_csv_with_one_row_per_case_and_claim() {
    let (_, csv) = eval(&["chang-roberts", "--nodes", "4,16", "--runs", "3"], "cr.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("n,figure,row,ids,formula,min,mean,max,held,failed,unchecked"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 11), "every row has 11 fields");
    for n in [4u64, 16] {
        let get = |fig: &str, row: &str, ids: &str| {
            rows.iter()
                .find(|r| r[0] == n.to_string() && r[1] == fig && r[2] == row && r[3] == ids)
                .unwrap_or_else(|| panic!("n={n}: no {fig} {row} {ids} row in\n{csv}"))
        };
        assert_eq!(get("ELECT", "measured", "desc")[5], (n * (n + 1) / 2).to_string());
        assert_eq!(get("ELECT", "measured", "asc")[5], (2 * n - 1).to_string());
        let random = get("ELECT", "measured", "random");
        let mean: f64 = random[6].parse().expect("a number");
        assert!(mean >= (2 * n - 1) as f64 && mean <= (n * (n + 1) / 2) as f64);
        assert!(rows.iter().any(|r| r[0] == n.to_string() && r[2] == "reference" && r[4].contains("n·H_n")));
    }
}

#[test]
fn eval_plots_measurements_against_the_formulas() {
    let (_, svg) = eval(&["chang-roberts", "--nodes", "4..32", "--runs", "3"], "cr.svg");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for name in [
        "ELECT · random ids (mean, min–max)",
        "ELECT · desc ids",
        "ELECT · asc ids",
        "ELECT = n(n+1)/2",
        "ELECT = 2n−1",
    ] {
        assert!(svg.contains(&format!("data-name=\"{name}\"")), "no series {name}");
    }
    assert!(svg.contains("ELECT ≈ n·H_n"), "the mean's reference curve is drawn");
    // Four sizes: four points for each measured series (ELECT random, desc, asc; ELECTED).
    assert_eq!(svg.matches("class=\"point\"").count(), 16);
    assert_eq!(svg.matches("class=\"errorbar\"").count(), 8, "the random series have min–max bars");
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
}

#[test]
fn eval_franklin_stays_within_its_bound() {
    let (table, json) = eval(&["franklin", "--nodes", "4..32", "--runs", "3"], "franklin.json");
    let v: Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["all_good"], true);
    for s in v["sizes"].as_array().expect("sizes") {
        let n = s["n"].as_u64().expect("n");
        let bound = (2 * n * (u64::from(n.ilog2()) + 1)) as f64;
        let claim = claims(s, "ID")
            .into_iter()
            .find(|c| c["kind"] == "at_most" && c["formula"] == "2n(⌊log₂ n⌋+1)")
            .unwrap_or_else(|| panic!("n={n}: the bound is not declared"));
        assert_eq!(claim["value_max"].as_f64(), Some(bound));
        assert_eq!((claim["held"].as_u64(), claim["failed"].as_u64()), (Some(5), Some(0)), "3 random + desc + asc");
        let id = &s["counts"]["ID"];
        for x in [id["random"]["max"].as_f64(), id["desc"].as_f64(), id["asc"].as_f64()] {
            assert!(x.is_some_and(|x| x <= bound), "n={n}: {id}");
        }
        let rounds = &s["counts"]["rounds"]["random"]["max"];
        assert!(rounds.as_f64().is_some_and(|r| r <= (n.ilog2() + 1) as f64), "n={n}: rounds {rounds}");
    }
    assert!(table.contains("2n(⌊log₂ n⌋+1)") && table.contains("rounds"), "{table}");
}

#[test]
fn sizes_are_the_powers_of_two_in_a_range_or_a_list() {
    for (nodes, want) in [("5..40", vec![8, 16, 32]), ("16,4,8,4", vec![4, 8, 16]), ("12", vec![12])] {
        let (_, json) = eval(&["chang-roberts", "--nodes", nodes, "--runs", "1"], "sizes.json");
        let v: Value = serde_json::from_str(&json).expect("valid JSON");
        let got: Vec<u64> = v["sizes"].as_array().expect("sizes").iter().filter_map(|s| s["n"].as_u64()).collect();
        assert_eq!(got, want, "--nodes {nodes}");
    }
}

#[test]
fn bad_inputs_exit_2_with_one_line() {
    let cases: &[&[&str]] = &[
        &["topo"],
        &["topo", "nope"],
        &["topo", "--topology", "torus", "--nodes", "10"],
        &["topo", "--topology", "moebius"],
        &["topo", "chang-roberts", "--topology", "star"],
        &["topo", "--topology", "ring", "-o", "ring.png"],
        &["topo", "--topology", "ring", "--nodes", "0"],
        &["topo", "--topology", "complete", "--nodes", "1000"],
        &["eval", "frnklin"],
        &["eval", "chang-roberts", "--nodes", "4..x"],
        &["eval", "chang-roberts", "--nodes", "32..4"],
        &["eval", "chang-roberts", "--nodes", "5..7"],
        &["eval", "chang-roberts", "--nodes", "1..4"],
        &["eval", "chang-roberts", "--nodes", ""],
        &["eval", "chang-roberts", "--runs", "0"],
        &["eval", "chang-roberts", "-o", "table.txt"],
        &["eval", "chang-roberts", "--param", "nonsense=1"],
        &["eval", "chang-roberts", "--param", "novalue"],
    ];
    for args in cases {
        let out = reparti().args(*args).output().expect("reparti runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} should exit 2, stderr: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: one line, got {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing runs before the input is checked");
    }
}
