//! Layers: a control algorithm run over an application, written once for every engine.
//!
//! Much of the course is *control* code that runs under or over someone else's
//! algorithm: a FIFO layer that sequences an application's messages, a snapshot that
//! records an application's state, a termination detector that watches it. Such a layer
//! is itself a [`Process`] whose state holds the application's node, and whose handlers
//! run the application's handlers through [`Context::lift`](crate::Context::lift),
//! wrapping each message the application sends. Engines need nothing new to run it.
//!
//! What a layer must add is what lets the *application's* properties still be judged:
//! [`Layer`] says where the application's node is, which application message a layer
//! message carries, and which application messages the layer holds (received but not yet
//! delivered, or produced but not yet sent) — those are still in transit as far as the
//! application is concerned, so "exactly one token" counts a token in a hold-back queue.
//! [`lift_properties`] then turns the application's properties into the layer's.
//!
//! Message kinds and specs of a generic layer depend on the application's, and must be
//! `'static`: [`per_type`] makes each once per concrete type and keeps it.

use crate::id::NodeId;
use crate::process::{Message, Process};
use crate::property::{Invariant, Properties, Terminal, World};
use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// The messages of a layer's application.
pub type AppMsg<L> = <<L as Layer>::App as Process>::Msg;

/// A node that runs an application node under (or over) a control layer.
pub trait Layer: Process {
    /// The application's node.
    type App: Process;

    /// The application's node state.
    fn app(&self) -> &Self::App;

    /// The application message `msg` carries, if it carries one (a control message, a
    /// marker or an acknowledgement, carries none).
    fn carried(msg: &Self::Msg) -> Option<&AppMsg<Self>>;

    /// Visits, as `(from, to, message)`, the application messages this node's layer
    /// holds: still in transit for the application. None by default.
    fn held(&self, _visit: &mut dyn FnMut(NodeId, NodeId, &AppMsg<Self>)) {}
}

/// The self-description of the layer `L` over the application `A`: the application's,
/// named `APP{suffix}`, its summary followed by `what`, the layer's own parameters
/// appended to the application's, and `needs_fifo` as the layer says.
pub fn layered_spec<L: 'static, A: crate::Algorithm>(
    suffix: &'static str,
    what: &'static str,
    own: &'static [crate::ParamSpec],
    needs_fifo: bool,
) -> crate::AlgorithmSpec {
    per_type::<L, crate::AlgorithmSpec>(|| {
        let app = A::spec();
        let params: Vec<crate::ParamSpec> = app.params.iter().chain(own).copied().collect();
        crate::AlgorithmSpec {
            name: static_str::<L>("name", || format!("{}{suffix}", app.name)),
            summary: static_str::<L>("summary", || format!("{} — {what}", app.summary)),
            params: Box::leak(params.into_boxed_slice()),
            needs_fifo,
            ..app
        }
    })
    .clone()
}

/// The application's expectations under a layer: its "total" counts its own messages
/// (named by their kinds, `A+B`), not the layer's.
pub fn app_expected<M: Message>(mut expected: Vec<crate::Expectation>) -> Vec<crate::Expectation> {
    let app_kinds = M::kinds().join("+");
    for e in expected.iter_mut().filter(|e| e.counts == "total") {
        e.counts = app_kinds.clone();
    }
    expected
}

