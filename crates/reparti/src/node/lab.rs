//! The labs' shapes of `reparti node`: positional token ring, registry file, seed node (being written).
