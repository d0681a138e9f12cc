//! The [`Process`] trait: an algorithm's node as a deterministic state machine.

use crate::context::Context;
use crate::id::NodeId;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::hash::Hash;

/// What every piece of algorithm state must be: comparable and hashable (so the model
/// checker can store it), printable, and serializable (so traces and the wire can carry it).
pub trait StateBounds: Clone + Eq + Hash + Debug + Serialize + DeserializeOwned + Send + Sync + 'static {}
impl<T: Clone + Eq + Hash + Debug + Serialize + DeserializeOwned + Send + Sync + 'static> StateBounds for T {}

/// A timer's name. Setting a timer that is already pending replaces it.
pub type Timer = &'static str;

/// A message type of an algorithm.
///
/// `kinds()` lists the message type names (`"ELECT"`, `"ELECTED"`, ...); `kind` says which
/// one a message is. Engines count messages by kind with a plain array index, which keeps
/// the counting off the hot path's hash tables.
pub trait Message: StateBounds {
    /// Every message type name of the algorithm, in a fixed order.
    ///
    /// A function rather than a constant so that a layer generic over an application's
    /// messages (a FIFO layer, a snapshot) can list the application's kinds and its own.
    fn kinds() -> &'static [&'static str];
    /// The index in [`Message::kinds()`] of this message's type.
    fn kind(&self) -> usize;
    /// This message's type name.
    fn kind_name(&self) -> &'static str {
        Self::kinds()[self.kind()]
    }

    /// The names among [`Message::kinds()`] that a control layer adds to the messages of
    /// the application it runs over (a snapshot's MARKER, a FIFO layer's FIFO_ACK):
    /// traces declare them, so that pictures and counts tell control messages from the
    /// application's basic ones. None for an algorithm that is not a layer.
    fn control_kinds() -> &'static [&'static str] {
        &[]
    }

    /// Renames every node this message names: node `i` becomes `map[i]`. Needed only by
    /// algorithms that declare a [`crate::Symmetry`] and whose messages carry node ids.
    fn rename_nodes(&mut self, _map: &[NodeId]) {}
}

/// What a node is told when it is created.
#[derive(Clone, Debug)]
pub struct NodeSetup {
    /// Its position in the topology.
    pub me: NodeId,
    /// Its identity, the totally ordered value elections compare.
    pub ident: u64,
    /// The number of nodes (algorithms that assume n unknown simply ignore it).
    pub n: usize,
    /// The port this node listens on, when it runs on a real network; `None` in the
    /// simulator and the checker, where nodes have positions but no addresses. A lab
    /// protocol that carries "my port" (TP7's `Port_elect`) reads it here.
    pub port: Option<u16>,
}

impl NodeSetup {
    /// Node `me` of `n`, with identity `ident` and no address.
    pub fn new(me: NodeId, ident: u64, n: usize) -> Self {
        NodeSetup { me, ident, n, port: None }
    }

    /// The same node, listening on `port`.
    pub fn on_port(self, port: u16) -> Self {
        NodeSetup { port: Some(port), ..self }
    }
}

/// A node of a distributed algorithm.
///
/// Handlers are atomic: an engine runs one to completion, then applies the effects it
/// recorded in the [`Context`]. Handlers must be deterministic functions of the state and
/// the event: no I/O, no clocks, no randomness (randomness comes in as external inputs
/// drawn by the engine's seeded generator).
pub trait Process: StateBounds {
    /// The messages this algorithm exchanges.
    type Msg: Message;
    /// Requests from outside the algorithm: "request the critical section",
    /// "start an election", "send hello to node 3". Use `()` when there are none.
    type Input: StateBounds;

    /// Called once when the node starts.
    fn on_start(&mut self, _ctx: &mut Context<'_, Self::Msg>) {}

    /// Called when a message from `from` is delivered.
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Context<'_, Self::Msg>);

    /// Called when a timer set with [`Context::set_timer`] fires.
    fn on_timer(&mut self, _timer: Timer, _ctx: &mut Context<'_, Self::Msg>) {}

    /// Called when an external input reaches this node.
    fn on_input(&mut self, _input: Self::Input, _ctx: &mut Context<'_, Self::Msg>) {}

    /// Renames every node this state names: node `i` becomes `map[i]`. Needed only by
    /// algorithms that declare a [`crate::Symmetry`] and whose states hold node ids.
    fn rename_nodes(&mut self, _map: &[NodeId]) {}
}
