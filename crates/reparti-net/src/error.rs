//! Why a node could not run: the one error type the transports and the runtime share.
//!
//! It lives apart from both so that neither depends on the other for it: the runtime
//! uses the transports, and a transport reports a failed bind or a broken socket with
//! this type without knowing about the runtime.

use std::io;
use std::net::SocketAddr;

/// Why a node could not run.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The address cannot be bound.
    #[error("cannot bind {addr}: {detail}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What went wrong, and the fix.
        detail: String,
    },
    /// The configuration does not fit the run.
    #[error("bad node configuration: {0}")]
    Config(String),
    /// The node's trace file cannot be created or written.
    #[error("cannot write the trace file {}: {detail}", path.display())]
    Trace {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong, and the fix.
        detail: String,
    },
    /// The socket keeps failing.
    #[error("receiving on {addr} keeps failing, last: {source}")]
    Recv {
        /// Our address.
        addr: SocketAddr,
        /// The last error.
        source: io::Error,
    },
}
