//! Li & Hudak's handlers one by one, the properties on hand-made states, then whole runs
//! on a tiny network with FIFO channels and adversarial delivery orders, the properties
//! checked after every delivery.

use super::properties::{chains, copies_agree, one_owner, settled, swmr};
use super::*;
use crate::handler_harness::{outputs, sends};
use reparti_core::{Effect, OutputValue, TopologyKind, World};

const N: usize = 4;

fn read(key: u32) -> Operation {
    Operation::Read { key }
}

fn write(key: u32, value: i64) -> Operation {
    Operation::Write { key, value }
}

fn nodes(n: usize, mistake: Mistake) -> Vec<Node> {
    (0..n).map(|i| Node::new(NodeId(i as u32), mistake)).collect()
}

fn run(node: &mut Node, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let me = node.me;
    crate::handler_harness::run(node, TopologyKind::Complete, me, N, f)
}

fn deliver(node: &mut Node, from: u32, msg: Msg) -> Vec<Effect<Msg>> {
    run(node, |s, c| s.on_message(NodeId(from), msg, c))
}

fn ask(node: &mut Node, op: Operation) -> Vec<Effect<Msg>> {
    run(node, |s, c| s.on_input(op, c))
}

fn ints(eff: &[Effect<Msg>], key: &str) -> Vec<i64> {
    outputs(eff, key).into_iter().map(|v| if let OutputValue::Int(i) = v { i } else { panic!("{v:?}") }).collect()
}

fn texts(eff: &[Effect<Msg>], key: &str) -> Vec<String> {
    outputs(eff, key).into_iter().map(|v| v.to_string()).collect()
}

fn logged(eff: &[Effect<Msg>]) -> bool {
    eff.iter().any(|e| matches!(e, Effect::Log(_)))
}

fn rreq(requester: u32, hops: u32) -> Msg {
    Msg::Rreq { key: 0, requester: NodeId(requester), hops }
}

fn wreq(requester: u32, hops: u32) -> Msg {
    Msg::Wreq { key: 0, requester: NodeId(requester), hops }
}

fn ids(v: &[u32]) -> BTreeSet<NodeId> {
    v.iter().map(|&i| NodeId(i)).collect()
}

#[test]
fn node_0_owns_every_page_and_operations_with_enough_access_cost_nothing() {
    let mut ns = nodes(N, Mistake::None);
    assert!(ns[0].owns(9) && !ns[1].owns(9));
    assert_eq!((ns[1].page(9).access, ns[1].page(9).prob_owner), (Access::Nil, NodeId(0)));
    let eff = ask(&mut ns[0], write(9, 5));
    assert!(sends(&eff).is_empty());
    assert_eq!(texts(&eff, "ret"), vec!["ok"]);
    let eff = ask(&mut ns[0], read(9));
    assert!(sends(&eff).is_empty());
    assert_eq!(texts(&eff, "ret"), vec!["ok 5"]);
}

#[test]
fn a_fault_sends_its_request_to_the_probable_owner_with_one_hop() {
    let mut ns = nodes(N, Mistake::None);
    ns[1].page_mut(0).prob_owner = NodeId(2);
    let eff = ask(&mut ns[1], read(0));
    assert_eq!(sends(&eff), vec![(NodeId(2), rreq(1, 1))]);
    assert_eq!(ns[1].page(0).fault, Some(Fault::Read));
    let eff = ask(&mut ns[3], Operation::Cas { key: 0, from: 1, to: 2 });
    assert_eq!(sends(&eff), vec![(NodeId(0), wreq(3, 1))], "a compare-and-set is a write fault");
    assert_eq!(ns[3].page(0).fault, Some(Fault::Write));
}

#[test]
fn rreq_at_the_owner_gives_a_copy_and_keeps_ownership_with_read_access() {
    let mut ns = nodes(N, Mistake::None);
    ask(&mut ns[0], write(0, 7));
    let eff = deliver(&mut ns[0], 2, rreq(1, 2));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Rdata { key: 0, value: Some(7), hops: 2 })]);
    let p = ns[0].page(0);
    assert_eq!((p.access, p.prob_owner, p.copy_set), (Access::Read, NodeId(0), ids(&[1])));
}

