//! The layer's handlers on a toy application that forwards a number round a complete
//! graph: colours, logs, counters, the red-first rule and its classic mistake, the
//! collector's channel states, and the judge on the cuts they make.

use super::*;
use crate::handler_harness::{outputs, run, sends};
use reparti_core::{Message, OutputValue, TopologyKind};

/// The toy application: counts what it received; `Ping(k)` with k > 0 is forwarded to
/// the next node as `Ping(k − 1)`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct Toy {
    got: u64,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
enum Ping {
    Ping(u64),
}

impl Process for Toy {
    type Msg = Ping;
    type Input = ();
    fn on_message(&mut self, _: NodeId, Ping::Ping(k): Ping, ctx: &mut Context<'_, Ping>) {
        self.got += 1;
        if k > 0 {
            let next = NodeId((ctx.me().0 + 1) % ctx.n() as u32);
            ctx.send(next, Ping::Ping(k - 1));
        }
    }
}

const N: usize = 3;

fn node(me: u32, form: Form, fault: bool) -> ColourNode<Toy> {
    ColourNode::new(Toy { got: 0 }, NodeId(me), me == 0, NodeId(0), 0, form, fault)
}

type Effects = Vec<reparti_core::Effect<Coloured<Toy>>>;

fn on(n: &mut ColourNode<Toy>, f: impl FnOnce(&mut ColourNode<Toy>, &mut Ctx<'_, Toy>)) -> Effects {
    on_of(N, n, f)
}

/// The same, among `size` nodes.
fn on_of(size: usize, n: &mut ColourNode<Toy>, f: impl FnOnce(&mut ColourNode<Toy>, &mut Ctx<'_, Toy>)) -> Effects {
    let me = n.me;
    run(n, TopologyKind::Complete, me, size, f)
}

fn app(seq: u64, red: bool, k: u64) -> Coloured<Toy> {
    Coloured::App { seq, red, msg: Ping::Ping(k) }
}

#[test]
fn the_initiator_records_reports_to_itself_and_sends_take_to_every_other() {
    let mut a = node(0, Form::Logs, false);
    let sent = sends(&on(&mut a, |s, c| s.on_timer(INITIATE, c)));
    assert_eq!(sent, vec![(NodeId(1), Coloured::Take), (NodeId(2), Coloured::Take)]);
    assert!(a.red && a.collected.contains_key(&NodeId(0)), "its own report is kept, not sent");
    assert!(sends(&on(&mut a, |s, c| s.on_message(NodeId(1), Coloured::Take, c))).is_empty(), "recorded once");
    assert_eq!(Coloured::<Toy>::kinds(), ["PING", "TAKE", "REPORT"]);
}

#[test]
fn white_messages_are_logged_and_a_red_one_is_received_after_recording() {
    let mut b = node(1, Form::Logs, false);
    // A white message: logged as received, forwarded white and logged as sent.
    let sent = sends(&on(&mut b, |s, c| s.on_message(NodeId(0), app(1, false, 1), c)));
    assert_eq!(sent, vec![(NodeId(2), app(1, false, 0))]);
    assert_eq!(b.rcvd_log.get(&NodeId(0)), Some(&[1].into()));
    assert_eq!(b.sent_log.get(&NodeId(2)), Some(&vec![(1, Ping::Ping(0))]));
    // A red message: record first (the state before it), report, then deliver.
    let effects = on(&mut b, |s, c| s.on_message(NodeId(2), app(1, true, 1), c));
    let sent = sends(&effects);
    let Some((NodeId(0), Coloured::Report(report))) = sent.first() else { panic!("a report first: {sent:?}") };
    assert_eq!(report.state, Toy { got: 1 }, "recorded before the red message");
    assert_eq!(report.sent_log.get(&NodeId(2)), Some(&vec![(1, Ping::Ping(0))]));
    assert_eq!(sent[1], (NodeId(2), app(2, true, 0)), "then delivered, and what it sends is red");
    assert_eq!(outputs(&effects, RECORDED), vec![OutputValue::Int(1)]);
    assert!(b.sent_log.is_empty() && b.rcvd_log.is_empty(), "the logs went with the report");
    assert_eq!(b.cut.as_ref().map(|t| t.received.contains_key(&NodeId(2))), Some(false), "truth: not before the cut");
}

#[test]
fn the_classic_mistake_delivers_the_red_message_before_recording() {
    let mut b = node(1, Form::Logs, true);
    let sent = sends(&on(&mut b, |s, c| s.on_message(NodeId(2), app(1, true, 0), c)));
    let Some((_, Coloured::Report(report))) = sent.first() else { panic!("{sent:?}") };
    assert_eq!(report.state, Toy { got: 1 }, "the red message is in the recorded state");
    assert_eq!(b.cut.as_ref().and_then(|t| t.received.get(&NodeId(2)).cloned()), Some([1].into()));
}

#[test]
fn the_collector_computes_the_channel_states_from_the_logs() {
    let report = |sent: &[(u32, &[u64])], rcvd: &[(u32, &[u64])]| Report {
        state: Toy { got: 0 },
        sent_log: sent.iter().map(|(j, s)| (NodeId(*j), s.iter().map(|&q| (q, Ping::Ping(q))).collect())).collect(),
        rcvd_log: rcvd.iter().map(|(j, s)| (NodeId(*j), s.iter().copied().collect())).collect(),
        white_sent: BTreeMap::new(),
        white_rcvd: BTreeMap::new(),
    };
    let mut a = node(0, Form::Logs, false);
    // 0 sent #1..#3 to 1, of which 1 received #1 and #3 (reordered): #2 is in transit.
    on(&mut a, |s, c| s.collect(NodeId(0), report(&[(1, &[1, 2, 3])], &[]), c));
    let boxed = |r| Coloured::Report(Box::new(r));
    on(&mut a, |s, c| s.on_message(NodeId(1), boxed(report(&[], &[(0, &[1, 3])])), c));
    assert!(a.states.is_empty(), "not before all n reports");
    let effects = on(&mut a, |s, c| s.on_message(NodeId(2), boxed(report(&[], &[])), c));
    assert_eq!(a.states.get(&NodeId(1)).and_then(|m| m.get(&NodeId(0))), Some(&vec![(2, Ping::Ping(2))]));
    assert_eq!(outputs(&effects, CHANNEL_STATE), vec![OutputValue::Int(1)]);
}

#[test]
fn with_counters_the_receiver_records_the_late_white_messages() {
    let mut b = node(1, Form::Counters, false);
    on(&mut b, |s, c| s.on_message(NodeId(0), app(1, false, 0), c));
    on(&mut b, |s, c| s.on_message(NodeId(2), Coloured::Take, c));
    on(&mut b, |s, c| s.on_message(NodeId(0), app(2, false, 0), c));
    on(&mut b, |s, c| s.on_message(NodeId(0), app(3, true, 0), c));
    assert_eq!(b.white_rcvd.get(&NodeId(0)), Some(&2));
    assert_eq!(b.late.get(&NodeId(0)), Some(&vec![(2, Ping::Ping(0))]), "white after red: in transit at the cut");
    assert!(b.sent_log.is_empty() && b.rcvd_log.is_empty(), "no logs");
}

/// Two nodes, 0 → 1: 0 sent `white` white messages then one red; 1 received `before`
/// ahead of its cut and the rest after; both reported to 0.
fn two(form: Form, white: u64, before: &[u64], fault: bool) -> Vec<ColourNode<Toy>> {
    let (mut a, mut b) = (node(0, form, false), node(1, form, fault));
    let mut wire = Vec::new();
    for k in 0..=white {
        if k == white {
            on_of(2, &mut a, |s, c| s.on_timer(INITIATE, c));
        }
        wire.extend(sends(&on_of(2, &mut a, |s, c| s.run_app(c, |_, c| c.send(NodeId(1), Ping::Ping(0))))));
    }
    let order: Vec<u64> = before.iter().copied().chain((1..=white + 1).filter(|s| !before.contains(s))).collect();
    for seq in order {
        let Some((_, m)) = wire.iter().find(|(_, m)| matches!(m, Coloured::App { seq: s, .. } if *s == seq)) else {
            panic!("#{seq} was sent")
        };
        let m = m.clone();
        let reports = sends(&on_of(2, &mut b, |s, c| s.on_message(NodeId(0), m, c)));
        for (_, r) in reports.into_iter().filter(|(_, r)| matches!(r, Coloured::Report(_))) {
            on_of(2, &mut a, |s, c| s.on_message(NodeId(1), r, c));
        }
    }
    vec![a, b]
}

#[test]
fn the_judge_accepts_both_forms_on_reordered_channels_and_catches_the_mistake() {
    for form in [Form::Logs, Form::Counters] {
        // #3 and #1 before 1's cut... but #4 is red: 1 records on it; #2 arrives after.
        let nodes = two(form, 3, &[3, 1, 4], false);
        let cut = cut_of(&nodes);
        assert_eq!(cut.consistent(), Ok(()), "{form:?}");
        let recorded: Vec<u64> =
            cut.parts[1].as_ref().map_or(vec![], |p| p.channels[&NodeId(0)].iter().map(|m| m.0).collect());
        assert_eq!(recorded, vec![2], "{form:?}: #2 was in transit");
        let broken = two(form, 1, &[2], true);
        let err = cut_of(&broken).consistent().expect_err("the red #2 is received before 1's cut");
        assert!(err.starts_with("C2: on 0 → 1, message #2"), "{form:?}: {err}");
    }
}

#[test]
fn an_incomplete_snapshot_says_what_is_missing() {
    let mut nodes = two(Form::Logs, 1, &[1, 2], false);
    nodes[0].collected.remove(&NodeId(1));
    assert_eq!(cut_of(&nodes).consistent(), Err("the collector, node 0, has no report from node 1".into()));
    nodes[1].cut = None;
    assert_eq!(cut_of(&nodes).consistent(), Err("node 1 never recorded its state".into()));
}

#[test]
fn with_counters_a_white_message_still_on_its_way_leaves_the_snapshot_unfinished() {
    let mut nodes = two(Form::Counters, 2, &[3, 1, 2], false);
    assert_eq!(cut_of(&nodes).consistent(), Ok(()));
    // As if #2, white and late, had not arrived yet: 2 white sent, 1 received.
    nodes[1].white_rcvd.insert(NodeId(0), 1);
    let err = cut_of(&nodes).consistent().expect_err("not final");
    assert_eq!(err, "on 0 → 1, 2 white message(s) sent and 1 received: the channel state is not final");
}
