//! The bank's handlers one at a time, its workload, its properties on hand-made global
//! states, and a small driver that delivers transfers in many orders.

use super::*;
use crate::handler_harness::{outputs, run, sends};
use reparti_core::{Effect, OutputValue, Topology, TopologyKind};

fn bank(params: &[(&str, &str)]) -> Bank {
    let given: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let resolved = Params::resolve("bank", Bank::spec().params, &given).expect("params");
    Bank::from_params(&resolved).expect("params")
}

fn accounts(b: &Bank, n: usize) -> Vec<Node> {
    (0..n).map(|i| b.init(&NodeSetup::new(NodeId(i as u32), i as u64 + 1, n))).collect()
}

fn ask(s: &mut Node, kind: TopologyKind, n: usize, to: u32, amount: i64) -> Vec<Effect<Msg>> {
    let me = s.me;
    run(s, kind, me, n, |s, c| s.on_input(Input::Transfer { to: NodeId(to), amount }, c))
}

fn credit(s: &mut Node, n: usize, from: u32, amount: u64) -> Vec<Effect<Msg>> {
    let me = s.me;
    run(s, TopologyKind::Complete, me, n, |s, c| s.on_message(NodeId(from), Msg::Transfer { amount }, c))
}

fn ints(v: &[i64]) -> Vec<OutputValue> {
    v.iter().map(|&i| OutputValue::Int(i)).collect()
}

/// The global invariant on these accounts and messages in transit.
fn world_conserved(ns: &[Node], flying: &[(NodeId, NodeId, Msg)]) -> Result<(), String> {
    let idents: Vec<u64> = (1..=ns.len() as u64).collect();
    let crashed = vec![false; ns.len()];
    let visit = |f: &mut dyn FnMut(NodeId, NodeId, &Msg)| {
        for (from, to, m) in flying {
            f(*from, *to, m);
        }
    };
    let w = World { nodes: ns, idents: &idents, crashed: &crashed, in_flight: &visit, time: None };
    conserved(&w)
}

#[test]
fn a_transfer_debits_sends_and_shows_the_new_balance() {
    let b = bank(&[]);
    let mut ns = accounts(&b, 3);
    assert_eq!(ns[0].balance, 100);
    let eff = ask(&mut ns[0], TopologyKind::Complete, 3, 2, 30);
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Transfer { amount: 30 })]);
    assert_eq!(outputs(&eff, BALANCE), ints(&[70]));
    assert_eq!(outputs(&eff, TRANSFER), ints(&[30]));
    assert_eq!((ns[0].balance, ns[0].made, ns[0].refused), (70, 1, 0));
    // The whole balance may go: 70 of 70 leaves 0, never less.
    let eff = ask(&mut ns[0], TopologyKind::Complete, 3, 1, 70);
    assert_eq!(outputs(&eff, BALANCE), ints(&[0]));
    assert_eq!(not_negative(&ns[0]), Ok(()));
}

#[test]
fn a_short_balance_refuses_and_sends_nothing() {
    let b = bank(&[("balance", "10")]);
    let mut ns = accounts(&b, 2);
    let eff = ask(&mut ns[0], TopologyKind::Complete, 2, 1, 11);
    assert!(sends(&eff).is_empty(), "nothing sent");
    assert_eq!(outputs(&eff, REFUSED), ints(&[11]));
    assert!(outputs(&eff, BALANCE).is_empty(), "the balance did not change");
    assert_eq!((ns[0].balance, ns[0].made, ns[0].refused), (10, 0, 1));
}

#[test]
fn destinations_must_be_neighbours_and_amounts_positive() {
    let b = bank(&[]);
    let mut ns = accounts(&b, 4);
    // A directed ring: node 0's only neighbour is node 1.
    for (to, amount) in [(2, 5), (3, 5), (0, 5), (1, 0), (1, -5)] {
        let eff = ask(&mut ns[0], TopologyKind::Ring, 4, to, amount);
        assert!(sends(&eff).is_empty(), "to {to} amount {amount}");
        assert_eq!(outputs(&eff, REJECTED), ints(&[amount]), "not a short balance");
        assert!(outputs(&eff, REFUSED).is_empty());
    }
    assert_eq!((ns[0].balance, ns[0].refused), (100, 5));
    let eff = ask(&mut ns[0], TopologyKind::Ring, 4, 1, 5);
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Transfer { amount: 5 })]);
}

#[test]
fn a_transfer_arriving_is_credited_and_a_malformed_one_ignored() {
    let b = bank(&[]);
    let mut ns = accounts(&b, 3);
    let eff = credit(&mut ns[1], 3, 0, 25);
    assert_eq!(outputs(&eff, BALANCE), ints(&[125]));
    assert_eq!((ns[1].balance, ns[1].credited), (125, 1));
    for amount in [0, u64::MAX, i64::MAX as u64] {
        let eff = credit(&mut ns[1], 3, 0, amount);
        assert!(outputs(&eff, BALANCE).is_empty(), "{amount}");
    }
    assert_eq!((ns[1].balance, ns[1].credited), (125, 1));
}

