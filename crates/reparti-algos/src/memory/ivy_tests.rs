//! Ivy's handlers one by one, then whole faults driven by a tiny synchronous network
//! that checks the invariants after every delivery and counts the messages of each fault.

use super::*;
use crate::handler_harness::{outputs, sends};
use reparti_core::{Effect, OutputValue, TopologyKind};

fn read(key: u32) -> Operation {
    Operation::Read { key }
}

fn write(key: u32, value: i64) -> Operation {
    Operation::Write { key, value }
}

fn nodes(n: usize, manager: u32) -> Vec<Node> {
    (0..n).map(|i| Node::new(NodeId(i as u32), NodeId(manager), false)).collect()
}

fn run(node: &mut Node, n: usize, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let me = node.me;
    let eff = crate::handler_harness::run(node, TopologyKind::Complete, me, n, f);
    assert!(node.local.is_empty(), "the local hops are all handled within the event");
    eff
}

fn deliver(ns: &mut [Node], from: u32, to: usize, msg: Msg) -> Vec<Effect<Msg>> {
    let n = ns.len();
    run(&mut ns[to], n, |s, c| s.on_message(NodeId(from), msg, c))
}

fn ask(ns: &mut [Node], at: usize, op: Operation) -> Vec<Effect<Msg>> {
    let n = ns.len();
    run(&mut ns[at], n, |s, c| s.on_input(op, c))
}

fn ints(eff: &[Effect<Msg>], key: &str) -> Vec<i64> {
    outputs(eff, key).into_iter().map(|v| if let OutputValue::Int(i) = v { i } else { panic!("{v:?}") }).collect()
}

fn texts(eff: &[Effect<Msg>], key: &str) -> Vec<String> {
    outputs(eff, key).into_iter().map(|v| v.to_string()).collect()
}

fn page(access: Access, value: Option<i64>) -> Page {
    Page { access, value }
}

#[test]
fn the_manager_starts_owning_every_page_writable_and_the_others_have_nothing() {
    let ns = nodes(3, 1);
    assert_eq!(ns[1].page(7), page(Access::Write, None));
    assert_eq!(ns[0].page(7), page(Access::Nil, None));
    assert_eq!(ns[1].entry(7).owner, NodeId(1));
    assert!(single_writer(&ns).is_ok() && directory_matches(&ns).is_ok());
}

#[test]
fn operations_with_enough_access_are_local_and_faults_query_the_manager() {
    let mut ns = nodes(3, 0);
    let eff = ask(&mut ns, 0, write(0, 5));
    assert!(sends(&eff).is_empty());
    assert_eq!(texts(&eff, "ret"), ["ok"]);
    let eff = ask(&mut ns, 0, read(0));
    assert_eq!(texts(&eff, "ret"), ["ok 5"]);
    assert_eq!(sends(&ask(&mut ns, 1, read(0))), [(NodeId(0), Msg::ReadQuery(0))]);
    assert_eq!(sends(&ask(&mut ns, 2, Operation::Cas { key: 3, from: 1, to: 2 })), [(NodeId(0), Msg::WriteQuery(3))]);
    // A read copy serves reads but not writes.
    ns[1].pages.insert(4, page(Access::Read, Some(9)));
    ns[1].client = Client::default();
    assert_eq!(texts(&ask(&mut ns, 1, read(4)), "ret"), ["ok 9"]);
    assert_eq!(sends(&ask(&mut ns, 1, write(4, 1))), [(NodeId(0), Msg::WriteQuery(4))]);
}

#[test]
fn a_read_query_to_the_owning_manager_downgrades_it_and_sends_the_data() {
    let mut ns = nodes(3, 0);
    ns[0].pages.insert(0, page(Access::Write, Some(5)));
    let eff = deliver(&mut ns, 1, 0, Msg::ReadQuery(0));
    // RF to itself is a local hop: only RD leaves.
    assert_eq!(sends(&eff), [(NodeId(1), Msg::ReadData(0, Some(5)))]);
    assert_eq!(ns[0].page(0), page(Access::Read, Some(5)));
    assert_eq!(ints(&eff, READ_FAULT), [3]);
    assert_eq!(texts(&eff, ROLES), ["read: owner = manager"]);
    let fault = ns[0].entry(0).fault.expect("a fault in progress");
    assert_eq!((fault.requester, fault.kind, fault.forwarded), (NodeId(1), Access::Read, true));
}

