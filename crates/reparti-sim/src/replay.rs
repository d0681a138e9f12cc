//! Replaying a trace: the simulator follows a recorded schedule instead of its clock.
//!
//! Every receive, timer, input, loss, duplication and crash of the trace is applied in
//! the trace's order; sends and outputs are recomputed by the algorithm itself. A model
//! checker's counterexample replays to the same violation, and any simulation trace
//! replays to the same run, which is how a bug found one way is examined another.

use crate::engine::{Event, Simulation};
use crate::report::{Report, Stop};
use crate::{Delay, Fault, NetworkModel, SimConfig, SimError};
use reparti_core::trace::{EventKind, Trace};
use reparti_core::{Algorithm, IdAssignment};

/// The result of a replay.
pub struct Replayed {
    /// The run's report, as for a simulation.
    pub report: Report,
    /// Scheduling steps applied from the trace.
    pub steps: u64,
    /// The violation the trace ends with, if any.
    pub expected: Option<String>,
    /// The first violation the replay met, if any.
    pub reached: Option<String>,
}

impl Replayed {
    /// Whether the replay met the violation the trace ends with (same property).
    pub fn same_violation(&self) -> bool {
        let name = |s: &Option<String>| s.as_ref().map(|v| v.split(':').next().unwrap_or("").trim().to_string());
        name(&self.expected) == name(&self.reached)
    }
}

fn mismatch(i: u64, what: String) -> SimError {
    SimError::Fault(format!(
        "the trace does not replay: event {i}: {what} (was it written for another algorithm or parameters?)"
    ))
}

