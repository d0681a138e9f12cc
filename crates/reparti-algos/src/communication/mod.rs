//! # Communication (course chapter 2, labs TP1–TP5)
//!
//! The labs build the communication layer by hand: sockets, then a token ring (TP3),
//! then a mesh (TP4). Here the socket part belongs to the engines; what remains is the
//! protocol each lab runs over it.
//!
//! * [`token_ring`]: TP3's token ring, where only the token holder may originate a
//!   message and messages travel hop by hop along the ring.
//! * [`producer_consumer`]: TP5's producers writing in turn, with a token, into a
//!   consumer's bounded memory that answers "memory full" (§1.3).
//! * [`credit_flow`]: credit-based flow control, producers send only on credit (§1.1, §1.2a).
//! * [`credit_ring`]: a token carries the consumer's free slots round the producers (§1.2c).

pub mod credit_flow;
pub mod credit_ring;
pub mod flow_consumer;
pub mod producer_consumer;
pub mod token_ring;

pub use credit_flow::CreditFlow;
pub use credit_ring::CreditRing;
pub use producer_consumer::ProducerConsumer;
pub use token_ring::TokenRing;