#[test]
fn queries_wait_while_a_fault_is_in_progress_and_start_on_its_confirmation() {
    let mut ns = nodes(4, 0);
    deliver(&mut ns, 1, 0, Msg::ReadQuery(0));
    assert!(sends(&deliver(&mut ns, 2, 0, Msg::WriteQuery(0))).is_empty(), "queued");
    assert!(sends(&deliver(&mut ns, 2, 0, Msg::WriteQuery(0))).is_empty(), "a duplicate");
    assert_eq!(ns[0].entry(0).queue, [(NodeId(2), Access::Write)]);
    // A confirmation from someone else, or of the other kind, changes nothing.
    let before = ns[0].clone();
    assert!(sends(&deliver(&mut ns, 3, 0, Msg::ReadConfirm(0))).is_empty());
    assert!(sends(&deliver(&mut ns, 1, 0, Msg::WriteConfirm(0))).is_empty());
    assert_eq!(ns[0], before);
    // RC: 1 joins the copy set; the write fault starts: IV to 1, WF to the owner (itself).
    let eff = deliver(&mut ns, 1, 0, Msg::ReadConfirm(0));
    assert_eq!(sends(&eff), [(NodeId(1), Msg::Invalidate(0))]);
    assert_eq!(ints(&eff, WRITE_FAULT), [3 + 2]);
    assert_eq!(ints(&eff, INVALIDATED), [1]);
    assert_eq!(texts(&eff, ROLES), ["write: owner = manager"]);
    assert_eq!(ns[0].entry(0).copy_set, BTreeSet::from([NodeId(1)]));
    // IC: the owner (the manager) hands the page over.
    let eff = deliver(&mut ns, 1, 0, Msg::InvalidateConfirm(0));
    assert_eq!(sends(&eff), [(NodeId(2), Msg::WriteData(0, None))]);
    assert_eq!(ns[0].page(0), page(Access::Nil, None));
    // WC: 2 owns the page, nobody else has a copy.
    assert!(sends(&deliver(&mut ns, 2, 0, Msg::WriteConfirm(0))).is_empty());
    let entry = ns[0].entry(0);
    assert_eq!((entry.owner, entry.copy_set.len(), entry.fault), (NodeId(2), 0, None));
}

#[test]
fn a_write_fault_with_distinct_roles_invalidates_all_copies_but_the_writers_then_forwards() {
    let mut ns = nodes(5, 0);
    ns[0].directory.insert(
        0,
        Entry {
            owner: NodeId(4),
            copy_set: BTreeSet::from([NodeId(1), NodeId(2), NodeId(3)]),
            fault: None,
            queue: VecDeque::new(),
        },
    );
    let eff = deliver(&mut ns, 2, 0, Msg::WriteQuery(0));
    assert_eq!(sends(&eff), [(NodeId(1), Msg::Invalidate(0)), (NodeId(3), Msg::Invalidate(0))]);
    assert_eq!(ints(&eff, WRITE_FAULT), [4 + 2 * 2]);
    assert_eq!(ints(&eff, INVALIDATED), [2]);
    assert_eq!(texts(&eff, ROLES), ["write: distinct"]);
    assert!(sends(&deliver(&mut ns, 3, 0, Msg::InvalidateConfirm(0))).is_empty(), "one IC still awaited");
    assert!(sends(&deliver(&mut ns, 3, 0, Msg::InvalidateConfirm(0))).is_empty(), "a duplicate IC is ignored");
    let eff = deliver(&mut ns, 1, 0, Msg::InvalidateConfirm(0));
    assert_eq!(sends(&eff), [(NodeId(4), Msg::WriteForward(0, NodeId(2)))]);
    // The broken variant forwards at once.
    let mut broken = nodes(5, 0);
    broken[0].no_wait_ic = true;
    broken[0].directory = ns[0].directory.clone();
    broken[0].directory.get_mut(&0).expect("entry").fault = None;
    let eff = deliver(&mut broken, 2, 0, Msg::WriteQuery(0));
    assert_eq!(sends(&eff).len(), 3);
    assert_eq!(sends(&eff)[2], (NodeId(4), Msg::WriteForward(0, NodeId(2))));
}

