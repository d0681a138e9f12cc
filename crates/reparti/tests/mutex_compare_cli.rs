//! `reparti eval … --per enter_cs --since request`: the mutual-exclusion algorithms
//! compared side by side, per critical section. Against n: each one's messages per CS
//! as its own formula says (Ricart–Agrawala exactly 2(n−1), Lamport exactly 3(n−1),
//! Carvalho–Roucairol at most 2(n−1), Suzuki–Kasami at most n). Against the offered load
//! (`--vary load=…`): Carvalho–Roucairol's kept permissions and Suzuki–Kasami's idle
//! token make rare requests cheap, and saturation takes the gain back. Everywhere the
//! wait, the response time and the synchronization delay are measured and sane; the
//! plots and the CSV hold them; a sweep's mistakes are one line and exit 2.

mod common;

use common::{reparti, usage_error};
use serde_json::Value;

const FOUR: [&str; 4] = ["ricart-agrawala", "lamport-mutex", "carvalho-roucairol", "suzuki-kasami"];

/// `reparti eval ARGS --per enter_cs --since request -o FILE`: must succeed with every
/// property and count held; returns what it wrote.
fn compare(args: &[&str], file: &str) -> String {
    let dir = tempfile::tempdir().expect("scratch folder");
    let path = dir.path().join(file);
    let out = reparti()
        .arg("eval")
        .args(args)
        .args(["--per", "enter_cs", "--since", "request", "-o"])
        .arg(&path)
        .output()
        .expect("reparti runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("every property and every asserted count held in all runs"), "{stdout}");
    std::fs::read_to_string(&path).expect("written")
}

fn points<'a>(c: &'a Value, algorithm: &str) -> &'a Vec<Value> {
    let curves = c["curves"].as_array().expect("curves");
    let found =
        curves.iter().find(|k| k["algorithm"] == algorithm).unwrap_or_else(|| panic!("no curve for {algorithm}"));
    found["sizes"].as_array().expect("points")
}

fn get(m: &Value, figure: &str, which: &str) -> f64 {
    m[figure][which].as_f64().unwrap_or_else(|| panic!("no {figure}.{which} in {m}"))
}

/// Response, wait and synchronization delay of one point, against what they must be:
/// a response is the wait plus the stay (cs_time = 1); a hand-over to another node
/// takes at least one message, and every message takes 1 (`--delay const:1`).
fn assert_delays_sane(m: &Value, what: &str) {
    assert_eq!(m["unmatched"], 0, "{what}: every entry was matched with its request");
    let (wait, response) = (get(m, "wait", "mean"), get(m, "response", "mean"));
    assert!(wait >= 0.0, "{what}: wait {wait}");
    assert!(response >= wait + 1.0 - 1e-9, "{what}: response {response} < wait {wait} + cs_time 1");
    if !m["sync_delay"].is_null() {
        let least = get(m, "sync_delay", "min");
        assert!(least >= 1.0 - 1e-9, "{what}: a hand-over faster than a message: {least}");
    }
}

