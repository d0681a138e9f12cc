//! Honest endings: a memory budget stops every strategy cleanly with a partial report
//! before the visited set and the frontier outgrow it, an interrupt flag (what Ctrl-C
//! sets on the command line) does the same at any moment, and a partial report
//! establishes nothing: no ✓, a reason, `complete: false`.

mod common;

use common::{assert_all_hold, cfg, run, with_params};
use reparti_algos::election::ChangRoberts;
use reparti_algos::mutex::RicartAgrawala;
use reparti_check::{CheckConfig, CheckReport, NetworkKind, StopReason, Strategy};
use reparti_core::IdAssignment;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const KIB: u64 = 1024;

/// A report cut short for `stop`, with nothing failed and nothing established.
fn assert_cut(r: &CheckReport, stop: StopReason, says: &str, what: &str) {
    assert_eq!(r.stop, stop, "{what}");
    assert!(!r.complete, "{what}");
    assert!(r.all_good() && r.counterexample.is_none(), "{what}: {:?}", r.properties);
    let why = r.cut_short.as_deref().unwrap_or_else(|| panic!("{what}: no reason given"));
    assert!(why.contains(says), "{what}: {why}");
    for p in &r.properties {
        assert_eq!(p.holds, None, "{what}: '{}' looks established: {}", p.name, p.note);
    }
}

fn cr(n: usize) -> CheckConfig {
    cfg(n, IdAssignment::Desc, NetworkKind::Unordered)
}

fn ra_dfs() -> CheckConfig {
    CheckConfig {
        strategy: Strategy::Dfs,
        liveness: false,
        ..with_params(cfg(3, IdAssignment::Asc, NetworkKind::Unordered), &[("requests", "2")])
    }
}

#[test]
fn a_memory_budget_stops_breadth_first_search_within_it() {
    let full = run::<ChangRoberts>(&CheckConfig { liveness: false, ..cr(7) });
    assert!(full.complete && full.memory_peak_bytes > 1024 * KIB, "peak {}", full.memory_peak_bytes);
    for threads in [1, 2] {
        let budget = 1024 * KIB;
        let r = run::<ChangRoberts>(&CheckConfig { max_memory: Some(budget), threads, ..cr(7) });
        let what = format!("CR n=7, 1 MiB, {threads} thread(s)");
        assert_cut(&r, StopReason::Memory, "memory budget of 1.0 MiB reached", &what);
        assert_eq!(r.memory_budget_bytes, budget, "{what}");
        assert!(r.memory_peak_bytes <= budget, "{what}: stored {} of {budget}", r.memory_peak_bytes);
        assert!(r.memory_peak_bytes > budget / 2, "{what}: stopped early, at {} of {budget}", r.memory_peak_bytes);
        assert!(r.unique_states > 1000 && r.unique_states < full.unique_states, "{what}: {}", r.unique_states);
    }
}

#[test]
fn wide_states_are_budgeted_within_a_batch() {
    // 30 nodes: a state packs to hundreds of bytes and has dozens of successors, so one
    // batch of 4096 states yields far more than the frontier before it. The budget is
    // judged inside the batch, and the search still fills it rather than stopping early.
    let budget = 4096 * KIB;
    let r = run::<ChangRoberts>(&CheckConfig { max_memory: Some(budget), ..cr(30) });
    assert_cut(&r, StopReason::Memory, "memory budget of 4.0 MiB reached", "CR n=30, 4 MiB");
    assert!(r.memory_peak_bytes <= budget, "stored {} of {budget}", r.memory_peak_bytes);
    assert!(r.memory_peak_bytes > budget / 2, "stopped early, at {} of {budget}", r.memory_peak_bytes);
}

#[test]
fn a_memory_budget_stops_depth_first_search_and_random_walks() {
    let full = run::<RicartAgrawala>(&ra_dfs());
    assert!(full.complete, "{:?}", full.stop);
    let budget = 256 * KIB;
    let r = run::<RicartAgrawala>(&CheckConfig { max_memory: Some(budget), ..ra_dfs() });
    assert_cut(&r, StopReason::Memory, "memory budget", "dfs, 256 KiB");
    assert!(r.memory_peak_bytes <= budget, "dfs: stored {} of {budget}", r.memory_peak_bytes);
    assert!(r.unique_states > 1000 && r.unique_states < full.unique_states, "dfs: {}", r.unique_states);

    let budget = 64 * KIB;
    let walks = CheckConfig {
        strategy: Strategy::Random { walks: 100_000, depth: 200 },
        max_memory: Some(budget),
        liveness: false,
        ..cr(7)
    };
    let r = run::<ChangRoberts>(&walks);
    assert_cut(&r, StopReason::Memory, "memory budget", "random walks, 64 KiB");
    assert!(r.memory_peak_bytes <= budget, "walks: stored {} of {budget}", r.memory_peak_bytes);
}