#[test]
fn the_owner_downgrades_on_rf_and_gives_up_the_page_on_wf() {
    let mut ns = nodes(3, 0);
    ns[2].pages.insert(0, page(Access::Write, Some(7)));
    let eff = deliver(&mut ns, 0, 2, Msg::ReadForward(0, NodeId(1)));
    assert_eq!(sends(&eff), [(NodeId(1), Msg::ReadData(0, Some(7)))]);
    assert_eq!(ns[2].page(0), page(Access::Read, Some(7)));
    let eff = deliver(&mut ns, 0, 2, Msg::WriteForward(0, NodeId(1)));
    assert_eq!(sends(&eff), [(NodeId(1), Msg::WriteData(0, Some(7)))]);
    assert_eq!(ns[2].page(0), page(Access::Nil, None));
    // With no copy, or from a node that is not the manager: ignored.
    assert!(deliver(&mut ns, 0, 2, Msg::ReadForward(0, NodeId(1))).iter().all(|e| matches!(e, Effect::Log(_))));
    ns[2].pages.insert(0, page(Access::Write, Some(7)));
    assert!(sends(&deliver(&mut ns, 1, 2, Msg::WriteForward(0, NodeId(1)))).is_empty());
    assert!(sends(&deliver(&mut ns, 1, 2, Msg::Invalidate(0))).is_empty());
    assert_eq!(ns[2].page(0), page(Access::Write, Some(7)));
}

#[test]
fn a_copy_holder_drops_its_copy_on_iv_but_the_writable_copy_is_never_dropped() {
    let mut ns = nodes(3, 0);
    ns[1].pages.insert(0, page(Access::Read, Some(3)));
    let eff = deliver(&mut ns, 0, 1, Msg::Invalidate(0));
    assert_eq!(sends(&eff), [(NodeId(0), Msg::InvalidateConfirm(0))]);
    assert_eq!(ns[1].page(0), page(Access::Nil, None));
    ns[1].pages.insert(0, page(Access::Write, Some(3)));
    assert!(sends(&deliver(&mut ns, 0, 1, Msg::Invalidate(0))).is_empty());
    assert_eq!(ns[1].page(0), page(Access::Write, Some(3)));
}

#[test]
fn the_requester_takes_its_copy_confirms_and_answers() {
    let mut ns = nodes(3, 0);
    ask(&mut ns, 1, read(0));
    let eff = deliver(&mut ns, 2, 1, Msg::ReadData(0, Some(4)));
    assert_eq!(sends(&eff), [(NodeId(0), Msg::ReadConfirm(0))]);
    assert_eq!(texts(&eff, "ret"), ["ok 4"]);
    assert_eq!(ns[1].page(0), page(Access::Read, Some(4)));
    assert!(sends(&deliver(&mut ns, 2, 1, Msg::ReadData(0, None))).is_empty(), "no read fault open: ignored");
    // A cas that finds another value is refused, but the page is now writable here.
    ask(&mut ns, 1, Operation::Cas { key: 0, from: 9, to: 10 });
    let eff = deliver(&mut ns, 2, 1, Msg::WriteData(0, Some(4)));
    assert_eq!(sends(&eff), [(NodeId(0), Msg::WriteConfirm(0))]);
    assert_eq!(texts(&eff, "ret"), ["fail"]);
    assert_eq!(ns[1].page(0), page(Access::Write, Some(4)));
    assert!(sends(&deliver(&mut ns, 2, 1, Msg::WriteData(0, Some(4)))).is_empty(), "no write fault open");
}

#[test]
fn an_owner_upgrading_gets_wf_itself_and_needs_no_data() {
    let mut ns = nodes(3, 0);
    ns[1].pages.insert(0, page(Access::Read, Some(4)));
    ask(&mut ns, 1, Operation::Cas { key: 0, from: 4, to: 6 });
    let eff = deliver(&mut ns, 0, 1, Msg::WriteForward(0, NodeId(1)));
    assert_eq!(sends(&eff), [(NodeId(0), Msg::WriteConfirm(0))]);
    assert_eq!(texts(&eff, "ret"), ["ok"]);
    assert_eq!(ns[1].page(0), page(Access::Write, Some(6)));
}

