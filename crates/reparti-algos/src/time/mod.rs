//! # Time (course chapter 3, lab TP6)
//!
//! Processes cannot read environment time, only their own clocks. The framework keeps
//! Lamport and vector clocks for every algorithm (`reparti_core::clock`); the modules
//! here exercise and check them.
//!
//! * [`logical_clocks`]: TP6, Lamport clocks (and vector clocks, exercise 2) on a mesh.

pub mod logical_clocks;

pub use logical_clocks::LogicalClocks;
pub mod physical_clocks;
pub use physical_clocks::LamportPhysical;
pub mod bfs_rounds;
pub mod rounds;
pub mod synchronizer_alpha;
pub use bfs_rounds::{BfsAlpha, BfsRounds};
pub mod cristian;
pub use cristian::Cristian;
pub mod berkeley;
pub use berkeley::Berkeley;
pub mod ntp;
pub use ntp::Ntp;
