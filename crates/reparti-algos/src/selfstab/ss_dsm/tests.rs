//! The self-stabilizing DSM: handlers one by one, then whole runs through the simulator,
//! stepped event by event so that the legitimacy predicate is checked after each one —
//! closure in fault-free runs, and the time to converge after every node is corrupted.

use super::declarations::PARAMS;
use super::*;
use crate::handler_harness::{outputs, sends};
use reparti_core::{Effect, OutputValue, TopologyKind};
use reparti_sim::{Delay, NetworkModel, Report, SimConfig, Simulation, Stop};

const PERIOD: f64 = 10.0;

fn nodes(n: u32, pages: u32) -> Vec<Node> {
    (0..n).map(|i| Node::new(NodeId(i), n, pages, n + 1, PERIOD as u32, 3, 60)).collect()
}

fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let (me, n) = (node.me, node.n as usize);
    let eff = crate::handler_harness::run(node, TopologyKind::Complete, me, n, f);
    assert!(node.local.is_empty(), "the local hops are all handled within the event");
    eff
}

fn deliver(ns: &mut [Node], from: u32, to: usize, msg: Msg) -> Vec<Effect<Msg>> {
    run(&mut ns[to], |s, c| s.on_message(NodeId(from), msg, c))
}

fn texts(eff: &[Effect<Msg>], key: &str) -> Vec<String> {
    outputs(eff, key).into_iter().map(|v| v.to_string()).collect()
}

fn stamp(version: u64, value: i64) -> Stamp {
    Stamp { version, value: Some(value) }
}

#[test]
fn nodes_start_legitimate_with_node_0_holding_every_token() {
    let ns = nodes(4, 3);
    assert_eq!(legitimate(&ns, 4), Ok(()));
    for p in 0..3 {
        assert!(ns[0].privileged(p));
        assert!((1..4).all(|i| !ns[i].privileged(p)));
        assert_eq!(ns[(p % 4) as usize].homes.keys().filter(|&&q| q == p).count(), 1, "page {p} has its home");
    }
    assert_eq!(ns[1].homes.keys().copied().collect::<Vec<_>>(), vec![1]);
}

#[test]
fn legitimacy_rejects_two_tokens_a_writer_without_lock_and_stale_readers() {
    let mut ns = nodes(3, 1);
    // Counters 0 1 0: every node is privileged.
    ns[1].pages[0].x = 1;
    assert!(legitimate(&ns, 3).is_err_and(|e| e.contains("privileged [0, 1, 2]")));
    // 0 1 1: one token, at node 1.
    ns[2].pages[0].x = 1;
    assert_eq!(legitimate(&ns, 3), Ok(()));
    ns[1].pages[0].access = Access::Write;
    assert!(legitimate(&ns, 3).is_err_and(|e| e.contains("lock")), "a writer needs the home's granted lock");
    let lock = Lock { holder: NodeId(1), seq: 7, since: 0, awaiting: BTreeSet::new(), granted: true };
    ns[0].homes.get_mut(&0).unwrap().lock = Some(lock);
    assert_eq!(legitimate(&ns, 3), Ok(()));
    ns[2].pages[0].access = Access::Write;
    assert!(legitimate(&ns, 3).is_err_and(|e| e.contains("write access at [1, 2]")));
    ns[2].pages[0].access = Access::Read;
    ns[2].pages[0].stamp = stamp(1, 5);
    assert!(legitimate(&ns, 3).is_err_and(|e| e.contains("holds")), "copies must agree");
    // Unlocked, every copy holds the home's version and value.
    ns[1].pages[0].access = Access::Nil;
    ns[0].homes.get_mut(&0).unwrap().lock = None;
    assert!(legitimate(&ns, 3).is_err_and(|e| e.contains("the home")));
    ns[0].homes.get_mut(&0).unwrap().stamp = stamp(1, 5);
    assert_eq!(legitimate(&ns, 3), Ok(()));
}