#[test]
fn the_manager_upgrading_its_own_page_only_invalidates() {
    let mut ns = nodes(3, 0);
    ns[0].pages.insert(0, page(Access::Read, Some(1)));
    ns[2].pages.insert(0, page(Access::Read, Some(1)));
    ns[0].directory.insert(
        0,
        Entry { owner: NodeId(0), copy_set: BTreeSet::from([NodeId(2)]), fault: None, queue: VecDeque::new() },
    );
    let eff = ask(&mut ns, 0, write(0, 2));
    assert_eq!(sends(&eff), [(NodeId(2), Msg::Invalidate(0))]);
    assert_eq!(
        (ints(&eff, WRITE_FAULT), texts(&eff, ROLES)),
        (vec![2], vec!["write: requester = owner = manager".into()])
    );
    deliver(&mut ns, 0, 2, Msg::Invalidate(0));
    let eff = deliver(&mut ns, 2, 0, Msg::InvalidateConfirm(0));
    assert!(sends(&eff).is_empty(), "WF, WD-less grant and WC are all local");
    assert_eq!(texts(&eff, "ret"), ["ok"]);
    assert_eq!(ns[0].page(0), page(Access::Write, Some(2)));
    assert!(directory_matches(&ns).is_ok(), "{:?}", directory_matches(&ns));
}

#[test]
fn a_query_that_overtakes_its_senders_confirmation_waits_for_it() {
    let mut ns = nodes(3, 0);
    deliver(&mut ns, 1, 0, Msg::ReadQuery(0));
    // 1's RC is still on its way when its next query (a write) arrives.
    assert!(sends(&deliver(&mut ns, 1, 0, Msg::WriteQuery(0))).is_empty());
    assert_eq!(ns[0].entry(0).queue, [(NodeId(1), Access::Write)], "queued, not dropped as a duplicate");
    let eff = deliver(&mut ns, 1, 0, Msg::ReadConfirm(0));
    assert_eq!(texts(&eff, ROLES), ["write: owner = manager"]);
    assert_eq!(sends(&eff), [(NodeId(1), Msg::WriteData(0, None))], "1 keeps its copy: k = 0");
}

/// A synchronous network: messages in flight delivered in the order `pick` says, the
/// invariants checked after every delivery, the messages counted by type.
struct Net {
    ns: Vec<Node>,
    flight: Vec<(u32, usize, Msg)>,
    sent: BTreeMap<&'static str, u64>,
    outs: Vec<(&'static str, OutputValue)>,
}

impl Net {
    fn new(n: usize, manager: u32, no_wait_ic: bool) -> Net {
        let ns = (0..n).map(|i| Node::new(NodeId(i as u32), NodeId(manager), no_wait_ic)).collect();
        Net { ns, flight: Vec::new(), sent: BTreeMap::new(), outs: Vec::new() }
    }

    fn take(&mut self, from: usize, eff: Vec<Effect<Msg>>) {
        for e in eff {
            match e {
                Effect::Send { to, msg, .. } => {
                    assert_ne!(to.index(), from, "a node never sends to itself");
                    *self.sent.entry(msg.kind_name()).or_default() += 1;
                    self.flight.push((from as u32, to.index(), msg));
                }
                Effect::Output { key, value } => self.outs.push((key, value)),
                _ => {}
            }
        }
    }

    fn ask(&mut self, at: usize, op: Operation) {
        let eff = ask(&mut self.ns, at, op);
        self.take(at, eff);
    }

    /// Delivers everything; `Err` at the first broken invariant.
    fn settle(&mut self, mut pick: impl FnMut(usize) -> usize) -> Result<(), String> {
        while !self.flight.is_empty() {
            let (from, to, msg) = self.flight.remove(pick(self.flight.len()) % self.flight.len());
            let eff = deliver(&mut self.ns, from, to, msg);
            self.take(to, eff);
            single_writer(&self.ns)?;
            coherent(&self.ns)?;
        }
        Ok(())
    }

    fn total(&self) -> u64 {
        self.sent.values().sum()
    }

