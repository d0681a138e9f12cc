//! One rule for a send to a node that does not exist, on a real network as in the
//! simulator and the checker: it counts as sent, it is dropped with the reason "no such
//! node" (counted, and traced as a drop), it is never transmitted and it stops nothing.

mod common;

use common::{instance, run_cluster};
use reparti_algos::testing::Stray;
use reparti_core::trace::EventKind;
use reparti_core::IdAssignment;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_counts_and_drops_a_send_to_a_node_outside_the_run() {
    let inst = instance::<Stray>(3, IdAssignment::Asc, 1);
    let reports = run_cluster(inst, None, |_| async {}).await;
    for r in &reports {
        assert_eq!(r.node.received, 1, "node {}: its predecessor's ping arrived", r.me);
        assert_eq!(r.sent_by_type, vec![2], "node {}: both pings count as sent", r.me);
        assert_eq!(r.dropped.no_such_node, 1, "node {}", r.me);
        assert_eq!(r.send_errors, 0, "node {}: not an error of the network", r.me);
        let trace = r.trace.as_ref().expect("traced");
        let drops: Vec<_> = trace.iter().filter(|e| e.kind == EventKind::Drop).collect();
        assert_eq!(drops.len(), 1, "node {}: {drops:?}", r.me);
        assert_eq!((drops[0].reason.as_deref(), drops[0].to), (Some("no such node"), Some(3)));
    }
}
