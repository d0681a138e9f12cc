use super::*;
use crate::handler_harness::{outputs, sends};
use crate::memory::tob_replica::UpdateId;
use reparti_core::{Effect, OutputValue, TopologyKind};
use std::collections::VecDeque;

fn algo(given: &[(&str, &str)]) -> Result<TobLamport, ParamError> {
    let given: Vec<_> = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TobLamport::from_params(&Params::resolve("tob-lamport", PARAMS, &given)?)
}

fn nodes(n: usize, given: &[(&str, &str)]) -> Vec<Node> {
    let a = algo(given).expect("valid parameters");
    (0..n).map(|i| a.init(&NodeSetup::new(NodeId(i as u32), i as u64 + 1, n))).collect()
}

fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let (me, n) = (node.me, node.n as usize);
    crate::handler_harness::run(node, TopologyKind::Complete, me, n, f)
}

fn update(origin: u32, num: u32, value: i64) -> Update {
    Update { id: UpdateId { origin: NodeId(origin), num }, op: Operation::Write { key: 0, value } }
}

fn write(value: i64) -> Operation {
    Operation::Write { key: 0, value }
}

#[test]
fn a_broadcast_stamps_the_update_and_sends_it_to_every_other_node() {
    let mut ns = nodes(3, &[]);
    ns[1].clock = 4;
    let eff = run(&mut ns[1], |s, c| s.on_input(write(8), c));
    let msg = Msg::Msg { ts: 5, update: update(1, 0, 8) };
    assert_eq!(sends(&eff), vec![(NodeId(0), msg.clone()), (NodeId(2), msg)]);
    assert_eq!(outputs(&eff, tob_replica::BROADCAST), vec![OutputValue::Int(1)]);
    assert_eq!(ns[1].clock, 5);
    assert_eq!(ns[1].pending.keys().copied().collect::<Vec<_>>(), vec![(5, NodeId(1))]);
    assert!(ns[1].replica.delivered.is_empty() && outputs(&eff, "ret").is_empty());
}

#[test]
fn a_receiver_advances_its_clock_and_acks_to_all_others() {
    let mut ns = nodes(3, &[]);
    ns[2].clock = 1;
    let eff = run(&mut ns[2], |s, c| s.on_message(NodeId(0), Msg::Msg { ts: 6, update: update(0, 0, 1) }, c));
    assert_eq!(sends(&eff), vec![(NodeId(0), Msg::Ack { ts: 7 }), (NodeId(1), Msg::Ack { ts: 7 })]);
    assert_eq!((ns[2].clock, ns[2].latest.clone()), (7, vec![6, 0, 0]));
    // Not yet delivered: nothing larger than (6, 0) has come from node 1.
    assert!(ns[2].replica.delivered.is_empty());
    // An ACK advances the clock and nothing else is sent.
    let eff = run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Ack { ts: 9 }, c));
    assert!(sends(&eff).is_empty());
    assert_eq!(ns[2].clock, 9);
}

#[test]
fn the_smallest_update_waits_for_a_larger_stamp_from_every_other_node() {
    let mut ns = nodes(3, &[]);
    // Node 2 receives (3, 0); from node 1 it has only heard stamp 3: (3, 1) > (3, 0) is
    // enough (ties go to the smaller identity).
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Ack { ts: 2 }, c));
    run(&mut ns[2], |s, c| s.on_message(NodeId(0), Msg::Msg { ts: 3, update: update(0, 0, 1) }, c));
    assert!(ns[2].replica.delivered.is_empty(), "(2, 1) < (3, 0)");
    assert!(!ns[2].stable((3, NodeId(0))));
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Ack { ts: 3 }, c));
    assert_eq!(ns[2].replica.delivered, vec![update(0, 0, 1).id]);
    assert!(ns[2].pending.is_empty());
    // The other way round, (3, 1) needs more than 3 from node 0.
    let mut ns = nodes(3, &[]);
    run(&mut ns[2], |s, c| s.on_message(NodeId(0), Msg::Ack { ts: 3 }, c));
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Msg { ts: 3, update: update(1, 0, 1) }, c));
    assert!(!ns[2].stable((3, NodeId(1))), "(3, 0) < (3, 1)");
}

#[test]
fn a_larger_stable_update_waits_behind_a_smaller_unstable_one() {
    let mut ns = nodes(3, &[]);
    // (1, 0), pending at node 0.
    run(&mut ns[0], |s, c| s.on_input(write(1), c));
    // Node 1's (2, 1) arrives: (1, 0) is smaller and still needs a larger stamp from
    // node 2, and (2, 1) waits behind it; node 2's ACK(3) releases both, in order.
    run(&mut ns[0], |s, c| s.on_message(NodeId(1), Msg::Msg { ts: 2, update: update(1, 0, 2) }, c));
    assert!(ns[0].replica.delivered.is_empty());
    let eff = run(&mut ns[0], |s, c| s.on_message(NodeId(2), Msg::Ack { ts: 3 }, c));
    assert_eq!(ns[0].replica.delivered, vec![update(0, 0, 1).id, update(1, 0, 2).id]);
    assert_eq!(outputs(&eff, "ret"), vec![OutputValue::Text("ok".into())], "its own write answered");
    assert_eq!(ns[0].replica.copies.get(&0), Some(&2));
}

