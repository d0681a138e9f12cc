//! Sending: what happens to a message between a handler's `send` and the event queue —
//! the trace line, loss, partitions, duplication, a scenario's held-back message, the
//! delay, and FIFO order.

use crate::engine::{Envelope, Event, Msg, Simulation};
use crate::network::{Delay, Fault};
use crate::tracer::Tracer;
use rand::Rng as _;
use reparti_core::trace::EventKind;
use reparti_core::{Algorithm, Message, NodeId, Sent};
use std::io::Write;

impl<A: Algorithm, W: Write> Simulation<A, W> {
    /// Numbers, counts and traces a message a handler sent, and wraps it for the queue.
    // Always inlined: once per message, and its envelope is better built in place.
    #[inline(always)]
    pub(crate) fn record_send(&mut self, sent: Sent<Msg<A>>) -> Envelope<Msg<A>> {
        let Sent { from, to, msg, lamport, vector } = sent;
        let from = from.0;
        let id = self.next_msg;
        self.next_msg += 1;
        self.sent_by_type[msg.kind()] += 1;
        self.books[from as usize].sent += 1;
        let chain = self.books[from as usize].chain + 1;
        let env = Envelope { from, to: to.0, id, lamport, chain, msg, vector };
        if self.tracer.is_some() {
            self.trace_send(&env);
        }
        env
    }

    /// The trace line of a send; out of the hot path, which runs untraced.
    #[cold]
    fn trace_send(&mut self, env: &Envelope<Msg<A>>) {
        let clock = self.clock_reading(env.from);
        if let Some(t) = &mut self.tracer {
            let mut e = Tracer::<W>::event(self.now, env.from, EventKind::Send, env.lamport, env.vector.as_deref());
            e.msg = Some(env.id);
            e.to = Some(env.to);
            e.msg_type = Some(env.msg.kind_name().to_string());
            e.payload = serde_json::to_value(&env.msg).ok();
            e.clock = clock;
            t.emit(e);
        }
    }

    /// What the network does with a message sent to a node of the run: loss,
    /// partitions, duplication, a scenario's hold-back, the delay, FIFO order.
    #[inline]
    pub(crate) fn route(&mut self, env: Envelope<Msg<A>>) {
        let (from, to) = (env.from, NodeId(env.to));
        let net = &self.cfg.network;
        if net.loss > 0.0 && self.rng.gen::<f64>() < net.loss {
            self.dropped += 1;
            self.trace_drop(&env, "loss");
            return;
        }
        if self.partitioned(from, to.0, self.now) {
            self.dropped += 1;
            self.trace_drop(&env, "partition");
            return;
        }
        let dup = net.dup;
        let extra = self.scheduled_delay(&env);
        let copies = if dup > 0.0 && self.rng.gen::<f64>() < dup { 2 } else { 1 };
        if copies == 2 {
            self.duplicated += 1;
            if let Some(t) = &mut self.tracer {
                let mut e = Tracer::<W>::event(self.now, to.0, EventKind::Duplicate, env.lamport, None);
                e.msg = Some(env.id);
                e.from = Some(env.from);
                e.to = Some(env.to);
                e.msg_type = Some(env.msg.kind_name().to_string());
                t.emit(e);
            }
            self.enqueue(env.clone(), extra);
        }
        self.enqueue(env, extra);
    }

    /// The extra delay a scenario's `DelayMessage` fault gives this message (each such
    /// fault applies once, to the first message that matches it).
    fn scheduled_delay(&mut self, env: &Envelope<Msg<A>>) -> f64 {
        let now = self.now;
        let msg = &env.msg;
        let found = self.cfg.faults.iter().enumerate().position(|(k, f)| match f {
            Fault::DelayMessage { from, to, message, payload, after, .. } => {
                !self.delays_used.contains(&k)
                    && from.0 == env.from
                    && to.0 == env.to
                    && now >= *after
                    && message.eq_ignore_ascii_case(msg.kind_name())
                    && payload.as_ref().is_none_or(|p| p.eq_ignore_ascii_case(&format!("{msg:?}")))
            }
            _ => false,
        });
        match found.map(|k| (k, &self.cfg.faults[k])) {
            Some((k, Fault::DelayMessage { by, .. })) => {
                let by = *by;
                self.delays_used.push(k);
                by
            }
            _ => 0.0,
        }
    }

    fn enqueue(&mut self, env: Envelope<Msg<A>>, extra: f64) {
        let model = if self.link_delays {
            crate::clocks::channel_delay(&self.cfg, env.from, env.to)
        } else {
            self.cfg.network.delay
        };
        let delay = match model {
            Delay::Const { value } => value,
            Delay::Uniform { min, max } => {
                if max > min {
                    self.rng.gen_range(min..=max)
                } else {
                    min
                }
            }
            Delay::Exp { mean } => -mean * (1.0 - self.rng.gen::<f64>()).ln(),
        };
        let mut t = self.now + delay + extra;
        if let Some(fifo) = &mut self.fifo {
            t = fifo.clamp(&self.topology, NodeId(env.from), NodeId(env.to), t);
        }
        self.checks.message_added(&env.msg);
        self.queue.push(t, Event::Deliver(env));
    }
}
