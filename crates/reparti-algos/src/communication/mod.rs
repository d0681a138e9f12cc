//! # Communication (course chapter 2, labs TP1–TP5)
//!
//! The labs build the communication layer by hand: sockets, then a token ring (TP3),
//! then a mesh (TP4). Here the socket part belongs to the engines; what remains is the
//! protocol each lab runs over it.
//!
//! * [`token_ring`]: TP3's token ring, where only the token holder may originate a
//!   message and messages travel hop by hop along the ring.
//! * [`producer_consumer`]: TP5's producers writing in turn, with a token, into a
//!   consumer's bounded memory that answers "memory full".
//! * [`credit_flow`]: credit-based flow control, producers send only on credit (one producer, or static quotas).
//! * [`credit_allocator`]: the consumer as allocator, producers ASK for slots and the
//!   consumer GRANTs what is free and unreserved.
//! * [`credit_ring`]: a token carries the consumer's free slots round the producers.
//! * [`rendezvous`]: synchronous communication with input guards only.
//! * [`rendezvous_symmetric`]: input and output guards, proposals up the id order.
//! * [`fifo_layer`]: FIFO channels over a network that reorders, under any algorithm (`NAME+fifo`).
//! * [`fifo_stream`]: numbered messages that must arrive in order: the FIFO layer's witness.

pub mod credit_allocator;
pub mod credit_flow;
pub mod credit_ring;
pub mod fifo_layer;
pub mod fifo_stream;
pub mod flow_consumer;
pub mod producer_consumer;
pub mod rendezvous;
pub mod rendezvous_symmetric;
pub mod token_ring;

pub use credit_allocator::CreditAllocator;
pub use credit_flow::CreditFlow;
pub use credit_ring::CreditRing;
pub use fifo_layer::FifoLayer;
pub use fifo_stream::FifoStream;
pub use producer_consumer::ProducerConsumer;
pub use rendezvous::Rendezvous;
pub use rendezvous_symmetric::RendezvousSymmetric;
pub use token_ring::TokenRing;
