//! A ring formed from the registry file (TP4's `BDD.txt`): who is in it, in which
//! order, and who my neighbours are. Shared by the two lab programs that build a ring
//! from the file: TP4 exercise 3's token ring (`reparti node token-ring [PORT]`) and
//! TP7's election (`reparti node chang-roberts-lab PORT --nodes N`).
//!
//! **What.** [`Registration`] puts a node's address in the file and takes it out again;
//! [`ring_order`] sorts the members into the ring; [`neighbours`] reads a node's
//! predecessor and successor off it; [`Watch`] re-reads the file and reports every
//! change, so that the ring re-forms when a node joins or leaves (TP7 waits with it for
//! its N members).
//!
//! **Source.** The lab sheets: TP4's registry (`verif_port_exist`, `creat_my_list`,
//! `add_port`), TP3's ring (each node knows its predecessor and successor), TP7's
//! election ring over the same file.
//!
//! **Pseudo-code.**
//! ```text
//! join:   lock the file; read the members; bind my port (in use and listed: refuse);
//!         drop every line whose port binds (nobody holds it: a killed node's); add mine
//! ring:   members sorted by (port, ip); my successor is the next, my predecessor the
//!         previous, round the end
//! watch:  every period, under the lock: read, drop stale lines; if the list changed,
//!         tell the node
//! leave:  under the lock, remove my line (also when the node stops on an error)
//! ```
//!
//! **How it runs here.** Every call blocks on the file's lock ([`LockedRegistry`]):
//! call it off an async executor ([`Watch::in_thread`] runs on a thread of its own). A node holds
//! its port from before its line is written, so a line whose port can be bound belongs
//! to nobody: that is how a killed node's line is told apart and dropped.
//!
//! **Pitfalls.** Ports on another host cannot be bound here, so their lines are kept
//! (never taken for stale). A program that must free its port for a while (TP7 hands it
//! to its runtime) must not let others drop its line meanwhile: TP7 prunes only at join
//! (a [`Watch`] prunes only when asked to).
//!
//! **Properties.** Every node reading the same file forms the same ring: the order
//! depends on the addresses alone, not on the file's order.
//!
//! **Costs.** One lock, one read of a few lines, and a `bind` per other local member at
//! each look: microseconds, ten times a second.

use crate::mesh::registry::LockedRegistry;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

/// The first port tried when no port is given and the registry lists none on our host:
/// the lab sheets' first node.
pub const FIRST_LAB_PORT: u16 = 5001;

/// Why a node could not register. Each message names the cause and the fix.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// The file cannot be opened, locked, read or written.
    #[error("cannot use the registry file {} ({detail}): check that its directory exists and is writable, or give another with --registry", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        detail: String,
    },
    /// Our address is listed and cannot be bound: a node runs there.
    #[error("{addr} is already in the registry {} and in use ({detail}): a node runs there; pick another port, or stop that node", path.display())]
    Taken {
        /// Our address.
        addr: SocketAddr,
        /// The file.
        path: PathBuf,
        /// Why binding failed.
        detail: String,
    },
    /// Our address cannot be bound (in use by another program, not ours, privileged).
    #[error("cannot bind {addr} ({detail}): pick another port")]
    Bind {
        /// Our address.
        addr: SocketAddr,
        /// Why binding failed.
        detail: String,
    },
}

