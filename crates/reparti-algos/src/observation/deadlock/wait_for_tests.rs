//! The wait-for application's graph parameter, its drawn graphs, and its handlers one
//! at a time.

use super::*;
use crate::handler_harness::{outputs, run, sends};
use crate::observation::deadlock::on_cycle;
use reparti_core::{OutputValue, TopologyKind};

fn app(params: &[(&str, &str)]) -> Result<WaitFor, ParamError> {
    let given: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    WaitFor::from_params(&Params::resolve("wait-for", WaitFor::spec().params, &given)?)
}

fn error(params: &[(&str, &str)]) -> String {
    match app(params) {
        Ok(_) => panic!("{params:?} accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_given_graph_is_read_and_bad_ones_are_refused_in_one_line() {
    let a = app(&[("wfg", "0>1, 1>2,2>0,3>1")]).expect("valid");
    assert_eq!(a.graph, Graph::Given(vec![(0, 1), (1, 2), (2, 0), (3, 1)]));
    assert_eq!(a.edges(4).len(), 4);
    assert!(error(&[("wfg", "0-1")]).contains("'0-1' is not an edge"));
    assert!(error(&[("wfg", "0>1,")]).contains("'' is not an edge"));
    assert!(error(&[("wfg", "2>2")]).contains("self-loop"));
    assert!(error(&[("wfg", "0>1,0>1")]).contains("given twice"));
    assert!(error(&[("requests", "later")]).contains("at-start, staggered"));
    let unknown = a.check_size(3).expect_err("node 3 of 3");
    assert!(unknown.contains("names node 3") && unknown.contains("0 to 2"), "{unknown}");
    assert!(a.check_size(1).is_err());
    for e in [error(&[("wfg", "x")]), unknown] {
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}

#[test]
fn drawn_graphs_have_a_cycle_or_none_as_asked() {
    for seed in 1..=200u64 {
        for n in 2..=9 {
            let s = seed.to_string();
            let cyclic = app(&[("wfg", "cycle"), ("wfg_seed", &s)]).expect("valid").edges(n);
            assert!((0..n).any(|i| on_cycle(&cyclic, NodeId(i as u32))), "seed {seed} n {n}: {cyclic:?}");
            let dag = app(&[("wfg", "acyclic"), ("wfg_seed", &s)]).expect("valid").edges(n);
            assert!(!dag.is_empty() && (0..n).all(|i| !on_cycle(&dag, NodeId(i as u32))), "seed {seed} n {n}");
            let random = app(&[("wfg", "random"), ("wfg_seed", &s)]).expect("valid").edges(n);
            assert!(random.iter().all(|(a, b)| a != b && a.index() < n && b.index() < n));
            assert_eq!(random, app(&[("wfg", "random"), ("wfg_seed", &s)]).expect("valid").edges(n), "same seed");
        }
    }
}

fn node(a: &WaitFor, me: u32, n: usize) -> Node {
    a.init(&NodeSetup::new(NodeId(me), u64::from(me), n))
}

#[test]
fn a_blocked_process_holds_requests_and_grants_them_at_its_last_grant() {
    let a = app(&[("wfg", "0>1,0>2,1>0")]).expect("valid");
    let mut p = node(&a, 0, 3);
    let eff = run(&mut p, TopologyKind::Complete, NodeId(0), 3, |s, c| s.on_start(c));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Request), (NodeId(2), Msg::Request)]);
    assert_eq!(outputs(&eff, BLOCKED), vec![OutputValue::Int(2)]);
    assert!(p.blocked());
    let eff = run(&mut p, TopologyKind::Complete, NodeId(0), 3, |s, c| s.on_message(NodeId(1), Msg::Request, c));
    assert!(sends(&eff).is_empty(), "blocked: holds 1's request");
    assert_eq!(p.owes, [NodeId(1)].into());
    run(&mut p, TopologyKind::Complete, NodeId(0), 3, |s, c| s.on_message(NodeId(2), Msg::Grant, c));
    assert!(p.blocked(), "still waits for 1");
    let eff = run(&mut p, TopologyKind::Complete, NodeId(0), 3, |s, c| s.on_message(NodeId(1), Msg::Grant, c));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Grant)]);
    assert_eq!(outputs(&eff, UNBLOCKED), vec![OutputValue::Int(1)]);
    assert!(!p.blocked() && p.owes.is_empty() && p.granted == [NodeId(1)].into());
    assert_eq!(free_owes_nothing(&p), Ok(()));
}

#[test]
fn staggered_a_process_grants_at_once_until_it_asks() {
    let a = app(&[("wfg", "0>1,1>0"), ("requests", "staggered")]).expect("valid");
    let mut p = node(&a, 1, 2);
    let eff = run(&mut p, TopologyKind::Complete, NodeId(1), 2, |s, c| s.on_start(c));
    assert!(sends(&eff).is_empty() && !p.requested);
    let eff = run(&mut p, TopologyKind::Complete, NodeId(1), 2, |s, c| s.on_message(NodeId(0), Msg::Request, c));
    assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Grant)], "not blocked yet");
    let eff = run(&mut p, TopologyKind::Complete, NodeId(1), 2, |s, c| s.on_input(Input::Request, c));
    assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Request)]);
    let again = run(&mut p, TopologyKind::Complete, NodeId(1), 2, |s, c| s.on_input(Input::Request, c));
    assert!(sends(&again).is_empty(), "a process asks once");
}
