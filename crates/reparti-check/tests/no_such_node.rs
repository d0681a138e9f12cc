//! One rule for a send to a node that does not exist, in the simulator and the checker
//! (the network runtime's test is in reparti-net): it counts as sent, it is dropped with
//! the reason "no such node", it is never delivered and it stops nothing.

use reparti_algos::testing::Stray;
use reparti_check::{check, CheckConfig, NetworkKind};
use reparti_core::trace::{read_trace, EventKind, Trace};
use reparti_sim::{simulate_traced, SimConfig, Stop};

fn stray_drops(trace: &Trace) -> usize {
    let drops: Vec<_> = trace.events.iter().filter(|e| e.kind == EventKind::Drop).collect();
    assert!(drops.iter().all(|e| e.reason.as_deref() == Some("no such node") && e.to == Some(3)), "{drops:?}");
    // Every event is at a node of the run: the drop at its sender, since node 3 is none.
    assert!(trace.events.iter().all(|e| (e.node as usize) < trace.header.nodes), "an event outside the run");
    assert!(drops.iter().all(|e| e.from == Some(e.node)), "{drops:?}");
    drops.len()
}

#[test]
fn the_simulator_counts_traces_and_drops_it() {
    let (report, out) = simulate_traced::<Stray, _>(&SimConfig::with_nodes(3), Vec::new()).expect("runs");
    assert_eq!(report.stop, Stop::Quiescence);
    assert_eq!(report.messages.total, 6, "3 pings to successors, 3 to nowhere");
    assert_eq!((report.messages.delivered, report.messages.dropped), (3, 3));
    assert!(report.all_good());
    let trace = read_trace(&out[..]).expect("a trace");
    assert_eq!(stray_drops(&trace), 3);
    let sends = trace.events.iter().filter(|e| e.kind == EventKind::Send).count();
    assert_eq!(sends, 6, "each stray message is a send, then a drop");
    let replayed = reparti_sim::replay::<Stray>(&trace).expect("the trace replays");
    assert_eq!(replayed.report.messages.dropped, 3);
    // And the pictures draw it.
    let svg = reparti_viz::render(&trace, reparti_viz::Format::Svg).expect("drawn");
    assert!(svg.contains("no such node"), "the drop's reason is in its tooltip");
}

#[test]
fn the_checker_drops_it_and_its_counterexample_traces_the_drop() {
    let cfg = CheckConfig { nodes: Some(3), network: NetworkKind::Fifo, ..CheckConfig::default() };
    let report = check::<Stray>(&cfg, false, &|_| {}, None).expect("runs");
    assert!(report.all_good(), "{:?}", report.properties);
    // Nothing of the stray pings enters a state: the 3 real ones, delivered in any order.
    assert_eq!(report.unique_states, 8, "2^3 subsets of the pings delivered");

    let wrong = CheckConfig { params: vec![("claim".into(), "wrong".into())], ..cfg };
    let mut out = Vec::new();
    let report = check::<Stray>(&wrong, false, &|_| {}, Some(&mut out)).expect("runs");
    let cx = report.counterexample.expect("the wrong claim fails");
    assert!(cx.steps.len() == 3, "{:?}", cx.steps);
    let trace = read_trace(&out[..]).expect("a counterexample trace");
    assert_eq!(trace.header.engine, "check");
    assert_eq!(stray_drops(&trace), 3, "the counterexample traces the stray sends' drops as the simulator does");
}