/// The application's properties, judged on the layered nodes: a node property reads the
/// application's node, a count adds the messages the layers hold to those in transit,
/// and a global property sees the application's nodes and its messages in transit
/// (carried by layer messages, or held by a layer).
pub fn lift_properties<L: Layer>(app: Properties<L::App>) -> Properties<L> {
    let invariants = app
        .invariants
        .into_iter()
        .map(|invariant| match invariant {
            Invariant::Count { name, node, msg, min, max } => {
                let held_msg = msg.clone();
                Invariant::count(
                    name,
                    move |s: &L| {
                        let mut held = 0;
                        s.held(&mut |_, _, m| held += held_msg(m));
                        node(s.app()) + held
                    },
                    move |m: &L::Msg| L::carried(m).map_or(0, |m| msg(m)),
                    min,
                    max,
                )
            }
            Invariant::Local { name, check } => Invariant::local(name, move |s: &L| check(s.app())),
            Invariant::Delivery { name, check } => Invariant::Delivery { name, check },
            Invariant::Global { name, check } => {
                Invariant::global(name, move |w: &World<'_, L>| on_app_world(w, |a| check(a)))
            }
            Invariant::Stabilizing { name, check, within } => Invariant::Stabilizing {
                name,
                check: std::sync::Arc::new(move |w: &World<'_, L>| on_app_world(w, |a| check(a))),
                within,
            },
        })
        .collect();
    let terminal = app
        .terminal
        .into_iter()
        .map(|t| {
            let check = t.check;
            Terminal::new(t.name, move |w: &World<'_, L>| on_app_world(w, |a| check(a)))
        })
        .collect();
    Properties { invariants, terminal }
}

/// Runs `f` on the application's view of a layered global state. The application's
/// nodes are copied out of the layered ones (global properties are O(n) already).
fn on_app_world<L: Layer, R>(w: &World<'_, L>, f: impl FnOnce(&World<'_, L::App>) -> R) -> R {
    let nodes: Vec<L::App> = w.nodes.iter().map(|s| s.app().clone()).collect();
    let in_flight = |visit: &mut dyn FnMut(NodeId, NodeId, &AppMsg<L>)| {
        (w.in_flight)(&mut |from, to, m| {
            if let Some(m) = L::carried(m) {
                visit(from, to, m)
            }
        });
        for s in w.nodes {
            s.held(visit);
        }
    };
    f(&World { nodes: &nodes, idents: w.idents, crashed: w.crashed, in_flight: &in_flight, time: w.time })
}

/// The value `make` builds for the type `T`, built once and kept for the program's life.
///
/// A generic layer's spec and message kinds are `'static` strings made from its
/// application's (`lamport+fifo`, the application's kinds then `FIFO_ACK`); Rust has no
/// generic statics, so they are kept here, one per concrete type — a bounded amount.
pub fn per_type<T: 'static, V: Send + Sync + 'static>(make: impl FnOnce() -> V) -> &'static V {
    type Kept = BTreeMap<(TypeId, TypeId), &'static (dyn Any + Send + Sync)>;
    static KEPT: OnceLock<Mutex<Kept>> = OnceLock::new();
    let key = (TypeId::of::<T>(), TypeId::of::<V>());
    let kept = KEPT.get_or_init(|| Mutex::new(BTreeMap::new()));
    // A poisoned lock only means another thread panicked while inserting: the map is
    // still a valid map.
    let lock = || kept.lock().unwrap_or_else(|e| e.into_inner());
    let found = lock().get(&key).copied();
    let value = match found {
        Some(value) => value,
        // Made without the lock held, because making one value may need another (a
        // spec's name is a `static_str`); a racing thread's value wins and ours is kept
        // unused, which bounds the waste to one value per thread and type.
        None => {
            let made: &'static (dyn Any + Send + Sync) = Box::leak(Box::new(make()));
            *lock().entry(key).or_insert(made)
        }
    };
    match value.downcast_ref::<V>() {
        Some(v) => v,
        None => unreachable!("the entry for a type pair holds a value of that pair's value type"),
    }
}

/// An application's message kinds followed by a layer's own, as one `'static` list.
pub fn kinds_with<L: 'static, M: Message>(own: &'static [&'static str]) -> &'static [&'static str] {
    let kinds: &'static Vec<&'static str> =
        per_type::<(L, M), Vec<&'static str>>(|| M::kinds().iter().chain(own).copied().collect());
    kinds.as_slice()
}

/// A layer's control kinds: the application's own control kinds (if it is itself
/// layered) followed by the layer's, as one `'static` list.
pub fn control_kinds_with<L: 'static, M: Message>(own: &'static [&'static str]) -> &'static [&'static str] {
    struct Control<L>(std::marker::PhantomData<L>);
    let kinds: &'static Vec<&'static str> =
        per_type::<(Control<L>, M), Vec<&'static str>>(|| M::control_kinds().iter().chain(own).copied().collect());
    kinds.as_slice()
}

/// A `'static` copy of a string made at run time, once per type `T` and tag.
pub fn static_str<T: 'static>(tag: &'static str, make: impl FnOnce() -> String) -> &'static str {
    struct Tagged<T>(std::marker::PhantomData<T>);
    let kept = per_type::<Tagged<T>, Mutex<BTreeMap<&'static str, &'static str>>>(|| Mutex::new(BTreeMap::new()));
    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
    kept.entry(tag).or_insert_with(|| Box::leak(make().into_boxed_str()))
}