#[test]
fn asks_beyond_the_plan_are_said() {
    let b = bank(&[("transfers", "1")]);
    let mut ns = accounts(&b, 2);
    let eff = ask(&mut ns[0], TopologyKind::Complete, 2, 1, 1);
    assert!(outputs(&eff, BEYOND_PLAN).is_empty());
    let eff = ask(&mut ns[0], TopologyKind::Complete, 2, 1, 1);
    assert_eq!(outputs(&eff, BEYOND_PLAN), ints(&[2]));
}

#[test]
fn debit_late_counts_the_money_twice_then_overdraws() {
    let b = bank(&[("balance", "10"), ("fault", "debit-late")]);
    let mut ns = accounts(&b, 2);
    let eff = ask(&mut ns[0], TopologyKind::Complete, 2, 1, 8);
    let first = sends(&eff);
    assert_eq!(first, vec![(NodeId(1), Msg::Transfer { amount: 8 })]);
    assert!(eff.iter().any(|e| matches!(e, Effect::SetTimer { timer: POST_TIMER, .. })));
    assert_eq!(ns[0].balance, 10, "not debited yet");
    let flying: Vec<(NodeId, NodeId, Msg)> = first.into_iter().map(|(to, m)| (NodeId(0), to, m)).collect();
    assert!(world_conserved(&ns, &flying).is_err(), "10 + 10 + 8 in transit");
    // A second transfer checked before the post reads the unposted balance.
    let eff = ask(&mut ns[0], TopologyKind::Complete, 2, 1, 8);
    assert_eq!(sends(&eff).len(), 1, "8 ≤ 10 still, though 8 are already gone");
    let eff = run(&mut ns[0], TopologyKind::Complete, NodeId(0), 2, |s, c| s.on_timer(POST_TIMER, c));
    assert_eq!(outputs(&eff, BALANCE), ints(&[-6]));
    assert!(not_negative(&ns[0]).is_err());
    // The correct branch refuses the second one.
    let mut ok = accounts(&bank(&[("balance", "10")]), 2);
    ask(&mut ok[0], TopologyKind::Complete, 2, 1, 8);
    assert!(sends(&ask(&mut ok[0], TopologyKind::Complete, 2, 1, 8)).is_empty());
}

#[test]
fn the_workload_plans_transfers_to_neighbours_spread_in_time() {
    let b = bank(&[("transfers", "6"), ("max_amount", "4")]);
    let kind = TopologyKind::Star;
    let topo = Topology::build(&kind, 5, &mut reparti_core::rng(0)).expect("a star");
    let idents: Vec<u64> = (1..=5).collect();
    let setup = WorkloadSetup { n: 5, idents: &idents, topology: &topo };
    let inputs = b.workload(&setup, &mut reparti_core::rng(7));
    assert_eq!(inputs.len(), 30);
    let mut amounts = std::collections::BTreeSet::new();
    for i in 0..5u32 {
        let mine: Vec<_> = inputs.iter().filter(|s| s.node == NodeId(i)).collect();
        assert_eq!(mine.len(), 6);
        for (k, s) in mine.iter().enumerate() {
            assert!((k as f64..k as f64 + 1.0).contains(&s.at), "node {i} transfer {k} at {}", s.at);
            let Input::Transfer { to, amount } = s.input;
            assert!(topo.neighbours(NodeId(i)).contains(to), "{i} → {to}");
            assert!((1..=4).contains(&amount));
            amounts.insert(amount);
        }
    }
    assert_eq!(amounts.len(), 4, "every amount in 1..=4 drawn");
    assert_eq!(inputs, b.workload(&setup, &mut reparti_core::rng(7)), "the same seed, the same plan");
}

/// Applies each node's `plan` and delivers the transfers in the order `pick` gives,
/// checking both invariants before every step; returns the TRANSFER messages sent.
fn drive(ns: &mut [Node], plan: &[(u32, u32, i64)], pick: impl Fn(usize) -> usize) -> usize {
    let n = ns.len();
    let mut flying: Vec<(NodeId, NodeId, Msg)> = Vec::new();
    let mut pending: Vec<(u32, u32, i64)> = plan.to_vec();
    let mut sent = 0;
    loop {
        assert_eq!(world_conserved(ns, &flying), Ok(()));
        assert!(ns.iter().all(|s| not_negative(s).is_ok()));
        let choices = pending.len() + flying.len();
        if choices == 0 {
            return sent;
        }
        let k = pick(choices) % choices;
        if k < pending.len() {
            let (from, to, amount) = pending.remove(k);
            let eff = ask(&mut ns[from as usize], TopologyKind::Complete, n, to, amount);
            for (to, m) in sends(&eff) {
                sent += 1;
                flying.push((NodeId(from), to, m));
            }
        } else {
            let (from, to, Msg::Transfer { amount }) = flying.remove(k - pending.len());
            credit(&mut ns[to.index()], n, from.0, amount);
        }
    }
}