#[test]
fn against_n_each_algorithm_costs_what_its_formula_says_per_critical_section() {
    let text = compare(&[&FOUR[..], &["--nodes", "2,3,4,5,6,7,8", "--runs", "3"]].concat(), "n.json");
    let c: Value = serde_json::from_str(&text).expect("JSON");
    assert!(c["vary"].is_null());
    for algorithm in FOUR {
        let sizes = points(&c, algorithm);
        assert_eq!(sizes.len(), 7, "{algorithm}");
        for (m, n) in sizes.iter().zip(2u32..) {
            let what = format!("{algorithm} n={n}");
            let n = f64::from(n);
            // Every node asks twice (the default workload), and every request is served.
            assert_eq!(m["units"].as_f64(), Some(2.0 * n), "{what}");
            let (least, most) = (get(m, "per_unit", "min"), get(m, "per_unit", "max"));
            let (low, high) = (get(m, "formula", "low"), get(m, "formula", "high"));
            match algorithm {
                "ricart-agrawala" => {
                    assert_eq!((least, most, high), (2.0 * (n - 1.0), 2.0 * (n - 1.0), 2.0 * (n - 1.0)), "{what}")
                }
                "lamport-mutex" => {
                    assert_eq!((least, most, high), (3.0 * (n - 1.0), 3.0 * (n - 1.0), 3.0 * (n - 1.0)), "{what}")
                }
                "carvalho-roucairol" => {
                    assert_eq!(m["formula"]["kind"], "at_most", "{what}");
                    assert!(most <= 2.0 * (n - 1.0) && high == 2.0 * (n - 1.0), "{what}: {most}");
                }
                _ => {
                    assert_eq!((m["formula"]["kind"].as_str(), low, high), (Some("between"), 0.0, n), "{what}");
                    assert!(most <= n, "{what}: {most}");
                }
            }
            assert!(!m["sync_delay"].is_null(), "{what}: requests overlap in the burst, so hand-overs happen");
            assert_delays_sane(m, &what);
        }
    }
    // Kept permissions and a kept token: cheaper than asking everyone every time.
    for i in 0..7 {
        let mean = |a: &str| get(&points(&c, a)[i], "per_unit", "mean");
        assert!(mean("carvalho-roucairol") < mean("ricart-agrawala"), "n={}", i + 2);
        assert!(mean("suzuki-kasami") < mean("ricart-agrawala"), "n={}", i + 2);
    }
}

#[test]
fn against_load_rare_requests_are_cheap_for_kept_permissions_and_an_idle_token() {
    let three = ["ricart-agrawala", "carvalho-roucairol", "suzuki-kasami"];
    let args = [&three[..], &["--nodes", "5", "--vary", "load=0.05,2", "-p", "requests=8", "--runs", "3"]].concat();
    let c: Value = serde_json::from_str(&compare(&args, "load.json")).expect("JSON");
    assert_eq!(c["vary"], "load");
    let (n, bound) = (5.0, 8.0);
    let at = |a: &str, i: usize| -> &Value { &points(&c, a)[i] };
    let cost = |a: &str, i: usize| get(at(a, i), "per_unit", "mean");
    for a in three {
        assert_eq!(points(&c, a).len(), 2, "{a}");
        for (i, load) in [0.05, 2.0].into_iter().enumerate() {
            assert_eq!((at(a, i)["n"].as_u64(), at(a, i)["value"].as_f64()), (Some(5), Some(load)), "{a}");
            assert_delays_sane(at(a, i), &format!("{a} load={load}"));
        }
        // Saturated, requests queue: they wait longer than rare ones, and someone is
        // always waiting when the CS is left.
        assert!(get(at(a, 1), "wait", "mean") > get(at(a, 0), "wait", "mean"), "{a}");
        assert!(!at(a, 1)["sync_delay"].is_null(), "{a}");
    }
    // Ricart–Agrawala asks everyone whatever the load.
    assert_eq!((cost("ricart-agrawala", 0), cost("ricart-agrawala", 1)), (bound, bound));
    // Rare requests: a requester needs back only the permissions of the nodes that
    // entered since its own last entry (well below 2(n−1)); saturated, nearly all of
    // them did, and the cost climbs towards the bound.
    let (rare, saturated) = (cost("carvalho-roucairol", 0), cost("carvalho-roucairol", 1));
    assert!(rare <= 0.75 * bound, "{rare}");
    assert!(rare < saturated && saturated >= 0.8 * bound && saturated <= bound, "{rare} → {saturated}");
    // The idle token: a rare requester that was the last in the CS still holds it and
    // enters without a message; saturated, the token leaves after every stay.
    let (rare, saturated) = (cost("suzuki-kasami", 0), cost("suzuki-kasami", 1));
    assert!(get(at("suzuki-kasami", 0), "per_unit", "max") < n, "some entries were free");
    assert!(rare < saturated && saturated <= n, "{rare} → {saturated}");
}

