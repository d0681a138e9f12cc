//! Chapter 5 of the course, observation: control algorithms that run over an
//! application as layers and observe it. The applications: a bank whose money must be
//! conserved ([`bank`]), a diffusing computation ([`termination::diffusing`]), processes
//! waiting for one another ([`deadlock::wait_for`]). The observers: snapshots
//! (Chandy–Lamport, Lai–Yang and Mattern's counters, judged by one [`cut`]), termination
//! detection (Dijkstra–Scholten, EWD840, Safra, Misra) and deadlock detection
//! (Chandy–Misra–Haas).

pub mod bank;
pub mod chandy_lamport;
pub mod conserved;
pub mod cut;
pub mod deadlock;
pub mod lai_yang;
pub mod termination;

pub use bank::Bank;
pub use chandy_lamport::ChandyLamport;
pub use lai_yang::LaiYang;