/// Why waiting for the members of a run ([`wait_for_members`]) ended without them.
#[derive(Debug, Error)]
pub enum WaitError {
    /// The file failed us.
    #[error(transparent)]
    File(#[from] RegistryError),
    /// Our own line went: the file was edited, or shared with another program.
    #[error("our line {addr} was removed from {} while we waited: was the file edited or shared? start the node again", path.display())]
    Removed {
        /// Our address.
        addr: SocketAddr,
        /// The file.
        path: PathBuf,
    },
    /// More live members than the run has nodes.
    #[error("the registry {} lists {} members for --nodes {n} ({}): another run or lab shares it; give this one its own --registry, or every node the same --nodes", path.display(), members.len(), listed(members))]
    TooMany {
        /// The file.
        path: PathBuf,
        /// The nodes expected.
        n: usize,
        /// The members listed.
        members: Vec<SocketAddr>,
    },
    /// Not all came in time.
    #[error("only {} of {n} nodes registered in {} within {} s ({}): start the others with the same --registry and --nodes {n}, or raise --wait-ms", members.len(), path.display(), waited.as_secs_f64(), listed(members))]
    TooFew {
        /// The file.
        path: PathBuf,
        /// The nodes expected.
        n: usize,
        /// The members listed at the end.
        members: Vec<SocketAddr>,
        /// How long we waited.
        waited: Duration,
    },
}

fn listed(members: &[SocketAddr]) -> String {
    members.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Waits until the file lists `n` members, ours among them, reading it every `poll`
/// for at most `limit`; `progress` hears every new count. The lines are read as they
/// are, never pruned: a node of the run may free its port for a moment before its
/// runtime binds it, and must not be taken for gone. The members come in ring order.
pub fn wait_for_members(
    registration: &Registration,
    n: usize,
    limit: Duration,
    poll: Duration,
    mut progress: impl FnMut(usize),
) -> Result<Vec<SocketAddr>, WaitError> {
    let (path, me) = (registration.path().to_path_buf(), registration.addr);
    let deadline = Instant::now() + limit;
    let mut watch = Watch::new(&path, me, false);
    let mut members = Vec::new();
    loop {
        if let Some(now) = watch.next_change()? {
            if now.len() != members.len() && now.len() != n {
                progress(now.len());
            }
            members = now;
        }
        if !members.contains(&me) {
            return Err(WaitError::Removed { addr: me, path });
        }
        if members.len() > n {
            return Err(WaitError::TooMany { path, n, members });
        }
        if members.len() == n {
            return Ok(members);
        }
        if Instant::now() >= deadline {
            return Err(WaitError::TooFew { path, n, members, waited: limit });
        }
        std::thread::sleep(poll);
    }
}

/// The ring: members sorted by port, then by IP (ports may repeat across hosts).
pub fn ring_order(mut members: Vec<SocketAddr>) -> Vec<SocketAddr> {
    members.sort_by_key(|a| (a.port(), a.ip()));
    members.dedup();
    members
}

/// A node's two neighbours in the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neighbours {
    /// Who passes to us.
    pub predecessor: SocketAddr,
    /// Whom we pass to.
    pub successor: SocketAddr,
}

/// `me`'s neighbours in the ring of `members` and `me` (whether `members` lists `me` or
/// not: a node that has just removed its line still knows where it stood). `None` when
/// `me` is alone.
pub fn neighbours(members: &[SocketAddr], me: SocketAddr) -> Option<Neighbours> {
    let mut all = members.to_vec();
    all.push(me);
    let ring = ring_order(all);
    let at = ring.iter().position(|a| *a == me)?;
    if ring.len() < 2 {
        return None;
    }
    let predecessor = ring[(at + ring.len() - 1) % ring.len()];
    let successor = ring[(at + 1) % ring.len()];
    Some(Neighbours { predecessor, successor })
}

/// The ring as a person reads it: `5001 → 5002 → 5003 → 5001`.
pub fn render(ring: &[SocketAddr]) -> String {
    let mut ports: Vec<String> = ring.iter().map(|a| a.port().to_string()).collect();
    if let Some(first) = ports.first().cloned() {
        ports.push(first);
    }
    ports.join(" → ")
}

/// This node's line in the registry, and its port, bound from before the line was
/// written. Dropping it removes the line, on every way out.
pub struct Registration {
    path: PathBuf,
    /// Our address, as bound and as written in the file.
    pub addr: SocketAddr,
    /// The live members found at the registration, ourselves excluded, in file order.
    pub others: Vec<SocketAddr>,
    /// The lines dropped at the registration: nobody held their ports.
    pub stale: Vec<SocketAddr>,
    socket: Option<UdpSocket>,
    registered: bool,
}

impl Registration {
    /// Binds `listen` and registers it, dropping stale lines, all under the file's lock.
    /// `None` takes the next free port on 127.0.0.1 after the highest listed there
    /// ([`FIRST_LAB_PORT`] when none is); a port 0 lets the system choose.
    pub fn join(path: &Path, listen: Option<SocketAddr>) -> Result<Registration, RegistryError> {
        let host = listen.map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |a| a.ip());
        let fail = |e: io::Error| file_error(path, e);
        let mut registry = LockedRegistry::lock(path, host).map_err(fail)?;
        let registered = registry.members().map_err(fail)?;
        let socket = match listen {
            Some(addr) => bind_listed(path, addr, &registered)?,
            None => bind_next_free(host, &registered)?,
        };
        let addr = socket.local_addr().map_err(|e| RegistryError::Bind {
            addr: listen.unwrap_or(SocketAddr::new(host, 0)),
            detail: e.to_string(),
        })?;
        let stale = prune(&mut registry, addr).map_err(fail)?;
        let others = registry.members().map_err(fail)?.into_iter().filter(|m| *m != addr).collect();
        if !registered.contains(&addr) {
            registry.add(addr).map_err(fail)?;
        }
        Ok(Registration { path: path.to_path_buf(), addr, others, stale, socket: Some(socket), registered: true })
    }

