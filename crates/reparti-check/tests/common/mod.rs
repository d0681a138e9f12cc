//! What the checker's integration tests share: configurations, running a check with its
//! counterexample trace, replaying that trace in the simulator, and verdict assertions.
//!
//! The test-local algorithms live in [`toys`] (small correct ones whose state spaces the
//! tests count independently) and [`broken`] (deliberately wrong ones the checker must
//! catch); [`enumerate`] is the brute-force enumerator that the exact-count tests compare
//! the checker's figures with. Not every test file uses every helper.
#![allow(dead_code)]

pub mod broken;
pub mod enumerate;
pub mod narrowed;
pub mod toys;

use reparti_check::{CheckConfig, CheckReport, NetworkKind, Strategy};
use reparti_core::trace::read_trace;
use reparti_core::{Algorithm, IdAssignment};
use reparti_sim::Replayed;

/// A breadth-first check of `n` nodes with the given identities and network.
pub fn cfg(n: usize, ids: IdAssignment, network: NetworkKind) -> CheckConfig {
    CheckConfig { nodes: Some(n), ids, network, ..CheckConfig::default() }
}

/// The same, with `--param K=V` pairs.
pub fn with_params(mut c: CheckConfig, params: &[(&str, &str)]) -> CheckConfig {
    c.params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    c
}

/// Identities from a list.
pub fn ids(list: &[u64]) -> IdAssignment {
    IdAssignment::List(list.to_vec())
}

/// Runs the checker, which must accept the configuration.
pub fn run<A: Algorithm>(c: &CheckConfig) -> CheckReport {
    reparti_check::check::<A>(c, false, &|_| {}, None)
        .unwrap_or_else(|e| panic!("{} refused {c:?}: {e}", A::spec().name))
}

/// Runs the checker with `--compare-reductions`.
pub fn run_compare<A: Algorithm>(c: &CheckConfig) -> CheckReport {
    reparti_check::check::<A>(c, true, &|_| {}, None)
        .unwrap_or_else(|e| panic!("{} refused {c:?}: {e}", A::spec().name))
}

/// Runs the checker and returns the counterexample trace it wrote (empty if none).
pub fn run_traced<A: Algorithm>(c: &CheckConfig) -> (CheckReport, Vec<u8>) {
    let mut buf: Vec<u8> = Vec::new();
    let report = reparti_check::check::<A>(c, false, &|_| {}, Some(&mut buf))
        .unwrap_or_else(|e| panic!("{} refused {c:?}: {e}", A::spec().name));
    (report, buf)
}

/// `c` with another strategy.
pub fn strategy(c: &CheckConfig, s: Strategy) -> CheckConfig {
    CheckConfig { strategy: s, ..c.clone() }
}

/// Reads a trace written by the checker back and replays it in the simulator.
pub fn replay<A: Algorithm>(trace: &[u8]) -> Replayed {
    let t = read_trace(trace).unwrap_or_else(|e| panic!("the checker's trace does not read back: {e}"));
    assert_eq!(t.header.engine, "check");
    assert_eq!(t.header.algorithm, A::spec().name);
    reparti_sim::replay::<A>(&t).unwrap_or_else(|e| panic!("the checker's trace does not replay: {e}"))
}

/// The name part of a `"name: detail"` violation.
pub fn violation_name(v: &str) -> &str {
    v.split(':').next().unwrap_or("").trim()
}

/// Every property held (liveness included), the whole space was explored, nothing failed.
pub fn assert_all_hold(r: &CheckReport, what: &str) {
    assert!(r.complete, "{what}: incomplete search, stop {:?}", r.stop);
    assert_eq!(r.stop, reparti_check::StopReason::Exhausted, "{what}");
    assert!(r.counterexample.is_none(), "{what}: unexpected counterexample {:#?}", r.counterexample);
    for p in &r.properties {
        assert_eq!(p.holds, Some(true), "{what}: property '{}' ({}) is {:?}: {}", p.name, p.kind, p.holds, p.note);
    }
    assert!(r.properties.iter().filter(|p| p.kind == "liveness").count() == 2, "{what}: liveness verdicts missing");
    assert!(r.all_good());
}

/// The report found a violation of `property`: its verdict is ✗, and a counterexample
/// names it. Returns the number of steps of the counterexample.
pub fn assert_violates(r: &CheckReport, property: &str, what: &str) -> usize {
    assert!(!r.all_good(), "{what}: no property failed; verdicts {:#?}", r.properties);
    assert_eq!(r.stop, reparti_check::StopReason::Violation, "{what}");
    let cx = r.counterexample.as_ref().unwrap_or_else(|| panic!("{what}: a violation without a counterexample"));
    assert_eq!(cx.property, property, "{what}: counterexample names another property ({})", cx.detail);
    let verdict = r.property(property).unwrap_or_else(|| panic!("{what}: no verdict for '{property}'"));
    assert_eq!(verdict.holds, Some(false), "{what}: verdict of '{property}'");
    assert!(!cx.steps.is_empty(), "{what}: the counterexample has no steps");
    for (k, s) in cx.steps.iter().enumerate() {
        assert_eq!(s.step, k + 1, "{what}: steps are numbered from 1");
        assert!(!s.action.is_empty());
    }
    assert_eq!(cx.path.len(), cx.steps.len());
    cx.steps.len()
}

/// Replays a counterexample trace and checks the simulator meets the same violation,
/// named `property`.
pub fn assert_replays<A: Algorithm>(trace: &[u8], property: &str, what: &str) {
    assert!(!trace.is_empty(), "{what}: no counterexample trace was written");
    let r = replay::<A>(trace);
    let expected = r.expected.clone().unwrap_or_else(|| panic!("{what}: the trace records no violation"));
    // Property names may hold a colon themselves ("mutual exclusion: at most one …").
    assert!(expected.starts_with(&format!("{property}: ")), "{what}: trace ends with {expected}");
    let reached = r.reached.clone().unwrap_or_else(|| panic!("{what}: the replay met no violation ({expected})"));
    assert!(r.same_violation(), "{what}: trace says «{expected}», replay reached «{reached}»");
    assert!(r.steps > 0, "{what}: nothing was replayed");
}

/// BFS finds `property` violated in `len` steps and not in `len − 1` (the counterexample
/// is the shortest), and the trace replays to the same violation; returns `len`.
pub fn caught_shortest<A: Algorithm>(c: &CheckConfig, property: &str, what: &str) -> usize {
    let (r, trace) = run_traced::<A>(c);
    let len = assert_violates(&r, property, what);
    assert_replays::<A>(&trace, property, what);
    let shorter = run::<A>(&CheckConfig { max_depth: Some(len as u64 - 1), ..c.clone() });
    assert!(shorter.counterexample.is_none(), "{what}: a shorter counterexample exists");
    assert_eq!(shorter.stop, reparti_check::StopReason::Depth, "{what}");
    len
}
