use super::*;
use crate::memory::sequencer::{self, TobSequencer};
use reparti_core::{Algorithm, Effect, NodeSetup, TopologyKind};

/// Runs `f` on `r` with a context, through a sequencer node that carries it.
fn ctx_run(
    f: impl FnOnce(&mut Replica, &mut Context<'_, sequencer::Msg>) -> Started,
    r: &mut Replica,
) -> (Started, Vec<Effect<sequencer::Msg>>) {
    let mut node = nodes(&[&[], &[], &[]]).swap_remove(r.me.index());
    node.replica = r.clone();
    let mut out = None;
    let eff = crate::handler_harness::run(&mut node, TopologyKind::Complete, r.me, 3, |s, c| {
        out = Some(f(&mut s.replica, c))
    });
    *r = node.replica;
    (out.expect("the handler ran"), eff)
}

fn write(key: u32, value: i64) -> Operation {
    Operation::Write { key, value }
}

#[test]
fn local_reads_answer_from_the_replica_and_broadcast_nothing() {
    let mut r = Replica::new(NodeId(1), ReadMode::Local);
    r.copies.insert(0, 7);
    let (started, eff) = ctx_run(|r, c| r.start(Operation::Read { key: 0 }, c), &mut r);
    assert_eq!(started, Started::Answered(Reply::Value(Some(7))));
    assert!(eff.is_empty(), "no broadcast output: {eff:?}");
    assert_eq!((r.issued, r.awaiting), (0, None));
}

#[test]
fn writes_and_ordered_reads_are_broadcast_under_fresh_ids() {
    let mut r = Replica::new(NodeId(2), ReadMode::Ordered);
    let (started, eff) = ctx_run(|r, c| r.start(write(0, 5), c), &mut r);
    let first = UpdateId { origin: NodeId(2), num: 0 };
    assert_eq!(started, Started::Broadcast(Update { id: first, op: write(0, 5) }));
    assert_eq!(crate::handler_harness::outputs(&eff, BROADCAST), vec![OutputValue::Int(2)]);
    assert!(r.copies.is_empty(), "nothing applied before delivery");
    let (started, _) = ctx_run(|r, c| r.start(Operation::Read { key: 0 }, c), &mut r);
    let second = UpdateId { origin: NodeId(2), num: 1 };
    assert_eq!(started, Started::Broadcast(Update { id: second, op: Operation::Read { key: 0 } }));
    assert_eq!((r.issued, r.awaiting), (2, Some(second)));
}

#[test]
fn delivery_applies_logs_and_answers_only_the_awaited_update() {
    let mut r = Replica::new(NodeId(0), ReadMode::Ordered);
    r.awaiting = Some(UpdateId { origin: NodeId(0), num: 0 });
    let other = Update { id: UpdateId { origin: NodeId(1), num: 0 }, op: write(0, 3) };
    assert_eq!(r.deliver(&other), None);
    // A compare-and-set is decided by the value at delivery.
    let mine = Update { id: UpdateId { origin: NodeId(0), num: 0 }, op: Operation::Cas { key: 0, from: 2, to: 9 } };
    assert_eq!(r.deliver(&mine), Some(Reply::Refused));
    assert_eq!(r.copies.get(&0), Some(&3));
    assert_eq!(r.awaiting, None);
    let cas = Update { id: UpdateId { origin: NodeId(1), num: 1 }, op: Operation::Cas { key: 0, from: 3, to: 9 } };
    assert_eq!(r.deliver(&cas), None);
    assert_eq!(r.copies.get(&0), Some(&9));
    assert_eq!(r.delivered, vec![other.id, mine.id, cas.id]);
    // An ordered read leaves the register as it was.
    let read = Update { id: UpdateId { origin: NodeId(2), num: 0 }, op: Operation::Read { key: 4 } };
    r.deliver(&read);
    assert!(!r.copies.contains_key(&4));
}

fn nodes(logs: &[&[UpdateId]]) -> Vec<sequencer::Node> {
    let a = TobSequencer::from_params(
        &Params::resolve("tob-sequencer", TobSequencer::spec().params, &[]).expect("defaults"),
    )
    .expect("defaults");
    logs.iter()
        .enumerate()
        .map(|(i, log)| {
            let mut node = a.init(&NodeSetup::new(NodeId(i as u32), i as u64 + 1, logs.len()));
            node.replica.delivered = log.to_vec();
            node.replica.chain = log
                .iter()
                .scan(0, |digest, &id| {
                    *digest = chain_digest(*digest, id);
                    Some(*digest)
                })
                .collect();
            node
        })
        .collect()
}

fn judge<N: TobNode>(check: &dyn Fn(&World<'_, N>) -> Result<(), String>, ns: &[N]) -> Result<(), String> {
    let no_flight = |_: &mut dyn FnMut(NodeId, NodeId, &N::Msg)| {};
    let idents: Vec<u64> = (1..=ns.len() as u64).collect();
    let crashed = vec![false; ns.len()];
    check(&World { nodes: ns, idents: &idents, crashed: &crashed, in_flight: &no_flight, time: None })
}

#[test]
fn the_invariant_accepts_prefixes_and_names_the_first_divergence() {
    let id = |o, num| UpdateId { origin: NodeId(o), num };
    let Invariant::Global { check, .. } = same_sequence::<sequencer::Node>() else { panic!("a global invariant") };
    let (a, b, c) = (id(0, 0), id(1, 0), id(2, 0));
    assert_eq!(judge(&*check, &nodes(&[&[a, b, c], &[a], &[], &[a, b]])), Ok(()));
    let err = judge(&*check, &nodes(&[&[a, b, c], &[a, c]])).unwrap_err();
    assert!(err.contains("delivery 2") && err.contains("node 1 delivered (2, 0)"), "{err}");
    assert!(err.contains("node 0 delivered (1, 0)"), "{err}");
    assert_eq!(first_divergence(&[a, b], &[a, b, c]), None);
}

#[test]
fn at_quiescence_every_replica_has_everything() {
    let id = |o, num| UpdateId { origin: NodeId(o), num };
    let check = all_delivered::<sequencer::Node>().check;
    assert_eq!(judge(&*check, &nodes(&[&[id(0, 0)], &[id(0, 0)]])), Ok(()));
    let err = judge(&*check, &nodes(&[&[id(0, 0)], &[]])).unwrap_err();
    assert!(err.contains("node 1 delivered 0 updates"), "{err}");
}

#[test]
fn the_read_parameter_picks_the_history_property() {
    let resolve = |v: &str| {
        Params::resolve("tob", &[READ_PARAM], &[("read".to_string(), v.to_string())]).map(|p| ReadMode::from_params(&p))
    };
    assert_eq!(resolve("local"), Ok(Ok(ReadMode::Local)));
    assert_eq!(ReadMode::Local.history_properties()[0].name, crate::memory::SEQUENTIAL);
    assert_eq!(ReadMode::Ordered.history_properties()[0].name, crate::memory::LINEARIZABLE);
    let err = resolve("sometimes").unwrap_err().to_string();
    assert!(err.contains("read=sometimes") && err.contains("ordered, local"), "{err}");
}