    /// The registry file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The members listed now, read afresh (no line dropped).
    pub fn members(&self) -> Result<Vec<SocketAddr>, RegistryError> {
        let fail = |e: io::Error| file_error(&self.path, e);
        LockedRegistry::lock(&self.path, self.addr.ip()).and_then(|mut r| r.members()).map_err(fail)
    }

    /// Hands the bound port over (to a runtime that binds it again, or that takes the
    /// socket as it is); the line stays until [`Registration::leave`] or the drop.
    pub fn take_socket(&mut self) -> Option<UdpSocket> {
        self.socket.take()
    }

    /// Removes our line; returns the members left.
    pub fn leave(&mut self) -> Result<Vec<SocketAddr>, RegistryError> {
        let fail = |e: io::Error| file_error(&self.path, e);
        let left = LockedRegistry::lock(&self.path, self.addr.ip()).and_then(|mut r| r.remove(self.addr));
        self.registered = false;
        left.map_err(fail)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if self.registered {
            // Best effort: a line left behind is dropped as stale by the next look.
            let _ = self.leave();
        }
    }
}

/// Reads the registry again and again, and tells what changed: the ring's members as
/// each node sees them, in ring order.
pub struct Watch {
    path: PathBuf,
    me: SocketAddr,
    /// Drop stale lines at each reading: only for a node that holds its port all along.
    prune: bool,
    last: Option<Vec<SocketAddr>>,
}

impl Watch {
    /// Watches `path` for `me` (its address says the host of bare-port lines).
    pub fn new(path: &Path, me: SocketAddr, prune: bool) -> Watch {
        Watch { path: path.to_path_buf(), me, prune, last: None }
    }

    /// Reads the file now: the members in ring order if they differ from the last
    /// reading (the first reading always does), `None` if they do not.
    pub fn next_change(&mut self) -> Result<Option<Vec<SocketAddr>>, RegistryError> {
        let fail = |e: io::Error| file_error(&self.path, e);
        let mut registry = LockedRegistry::lock(&self.path, self.me.ip()).map_err(fail)?;
        if self.prune {
            prune(&mut registry, self.me).map_err(fail)?;
        }
        let ring = ring_order(registry.members().map_err(fail)?);
        if self.last.as_ref() == Some(&ring) {
            return Ok(None);
        }
        self.last = Some(ring.clone());
        Ok(Some(ring))
    }

