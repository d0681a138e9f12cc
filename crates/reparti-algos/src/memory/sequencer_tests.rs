use super::*;
use crate::handler_harness::{outputs, sends};
use crate::memory::tob_replica::UpdateId;
use reparti_core::{Effect, OutputValue, TopologyKind};

fn algo(given: &[(&str, &str)]) -> Result<TobSequencer, ParamError> {
    let given: Vec<_> = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TobSequencer::from_params(&Params::resolve("tob-sequencer", PARAMS, &given)?)
}

fn nodes(n: usize, given: &[(&str, &str)]) -> Vec<Node> {
    let a = algo(given).expect("valid parameters");
    (0..n).map(|i| a.init(&NodeSetup::new(NodeId(i as u32), i as u64 + 1, n))).collect()
}

fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let (me, n) = (node.me, node.n as usize);
    crate::handler_harness::run(node, TopologyKind::Complete, me, n, f)
}

fn update(origin: u32, num: u32, op: Operation) -> Update {
    Update { id: UpdateId { origin: NodeId(origin), num }, op }
}

fn write(value: i64) -> Operation {
    Operation::Write { key: 0, value }
}

fn text(s: &str) -> Vec<OutputValue> {
    vec![OutputValue::Text(s.into())]
}

#[test]
fn a_node_submits_its_write_to_the_sequencer_and_waits() {
    let mut ns = nodes(3, &[]);
    let eff = run(&mut ns[2], |s, c| s.on_input(write(4), c));
    assert_eq!(sends(&eff), vec![(SEQUENCER, Msg::Submit(update(2, 0, write(4))))]);
    assert_eq!(outputs(&eff, tob_replica::BROADCAST), vec![OutputValue::Int(2)]);
    assert!(outputs(&eff, "ret").is_empty(), "answered only on delivery");
    assert!(ns[2].replica.copies.is_empty() && ns[2].client.open.is_some());
}

#[test]
fn the_sequencer_stamps_a_submit_sends_it_to_the_others_and_delivers_it() {
    let mut ns = nodes(3, &[]);
    let u = update(2, 0, write(4));
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(2), Msg::Submit(u), c));
    let order = Msg::Order { seq: 0, update: u };
    assert_eq!(sends(&eff), vec![(NodeId(1), order.clone()), (NodeId(2), order)]);
    assert_eq!((ns[0].next, ns[0].replica.copies.get(&0)), (1, Some(&4)));
    assert_eq!(ns[0].replica.delivered, vec![u.id]);
    // The next one gets the next number.
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(1), Msg::Submit(update(1, 0, write(5))), c));
    assert!(sends(&eff).iter().all(|(_, m)| matches!(m, Msg::Order { seq: 1, .. })));
}

#[test]
fn the_sequencers_own_write_costs_n_minus_one_messages_and_returns_at_once() {
    let mut ns = nodes(3, &[]);
    let eff = run(&mut ns[0], |s, c| s.on_input(write(1), c));
    let order = Msg::Order { seq: 0, update: update(0, 0, write(1)) };
    assert_eq!(sends(&eff), vec![(NodeId(1), order.clone()), (NodeId(2), order)]);
    assert_eq!(outputs(&eff, "ret"), text("ok"));
    assert!(ns[0].client.idle());
}

