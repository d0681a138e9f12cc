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
//! * [`carvalho_roucairol`]: Carvalho & Roucairol (1983), Ricart–Agrawala that keeps the
//!   permissions it received: 0 to 2(n−1) messages per CS, no (ts, id) entry order.
//! * [`suzuki_kasami`]: Suzuki & Kasami (1985), a token that a broadcast request brings:
//!   n messages per CS, or none when the requester holds the idle token.

pub mod carvalho_roucairol;
pub mod critical_section;
pub mod lamport;
pub mod ricart_agrawala;
pub mod suzuki_kasami;

pub use carvalho_roucairol::CarvalhoRoucairol;
pub use lamport::LamportMutex;
pub use ricart_agrawala::RicartAgrawala;
pub use suzuki_kasami::SuzukiKasami;
