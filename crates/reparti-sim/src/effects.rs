//! How a handler's effects enter the simulation ([`EffectSink`]), and the trace events
//! the engine writes for them: sends into the network model and the event queue, timers
//! into the queue with a generation, outputs, logs and clock corrections into the report
//! and the trace.

use super::{Envelope, Event, Msg, Simulation};
use crate::tracer::Tracer;
use reparti_core::trace::{EventKind, TraceEvent};
use reparti_core::{Algorithm, ClockAt, ClockChange, EffectSink, Message, NodeId, OutputValue, Sent, Timer};
use std::io::Write;

impl<A: Algorithm, W: Write> Simulation<A, W> {
    pub(crate) fn trace_simple(&mut self, node: u32, kind: EventKind, fill: impl FnOnce(&mut TraceEvent)) {
        if self.tracer.is_none() {
            return;
        }
        let mut e = Tracer::<W>::event(self.now, node, kind, self.books[node as usize].lamport, self.vector_of(node));
        e.clock = self.clock_reading(node);
        fill(&mut e);
        if let Some(t) = &mut self.tracer {
            t.emit(e);
        }
    }

    /// Traces the loss of `env`, at its receiver — or at its sender when there is no
    /// such receiver, so that every event of a trace is at a node of the run.
    pub(crate) fn trace_drop(&mut self, env: &Envelope<Msg<A>>, reason: &str) {
        if let Some(t) = &mut self.tracer {
            let at = if (env.to as usize) < self.nodes.len() { env.to } else { env.from };
            let mut e = Tracer::<W>::event(self.now, at, EventKind::Drop, env.lamport, None);
            e.msg = Some(env.id);
            e.from = Some(env.from);
            e.to = Some(env.to);
            e.msg_type = Some(env.msg.kind_name().to_string());
            e.reason = Some(reason.to_string());
            t.emit(e);
        }
    }

    /// Traces a local event that does not tick the clocks, with the clock of its moment.
    pub(crate) fn trace_at(&mut self, node: u32, kind: EventKind, at: ClockAt<'_>, fill: impl FnOnce(&mut TraceEvent)) {
        let clock = self.clock_reading(node);
        let Some(t) = &mut self.tracer else { return };
        let mut e = Tracer::<W>::event(self.now, node, kind, at.lamport, at.vector);
        e.clock = clock;
        fill(&mut e);
        t.emit(e);
    }
}

/// The simulator's meaning of a handler's effects: sends go through the network model
/// into the event queue, timers into the queue with a generation, outputs into the
/// report and the trace.
impl<A: Algorithm, W: Write> EffectSink<Msg<A>> for Simulation<A, W> {
    // Always inlined into the host's loop: once per message, the simulator's hot path.
    #[inline(always)]
    fn send(&mut self, sent: Sent<Msg<A>>) {
        let env = self.record_send(sent);
        self.route(env);
    }

    fn send_nowhere(&mut self, sent: Sent<Msg<A>>) {
        let env = self.record_send(sent);
        self.dropped += 1;
        self.trace_drop(&env, reparti_core::host::NO_SUCH_NODE);
    }

    fn set_timer(&mut self, node: NodeId, timer: Timer, after: f64) {
        let generation = self.next_generation;
        self.next_generation += 1;
        self.timers[node.index()].set(timer, generation);
        self.queue.push(self.now + after.max(0.0), Event::Timer { node: node.0, timer, generation });
    }

    fn cancel_timer(&mut self, node: NodeId, timer: Timer) {
        self.timers[node.index()].cancel(timer);
    }

    fn output(&mut self, node: NodeId, key: &'static str, value: OutputValue, at: ClockAt<'_>) {
        if self.tracer.is_some() {
            let v = value.clone();
            self.trace_at(node.0, EventKind::Output, at, |e| {
                e.key = Some(key.to_string());
                e.value = Some(v);
            });
        }
        if let Some(h) = &mut self.histories {
            h.output(self.now, node.0, key, &value);
        }
        *self.outputs.entry(key).or_default().entry(value).or_insert(0) += 1;
        match self.moments.get_mut(key) {
            Some([_, last]) => {
                last.0 = self.now;
                last.1.clone_from(&self.sent_by_type);
            }
            None => {
                let moment = (self.now, self.sent_by_type.clone());
                self.moments.insert(key, [moment.clone(), moment]);
            }
        }
    }

    fn log(&mut self, node: NodeId, text: String, at: ClockAt<'_>) {
        self.trace_at(node.0, EventKind::Log, at, |e| e.text = Some(text));
    }

    fn local_event(&mut self, node: NodeId, at: ClockAt<'_>) {
        self.trace_at(node.0, EventKind::Local, at, |_| {});
    }

    fn clock_changed(&mut self, node: NodeId, change: ClockChange, at: ClockAt<'_>) {
        self.trace_clock_change(node, change, at);
    }
}
