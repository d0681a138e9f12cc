//! Chapter 5 of the course, observation: the applications that control algorithms
//! observe (a bank whose money must be conserved) and the snapshots that record them
//! (Chandy–Lamport over any application); termination and deadlock detection to come.

pub mod bank;
pub mod chandy_lamport;
pub mod conserved;

pub use bank::Bank;
pub use chandy_lamport::ChandyLamport;
