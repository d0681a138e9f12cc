//! Ricart–Agrawala through the simulator: mutual exclusion, every request served,
//! exactly 2(n−1) messages per critical section, and CS entries in increasing (ts, id)
//! order, across seeds, sizes and delay models (non-FIFO included).
//!
//! The trace tests re-derive safety and order from the `enter_cs` / `exit_cs` outputs
//! alone, independently of the algorithm's own invariant.

use reparti_algos::mutex::RicartAgrawala;
use reparti_core::trace::{read_trace, EventKind, Trace};
use reparti_core::IdAssignment;
use reparti_sim::{simulate, simulate_traced, Delay, NetworkModel, Report, SimConfig, Stop};

mod common;
use common::mutex::check_trace;
use common::networks_over;

const MUTEX: &str = "mutual exclusion: at most one node in the critical section";
const SERVED: &str = "every request was served";

fn networks() -> Vec<NetworkModel> {
    networks_over([Delay::Const { value: 1.0 }, Delay::Uniform { min: 0.1, max: 6.0 }, Delay::Exp { mean: 2.0 }])
}

fn config(n: usize, seed: u64, network: &NetworkModel, params: &[(&str, &str)]) -> SimConfig {
    common::config(n, seed, reparti_core::IdAssignment::Random, network, params)
}

fn cs_entries(r: &Report) -> u64 {
    r.outputs.get("enter_cs").map(|m| m.values().sum()).unwrap_or(0)
}

/// Asserts the engine's verdicts and the exact message counts of one finished run.
fn assert_run(r: &Report, n: u64, requests: u64, ctx: &str) {
    assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
    assert!(r.holds(MUTEX), "{ctx}: {:?}", r.property(MUTEX));
    assert!(r.holds(SERVED), "{ctx}: {:?}", r.property(SERVED));
    let cs = cs_entries(r);
    assert_eq!(cs, n * requests, "{ctx}: every request enters once");
    assert_eq!(r.sent("REQUEST"), (n - 1) * cs, "{ctx}");
    assert_eq!(r.sent("REPLY"), (n - 1) * cs, "{ctx}");
    assert_eq!(r.messages.total, 2 * (n - 1) * cs, "{ctx}: 2(n−1) per CS");
    assert!(r.all_good(), "{ctx}: {:?}", r.expected);
    for key in ["REQUEST", "REPLY", "total"] {
        assert_eq!(r.expected[key].holds, Some(true), "{ctx}: {key}");
    }
}

#[test]
fn mutual_exclusion_service_and_message_counts_across_seeds_sizes_and_networks() {
    for network in networks() {
        for n in [2usize, 3, 5, 8] {
            for seed in 1..=20u64 {
                let r = simulate::<RicartAgrawala>(&config(n, seed, &network, &[])).expect("the run starts");
                assert_run(&r, n as u64, 2, &format!("n={n} seed={seed} {network:?}"));
            }
        }
    }
}

#[test]
fn more_requests_longer_critical_sections_and_ordered_identities() {
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 3.0 }, ..NetworkModel::default() };
    for (requests, cs_time) in [(1u64, 0u32), (4, 1), (3, 5)] {
        for ids in [IdAssignment::Asc, IdAssignment::Desc, IdAssignment::Random] {
            for seed in 1..=4 {
                let (rq, ct) = (requests.to_string(), cs_time.to_string());
                let cfg = SimConfig {
                    ids: ids.clone(),
                    ..config(6, seed, &network, &[("requests", rq.as_str()), ("cs_time", ct.as_str())])
                };
                let r = simulate::<RicartAgrawala>(&cfg).expect("the run starts");
                assert_run(&r, 6, requests, &format!("requests={requests} cs_time={cs_time} ids={ids} seed={seed}"));
            }
        }
    }
}

#[test]
fn a_single_process_enters_without_messages() {
    let r = simulate::<RicartAgrawala>(&config(1, 1, &NetworkModel::default(), &[])).expect("the run starts");
    assert_run(&r, 1, 2, "n=1");
    assert_eq!(r.messages.total, 0);
}

fn traced(n: usize, seed: u64, network: &NetworkModel, params: &[(&str, &str)]) -> (Report, Trace) {
    let (r, bytes) =
        simulate_traced::<RicartAgrawala, _>(&config(n, seed, network, params), Vec::new()).expect("the run starts");
    (r, read_trace(bytes.as_slice()).expect("the trace reads back"))
}

#[test]
fn the_trace_shows_exclusion_and_ts_id_ordered_entries() {
    for network in networks() {
        for n in [3usize, 5, 7] {
            for seed in 1..=10u64 {
                let ctx = format!("n={n} seed={seed} {network:?}");
                let (r, trace) = traced(n, seed, &network, &[("requests", "3")]);
                assert_run(&r, n as u64, 3, &ctx);
                check_trace(&trace, n, 3, &[("REQUEST", n - 1), ("REPLY", n - 1)], &ctx);
            }
        }
    }
}

#[test]
fn the_workload_exercises_queueing_and_deferral() {
    // Not a property of the algorithm but of the tests' reach: with the default workload
    // some requests arrive while their node is still waiting or inside (they are queued),
    // and some replies are deferred (sent when the CS timer fires, not on the REQUEST).
    let network = NetworkModel { fifo: false, delay: Delay::Uniform { min: 0.1, max: 6.0 }, ..NetworkModel::default() };
    let (mut queued, mut deferred, mut immediate) = (0, 0, 0);
    for seed in 1..=5u64 {
        let (_, trace) = traced(5, seed, &network, &[]);
        let mut waiting = [0i32; 5];
        let mut last = [EventKind::Start; 5];
        for e in &trace.events {
            let i = e.node as usize;
            match e.kind {
                EventKind::Input => {
                    waiting[i] += 1;
                    queued += (waiting[i] > 1) as u32;
                }
                EventKind::Output if e.key.as_deref() == Some("exit_cs") => waiting[i] -= 1,
                EventKind::Send if e.msg_type.as_deref() == Some("REPLY") => match last[i] {
                    EventKind::Timer => deferred += 1,
                    EventKind::Receive => immediate += 1,
                    other => panic!("a REPLY sent by a {other:?} handler"),
                },
                _ => {}
            }
            if matches!(e.kind, EventKind::Start | EventKind::Input | EventKind::Receive | EventKind::Timer) {
                last[i] = e.kind;
            }
        }
    }
    assert!(queued > 0, "no request ever arrived while another was under way");
    assert!(deferred > 0 && immediate > 0, "{deferred} deferred and {immediate} immediate replies");
}

#[test]
fn same_seed_same_trace() {
    let network = NetworkModel { fifo: false, delay: Delay::Exp { mean: 1.0 }, ..NetworkModel::default() };
    let a = simulate_traced::<RicartAgrawala, _>(&config(5, 9, &network, &[]), Vec::new()).expect("runs").1;
    let b = simulate_traced::<RicartAgrawala, _>(&config(5, 9, &network, &[]), Vec::new()).expect("runs").1;
    assert_eq!(a, b);
}