    /// Runs on a thread of its own, a reading every `period`, sending each change (and
    /// each new kind of error) to `changes`, until its receiver is dropped.
    pub fn in_thread(
        mut self,
        period: Duration,
        changes: tokio::sync::mpsc::UnboundedSender<Result<Vec<SocketAddr>, RegistryError>>,
    ) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            let mut last_error = None;
            while !changes.is_closed() {
                let sent = match self.next_change() {
                    Ok(None) => Ok(()),
                    Ok(Some(ring)) => {
                        last_error = None;
                        changes.send(Ok(ring))
                    }
                    Err(e) if last_error.as_ref() == Some(&e.to_string()) => Ok(()),
                    Err(e) => {
                        last_error = Some(e.to_string());
                        changes.send(Err(e))
                    }
                };
                if sent.is_err() {
                    return;
                }
                std::thread::sleep(period);
            }
        })
    }
}

/// Binds `addr`; listed and in use is [`RegistryError::Taken`].
fn bind_listed(path: &Path, addr: SocketAddr, registered: &[SocketAddr]) -> Result<UdpSocket, RegistryError> {
    UdpSocket::bind(addr).map_err(|e| {
        if registered.contains(&addr) {
            RegistryError::Taken { addr, path: path.to_path_buf(), detail: e.to_string() }
        } else {
            RegistryError::Bind { addr, detail: e.to_string() }
        }
    })
}

/// Binds the first free port after the highest listed on `host`.
fn bind_next_free(host: IpAddr, registered: &[SocketAddr]) -> Result<UdpSocket, RegistryError> {
    let highest = registered.iter().filter(|a| a.ip() == host).map(SocketAddr::port).max();
    let from = highest.map_or(FIRST_LAB_PORT, |p| p.saturating_add(1)).max(1);
    let mut last = None;
    for port in from..=u16::MAX {
        match UdpSocket::bind(SocketAddr::new(host, port)) {
            Ok(socket) => return Ok(socket),
            Err(e) => last = Some(e.to_string()),
        }
    }
    Err(RegistryError::Bind {
        addr: SocketAddr::new(host, from),
        detail: format!("no port from {from} up is free: {}", last.unwrap_or_default()),
    })
}

/// Drops every line (but `me`'s) whose port binds here: nobody holds it. Other hosts'
/// lines cannot be checked and are kept. Returns the lines dropped.
fn prune(registry: &mut LockedRegistry, me: SocketAddr) -> io::Result<Vec<SocketAddr>> {
    let mut stale = Vec::new();
    for member in registry.members()?.into_iter().filter(|m| *m != me) {
        if UdpSocket::bind(member).is_ok() {
            registry.remove(member)?;
            stale.push(member);
        }
    }
    Ok(stale)
}

