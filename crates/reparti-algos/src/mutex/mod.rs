//! # Distributed mutual exclusion (course chapter 4)
//!
//! n processes on a complete graph share one critical section (CS). Safety: at most one
//! process is in the CS at any time. Liveness: every request is eventually served.
//!
//! * [`critical_section`]: what every algorithm of the chapter shares (the request
//!   workload, `request`/`release`, the stay in the CS, the properties, the CS count).
//! * [`lamport`]: Lamport (1978), a replicated request queue, 3(n−1) messages per CS,
//!   FIFO channels required.
//! * [`ricart_agrawala`]: Ricart & Agrawala (1981), 2(n−1) messages per CS, no FIFO needed.

pub mod critical_section;
pub mod lamport;
pub mod ricart_agrawala;

pub use lamport::LamportMutex;
pub use ricart_agrawala::RicartAgrawala;