#[test]
fn a_write_waits_for_the_token_locks_the_home_invalidates_everyone_then_writes() {
    let mut ns = nodes(3, 1);
    // Node 0 holds the token; its client asks for a write: nothing happens before its period.
    let eff = run(&mut ns[0], |s, c| s.on_input(Input::Write { key: 0, value: 42 }, c));
    assert!(sends(&eff).is_empty());
    assert_eq!(texts(&eff, "call"), vec!["write 0 42"]);
    // Its period: it is the home too, so WREQ is local; the lock invalidates 1 and 2.
    let eff = run(&mut ns[0], |s, c| s.on_timer(TICK, c));
    let sent = sends(&eff);
    assert!(sent.contains(&(NodeId(1), Msg::Inv { page: 0, seq: Some(1) })));
    assert!(sent.contains(&(NodeId(2), Msg::Inv { page: 0, seq: Some(1) })));
    assert!(sent.contains(&(NodeId(1), Msg::Token { page: 0, x: 0 })), "it keeps the token: no move");
    assert_eq!(texts(&eff, INVALIDATED), vec!["2"]);
    assert!(ns[0].privileged(0));
    // The acknowledgements: the second one grants, locally, and the write is performed.
    let eff = deliver(&mut ns, 1, 0, Msg::InvAck { page: 0, seq: Some(1) });
    assert!(sends(&eff).is_empty());
    let eff = deliver(&mut ns, 2, 0, Msg::InvAck { page: 0, seq: Some(1) });
    assert_eq!(texts(&eff, "ret"), vec!["ok"]);
    assert_eq!(ns[0].pages[0].access, Access::Write);
    assert_eq!(ns[0].pages[0].stamp, stamp(1, 42));
    assert_eq!(legitimate(&ns, 3), Ok(()));
    // A read at node 1 now waits at the home.
    run(&mut ns[1], |s, c| s.on_input(Input::Read { key: 0 }, c));
    let eff = deliver(&mut ns, 1, 0, Msg::ReadReq { page: 0, seq: 1 });
    assert!(sends(&eff).is_empty());
    // Next period: node 0 moves, drops to read and releases: the waiting read is answered.
    let eff = run(&mut ns[0], |s, c| s.on_timer(TICK, c));
    let sent = sends(&eff);
    assert!(sent.contains(&(NodeId(1), Msg::Data { page: 0, seq: 1, stamp: stamp(1, 42) })));
    assert!(sent.contains(&(NodeId(1), Msg::Token { page: 0, x: 1 })), "the token moves on");
    assert_eq!(ns[0].pages[0].access, Access::Read);
    assert_eq!(ns[0].homes[&0].stamp, stamp(1, 42));
    assert!(ns[0].homes[&0].lock.is_none());
}

#[test]
fn reports_repair_wrong_copies_and_an_unentitled_grant_is_released() {
    let mut ns = nodes(3, 1);
    // A reader whose copy differs from the home's is invalidated.
    let bad = Msg::Status { page: 0, access: Access::Read, stamp: stamp(3, -4), token: false };
    let eff = deliver(&mut ns, 2, 0, bad);
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Inv { page: 0, seq: None })]);
    assert_eq!(texts(&eff, REPAIR), vec!["remote"]);
    // A writer without the token, or without the lock, too.
    let bad = Msg::Status { page: 0, access: Access::Write, stamp: Stamp::default(), token: true };
    let eff = deliver(&mut ns, 1, 0, bad);
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Inv { page: 0, seq: None })]);
    // A right reader and a node without a copy are left alone.
    let good = Msg::Status { page: 0, access: Access::Read, stamp: Stamp::default(), token: false };
    assert!(sends(&deliver(&mut ns, 1, 0, good)).is_empty());
    // The soft copy set is what the last reports say (node 2's INV is on its way).
    assert_eq!(ns[0].homes[&0].copy_set(), [NodeId(1), NodeId(2)].into());
    assert_eq!(ns[0].homes[&0].owner(), None);
    // A GRANT nobody waits for goes straight back.
    let eff = deliver(&mut ns, 0, 1, Msg::Grant { page: 0, seq: 9, stamp: stamp(2, 7) });
    assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Release { page: 0, seq: 9, stamp: stamp(2, 7) })]);
    assert_eq!(ns[1].pages[0].access, Access::Nil);
}

