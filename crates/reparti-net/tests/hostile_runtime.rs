//! The runtime against hostile datagrams, with whole clusters as tasks of one tokio
//! runtime: traffic of another run, a TCP connection that changes its sender, and junk
//! that must neither fill the trace nor reach the algorithm.

use reparti_algos::election::chang_roberts::Msg;
use reparti_algos::election::ChangRoberts;
use reparti_core::trace::EventKind;
use reparti_core::{IdAssignment, NodeId};
use reparti_net::runtime::{NodeReport, REFUSALS_IN_FULL};
use reparti_net::secure::{seal, Key};
use reparti_net::transport::TransportKind;
use reparti_net::wire::{encode_ack_with_run, encode_with_run, Ack, Envelope, RunId, Wire};
use std::net::SocketAddr;
use tokio::io::AsyncWriteExt;

mod common;
use common::{instance, loopback, run_cluster_with};

/// Every node outputs the largest identity once: the forged traffic changed nothing.
fn elected_the_max(idents: &[u64], reports: &[NodeReport<ChangRoberts>]) {
    let max = *idents.iter().max().expect("nodes");
    for r in reports {
        assert_eq!(r.node.leader(), Some(max), "node {}", r.me);
        assert_eq!(r.outputs_of("leader").count(), 1);
    }
}

fn elect(from: u32, to: u32, id: u64) -> Envelope<Msg> {
    Envelope { from: NodeId(from), to: NodeId(to), lamport: 1, vc: None, seq: Some(1), body: Msg::Elect(id) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datagrams_of_another_run_or_of_none_are_dropped_as_such() {
    let key = Key::generate();
    let ours = RunId::new("this-run").expect("valid");
    let inst = instance::<ChangRoberts>(5, IdAssignment::Desc, 1);
    let idents = inst.idents.clone();
    let k = key.clone();
    let inject = |addrs: Vec<SocketAddr>| async move {
        let stray = tokio::net::UdpSocket::bind(loopback()).await.expect("bind");
        let other = RunId::new("an-older-run").expect("valid");
        let sealed = |bytes: Vec<u8>| seal(&k, &bytes);
        let datagrams = [
            sealed(encode_with_run(&elect(1, 2, 1000), Wire::Json, Some(&other)).expect("encodes")),
            sealed(encode_with_run(&elect(1, 2, 1000), Wire::Binary, None).expect("encodes")),
            sealed(encode_ack_with_run(&Ack { from: NodeId(1), to: NodeId(2), upto: 9 }, Wire::Json, Some(&other))),
        ];
        for d in &datagrams {
            stray.send_to(d, addrs[2]).await.expect("send on loopback");
        }
    };
    let run_id = ours.clone();
    let reports = run_cluster_with(inst, Some(key), inject, move |cfg| {
        cfg.run_id = Some(run_id.clone());
        cfg.reliable = Some(Default::default());
    })
    .await;
    elected_the_max(&idents, &reports);
    assert_eq!(reports[2].dropped.another_run, 3, "two messages and an acknowledgement");
    assert_eq!(reports[2].dropped.total(), 3);
    assert!(reports.iter().enumerate().all(|(i, r)| i == 2 || r.dropped.total() == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_connection_speaks_for_one_node_only() {
    let inst = instance::<ChangRoberts>(4, IdAssignment::Desc, 1);
    let idents = inst.idents.clone();
    let inject = |addrs: Vec<SocketAddr>| async move {
        let mut conn = tokio::net::TcpStream::connect(addrs[2]).await.expect("connect");
        // Harmless acknowledgements (the reliable layer is off): the first binds the
        // connection to node 1, the second claims node 3 on it.
        for from in [1, 3] {
            let ack = encode_ack_with_run(&Ack { from: NodeId(from), to: NodeId(2), upto: 0 }, Wire::Json, None);
            let mut frame = (ack.len() as u32).to_be_bytes().to_vec();
            frame.extend_from_slice(&ack);
            conn.write_all(&frame).await.expect("write");
        }
        // Kept open until the frames are read: dropped with the task that owns it.
        tokio::spawn(async move {
            let _keep = conn;
            tokio::time::sleep(common::LIMIT).await;
        });
    };
    let reports = run_cluster_with(inst, None, inject, |cfg| cfg.transport = TransportKind::Tcp).await;
    elected_the_max(&idents, &reports);
    assert_eq!(reports[2].dropped.wrong_source, 1, "{:?}", reports[2].dropped);
    assert_eq!(reports[2].dropped.total(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_is_counted_in_full_but_traced_only_for_the_first_few() {
    const JUNK: usize = 300;
    let inst = instance::<ChangRoberts>(3, IdAssignment::Desc, 1);
    let idents = inst.idents.clone();
    let inject = |addrs: Vec<SocketAddr>| async move {
        let stray = tokio::net::UdpSocket::bind(loopback()).await.expect("bind");
        for k in 0..JUNK {
            stray.send_to(format!("junk {k}").as_bytes(), addrs[0]).await.expect("send on loopback");
        }
    };
    // Reliable layer on: 300 junk datagrams can overflow node 0's socket buffer on a
    // loaded machine, and a real ELECT lost there must be sent again, not awaited for ever.
    let reports = run_cluster_with(inst, None, inject, |cfg| cfg.reliable = Some(Default::default())).await;
    elected_the_max(&idents, &reports);
    let refused = reports[0].dropped.wire;
    assert!(refused > u64::from(REFUSALS_IN_FULL), "{refused} of {JUNK} reached the node");
    let trace = reports[0].trace.as_ref().expect("traced in memory");
    let drops = trace.iter().filter(|e| e.kind == EventKind::Drop).count();
    assert_eq!(drops, REFUSALS_IN_FULL as usize);
    let last = trace.last().expect("events");
    assert_eq!(last.kind, EventKind::Log);
    let more = refused - u64::from(REFUSALS_IN_FULL);
    assert!(last.text.as_deref().is_some_and(|t| t.contains(&format!("refused {more} more"))), "{last:?}");
    assert!(trace.iter().enumerate().all(|(i, e)| e.i == i as u64), "events numbered in order");
}