    fn sum(&self, key: &str) -> i64 {
        self.outs.iter().filter(|(k, _)| *k == key).map(|(_, v)| if let OutputValue::Int(i) = v { *i } else { 0 }).sum()
    }
}

/// Asks `op` at `at`, delivers everything first in first out, and checks the messages
/// it cost: `expect` in all, and `types` by type.
fn fault(net: &mut Net, at: usize, op: Operation, expect: u64, types: &[(&str, u64)]) {
    let (before, by_type) = (net.total(), net.sent.clone());
    net.ask(at, op);
    net.settle(|_| 0).expect("invariants");
    assert_eq!(net.total() - before, expect, "{op} at {at}");
    for &(t, c) in types {
        assert_eq!(net.sent.get(t).copied().unwrap_or(0) - by_type.get(t).copied().unwrap_or(0), c, "{op}: {t}");
    }
}

#[test]
fn faults_with_distinct_roles_cost_4_and_4_plus_2k_messages_exactly() {
    // Manager 0 hosts no operation; the page moves between 1, 2, 3 and 4.
    let mut net = Net::new(5, 0, false);
    fault(&mut net, 1, write(0, 1), 3, &[("WQ", 1), ("WF", 0), ("WD", 1), ("WC", 1)]); // owner = manager
    fault(&mut net, 2, read(0), 4, &[("RQ", 1), ("RF", 1), ("RD", 1), ("RC", 1)]);
    fault(&mut net, 3, read(0), 4, &[("RQ", 1), ("RF", 1), ("RD", 1), ("RC", 1)]);
    fault(&mut net, 3, read(0), 0, &[]); // a local read
                                         // 2 writes: owner 1, copy set {2, 3}: k = 1 (3; 2 keeps its own copy).
    fault(&mut net, 2, write(0, 2), 4 + 2, &[("WQ", 1), ("IV", 1), ("IC", 1), ("WF", 1), ("WD", 1), ("WC", 1)]);
    fault(&mut net, 2, write(0, 3), 0, &[]); // a local write
    fault(&mut net, 3, Operation::Cas { key: 0, from: 3, to: 4 }, 4, &[("WQ", 1), ("WF", 1), ("WD", 1), ("WC", 1)]);
    // Two readers, then a writer with distinct roles: k = 2.
    fault(&mut net, 1, read(0), 4, &[("RF", 1)]);
    fault(&mut net, 2, read(0), 4, &[("RF", 1)]);
    fault(&mut net, 1, write(0, 5), 4 + 2, &[("IV", 1), ("IC", 1)]);
    fault(&mut net, 2, read(0), 4, &[("RF", 1)]);
    fault(&mut net, 3, read(0), 4, &[("RF", 1)]);
    fault(&mut net, 4, write(0, 6), 4 + 2 * 2, &[("IV", 2), ("IC", 2), ("WF", 1), ("WD", 1)]);
    assert_eq!(net.sum(READ_FAULT) + net.sum(WRITE_FAULT), net.total() as i64);
    assert_eq!(net.sum(INVALIDATED), 1 + 1 + 2);
    let rets: Vec<String> = net.outs.iter().filter(|(k, _)| *k == "ret").map(|(_, v)| v.to_string()).collect();
    assert_eq!(rets[..7], ["ok", "ok 1", "ok 1", "ok 1", "ok", "ok", "ok"]);
    assert!(directory_matches(&net.ns).is_ok(), "{:?}", directory_matches(&net.ns));
}

#[test]
fn coinciding_roles_save_exactly_the_local_hops() {
    let mut net = Net::new(3, 0, false);
    let mut seen = BTreeSet::new();
    let mut step = |net: &mut Net, at: usize, op: Operation, expect: u64, roles: &'static str| {
        let outs = net.outs.len();
        fault(net, at, op, expect, &[]);
        let said: Vec<String> =
            net.outs[outs..].iter().filter(|(k, _)| *k == ROLES).map(|(_, v)| v.to_string()).collect();
        assert_eq!(said, [roles], "{op} at {at}");
        seen.insert(roles);
    };
    step(&mut net, 1, read(0), 3, "read: owner = manager"); // RQ, RD, RC
    step(&mut net, 2, read(0), 3, "read: owner = manager");
    step(&mut net, 1, write(0, 1), 3 + 2, "write: owner = manager"); // WQ, IV, IC, WD, WC: 2 invalidated
    step(&mut net, 0, read(0), 2, "read: requester = manager"); // RF, RD
    step(&mut net, 1, write(0, 2), 3, "write: requester = owner"); // WQ, WF, WC; the manager's copy: local
    step(&mut net, 2, write(0, 3), 4, "write: distinct");
    step(&mut net, 0, write(0, 4), 2, "write: requester = manager"); // WF, WD
    step(&mut net, 1, read(0), 3, "read: owner = manager");
    step(&mut net, 0, write(0, 5), 2, "write: requester = owner = manager"); // IV, IC to 1
    step(&mut net, 2, read(0), 3, "read: owner = manager");
    step(&mut net, 2, write(0, 6), 3, "write: owner = manager"); // 2 keeps its own copy: k = 0
    step(&mut net, 1, read(0), 4, "read: distinct");
    step(&mut net, 0, write(0, 7), 2 + 2, "write: requester = manager"); // WF, WD, IV, IC
    assert_eq!(seen.len(), CASES.len(), "every case of roles was met");
    assert_eq!(net.sum(READ_FAULT) + net.sum(WRITE_FAULT), net.total() as i64);
    assert!(directory_matches(&net.ns).is_ok(), "{:?}", directory_matches(&net.ns));
}