/// Replays `trace` with algorithm `A` (the caller picks `A` from the trace's header).
pub fn replay<A: Algorithm>(trace: &Trace) -> Result<Replayed, SimError> {
    let h = &trace.header;
    if h.algorithm != A::spec().name {
        return Err(SimError::Fault(format!("the trace is of {}, not {}", h.algorithm, A::spec().name)));
    }
    let topology = h.topology.parse().map_err(|e| SimError::Setup(reparti_core::SetupError::Topology(e)))?;
    let cfg = SimConfig {
        nodes: Some(h.nodes),
        topology: Some(topology),
        ids: IdAssignment::List(h.idents.clone()),
        seed: h.seed,
        params: h.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        // The trace records every input with its payload: replay those, not a workload
        // drawn again (the draws depend on how identities were assigned).
        no_workload: true,
        ports: h.ports.clone(),
        // The delays the run had matter only to what properties read of them (the least
        // delay of a channel, in clock-synchronization bounds): a simulation's own, and
        // none known (0) for a real network's.
        network: NetworkModel { delay: recorded_delay(h), ..NetworkModel::default() },
        faults: recorded_link_delays(h),
        // The clocks the run had, every one given: nothing drawn again.
        clocks: crate::clocks::ClockConfig {
            given: h.physical_clocks.iter().enumerate().map(|(i, s)| (i as u32, *s)).collect(),
            ..Default::default()
        },
        ..SimConfig::default()
    };
    let mut sim = Simulation::<A>::new(&cfg)?;
    let mut steps = 0u64;
    for e in &trace.events {
        if sim.stop.is_some() {
            break;
        }
        sim.now = e.t;
        sim.real_override = e.real;
        let node = e.node;
        let event = match e.kind {
            EventKind::Start => sim.queue.remove_first(|q| matches!(q, Event::Start { node: n } if *n == node)),
            EventKind::Receive => {
                let id = e.msg.ok_or_else(|| mismatch(e.i, "a receive without a message id".into()))?;
                sim.queue.remove_first(|q| matches!(q, Event::Deliver(env) if env.id == id && env.to == node))
            }
            EventKind::Timer => {
                let name = e.timer.clone().unwrap_or_default();
                let timers = &sim.timers;
                sim.queue.remove_first(|q| match q {
                    Event::Timer { node: n, timer, generation } => {
                        *n == node
                            && *timer == name
                            && timers.get(node as usize).and_then(|t| t.get(timer)) == Some(generation)
                    }
                    _ => false,
                })
            }
            EventKind::Input => {
                let payload = e.payload.clone().ok_or_else(|| mismatch(e.i, "an input without its payload".into()))?;
                let input = serde_json::from_value(payload)
                    .map_err(|err| mismatch(e.i, format!("the input is not one of {}: {err}", h.algorithm)))?;
                Some(crate::queue::Queued { time: e.t, seq: 0, event: Event::Input { node, input } })
            }
            EventKind::Crash => Some(crate::queue::Queued { time: e.t, seq: 0, event: Event::Crash { node } }),
            // The replayed handler's own send already dropped it, as the recorded run did.
            EventKind::Drop if e.reason.as_deref() == Some(reparti_core::host::NO_SUCH_NODE) => continue,
            EventKind::Drop | EventKind::Duplicate => {
                let id = e.msg.ok_or_else(|| mismatch(e.i, "a drop without a message id".into()))?;
                let Some(q) = sim.queue.remove_first(|q| matches!(q, Event::Deliver(env) if env.id == id)) else {
                    return Err(mismatch(e.i, format!("message {id} is not in flight")));
                };
                let Event::Deliver(env) = q.event else { continue };
                if e.kind == EventKind::Drop {
                    sim.checks.message_removed(&env.msg);
                    sim.dropped += 1;
                    sim.trace_drop(&env, e.reason.as_deref().unwrap_or("loss"));
                } else {
                    sim.duplicated += 1;
                    sim.checks.message_added(&env.msg);
                    sim.queue.push(e.t, Event::Deliver(env.clone()));
                    sim.queue.push(e.t, Event::Deliver(env));
                }
                steps += 1;
                sim.after_event();
                continue;
            }
            EventKind::Send | EventKind::Output | EventKind::Log | EventKind::Local | EventKind::Clock => continue,
        };
        let Some(q) = event else {
            return Err(mismatch(e.i, format!("no pending {:?} at node {node} matches", e.kind)));
        };
        steps += 1;
        if sim.handle(q.event) {
            sim.after_event();
        }
    }
    let done = sim.stop.is_none()
        && !sim.queue.iter().any(|q| match q {
            Event::Deliver(env) => !sim.crashed[env.to as usize],
            Event::Input { .. } => false,
            Event::Timer { node, timer, generation } => sim.timers[*node as usize].get(timer) == Some(generation),
            Event::Start { .. } | Event::Crash { .. } => true,
        });
    if done {
        sim.finish_quiescent();
    } else if sim.stop.is_none() {
        sim.stop = Some(Stop::Events);
    }
    let expected = trace.end.as_ref().and_then(|end| end.violation.clone());
    let (report, _) = sim.finish()?;
    let reached = report
        .properties
        .iter()
        .filter(|p| p.holds == Some(false))
        .min_by_key(|p| p.first_violation.unwrap_or(u64::MAX))
        .map(|p| format!("{}: {}", p.name, p.detail.clone().unwrap_or_default()));
    Ok(Replayed { report, steps, expected, reached })
}

/// The delay model a trace's header records: a simulation's, or none known (0) for a
/// real run's, whose least delay nobody knows.
fn recorded_delay(h: &reparti_core::trace::TraceHeader) -> Delay {
    let recorded = (h.engine == "sim" || h.engine == "check")
        .then(|| serde_json::from_value::<Delay>(h.network["model"]["delay"].clone()).ok())
        .flatten();
    recorded.unwrap_or(Delay::Const { value: 0.0 })
}

/// The channels with their own delay in a simulation's header (the other faults are in
/// the trace as events, and replay as such).
fn recorded_link_delays(h: &reparti_core::trace::TraceHeader) -> Vec<Fault> {
    let faults = serde_json::from_value::<Vec<Fault>>(h.network["faults"].clone()).unwrap_or_default();
    faults.into_iter().filter(|f| matches!(f, Fault::LinkDelay { .. })).collect()
}
