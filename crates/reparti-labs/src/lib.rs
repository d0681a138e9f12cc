//! # reparti-labs: the labs' own network programs
//!
//! The practical sessions (TPs) start with programs that are not algorithms of the
//! catalogue: a line dialogue between a client and a server, then a mesh of members that
//! find each other and stamp their messages with Lamport and vector clocks. They live here, beside
//! the network library rather than in it, so that `reparti-net` keeps to what every
//! algorithm node needs (the wire format, sealing, transports, the runtime):
//!
//! * [`chat`]: TP1's client and server over TCP and TP2's over UDP, a line dialogue on
//!   blocking sockets, behind `reparti chat`.
//! * [`mesh`]: TP4's mesh, whose members find each other through a registry file or a
//!   seed member, with TP6's Lamport and vector clocks, behind `reparti node mesh`. Its datagrams
//!   are sealed with [`reparti_net::secure`] when the members share a key.
//! * [`ring`]: TP3's token ring, `node.py port_local port_prec [jeton]`: nodes named by
//!   their port find their successor themselves and pass the token and hop-by-hop
//!   messages over UDP, behind `reparti node token-ring LOCAL PREV [jeton]`.

#![warn(missing_docs)]

pub mod chat;
pub mod mesh;
pub mod ring;
