//! # reparti-net: reparti on real networks
//!
//! The simulator runs an algorithm's [`reparti_core::Process`] state machines in one
//! address space; this crate is for running the same, unchanged, as separate processes
//! talking over sockets, and for other programs (the labs' Python scripts) to join them.
//! It holds what every such node agrees on, and the runtime that drives one:
//!
//! * [`wire`]: the envelope every datagram or frame carries (sender, destination,
//!   Lamport and vector clock stamps, message type, body, and the run's identity when
//!   the sender has one), in JSON by default or in a
//!   compact binary form, and a decoder that refuses hostile input with clear errors
//!   instead of panicking. The format is written down in `docs/PROTOCOL.md`.
//! * [`secure`]: Fernet encryption and authentication of whole datagrams, byte for byte
//!   what Python's `cryptography.fernet` reads and writes, with keys in files.
//!
//! * [`transport`]: UDP datagrams or TCP length-prefixed frames, IPv4 or IPv6, with
//!   seeded fault injection (drop, duplicate, delay, reorder) on the sending side, since
//!   the machines we run on have no kernel netem, and TCP listeners that bound what
//!   strangers' connections can hold.
//! * [`reliable`]: the reliable channel layer, sans-IO: sequence numbers, cumulative
//!   acknowledgements, retransmission with backoff, duplicate suppression, FIFO delivery
//!   when the algorithm needs it.
//! * [`runtime`]: the tokio runtime that drives one node's process from datagrams,
//!   timers and a control channel (inputs, a console's questions), with clocks, optional
//!   sealing, the reliable layer, drop counts by reason and per-node trace events.
//! * [`plan`]: one real node from a checked plan to its report — the instance, the
//!   runtime, the transport, the start, the workload fed at its times — for `reparti node`.
//! * [`error`]: [`NetError`], why a node could not run, shared by the transports and the
//!   runtime.
//! * [`merge`]: the nodes' traces merged into one run consistent with happens-before,
//!   which the simulator can replay and check.
//!
//! The CLI (`reparti node`, `reparti run`, `reparti merge`, `reparti keygen`) is built on
//! top of these. The labs' own programs (TP1/TP2's chat, TP4's mesh) are in `reparti-labs`.
//!
//! ```
//! use reparti_core::{Message, NodeId};
//! use reparti_net::secure::{open, seal, Key};
//! use reparti_net::wire::{decode, encode, Envelope, Wire};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
//! enum Msg { #[serde(rename = "ELECT")] Elect(u64) }
//! impl Message for Msg {
//!     fn kinds() -> &'static [&'static str] { &["ELECT"] }
//!     fn kind(&self) -> usize { 0 }
//! }
//!
//! let env = Envelope { from: NodeId(2), to: NodeId(3), lamport: 7, vc: None, seq: None, body: Msg::Elect(5) };
//! let bytes = encode(&env, Wire::Json);
//! assert_eq!(bytes, br#"{"v":1,"from":2,"to":3,"lamport":7,"type":"ELECT","body":{"ELECT":5}}"#);
//!
//! let key = Key::generate();
//! let datagram = seal(&key, &bytes);
//! let plain = open(&key, &datagram, Some(60)).expect("authentic and fresh");
//! assert_eq!(decode::<Msg>(&plain), Ok(env));
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod merge;
pub mod plan;
pub mod reliable;
pub mod runtime;
pub mod secure;
pub mod transport;
pub mod wire;

pub use error::NetError;
pub use runtime::{run_node, run_node_on, NodeConfig, NodeReport};
pub use secure::{Key, SecureError};
pub use wire::{decode, encode, try_encode, Envelope, Wire, WireError};
