//! Termination detection: a basic computation ([`diffusing`]) and four detectors run as
//! layers over it — Dijkstra–Scholten ([`dijkstra_scholten`]), Dijkstra–Feijen–van
//! Gasteren's ring ([`ewd840`]), Safra's counters ([`safra`]) and Misra's marker
//! ([`misra`]).
//!
//! **The common specification** (E. W. Dijkstra and C. S. Scholten, "Termination
//! detection for diffusing computations", IPL 11(1):1–4, 1980; E. W. Dijkstra, EWD998,
//! 1987). A process is *active* or *passive*; only an active process sends; a receipt
//! makes the receiver active; an active process may become passive at any moment. The
//! computation has *terminated* when every process is passive and no basic message is in
//! transit — a stable property. A detector must announce it (liveness:
//! `Terminated ⇒ ◇ announce`) and never announce before it (safety: `announce ⇒
//! Terminated` at the moment of the announcement).
//!
//! **How it runs here.** The application implements [`Activity`]; a detector is a
//! [`Layer`] whose state holds the application's node and whose wire carries the
//! application's messages as [`Wire::Basic`] and its own as [`Wire::Ctl`]. The judge of
//! every detector is the same ([`detector_properties`]): [`terminated`] is computed from
//! the true global state (every node's application and the basic messages in transit,
//! carried or held), and checked after every event against every node's `announced`
//! flag. The detection delay after true termination — control messages sent and time
//! elapsed between the last `passive` output and the first `announce` output — is a
//! count each detector declares against its bound (`after:passive→announce:KIND`, see
//! [`reparti_core::after_key`]), measured by the simulator on the true run; the tests
//! read it back from traces with [`detection_delay`] to cross-check.

pub mod diffusing;
pub mod dijkstra_scholten;
pub mod ewd840;
pub mod misra;
pub mod safra;

pub use diffusing::Diffusing;
pub use dijkstra_scholten::DijkstraScholten;
pub use ewd840::Ewd840;
pub use misra::Misra;
pub use safra::Safra;

use reparti_core::layer::{control_kinds_with, kinds_with};
use reparti_core::process::StateBounds;
use reparti_core::trace::{EventKind, Trace};
use reparti_core::{
    after_key, lift_properties, Algorithm, AlgorithmVisitor, Context, Expectation, Invariant, Layer, Message, NodeId,
    Process, Properties, Terminal, World,
};
use serde::{Deserialize, Serialize};

/// The safety property of every detector.
pub const SAFE: &str = "announce ⇒ terminated (all passive, no basic message in transit)";
/// The liveness property of every detector, judged at quiescence.
pub const ANNOUNCED: &str = "termination announced";
/// Output of the node that announces termination (value 1).
pub const ANNOUNCE: &str = "announce";

/// What a detector reads of the application it watches.
pub trait Activity: Process {
    /// Whether the node is active (only an active node sends; a receipt activates).
    fn active(&self) -> bool;
}

/// A detector's node: a layer over an [`Activity`] that may announce termination.
pub trait Detector: Layer {
    /// Whether this node has announced termination.
    fn announced(&self) -> bool;
}

/// What every detector's node does alike, written once: it is a layer over its `app`
/// field, has announced when its `announced` field says so, and runs the application's
/// timers and inputs through `app_event`, then `settle`s (passes a token on, signals,
/// announces) as after any event. Used inside the node's `impl Process` block
/// (`detector_node!(events)`) and beside it (`detector_node!(layer NodeType)`).
macro_rules! detector_node {
    (events) => {
        fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg<P>>) {
            self.app_event(ctx, |a, c| a.on_timer(timer, c));
            self.settle(ctx);
        }

        fn on_input(&mut self, input: P::Input, ctx: &mut Context<'_, Msg<P>>) {
            self.app_event(ctx, |a, c| a.on_input(input, c));
            self.settle(ctx);
        }
    };
    (layer $node:ident) => {
        impl<P: Activity> Layer for $node<P> {
            type App = P;
            fn app(&self) -> &P {
                &self.app
            }
            fn carried(msg: &Msg<P>) -> Option<&P::Msg> {
                super::carried(msg)
            }
        }

        impl<P: Activity> Detector for $node<P> {
            fn announced(&self) -> bool {
                self.announced
            }
        }
    };
}
pub(crate) use detector_node;