#[test]
fn a_lock_whose_holder_reports_no_token_is_dropped_and_its_holder_may_ask_again() {
    let mut ns = nodes(3, 1);
    let lock = Lock { holder: NodeId(2), seq: 3, since: 0, awaiting: BTreeSet::new(), granted: true };
    ns[0].homes.get_mut(&0).unwrap().lock = Some(lock.clone());
    ns[0].homes.get_mut(&0).unwrap().reads.insert(1, 5);
    // The holder asks again (it gave up its request): the lock restarts with the new one.
    let eff = deliver(&mut ns, 2, 0, Msg::WriteReq { page: 0, seq: 4 });
    assert!(sends(&eff).contains(&(NodeId(1), Msg::Inv { page: 0, seq: Some(4) })));
    assert_eq!(ns[0].homes[&0].lock.as_ref().map(|l| (l.holder, l.seq, l.granted)), Some((NodeId(2), 4, false)));
    // A report from the holder with neither write access nor the token: the lock goes,
    // and the read that waited is answered.
    ns[0].homes.get_mut(&0).unwrap().lock = Some(lock);
    let eff =
        deliver(&mut ns, 2, 0, Msg::Status { page: 0, access: Access::Nil, stamp: Stamp::default(), token: false });
    assert!(ns[0].homes[&0].lock.is_none());
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Data { page: 0, seq: 5, stamp: Stamp::default() })]);
    // While it holds the token (waiting for its GRANT), its lock stays.
    let lock = Lock { holder: NodeId(2), seq: 6, since: 0, awaiting: BTreeSet::new(), granted: false };
    ns[0].homes.get_mut(&0).unwrap().lock = Some(lock);
    deliver(&mut ns, 2, 0, Msg::Status { page: 0, access: Access::Nil, stamp: Stamp::default(), token: true });
    assert!(ns[0].homes[&0].lock.is_some());
}

#[test]
fn corruption_is_drawn_from_its_seed_and_leaves_the_client_alone() {
    let (mut a, mut b) = (nodes(4, 2), nodes(4, 2));
    run(&mut a[0], |s, c| s.on_input(Input::Write { key: 1, value: 5 }, c));
    run(&mut b[0], |s, c| s.on_input(Input::Write { key: 1, value: 5 }, c));
    let eff = run(&mut a[0], |s, c| s.on_input(Input::Corrupt { seed: 11 }, c));
    run(&mut b[0], |s, c| s.on_input(Input::Corrupt { seed: 11 }, c));
    assert_eq!(a[0], b[0], "the same seed, the same memory");
    assert_eq!(outputs(&eff, CORRUPTED), vec![OutputValue::Int(1)]);
    assert_eq!(a[0].client.open, Some(Operation::Write { key: 1, value: 5 }));
    let mut c = nodes(4, 2);
    let differs = (0..20u64).any(|seed| {
        run(&mut c[0], |s, ctx| s.on_input(Input::Corrupt { seed }, ctx));
        c[0].pages != a[0].pages
    });
    assert!(differs);
    // The console's `corrupt 11` is this input.
    let input: Input = serde_json::from_value(serde_json::json!({"Corrupt": {"seed": 11}})).unwrap();
    assert_eq!(input, Input::Corrupt { seed: 11 });
    assert_eq!(SsDsm::spec().command("corrupt").map(|c| c.variant), Some("Corrupt"));
    assert_eq!(SsDsm::spec().command("write").map(|c| c.variant), Some("Write"));
}

