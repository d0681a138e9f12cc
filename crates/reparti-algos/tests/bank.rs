//! The bank through the simulator: money conserved (balances plus TRANSFER in
//! transit) after every event, no account overdrawn, every planned transfer made or
//! refused, every transfer credited once — across seeds, sizes, topologies, the three
//! delay models, FIFO or not. Its cost asserted exactly: one TRANSFER per transfer
//! made, n·transfers when no balance can run short. The ledger re-derived from the
//! trace alone: every `balance` output is the previous one minus the transfer sent or
//! plus the TRANSFER received, and the total is n·balance at every prefix. The broken
//! variant (`fault=debit-late`) caught, and a crash shown to lose money.

use reparti_algos::observation::bank::{
    Bank, ALL_CREDITED, ALL_SETTLED, BALANCE, MONEY_CONSERVED, NO_NEGATIVE, REFUSED, REJECTED, TRANSFER,
};
use reparti_core::trace::{read_trace, EventKind, Trace};
use reparti_core::{IdAssignment, NodeId, OutputValue, TopologyKind};
use reparti_sim::network::Fault;
use reparti_sim::{simulate_traced, NetworkModel, Report, SimConfig};
use std::collections::BTreeMap;

mod common;
use common::{assert_good, config, networks, run};

const ALL: [&str; 4] = [MONEY_CONSERVED, NO_NEGATIVE, ALL_SETTLED, ALL_CREDITED];

fn topologies() -> Vec<TopologyKind> {
    [
        TopologyKind::Complete,
        TopologyKind::Ring,
        TopologyKind::BidirRing,
        TopologyKind::Line,
        TopologyKind::Star,
        TopologyKind::Tree,
        TopologyKind::Grid,
        TopologyKind::Random { degree: 3 },
    ]
    .into()
}

fn bank(kind: &TopologyKind, n: usize, seed: u64, network: &NetworkModel, params: &[(&str, &str)]) -> SimConfig {
    SimConfig { topology: Some(kind.clone()), ..config(n, seed, IdAssignment::Random, network, params) }
}

fn outputs(r: &Report, key: &str) -> u64 {
    r.outputs.get(key).map(|m| m.values().sum()).unwrap_or(0)
}

/// Every verdict good, every count declared held; returns (made, refused or rejected).
fn assert_run(r: &Report, n: u64, transfers: u64, ctx: &str) -> (u64, u64) {
    assert_good(r, &ALL, ctx);
    let (made, refused) = (outputs(r, TRANSFER), outputs(r, REFUSED) + outputs(r, REJECTED));
    assert_eq!(made + refused, n * transfers, "{ctx}: every planned transfer settled");
    assert_eq!(r.sent("TRANSFER"), made, "{ctx}: one TRANSFER per transfer made");
    assert_eq!(r.messages.total, made, "{ctx}: nothing else sent");
    assert_eq!(r.messages.delivered, made, "{ctx}: every TRANSFER delivered");
    assert!(r.expected.values().all(|e| e.holds == Some(true)), "{ctx}: {:?}", r.expected);
    (made, refused)
}

#[test]
fn conserved_and_settled_across_topologies_sizes_seeds_and_networks() {
    for network in networks() {
        for kind in topologies() {
            for n in [2usize, 3, 5, 8] {
                for seed in 1..=4u64 {
                    let ctx = format!("{kind} n={n} seed={seed} {network:?}");
                    let r = run::<Bank>(&bank(&kind, n, seed, &network, &[]));
                    let (made, refused) = assert_run(&r, n as u64, 5, &ctx);
                    // 100 ≥ 5·20: no planned transfer can be refused.
                    assert_eq!((made, refused), (5 * n as u64, 0), "{ctx}");
                    assert_eq!(r.expected.len(), 4, "{ctx}: n·transfers claimed too");
                }
            }
        }
    }
}

#[test]
fn over_two_hundred_seeds_short_balances_refuse_and_money_is_still_conserved() {
    let (mut refused_runs, mut total_refused) = (0, 0);
    for seed in 1..=200u64 {
        let network = &networks()[(seed % 6) as usize];
        let kind = &topologies()[(seed % 8) as usize];
        let n = [3usize, 4, 6][(seed % 3) as usize];
        let ctx = format!("{kind} n={n} seed={seed} {network:?}");
        let params = [("balance", "15"), ("transfers", "6"), ("max_amount", "10")];
        let r = run::<Bank>(&bank(kind, n, seed, network, &params));
        let (_, refused) = assert_run(&r, n as u64, 6, &ctx);
        assert_eq!(r.expected.len(), 3, "{ctx}: no n·transfers claim when a balance can run short");
        refused_runs += usize::from(refused > 0);
        total_refused += refused;
    }
    assert!(refused_runs > 100, "short balances refuse in most runs: {refused_runs} ({total_refused} refusals)");
}

fn traced(cfg: &SimConfig) -> (Report, Trace) {
    let (r, bytes) = match simulate_traced::<Bank, _>(cfg, Vec::new()) {
        Ok(x) => x,
        Err(e) => panic!("the run does not start: {e}"),
    };
    (r, read_trace(bytes.as_slice()).expect("the trace reads back"))
}