/// A detector's own messages: their kinds, appended to the application's.
pub trait Control: StateBounds {
    /// The kinds, in a fixed order.
    const KINDS: &'static [&'static str];
    /// This message's index in [`Control::KINDS`].
    fn kind(&self) -> usize;
}

/// A detector's wire: a basic message of the application, or a control message.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Wire<M: Message, C: Control> {
    /// The application's message.
    Basic(M),
    /// The detector's.
    Ctl(C),
}

impl<M: Message, C: Control> Message for Wire<M, C> {
    fn kinds() -> &'static [&'static str] {
        kinds_with::<Wire<M, C>, M>(C::KINDS)
    }

    fn control_kinds() -> &'static [&'static str] {
        control_kinds_with::<Wire<M, C>, M>(C::KINDS)
    }

    fn kind(&self) -> usize {
        match self {
            Wire::Basic(m) => m.kind(),
            Wire::Ctl(c) => M::kinds().len() + c.kind(),
        }
    }

    fn rename_nodes(&mut self, map: &[NodeId]) {
        if let Wire::Basic(m) = self {
            m.rename_nodes(map)
        }
    }
}

/// The basic message a wire message carries.
pub fn carried<M: Message, C: Control>(msg: &Wire<M, C>) -> Option<&M> {
    match msg {
        Wire::Basic(m) => Some(m),
        Wire::Ctl(_) => None,
    }
}

/// Runs one of the application's handlers under a detector, calling `on_send` with the
/// destination of each basic message it sends (a detector counts them, or colours).
pub fn run_app<P: Process, C: Control>(
    app: &mut P,
    ctx: &mut Context<'_, Wire<P::Msg, C>>,
    handler: impl FnOnce(&mut P, &mut Context<'_, P::Msg>),
    mut on_send: impl FnMut(NodeId),
) {
    ctx.lift(
        |c| handler(app, c),
        |to, m| {
            on_send(to);
            Some(Wire::Basic(m))
        },
    );
}

/// `Terminated`, from the true global state of the application: every node passive and
/// no basic message in transit (crashed nodes aside). `Err` says what is still going on.
pub fn terminated<L: Layer>(w: &World<'_, L>) -> Result<(), String>
where
    L::App: Activity,
{
    if let Some(i) = w.live().find(|&i| w.nodes[i].app().active()) {
        return Err(format!("node {i} is active"));
    }
    let mut moving = Vec::new();
    (w.in_flight)(&mut |from, to, m| {
        if L::carried(m).is_some() {
            moving.push((from, to))
        }
    });
    for s in w.nodes {
        s.held(&mut |from, to, _| moving.push((from, to)));
    }
    match moving.first() {
        Some((from, to)) => Err(format!("{} basic message(s) in transit, e.g. {from} → {to}", moving.len())),
        None => Ok(()),
    }
}

/// The application's properties lifted, with every detector's safety (an invariant
/// after every event: a node that has announced ⇒ [`terminated`]) and liveness (at
/// quiescence: some node announced).
pub fn detector_properties<L: Detector>(app: Properties<L::App>) -> Properties<L>
where
    L::App: Activity,
{
    let mut props = lift_properties::<L>(app);
    props.invariants.push(Invariant::<L>::global(SAFE, |w: &World<'_, L>| {
        match w.nodes.iter().position(|s| s.announced()) {
            Some(i) => terminated(w).map_err(|why| format!("node {i} announced termination, but {why}")),
            None => Ok(()),
        }
    }));
    props.terminal.push(Terminal::<L>::new(ANNOUNCED, |w: &World<'_, L>| {
        match w.nodes.iter().any(|s| s.announced()) {
            true => Ok(()),
            false => Err("the computation terminated and no node announced it".into()),
        }
    }));
    props
}