#[test]
fn a_budget_that_fits_changes_nothing() {
    let c = cr(5);
    let plain = run::<ChangRoberts>(&c);
    let roomy = run::<ChangRoberts>(&CheckConfig { max_memory: Some(64 << 20), ..c });
    assert_all_hold(&roomy, "CR n=5 in 64 MiB");
    assert_eq!(roomy.unique_states, plain.unique_states);
    assert_eq!(roomy.cut_short, None);
    assert!(roomy.memory_peak_bytes > 0 && roomy.memory_peak_bytes <= 64 << 20);
}

#[test]
fn the_default_budget_is_a_share_of_the_machine() {
    let r = run::<ChangRoberts>(&cr(3));
    let b = reparti_check::MemoryBudget::default_for_machine();
    // MemAvailable moves between two reads: the same order of magnitude is what counts.
    let (a, b) = (r.memory_budget_bytes as f64, b.bytes as f64);
    assert!(a > 0.0 && a / b > 0.5 && a / b < 2.0, "{a} vs {b}");
}

#[test]
fn a_liveness_graph_over_the_budget_is_skipped_and_says_so() {
    // The safety search fits in 1 MiB; the explicit graph of its 9,360 states does not.
    let r = run::<ChangRoberts>(&CheckConfig { max_memory: Some(1024 * KIB), ..cr(6) });
    assert!(r.complete && r.cut_short.is_none(), "{:?} {:?}", r.stop, r.cut_short);
    for p in &r.properties {
        if p.kind == "liveness" {
            assert_eq!(p.holds, None, "{}", p.name);
            assert!(p.note.contains("outgrow the memory budget of 1.0 MiB"), "{}", p.note);
        } else {
            assert_eq!(p.holds, Some(true), "{}: {}", p.name, p.note);
        }
    }
}

#[test]
fn an_interrupt_before_the_start_stops_every_strategy_at_once() {
    let flag = Arc::new(AtomicBool::new(true));
    for strategy in [Strategy::Bfs, Strategy::Dfs, Strategy::Random { walks: 1000, depth: 100 }] {
        let c = CheckConfig { interrupt: Some(flag.clone()), strategy, ..cr(7) };
        let r = run::<ChangRoberts>(&c);
        assert_cut(&r, StopReason::Interrupted, "interrupted", &format!("{strategy:?}"));
        // BFS finishes its batch, DFS polls every 4096 steps, walks after a walk.
        assert!(r.states <= 4096 * 8, "{strategy:?}: {} states generated after the interrupt", r.states);
    }
}

#[test]
fn an_interrupt_during_the_search_gives_the_partial_report() {
    // The progress callback stands in for Ctrl-C: it raises the flag mid-search.
    let flag = Arc::new(AtomicBool::new(false));
    let c = CheckConfig { interrupt: Some(flag.clone()), ..cr(7) };
    let progress = |p: &reparti_check::Progress| {
        if p.unique >= 10_000 {
            flag.store(true, Ordering::Relaxed);
        }
    };
    let r = reparti_check::check::<ChangRoberts>(&c, false, &progress, None).expect("runs");
    assert_cut(&r, StopReason::Interrupted, "interrupted", "CR n=7 interrupted at 10,000 states");
    assert!(r.unique_states >= 10_000 && r.unique_states < 75_600, "{}", r.unique_states);
}

#[test]
fn a_violation_found_before_the_cut_is_still_a_violation() {
    // Random walks never exhaust a space, yet the counterexample they find is real.
    let c = CheckConfig {
        strategy: Strategy::Random { walks: 3000, depth: 200 },
        max_memory: Some(1 << 20),
        ..with_params(cfg(3, IdAssignment::List(vec![3, 1, 2]), NetworkKind::Unordered), &[("fixed", "false")])
    };
    let r = run::<reparti_algos::election::Franklin>(&c);
    assert_eq!(r.stop, StopReason::Violation);
    assert!(!r.complete && r.cut_short.is_none(), "{:?}", r.cut_short);
    assert!(!r.all_good() && r.counterexample.is_some());
}
