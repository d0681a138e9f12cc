//! # Distributed mutual exclusion (course chapter 4)
//!
//! n processes share one critical section (CS): on a complete graph, except the tree of
//! Raymond's algorithm and the ring of the token ring. Safety: at most one
//! process is in the CS at any time. Liveness: every request is eventually served.
//!
//! * [`critical_section`]: what every algorithm of the chapter shares (the request
//!   workload and its offered load, `request`/`release`, the `request`/`enter_cs`/
//!   `exit_cs` outputs the comparison measures, the stay in the CS, the properties, the
//!   CS count).
//! * [`lamport`]: Lamport (1978), a replicated request queue, 3(n−1) messages per CS,
//!   FIFO channels required.
//! * [`ricart_agrawala`]: Ricart & Agrawala (1981), 2(n−1) messages per CS, no FIFO needed.
//! * [`carvalho_roucairol`]: Carvalho & Roucairol (1983), Ricart–Agrawala that keeps the
//!   permissions it received: 0 to 2(n−1) messages per CS, no (ts, id) entry order.
//! * [`suzuki_kasami`]: Suzuki & Kasami (1985), a token that a broadcast request brings:
//!   n messages per CS, or none when the requester holds the idle token.
//! * [`raymond`]: Raymond (1989), a token that requests fetch along a tree: at most 2·D
//!   messages per CS on a tree of diameter D, none when the requester holds it.
//! * [`token_ring_mutex`]: Le Lann (1977), the token goes round a ring and its holder
//!   enters: no request message, ≥ 1 TOKEN per CS, n per idle lap, delay 1 to n−1 hops.
//! * [`maekawa`]: Maekawa (1985), the locks of a quorum (rows and columns of a √n grid)
//!   with INQUIRE/RELINQUISH/FAILED against deadlock: 3(K−1) to 5(K−1) messages per CS,
//!   K ≈ 2√n; no (ts, id) entry order; `form=basic` (no INQUIRE) deadlocks.
//!
//! Every algorithm's reachable state count for n = 3 and one request each is re-derived
//! by a brute-force enumerator written from its pseudo-code, in the checker's tests.

pub mod carvalho_roucairol;
pub mod critical_section;
pub mod lamport;
pub mod maekawa;
pub mod raymond;
pub mod ricart_agrawala;
pub mod suzuki_kasami;
pub mod token_ring_mutex;

pub use carvalho_roucairol::CarvalhoRoucairol;
pub use lamport::LamportMutex;
pub use maekawa::Maekawa;
pub use raymond::Raymond;
pub use ricart_agrawala::RicartAgrawala;
pub use suzuki_kasami::SuzukiKasami;
pub use token_ring_mutex::TokenRingMutex;
