//! How a member joins: through the registry file (under its lock) or through a seed
//! member, as the module documentation of [`crate::mesh`] tells; and the registry's
//! blocking work, run off the async executor.

use super::message::MeshMessage;
use super::registry::LockedRegistry;
use super::{MeshConfig, MeshError, MeshNode, SEED_ATTEMPTS};
use reparti_net::runtime::bind;
use reparti_net::NetError;
use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::UdpSocket;

/// Joins through the registry file, under its lock (the module documentation's
/// "Joining through the registry file").
pub(super) async fn join_through_registry(path: PathBuf, cfg: MeshConfig) -> Result<MeshNode, MeshError> {
    let (file, host) = (path.clone(), cfg.listen.ip());
    let (mut registry, registered) = on_registry(&path, move || {
        let mut registry = LockedRegistry::lock(&file, host)?;
        let registered = registry.members()?;
        Ok((registry, registered))
    })
    .await?;
    // Bound while the file is locked, so that nobody else takes the address between
    // our check and our line.
    let socket = match bind(cfg.listen).await {
        Ok(socket) => socket,
        Err(NetError::Bind { detail, .. }) if registered.contains(&cfg.listen) => {
            return Err(MeshError::AddressTaken { addr: cfg.listen, registry: path, detail });
        }
        Err(e) => return Err(MeshError::Bind(e)),
    };
    let me = bound_addr(&socket, cfg.listen)?;
    if !registered.contains(&me) {
        registry = on_registry(&path, move || registry.add(me).map(|()| registry)).await?;
    }
    drop(registry);
    let peers: BTreeSet<SocketAddr> = registered.into_iter().filter(|addr| *addr != me).collect();
    let node = MeshNode::start(socket, me, &cfg, peers.clone(), None, Some(path));
    let hello = node.member.datagram(&MeshMessage::Hello { ask_peers: false })?;
    for peer in peers {
        // Counted on failure; a member we cannot reach is gone, or will hear us when it
        // sends to us.
        let _ = node.member.send_datagram(peer, &hello).await;
    }
    Ok(node)
}

/// Joins through a seed member, or starts a mesh alone ("Joining through a seed").
pub(super) async fn join_through_seed(cfg: MeshConfig) -> Result<MeshNode, MeshError> {
    let socket = bind(cfg.listen).await.map_err(MeshError::Bind)?;
    let me = bound_addr(&socket, cfg.listen)?;
    let seed = match cfg.seed {
        Some(seed) if !is_ourselves(seed, me) => seed,
        _ => return Ok(MeshNode::start(socket, me, &cfg, BTreeSet::new(), None, None)),
    };
    let node = MeshNode::start(socket, me, &cfg, BTreeSet::new(), Some(seed), None);
    let hello = node.member.datagram(&MeshMessage::Hello { ask_peers: true })?;
    let wait = cfg.join_timeout / SEED_ATTEMPTS;
    for _ in 0..SEED_ATTEMPTS {
        // A failed send is retried like a lost one.
        let _ = node.member.send_datagram(seed, &hello).await;
        if tokio::time::timeout(wait, node.member.seed_answered.notified()).await.is_ok() {
            return Ok(node);
        }
    }
    Err(MeshError::SeedSilent { seed, waited: cfg.join_timeout })
}

/// Whether `seed` names the member bound at `me` (also when bound to every interface).
fn is_ourselves(seed: SocketAddr, me: SocketAddr) -> bool {
    seed == me || (seed.port() == me.port() && me.ip().is_unspecified())
}

fn bound_addr(socket: &UdpSocket, listen: SocketAddr) -> Result<SocketAddr, MeshError> {
    socket.local_addr().map_err(|e| MeshError::Bind(NetError::Bind { addr: listen, detail: e.to_string() }))
}

/// Runs blocking work on the registry file (waiting for its lock, reading, writing) off
/// the async executor.
pub(super) async fn on_registry<T: Send + 'static>(
    path: &Path,
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, MeshError> {
    let error = |detail: String| MeshError::Registry { path: path.to_path_buf(), detail };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(error(e.to_string())),
        Err(e) => Err(error(format!("the registry task failed: {e}"))),
    }
}