#[test]
fn rreq_elsewhere_is_forwarded_one_hop_further_and_changes_no_hint() {
    let mut ns = nodes(N, Mistake::None);
    ns[2].page_mut(0).prob_owner = NodeId(3);
    let eff = deliver(&mut ns[2], 1, rreq(1, 1));
    assert_eq!(sends(&eff), vec![(NodeId(3), rreq(1, 2))]);
    assert_eq!(ns[2].page(0).prob_owner, NodeId(3));
}

#[test]
fn wreq_at_the_owner_sends_the_page_and_its_copy_set_and_gives_up_ownership() {
    let mut ns = nodes(N, Mistake::None);
    ask(&mut ns[0], write(0, 7));
    deliver(&mut ns[0], 1, rreq(1, 1));
    let eff = deliver(&mut ns[0], 3, wreq(2, 2));
    let wdata = Msg::Wdata { key: 0, value: Some(7), copy_set: ids(&[1]), hops: 2 };
    assert_eq!(sends(&eff), vec![(NodeId(2), wdata)]);
    let p = ns[0].page(0);
    assert_eq!((p.access, p.prob_owner, p.value, p.copy_set.len()), (Access::Nil, NodeId(2), None, 0));
    assert!(!ns[0].owns(0));
}

#[test]
fn wreq_elsewhere_is_forwarded_and_the_forwarder_points_at_the_writer_unless_the_variant_forgets() {
    for (mistake, after) in [(Mistake::None, NodeId(1)), (Mistake::NoForwardUpdate, NodeId(0))] {
        let mut ns = nodes(N, mistake);
        let eff = deliver(&mut ns[2], 1, wreq(1, 1));
        assert_eq!(sends(&eff), vec![(NodeId(0), wreq(1, 2))]);
        assert_eq!(ns[2].page(0).prob_owner, after, "{mistake:?}");
    }
}

#[test]
fn rdata_completes_the_read_points_at_the_sender_and_outputs_the_hops() {
    let mut ns = nodes(N, Mistake::None);
    ask(&mut ns[1], read(0));
    let eff = deliver(&mut ns[3], 1, Msg::Rdata { key: 0, value: Some(4), hops: 3 });
    assert!(logged(&eff) && sends(&eff).is_empty(), "node 3 has no read fault: ignored");
    let eff = deliver(&mut ns[1], 3, Msg::Rdata { key: 0, value: Some(4), hops: 3 });
    assert_eq!(ints(&eff, READ_FAULT), vec![3]);
    assert_eq!(texts(&eff, "ret"), vec!["ok 4"]);
    let p = ns[1].page(0);
    assert_eq!((p.access, p.prob_owner, p.value, p.fault), (Access::Read, NodeId(3), Some(4), None));
}

#[test]
fn wdata_invalidates_the_other_copies_and_writes_only_once_every_ack_is_in() {
    let mut ns = nodes(N, Mistake::None);
    ns[1].page_mut(0).access = Access::Read;
    ask(&mut ns[1], write(0, 9));
    let wdata = Msg::Wdata { key: 0, value: Some(4), copy_set: ids(&[1, 2, 3]), hops: 1 };
    let eff = deliver(&mut ns[1], 0, wdata);
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Inv { key: 0 }), (NodeId(3), Msg::Inv { key: 0 })]);
    assert_eq!((ints(&eff, WRITE_FAULT), ints(&eff, INVALIDATED)), (vec![1], vec![2]));
    assert!(ns[1].owns(0) && ns[1].page(0).access != Access::Write && texts(&eff, "ret").is_empty());
    let eff = deliver(&mut ns[1], 2, Msg::InvAck { key: 0 });
    assert!(texts(&eff, "ret").is_empty());
    let eff = deliver(&mut ns[1], 2, Msg::InvAck { key: 0 });
    assert!(logged(&eff), "a second ack from the same node is ignored");
    let eff = deliver(&mut ns[1], 3, Msg::InvAck { key: 0 });
    assert_eq!(texts(&eff, "ret"), vec!["ok"]);
    let p = ns[1].page(0);
    assert_eq!((p.access, p.value, p.fault, p.copy_set.len()), (Access::Write, Some(9), None, 0));
}

