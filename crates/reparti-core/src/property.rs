//! Properties: what must hold, declared once per algorithm and checked by every engine.
//!
//! * [`Invariant`]s hold in every reachable global state, checked after every event.
//!   Most safety properties of the course are counts ("at most one leader", "exactly
//!   one token", "at most one process in the critical section"), so [`Invariant::Count`]
//!   is maintained incrementally in O(1) per event, which keeps them affordable on a
//!   million nodes. [`Invariant::Local`] looks at one node, [`Invariant::Delivery`] at one
//!   message's clocks, and [`Invariant::Global`] at everything (O(n), so engines may
//!   sample it on very large runs and say so).
//! * [`Terminal`] properties hold when the run is over (quiescence): "exactly one leader,
//!   the maximum", "every request was served".

use crate::id::NodeId;
use crate::process::Process;

/// A visitor over the messages in transit: it calls its argument once per message with
/// `(from, to, message)`.
pub type InFlight<'a, M> = &'a dyn Fn(&mut dyn FnMut(NodeId, NodeId, &M));

/// The global state handed to global invariants and terminal properties.
pub struct World<'a, N: Process> {
    /// Every node's state, by position.
    pub nodes: &'a [N],
    /// Every node's identity, by position.
    pub idents: &'a [u64],
    /// Which nodes have crashed, by position.
    pub crashed: &'a [bool],
    /// Visits the messages in transit as `(from, to, message)`.
    pub in_flight: InFlight<'a, N::Msg>,
}

impl<N: Process> World<'_, N> {
    /// The messages in transit, collected.
    pub fn messages(&self) -> Vec<(NodeId, NodeId, N::Msg)> {
        let mut v = Vec::new();
        (self.in_flight)(&mut |f, t, m| v.push((f, t, m.clone())));
        v
    }

    /// The positions of live nodes.
    pub fn live(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| !self.crashed[i])
    }
}

/// What a [`Invariant::Delivery`] check sees of one delivered message.
pub struct Delivery<'a> {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The Lamport stamp the message carried (the sender's clock at the send).
    pub send_lamport: u64,
    /// The receiver's Lamport clock after the receive rule.
    pub recv_lamport: u64,
    /// The vector stamp the message carried, when vector clocks are kept.
    pub send_vector: Option<&'a [u64]>,
    /// The receiver's vector clock after the receive rule, when kept.
    pub recv_vector: Option<&'a [u64]>,
}

/// A safety property, checked after every event.
pub enum Invariant<N: Process> {
    /// `min ≤ Σ node(s) + Σ msg(m in transit) ≤ max`, maintained incrementally.
    Count {
        /// What it says, e.g. "exactly one token".
        name: &'static str,
        /// A node's weight (e.g. 1 if it holds the token).
        node: fn(&N) -> u64,
        /// A message's weight while in transit (e.g. 1 for a token message).
        msg: fn(&N::Msg) -> u64,
        /// The least total allowed.
        min: u64,
        /// The greatest total allowed.
        max: u64,
    },
    /// A predicate on one node, checked after each of its events.
    Local {
        /// What it says.
        name: &'static str,
        /// `Err(why)` when violated.
        check: fn(&N) -> Result<(), String>,
    },
    /// A predicate on each delivery's clocks.
    Delivery {
        /// What it says, e.g. "clock condition C(send) < C(receive)".
        name: &'static str,
        /// `Err(why)` when violated.
        check: fn(&Delivery<'_>) -> Result<(), String>,
    },
    /// A predicate on the whole global state (O(n) or more per check).
    Global {
        /// What it says.
        name: &'static str,
        /// `Err(why)` when violated.
        check: fn(&World<'_, N>) -> Result<(), String>,
    },
}

impl<N: Process> Invariant<N> {
    /// The property's name.
    pub fn name(&self) -> &'static str {
        match self {
            Invariant::Count { name, .. }
            | Invariant::Local { name, .. }
            | Invariant::Delivery { name, .. }
            | Invariant::Global { name, .. } => name,
        }
    }
}

/// A property of the final state, checked at quiescence.
pub struct Terminal<N: Process> {
    /// What it says, e.g. "exactly one leader, the maximum identity".
    pub name: &'static str,
    /// `Err(why)` when violated.
    pub check: fn(&World<'_, N>) -> Result<(), String>,
}

/// All the properties of an algorithm.
pub struct Properties<N: Process> {
    /// Checked after every event.
    pub invariants: Vec<Invariant<N>>,
    /// Checked at quiescence.
    pub terminal: Vec<Terminal<N>>,
}

impl<N: Process> Default for Properties<N> {
    fn default() -> Self {
        Properties { invariants: Vec::new(), terminal: Vec::new() }
    }
}
