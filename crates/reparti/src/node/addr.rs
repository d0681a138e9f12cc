//! Node addresses as the command line and the supervisor write them.

use crate::error::usage;
use std::net::{SocketAddr, ToSocketAddrs};

/// `HOST:PORT`, an IP literal (`[::1]:5000` for IPv6) or a resolvable name; the first
/// address it resolves to. `what` names the flag in errors.
pub fn parse_addr(text: &str, what: &str) -> anyhow::Result<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = |why: String| {
        usage(format!("{what}: '{text}' is not an address ({why}); write HOST:PORT, e.g. 127.0.0.1:5000 or [::1]:5000"))
    };
    text.to_socket_addrs().map_err(|e| bad(e.to_string()))?.next().ok_or_else(|| bad("it resolves to nothing".into()))
}