fn amount_of(payload: Option<&serde_json::Value>) -> i64 {
    payload.and_then(|p| p["Transfer"]["amount"].as_i64()).expect("a TRANSFER carries its amount")
}

/// The ledger from the trace alone: each `balance` output is the node's previous balance
/// minus what it just sent or plus what it just received, and at every prefix between
/// handlers the balances plus the TRANSFER sent and not yet received add up to n·each.
fn check_ledger(trace: &Trace, each: i64, ctx: &str) {
    let n = trace.header.nodes;
    let mut ledger = vec![each; n];
    let mut change: Vec<Option<i64>> = vec![None; n];
    let mut amounts: BTreeMap<u64, i64> = BTreeMap::new();
    let mut moving = 0i64;
    for e in &trace.events {
        let node = e.node as usize;
        match e.kind {
            EventKind::Send => {
                let a = amount_of(e.payload.as_ref());
                amounts.insert(e.msg.expect("a message id"), a);
                moving += a;
                change[node] = Some(-a);
            }
            EventKind::Receive => {
                let a = amounts[&e.msg.expect("a message id")];
                moving -= a;
                change[node] = Some(a);
            }
            EventKind::Output if e.key.as_deref() == Some(BALANCE) => {
                let delta = change[node].take().expect("a balance changes only by a send or a receive");
                ledger[node] += delta;
                assert_eq!(e.value, Some(OutputValue::Int(ledger[node])), "{ctx}: event {}", e.i);
            }
            _ => {}
        }
        // Between a send or receive and its `balance` output the handler is still running.
        if change.iter().all(Option::is_none) {
            assert_eq!(ledger.iter().sum::<i64>() + moving, each * n as i64, "{ctx}: after event {}", e.i);
        }
        assert!(ledger.iter().all(|&b| b >= 0), "{ctx}: after event {}", e.i);
    }
    assert_eq!(moving, 0, "{ctx}: money left in transit at the end");
}

#[test]
fn the_trace_alone_keeps_the_books() {
    for network in networks() {
        for kind in [TopologyKind::Complete, TopologyKind::Ring, TopologyKind::Star] {
            for seed in 1..=5u64 {
                let ctx = format!("{kind} seed={seed} {network:?}");
                let params = [("balance", "12"), ("transfers", "4"), ("max_amount", "9")];
                let (r, trace) = traced(&bank(&kind, 5, seed, &network, &params));
                assert_run(&r, 5, 4, &ctx);
                check_ledger(&trace, 12, &ctx);
            }
        }
    }
}

#[test]
fn debit_late_breaks_conservation_and_overdraws() {
    let mut overdrawn = 0;
    for seed in 1..=20u64 {
        let network = NetworkModel::default();
        let params = [("balance", "10"), ("transfers", "4"), ("max_amount", "8"), ("fault", "debit-late")];
        let cfg = bank(&TopologyKind::Complete, 4, seed, &network, &params);
        let r = run::<Bank>(&cfg);
        assert_eq!(r.property(MONEY_CONSERVED).and_then(|p| p.holds), Some(false), "seed {seed}");
        // Run on past the first violation: the late debits drive accounts negative.
        let r = run::<Bank>(&SimConfig { stop_at_violation: false, ..cfg });
        overdrawn += usize::from(r.property(NO_NEGATIVE).and_then(|p| p.holds) == Some(false));
    }
    assert!(overdrawn > 0, "two transfers checked before a post overdraw in some run");
}

#[test]
fn a_crash_loses_the_money_sent_to_the_crashed_branch() {
    let network = NetworkModel::default();
    // Node 0 crashes at once: every TRANSFER to it is lost with its amount.
    let cfg = SimConfig {
        faults: vec![Fault::Crash { node: NodeId(0), at: 0.0 }],
        ..bank(&TopologyKind::Complete, 4, 1, &network, &[])
    };
    let r = run::<Bank>(&cfg);
    assert_eq!(r.property(MONEY_CONSERVED).and_then(|p| p.holds), Some(false), "{:?}", r.properties);
}

#[test]
fn on_a_one_way_edge_list_the_sink_rejects_its_plan_and_the_counts_say_so() {
    let dir = std::env::temp_dir().join(format!("bank-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let path = dir.join("line.txt");
    std::fs::write(&path, "0 -> 1\n1 -> 2\n2 -> 3\n").expect("an edge list");
    let kind = TopologyKind::File { path: path.display().to_string() };
    for network in networks() {
        let r = run::<Bank>(&bank(&kind, 4, 3, &network, &[]));
        let (made, refused) = assert_run(&r, 4, 5, &format!("{network:?}"));
        // Node 3 has no outgoing channel: its 5 are rejected, the others' 15 made.
        assert_eq!((made, refused, outputs(&r, REJECTED)), (15, 5, 5));
        assert_eq!(r.expected.len(), 4, "the n·transfers − rejected claim is made");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
