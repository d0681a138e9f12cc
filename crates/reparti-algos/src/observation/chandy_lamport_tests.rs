//! The layer's handlers on a toy application that forwards a number round a complete
//! graph, and the consistency judge on hand-built cuts.

use super::*;
use crate::handler_harness::{run, sends};
use reparti_core::{Message, TopologyKind};

/// The toy application: counts what it received; a message `Ping(k)` with k > 0 is
/// forwarded to the next node as `Ping(k − 1)`.
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

fn node(me: u32, initiator: bool) -> SnapshotNode<Toy> {
    SnapshotNode {
        app: Toy { got: 0 },
        me: NodeId(me),
        initiator,
        at_millis: 0,
        channel_states: true,
        sent: BTreeMap::new(),
        received: BTreeMap::new(),
        recorded: None,
        out: BTreeSet::new(),
    }
}

const N: usize = 3;

fn on(
    n: &mut SnapshotNode<Toy>,
    f: impl FnOnce(&mut SnapshotNode<Toy>, &mut Ctx<'_, Toy>),
) -> Vec<(NodeId, Marked<Ping>)> {
    let me = n.me;
    sends(&run(n, TopologyKind::Complete, me, N, f))
}

#[test]
fn recording_sends_a_marker_on_every_out_channel_once() {
    let mut a = node(0, true);
    on(&mut a, |s, c| s.on_start(c));
    assert_eq!(a.out, [NodeId(1), NodeId(2)].into());
    let sent = on(&mut a, |s, c| s.on_timer(INITIATE, c));
    assert_eq!(sent, vec![(NodeId(1), Marked::Marker), (NodeId(2), Marked::Marker)]);
    assert!(a.recorded.is_some());
    assert!(on(&mut a, |s, c| s.on_message(NodeId(1), Marked::Marker, c)).is_empty(), "recorded once");
}

#[test]
fn application_messages_are_numbered_per_channel_and_delivered_unchanged() {
    let mut b = node(1, false);
    on(&mut b, |s, c| s.on_start(c));
    let sent = on(&mut b, |s, c| s.on_message(NodeId(0), Marked::App { seq: 1, msg: Ping::Ping(2) }, c));
    assert_eq!(sent, vec![(NodeId(2), Marked::App { seq: 1, msg: Ping::Ping(1) })]);
    let sent = on(&mut b, |s, c| s.on_message(NodeId(0), Marked::App { seq: 2, msg: Ping::Ping(1) }, c));
    assert_eq!(sent, vec![(NodeId(2), Marked::App { seq: 2, msg: Ping::Ping(0) })], "the channel's second");
    assert_eq!(b.app.got, 2);
    assert_eq!(b.received.get(&NodeId(0)), Some(&2));
}

#[test]
fn a_channel_records_from_the_cut_until_its_marker() {
    let mut b = node(1, false);
    on(&mut b, |s, c| s.on_start(c));
    // The first marker, from 0: record, and 0's channel is closed at once (empty).
    on(&mut b, |s, c| s.on_message(NodeId(0), Marked::Marker, c));
    // Node 2's message arrives before 2's marker: in the channel state, and delivered.
    on(&mut b, |s, c| s.on_message(NodeId(2), Marked::App { seq: 1, msg: Ping::Ping(0) }, c));
    on(&mut b, |s, c| s.on_message(NodeId(2), Marked::Marker, c));
    // After the marker nothing more is recorded on that channel.
    on(&mut b, |s, c| s.on_message(NodeId(2), Marked::App { seq: 2, msg: Ping::Ping(0) }, c));
    let r = b.recorded.as_ref().expect("recorded");
    assert_eq!(r.channels.get(&NodeId(2)), Some(&vec![(1, Ping::Ping(0))]));
    assert_eq!(r.channels.get(&NodeId(0)), None);
    assert_eq!(r.closed, [NodeId(0), NodeId(2)].into());
    assert_eq!(r.state, Toy { got: 0 }, "the state at the cut, before the later deliveries");
    assert_eq!(b.app.got, 2, "the application went on");
}

/// Three nodes that recorded with the given counts: `sent[i][j]` before i's cut,
/// `received[j][i]` before j's, and the channel states.
fn cut(counts: &[(u32, u32, u64, u64)], states: &[(u32, u32, &[u64])]) -> Vec<SnapshotNode<Toy>> {
    let mut nodes: Vec<SnapshotNode<Toy>> = (0..N as u32).map(|i| node(i, false)).collect();
    for n in &mut nodes {
        n.recorded = Some(Recorded {
            state: Toy { got: 0 },
            sent: BTreeMap::new(),
            received: BTreeMap::new(),
            channels: BTreeMap::new(),
            closed: BTreeSet::new(),
        });
    }
    for &(from, to, sent, received) in counts {
        let (f, t) = (from as usize, to as usize);
        nodes[f].sent.insert(NodeId(to), sent.max(received));
        nodes[t].received.insert(NodeId(from), sent.max(received));
        nodes[f].recorded.as_mut().map(|r| r.sent.insert(NodeId(to), sent));
        nodes[t].recorded.as_mut().map(|r| r.received.insert(NodeId(from), received));
    }
    for &(from, to, seqs) in states {
        let channel = seqs.iter().map(|&s| (s, Ping::Ping(0))).collect();
        nodes[to as usize].recorded.as_mut().map(|r| r.channels.insert(NodeId(from), channel));
    }
    nodes
}

#[test]
fn the_judge_accepts_a_consistent_cut_and_names_what_breaks_c1_or_c2() {
    // 0 → 1: 3 sent before 0's cut, 1 received before 1's: #2 and #3 in transit.
    assert_eq!(consistent(&cut(&[(0, 1, 3, 1)], &[(0, 1, &[2, 3])])), Ok(()));
    let lost = consistent(&cut(&[(0, 1, 3, 1)], &[(0, 1, &[2])])).expect_err("#3 nowhere");
    assert!(lost.starts_with("C1") && lost.contains("[3]"), "{lost}");
    let orphan = consistent(&cut(&[(0, 1, 1, 2)], &[])).expect_err("received before being sent");
    assert!(orphan.starts_with("C2"), "{orphan}");
    let extra = consistent(&cut(&[(0, 1, 1, 1)], &[(0, 1, &[2])])).expect_err("sent after the cut, recorded");
    assert!(extra.starts_with("C2"), "{extra}");
    let mut unrecorded = cut(&[], &[]);
    unrecorded[2].recorded = None;
    unrecorded[0].sent.insert(NodeId(2), 1);
    assert!(consistent(&unrecorded).expect_err("node 2 never recorded").contains("node 2 never recorded"));
}
