//! Shared by the runtime tests: whole clusters of nodes as tasks of one tokio runtime.
#![allow(dead_code)]

use reparti_core::{Algorithm, IdAssignment, Instance, NodeId, NodeSetup, TopologyKind};
use reparti_net::runtime::{run_node_on, Control, NodeConfig, NodeReport};
use reparti_net::secure::Key;
use reparti_net::transport::{Faults, Transport};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Bound on any one test: a 5-node loopback run takes milliseconds plus the idle stop.
pub const LIMIT: Duration = Duration::from_secs(20);

/// How long a node of a test cluster waits with nothing to do before it stops. Generous,
/// so that a node starved of CPU on a loaded machine (every test of the file runs its own
/// cluster at once) is not taken for a finished one while the token is elsewhere.
pub const IDLE: Duration = Duration::from_millis(1500);

pub fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// An instance as every engine makes it: ring topology, identities, workload.
pub fn instance<A: Algorithm>(n: usize, ids: IdAssignment, seed: u64) -> Instance<A> {
    Instance::<A>::new(&[], Some(&TopologyKind::Ring), n, &ids, seed).expect("a valid instance")
}

/// Binds every node's socket, lets `inject` send stray datagrams to the bound addresses,
/// then runs every node as a task (with its share of the workload queued as inputs) and
/// returns the reports in node order.
pub async fn run_cluster<A: Algorithm, F: Future<Output = ()>>(
    inst: Instance<A>,
    key: Option<Key>,
    inject: impl FnOnce(Vec<SocketAddr>) -> F,
) -> Vec<NodeReport<A>> {
    run_cluster_with(inst, key, inject, |_| {}).await
}

/// [`run_cluster`], with each node's configuration adjusted by `configure` (transport,
/// faults, reliable layer).
pub async fn run_cluster_with<A: Algorithm, F: Future<Output = ()>>(
    inst: Instance<A>,
    key: Option<Key>,
    inject: impl FnOnce(Vec<SocketAddr>) -> F,
    configure: impl Fn(&mut NodeConfig),
) -> Vec<NodeReport<A>> {
    let n = inst.topology.len();
    let mut probe = NodeConfig::new(NodeId(0), Vec::new());
    configure(&mut probe);
    let mut sockets = Vec::with_capacity(n);
    for i in 0..n {
        let faults = Faults { seed: i as u64, ..probe.faults.clone() };
        sockets.push(Transport::bind(probe.transport, loopback(), faults).await.expect("bind a loopback port"));
    }
    let addrs: Vec<SocketAddr> = sockets.iter().map(Transport::local_addr).collect();
    inject(addrs.clone()).await;

    let alg = Arc::new(inst.algorithm);
    let topology = Arc::new(inst.topology);
    // Every node's share of the workload is queued before any node starts: a node that
    // started first could otherwise pass the token on, lap after lap, before a slower
    // task's inputs were even sent (as happened on a loaded machine). The runtime prefers
    // queued inputs to datagrams, as the simulator applies time-0 inputs first.
    let channels: Vec<_> = (0..n).map(|_| mpsc::channel(1024)).collect();
    for w in inst.workload {
        channels[w.node.index()].0.try_send(Control::Input(w.input)).expect("the workload fits the channel");
    }
    let mut tasks = JoinSet::new();
    for (i, (socket, (tx, rx))) in sockets.into_iter().zip(channels).enumerate() {
        // The sender goes with it: the node sees its control channel close once it has
        // read the workload, as when a console ends.
        drop(tx);
        let mut cfg = NodeConfig::new(NodeId(i as u32), addrs.clone());
        cfg.key = key.clone();
        cfg.idle_stop = IDLE;
        cfg.trace = true;
        configure(&mut cfg);
        let setup = NodeSetup::new(NodeId(i as u32), inst.idents[i], n);
        let (alg, topology) = (Arc::clone(&alg), Arc::clone(&topology));
        tasks.spawn(async move { run_node_on(socket, &*alg, setup, &topology, cfg, rx).await });
    }

    let mut reports: Vec<NodeReport<A>> = Vec::with_capacity(n);
    let joined = tokio::time::timeout(LIMIT, async {
        while let Some(done) = tasks.join_next().await {
            reports.push(done.expect("node task did not panic").expect("node ran"));
        }
    })
    .await;
    if joined.is_err() {
        // Dropping the set aborts the remaining tasks, which closes their sockets.
        tasks.abort_all();
        panic!("the cluster did not stop within {LIMIT:?}");
    }
    reports.sort_by_key(|r| r.me);
    reports
}