#[test]
fn stamps_that_do_not_grow_are_ignored() {
    let mut ns = nodes(3, &[]);
    let m = Msg::Msg { ts: 4, update: update(0, 0, 1) };
    run(&mut ns[1], |s, c| s.on_message(NodeId(0), m.clone(), c));
    let before = ns[1].clone();
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(0), m, c));
    assert!(matches!(eff.as_slice(), [Effect::Log(_)]), "{eff:?}");
    assert_eq!(ns[1], before);
    // And a node that is not a peer.
    let eff = run(&mut ns[1], |s, c| s.on_message(NodeId(7), Msg::Ack { ts: 99 }, c));
    assert!(matches!(eff.as_slice(), [Effect::Log(_)]));
    assert_eq!(ns[1], before);
}

#[test]
fn a_single_node_delivers_at_once_and_local_reads_cost_nothing() {
    let mut ns = nodes(1, &[("read", "local")]);
    let eff = run(&mut ns[0], |s, c| {
        s.on_input(write(1), c);
        s.on_input(Operation::Read { key: 0 }, c);
    });
    assert!(sends(&eff).is_empty());
    assert_eq!(outputs(&eff, "ret"), vec![OutputValue::Text("ok".into()), OutputValue::Text("ok 1".into())]);
    assert_eq!(ns[0].replica.issued, 1, "the local read was not broadcast");
}

#[test]
fn without_waiting_updates_are_delivered_on_arrival() {
    let mut ns = nodes(3, &[("fault", "no-wait")]);
    run(&mut ns[2], |s, c| s.on_message(NodeId(1), Msg::Msg { ts: 5, update: update(1, 0, 5) }, c));
    run(&mut ns[2], |s, c| s.on_message(NodeId(0), Msg::Msg { ts: 1, update: update(0, 0, 1) }, c));
    assert_eq!(ns[2].replica.delivered, vec![update(1, 0, 5).id, update(0, 0, 1).id]);
}

/// Delivers messages over FIFO channels, the channel chosen by `pick`.
fn drive(mut ns: Vec<Node>, ops: &[(usize, Operation)], pick: impl Fn(usize) -> usize) -> (Vec<Node>, u64) {
    let n = ns.len();
    let mut channels: Vec<VecDeque<Msg>> = vec![VecDeque::new(); n * n];
    let mut sent = 0;
    let mut post = |from: usize, eff: Vec<Effect<Msg>>, ch: &mut Vec<VecDeque<Msg>>| {
        for (to, m) in sends(&eff) {
            sent += 1;
            ch[from * n + to.index()].push_back(m);
        }
    };
    for &(i, op) in ops {
        let eff = run(&mut ns[i], |s, c| s.on_input(op, c));
        post(i, eff, &mut channels);
    }
    loop {
        let busy: Vec<usize> = (0..n * n).filter(|&c| !channels[c].is_empty()).collect();
        if busy.is_empty() {
            break;
        }
        let c = busy[pick(busy.len()) % busy.len()];
        let Some(msg) = channels[c].pop_front() else { break };
        let (from, to) = (c / n, c % n);
        let eff = run(&mut ns[to], |s, c| s.on_message(NodeId(from as u32), msg, c));
        post(to, eff, &mut channels);
    }
    (ns, sent)
}

#[test]
fn fifo_runs_deliver_the_same_log_everywhere_with_n_n_minus_one_messages_each() {
    // One operation per client at a time: the queued ones start when the first returns.
    let ops = [(0, write(1)), (1, write(2)), (2, write(3)), (3, Operation::Read { key: 0 }), (1, write(4))];
    for salt in 0..30usize {
        let (ns, sent) = drive(nodes(4, &[]), &ops, |len| (salt * 7 + len * 5) % len);
        assert_eq!(ns[0].replica.delivered.len(), 5, "salt {salt}");
        assert!(ns.iter().all(|s| s.replica.delivered == ns[0].replica.delivered), "salt {salt}");
        assert!(ns.iter().all(|s| s.client.idle() && s.pending.is_empty()), "salt {salt}");
        assert_eq!(sent, 5 * 4 * 3, "n(n−1) per broadcast, salt {salt}");
    }
}

#[test]
fn bad_parameters_are_refused_clearly() {
    let err = algo(&[("fault", "no-holdback")]).unwrap_err().to_string();
    assert!(err.contains("fault=no-holdback") && err.contains("no-wait"), "{err}");
    let err = algo(&[("read", "sometimes")]).unwrap_err().to_string();
    assert!(err.contains("read=sometimes"), "{err}");
    assert!(algo(&[("clients", "4")]).expect("valid").check_size(2).unwrap_err().contains("clients=4"));
    assert!(TobLamport::spec().needs_fifo);
}