#[test]
fn wdata_with_no_other_copy_completes_at_once() {
    let mut ns = nodes(N, Mistake::None);
    ask(&mut ns[2], Operation::Cas { key: 0, from: 4, to: 5 });
    let eff = deliver(&mut ns[2], 0, Msg::Wdata { key: 0, value: Some(4), copy_set: ids(&[2]), hops: 2 });
    assert!(sends(&eff).is_empty());
    assert_eq!((ints(&eff, INVALIDATED), texts(&eff, "ret")), (vec![0], vec!["ok".to_string()]));
    assert_eq!((ns[2].page(0).access, ns[2].page(0).value), (Access::Write, Some(5)));
}

#[test]
fn inv_drops_a_copy_points_at_the_new_owner_and_acknowledges() {
    let mut ns = nodes(N, Mistake::None);
    let p = ns[3].page_mut(0);
    (p.access, p.value) = (Access::Read, Some(1));
    let eff = deliver(&mut ns[3], 2, Msg::Inv { key: 0 });
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::InvAck { key: 0 })]);
    let p = ns[3].page(0);
    assert_eq!((p.access, p.value, p.prob_owner), (Access::Nil, None, NodeId(2)));
    let eff = deliver(&mut ns[0], 2, Msg::Inv { key: 0 });
    assert!(logged(&eff) && sends(&eff).is_empty() && ns[0].owns(0), "the owner ignores an INV");
}

#[test]
fn inv_during_a_read_fault_waits_for_the_copy_on_its_way() {
    let mut ns = nodes(N, Mistake::None);
    ask(&mut ns[1], read(0));
    let eff = deliver(&mut ns[1], 2, Msg::Inv { key: 0 });
    assert!(sends(&eff).is_empty());
    assert_eq!(ns[1].page(0).queued.len(), 1);
    let eff = deliver(&mut ns[1], 0, Msg::Rdata { key: 0, value: Some(6), hops: 1 });
    assert_eq!(texts(&eff, "ret"), vec!["ok 6"], "the read returns the granted copy");
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::InvAck { key: 0 })]);
    let p = ns[1].page(0);
    assert_eq!((p.access, p.prob_owner, p.queued.len()), (Access::Nil, NodeId(2), 0));
}

#[test]
fn inv_during_a_write_fault_is_applied_at_once() {
    let mut ns = nodes(N, Mistake::None);
    ns[1].page_mut(0).access = Access::Read;
    ask(&mut ns[1], write(0, 3));
    let eff = deliver(&mut ns[1], 2, Msg::Inv { key: 0 });
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::InvAck { key: 0 })]);
    assert_eq!((ns[1].page(0).access, ns[1].page(0).fault), (Access::Nil, Some(Fault::Write)));
}

#[test]
fn requests_wait_for_the_fault_in_progress_and_are_served_after_the_operation() {
    let mut ns = nodes(N, Mistake::None);
    ask(&mut ns[1], write(0, 3));
    assert!(sends(&deliver(&mut ns[1], 2, rreq(2, 2))).is_empty());
    assert!(sends(&deliver(&mut ns[1], 0, wreq(3, 2))).is_empty());
    assert_eq!(ns[1].page(0).queued.len(), 2);
    let eff = deliver(&mut ns[1], 0, Msg::Wdata { key: 0, value: None, copy_set: BTreeSet::new(), hops: 1 });
    let wdata = Msg::Wdata { key: 0, value: Some(3), copy_set: ids(&[2]), hops: 2 };
    assert_eq!(
        sends(&eff),
        vec![(NodeId(2), Msg::Rdata { key: 0, value: Some(3), hops: 2 }), (NodeId(3), wdata)],
        "in arrival order, after the write"
    );
    assert_eq!(texts(&eff, "ret"), vec!["ok"]);
    assert_eq!((ns[1].page(0).prob_owner, ns[1].page(0).access), (NodeId(3), Access::Nil));
}

#[test]
fn without_the_queue_a_faulting_node_passes_requests_on_at_once() {
    let mut ns = nodes(N, Mistake::NoQueue);
    ask(&mut ns[1], write(0, 3));
    let eff = deliver(&mut ns[1], 2, rreq(2, 2));
    assert_eq!(sends(&eff), vec![(NodeId(0), rreq(2, 3))]);
}