#[test]
fn sizes_and_k_are_checked() {
    let algo = |k: &str| {
        let given = vec![("k".to_string(), k.to_string())];
        SsDsm::from_params(&Params::resolve("ss-dsm", PARAMS, &given).unwrap()).unwrap()
    };
    assert_eq!(algo("n+1").check_size(4), Ok(()));
    assert_eq!(algo("n").check_size(4), Ok(()));
    assert!(algo("n-1").check_size(4).is_err_and(|e| e.contains("K ≥ n")));
    assert!(algo("n+1").check_size(1).is_err());
    assert!(algo("x").check_size(4).is_err_and(|e| e.contains("expected n")));
}

// ----- whole runs -----

fn config(n: usize, seed: u64, delay: Delay, params: &[(&str, &str)]) -> SimConfig {
    SimConfig {
        nodes: Some(n),
        seed,
        network: NetworkModel { fifo: true, delay, ..NetworkModel::default() },
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..SimConfig::default()
    }
}

/// A run stepped event by event: its report, and for each event its time and whether
/// the configuration after it was legitimate (with the first reason it was not).
struct Stepped {
    report: Report,
    legit: Vec<(f64, bool)>,
    first_bad: Option<(f64, String)>,
}

fn stepped(cfg: &SimConfig) -> Stepped {
    let n = cfg.nodes.expect("a size");
    let mut sim = Simulation::<SsDsm>::new(cfg).expect("the run starts");
    let (mut legit, mut first_bad) = (Vec::new(), None);
    while sim.run_for(1) {
        let verdict = legitimate(sim.nodes(), n);
        if let (Err(why), None) = (&verdict, &first_bad) {
            first_bad = Some((sim.now(), why.clone()));
        }
        legit.push((sim.now(), verdict.is_ok()));
    }
    let (report, _) = sim.finish().expect("the run ends");
    Stepped { report, legit, first_bad }
}

fn assert_expected(r: &Report, ctx: &str) {
    for key in ["TOKEN", "STATUS", "INV", "IACK"] {
        let e = &r.expected[key];
        assert_eq!(e.holds, Some(true), "{ctx}: {key}: measured {} for {:?}", e.measured, e.expectation);
    }
}

#[test]
fn fault_free_runs_stay_legitimate_after_every_event() {
    let delays = [Delay::Const { value: 1.0 }, Delay::Uniform { min: 0.2, max: 2.0 }];
    let mut writes = 0;
    for n in 3..=5 {
        for seed in 0..20u64 {
            let delay = delays[seed as usize % 2];
            let pages = if seed % 4 == 3 { "2" } else { "1" };
            let cfg = config(n, seed, delay, &[("pages", pages), ("ops", "4")]);
            let ctx = format!("n = {n}, seed {seed}, {delay}, pages = {pages}");
            let run = stepped(&cfg);
            assert_eq!(run.first_bad, None, "{ctx}");
            let r = &run.report;
            assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
            assert!(r.holds(LEGITIMATE), "{ctx}: {:?}", r.property(LEGITIMATE));
            let outside = r.property(RESTORED).and_then(|p| p.outside.as_ref()).expect("measured");
            assert_eq!(outside.stretches, 0, "{ctx}: closure, as the simulator saw it too");
            assert!(r.holds(crate::memory::ANSWERED), "{ctx}: {:?}", r.property(crate::memory::ANSWERED));
            assert!(r.holds(crate::memory::LINEARIZABLE), "{ctx}: {:?}", r.property(crate::memory::LINEARIZABLE));
            assert_expected(r, &ctx);
            assert!(r.all_good(), "{ctx}: {:?}", r.expected);
            assert_eq!(r.output(REPAIR, "remote") + r.output(REPAIR, "local"), 0, "{ctx}: no repair without a fault");
            let periods = 60 * n as u64 * pages.parse::<u64>().unwrap();
            assert_eq!(r.sent("TOKEN"), periods, "{ctx}");
            writes += r.outputs.get(INVALIDATED).map_or(0, |m| m.values().sum::<u64>());
        }
    }
    assert!(writes > 100, "the runs wrote ({writes} write rounds)");
}