#[test]
fn in_every_order_tried_money_is_conserved_and_no_account_overdrawn() {
    for salt in 0..40usize {
        let b = bank(&[("balance", "10")]);
        let mut ns = accounts(&b, 3);
        // Six transfers of 7: whether one is refused depends on what arrived first.
        let plan = [(0, 1, 7), (0, 2, 7), (1, 0, 7), (1, 2, 7), (2, 0, 7), (2, 1, 7)];
        let sent = drive(&mut ns, &plan, |len| (salt * 7 + len * 3 + salt / 3) % len);
        let made: u32 = ns.iter().map(|s| s.made).sum();
        let refused: u32 = ns.iter().map(|s| s.refused).sum();
        let credited: u32 = ns.iter().map(|s| s.credited).sum();
        assert_eq!((made as usize, made + refused, credited), (sent, 6, made), "salt {salt}");
        assert_eq!(ns.iter().map(|s| s.balance).sum::<i64>(), 30, "salt {salt}");
    }
}

#[test]
fn the_counts_follow_the_outputs_and_the_plan() {
    let expected_for = |b: &Bank, made: u64, beyond: u64, rejected: u64| {
        let mut outputs = std::collections::BTreeMap::new();
        for (key, count) in [(TRANSFER, made), (BEYOND_PLAN, beyond), (REJECTED, rejected)] {
            if count > 0 {
                outputs.insert(key.to_string(), [(OutputValue::Int(5), count)].into_iter().collect());
            }
        }
        let params = Params::resolve("bank", Bank::spec().params, &[]).expect("params");
        let sent = std::collections::BTreeMap::new();
        let facts =
            RunFacts { n: 4, idents: &[], params: &params, outputs: &outputs, sent_by_type: &sent, topology: None };
        b.expected(&facts)
    };
    // Defaults: 100 ≥ 5·20, nothing can be refused: TRANSFER = n·transfers = 20 too.
    let e = expected_for(&bank(&[]), 20, 0, 0);
    assert_eq!(e.len(), 4);
    assert!(e.iter().all(|x| x.holds(20.0) == Some(true)), "{e:?}");
    // A sink of a one-way edge list rejects its 5: 15 made, and claimed.
    let e = expected_for(&bank(&[]), 15, 0, 5);
    assert!(e.iter().all(|x| x.holds(15.0) == Some(true)), "{e:?}");
    assert_eq!(e[3].holds(20.0), Some(false));
    // A short balance: only the made ones, bounded by the plan (and what is beyond it).
    let e = expected_for(&bank(&[("balance", "10")]), 17, 2, 0);
    assert_eq!(e.len(), 3);
    assert!(e.iter().all(|x| x.holds(17.0) == Some(true)), "{e:?}");
    assert_eq!(e[1].holds(22.0), Some(true), "≤ 4·5 + 2");
    assert_eq!(e[1].holds(23.0), Some(false));
}

#[test]
fn a_branch_with_no_outgoing_channel_has_its_plan_rejected() {
    let b = bank(&[("transfers", "3")]);
    let path = std::env::temp_dir().join(format!("bank-sink-{}.txt", std::process::id()));
    std::fs::write(&path, "0 -> 1\n1 -> 2\n").expect("an edge list");
    let kind = TopologyKind::File { path: path.display().to_string() };
    let topo = Topology::build(&kind, 3, &mut reparti_core::rng(0)).expect("a one-way line");
    let idents = [1, 2, 3];
    let inputs = b.workload(&WorkloadSetup { n: 3, idents: &idents, topology: &topo }, &mut reparti_core::rng(1));
    assert_eq!(inputs.len(), 9, "node 2 plans its 3 as well");
    let mut sink = accounts(&b, 3).remove(2);
    for s in inputs.iter().filter(|s| s.node == NodeId(2)) {
        let Input::Transfer { to, amount } = s.input;
        assert_eq!(to, NodeId(2), "to itself: no outgoing channel");
        let eff = run(&mut sink, kind.clone(), NodeId(2), 3, |a, c| a.on_input(Input::Transfer { to, amount }, c));
        assert!(sends(&eff).is_empty());
        assert_eq!(outputs(&eff, REJECTED), ints(&[amount]));
    }
    assert_eq!((sink.made, sink.refused, sink.balance), (0, 3, 100), "settled, all rejected");
    let _ = std::fs::remove_file(&path);
}
