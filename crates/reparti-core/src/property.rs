//! Properties: what must hold, declared once per algorithm and checked by every engine.
//!
//! * [`Invariant`]s hold in every reachable global state, checked after every event.
//!   Most safety properties of the course are counts ("at most one leader", "exactly
//!   one token", "at most one process in the critical section"), so [`Invariant::Count`]
//!   is maintained incrementally in O(1) per event, which keeps them affordable on a
//!   million nodes. [`Invariant::Local`] looks at one node, [`Invariant::Delivery`] at one
//!   message's clocks, and [`Invariant::Global`] at everything (O(n), so engines may
//!   sample it on very large runs and say so).
//! * [`Invariant::Stabilizing`] is the legitimacy L of a self-stabilizing algorithm run
//!   in message passing: checked like a global invariant, but a transient fault may break
//!   it. What must hold is that every stretch outside L ends, within the algorithm's bound
//!   when it declares one; the simulator reports each stretch's length.
//! * [`Terminal`] properties hold when the run is over (quiescence): "exactly one leader,
//!   the maximum", "every request was served".

use crate::id::NodeId;
use crate::physical_clock::TrueTime;
use crate::process::Process;
use std::sync::Arc;

/// A weight of one node (for [`Invariant::Count`]).
pub type NodeWeight<N> = Arc<dyn Fn(&N) -> u64 + Send + Sync>;
/// A weight of one message in transit (for [`Invariant::Count`]).
pub type MsgWeight<M> = Arc<dyn Fn(&M) -> u64 + Send + Sync>;
/// A predicate on one node: `Err(why)` when violated.
pub type NodeCheck<N> = Arc<dyn Fn(&N) -> Result<(), String> + Send + Sync>;
/// A predicate on one delivery's clocks: `Err(why)` when violated.
pub type DeliveryCheck = Arc<dyn Fn(&Delivery<'_>) -> Result<(), String> + Send + Sync>;
/// A predicate on the global state: `Err(why)` when violated.
pub type WorldCheck<N> = Arc<dyn Fn(&World<'_, N>) -> Result<(), String> + Send + Sync>;
/// A stabilizing property's bound for n nodes (`None` where none is known).
pub type BoundFor = Arc<dyn Fn(usize) -> Option<Bound> + Send + Sync>;

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
    /// Real time and every node's physical clock, where the engine keeps them (the
    /// simulator and a real run's replay, for algorithms that read physical clocks).
    pub time: Option<&'a TrueTime<'a>>,
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
        node: NodeWeight<N>,
        /// A message's weight while in transit (e.g. 1 for a token message).
        msg: MsgWeight<N::Msg>,
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
        check: NodeCheck<N>,
    },
    /// A predicate on each delivery's clocks.
    Delivery {
        /// What it says, e.g. "clock condition C(send) < C(receive)".
        name: &'static str,
        /// `Err(why)` when violated.
        check: DeliveryCheck,
    },
    /// A predicate on the whole global state (O(n) or more per check).
    Global {
        /// What it says.
        name: &'static str,
        /// `Err(why)` when violated.
        check: WorldCheck<N>,
    },
    /// The legitimate configurations L of a self-stabilizing algorithm: a predicate on
    /// the global state that a transient fault may break. It holds when the run ends in
    /// L and every stretch outside L lasted at most `within` (when given). The checker
    /// holds it as an invariant: closure.
    Stabilizing {
        /// What it says, e.g. "single writer, multiple readers (L)".
        name: &'static str,
        /// `Err(why)` outside L.
        check: WorldCheck<N>,
        /// For n nodes, the longest a stretch outside L may last, with its formula.
        within: Option<BoundFor>,
    },
}

/// A time bound with the formula it comes from (for [`Invariant::Stabilizing`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    /// The bound in time units.
    pub time: f64,
    /// How it is computed, e.g. `13 ring steps × period 10 + period + period/2`.
    pub formula: String,
}

impl<N: Process> Invariant<N> {
    /// `min ≤ Σ node(s) + Σ msg(m in transit) ≤ max`, maintained incrementally.
    pub fn count(
        name: &'static str,
        node: impl Fn(&N) -> u64 + Send + Sync + 'static,
        msg: impl Fn(&N::Msg) -> u64 + Send + Sync + 'static,
        min: u64,
        max: u64,
    ) -> Self {
        Invariant::Count { name, node: Arc::new(node), msg: Arc::new(msg), min, max }
    }

    /// A predicate on one node, checked after each of its events.
    pub fn local(name: &'static str, check: impl Fn(&N) -> Result<(), String> + Send + Sync + 'static) -> Self {
        Invariant::Local { name, check: Arc::new(check) }
    }

    /// A predicate on each delivery's clocks.
    pub fn delivery(
        name: &'static str,
        check: impl Fn(&Delivery<'_>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Invariant::Delivery { name, check: Arc::new(check) }
    }

    /// A predicate on the whole global state.
    pub fn global(
        name: &'static str,
        check: impl Fn(&World<'_, N>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Invariant::Global { name, check: Arc::new(check) }
    }

    /// The legitimate configurations L of a self-stabilizing algorithm (see
    /// [`Invariant::Stabilizing`]); [`Invariant::within`] adds its time bound.
    pub fn stabilizing(
        name: &'static str,
        check: impl Fn(&World<'_, N>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Invariant::Stabilizing { name, check: Arc::new(check), within: None }
    }

    /// A stabilizing property's bound: for n nodes, every stretch outside L lasts at
    /// most the bound `bound(n)` gives (none where it gives `None`). No effect on the
    /// other kinds.
    pub fn within(mut self, bound: impl Fn(usize) -> Option<Bound> + Send + Sync + 'static) -> Self {
        if let Invariant::Stabilizing { within, .. } = &mut self {
            *within = Some(Arc::new(bound));
        }
        self
    }

    /// The property's name.
    pub fn name(&self) -> &'static str {
        match self {
            Invariant::Count { name, .. }
            | Invariant::Local { name, .. }
            | Invariant::Delivery { name, .. }
            | Invariant::Global { name, .. }
            | Invariant::Stabilizing { name, .. } => name,
        }
    }
}

/// A property of the final state, checked at quiescence.
pub struct Terminal<N: Process> {
    /// What it says, e.g. "exactly one leader, the maximum identity".
    pub name: &'static str,
    /// `Err(why)` when violated.
    pub check: WorldCheck<N>,
}

impl<N: Process> Terminal<N> {
    /// A property of the final state.
    pub fn new(
        name: &'static str,
        check: impl Fn(&World<'_, N>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Terminal { name, check: Arc::new(check) }
    }
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