#[test]
fn the_owner_with_read_access_upgrades_without_a_request() {
    let mut ns = nodes(N, Mistake::None);
    deliver(&mut ns[0], 1, rreq(1, 1));
    deliver(&mut ns[0], 2, rreq(2, 1));
    let eff = ask(&mut ns[0], write(0, 8));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Inv { key: 0 }), (NodeId(2), Msg::Inv { key: 0 })]);
    assert_eq!((texts(&eff, UPGRADE), ints(&eff, INVALIDATED)), (vec!["write".to_string()], vec![2]));
    deliver(&mut ns[0], 1, Msg::InvAck { key: 0 });
    let eff = deliver(&mut ns[0], 2, Msg::InvAck { key: 0 });
    assert_eq!(texts(&eff, "ret"), vec!["ok"]);
    assert_eq!((ns[0].page(0).access, ns[0].page(0).value), (Access::Write, Some(8)));
}

#[test]
fn stray_messages_are_logged_and_ignored() {
    let mut ns = nodes(N, Mistake::None);
    ask(&mut ns[1], write(0, 3));
    let before = ns[1].clone();
    for (from, msg) in [
        (2, wreq(1, 3)),
        (0, Msg::InvAck { key: 0 }),
        (0, Msg::Rdata { key: 0, value: None, hops: 1 }),
        (0, Msg::Wdata { key: 5, value: None, copy_set: BTreeSet::new(), hops: 1 }),
    ] {
        let eff = deliver(&mut ns[1], from, msg.clone());
        assert!(logged(&eff) && sends(&eff).is_empty(), "{msg:?}");
    }
    assert_eq!(ns[1].pages[&0], before.pages[&0]);
}

