//! # reparti-sim: a seeded discrete-event simulator for any reparti algorithm
pub mod config;
pub mod network;
pub mod report;