#[test]
fn orders_are_held_back_until_their_turn_and_the_writer_answers_on_its_own() {
    let mut ns = nodes(3, &[]);
    run(&mut ns[1], |s, c| s.on_input(write(7), c));
    let (a, b) = (update(2, 0, write(3)), update(1, 0, write(7)));
    // Seq 1 (node 1's own write) arrives first: held back, nothing answered.
    let eff = run(&mut ns[1], |s, c| s.on_message(SEQUENCER, Msg::Order { seq: 1, update: b }, c));
    assert!(outputs(&eff, "ret").is_empty());
    assert_eq!(ns[1].holdback.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert!(ns[1].replica.delivered.is_empty());
    // Seq 0 arrives: both delivered, in order, and the write is answered.
    let eff = run(&mut ns[1], |s, c| s.on_message(SEQUENCER, Msg::Order { seq: 0, update: a }, c));
    assert_eq!(outputs(&eff, "ret"), text("ok"));
    assert_eq!(ns[1].replica.delivered, vec![a.id, b.id]);
    assert_eq!((ns[1].next, ns[1].replica.copies.get(&0), ns[1].holdback.len()), (2, Some(&7), 0));
}

#[test]
fn duplicates_and_misdirected_messages_are_ignored() {
    let mut ns = nodes(3, &[]);
    let u = update(2, 0, write(3));
    run(&mut ns[1], |s, c| s.on_message(SEQUENCER, Msg::Order { seq: 0, update: u }, c));
    let eff = run(&mut ns[1], |s, c| s.on_message(SEQUENCER, Msg::Order { seq: 0, update: u }, c));
    assert!(matches!(eff.as_slice(), [Effect::Log(_)]), "{eff:?}");
    assert_eq!(ns[1].replica.delivered.len(), 1);
    // A SUBMIT at a node that is not the sequencer, an ORDER from a node that is not.
    let before = ns[1].clone();
    run(&mut ns[1], |s, c| s.on_message(NodeId(2), Msg::Submit(u), c));
    run(&mut ns[1], |s, c| s.on_message(NodeId(2), Msg::Order { seq: 1, update: u }, c));
    assert_eq!(ns[1], before);
    // An ORDER at the sequencer.
    let before = ns[0].clone();
    run(&mut ns[0], |s, c| s.on_message(NodeId(1), Msg::Order { seq: 5, update: u }, c));
    assert_eq!(ns[0], before);
}

#[test]
fn local_reads_cost_nothing_ordered_reads_are_broadcast() {
    let mut ns = nodes(3, &[("read", "local")]);
    ns[2].replica.copies.insert(0, 9);
    let eff = run(&mut ns[2], |s, c| s.on_input(Operation::Read { key: 0 }, c));
    assert!(sends(&eff).is_empty());
    assert_eq!(outputs(&eff, "ret"), text("ok 9"));
    let mut ns = nodes(3, &[]);
    let eff = run(&mut ns[2], |s, c| s.on_input(Operation::Read { key: 0 }, c));
    assert_eq!(sends(&eff), vec![(SEQUENCER, Msg::Submit(update(2, 0, Operation::Read { key: 0 })))]);
}

#[test]
fn without_holdback_an_order_is_delivered_on_arrival() {
    let mut ns = nodes(3, &[("fault", "no-holdback")]);
    let (a, b) = (update(2, 0, write(3)), update(1, 0, write(7)));
    run(&mut ns[1], |s, c| s.on_message(SEQUENCER, Msg::Order { seq: 1, update: b }, c));
    run(&mut ns[1], |s, c| s.on_message(SEQUENCER, Msg::Order { seq: 0, update: a }, c));
    assert_eq!(ns[1].replica.delivered, vec![b.id, a.id], "arrival order, not sequence order");
    assert_eq!(ns[1].replica.copies.get(&0), Some(&3));
}

#[test]
fn a_single_node_is_its_own_sequencer() {
    let mut ns = nodes(1, &[]);
    let eff = run(&mut ns[0], |s, c| {
        s.on_input(write(1), c);
        s.on_input(Operation::Read { key: 0 }, c);
    });
    assert!(sends(&eff).is_empty());
    assert_eq!(outputs(&eff, "ret"), vec![OutputValue::Text("ok".into()), OutputValue::Text("ok 1".into())]);
}

/// Delivers messages in the order `pick` chooses among all in flight (non-FIFO), and
/// returns the nodes at the end.
fn drive(mut ns: Vec<Node>, ops: &[(usize, Operation)], pick: impl Fn(usize) -> usize) -> Vec<Node> {
    let mut flight: Vec<(NodeId, NodeId, Msg)> = Vec::new();
    for &(i, op) in ops {
        let eff = run(&mut ns[i], |s, c| s.on_input(op, c));
        flight.extend(sends(&eff).into_iter().map(|(to, m)| (NodeId(i as u32), to, m)));
    }
    while !flight.is_empty() {
        let (from, to, msg) = flight.remove(pick(flight.len()) % flight.len());
        let eff = run(&mut ns[to.index()], |s, c| s.on_message(from, msg, c));
        flight.extend(sends(&eff).into_iter().map(|(t, m)| (to, t, m)));
    }
    ns
}

#[test]
fn every_replica_ends_with_the_same_log_whatever_the_delivery_order() {
    let ops = [(1, write(1)), (2, write(2)), (0, write(3)), (1, write(4)), (2, Operation::Read { key: 0 })];
    for salt in 0..30usize {
        let ns = drive(nodes(3, &[]), &ops, |len| (salt * 7 + len * 5) % len);
        assert_eq!(ns[0].replica.delivered.len(), 5, "salt {salt}");
        assert!(ns.iter().all(|s| s.replica.delivered == ns[0].replica.delivered), "salt {salt}");
        assert!(ns.iter().all(|s| s.client.idle() && s.holdback.is_empty()), "salt {salt}");
    }
}

#[test]
fn bad_parameters_are_refused_clearly() {
    let err = algo(&[("fault", "drop-everything")]).unwrap_err().to_string();
    assert!(err.contains("fault=drop-everything") && err.contains("no-holdback"), "{err}");
    let err = algo(&[("read", "eventually")]).unwrap_err().to_string();
    assert!(err.contains("read=eventually"), "{err}");
    let a = algo(&[("clients", "5")]).expect("valid");
    assert!(a.check_size(3).unwrap_err().contains("clients=5"));
    assert_eq!(a.check_size(5), Ok(()));
}
