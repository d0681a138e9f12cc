//! The interactive console of `reparti node` (being written).