fn file_error(path: &Path, e: io::Error) -> RegistryError {
    RegistryError::File { path: path.to_path_buf(), detail: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// A registry file listing `lines` (after a comment), and a live member in it: a
    /// port this test holds, listed first.
    fn registry_with_a_live_member(dir: &Path, lines: &[SocketAddr]) -> (PathBuf, UdpSocket) {
        let path = dir.join("BDD.txt");
        let held = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut text = format!("# lab\n{}\n", held.local_addr().unwrap());
        for line in lines {
            text += &format!("{line}\n");
        }
        std::fs::write(&path, text).unwrap();
        (path, held)
    }

    #[test]
    fn the_ring_is_by_port_then_ip() {
        let ring = ring_order(vec![a("127.0.0.2:5001"), a("127.0.0.1:6000"), a("127.0.0.1:5001"), a("127.0.0.1:999")]);
        assert_eq!(ring, vec![a("127.0.0.1:999"), a("127.0.0.1:5001"), a("127.0.0.2:5001"), a("127.0.0.1:6000")]);
        assert_eq!(render(&ring), "999 → 5001 → 5001 → 6000 → 999");
    }

    #[test]
    fn neighbours_wrap_round_and_need_a_second_node() {
        let members = [a("127.0.0.1:5003"), a("127.0.0.1:5001"), a("127.0.0.1:5002")];
        let n = |me: &str| neighbours(&members, a(me)).map(|n| (n.predecessor.port(), n.successor.port()));
        assert_eq!(n("127.0.0.1:5001"), Some((5003, 5002)));
        assert_eq!(n("127.0.0.1:5003"), Some((5002, 5001)));
        // A node that has removed its line still finds where it stood.
        assert_eq!(n("127.0.0.1:5004"), Some((5003, 5001)));
        assert_eq!(neighbours(&[], a("127.0.0.1:5001")), None);
        assert_eq!(neighbours(&[a("127.0.0.1:5001")], a("127.0.0.1:5001")), None);
        let two = neighbours(&[a("127.0.0.1:5001")], a("127.0.0.1:5002")).unwrap();
        assert_eq!((two.predecessor.port(), two.successor.port()), (5001, 5001));
    }

    #[test]
    fn join_drops_stale_lines_and_leave_removes_ours() {
        let dir = tempfile::tempdir().unwrap();
        let stale = {
            let gone = UdpSocket::bind("127.0.0.1:0").unwrap();
            gone.local_addr().unwrap()
        };
        let (path, held) = registry_with_a_live_member(dir.path(), &[stale]);
        let live = held.local_addr().unwrap();
        let mut me = Registration::join(&path, Some(a("127.0.0.1:0"))).unwrap();
        assert_eq!(me.stale, vec![stale]);
        assert_eq!(me.others, vec![live]);
        assert_eq!(me.members().unwrap(), vec![live, me.addr]);
        // Listed and held: refused, naming the fix.
        let again = Registration::join(&path, Some(me.addr)).err().unwrap();
        assert!(matches!(again, RegistryError::Taken { .. }), "{again}");
        assert_eq!(me.leave().unwrap(), vec![live]);
        drop(me);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("# lab\n{live}\n"));
    }

    #[test]
    fn without_a_port_the_next_free_after_the_highest_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let (path, held) = registry_with_a_live_member(dir.path(), &[]);
        let live = held.local_addr().unwrap();
        let me = Registration::join(&path, None).unwrap();
        assert!(me.addr.port() > live.port(), "{} after {live}", me.addr);
        assert_eq!(me.others, vec![live]);
    }

    #[test]
    fn waiting_for_members_says_who_came() {
        let dir = tempfile::tempdir().unwrap();
        let (path, held) = registry_with_a_live_member(dir.path(), &[]);
        let me = Registration::join(&path, Some(a("127.0.0.1:0"))).unwrap();
        let mut counts = Vec::new();
        let two = wait_for_members(&me, 2, Duration::ZERO, Duration::ZERO, |k| counts.push(k)).unwrap();
        assert_eq!(two, ring_order(vec![held.local_addr().unwrap(), me.addr]));
        assert!(counts.is_empty(), "all there at once: {counts:?}");
        let few = wait_for_members(&me, 3, Duration::ZERO, Duration::ZERO, |k| counts.push(k)).unwrap_err();
        assert!(few.to_string().starts_with("only 2 of 3 nodes registered in"), "{few}");
        assert_eq!(counts, [2]);
        let many = wait_for_members(&me, 1, Duration::ZERO, Duration::ZERO, |_| {}).unwrap_err();
        assert!(many.to_string().contains("lists 2 members for --nodes 1"), "{many}");
    }

    #[test]
    fn an_unusable_file_is_one_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("BDD.txt");
        let err = Registration::join(&path, Some(a("127.0.0.1:0"))).err().unwrap();
        let text = err.to_string();
        assert!(text.contains("cannot use the registry file") && text.contains("missing-dir"), "{text}");
        assert_eq!(text.lines().count(), 1);
    }
}
