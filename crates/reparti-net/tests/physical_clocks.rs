//! Physical clocks on real nodes: the OS monotonic clock, measured from the run's epoch,
//! plus each node's injected offset and drift — what a clock-synchronization algorithm
//! has to correct on one machine.

mod common;

use common::{instance, run_cluster_with};
use reparti_core::trace::EventKind;
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, ClockSetting, ClockTime, Context, IdAssignment, Message, NodeId, NodeSetup,
    ParamError, Params, Process, Properties,
};
use serde::{Deserialize, Serialize};

/// Node 0 sends its clock reading to node 1, which outputs how far ahead its own clock
/// reads when the message arrives, then steps its clock forward by 1.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct Node;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
enum Msg {
    Reading(ClockTime),
}

struct Ahead;

impl Process for Node {
    type Msg = Msg;
    type Input = ();
    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if ctx.me().0 == 0 {
            let now = ctx.clock();
            ctx.send(NodeId(1), Msg::Reading(now));
        }
    }
    fn on_message(&mut self, _: NodeId, Msg::Reading(theirs): Msg, ctx: &mut Context<'_, Msg>) {
        let ahead = ctx.clock() - theirs;
        ctx.output("ahead_ms", ahead.round() as i64);
        ctx.adjust_clock(1.0);
    }
}

impl Algorithm for Ahead {
    type Node = Node;
    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            reads_physical_clock: true,
            topologies: &["ring"],
            ..AlgorithmSpec::new("ahead", Chapter::Time, "reads clocks")
        }
    }
    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(Ahead)
    }
    fn init(&self, _: &NodeSetup) -> Node {
        Node
    }
    fn properties(&self) -> Properties<Node> {
        Properties::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reads_the_monotonic_clock_plus_its_injected_offset_and_drift() {
    let settings = vec![ClockSetting { offset: 0.0, drift_ppm: 0.0 }, ClockSetting { offset: 500.0, drift_ppm: 200.0 }];
    let epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs_f64()
        * 1e3
        - 250.0;
    let given = settings.clone();
    let reports = run_cluster_with(
        instance::<Ahead>(2, IdAssignment::Asc, 1),
        None,
        |_| async {},
        move |cfg| {
            cfg.physical_clocks = given.clone();
            cfg.clock_epoch_unix_ms = Some(epoch);
        },
    )
    .await;
    for (i, r) in reports.iter().enumerate() {
        let trace = r.trace.as_ref().expect("a trace");
        let mut last_real = f64::NEG_INFINITY;
        let mut correction = 0.0;
        for e in trace {
            let real = e.real.expect("every event of a physical-clock algorithm carries real time");
            assert!(real >= last_real, "real time never goes back on one node");
            assert!(real >= 250.0, "measured from an epoch 250 ms before the run: {real}");
            last_real = real;
            if e.kind == EventKind::Clock {
                correction += e.adjust.expect("a correction says by how much");
            }
            // The events a handler made carry the clock after all its corrections; the
            // event that triggered it, the clock before.
            if !matches!(e.kind, EventKind::Start | EventKind::Receive) {
                continue;
            }
            let s = settings[i];
            let hardware = real * (1.0 + s.drift_ppm * 1e-6) + s.offset;
            let clock = e.clock.expect("and the reading");
            assert!((clock - hardware - correction).abs() < 1e-6, "node {i}: {clock} is not {hardware} + {correction}");
        }
    }
    let ahead = reports[1].outputs.iter().find(|(k, _)| *k == "ahead_ms").map(|(_, v)| v.clone());
    let Some(reparti_core::OutputValue::Int(ahead)) = ahead else { panic!("node 1 said how far ahead it reads") };
    // 500 ms of offset, plus the message's real delay and 200 ppm of a fraction of a
    // second: a positive number of ms above 500, however loaded the machine.
    assert!(ahead >= 500, "node 1's clock reads {ahead} ms ahead of node 0's at the send");
}
