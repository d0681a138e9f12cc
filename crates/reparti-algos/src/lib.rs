//! # reparti-algos: the algorithm library
//!
//! One module per algorithm, grouped by course chapter. Each module holds the node's
//! state machine, its messages, the properties every engine checks and the message
//! counts the literature predicts, so that the simulator, the model checker, the
//! network runtime and the tests all use the same definitions.
//!
//! Nothing here names an engine: the [`catalogue`] hands algorithms to engine-side code
//! through [`reparti_core::AlgorithmVisitor`].

#![warn(missing_docs)]

pub mod catalogue;
pub mod communication;
pub mod election;
#[cfg(test)]
mod handler_harness;
pub mod memory;
pub mod mutex;
pub mod observation;
pub mod selfstab;
pub mod testing;
pub mod time;

pub use catalogue::{find, is_guarded, names, specs, suggest, visit, visit_guarded, LAYERS, SNAPSHOT_APPS};
pub use communication::fifo_layer::SUFFIX as FIFO_SUFFIX;
pub use memory::by_mutex::{MUTEXES as MEMORY_MUTEXES, SUFFIX as MEMORY_SUFFIX};
pub use observation::chandy_lamport::SUFFIX as CHANDY_LAMPORT_SUFFIX;
pub use observation::lai_yang::SUFFIX as LAI_YANG_SUFFIX;