/// The token (or marker) of a ring detector in a global state: its position (the node
/// holding it, or the receiver of the message carrying it) and its value. `None` if
/// there is not exactly one.
pub fn ring_token<L: Layer, T: Clone>(
    w: &World<'_, L>,
    held: impl Fn(&L) -> Option<T>,
    moving: impl Fn(&L::Msg) -> Option<T>,
) -> Result<(usize, T), String> {
    let mut found: Vec<(usize, T)> = w.nodes.iter().enumerate().filter_map(|(i, s)| held(s).map(|t| (i, t))).collect();
    (w.in_flight)(&mut |_, to, m| {
        if let Some(t) = moving(m) {
            found.push((to.index(), t))
        }
    });
    match found.len() {
        1 => Ok(found.remove(0)),
        k => Err(format!("{k} tokens, expected exactly one")),
    }
}

/// The detection delay as an expectation: messages of `kind` sent after true
/// termination (the last `passive` output of the application) and before the first
/// `announce`, at most `formula` = `bound`. The simulator measures it on the true run
/// (a count `after:passive→announce:KIND`, with the time elapsed beside it), and
/// `reparti eval` draws it by size against the bound.
pub fn delay_bound(kind: &str, formula: &str, bound: usize) -> Expectation {
    Expectation::at_most(&after_key(diffusing::PASSIVE, ANNOUNCE, kind), formula, bound as f64)
}

/// The detection delay of a run: control messages sent, and time elapsed, after true
/// termination (the last `passive` output of the application) and up to the first
/// `announce`.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Delay {
    /// Messages of the given control kinds sent after termination, before the announcement.
    pub messages: u64,
    /// Time from termination to the announcement.
    pub time: f64,
}

/// Reads the detection delay from a trace (`reparti sim --trace`); `None` if nothing
/// was announced or the computation never became passive. `kinds` are the control
/// message types counted (`["TOKEN"]`).
pub fn detection_delay(trace: &Trace, kinds: &[&str]) -> Option<Delay> {
    let output =
        |e: &&reparti_core::trace::TraceEvent, key: &str| e.kind == EventKind::Output && e.key.as_deref() == Some(key);
    let done = trace.events.iter().rev().find(|e| output(e, diffusing::PASSIVE))?;
    let announce = trace.events.iter().find(|e| output(e, ANNOUNCE))?;
    let messages = trace
        .events
        .iter()
        .filter(|e| e.i > done.i && e.i < announce.i && e.kind == EventKind::Send)
        .filter(|e| e.msg_type.as_deref().is_some_and(|t| kinds.contains(&t)))
        .count() as u64;
    Some(Delay { messages, time: announce.t - done.t })
}

/// The detectors' names, each over the `diffusing` application.
pub const NAMES: &[&str] = &["diffusing+dijkstra-scholten", "diffusing+ewd840", "diffusing+safra", "diffusing+misra"];

/// Whether `name` is a detector over the `diffusing` application.
pub fn is_detector(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Calls `visitor.visit::<A>()` for the detector named `name` over [`Diffusing`]: the
/// catalogue's generic visitor cannot carry the [`Activity`] bound, so the pairs are
/// named one by one.
pub fn visit<V: AlgorithmVisitor>(name: &str, visitor: V) -> Option<V::Output> {
    match name {
        n if n == DijkstraScholten::<Diffusing>::spec().name => Some(visitor.visit::<DijkstraScholten<Diffusing>>()),
        n if n == Ewd840::<Diffusing>::spec().name => Some(visitor.visit::<Ewd840<Diffusing>>()),
        n if n == Safra::<Diffusing>::spec().name => Some(visitor.visit::<Safra<Diffusing>>()),
        n if n == Misra::<Diffusing>::spec().name => Some(visitor.visit::<Misra<Diffusing>>()),
        _ => None,
    }
}

#[cfg(test)]
#[path = "detector_tests.rs"]
mod tests;
