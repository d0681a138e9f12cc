//! Replaying a trace: the simulator follows a recorded schedule instead of its clock.
//!
//! Every receive, timer, input, loss, duplication and crash of the trace is applied in
//! the trace's order; sends and outputs are recomputed by the algorithm itself. A model
//! checker's counterexample replays to the same violation, and any simulation trace
//! replays to the same run, which is how a bug found one way is examined another.

use crate::engine::{Event, Simulation};
use crate::report::{Report, Stop};
use crate::{SimConfig, SimError};
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
        ..SimConfig::default()
    };
    let mut sim = Simulation::<A>::new(&cfg)?;
    let mut steps = 0u64;
    for e in &trace.events {
        if sim.stop.is_some() {
            break;
        }
        sim.now = e.t;
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
            EventKind::Send | EventKind::Output | EventKind::Log | EventKind::Local => continue,
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
