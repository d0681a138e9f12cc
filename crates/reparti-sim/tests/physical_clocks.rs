//! Physical clocks in the simulator: drawn from the seed, read and corrected through the
//! context, judged by properties against the true time, traced, and replayed.

use reparti_core::trace::{read_trace, EventKind};
use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, ClockSetting, ClockTime, Context, Invariant, Message, NodeId, NodeSetup,
    ParamError, Params, Process, Properties, Timer,
};
use reparti_sim::{simulate, simulate_traced, ClockConfig, Fault, SimConfig, Spread};
use serde::{Deserialize, Serialize};

/// At time 10 every node steps its clock to `10 + error`: a perfect synchronizer when
/// `error` is 0 (it cheats: it is told real time), a broken one otherwise. At time 20 it
/// slews back by 4 over 2 units, which the clock stretches to 8 so as never to run back.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
struct Node {
    stepped: bool,
    read_at_start: ClockTime,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
enum Msg {
    Never,
}

struct Stepper;

impl Process for Node {
    type Msg = Msg;
    type Input = ();
    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        self.read_at_start = ctx.clock();
        ctx.set_timer("step", 10.0);
    }
    fn on_message(&mut self, _: NodeId, _: Msg, _: &mut Context<'_, Msg>) {}
    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        if timer == "step" {
            let error = if ctx.me().0 == 1 { ERROR.with(|e| *e.borrow()) } else { 0.0 };
            ctx.set_clock(ClockTime(10.0 + error));
            self.stepped = true;
            ctx.set_timer("slew", 10.0);
        } else {
            ctx.slew_clock(-4.0, 2.0);
        }
    }
}

thread_local! {
    static ERROR: std::cell::RefCell<f64> = const { std::cell::RefCell::new(0.0) };
}

impl Algorithm for Stepper {
    type Node = Node;
    fn spec() -> AlgorithmSpec {
        AlgorithmSpec { reads_physical_clock: true, ..AlgorithmSpec::new("stepper", Chapter::Time, "steps clocks") }
    }
    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(Stepper)
    }
    fn init(&self, _: &NodeSetup) -> Node {
        Node { stepped: false, read_at_start: ClockTime::ZERO }
    }
    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![Invariant::<Node>::global("a stepped clock shows real time until it slews", |w| {
                let time = w.time.ok_or("the simulator keeps physical clocks for this algorithm")?;
                for (i, node) in w.nodes.iter().enumerate() {
                    let off = time.offset(i);
                    if node.stepped && time.now < 20.0 && off.abs() > 1e-9 {
                        return Err(format!("node {i} is {off} off real time at {}", time.now));
                    }
                }
                Ok(())
            })],
            terminal: Vec::new(),
        }
    }
}

fn config(seed: u64) -> SimConfig {
    SimConfig {
        nodes: Some(3),
        seed,
        clocks: ClockConfig {
            offset: Spread::Uniform { min: -50.0, max: 50.0 },
            drift: Spread::Const { value: 1000.0 },
            given: vec![(2, ClockSetting { offset: 500.0, drift_ppm: 0.0 })],
        },
        ..SimConfig::default()
    }
}

#[test]
fn clocks_are_drawn_from_the_seed_read_at_start_and_corrected_by_a_step() {
    ERROR.with(|e| *e.borrow_mut() = 0.0);
    let (report, trace) = simulate_traced::<Stepper, _>(&config(4), Vec::new()).expect("runs");
    assert!(report.all_good(), "{report:?}");
    let trace = read_trace(&trace[..]).expect("a trace");
    assert_eq!(trace.header.physical_clocks.len(), 3);
    assert_eq!(trace.header.physical_clocks[2], ClockSetting { offset: 500.0, drift_ppm: 0.0 });
    let start_2 = trace.events.iter().find(|e| e.node == 2 && e.kind == EventKind::Start).expect("a start");
    assert_eq!(start_2.clock, Some(500.0), "the given clock reads its offset at time 0");
    let steps: Vec<_> = trace.events.iter().filter(|e| e.kind == EventKind::Clock).collect();
    assert_eq!(steps.len(), 6, "a step and a slew per node");
    let step_2 = steps.iter().find(|e| e.node == 2 && e.text.as_deref() == Some("step")).expect("node 2 steps");
    assert_eq!(step_2.adjust, Some(-500.0), "from 510 down to 10");
    assert_eq!(step_2.clock, Some(10.0));
    let slew = steps.iter().find(|e| e.text.as_deref() == Some("slew")).expect("a slew");
    assert_eq!(slew.over, Some(8.0), "stretched so the clock runs at least at half speed");
}

#[test]
fn a_clock_set_wrong_is_caught_by_the_property_against_true_time() {
    ERROR.with(|e| *e.borrow_mut() = 0.5);
    let report = simulate::<Stepper>(&config(4)).expect("runs");
    ERROR.with(|e| *e.borrow_mut() = 0.0);
    assert!(!report.all_good(), "node 1 is half a unit off: the property must say so");
}

#[test]
fn clocks_leave_the_other_random_choices_alone_and_the_trace_replays() {
    ERROR.with(|e| *e.borrow_mut() = 0.0);
    let mut cfg = config(9);
    cfg.network.delay = reparti_sim::Delay::Uniform { min: 1.0, max: 3.0 };
    cfg.faults =
        vec![Fault::LinkDelay { from: NodeId(0), to: NodeId(1), delay: reparti_sim::Delay::Const { value: 7.0 } }];
    let (report, bytes) = simulate_traced::<Stepper, _>(&cfg, Vec::new()).expect("runs");
    let trace = read_trace(&bytes[..]).expect("a trace");
    let replayed = reparti_sim::replay::<Stepper>(&trace).expect("replays");
    assert_eq!(replayed.report.all_good(), report.all_good());
    let other = ClockConfig { offset: Spread::Const { value: 3.0 }, ..cfg.clocks.clone() };
    let (_, bytes2) = simulate_traced::<Stepper, _>(&SimConfig { clocks: other, ..cfg }, Vec::new()).expect("runs");
    let t2 = read_trace(&bytes2[..]).expect("a trace");
    let times = |t: &reparti_core::trace::Trace| t.events.iter().map(|e| (e.t, e.node, e.kind)).collect::<Vec<_>>();
    assert_eq!(times(&trace), times(&t2), "other clocks, the same schedule");
}
