//! # Communication (course chapter 2, labs TP1–TP5)
//!
//! The labs build the communication layer by hand: sockets, then a token ring (TP3),
//! then a mesh (TP4). Here the socket part belongs to the engines; what remains is the
//! protocol each lab runs over it.
//!
//! * [`token_ring`]: TP3's token ring, where only the token holder may originate a
//!   message and messages travel hop by hop along the ring.

pub mod token_ring;

pub use token_ring::TokenRing;