/// Every client asks its operations at once, then everything is delivered in an order
/// drawn from `salt`.
fn storm(n: usize, manager: u32, no_wait_ic: bool, salt: u64) -> (Net, Result<(), String>) {
    let mut net = Net::new(n, manager, no_wait_ic);
    let mut x = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut value = 0;
    for round in 0..3 {
        for at in 0..n {
            let key = (next() % 2) as u32;
            let op = match (next() % 3, round) {
                (0, _) => read(key),
                (1, r) if r > 0 => Operation::Cas { key, from: value, to: value + 100 },
                _ => {
                    value += 1;
                    write(key, value)
                }
            };
            net.ask(at, op);
        }
    }
    let verdict = net.settle(|len| (next() % len as u64) as usize);
    (net, verdict)
}

#[test]
fn any_delivery_order_keeps_one_writer_or_readers_and_answers_everything_at_the_exact_cost() {
    for n in 2..=5 {
        for salt in 0..60 {
            let manager = (salt % n as u64) as u32;
            let (net, verdict) = storm(n, manager, false, salt);
            let ctx = format!("n={n} manager={manager} salt={salt}");
            assert_eq!(verdict, Ok(()), "{ctx}");
            assert!(net.ns.iter().all(|s| s.client.idle() && s.client.answered == 3), "{ctx}");
            assert_eq!(directory_matches(&net.ns), Ok(()), "{ctx}");
            assert_eq!(net.sum(READ_FAULT) + net.sum(WRITE_FAULT), net.total() as i64, "{ctx}");
            assert_eq!(net.sent.get("IV"), net.sent.get("IC"), "{ctx}");
            assert_eq!(net.sent.get("IV").copied().unwrap_or(0) as i64, net.sum(INVALIDATED), "{ctx}");
        }
    }
}

#[test]
fn forwarding_before_every_ic_breaks_single_writer_in_some_order() {
    let broken = (0..200).filter(|&salt| storm(4, 0, true, salt).1.is_err()).count();
    assert!(broken > 0, "no delivery order let the writer in while a reader still had its copy");
    // A crafted order: 1 and 2 read, 3 writes; 3's WD arrives before 2's IV.
    let mut net = Net::new(4, 0, true);
    net.ask(1, read(0));
    net.settle(|_| 0).expect("a read");
    net.ask(2, read(0));
    net.settle(|_| 0).expect("a read");
    net.ask(3, write(0, 1));
    let err = net.settle(|len| len - 1).expect_err("the writer and the readers overlap");
    assert!(err.contains("page 0: write access at [3]"), "{err}");
}

#[test]
fn bad_parameters_are_refused_clearly() {
    let resolve = |given: &[(&str, &str)]| {
        let given: Vec<_> = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Params::resolve("ivy", PARAMS, &given)
    };
    assert!(resolve(&[("fault", "sometimes")]).is_err());
    let ivy = Ivy::from_params(&resolve(&[("manager", "4"), ("clients", "2")]).expect("resolves")).expect("builds");
    assert!(ivy.check_size(4).expect_err("manager 4 of 4").contains("manager=4"));
    assert!(ivy.check_size(5).is_ok());
    let ivy = Ivy::from_params(&resolve(&[("clients", "6")]).expect("resolves")).expect("builds");
    assert!(ivy.check_size(5).expect_err("6 clients").contains("clients=6"));
    let err = Ivy::from_params(&resolve(&[("reads", "0.7"), ("cas", "0.5")]).expect("resolves")).expect_err("> 1");
    assert!(err.to_string().contains("more than 1"), "{err}");
}