fn check(ns: &[Node], flight: &[(NodeId, NodeId, Msg)], f: fn(&World<'_, Node>) -> Result<(), String>) -> bool {
    let visit = |g: &mut dyn FnMut(NodeId, NodeId, &Msg)| flight.iter().for_each(|(a, b, m)| g(*a, *b, m));
    let (idents, crashed): (Vec<u64>, Vec<bool>) = (0..ns.len()).map(|i| (i as u64 + 1, false)).unzip();
    f(&World { nodes: ns, idents: &idents, crashed: &crashed, in_flight: &visit, time: None }).is_ok()
}

#[test]
fn the_properties_catch_what_they_say() {
    let mut ns = nodes(3, Mistake::None);
    assert!([one_owner, swmr, copies_agree, chains, settled].iter().all(|&f| check(&ns, &[], f)));
    // Ownership in transit counts once; a page both in transit and kept is two owners.
    let wdata = (NodeId(0), NodeId(2), Msg::Wdata { key: 0, value: None, copy_set: BTreeSet::new(), hops: 1 });
    assert!(!check(&ns, std::slice::from_ref(&wdata), one_owner));
    ns[0].page_mut(0).prob_owner = NodeId(2);
    ns[0].page_mut(0).access = Access::Nil;
    assert!(check(&ns, std::slice::from_ref(&wdata), one_owner) && !check(&ns, &[], one_owner));
    // A writer beside a reader, two copies with different values.
    let mut ns = nodes(3, Mistake::None);
    let p = ns[2].page_mut(0);
    (p.access, p.value) = (Access::Read, Some(1));
    assert!(!check(&ns, &[], swmr) && !check(&ns, &[], copies_agree));
    ns[0].page_mut(0).access = Access::Read;
    ns[0].page_mut(0).value = Some(1);
    assert!(check(&ns, &[], swmr) && check(&ns, &[], copies_agree));
    // A cycle of hints that avoids the owner, and a fault left over.
    ns[1].page_mut(0).prob_owner = NodeId(2);
    ns[2].page_mut(0).prob_owner = NodeId(1);
    assert!(!check(&ns, &[], chains));
    ns[2].page_mut(0).fault = Some(Fault::Read);
    assert!(!check(&ns, &[], settled));
}

/// Runs every node's operations over FIFO channels, delivering the head of the channel
/// `pick` chooses, with the properties checked after every step; returns every fault's
/// (kind, h) and the messages sent by type.
fn drive(ops: &[Vec<Operation>], pick: impl Fn(usize, usize) -> usize) -> (Vec<(&'static str, i64)>, Vec<Msg>) {
    let mut ns = nodes(ops.len(), Mistake::None);
    let mut channels: BTreeMap<(NodeId, NodeId), VecDeque<Msg>> = BTreeMap::new();
    let (mut faults, mut sent) = (Vec::new(), Vec::new());
    let mut take = |from: NodeId, eff: Vec<Effect<Msg>>, ch: &mut BTreeMap<(NodeId, NodeId), VecDeque<Msg>>| {
        for key in [READ_FAULT, WRITE_FAULT] {
            faults.extend(ints(&eff, key).into_iter().map(|h| (key, h)));
        }
        for (to, msg) in sends(&eff) {
            sent.push(msg.clone());
            ch.entry((from, to)).or_default().push_back(msg);
        }
    };
    for (i, node) in ns.iter_mut().enumerate() {
        for &op in &ops[i] {
            let eff = ask(node, op);
            take(node.me, eff, &mut channels);
        }
    }
    for step in 0.. {
        let flight: Vec<(NodeId, NodeId, Msg)> =
            channels.iter().flat_map(|(&(a, b), q)| q.iter().map(move |m| (a, b, m.clone()))).collect();
        for f in [one_owner, swmr, copies_agree] {
            assert!(check(&ns, &flight, f), "step {step}: {flight:?}\n{ns:?}");
        }
        let busy: Vec<(NodeId, NodeId)> = channels.iter().filter(|(_, q)| !q.is_empty()).map(|(k, _)| *k).collect();
        let Some(&(from, to)) = busy.get(pick(step, busy.len().max(1)) % busy.len().max(1)) else { break };
        let msg = channels.get_mut(&(from, to)).and_then(VecDeque::pop_front).expect("a busy channel");
        let eff = deliver(&mut ns[to.index()], from.0, msg);
        take(to, eff, &mut channels);
    }
    assert!([chains, settled].iter().all(|&f| check(&ns, &[], f)));
    assert!(ns.iter().all(|s| s.client.idle()), "every operation answered");
    (faults, sent)
}

#[test]
fn concurrent_faults_in_any_fifo_order_keep_the_properties_and_the_counts() {
    let ops = vec![
        vec![read(0), write(0, 1)],
        vec![write(0, 2), read(0), write(0, 3)],
        vec![read(0), Operation::Cas { key: 0, from: 2, to: 4 }],
        vec![write(0, 5), read(0)],
    ];
    for salt in 0..200usize {
        let (faults, sent) = drive(&ops, |step, len| (salt * 31 + step * (salt % 7 + 1)) % len);
        let count = |kind: &str| sent.iter().filter(|m| m.kind_name() == kind).count();
        let h: i64 = faults.iter().map(|f| f.1).sum();
        assert!(faults.iter().all(|&(_, h)| (1..=N as i64 - 1).contains(&h)), "salt {salt}: {faults:?}");
        assert_eq!((count("RREQ") + count("WREQ")) as i64, h, "salt {salt}");
        let reads = faults.iter().filter(|f| f.0 == READ_FAULT).count();
        assert_eq!((count("RDATA"), count("WDATA")), (reads, faults.len() - reads), "salt {salt}");
        assert_eq!(count("INV"), count("INV_ACK"), "salt {salt}");
    }
}

#[test]
fn the_fault_parameter_is_checked() {
    let params = |fault: &str| {
        Params::resolve("li-hudak", PARAMS, &[("fault".to_string(), fault.to_string())])
            .map(|p| LiHudak::from_params(&p))
    };
    assert!(matches!(params("no-queue"), Ok(Ok(LiHudak { mistake: Mistake::NoQueue, .. }))));
    assert!(params("no-such-mistake").is_err());
    let a =
        LiHudak::from_params(&Params::resolve("li-hudak", PARAMS, &[("clients".into(), "5".into())]).unwrap()).unwrap();
    assert!(a.check_size(4).unwrap_err().contains("clients=5"));
    assert!(a.check_size(5).is_ok());
}
