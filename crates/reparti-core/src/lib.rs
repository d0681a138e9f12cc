//! # reparti-core: the vocabulary every other reparti crate speaks
//!
//! A distributed algorithm is written **once**, as a deterministic state machine
//! implementing [`Process`]. Its handlers receive an event (start, a message, a timer,
//! an external input) and a [`Context`] through which they act: send, broadcast, set or
//! cancel a timer, emit an observable output, log. A process never touches a socket, a
//! clock, a thread or a random number generator, which is what lets the same code be
//! simulated (`reparti-sim`), model checked, and run on a real network.
//!
//! Around the process, an [`Algorithm`] declares what engines and tests need to know:
//! its name and chapter, its parameters, the topologies it accepts, the
//! [`Properties`] that must hold, and the [`Expectation`]s for its message counts.
//!
//! The crate also holds the shared pieces: [`Topology`] generators, identity
//! assignment ([`IdAssignment`]), Lamport and vector clocks ([`Clocks`]), and the
//! trace format ([`trace`]), documented in `docs/TRACE.md`.
//!
//! ```
//! use reparti_core::{Context, NodeId, Process, Message};
//! use serde::{Deserialize, Serialize};
//!
//! /// Each node greets its successor once; a greeting is never forwarded.
//! #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
//! struct Greeter { greeted: bool }
//!
//! #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
//! struct Hello;
//! impl Message for Hello {
//!     fn kinds() -> &'static [&'static str] { &["HELLO"] }
//!     fn kind(&self) -> usize { 0 }
//! }
//!
//! impl Process for Greeter {
//!     type Msg = Hello;
//!     type Input = ();
//!     fn on_start(&mut self, ctx: &mut Context<'_, Hello>) {
//!         ctx.broadcast(Hello);
//!     }
//!     fn on_message(&mut self, _from: NodeId, _msg: Hello, ctx: &mut Context<'_, Hello>) {
//!         self.greeted = true;
//!         ctx.output("greeted", 1);
//!     }
//! }
//! ```

#![warn(missing_docs)]

pub mod algorithm;
pub mod clock;
pub mod clock_audit;
pub mod context;
pub mod distances;
pub mod expect;
pub mod guarded;
pub mod history;
pub mod host;
pub mod id;
pub mod idents;
pub mod instance;
pub mod layer;
pub mod linearization;
pub mod machine_memory;
pub mod neighbours;
pub mod params;
pub mod physical_clock;
pub mod process;
pub mod property;
pub mod topology;
pub mod trace;
pub mod user_file;

pub use algorithm::{
    Algorithm, AlgorithmSpec, AlgorithmVisitor, ArgKind, Chapter, Command, CommandArg, ScheduledInput, SpanSpec,
    Symmetry, WorkloadSetup, TO_AND_TEXT,
};
pub use clock::{ClockMode, Clocks, VectorOrder};
pub use clock_audit::audit_clocks;
pub use context::{ClockChange, ClockHow, Context, Effect, OutputValue, PhysicalNow};
pub use expect::{after_key, parse_after, Expectation, ExpectationKind, Moment, OutputMoments, RunFacts};
pub use guarded::{Daemon, Guarded, GuardedVisitor, Move, RuleSet};
pub use host::{ClockAt, ClockSlot, EffectSink, NodeHost, Place, Recorder, Sent, Timers};
pub use id::NodeId;
pub use idents::IdAssignment;
pub use instance::{Instance, SetupError};
pub use layer::{lift_properties, Layer};
pub use params::{ParamError, ParamKind, ParamSpec, Params};
pub use physical_clock::{ClockSetting, ClockTime, PhysicalClock, TrueTime};
pub use process::{Message, NodeSetup, Process, Timer};
pub use property::{Invariant, Properties, Terminal, World};
/// `#[derive(Message)]`: an enum's variants (or a struct) as its message kinds.
pub use reparti_derive::Message;
pub use topology::{Neighbours, Topology, TopologyError, TopologyKind};

/// The random number generator every engine uses: seeded, cloneable, portable.
///
/// ChaCha8 gives the same stream on every platform and every Rust version, which is
/// what makes "same seed, same trace, byte for byte" a promise we can keep.
pub type Rng = rand_chacha::ChaCha8Rng;

/// Builds the [`Rng`] for a seed.
pub fn rng(seed: u64) -> Rng {
    use rand::SeedableRng;
    Rng::seed_from_u64(seed)
}