/// The worst number of steps Dijkstra's K-state ring takes to stabilize, K ≥ n,
/// distributed daemon (the table of [`super::super::k_state`]).
fn ring_steps(n: usize) -> f64 {
    match n {
        3 => 3.0,
        4 => 13.0,
        5 => 24.0,
        _ => unreachable!("measured for n = 3..5"),
    }
}

/// When the configuration became legitimate for good after `from`: the time of the
/// event after which it stayed legitimate to the end (`from` itself if it never left L).
fn settled(legit: &[(f64, bool)], from: f64) -> f64 {
    let last_bad = legit.iter().rposition(|&(t, ok)| t >= from && !ok);
    match last_bad {
        None => from,
        Some(i) => legit.get(i + 1).map_or(f64::INFINITY, |&(t, _)| t),
    }
}

#[test]
fn after_every_node_is_corrupted_the_run_converges_within_the_bound() {
    let (corrupt_at, dmax) = (205.0, 2.0);
    let delay = Delay::Uniform { min: 0.2, max: dmax };
    // With timeout=10, before a home dropped the lock of a holder that reports no token,
    // privileged nodes kept their tokens while their WREQs waited behind a corrupt lock:
    // n = 4 then took up to 149 > 144 (the ring stood still until the lock expired).
    for (n, timeout) in [(3, "3"), (4, "3"), (5, "3"), (4, "10")] {
        let bound = ring_steps(n) * PERIOD + PERIOD + 2.0 * dmax;
        let mut times = Vec::new();
        for seed in 0..20u64 {
            let nn = n.to_string();
            let given = [("corrupt", nn.as_str()), ("corrupt_at", "205"), ("ops", "4"), ("timeout", timeout)];
            let cfg = config(n, seed, delay, &given);
            let ctx = format!("n = {n}, timeout {timeout}, seed {seed}");
            let run = stepped(&cfg);
            let r = &run.report;
            assert_eq!(r.stop, Stop::Quiescence, "{ctx}");
            assert_eq!(r.output(CORRUPTED, "1"), n as u64, "{ctx}");
            assert!(r.holds(LEGITIMATE), "{ctx}: {:?}", r.property(LEGITIMATE));
            assert!(r.holds(crate::memory::ANSWERED), "{ctx}: {:?}", r.property(crate::memory::ANSWERED));
            assert_expected(r, &ctx);
            let before = run.legit.iter().filter(|&&(t, _)| t < corrupt_at).all(|&(_, ok)| ok);
            assert!(before, "{ctx}: legitimate until the fault");
            let took = settled(&run.legit, corrupt_at) - corrupt_at;
            times.push(took);
            assert!(took <= bound, "{ctx}: converged in {took:.1} > bound {bound}");
            // The simulator measures the same stretch, and holds it against §7.5's bound
            // (period/2 for the two delays: a little looser than 2 × dmax here).
            let restored = r.property(RESTORED).expect("declared");
            assert_eq!(restored.holds, Some(true), "{ctx}: {restored:?}");
            let outside = restored.outside.as_ref().expect("measured");
            assert!((outside.span - took).abs() < 1e-9, "{ctx}: {outside:?} against {took}");
            let declared = restore_bound("n+1", PERIOD, n).expect("tabulated").time;
            assert_eq!(outside.bound, Some(declared), "{ctx}");
            assert!(bound <= declared && declared <= bound + PERIOD / 2.0, "{ctx}");
        }
        let worst = times.iter().copied().fold(0.0, f64::max);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!(
            "ss-dsm n = {n}, timeout {timeout}: every node corrupted at {corrupt_at}: legitimate for good after {times:.1?} \
             (mean {mean:.1}, worst {worst:.1}; bound {} steps × {PERIOD} + {PERIOD} + 2 × {dmax} = {bound})",
            ring_steps(n)
        );
    }
}
