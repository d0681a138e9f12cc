//! Lamport's mutual exclusion through the simulator: mutual exclusion, every request
//! served, exactly 3(n−1) messages per critical section and CS entries in increasing
//! (ts, id) order, across seeds, sizes and the three delay models on FIFO channels (the
//! algorithm requires them; the checker's tests show what goes wrong without).

use reparti_algos::mutex::LamportMutex;
use reparti_core::trace::read_trace;
use reparti_core::{Algorithm, IdAssignment};
use reparti_sim::{simulate_traced, Delay, NetworkModel, Report, SimConfig};

mod common;
use common::mutex::check_trace;
use common::{assert_good, config, run};

const MUTEX: &str = "mutual exclusion: at most one node in the critical section";
const SERVED: &str = "every request was served";

fn fifo_networks() -> Vec<NetworkModel> {
    common::networks().into_iter().filter(|n| n.fifo).collect()
}

fn assert_run(r: &Report, n: u64, requests: u64, ctx: &str) {
    assert_good(r, &[MUTEX, SERVED], ctx);
    let cs: u64 = r.outputs.get("enter_cs").map(|m| m.values().sum()).unwrap_or(0);
    assert_eq!(cs, n * requests, "{ctx}: every request enters once");
    for kind in ["REQUEST", "REPLY", "RELEASE"] {
        assert_eq!(r.sent(kind), (n - 1) * cs, "{ctx}: {kind}");
    }
    assert_eq!(r.messages.total, 3 * (n - 1) * cs, "{ctx}: 3(n−1) per CS");
    for key in ["REQUEST", "REPLY", "RELEASE", "total"] {
        assert_eq!(r.expected[key].holds, Some(true), "{ctx}: {key}");
    }
}

#[test]
fn exclusion_service_order_and_exact_counts_across_seeds_sizes_and_delays() {
    for network in fifo_networks() {
        for n in [2usize, 3, 5, 8] {
            for seed in 1..=12u64 {
                let ctx = format!("n={n} seed={seed} {network:?}");
                let cfg = config(n, seed, IdAssignment::Random, &network, &[("requests", "3")]);
                let (r, bytes) = simulate_traced::<LamportMutex, _>(&cfg, Vec::new()).expect("the run starts");
                assert_run(&r, n as u64, 3, &ctx);
                let trace = read_trace(bytes.as_slice()).expect("the trace reads back");
                check_trace(&trace, n, 3, &[("REQUEST", n - 1), ("REPLY", n - 1), ("RELEASE", n - 1)], &ctx);
            }
        }
    }
}

#[test]
fn longer_stays_more_requests_and_ordered_identities() {
    let network = NetworkModel { delay: Delay::Exp { mean: 3.0 }, ..NetworkModel::default() };
    for (requests, cs_time) in [(1u64, 0u32), (4, 1), (3, 5)] {
        for ids in [IdAssignment::Asc, IdAssignment::Desc] {
            let (rq, ct) = (requests.to_string(), cs_time.to_string());
            let cfg = SimConfig {
                ids: ids.clone(),
                ..config(6, 3, IdAssignment::Asc, &network, &[("requests", &rq), ("cs_time", &ct)])
            };
            assert_run(&run::<LamportMutex>(&cfg), 6, requests, &format!("{requests} {cs_time} {ids}"));
        }
    }
}

#[test]
fn a_single_process_enters_without_messages() {
    let r = run::<LamportMutex>(&config(1, 1, IdAssignment::Asc, &NetworkModel::default(), &[]));
    assert_run(&r, 1, 2, "n=1");
}

#[test]
fn it_declares_fifo_and_its_console_commands() {
    let spec = LamportMutex::spec();
    assert!(spec.needs_fifo);
    let words: Vec<&str> = spec.commands.iter().map(|c| c.word).collect();
    assert_eq!(words, ["request", "release"]);
    assert_eq!(spec.spans[0].opens, "enter_cs");
}