#[test]
fn the_load_sweep_plots_messages_with_formulas_waits_responses_and_sync_delays_and_its_csv_has_the_load() {
    let args = ["ricart-agrawala", "suzuki-kasami", "--nodes", "3", "--vary", "load=0.1,1", "--runs", "1"];
    let picture = compare(&args, "load.svg");
    assert_eq!(picture.matches("<g class=\"plot\"").count(), 4, "messages, wait, response, sync delay");
    for title in ["messages per &#39;enter_cs&#39;", "response time, request → exit_cs", "synchronization delay"] {
        assert!(picture.contains(title), "{title}");
    }
    assert!(picture.contains("load (log scale)"), "the x axis is the load");
    // Each algorithm's formula, dashed in its colour: 2(n−1) and Suzuki–Kasami's n
    // (its range's lower end, 0, is not drawn).
    assert_eq!(picture.matches("class=\"series expected\"").count(), 2);
    assert!(picture.contains("data-name=\"ricart-agrawala = 2(n−1)·#CS\""), "the formula, named");
    let csv = compare(&args, "load.csv");
    let header = csv.lines().next().expect("a header");
    assert!(header.starts_with("algorithm,n,units,per_unit_min") && header.ends_with(",load"), "{header}");
    assert!(header.contains("response_mean") && header.contains("sync_delay_mean"), "{header}");
    assert_eq!(csv.lines().count(), 1 + 2 * 2, "{csv}");
}

/// The same comparison on real processes: each run a `reparti run` cluster over UDP,
/// its merged trace replayed and read like a simulation's. Counts are the algorithms'
/// own, so they hold exactly as simulated; times are milliseconds, whatever the machine.
#[test]
fn on_real_processes_the_counts_per_critical_section_are_the_simulated_ones() {
    let args = ["ricart-agrawala", "suzuki-kasami", "--nodes", "4", "--runs", "1", "--on-processes"];
    let c: Value = serde_json::from_str(&compare(&args, "real.json")).expect("JSON");
    assert_eq!((c["on_processes"].as_bool(), c["time_unit"].as_str()), (Some(true), Some("milliseconds")));
    let (ra, sk) = (&points(&c, "ricart-agrawala")[0], &points(&c, "suzuki-kasami")[0]);
    for (m, what) in [(ra, "ricart-agrawala"), (sk, "suzuki-kasami")] {
        assert_eq!(m["units"].as_f64(), Some(8.0), "{what}: 4 nodes asked twice each");
        assert_eq!(m["unmatched"], 0, "{what}");
        let (wait, response) = (get(m, "wait", "mean"), get(m, "response", "mean"));
        assert!(wait >= 0.0 && response > wait, "{what}: wait {wait}, response {response}");
    }
    assert_eq!(get(ra, "per_unit", "mean"), 6.0, "2(n−1)");
    assert!(get(sk, "per_unit", "mean") <= 4.0, "at most n");
}

#[test]
fn a_sweeps_mistakes_are_one_line_and_exit_2() {
    let base = ["eval", "ricart-agrawala", "suzuki-kasami", "--per", "enter_cs"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> { base.iter().chain(extra).copied().collect() };
    for (extra, says) in [
        (&["--vary", "speed=1,2"][..], "has no parameter 'speed'"),
        (&["--vary", "load=0.1,1", "--nodes", "4,8"], "one size"),
        (&["--vary", "load=0.1,fast"], "'fast'"),
        (&["--vary", "load=0,1"], "positive number"),
        (&["--vary", "load=5000"], "load=5000"),
        (&["--vary", "load=1,1.0"], "twice"),
        (&["--vary", "load"], "PARAM=V1,V2"),
        (&["--vary", "load=1", "-p", "load=2"], "give it once"),
        (&["--on-processes", "--delay", "exp:2"], "drop --delay"),
    ] {
        let e = usage_error(&with(extra));
        assert_eq!(e.trim().lines().count(), 1, "{extra:?}: {e}");
        assert!(e.contains(says), "{extra:?}: {e}");
    }
    // A sweep, or real processes, compare per unit of work: without --per it says so.
    for flag in [&["--vary", "load=1"][..], &["--on-processes"]] {
        let e = usage_error(&[&["eval", "ricart-agrawala"][..], flag].concat());
        assert!(e.contains("--per OUTPUT"), "{e}");
    }
    // The load is the mutual-exclusion chapter's; the flow-control designs lack it.
    let e = usage_error(&["eval", "credit-flow", "credit-ring", "--per", "consumed", "--vary", "load=1"]);
    assert!(e.contains("credit-flow has no parameter 'load'"), "{e}");
}
